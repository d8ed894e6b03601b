package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// env is what every learner shares: where corslab is, and the counters.
type env struct {
	ui    string // the ui origin, e.g. http://127.0.0.1:8080
	rate  float64
	stats *stats
	logf  func(format string, args ...any)
	// ownAddrs says learners dial from addresses of their own; it turns
	// false, once and for all, if the system refuses one.
	ownAddrs atomic.Bool
	next     atomic.Int64 // the next learner's number
}

func newEnv(ui string, rate float64, logf func(string, ...any)) *env {
	e := &env{ui: ui, rate: rate, stats: newStats(), logf: logf}
	// 127.0.x.y can reach an IPv4 server only.
	host, _, _ := net.SplitHostPort(strings.TrimPrefix(ui, "http://"))
	if net.ParseIP(host).To4() != nil {
		e.ownAddrs.Store(true)
	} else {
		logf("%s is not an IPv4 address: every learner dials from the system's address", host)
	}
	return e
}

// sourceIP is learner n's own loopback address, 127.0.x.y with x and y
// from 1 to 250. Linux routes all of 127.0.0.0/8 to the loopback
// interface, so a per-address rate limit sees one client per learner, as
// in a classroom.
func sourceIP(n int) net.IP {
	n %= 250 * 250
	return net.IPv4(127, 0, byte(1+n/250), byte(1+n%250))
}

// dialer returns learner n's dial function: from its own address, or from
// the system's choice (127.0.0.1) once binding 127.0.x.y has failed.
func (e *env) dialer(n int) func(ctx context.Context, network, addr string) (net.Conn, error) {
	own := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: sourceIP(n)}}
	shared := &net.Dialer{Timeout: 5 * time.Second}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if e.ownAddrs.Load() {
			c, err := own.DialContext(ctx, network, addr)
			if !errors.Is(err, syscall.EADDRNOTAVAIL) && !errors.Is(err, syscall.EAFNOSUPPORT) {
				return c, err
			}
			if e.ownAddrs.Swap(false) {
				e.logf("cannot dial from %s (%v): every learner now dials from 127.0.0.1, and a per-address rate limit sees them as one client", sourceIP(n), err)
			}
		}
		return shared.DialContext(ctx, network, addr)
	}
}

// userAgent is Chromium's, so that the engine explains the runs with its
// Chromium table, as for most learners; the suffix names the load test.
const userAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36 corslab-loadtest"

// A learner is one simulated person with the lab open: a session, a
// websocket watching it, and a browser that runs requests.
type learner struct {
	env    *env
	client *http.Client // one keep-alive transport, as a browser keeps connections
	ws     *websocket.Dialer

	id  string // the session
	app string // the app origin, the page's Origin
	api string // the session's base URL on the api origin

	runs       int  // sequences started
	extraAllow bool // the every-tenth-run scenario change toggles this

	// Written by the websocket reader, read by the browsing goroutine.
	lastSeq  atomic.Uint64 // the newest exchange seq received
	lastRun  atomic.Int64  // the newest run id received
	received atomic.Int64  // distinct exchange frames
	// expected counts the virtual-origin requests that were answered, other
	// than by a rate limiter's 429: each is an exchange, and a frame.
	expected atomic.Int64
}

func newLearner(e *env) *learner {
	n := int(e.next.Add(1) - 1)
	dial := e.dialer(n)
	return &learner{
		env: e,
		client: &http.Client{
			Transport: &http.Transport{
				DialContext:           dial,
				MaxIdleConnsPerHost:   6, // a browser's connections per host
				IdleConnTimeout:       90 * time.Second,
				ResponseHeaderTimeout: 15 * time.Second,
			},
			Timeout: 20 * time.Second,
			// The browser follows redirects; we do it by hand, as it does,
			// to set Origin: null on the next hop.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		ws: &websocket.Dialer{NetDialContext: dial, HandshakeTimeout: 10 * time.Second},
	}
}

// live is one learner's visit: open a session and its websocket, browse
// until `until`, wait up to 2 s for the last frames, then close the
// websocket and leave. The session stays on the server until it expires.
func (l *learner) live(ctx context.Context, until time.Time) {
	defer l.client.CloseIdleConnections()
	err := l.openSession(ctx, learnerScenario(false))
	if err == nil {
		err = l.visit(ctx, until)
	}
	if err != nil && ctx.Err() == nil {
		l.env.stats.learnersFailed.Add(1)
	}
}

// visit watches the learner's session on a websocket and browses until
// `until`, then waits up to 2 s for the last frames and closes the
// websocket. It fails only if the websocket cannot be opened.
func (l *learner) visit(ctx context.Context, until time.Time) error {
	s := l.env.stats
	conn, err := l.dialWS(ctx)
	if err != nil {
		return err
	}
	s.learners.Add(1)
	s.present.Add(1)
	arrived := time.Now()
	defer func() {
		s.present.Add(-1)
		s.presence.Add(int64(time.Since(arrived)))
	}()

	wsCtx, closeWS := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		l.watch(wsCtx, conn)
	}()

	l.browse(ctx, until)
	l.drain(ctx, 2*time.Second)
	closeWS()
	<-watched
	if ctx.Err() == nil {
		if lost := l.expected.Load() - l.received.Load(); lost > 0 {
			s.unaccounted.Add(lost)
		}
	}
	return nil
}

