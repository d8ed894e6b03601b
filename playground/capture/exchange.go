package capture

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/corslab/corslab/playground/jsonw"
)

// noResponse stands for the raw response of an exchange whose connection
// closed before the server wrote one; its status is 0.
const noResponse = "[no response: the connection closed before the server answered]"

// MaxBody is how much of each request and response body an exchange keeps.
const MaxBody = 64 << 10

// Kinds of exchange, from the server's point of view.
const (
	KindPreflight  = "preflight"   // OPTIONS with Origin and Access-Control-Request-Method
	KindCORS       = "cors"        // carries an Origin other than the server's own
	KindSameOrigin = "same-origin" // Origin is the server's own, or Sec-Fetch-Site says so
	KindNoOrigin   = "no-origin"   // no Origin header: a navigation, curl, an <img>…
	KindRedirect   = "redirect"    // answered with a 3xx and a Location
)

// An Exchange is one request and its response, as they crossed the wire.
type Exchange struct {
	Seq        uint64    `json:"seq"` // set by the session that records it
	Origin     string    `json:"origin"`
	Kind       string    `json:"kind"`
	Client     string    `json:"client"`
	Start      time.Time `json:"start"`
	DurationMs float64   `json:"durationMs"` // until the response head was written
	Request    Message   `json:"request"`
	Response   Message   `json:"response"`
	Raw        Raw       `json:"raw"`
}

