package main

// The baseline server: the least a Go server has to do to give the load
// test's learners what corslab gives them, so that -baseline (baseline.go)
// can state corslab's cost as a multiple of it. It uses the standard
// library and gorilla/websocket only, and answers exactly the requests a
// learner sends (learner.go, browser.go):
//
//	ui   POST /api/sessions, PUT …/scenario, POST …/runs, GET …/ws?since=&runsSince=
//	api  GET /{id}/users, OPTIONS and PUT /{id}/users/1, GET /{id}/files/{key} → 303
//	s3   GET /{id}/{key}?X-Amz-…: a small object
//
// on five ports in corslab's order, with fixed CORS headers (the ones
// corslab's scenario for the learners produces). For every api and s3
// request it sends the session's websockets an exchange frame laid out as
// corslab's: the parsed request and response, with their headers as
// [name, value] pairs, and the raw text of both. It is built the plain
// way, from the parsed request and the headers the handler set, and comes
// out the same size as corslab's (within 1%: baseline_test.go checks 10%).
//
// What it leaves out is what makes corslab more than this: no CORS engine
// and no explanation (a posted run is stored and echoed as it came, with
// the seqs of its exchanges), no validation beyond parsing JSON, no rate
// limits, no memory budget, no lessons or pages, and a replay buffer of
// the last 64 exchanges and 16 runs a session instead of corslab's 1,000
// and 200 — enough for a websocket that reconnects with since=.

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// The roles' places in roles (child.go): ui N, app N+1, api N+2, s3 N+3, evil N+4.
const (
	roleUI = iota
	roleApp
	roleAPI
	roleS3
	roleEvil
)

// Bounds of the baseline.
const (
	blReplayExchanges = 64       // exchange frames a session keeps for since= replays
	blReplayRuns      = 16       // run frames, for runsSince=
	blQueue           = 256      // frames a websocket may fall behind before it is dropped
	blMaxSessions     = 20000    // then POST /api/sessions answers 503
	blMaxBody         = 1 << 20  // request bodies
	blMaxCaptured     = 64 << 10 // of each body, in an exchange frame: corslab's capture.MaxBody
	blMaxRunSeqs      = 42       // exchange seqs listed in a run, as corslab lists
)

// blObject is the bucket's only object: corslab's sample file.
const (
	blObjectKey  = "hello.txt"
	blObjectBody = "Hello from corslab's fake S3.\n"
)

// A baseline serves the five origins; handler gives each one's handler.
type baseline struct {
	base     [5]string // each role's origin, such as http://127.0.0.1:9002
	key      []byte    // signs the URLs /files redirects to
	upgrader websocket.Upgrader
	s3IDs    atomic.Uint64 // x-amz-request-id

	mu       sync.RWMutex
	sessions map[string]*blSession
}

func newBaseline(base [5]string) *baseline {
	key := make([]byte, 32)
	rand.Read(key)
	return &baseline{
		base: base, key: key, sessions: map[string]*blSession{},
		// corslab's buffer sizes, so that a socket costs the same memory;
		// CheckOrigin stays at its same-origin default.
		upgrader: websocket.Upgrader{ReadBufferSize: 512, WriteBufferSize: 8 << 10},
	}
}

// handler is the handler of role's origin. The app and evil origins have
// nothing the learners ask for.
func (b *baseline) handler(role int) http.Handler {
	switch role {
	case roleUI:
		mux := http.NewServeMux()
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
		mux.HandleFunc("POST /api/sessions", b.createSession)
		mux.HandleFunc("PUT /api/sessions/{id}/scenario", b.withSession(b.putScenario))
		mux.HandleFunc("POST /api/sessions/{id}/runs", b.withSession(b.addRun))
		mux.HandleFunc("GET /api/sessions/{id}/ws", b.withSession(b.watch))
		return mux
	case roleAPI:
		return b.captured("api", b.serveAPI)
	case roleS3:
		return b.captured("s3", b.serveObject)
	}
	return http.NotFoundHandler()
}

