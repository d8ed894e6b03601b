package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// An attack is one row of issue 12's table. It runs once from each source
// (one address, many), every loop bounded in count as well as by the end
// of the test, and counts what it sends in tallies, one per variant: what
// was sent, the statuses and errors, and what "got through", that is, got
// what issue 12's table says the attack got from the unprotected server.
type attack struct {
	N       int
	Name    string
	Through string // what a request that got through got
	run     func(ctx context.Context, s strike)
}

// attacks are issue 12's table, in its order. Its last row, the matrix
// page run three times, needs a browser: the matrix browser test covers it.
var attacks = []attack{
	{1, "GET /lab flood, 8 at a time", "a new session", labFlood},
	{2, "cross-site session creation", "a new session", crossSite},
	{3, "250 KB runs on 12 sessions", "a run stored; GET /runs: the whole list", bigRuns},
	{4, "websockets that never read", "a socket still open after 10 s unread while its session gets traffic", stalledSockets},
	{5, "bad Host headers", "an answer below 400", badHosts},
	{6, "S3 CopyObject past the quota", "an object stored (a copy: 5 MiB the quota did not count)", s3Copies},
	{7, "since=18446744073709551615", "anything but a refusal: 2xx, 101 or 5xx (a panic)", sinceOverflow},
	{8, "goals on a full exchange ring", "an answer (each costs a full evaluation)", fullRingGoals},
	{9, "slowloris on the UI", "a connection still held when the attack ended", slowloris},
	{10, "junk JSON and parameters", "accepted (below 400)", junkInput},
}

// maxUint64 as a query value: "since" far above any seq.
const sinceMax = "18446744073709551615"

// abuser is what every attack shares: where corslab is, the payloads, and
// the tallies.
type abuser struct {
	ui, app, api string // origins: http://127.0.0.1:<port>
	uiHost       string // 127.0.0.1:<port>, for raw requests
	slug         string // a lesson with goals (attack 8)
	nextMany     atomic.Int64

	bigRun []byte // attack 3's run record, about 250 KB
	object []byte // attack 6's 5 MiB object
	lts    []byte // 60 KiB of '<', bodies to capture (attacks 4, 8)

	mu      sync.Mutex
	tallies map[tallyKey]*tally
}

// newAbuser prepares the attacks on the corslab whose ui origin is ui; the
// other origins are on the next ports (see roles).
func newAbuser(ctx context.Context, ui string) (*abuser, error) {
	u, err := url.Parse(ui)
	if err != nil {
		return nil, err
	}
	port, _ := strconv.Atoi(u.Port())
	origin := func(i int) string { return "http://" + net.JoinHostPort(u.Hostname(), strconv.Itoa(port+i)) }
	a := &abuser{
		ui: ui, app: origin(1), api: origin(2), uiHost: u.Host,
		object:  bytes.Repeat([]byte{'x'}, 5<<20),
		lts:     bytes.Repeat([]byte{'<'}, 60<<10),
		tallies: map[tallyKey]*tally{},
	}
	a.bigRun = bigRunRecord(a.api + "/users")
	if a.slug, err = lessonWithGoals(ctx, ui); err != nil {
		return nil, err
	}
	return a, nil
}

