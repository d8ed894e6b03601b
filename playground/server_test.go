package playground

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/corslab/corslab/playground/capture"
	"github.com/corslab/corslab/playground/origins"
)

// startServer runs a corslab on free loopback ports until the test ends.
func startServer(t testing.TB, maxSessions int) *Server {
	t.Helper()
	return startServerWith(t, Config{
		Listen: "127.0.0.1", MaxSessions: maxSessions, SessionIdle: time.Hour,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
}

// startServerWith serves cfg until the test ends.
func startServerWith(t testing.TB, cfg Config) *Server {
	t.Helper()
	srv, err := Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return srv
}

func (s *Server) testURL(r Role) string {
	return "http://127.0.0.1:" + strconv.Itoa(s.Port(r))
}

// createSession posts a scenario to the JSON API and decodes the answer.
func createSession(t testing.TB, srv *Server, body string) sessionJSON {
	t.Helper()
	resp, err := http.Post(srv.testURL(UI)+"/api/sessions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("POST /api/sessions: %d %s", resp.StatusCode, b)
	}
	var s sessionJSON
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// rawRequest sends raw bytes to an origin on a fresh connection and returns
// the response status.
func rawRequest(t testing.TB, addr, raw string) int {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, raw)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

type frame struct {
	Type     string           `json:"type"`
	Exchange capture.Exchange `json:"exchange"`
}

func dialWS(t testing.TB, srv *Server, id, query string) *websocket.Conn {
	t.Helper()
	u := fmt.Sprintf("ws://127.0.0.1:%d/api/sessions/%s/ws?%s", srv.Port(UI), id, query)
	c, _, err := websocket.DefaultDialer.Dial(u, http.Header{"Origin": {srv.testURL(UI)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func readFrame(t testing.TB, c *websocket.Conn) frame {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var f frame
	if err := c.ReadJSON(&f); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestWebsocketStreamsRawExchanges(t *testing.T) {
	srv := startServer(t, 10)
	sess := createSession(t, srv, `{"api": {"allowOrigin": "echo"}}`)
	ws := dialWS(t, srv, sess.ID, "since=0")

	api := "127.0.0.1:" + strconv.Itoa(srv.Port(API))
	status := rawRequest(t, api, "GET /"+sess.ID+"/users HTTP/1.1\r\nhost: "+api+"\r\nX-Odd-CASE: 1\r\norigin: http://127.0.0.1:1\r\nConnection: close\r\n\r\n")
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	f := readFrame(t, ws)
	ex := f.Exchange
	if f.Type != "exchange" || ex.Seq != 1 || ex.Origin != "api" || ex.Kind != "cors" {
		t.Fatalf("frame %s seq %d origin %q kind %q", f.Type, ex.Seq, ex.Origin, ex.Kind)
	}
	wantHeaders := [][2]string{{"host", api}, {"X-Odd-CASE", "1"}, {"origin", "http://127.0.0.1:1"}, {"Connection", "close"}}
	if fmt.Sprint(ex.Request.Headers) != fmt.Sprint(wantHeaders) {
		t.Errorf("request headers %v, want %v", ex.Request.Headers, wantHeaders)
	}
	if acao, _ := ex.Response.Header("Access-Control-Allow-Origin"); acao != "http://127.0.0.1:1" {
		t.Errorf("response ACAO %q", acao)
	}
	if !strings.HasPrefix(ex.Raw.Request, "GET /"+sess.ID+"/users HTTP/1.1\r\nhost: ") {
		t.Errorf("raw request %q", ex.Raw.Request)
	}

	// Two more exchanges while nobody listens, then a reconnect asking for
	// everything after seq 1 gets exactly seq 2 and 3, then live ones.
	ws.Close()
	for range 2 {
		rawRequest(t, api, "OPTIONS /"+sess.ID+"/users HTTP/1.1\r\nHost: "+api+"\r\nOrigin: null\r\nAccess-Control-Request-Method: PUT\r\nConnection: close\r\n\r\n")
	}
	ws = dialWS(t, srv, sess.ID, "since=1")
	for _, want := range []uint64{2, 3} {
		if f := readFrame(t, ws); f.Exchange.Seq != want || f.Exchange.Kind != "preflight" {
			t.Errorf("replayed seq %d kind %q, want %d preflight", f.Exchange.Seq, f.Exchange.Kind, want)
		}
	}
	rawRequest(t, api, "GET /"+sess.ID+"/me HTTP/1.1\r\nHost: "+api+"\r\nConnection: close\r\n\r\n")
	if f := readFrame(t, ws); f.Exchange.Seq != 4 || f.Exchange.Response.Status != 401 {
		t.Errorf("live frame seq %d status %d, want 4 and 401", f.Exchange.Seq, f.Exchange.Response.Status)
	}
}

func TestWebsocketRefusesOtherOrigins(t *testing.T) {
	srv := startServer(t, 10)
	sess := createSession(t, srv, "")
	u := fmt.Sprintf("ws://127.0.0.1:%d/api/sessions/%s/ws", srv.Port(UI), sess.ID)
	_, resp, err := websocket.DefaultDialer.Dial(u, http.Header{"Origin": {srv.testURL(Evil)}})
	if err == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a page of the evil origin opened the socket: %v", err)
	}
}

func TestJSONAPI(t *testing.T) {
	srv := startServer(t, 10)
	ui := srv.testURL(UI)
	sess := createSession(t, srv, `{"request": {"method": "PUT", "headers": {"X-User-Id": "1"}}}`)
	if sess.Origins["api"] != srv.testURL(API)+"/"+sess.ID || sess.Origins["s3"] != srv.testURL(S3)+"/"+sess.ID {
		t.Errorf("origins %v", sess.Origins)
	}
	if !strings.HasPrefix(sess.URL, ui+"/lab/"+sess.ID+"?") || !strings.Contains(sess.URL, "request.method=PUT") {
		t.Errorf("url %q", sess.URL)
	}

	do := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, ui+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	base := "/api/sessions/" + sess.ID
	tests := []struct {
		desc, method, path, body string
		wantStatus               int
		wantBody                 string
	}{
		{"bad header value names the field", "PUT", base + "/scenario", `{"api": {"allowHeaders": "a\r\nb"}}`, 400, `"api.allowHeaders"`},
		{"malformed JSON says where", "PUT", base + "/scenario", "{\n  \"api\": }", 400, `line 2, column`},
		{"the scenario was left as it was", "GET", base, "", 200, `"X-User-Id": "1"`},
		{"a valid scenario replaces it", "PUT", base + "/scenario", `{"api": {"allowOrigin": "*"}}`, 200, `"allowOrigin": "*"`},
		{"replacing means defaults for what is left out", "GET", base, "", 200, `"method": "GET"`},
		{"unknown session", "GET", "/api/sessions/" + strings.Repeat("a", 26), "", 404, `"error"`},
		{"malformed id", "GET", "/api/sessions/..%2f", "", 404, `"error"`},
		{"runs start empty", "GET", base + "/runs", "", 200, `[]`},
		{"a posted run is kept", "POST", base + "/runs", `{"request": {"from":"app","target":"api","method":"GET","path":"/users","headers":{},"body":"","credentials":"omit","mode":"cors","redirect":"follow"}, "url": "http://x", "since": 0, "browser": {"ok": false, "error": "TypeError: Failed to fetch"}}`, 201, `"id":1,`},
		{"a run with a bad request is refused", "POST", base + "/runs", `{"request": {"method": "GET /x"}, "browser": {}}`, 400, `"request.method"`},
		{"exchanges since a seq", "GET", base + "/exchanges?since=0", "", 200, `[]`},
		{"bad since", "GET", base + "/exchanges?since=x", "", 400, `since`},
		{"HAR", "GET", base + "/har", "", 200, `"version":"1.2"`},
		{"unknown API path", "GET", "/api/nope", "", 404, `"error"`},
		{"health", "GET", "/healthz", "", 200, "ok"},
	}
	for _, tt := range tests {
		status, body := do(tt.method, tt.path, tt.body)
		if status != tt.wantStatus || !strings.Contains(body, tt.wantBody) {
			t.Errorf("%s: %d %s\nwant %d containing %s", tt.desc, status, body, tt.wantStatus, tt.wantBody)
		}
	}
}

func TestLabLinks(t *testing.T) {
	srv := startServer(t, 1)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(u string) *http.Response {
		resp, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	ui := srv.testURL(UI)

	if resp := get(ui + "/lab?api.maxAge=soon"); resp.StatusCode != 400 {
		t.Errorf("bad permalink: %d, want 400", resp.StatusCode)
	}
	resp := get(ui + "/lab?api.allowOrigin=echo&run=1")
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/lab/") || !strings.HasSuffix(loc, "?api.allowOrigin=echo&run=1") {
		t.Fatalf("new lab: %d to %q", resp.StatusCode, loc)
	}
	if resp := get(ui + loc); resp.StatusCode != 200 {
		t.Errorf("lab page: %d", resp.StatusCode)
	}
	// The cap is 1: a second learner gets the "too many sessions" page, and
	// the first keeps working.
	if resp := get(ui + "/lab"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("over the cap: %d, want 503", resp.StatusCode)
	}
	if resp := get(ui + loc); resp.StatusCode != 200 {
		t.Errorf("existing session after a refusal: %d", resp.StatusCode)
	}
}

func TestOriginsFollowTheBrowsersHost(t *testing.T) {
	// Hosts that are no host name or address: see TestRequestHost.
	tests := []struct{ host, want string }{
		{"127.0.0.1:8080", "127.0.0.1"},
		{"localhost:8080", "localhost"},
		{"[::1]:8080", "::1"},
		{"192.168.1.20:8080", "192.168.1.20"},
	}
	for _, tt := range tests {
		if got := requestHost(tt.host); got != tt.want {
			t.Errorf("requestHost(%q) = %q, want %q", tt.host, got, tt.want)
		}
	}
	o := originSet{host: "::1", ports: &[numRoles]int{8080, 8081, 8082, 8083, 8084}}
	if got := o.url(API); got != "http://[::1]:8082" {
		t.Errorf("IPv6 api origin %q", got)
	}
}

func TestS3IsSessionScoped(t *testing.T) {
	srv := startServer(t, 10)
	a := createSession(t, srv, "")
	s3 := srv.testURL(S3)
	put := func(u, body string) int {
		req, _ := http.NewRequest("PUT", u, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	resp, err := http.Get(a.Origins["s3"] + "/hello.txt")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != origins.HelloText || resp.Header.Get("Content-Type") != "text/plain" {
		t.Errorf("the sample hello.txt: %q, %s", b, resp.Header.Get("Content-Type"))
	}
	if status := put(a.Origins["s3"]+"/hello.txt", "hi"); status != 200 {
		t.Fatalf("put object: %d", status)
	}
	resp, err = http.Get(a.Origins["s3"] + "/hello.txt")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "hi" {
		t.Errorf("get object: %q", b)
	}
	if resp, _ := http.Get(s3 + "/"); resp.StatusCode != 403 {
		t.Errorf("listing all buckets: %d, want 403", resp.StatusCode)
	}
	if status := put(s3+"/"+strings.Repeat("b", 26), ""); status != 403 {
		t.Errorf("creating a bucket: %d, want 403", status)
	}
	// The exchanges were captured for the session.
	ws := dialWS(t, srv, a.ID, "since=0")
	if f := readFrame(t, ws); f.Exchange.Origin != "s3" || f.Exchange.Request.Method != "GET" {
		t.Errorf("first s3 exchange: %s %s", f.Exchange.Origin, f.Exchange.Request.Method)
	}
}

func TestHAR(t *testing.T) {
	srv := startServer(t, 10)
	sess := createSession(t, srv, `{"api": {"allowOrigin": "*"}}`)
	api := "127.0.0.1:" + strconv.Itoa(srv.Port(API))
	rawRequest(t, api, "POST /"+sess.ID+"/users?x=1 HTTP/1.1\r\nHost: "+api+"\r\norigin: http://a.test\r\nContent-Type: text/plain\r\nContent-Length: 20\r\nConnection: close\r\n\r\n{\"username\":\"user9\"}")

	var doc har
	getJSON(t, srv.testURL(UI)+"/api/sessions/"+sess.ID+"/har", &doc)
	if doc.Log.Version != "1.2" || len(doc.Log.Entries) != 1 {
		t.Fatalf("HAR %+v", doc.Log)
	}
	e := doc.Log.Entries[0]
	tests := []struct {
		desc string
		got  any
		want any
	}{
		{"url", e.Request.URL, "http://" + api + "/" + sess.ID + "/users?x=1"},
		{"query string", fmt.Sprint(e.Request.QueryString), "[{x 1}]"},
		{"headers keep wire order and case", e.Request.Headers[1], harNV{"origin", "http://a.test"}},
		{"post data", e.Request.PostData.Text, `{"username":"user9"}`},
		{"post data type", e.Request.PostData.MimeType, "text/plain"},
		{"status", e.Response.Status, 201},
		{"status text", e.Response.StatusText, "Created"},
		{"response content type", e.Response.Content.MimeType, "application/json"},
		{"headers size counts the head", e.Request.HeadersSize > 0 && e.Response.HeadersSize > 0, true},
		{"corslab kind", e.Kind, "cors"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.desc, tt.got, tt.want)
		}
	}
	if _, err := time.Parse(time.RFC3339Nano, e.StartedDateTime); err != nil {
		t.Errorf("startedDateTime: %v", err)
	}
}

// A link from a session that no longer exists, through the app origin's
// CDN path, reaches s3 and reads what S3 says of a bucket that does not
// exist, not a corslab error.
func TestStaleLinkThroughTheProxy(t *testing.T) {
	srv := startServer(t, 10)
	gone := strings.Repeat("c", 26)
	for _, path := range []string{"/" + gone + "/files/hello.txt", "/" + gone + "/files/a%2Fb.txt"} {
		resp, err := http.Get(srv.testURL(App) + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "<Code>NoSuchBucket</Code>") ||
			!strings.Contains(string(body), "<BucketName>"+gone+"</BucketName>") {
			t.Errorf("GET %s on app: %d %s, want 404 NoSuchBucket for %s", path, resp.StatusCode, body, gone)
		}
	}
}