// A blSession is a learner's session: the scenario as posted, three
// users, and the frames for replays and the websockets watching.
type blSession struct {
	id string

	mu        sync.Mutex
	scenario  json.RawMessage
	users     [3]blUser
	seq       uint64 // the newest exchange's
	exchanges [blReplayExchanges]blFrame
	runID     uint64
	runs      [blReplayRuns]blFrame
	subs      map[*blSub]struct{}
}

type blUser struct {
	ID       int    `json:"id"`
	Username string `json:"username"`
	Name     string `json:"name"`
}

// blFrame is an encoded frame and its seq or run id.
type blFrame struct {
	n    uint64
	data []byte
}

// A blSub is one websocket: it gets frames on a bounded queue, and gone is
// closed when it falls blQueue frames behind and is dropped.
type blSub struct {
	frames chan []byte
	gone   chan struct{}
}

func (b *baseline) session(id string) *blSession {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.sessions[id]
}

func (b *baseline) withSession(h func(http.ResponseWriter, *http.Request, *blSession)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess := b.session(r.PathValue("id"))
		if sess == nil {
			blError(w, http.StatusNotFound, "no such session")
			return
		}
		h(w, r, sess)
	}
}

// sessionDescription is POST /api/sessions' answer, as corslab's has it
// (less the lab URL's query and the score).
type sessionDescription struct {
	ID       string            `json:"id"`
	URL      string            `json:"url"`
	Origins  map[string]string `json:"origins"`
	Scenario json.RawMessage   `json:"scenario"`
}

func (b *baseline) describe(s *blSession) sessionDescription {
	s.mu.Lock()
	sc := s.scenario
	s.mu.Unlock()
	return sessionDescription{
		ID: s.id, URL: b.base[roleUI] + "/lab/" + s.id, Scenario: sc,
		Origins: map[string]string{
			"app": b.base[roleApp] + "/" + s.id, "api": b.base[roleAPI] + "/" + s.id,
			"s3": b.base[roleS3] + "/" + s.id, "evil": b.base[roleEvil] + "/" + s.id,
		},
	}
}

// newSessionID is 128 random bits in corslab's alphabet: 26 characters,
// as corslab's ids, so that every URL and frame is as long.
func newSessionID() string {
	var id [16]byte
	rand.Read(id[:])
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(id[:]))
}

// POST /api/sessions: the body is the scenario; no body, an empty one.
func (b *baseline) createSession(w http.ResponseWriter, r *http.Request) {
	body, ok := blReadJSON(w, r)
	if !ok {
		return
	}
	s := &blSession{
		id: newSessionID(), scenario: body, subs: map[*blSub]struct{}{},
		users: [3]blUser{{1, "ada", "Ada Lovelace"}, {2, "grace", "Grace Hopper"}, {3, "alan", "Alan Turing"}},
	}
	b.mu.Lock()
	full := len(b.sessions) >= blMaxSessions
	if !full {
		b.sessions[s.id] = s
	}
	b.mu.Unlock()
	if full {
		blError(w, http.StatusServiceUnavailable, "too many sessions")
		return
	}
	blWriteJSON(w, http.StatusCreated, b.describe(s))
}

// PUT /api/sessions/{id}/scenario: stored as it came, and sent to the
// session's websockets, as corslab sends it.
func (b *baseline) putScenario(w http.ResponseWriter, r *http.Request, s *blSession) {
	body, ok := blReadJSON(w, r)
	if !ok {
		return
	}
	frame := slices.Concat([]byte(`{"type":"scenario","scenario":`), body, []byte("}"))
	s.mu.Lock()
	s.scenario = body
	s.fanOut(frame)
	s.mu.Unlock()
	blWriteJSON(w, http.StatusOK, b.describe(s))
}