// sessionDoc is the part of POST /api/sessions' answer a learner uses.
type sessionDoc struct {
	ID      string            `json:"id"`
	Origins map[string]string `json:"origins"`
}

// openSession creates the learner's session, trying again for a while if
// the server is full (503) or limiting (429).
func (l *learner) openSession(ctx context.Context, scenario []byte) error {
	for attempt := 0; ; attempt++ {
		status, err := l.createSession(ctx, scenario)
		if err == nil {
			return nil
		}
		if attempt == 4 || status != http.StatusServiceUnavailable && status != http.StatusTooManyRequests {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// createWhat names session creation in the error counts.
const createWhat = "POST /api/sessions"

// createSession asks once for a new session and makes it the learner's.
// It returns the status (0 on a transport error).
func (l *learner) createSession(ctx context.Context, scenario []byte) (int, error) {
	var doc sessionDoc
	status, err := l.callUI(ctx, createWhat, "POST", "/api/sessions", scenario, http.StatusCreated, &doc)
	if err != nil {
		return status, err
	}
	app, err := url.Parse(doc.Origins["app"]) // the session's base URL on app
	if err != nil || doc.ID == "" || doc.Origins["api"] == "" {
		return status, fmt.Errorf("POST /api/sessions: no id or origins in the answer")
	}
	l.id, l.api = doc.ID, doc.Origins["api"]
	l.app = app.Scheme + "://" + app.Host // the page's origin
	return status, nil
}

// learnerScenario is the scenario each learner works on. The api echoes the
// Origin and allows the PUT with X-User-Id (extra allows one more header:
// the every-tenth-run change), and sends Access-Control-Max-Age: 0, so
// that a real browser too would preflight every PUT rather than use its
// preflight cache. /files answers with a 303 to a signed URL, and the
// bucket lets Origin: null, the tainted origin after that redirect, read.
func learnerScenario(extra bool) []byte {
	allowHeaders := "X-User-Id"
	if extra {
		allowHeaders += ", X-Request-Id"
	}
	doc, _ := json.Marshal(map[string]any{
		"api": map[string]any{
			"allowOrigin":  "echo",
			"allowMethods": "PUT",
			"allowHeaders": allowHeaders,
			"maxAge":       0,
			"redirect":     303,
		},
		"bucket": map[string]any{
			"cors": []map[string]any{{"allowedOrigins": []string{"null"}, "allowedMethods": []string{"GET"}}},
		},
	})
	return doc
}

// callUI sends a JSON API request to the ui origin, as the lab page's own
// fetch does, and decodes the answer into out when the status is want. It
// returns the status (0 on a transport error).
func (l *learner) callUI(ctx context.Context, what, method, path string, body []byte, want int, out any) (int, error) {
	s := l.env.stats
	req, err := http.NewRequestWithContext(ctx, method, l.env.ui+path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", l.env.ui)
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	s.uiRequests.Add(1)
	resp, err := l.client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			s.transportError(what, err)
		}
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		if ctx.Err() == nil {
			s.transportError(what, err)
		}
		return 0, err
	}
	if resp.StatusCode != want {
		s.unexpectedStatus(what, resp.StatusCode)
		return resp.StatusCode, fmt.Errorf("%s: %s: %.200s", what, resp.Status, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s: %v", what, err)
		}
	}
	return resp.StatusCode, nil
}

// dialWS opens the session's websocket, asking for everything after the
// newest exchange and run already received (since=0 the first time).
func (l *learner) dialWS(ctx context.Context) (*websocket.Conn, error) {
	s := l.env.stats
	u := "ws" + l.env.ui[len("http"):] + "/api/sessions/" + l.id + "/ws?since=" +
		strconv.FormatUint(l.lastSeq.Load(), 10) + "&runsSince=" + strconv.FormatInt(l.lastRun.Load(), 10)
	s.uiRequests.Add(1)
	conn, resp, err := l.ws.DialContext(ctx, u, http.Header{"Origin": {l.env.ui}, "User-Agent": {userAgent}})
	if err != nil {
		if ctx.Err() == nil {
			if resp != nil {
				s.unexpectedStatus("GET /ws", resp.StatusCode)
			} else {
				s.transportError("GET /ws", err)
			}
		}
		return nil, err
	}
	return conn, nil
}

// watch reads the websocket until ctx is done. When the server drops it,
// it counts the drop and reconnects with since=<last seq>, as the lab page
// does, so the backlog fills the gap.
func (l *learner) watch(ctx context.Context, conn *websocket.Conn) {
	s := l.env.stats
	for {
		err := l.read(ctx, conn)
		if ctx.Err() != nil {
			return
		}
		s.wsDropped(dropCause(err))
		if conn = l.redial(ctx); conn == nil {
			return
		}
		s.wsReconnects.Add(1)
	}
}

// read handles frames until the connection ends, or ctx is done: then it
// closes the socket as a browser closing the tab does.
func (l *learner) read(ctx context.Context, conn *websocket.Conn) error {
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() {
		conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, ""), time.Now().Add(time.Second))
		conn.Close()
	})
	defer stop()
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return err
		}
		l.handleFrame(data, time.Now())
	}
}