// bigRunRecord is a run as the lab page posts it, grown to about 250 KB,
// just under the JSON API's 256 KiB, with '<', which the server's JSON
// writes as six bytes (\u003c): a 64 KiB response body and 100 headers of
// 1,900 bytes.
func bigRunRecord(u string) []byte {
	run := runDoc{Request: fetchRequest("GET", "/users", nil, ""), URL: u, UserAgent: userAgent}
	run.Browser = browser{OK: true, Status: 200, Type: "cors", URL: u, Body: strings.Repeat("<", 64<<10), DurationMs: 1}
	for i := range 100 {
		run.Browser.Headers = append(run.Browser.Headers, [2]string{fmt.Sprintf("x-big-%02d", i), strings.Repeat("<", 1900)})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // '<' stays one byte on the way in
	enc.Encode(run)
	return buf.Bytes()
}

// lessonWithGoals returns the slug of the first lesson GET /api/lessons
// lists with goals.
func lessonWithGoals(ctx context.Context, ui string) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", ui+"/api/lessons", nil)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return "", fmt.Errorf("GET /api/lessons: %v", err)
	}
	defer resp.Body.Close()
	var lessons []struct {
		Slug  string            `json:"slug"`
		Goals []json.RawMessage `json:"goals"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&lessons); err != nil {
		return "", fmt.Errorf("GET /api/lessons: %s: %v", resp.Status, err)
	}
	for _, l := range lessons {
		if len(l.Goals) > 0 && l.Slug != "" {
			return l.Slug, nil
		}
	}
	return "", errors.New("GET /api/lessons: no lesson with goals, for the goals attack")
}

// clientFrom is an HTTP client dialling from ip that keeps its
// connections and follows no redirect.
func clientFrom(ip net.IP, timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: ip}}
	return &http.Client{
		Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 16, IdleConnTimeout: 30 * time.Second},
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// wsDialer opens websockets from ip.
func wsDialer(ip net.IP) *websocket.Dialer {
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: ip}}
	return &websocket.Dialer{NetDialContext: d.DialContext, HandshakeTimeout: 10 * time.Second}
}

func (a *abuser) navigation(p, site string) *http.Request { return navigation(a.ui, p, site) }

// navigation is what a browser sends for a top-level navigation to a path
// of the ui origin: site "none" for a typed URL, "cross-site" for a link
// on another site.
func navigation(ui, p, site string) *http.Request {
	req, _ := http.NewRequest("GET", ui+p, nil)
	h := req.Header
	h.Set("User-Agent", userAgent)
	h.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	h.Set("Sec-Fetch-Site", site)
	h.Set("Sec-Fetch-Mode", "navigate")
	h.Set("Sec-Fetch-Dest", "document")
	h.Set("Sec-Fetch-User", "?1")
	h.Set("Upgrade-Insecure-Requests", "1")
	if site == "cross-site" {
		h.Set("Referer", "http://evil.example/")
	}
	return req
}

// apiCall is a JSON API request as the lab page's own fetch sends it.
func (a *abuser) apiCall(method, p string, body []byte) *http.Request {
	req, _ := http.NewRequest(method, a.ui+p, bytes.NewReader(body))
	h := req.Header
	h.Set("User-Agent", userAgent)
	h.Set("Content-Type", "application/json")
	h.Set("Origin", a.ui)
	h.Set("Sec-Fetch-Site", "same-origin")
	h.Set("Sec-Fetch-Mode", "cors")
	h.Set("Sec-Fetch-Dest", "empty")
	return req
}

// capturedPost is a POST of body to a session's path on the api origin,
// from the app's page: captured as an exchange whatever the api answers.
func (a *abuser) capturedPost(id string, body []byte) *http.Request {
	req, _ := http.NewRequest("POST", a.api+"/"+id+"/users", bytes.NewReader(body))
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	req.Header.Set("Origin", a.app)
	return req
}

// A strike is one attack from one source.
type strike struct {
	*abuser
	atk *attack
	src source
}

func (s strike) tally(variant string) *tally {
	return s.abuser.tally(tallyKey{s.atk.N, variant, s.src.name})
}

// client is a new client from the source's next address: for "one" the
// same address every time, for "many" a new one.
func (s strike) client(timeout time.Duration) *http.Client {
	return clientFrom(s.src.next(), timeout)
}

// newSession creates a session as the lab page does, trying again after
// each refusal until ctx is done. It is tallied as the strike's "new
// session", which counts the sessions.
func (s strike) newSession(ctx context.Context, c *http.Client) (sessionDoc, bool) {
	t := s.tally("new session")
	for ctx.Err() == nil {
		ans, err := t.do(ctx, c, s.apiCall("POST", "/api/sessions", []byte("{}")))
		if err == nil && ans.Status == http.StatusCreated {
			var doc sessionDoc
			if json.Unmarshal(ans.Body, &doc) == nil && doc.ID != "" && doc.Origins["s3"] != "" {
				t.created(true)
				return doc, true
			}
		}
		sleepCtx(ctx, retryAfter(ans))
	}
	return sessionDoc{}, false
}

// newLessonSession opens the lesson page as a browser does, GET
// /lessons/<slug>, which creates a session and redirects to it, and
// returns the session's id.
func (s strike) newLessonSession(ctx context.Context, c *http.Client) (string, bool) {
	t := s.tally("new lesson session")
	for ctx.Err() == nil {
		ans, err := t.do(ctx, c, s.navigation("/lessons/"+s.slug, "none"))
		if err == nil && createdSession(ans, "/lessons/"+s.slug+"/") {
			t.created(true)
			loc, _ := url.Parse(ans.Header.Get("Location"))
			return path.Base(loc.Path), true
		}
		sleepCtx(ctx, retryAfter(ans))
	}
	return "", false
}

// createdSession reports whether ans redirects to a new session's page
// under prefix: /lab/ or /lessons/<slug>/.
func createdSession(ans answer, prefix string) bool {
	if ans.Status != http.StatusSeeOther {
		return false
	}
	loc, err := url.Parse(ans.Header.Get("Location"))
	return err == nil && strings.HasPrefix(loc.Path, prefix) && len(loc.Path) > len(prefix)
}

// Pauses after a refusal or an error. A flood does not wait for
// Retry-After, but does not spin either; a paced attack takes what it is
// allowed, as fast as it is allowed.
const floodPause = 20 * time.Millisecond

// retryAfter is how long an attacker that goes as fast as it is allowed
// waits after ans: its Retry-After, at most a second; a second after an
// error or a refusal without one.
func retryAfter(ans answer) time.Duration {
	if s, err := strconv.Atoi(ans.Header.Get("Retry-After")); err == nil && s >= 0 {
		return min(time.Duration(s)*time.Second, time.Second)
	}
	return time.Second
}

// sleepCtx waits d, and reports whether ctx is still live.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// 1. 8 goroutines of GET /lab, flat out, each creating a session. From one
// address they share its limits; from many each has its own.
func labFlood(ctx context.Context, s strike) {
	const workers, perWorker = 8, 50_000
	t := s.tally("GET /lab")
	var wg sync.WaitGroup
	for range workers {
		c := s.client(10 * time.Second)
		wg.Go(func() {
			defer c.CloseIdleConnections()
			for range perWorker {
				ans, err := t.do(ctx, c, s.navigation("/lab", "none"))
				if t.created(err == nil && createdSession(ans, "/lab/")) {
					continue
				}
				if !sleepCtx(ctx, floodPause) {
					return
				}
			}
		})
	}
	wg.Wait()
}

// 2. What another site's page makes a visitor's browser send: an <img>
// whose src is /lab, and a text/plain POST to /api/sessions (a "simple"
// request: no preflight). A cross-site navigation, which must keep
// working, is the honest side's (honest.navigate).
func crossSite(ctx context.Context, s strike) {
	const perVariant = 20_000
	img := func() *http.Request {
		req := s.navigation("/lab", "cross-site")
		h := req.Header
		h.Set("Accept", "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8")
		h.Set("Sec-Fetch-Mode", "no-cors")
		h.Set("Sec-Fetch-Dest", "image")
		h.Del("Sec-Fetch-User")
		h.Del("Upgrade-Insecure-Requests")
		return req
	}
	post := func() *http.Request {
		req, _ := http.NewRequest("POST", s.ui+"/api/sessions", strings.NewReader("{}"))
		h := req.Header
		h.Set("User-Agent", userAgent)
		h.Set("Content-Type", "text/plain;charset=UTF-8")
		h.Set("Origin", "http://evil.example")
		h.Set("Referer", "http://evil.example/")
		h.Set("Sec-Fetch-Site", "cross-site")
		h.Set("Sec-Fetch-Mode", "no-cors")
		h.Set("Sec-Fetch-Dest", "empty")
		return req
	}
	var wg sync.WaitGroup
	for _, v := range []struct {
		name    string
		req     func() *http.Request
		created func(answer) bool
	}{
		{"<img src=/lab> on another site", img, func(a answer) bool { return createdSession(a, "/lab/") }},
		{"text/plain POST /api/sessions from another site", post, func(a answer) bool { return a.Status == http.StatusCreated }},
	} {
		t := s.tally(v.name)
		c := s.client(10 * time.Second)
		wg.Go(func() {
			defer c.CloseIdleConnections()
			for range perVariant {
				ans, err := t.do(ctx, c, v.req())
				if t.created(err == nil && v.created(ans)) {
					continue
				}
				if !sleepCtx(ctx, floodPause) {
					return
				}
			}
		})
	}
	wg.Wait()
}

// 3. 12 sessions post runs of about 250 KB as fast as they are allowed,
// and GET /runs reads the first to hold 10 runs, in a loop, as it grows.
func bigRuns(ctx context.Context, s strike) {
	const sessions, perSession, readFrom, reads = 12, 5_000, 10, 1_000
	post := s.tally("POST /runs, 250 KB of '<'")
	get := s.tally("GET /runs of such a session")
	ready := make(chan string, 1)
	var wg sync.WaitGroup
	for range sessions {
		wg.Go(func() {
			c := s.client(30 * time.Second)
			defer c.CloseIdleConnections()
			doc, ok := s.newSession(ctx, c)
			if !ok {
				return
			}
			stored := 0
			for range perSession {
				ans, err := post.do(ctx, c, s.apiCall("POST", "/api/sessions/"+doc.ID+"/runs", s.bigRun))
				if post.got(err == nil && ans.Status == http.StatusCreated) {
					if stored++; stored == readFrom {
						select {
						case ready <- doc.ID: // the first session there
						default:
						}
					}
					continue
				}
				if !sleepCtx(ctx, retryAfter(ans)) {
					return
				}
			}
		})
	}
	wg.Go(func() {
		var id string
		select {
		case id = <-ready:
		case <-ctx.Done():
			return
		}
		t := get
		c := s.client(2 * time.Minute)
		defer c.CloseIdleConnections()
		var largest int64
		for range reads {
			ans, err := t.do(ctx, c, s.apiCall("GET", "/api/sessions/"+id+"/runs", nil))
			if t.got(err == nil && ans.Status == http.StatusOK) {
				largest = max(largest, ans.Size)
				t.setNote(fmt.Sprintf("largest answer %s", mib(largest)))
				continue
			}
			if !sleepCtx(ctx, retryAfter(ans)) {
				return
			}
		}
	})
	wg.Wait()
}

// 4. Websockets on a session (same-origin Origin, so accepted) that never
// read, while the session gets traffic whose frames are large: exchanges
// with 60 KiB bodies of '<' and 250 KB runs. Each socket is held 10 s,
// then checked (still open, or dropped by the server) and opened again.
func stalledSockets(ctx context.Context, s strike) {
	const sessions, socketsPer, cycles, trafficMax = 2, 4, 100, 20_000
	const hold = 10 * time.Second
	sockets := s.tally("websocket that never reads")
	traffic := s.tally("traffic: POST api /users 60 KiB, POST /runs 250 KB").expect(http.StatusBadRequest)
	var open, dropped atomic.Int64
	var wg sync.WaitGroup
	for range sessions {
		wg.Go(func() {
			c := s.client(30 * time.Second)
			defer c.CloseIdleConnections()
			doc, ok := s.newSession(ctx, c)
			if !ok {
				return
			}
			u := "ws" + strings.TrimPrefix(s.ui, "http") + "/api/sessions/" + doc.ID + "/ws?since=0"
			for range socketsPer {
				wg.Go(func() {
					for range cycles {
						if ctx.Err() != nil {
							return
						}
						sockets.sent.Add(1)
						conn, resp, err := wsDialer(s.src.next()).DialContext(ctx, u, http.Header{"Origin": {s.ui}, "User-Agent": {userAgent}})
						if err != nil {
							if resp != nil {
								sockets.status(resp.StatusCode)
							} else {
								sockets.fail(ctx, err)
							}
							sleepCtx(ctx, time.Second)
							continue
						}
						sockets.status(http.StatusSwitchingProtocols)
						sleepCtx(ctx, hold)
						if stillOpen(conn, time.Second) {
							open.Add(1)
							sockets.got(true)
						} else {
							dropped.Add(1)
						}
						conn.Close()
						sockets.setNote(fmt.Sprintf("%d held 10 s and still open, %d dropped by the server", open.Load(), dropped.Load()))
					}
				})
			}
			for i := range trafficMax {
				req := s.capturedPost(doc.ID, s.lts)
				if i%2 == 1 {
					req = s.apiCall("POST", "/api/sessions/"+doc.ID+"/runs", s.bigRun)
				}
				ans, err := traffic.do(ctx, c, req)
				if traffic.got(err == nil && ans.Status != http.StatusTooManyRequests && ans.Status < 500) {
					continue
				}
				if !sleepCtx(ctx, retryAfter(ans)) {
					return
				}
			}
		})
	}
	wg.Wait()
}

// stillOpen reads what the server sent for up to d: a socket that is still
// open when the time is up was not dropped.
func stillOpen(conn *websocket.Conn, d time.Duration) bool {
	conn.SetReadDeadline(time.Now().Add(d))
	for {
		if _, _, err := conn.NextReader(); err != nil {
			var ne net.Error
			return errors.As(err, &ne) && ne.Timeout()
		}
	}
}

// 5. Requests whose Host is not a name corslab answers to, sent over raw
// TCP (the empty and missing ones cannot be sent otherwise), to the ui
// origin and to a session on the api origin. Each is a new connection, so
// a round every 100 ms: from one address, faster would run out of its
// ephemeral ports before it learnt anything more.
func badHosts(ctx context.Context, s strike) {
	const rounds = 500
	c := s.client(10 * time.Second)
	doc, ok := s.newSession(ctx, c)
	c.CloseIdleConnections()
	if !ok {
		return
	}
	api, _ := url.Parse(doc.Origins["api"])
	targets := []struct{ addr, path string }{{s.uiHost, "/api/lessons"}, {api.Host, api.Path + "/users"}}
	variants := []struct {
		name  string
		proto string
		host  func(addr string) string // the Host header line, "" for none
	}{
		{"Host: re_bind.attacker.example:<port>", "HTTP/1.1", func(addr string) string {
			_, port, _ := net.SplitHostPort(addr)
			return "Host: re_bind.attacker.example:" + port + "\r\n"
		}},
		{"Host: a:1:2", "HTTP/1.1", func(string) string { return "Host: a:1:2\r\n" }},
		{"Host: (empty)", "HTTP/1.1", func(string) string { return "Host: \r\n" }},
		{"no Host (HTTP/1.0)", "HTTP/1.0", func(string) string { return "" }},
	}
	for range rounds {
		for _, v := range variants {
			t := s.tally(v.name)
			for _, tg := range targets {
				raw := "GET " + tg.path + " " + v.proto + "\r\n" + v.host(tg.addr) +
					"User-Agent: " + userAgent + "\r\nConnection: close\r\n\r\n"
				t.sent.Add(1)
				start := time.Now()
				status, err := rawExchange(ctx, s.src.next(), tg.addr, raw, 5*time.Second)
				if err != nil {
					t.fail(ctx, err)
				} else {
					t.took.record(time.Since(start))
					t.status(status)
					t.got(status < 400)
				}
			}
		}
		if !sleepCtx(ctx, 100*time.Millisecond) {
			return
		}
	}
}

// rawExchange sends request over a new connection from ip and returns the
// status of the answer.
func rawExchange(ctx context.Context, ip net.IP, addr, request string, timeout time.Duration) (int, error) {
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: ip}}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	conn.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(conn, request); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return resp.StatusCode, nil
}

// 6. Fill a session's bucket with two 5 MiB objects (after deleting the
// sample objects, which would leave no room for the second), then copy one
// to new keys, x-amz-copy-source with Content-Length: 0, until three
// copies in a row are refused; then the same in a new session.
func s3Copies(ctx context.Context, s strike) {
	workers := map[string]int{"one": 1, "many": 4}[s.src.name]
	const sessionsPer, copiesPer = 16, 60
	empty := s.tally("empty the bucket: list, DELETE")
	puts := s.tally("PUT a 5 MiB object")
	copies := s.tally("PUT x-amz-copy-source, Content-Length: 0")
	var copied atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range sessionsPer {
				if ctx.Err() != nil {
					return
				}
				c := s.client(time.Minute)
				doc, ok := s.newSession(ctx, c)
				if !ok {
					return
				}
				bucket := doc.Origins["s3"] // http://127.0.0.1:<s3 port>/<session>
				name := path.Base(bucket)
				emptyBucket(ctx, c, empty, bucket)
				for _, key := range []string{"big-1", "big-2"} {
					req, _ := http.NewRequest("PUT", bucket+"/"+key, bytes.NewReader(s.object))
					ans, err := puts.do(ctx, c, req)
					puts.got(err == nil && ans.Status == http.StatusOK)
				}
				refused := 0
				for i := 0; i < copiesPer && refused < 3 && ctx.Err() == nil; i++ {
					req, _ := http.NewRequest("PUT", fmt.Sprintf("%s/copy-%d", bucket, i), http.NoBody)
					req.ContentLength = 0 // sent as Content-Length: 0
					req.Header.Set("x-amz-copy-source", "/"+name+"/big-1")
					ans, err := copies.do(ctx, c, req)
					if copies.got(err == nil && ans.Status == http.StatusOK) {
						refused = 0
						copies.setNote(fmt.Sprintf("%d MiB stored by copies", 5*copied.Add(1)))
						continue
					}
					refused++
				}
				c.CloseIdleConnections()
			}
		})
	}
	wg.Wait()
}

// emptyBucket deletes every object a path-style ListObjects of bucket
// lists.
func emptyBucket(ctx context.Context, c *http.Client, t *tally, bucket string) {
	req, _ := http.NewRequest("GET", bucket, nil)
	ans, err := t.do(ctx, c, req)
	if err != nil || ans.Status != http.StatusOK {
		return
	}
	var list struct {
		Contents []struct{ Key string }
	}
	if xml.Unmarshal(ans.Body, &list) != nil {
		return
	}
	for _, o := range list.Contents {
		req, _ := http.NewRequest("DELETE", bucket+"/"+url.PathEscape(o.Key), nil)
		ans, err := t.do(ctx, c, req)
		t.got(err == nil && ans.Status < 300)
	}
}

// 7. since above any seq: on GET /exchanges, on the websocket, and as a
// posted run's since, on a session with a few exchanges.
func sinceOverflow(ctx context.Context, s strike) {
	const rounds = 1_000
	c := s.client(10 * time.Second)
	defer c.CloseIdleConnections()
	doc, ok := s.newSession(ctx, c)
	if !ok {
		return
	}
	warm := s.tally("warm-up: GET api /users")
	for range 3 {
		req, _ := http.NewRequest("GET", doc.Origins["api"]+"/users", nil)
		ans, err := warm.do(ctx, c, req)
		warm.got(err == nil && ans.Status == http.StatusOK)
	}
	run := runDoc{Request: fetchRequest("GET", "/users", nil, ""), URL: doc.Origins["api"] + "/users",
		Since: math.MaxUint64, Browser: failed(time.Now()), UserAgent: userAgent}
	runBody, _ := json.Marshal(run)
	bad := func(status int) bool { return status < 300 || status >= 500 }
	exchanges, ws, runs := s.tally("GET /exchanges?since=2⁶⁴-1"), s.tally("websocket ?since=2⁶⁴-1"), s.tally("POST /runs, since 2⁶⁴-1")
	wsURL := "ws" + strings.TrimPrefix(s.ui, "http") + "/api/sessions/" + doc.ID + "/ws?since=" + sinceMax
	for range rounds {
		ans, err := exchanges.do(ctx, c, s.apiCall("GET", "/api/sessions/"+doc.ID+"/exchanges?since="+sinceMax, nil))
		exchanges.got(err == nil && bad(ans.Status))

		ws.sent.Add(1)
		conn, resp, err := wsDialer(s.src.next()).DialContext(ctx, wsURL, http.Header{"Origin": {s.ui}, "User-Agent": {userAgent}})
		switch {
		case err == nil:
			ws.status(http.StatusSwitchingProtocols)
			ws.got(true)
			conn.Close()
		case resp != nil:
			ws.status(resp.StatusCode)
			ws.got(bad(resp.StatusCode))
		default:
			ws.fail(ctx, err)
		}

		ans, err = runs.do(ctx, c, s.apiCall("POST", "/api/sessions/"+doc.ID+"/runs", runBody))
		runs.got(err == nil && bad(ans.Status))
		if !sleepCtx(ctx, 200*time.Millisecond) {
			return
		}
	}
}

// 8. Lesson sessions whose exchange ring is full (bodies of 60 KiB: the
// ring's byte cap, not its count, is reached first), and GET /goals on
// each, two at a time, as often as allowed. The goals loops start once 20
// bodies are in, and the filling goes on beside them, so that a short or
// a starved run still evaluates goals, on a ring that fills as it goes.
func fullRingGoals(ctx context.Context, s strike) {
	lessons := map[string]int{"one": 2, "many": 4}[s.src.name]
	// 150 bodies of 60 KiB are more than the ring's 8 MiB, however it
	// counts them, and fit in a session's burst.
	const fills, startGoals, loops, perLoop = 150, 20, 2, 100_000
	fill := s.tally("fill the ring: POST api /users, 60 KiB").expect(http.StatusBadRequest)
	goals := s.tally("GET /goals")
	var wg sync.WaitGroup
	for range lessons {
		wg.Go(func() {
			c := s.client(30 * time.Second)
			defer c.CloseIdleConnections()
			id, ok := s.newLessonSession(ctx, c)
			if !ok {
				return
			}
			for filled := 0; filled < fills && ctx.Err() == nil; {
				ans, err := fill.do(ctx, c, s.capturedPost(id, s.lts))
				if !fill.got(err == nil && ans.Status != http.StatusTooManyRequests && ans.Status < 500) {
					sleepCtx(ctx, retryAfter(ans))
					continue
				}
				if filled++; filled != startGoals { // captured, whatever the api answered
					continue
				}
				for range loops {
					wg.Go(func() {
						for range perLoop {
							ans, err := goals.do(ctx, c, s.apiCall("GET", "/api/sessions/"+id+"/goals", nil))
							if goals.got(err == nil && ans.Status == http.StatusOK) {
								continue
							}
							if !sleepCtx(ctx, floodPause) {
								return
							}
						}
					})
				}
			}
		})
	}
	wg.Wait()
}

// 9. Slowloris: connections to the ui that send a POST's headers and half
// its body, then nothing. 100 are kept open at a time; when the server
// closes one, another takes its place, up to 1,000 in all.
func slowloris(ctx context.Context, s strike) {
	const conns, total = 100, 1_000
	t := s.tally("POST /api/sessions: half the body, then silence")
	body := "{" + strings.Repeat(" ", 2047)
	head := "POST /api/sessions HTTP/1.1\r\nHost: " + s.uiHost + "\r\nUser-Agent: " + userAgent +
		"\r\nContent-Type: application/json\r\nOrigin: " + s.ui + "\r\nSec-Fetch-Site: same-origin\r\nContent-Length: 4096\r\n\r\n"
	var opened, closed, stillOpen atomic.Int64
	var oldest atomic.Int64 // ns
	note := func() {
		t.setNote(fmt.Sprintf("%d closed by the server, %d still held at the end (the oldest for %s)",
			closed.Load(), stillOpen.Load(), time.Duration(oldest.Load()).Round(time.Second)))
	}
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			for opened.Add(1) <= total && ctx.Err() == nil {
				d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: s.src.next()}}
				t.sent.Add(1)
				conn, err := d.DialContext(ctx, "tcp", s.uiHost)
				if err != nil {
					t.fail(ctx, err)
					sleepCtx(ctx, time.Second)
					continue
				}
				start := time.Now()
				if _, err := io.WriteString(conn, head+body); err != nil {
					t.fail(ctx, err)
					conn.Close()
					continue
				}
				answered := make(chan int, 1)
				go func() {
					resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
					if err != nil {
						answered <- 0
						return
					}
					resp.Body.Close()
					answered <- resp.StatusCode
				}()
				select {
				case status := <-answered:
					closed.Add(1)
					t.took.record(time.Since(start)) // how long it was held
					if status > 0 {
						t.status(status)
					}
				case <-ctx.Done():
					stillOpen.Add(1)
					t.got(true)
					held := int64(time.Since(start))
					for old := oldest.Load(); held > old && !oldest.CompareAndSwap(old, held); old = oldest.Load() {
					}
				}
				conn.Close()
				note()
			}
		})
	}
	wg.Wait()
	note()
}

// 10. Input that strict parsing refuses: null where a value is required,
// invalid UTF-8, unknown fields, and an unknown run= value.
func junkInput(ctx context.Context, s strike) {
	const rounds = 500
	c := s.client(10 * time.Second)
	defer c.CloseIdleConnections()
	doc, ok := s.newSession(ctx, c)
	if !ok {
		return
	}
	post := func(body string) func() *http.Request {
		return func() *http.Request { return s.apiCall("POST", "/api/sessions", []byte(body)) }
	}
	variants := []struct {
		name    string
		req     func() *http.Request
		session bool // accepting it creates a session
	}{
		{`POST /api/sessions {"setup": null}`, post(`{"setup": null}`), true},
		{`POST /api/sessions {"api": {"requireLogin": null}}`, post(`{"api": {"requireLogin": null}}`), true},
		{`POST /api/sessions, invalid UTF-8 in request.body`, post("{\"request\": {\"method\": \"POST\", \"body\": \"caf\xe9\"}}"), true},
		{`POST /api/sessions {"bogus": 1}`, post(`{"bogus": 1}`), true},
		{`PUT /scenario {"setup": null}`, func() *http.Request {
			return s.apiCall("PUT", "/api/sessions/"+doc.ID+"/scenario", []byte(`{"setup": null}`))
		}, false},
		{`GET /lab?run=maybe`, func() *http.Request { return s.navigation("/lab?run=maybe", "none") }, true},
	}
	for range rounds {
		for _, v := range variants {
			t := s.tally(v.name)
			ans, err := t.do(ctx, c, v.req())
			if err == nil && ans.Status < 400 {
				t.through.Add(1)
				if v.session && ans.Status != http.StatusOK {
					t.sessions.Add(1)
				}
			}
		}
		if !sleepCtx(ctx, 100*time.Millisecond) {
			return
		}
	}
}