// blRun is a posted run as the baseline keeps it: what the page sent, an
// id, the time, and the exchanges since the page's since. corslab adds its
// verdict, the explanation, here; the baseline adds none.
type blRun struct {
	ID        uint64          `json:"id"`
	At        time.Time       `json:"at"`
	URL       string          `json:"url"`
	Request   json.RawMessage `json:"request"`
	Browser   json.RawMessage `json:"browser"`
	UserAgent string          `json:"userAgent"`
	Exchanges []uint64        `json:"exchanges"`
}

// POST /api/sessions/{id}/runs
func (b *baseline) addRun(w http.ResponseWriter, r *http.Request, s *blSession) {
	body, ok := blReadBody(w, r)
	if !ok {
		return
	}
	var posted struct {
		Request   json.RawMessage `json:"request"`
		URL       string          `json:"url"`
		Since     uint64          `json:"since"`
		Browser   json.RawMessage `json:"browser"`
		UserAgent string          `json:"userAgent"`
	}
	if err := json.Unmarshal(body, &posted); err != nil {
		blError(w, http.StatusBadRequest, err.Error())
		return
	}
	run := blRun{At: time.Now(), URL: posted.URL, Request: posted.Request, Browser: posted.Browser, UserAgent: posted.UserAgent}
	s.mu.Lock()
	s.runID++
	run.ID = s.runID
	for n := max(posted.Since, s.seq-min(s.seq, blMaxRunSeqs)) + 1; n <= s.seq; n++ {
		run.Exchanges = append(run.Exchanges, n)
	}
	frame, err := blEncodeFrame(`{"type":"run","run":`, run)
	if err == nil {
		s.runs[run.ID%blReplayRuns] = blFrame{run.ID, frame}
		s.fanOut(frame)
	}
	s.mu.Unlock()
	if err != nil {
		blError(w, http.StatusBadRequest, err.Error())
		return
	}
	blReply(w, http.StatusCreated, frame[len(`{"type":"run","run":`):len(frame)-1], "Content-Type", "application/json")
}

// fanOut queues frame on every websocket, dropping those whose queue is
// full: the publisher never waits. The caller holds s.mu, so every socket
// gets the frames in seq order.
func (s *blSession) fanOut(frame []byte) {
	for sub := range s.subs {
		select {
		case sub.frames <- frame:
		default:
			delete(s.subs, sub)
			close(sub.gone)
		}
	}
}

// subscribe adds a websocket, and returns the frames it missed: the
// exchanges after since and the runs after runsSince the buffer still has.
func (s *blSession) subscribe(since, runsSince uint64) (*blSub, [][]byte) {
	sub := &blSub{frames: make(chan []byte, blQueue), gone: make(chan struct{})}
	s.mu.Lock()
	defer s.mu.Unlock()
	var backlog [][]byte
	for n := max(since, s.seq-min(s.seq, blReplayExchanges)) + 1; n <= s.seq; n++ {
		backlog = append(backlog, s.exchanges[n%blReplayExchanges].data)
	}
	for n := max(runsSince, s.runID-min(s.runID, blReplayRuns)) + 1; n <= s.runID; n++ {
		backlog = append(backlog, s.runs[n%blReplayRuns].data)
	}
	s.subs[sub] = struct{}{}
	return sub, backlog
}

func (s *blSession) unsubscribe(sub *blSub) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.subs, sub)
}