// A Message is one side of an exchange.
type Message struct {
	Method string `json:"method,omitempty"`
	Target string `json:"target,omitempty"`
	Proto  string `json:"proto"`
	Status int    `json:"status,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Headers are [name, value] pairs in wire order and letter case.
	Headers       [][2]string `json:"headers"`
	Body          string      `json:"body"`
	BodySize      int64       `json:"bodySize"`
	BodyTruncated bool        `json:"bodyTruncated"`
	// BodyEncoding is "base64" when the body is not UTF-8 text.
	BodyEncoding string `json:"bodyEncoding"`
	// BodyDropped is set when corslab dropped the body later, to stay
	// within its memory budget; BodySize still says how large it was.
	BodyDropped bool `json:"bodyDropped,omitempty"`

	// head is the raw head Headers were cut from, when capture parsed one:
	// a session keeps it rather than the list (Kept).
	head string
}

// BodyDropped stands for a body dropped to stay within the memory budget.
const BodyDropped = "[body dropped by corslab to keep the class running]"

// Header returns the first value of the named header, compared without
// regard to case, and whether it was present.
func (m *Message) Header(name string) (string, bool) {
	for _, h := range m.Headers {
		if strings.EqualFold(h[0], name) {
			return h[1], true
		}
	}
	return "", false
}

// Raw is the exchange as HTTP/1.1 text: the heads byte for byte, then the
// captured body.
type Raw struct {
	Request  string `json:"request"`
	Response string `json:"response"`
}

// Start begins recording the exchange for r. The caller serves the request
// with the returned writer and request, then calls finish (defer it). publish
// is called exactly once with the finished exchange: when the response head
// has reached the connection, which for most responses happens just after
// the handler returns, or when the connection closes.
func Start(w http.ResponseWriter, r *http.Request, origin string, publish func(*Exchange)) (http.ResponseWriter, *http.Request, func()) {
	rec := &recording{
		publish: publish,
		origin:  origin,
		start:   time.Now(),
		r:       r,
		w:       &responseWriter{ResponseWriter: w},
		body:    &requestBody{ReadCloser: r.Body},
	}
	tc := connFrom(r.Context())
	if tc != nil {
		rec.reqHead = tc.takeRequestHead(r.Method, r.RequestURI)
		tc.awaitResponse(rec)
	} else {
		rec.headIn = true // no tap: the head is rebuilt at finish
		rec.w.rebuild = true
	}
	if r.Body != nil && r.Body != http.NoBody {
		r2 := *r
		r2.Body = rec.body
		r = &r2
	}
	return rec.w, r, rec.finish
}

// recording is an exchange in progress. It is published once both the
// handler has finished and the response head was written (or the connection
// closed): whichever comes last.
type recording struct {
	publish func(*Exchange)
	origin  string
	start   time.Time
	r       *http.Request
	w       *responseWriter
	body    *requestBody
	reqHead []byte
	// onFrame receives the connection's WebSocket frames once it switched
	// (TapWebSocket); set under the conn's mu while this is its waiting
	// recording.
	onFrame func(*Frame)

	mu          sync.Mutex
	respHead    []byte
	headAt      time.Time
	headIn      bool // the head was written, or never will be
	noResponse  bool // the connection closed without a response
	handlerDone bool
	// switched is set by a 101 head: the handler goes on serving the new
	// protocol (a WebSocket) for as long as it lasts, and the exchange is
	// published without waiting for it.
	switched  bool
	published bool
}

// headWritten is called when the response head reached the connection. It
// returns the exchange if this published it.
func (rec *recording) headWritten(head []byte) *Exchange {
	return rec.settle(func() {
		rec.respHead, rec.headIn, rec.headAt = head, true, time.Now()
		rec.switched = isSwitch(head)
	})
}

// connClosed is called when the connection closed before a response head
// was written: the client went away, or the handler aborted.
func (rec *recording) connClosed() {
	rec.settle(func() {
		rec.noResponse, rec.headIn, rec.headAt = true, true, time.Now()
	})
}

// finish is called when the handler has returned.
func (rec *recording) finish() {
	rec.body.drain(rec.r)
	rec.settle(func() {
		rec.handlerDone = true
		if rec.headAt.IsZero() {
			rec.headAt = time.Now()
		}
	})
}

// settle records progress with mark, and publishes the exchange once, as
// soon as both the handler is done (or has switched protocols) and the head
// is in. It returns the exchange if it published it.
func (rec *recording) settle(mark func()) *Exchange {
	rec.mu.Lock()
	mark()
	ready := (rec.handlerDone || rec.switched) && rec.headIn && !rec.published
	rec.published = rec.published || ready
	rec.mu.Unlock()
	if !ready {
		return nil
	}
	ex := rec.exchange()
	rec.publish(ex)
	return ex
}

func (rec *recording) exchange() *Exchange {
	r := rec.r
	ex := &Exchange{
		Origin:     rec.origin,
		Client:     r.RemoteAddr,
		Start:      rec.start,
		DurationMs: float64(rec.headAt.Sub(rec.start).Microseconds()) / 1000,
	}

	reqHead := rec.reqHead
	if reqHead == nil {
		reqHead = rebuildRequestHead(r)
	}
	ex.Request = parseHead(reqHead)
	ex.Request.Method, ex.Request.Target = r.Method, r.RequestURI
	setBody(&ex.Request, rec.body.buf.Bytes(), rec.body.size(r))

	// The raw text shares the head's string: without a body, it is it.
	ex.Raw.Request = ex.Request.head + rawBody(&ex.Request)
	if rec.noResponse {
		ex.Response = Message{Proto: r.Proto, Headers: [][2]string{}}
		ex.Raw.Response = noResponse
	} else {
		respHead := rec.respHead
		if respHead == nil {
			respHead = rec.w.rebuildHead(r.Proto)
		}
		ex.Response = parseHead(respHead)
		setBody(&ex.Response, rec.w.buf.Bytes(), rec.w.size)
		ex.Raw.Response = ex.Response.head + rawBody(&ex.Response)
	}
	ex.Kind = classify(r, ex.Response.Status)
	return ex
}

// classify names the kind of exchange. The preflight test follows
// fetch.spec.whatwg.org/#cors-preflight-fetch; same-origin requests carry
// Origin only for unsafe methods, so Sec-Fetch-Site also counts.
func classify(r *http.Request, status int) string {
	origin, hasOrigin := r.Header["Origin"]
	switch {
	case r.Method == http.MethodOptions && hasOrigin && r.Header.Get("Access-Control-Request-Method") != "":
		return KindPreflight
	case status >= 300 && status < 400 && status != http.StatusNotModified:
		return KindRedirect
	case hasOrigin && len(origin) > 0 && origin[0] == "http://"+r.Host:
		return KindSameOrigin
	case hasOrigin:
		return KindCORS
	case r.Header.Get("Sec-Fetch-Site") == "same-origin":
		return KindSameOrigin
	default:
		return KindNoOrigin
	}
}

// parseHead splits a raw message head into its start line and headers,
// keeping their order and case.
func parseHead(head []byte) Message { return parseHeadText(string(head)) }

// parseHeadText is parseHead of a head already in a string, whose
// substrings the headers are.
func parseHeadText(head string) Message {
	m := Message{head: head}
	text := strings.TrimRight(head, "\r\n")
	start, text, _ := strings.Cut(text, "\n")
	start = strings.TrimSuffix(start, "\r")
	if strings.HasPrefix(start, "HTTP/") {
		proto, rest, _ := strings.Cut(start, " ")
		code, reason, _ := strings.Cut(rest, " ")
		m.Proto, m.Reason = proto, reason
		m.Status, _ = strconv.Atoi(code)
	} else if i := strings.LastIndexByte(start, ' '); i >= 0 {
		m.Proto = start[i+1:]
	}
	m.Headers = make([][2]string, 0, strings.Count(text, "\n")+1)
	for line := range strings.Lines(text) {
		name, value, ok := strings.Cut(strings.TrimRight(line, "\r\n"), ":")
		if !ok {
			continue
		}
		m.Headers = append(m.Headers, [2]string{name, strings.TrimSpace(value)})
	}
	return m
}

func setBody(m *Message, body []byte, size int64) {
	m.BodySize = size
	m.BodyTruncated = int64(len(body)) < size
	if utf8.Valid(body) || (m.BodyTruncated && utf8.Valid(trimPartialRune(body))) {
		m.Body = string(body)
		return
	}
	m.Body = base64.StdEncoding.EncodeToString(body)
	m.BodyEncoding = "base64"
}

// trimPartialRune drops a multi-byte character cut in half by truncation.
func trimPartialRune(b []byte) []byte {
	for i := 0; i < utf8.UTFMax && i < len(b); i++ {
		if utf8.Valid(b[:len(b)-i]) {
			return b[:len(b)-i]
		}
	}
	return b
}

func rawBody(m *Message) string {
	switch {
	case m.BodySize == 0:
		return ""
	case m.BodyEncoding == "base64":
		return fmt.Sprintf("[%d bytes of binary data]", m.BodySize)
	case m.BodyTruncated:
		return m.Body + fmt.Sprintf("\n[… body truncated: %d of %d bytes shown]", len(m.Body), m.BodySize)
	default:
		return m.Body
	}
}

// rebuildRequestHead stands in for the raw head when the request did not
// come through a tapped connection (tests with httptest.NewRecorder). Names
// are canonical and sorted: the wire order is not known.
func rebuildRequestHead(r *http.Request) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s %s\r\nHost: %s\r\n", r.Method, r.RequestURI, r.Proto, r.Host)
	writeHeader(&b, r.Header)
	b.WriteString("\r\n")
	return b.Bytes()
}

func writeHeader(b *bytes.Buffer, h http.Header) {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, v := range h[name] {
			fmt.Fprintf(b, "%s: %s\r\n", name, v)
		}
	}
}

// requestBody keeps the first MaxBody bytes the handler reads.
type requestBody struct {
	io.ReadCloser
	buf     bytes.Buffer
	read    int64
	touched bool
}

func (b *requestBody) Read(p []byte) (int, error) {
	b.touched = true
	n, err := b.ReadCloser.Read(p)
	b.keep(p[:n])
	return n, err
}

func (b *requestBody) keep(p []byte) {
	b.read += int64(len(p))
	if room := MaxBody - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(room, len(p))])
	}
}

// drain reads what the handler left of the body, up to the capture limit, so
// that the exchange shows the body even when the handler ignored it. A
// client waiting for 100 Continue is not prompted: the handler chose not to.
func (b *requestBody) drain(r *http.Request) {
	if b.ReadCloser == nil || b.ReadCloser == http.NoBody {
		return
	}
	if !b.touched && strings.EqualFold(r.Header.Get("Expect"), "100-continue") {
		return
	}
	io.Copy(io.Discard, io.LimitReader(b, MaxBody+1-b.read))
}

func (b *requestBody) size(r *http.Request) int64 {
	return max(b.read, r.ContentLength)
}

// responseWriter keeps the status, a copy of the headers as first written,
// and the first MaxBody bytes of the body.
type responseWriter struct {
	http.ResponseWriter
	status int
	// header is the header as the head was written, for rebuildHead; kept
	// only when rebuild is set: on a tapped connection the head itself is
	// read off the wire.
	header  http.Header
	rebuild bool
	buf     bytes.Buffer
	size    int64
}

func (w *responseWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
		if w.rebuild {
			w.header = w.ResponseWriter.Header().Clone()
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(p)
	// Only what reached the connection counts: net/http refuses a body for
	// a 304 or 204 answer, or on HEAD, with an error.
	w.size += int64(n)
	if room := MaxBody - w.buf.Len(); room > 0 {
		w.buf.Write(p[:min(room, n)])
	}
	return n, err
}

// ReadFrom copies a body through Write in a pooled buffer. Without it,
// io.Copy into the writer (gofakes3 serves every object so) allocates 32
// KiB for each response, however small the object.
func (w *responseWriter) ReadFrom(src io.Reader) (int64, error) {
	buf := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(buf)
	// writerOnly hides ReadFrom, or io.CopyBuffer would call it again.
	return io.CopyBuffer(writerOnly{w}, src, *buf)
}

type writerOnly struct{ io.Writer }

// copyBuffers are ReadFrom's buffers: scratch memory shared by every
// exchange, holding nothing between calls.
var copyBuffers = sync.Pool{New: func() any {
	b := make([]byte, 32<<10)
	return &b
}}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush passes flushes through, for handlers that check for http.Flusher.
func (w *responseWriter) Flush() { http.NewResponseController(w.ResponseWriter).Flush() }

// rebuildHead stands in for the raw response head when none reached the
// connection.
func (w *responseWriter) rebuildHead(proto string) []byte {
	status, h := w.status, w.header
	if status == 0 {
		status, h = http.StatusOK, w.ResponseWriter.Header()
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %d %s\r\n", proto, status, http.StatusText(status))
	writeHeader(&b, h)
	b.WriteString("\r\n")
	return b.Bytes()
}

// AppendJSON appends ex as JSON, exactly as encoding/json would write it
// without HTML escaping, and much faster: every request corslab captures
// is encoded once, for its frame.
func (ex *Exchange) AppendJSON(b []byte) []byte {
	b = append(b, '{')
	b = jsonw.Uint(jsonw.Key(b, "seq"), ex.Seq)
	b = jsonw.String(jsonw.Key(b, "origin"), ex.Origin)
	b = jsonw.String(jsonw.Key(b, "kind"), ex.Kind)
	b = jsonw.String(jsonw.Key(b, "client"), ex.Client)
	b = jsonw.Time(jsonw.Key(b, "start"), ex.Start)
	b = jsonw.Float(jsonw.Key(b, "durationMs"), ex.DurationMs)
	b = ex.Request.appendJSON(jsonw.Key(b, "request"))
	b = ex.Response.appendJSON(jsonw.Key(b, "response"))
	b = append(jsonw.Key(b, "raw"), '{')
	b = jsonw.String(jsonw.Key(b, "request"), ex.Raw.Request)
	b = jsonw.String(jsonw.Key(b, "response"), ex.Raw.Response)
	return append(b, '}', '}')
}

func (m *Message) appendJSON(b []byte) []byte {
	b = append(b, '{')
	if m.Method != "" {
		b = jsonw.String(jsonw.Key(b, "method"), m.Method)
	}
	if m.Target != "" {
		b = jsonw.String(jsonw.Key(b, "target"), m.Target)
	}
	b = jsonw.String(jsonw.Key(b, "proto"), m.Proto)
	if m.Status != 0 {
		b = jsonw.Int(jsonw.Key(b, "status"), int64(m.Status))
	}
	if m.Reason != "" {
		b = jsonw.String(jsonw.Key(b, "reason"), m.Reason)
	}
	b = jsonw.Pairs(jsonw.Key(b, "headers"), m.Headers)
	b = jsonw.String(jsonw.Key(b, "body"), m.Body)
	b = jsonw.Int(jsonw.Key(b, "bodySize"), m.BodySize)
	b = jsonw.Bool(jsonw.Key(b, "bodyTruncated"), m.BodyTruncated)
	b = jsonw.String(jsonw.Key(b, "bodyEncoding"), m.BodyEncoding)
	if m.BodyDropped {
		b = jsonw.Bool(jsonw.Key(b, "bodyDropped"), true)
	}
	return append(b, '}')
}
