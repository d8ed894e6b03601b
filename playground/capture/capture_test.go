package capture

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// serve starts a server whose connections are tapped and returns its address
// and the channel exchanges are published on, numbered from 1 as a session
// numbers them.
func serve(t *testing.T, h http.Handler) (string, <-chan *Exchange) {
	t.Helper()
	got := make(chan *Exchange, 16)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var seq atomic.Uint64
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w, r, finish := Start(w, r, "api", func(ex *Exchange) { ex.Seq = seq.Add(1); got <- ex })
			defer finish()
			h.ServeHTTP(w, r)
		}),
		ConnContext:    ConnContext,
		MaxHeaderBytes: MaxHeaderBytes,
	}
	go srv.Serve(NewListener(ln))
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), got
}

func next(t *testing.T, got <-chan *Exchange) *Exchange {
	t.Helper()
	select {
	case ex := <-got:
		return ex
	case <-time.After(5 * time.Second):
		t.Fatal("no exchange published")
		return nil
	}
}

// roundTrip writes raw bytes on conn and reads one response.
func roundTrip(t *testing.T, c net.Conn, br *bufio.Reader, raw string, method string) *http.Response {
	t.Helper()
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func TestCaptureKeepsWireOrderAndCase(t *testing.T) {
	addr, got := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "http://a.test")
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		io.WriteString(w, `{"ok":true}`)
	}))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)

	// A preflight, then the actual request on the same keep-alive connection.
	roundTrip(t, c, br, "OPTIONS /s1/users HTTP/1.1\r\nhost: "+addr+"\r\nORIGIN: http://a.test\r\naccess-control-request-method: PUT\r\nAccess-Control-Request-Headers: x-user-id\r\n\r\n", "OPTIONS")
	pre := next(t, got)
	roundTrip(t, c, br, "PUT /s1/users?x=1 HTTP/1.1\r\nHost: "+addr+"\r\nX-User-Id: 11\r\norigin: http://a.test\r\nContent-Length: 5\r\n\r\nhello", "PUT")
	put := next(t, got)

	tests := []struct {
		desc string
		got  any
		want any
	}{
		{"preflight kind", pre.Kind, KindPreflight},
		{"preflight first header keeps lower case", pre.Request.Headers[0], [2]string{"host", addr}},
		{"preflight Origin keeps upper case", pre.Request.Headers[1], [2]string{"ORIGIN", "http://a.test"}},
		{"preflight status", pre.Response.Status, 204},
		{"preflight reason", pre.Response.Reason, "No Content"},
		{"raw request line", strings.SplitN(pre.Raw.Request, "\r\n", 2)[0], "OPTIONS /s1/users HTTP/1.1"},
		{"put kind", put.Kind, KindCORS},
		{"put target keeps query", put.Request.Target, "/s1/users?x=1"},
		{"put headers in wire order", put.Request.Headers[1], [2]string{"X-User-Id", "11"}},
		{"put origin lower case", put.Request.Headers[2], [2]string{"origin", "http://a.test"}},
		{"put body captured", put.Request.Body, "hello"},
		{"raw request ends with body", strings.HasSuffix(put.Raw.Request, "\r\n\r\nhello"), true},
		{"response body", put.Response.Body, `{"ok":true}`},
		{"raw response starts with status line", strings.HasPrefix(put.Raw.Response, "HTTP/1.1 200 OK\r\n"), true},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.desc, tt.got, tt.want)
		}
	}
	// The response head is what Go wrote, server-added headers included.
	for _, name := range []string{"Access-Control-Allow-Origin", "Content-Type", "Content-Length", "Date"} {
		if _, ok := put.Response.Header(name); !ok {
			t.Errorf("response headers %v lack %s", put.Response.Headers, name)
		}
	}
}