// GET /api/sessions/{id}/ws?since=N&runsSince=M: the frames after N and M
// the buffer has, then live ones, with one writer and ping/pong deadlines.
func (b *baseline) watch(w http.ResponseWriter, r *http.Request, s *blSession) {
	since, err1 := strconv.ParseUint(cmp.Or(r.URL.Query().Get("since"), "0"), 10, 64)
	runsSince, err2 := strconv.ParseUint(cmp.Or(r.URL.Query().Get("runsSince"), "0"), 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		blError(w, http.StatusBadRequest, err.Error())
		return
	}
	conn, err := b.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	defer conn.Close()
	sub, backlog := s.subscribe(since, runsSince)
	defer s.unsubscribe(sub)

	const pongWait = 60 * time.Second
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		conn.SetReadLimit(512)
		conn.SetReadDeadline(time.Now().Add(pongWait))
		conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(pongWait)) })
		for {
			if _, _, err := conn.NextReader(); err != nil {
				return
			}
		}
	}()
	write := func(kind int, data []byte) bool {
		conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		return conn.WriteMessage(kind, data) == nil
	}
	for _, frame := range backlog {
		if !write(websocket.TextMessage, frame) {
			return
		}
	}
	ping := time.NewTicker(pongWait * 9 / 10)
	defer ping.Stop()
	for {
		select {
		case frame := <-sub.frames:
			if !write(websocket.TextMessage, frame) {
				return
			}
		case <-sub.gone:
			write(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseTryAgainLater, "reconnect with since"))
			return
		case <-ping.C:
			if !write(websocket.PingMessage, nil) {
				return
			}
		case <-closed:
			return
		}
	}
}

// The api origin: fixed CORS headers, those corslab's api sends for the
// learners' scenario (echo the origin, allow PUT with X-User-Id, max-age
// 0), whatever the scenario says.
func (b *baseline) serveAPI(w http.ResponseWriter, r *http.Request, s *blSession, rest string, body []byte) {
	app := b.base[roleApp]
	switch {
	case r.Method == http.MethodOptions:
		blReply(w, http.StatusNoContent, nil,
			"Access-Control-Allow-Headers", "X-User-Id", "Access-Control-Allow-Methods", "PUT",
			"Access-Control-Allow-Origin", app, "Access-Control-Max-Age", "0", "Cache-Control", "no-store", "Vary", "Origin")
	case r.Method == http.MethodGet && rest == "users":
		s.mu.Lock()
		users := s.users
		s.mu.Unlock()
		doc, _ := json.Marshal(users)
		blReply(w, http.StatusOK, append(doc, '\n'),
			"Access-Control-Allow-Origin", app, "Cache-Control", "no-store", "Content-Type", "application/json",
			"Vary", "Origin", "X-Total-Count", strconv.Itoa(len(users)))
	case r.Method == http.MethodPut && strings.HasPrefix(rest, "users/"):
		id, err := strconv.Atoi(strings.TrimPrefix(rest, "users/"))
		var u blUser
		if err == nil {
			err = json.Unmarshal(body, &u)
		}
		if err != nil || id < 1 || id > len(s.users) {
			blReply(w, http.StatusBadRequest, []byte("bad user\n"), "Access-Control-Allow-Origin", app, "Vary", "Origin")
			return
		}
		u.ID = id
		s.mu.Lock()
		s.users[id-1] = u
		s.mu.Unlock()
		doc, _ := json.Marshal(u)
		blReply(w, http.StatusOK, append(doc, '\n'),
			"Access-Control-Allow-Origin", app, "Cache-Control", "no-store", "Content-Type", "application/json", "Vary", "Origin")
	case r.Method == http.MethodGet && strings.HasPrefix(rest, "files/"):
		blReply(w, http.StatusSeeOther, []byte("Redirecting to a signed URL of the bucket.\n"),
			"Access-Control-Allow-Origin", app, "Cache-Control", "no-store", "Content-Type", "text/plain; charset=utf-8",
			"Location", b.signedURL(s.id, strings.TrimPrefix(rest, "files/")), "Vary", "Origin")
	default:
		blReply(w, http.StatusNotFound, []byte("404 page not found\n"), "Content-Type", "text/plain; charset=utf-8")
	}
}