// handleFrame counts a frame received at `at`.
func (l *learner) handleFrame(data []byte, at time.Time) {
	s := l.env.stats
	h, err := parseFrame(data)
	if err != nil {
		s.badFrames.Add(1)
		return
	}
	switch h.Type {
	case "exchange":
		last := l.lastSeq.Load()
		if h.Seq <= last {
			s.dupFrames.Add(1)
			return
		}
		if h.Seq > last+1 {
			s.gaps.Add(int64(h.Seq - last - 1))
		}
		l.lastSeq.Store(h.Seq)
		l.received.Add(1)
		s.frames.Add(1)
		s.exchangeBytes.Add(int64(len(data)))
		s.latency.record(at.Sub(h.Start))
	case "run":
		l.lastRun.Store(h.RunID)
		s.runFrames.Add(1)
		s.runBytes.Add(int64(len(data)))
	case "notice":
		s.notices.Add(1)
	}
}

// redial reconnects after a drop, backing off from 100 ms to 2 s, for up
// to about a minute; nil means it gave up or ctx is done.
func (l *learner) redial(ctx context.Context) *websocket.Conn {
	wait := 100 * time.Millisecond
	for range 40 {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		if conn, err := l.dialWS(ctx); err == nil {
			return conn
		}
		wait = min(2*wait, 2*time.Second)
	}
	return nil
}

// dropCause describes why a websocket ended: the server's close code and
// reason, or the transport error.
func dropCause(err error) string {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return fmt.Sprintf("close %d %s", ce.Code, ce.Text)
	}
	return describeErr(err)
}

// browse runs request sequences at the learner's rate until `until`.
func (l *learner) browse(ctx context.Context, until time.Time) {
	interval := time.Duration(float64(time.Second) / l.env.rate)
	// Start at a random point of the first interval, and let each gap be
	// 0.5 to 1.5 intervals: the rate holds on average, and learners who
	// arrive together drift apart instead of running in step.
	next := time.Now().Add(rand.N(interval))
	for next.Before(until) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(next)):
		}
		l.sequence(ctx)
		next = next.Add(interval/2 + rand.N(interval))
		// A learner that fell behind goes on from now rather than
		// catching up in a burst, as a person would.
		if now := time.Now(); next.Before(now) {
			next = now
		}
	}
}

// drain waits, up to limit, until every request answered has come back as
// an exchange frame.
func (l *learner) drain(ctx context.Context, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for l.received.Load() < l.expected.Load() && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
}