func TestCaptureBodies(t *testing.T) {
	big := strings.Repeat("a", MaxBody+100)
	addr, got := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			io.WriteString(w, big)
		case "/binary":
			w.Write([]byte{0xff, 0xd8, 0xff, 0x00})
		case "/ignore":
			w.WriteHeader(http.StatusAccepted) // never reads the request body
		}
	}))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)

	roundTrip(t, c, br, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
	ex := next(t, got)
	if !ex.Response.BodyTruncated || len(ex.Response.Body) != MaxBody || ex.Response.BodySize != int64(len(big)) {
		t.Errorf("big body: truncated=%v len=%d size=%d", ex.Response.BodyTruncated, len(ex.Response.Body), ex.Response.BodySize)
	}
	if !strings.Contains(ex.Raw.Response, "body truncated") {
		t.Errorf("raw response does not mark the truncation")
	}

	roundTrip(t, c, br, "GET /binary HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
	ex = next(t, got)
	if ex.Response.BodyEncoding != "base64" || ex.Response.Body != "/9j/AA==" {
		t.Errorf("binary body: encoding %q body %q", ex.Response.BodyEncoding, ex.Response.Body)
	}

	roundTrip(t, c, br, "POST /ignore HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", "POST")
	ex = next(t, got)
	if ex.Request.Body != "abc" {
		t.Errorf("an unread request body was not captured: %q", ex.Request.Body)
	}
	// The connection is still usable, and the next head is found after the body.
	roundTrip(t, c, br, "GET /binary HTTP/1.1\r\nHost: x\r\nX-Next: 1\r\n\r\n", "GET")
	ex = next(t, got)
	if v, _ := ex.Request.Header("x-next"); v != "1" {
		t.Errorf("next request after an unread body: headers %v", ex.Request.Headers)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		desc    string
		method  string
		headers map[string]string
		status  int
		want    string
	}{
		{"preflight", "OPTIONS", map[string]string{"Origin": "http://a", "Access-Control-Request-Method": "PUT"}, 204, KindPreflight},
		{"plain OPTIONS with an Origin is not a preflight", "OPTIONS", map[string]string{"Origin": "http://a"}, 204, KindCORS},
		{"redirect", "GET", map[string]string{"Origin": "http://a"}, 302, KindRedirect},
		{"not modified is no redirect", "GET", nil, 304, KindNoOrigin},
		{"null origin is cross-origin", "GET", map[string]string{"Origin": "null"}, 200, KindCORS},
		{"own origin", "POST", map[string]string{"Origin": "http://api.test:8082"}, 200, KindSameOrigin},
		{"same-origin GET sends no Origin", "GET", map[string]string{"Sec-Fetch-Site": "same-origin"}, 200, KindSameOrigin},
		{"curl", "GET", nil, 200, KindNoOrigin},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, "http://api.test:8082/s/users", nil)
		for k, v := range tt.headers {
			r.Header.Set(k, v)
		}
		if got := classify(r, tt.status); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.desc, got, tt.want)
		}
	}
}

func TestStartWithoutTap(t *testing.T) {
	var ex *Exchange
	r := httptest.NewRequest("GET", "/s/users", nil)
	r.Header.Set("Origin", "http://a")
	w, r, finish := Start(httptest.NewRecorder(), r, "api", func(e *Exchange) { ex = e })
	w.Header().Set("X-A", "1")
	w.WriteHeader(http.StatusTeapot)
	finish()
	if ex == nil {
		t.Fatal("not published")
	}
	if ex.Response.Status != http.StatusTeapot || !strings.Contains(ex.Raw.Response, "X-A: 1") {
		t.Errorf("rebuilt response: %q", ex.Raw.Response)
	}
	if v, _ := ex.Request.Header("Origin"); v != "http://a" {
		t.Errorf("rebuilt request headers: %v", ex.Request.Headers)
	}
}

func TestAppendBounded(t *testing.T) {
	b := appendBounded(nil, []byte("abcdef"), 4)
	if string(b) != "cdef" {
		t.Errorf("got %q", b)
	}
	b = appendBounded(b, []byte("gh"), 4)
	if string(b) != "efgh" {
		t.Errorf("got %q", b)
	}
}

func TestCaptureWhenNoResponseIsWritten(t *testing.T) {
	addr, got := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Started", "1")
		panic(http.ErrAbortHandler) // the server drops the connection, writing nothing
	}))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /gone HTTP/1.1\r\nHost: x\r\nX-Mine: 1\r\n\r\n")
	ex := next(t, got)
	if v, _ := ex.Request.Header("X-Mine"); v != "1" || ex.Request.Target != "/gone" {
		t.Errorf("request %v", ex.Request.Headers)
	}
	if ex.Response.Status != 0 || ex.Raw.Response != noResponse {
		t.Errorf("no response was written, yet the exchange shows %d %q", ex.Response.Status, ex.Raw.Response)
	}
}

// A request after a body on the same connection keeps its raw head. A body
// need not end a line (JSON does not), and it may hold what looks like the
// next request line: neither may cost the next request its raw head.
func TestCaptureRawHeadAfterABody(t *testing.T) {
	addr, got := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/unread" {
			return // Go's server reads and drops the body itself
		}
		io.Copy(io.Discard, r.Body)
	}))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)

	fake := "x\r\nGET /next HTTP/1.1\r\nhost: fake\r\n\r\n" // a request line inside a body
	bodies := []struct {
		desc, request string
	}{
		{"a JSON body", "PUT /users/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n{\"a\":\"ada\"}"},
		{"an unread body", "PUT /unread HTTP/1.1\r\nHost: x\r\ncontent-length: 3\r\n\r\nabc"},
		{"a body holding a request line", "POST /users HTTP/1.1\r\nHost: x\r\nContent-Length: " + strconv.Itoa(len(fake)) + "\r\n\r\n" + fake},
		{"a chunked body", "POST /users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
	}
	for _, b := range bodies {
		method, _, _ := strings.Cut(b.request, " ")
		roundTrip(t, c, br, b.request, method)
		next(t, got)
		const head = "GET /next HTTP/1.1\r\nhost: real\r\nx-after: " + "1\r\nACCEPT: */*\r\n\r\n"
		roundTrip(t, c, br, head, "GET")
		if ex := next(t, got); ex.Raw.Request != head {
			t.Errorf("after %s, the next request's raw head is\n%q\nwant what was sent\n%q", b.desc, ex.Raw.Request, head)
		}
	}
}