// signedURL is a presigned GET of the session's object: S3's query
// parameters, and one HMAC-SHA256 of the path and query as the signature
// (SigV4 chains five; the s3 origin does not check it: no validation).
func (b *baseline) signedURL(id, key string) string {
	now := time.Now().UTC().Format("20060102T150405Z")
	path := "/" + id + "/" + key
	query := "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=corslab%2F" + now[:8] + "%2Fus-east-1%2Fs3%2Faws4_request" +
		"&X-Amz-Date=" + now + "&X-Amz-Expires=900&X-Amz-SignedHeaders=host&x-id=GetObject"
	mac := hmac.New(sha256.New, b.key)
	io.WriteString(mac, path+"?"+query)
	return b.base[roleS3] + path + "?" + query + "&X-Amz-Signature=" + hex.EncodeToString(mac.Sum(nil))
}

// The s3 origin: the one object, with the headers corslab's fake S3 sends
// for the learners' bucket rule (Origin null may GET).
func (b *baseline) serveObject(w http.ResponseWriter, r *http.Request, s *blSession, key string, _ []byte) {
	r.URL.Query() // parsed, not checked
	s3 := []string{
		"Access-Control-Allow-Credentials", "true", "Access-Control-Allow-Methods", "GET", "Access-Control-Allow-Origin", "null",
		"Cache-Control", "no-store", "Server", "AmazonS3", "Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
		"X-Amz-Id-2", "LMHwvgiF36aaxUg0pterVqGg7QGjXuzBGodY1Ofa6X8=", "X-Amz-Request-Id", fmt.Sprintf("%016X", b.s3IDs.Add(1)),
	}
	switch {
	case r.Method == http.MethodOptions:
		blReply(w, http.StatusOK, nil, s3...)
	case r.Method == http.MethodGet && key == blObjectKey:
		blReply(w, http.StatusOK, []byte(blObjectBody), append(s3, "Accept-Ranges", "bytes", "Content-Type", "text/plain",
			"Etag", `"97c94d3460e27d645853df55996241cb"`)...)
	default:
		blReply(w, http.StatusNotFound, []byte("NoSuchKey\n"), s3...)
	}
}

// captured serves a request under a session's path on a virtual origin,
// and sends the exchange to the session's websockets. Requests outside a
// live session's path are answered 404 and not recorded, as corslab does.
func (b *baseline) captured(origin string, serve func(http.ResponseWriter, *http.Request, *blSession, string, []byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		s := b.session(id)
		if s == nil {
			http.NotFound(w, r)
			return
		}
		start := time.Now()
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, blMaxBody))
		if err != nil {
			blError(w, http.StatusRequestEntityTooLarge, err.Error())
			return
		}
		rec := &blRecorder{ResponseWriter: w}
		serve(rec, r, s, rest, body)
		ex := rec.exchange(origin, r, body, start)
		s.mu.Lock()
		s.seq++
		ex.Seq = s.seq
		frame, err := blEncodeFrame(`{"type":"exchange","exchange":`, ex)
		if err == nil {
			s.exchanges[s.seq%blReplayExchanges] = blFrame{s.seq, frame}
			s.fanOut(frame)
		}
		s.mu.Unlock()
	})
}

// blEncodeFrame encodes v as a websocket frame that starts with prefix, as
// corslab does: without escaping <, > and & as \u003c…
func blEncodeFrame(prefix string, v any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(prefix)
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return append(bytes.TrimSuffix(b.Bytes(), []byte("\n")), '}'), nil
}

// blExchange is an exchange, field for field as corslab's capture.Exchange.
type blExchange struct {
	Seq        uint64    `json:"seq"`
	Origin     string    `json:"origin"`
	Kind       string    `json:"kind"`
	Client     string    `json:"client"`
	Start      time.Time `json:"start"`
	DurationMs float64   `json:"durationMs"`
	Request    blMessage `json:"request"`
	Response   blMessage `json:"response"`
	Raw        struct {
		Request  string `json:"request"`
		Response string `json:"response"`
	} `json:"raw"`
}

type blMessage struct {
	Method        string      `json:"method,omitempty"`
	Target        string      `json:"target,omitempty"`
	Proto         string      `json:"proto"`
	Status        int         `json:"status,omitempty"`
	Reason        string      `json:"reason,omitempty"`
	Headers       [][2]string `json:"headers"`
	Body          string      `json:"body"`
	BodySize      int64       `json:"bodySize"`
	BodyTruncated bool        `json:"bodyTruncated"`
	BodyEncoding  string      `json:"bodyEncoding"`
}

// blRecorder keeps the status and the first blMaxCaptured bytes of the body.
type blRecorder struct {
	http.ResponseWriter
	status int
	body   []byte
	size   int64
}

func (w *blRecorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *blRecorder) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.size += int64(len(p))
	w.body = append(w.body, p[:min(len(p), blMaxCaptured-len(w.body))]...)
	return w.ResponseWriter.Write(p)
}

// exchange is the request and the response as text and as parsed headers,
// rebuilt from the parsed request and the headers the handler set: names
// in canonical case and sorted, the order Go's server writes them in.
func (w *blRecorder) exchange(origin string, r *http.Request, body []byte, start time.Time) *blExchange {
	now := time.Now()
	ex := &blExchange{Origin: origin, Client: r.RemoteAddr, Start: start, DurationMs: float64(now.Sub(start).Microseconds()) / 1000}
	ex.Request = blMessage{Method: r.Method, Target: r.RequestURI, Proto: r.Proto,
		Headers: append([][2]string{{"Host", r.Host}}, blHeaders(r.Header)...)}
	blSetBody(&ex.Request, body, int64(len(body)))
	status := cmp.Or(w.status, http.StatusOK)
	h := w.Header().Clone()
	h.Set("Date", now.UTC().Format(http.TimeFormat))
	ex.Response = blMessage{Proto: r.Proto, Status: status, Reason: http.StatusText(status), Headers: blHeaders(h)}
	blSetBody(&ex.Response, w.body, w.size)
	ex.Raw.Request = blHead(r.Method+" "+r.RequestURI+" "+r.Proto, ex.Request.Headers) + ex.Request.Body
	ex.Raw.Response = blHead(r.Proto+" "+strconv.Itoa(status)+" "+ex.Response.Reason, ex.Response.Headers) + ex.Response.Body
	_, hasOrigin := r.Header["Origin"]
	switch {
	case r.Method == http.MethodOptions && hasOrigin && r.Header.Get("Access-Control-Request-Method") != "":
		ex.Kind = "preflight"
	case status >= 300 && status < 400:
		ex.Kind = "redirect"
	case hasOrigin:
		ex.Kind = "cors"
	default:
		ex.Kind = "no-origin"
	}
	return ex
}

func blHeaders(h http.Header) [][2]string {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	slices.Sort(names)
	pairs := make([][2]string, 0, len(names))
	for _, name := range names {
		for _, v := range h[name] {
			pairs = append(pairs, [2]string{name, v})
		}
	}
	return pairs
}

func blHead(start string, headers [][2]string) string {
	var b strings.Builder
	b.WriteString(start)
	b.WriteString("\r\n")
	for _, kv := range headers {
		b.WriteString(kv[0])
		b.WriteString(": ")
		b.WriteString(kv[1])
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

func blSetBody(m *blMessage, body []byte, size int64) {
	m.BodySize, m.BodyTruncated = size, int64(len(body)) < size
	if utf8.Valid(body) {
		m.Body = string(body)
		return
	}
	m.Body, m.BodyEncoding = base64.StdEncoding.EncodeToString(body), "base64"
}

// blReply answers with status, headers given as name, value, … in
// canonical case, a Content-Length, and body.
func blReply(w http.ResponseWriter, status int, body []byte, headers ...string) {
	h := w.Header()
	for i := 0; i+1 < len(headers); i += 2 {
		h[headers[i]] = []string{headers[i+1]}
	}
	if status != http.StatusNoContent {
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
	}
	w.WriteHeader(status)
	w.Write(body)
}

func blWriteJSON(w http.ResponseWriter, status int, v any) {
	doc, err := json.Marshal(v)
	if err != nil {
		blError(w, http.StatusInternalServerError, err.Error())
		return
	}
	blReply(w, status, doc, "Content-Type", "application/json", "Cache-Control", "no-store")
}

func blError(w http.ResponseWriter, status int, msg string) {
	doc, _ := json.Marshal(map[string]string{"error": msg})
	blReply(w, status, doc, "Content-Type", "application/json")
}

func blReadBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, blMaxBody))
	if err != nil {
		blError(w, http.StatusRequestEntityTooLarge, err.Error())
		return nil, false
	}
	return body, true
}

// blReadJSON reads a body that must parse as JSON (an empty one is {}); it
// checks nothing else.
func blReadJSON(w http.ResponseWriter, r *http.Request) (json.RawMessage, bool) {
	body, ok := blReadBody(w, r)
	if !ok {
		return nil, false
	}
	if len(body) == 0 {
		return json.RawMessage("{}"), true
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		blError(w, http.StatusBadRequest, err.Error())
		return nil, false
	}
	return body, true
}

// serveBaseline serves the baseline on ls, one listener a role in roles'
// order, until ctx is done or one of them fails.
func serveBaseline(ctx context.Context, ls [5]net.Listener) error {
	var base [5]string
	for i, l := range ls {
		base[i] = "http://" + l.Addr().String()
	}
	b := newBaseline(base)
	errc := make(chan error, len(ls))
	var servers []*http.Server
	for i, l := range ls {
		srv := &http.Server{Handler: b.handler(i), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
		servers = append(servers, srv)
		go func() { errc <- srv.Serve(l) }()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	for _, srv := range servers {
		srv.Close()
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// baselineServerMain is the sub-command "baseline-server": the baseline on
// ports N to N+4 of a loopback address, until SIGTERM or Ctrl-C. -baseline
// starts it as a child, as it starts corslab; it can also be started by
// hand and tested with -target.
func baselineServerMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadtest baseline-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	port := fs.Int("port", 9000, "`port` of the ui origin; app, api, s3 and evil take the next four")
	listen := fs.String("listen", "127.0.0.1", "loopback `address` to listen on")
	pprofAddr := fs.String("pprof", "", "serve Go's profiler on this loopback `address`, as corslab's --pprof (its heap?debug=1 gives the allocation counters)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: go run ./cmd/loadtest baseline-server [flags]\n\nThe minimal server -baseline compares corslab with (baseline_server.go).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(err error) int { fmt.Fprintln(stderr, "loadtest baseline-server:", err); return 2 }
	if ip := net.ParseIP(*listen); ip == nil || !ip.IsLoopback() {
		return fail(fmt.Errorf("--listen: must be a loopback address, got %q", *listen))
	}
	if *port < 1 || *port > 65535-4 {
		return fail(fmt.Errorf("--port: must be from 1 to 65531, got %d", *port))
	}
	var ls [5]net.Listener
	for i := range ls {
		l, err := net.Listen("tcp", net.JoinHostPort(*listen, strconv.Itoa(*port+i)))
		if err != nil {
			for _, l := range ls[:i] {
				l.Close()
			}
			return fail(err)
		}
		ls[i] = l
	}
	if *pprofAddr != "" {
		host, _, err := net.SplitHostPort(*pprofAddr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			return fail(fmt.Errorf("--pprof: must be a loopback address with a port, got %q", *pprofAddr))
		}
		l, err := net.Listen("tcp", *pprofAddr)
		if err != nil {
			return fail(err)
		}
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(l)
		defer srv.Close()
	}
	for i, l := range ls {
		fmt.Fprintf(stdout, "  %-4s  http://%s\n", roles[i], l.Addr())
	}
	if err := serveBaseline(ctx, ls); err != nil {
		return fail(err)
	}
	return 0
}
