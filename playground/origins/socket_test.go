package origins

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/corslab/corslab/playground/capture"
	"github.com/corslab/corslab/playground/scenario"
	"github.com/corslab/corslab/playground/session"
)

// newSocketServer serves the api origin's socket, behind withPolicy, on a
// tapped listener that captures every exchange into the session, as the
// playground does. It returns the session and the socket's ws:// URL.
func newSocketServer(t *testing.T, edit func(*scenario.API), limits *socketLimits) (*session.Session, string) {
	t.Helper()
	st := session.NewStore(session.Options{Max: 1, Idle: time.Hour})
	sc := scenario.Default()
	edit(&sc.API)
	s, err := st.Create(sc)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/{session}/socket", socketHandler(limits))
	h := withPolicy(mux)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w, r, finish := capture.Start(w, r, "api", s.Record)
		defer finish()
		h.ServeHTTP(w, r.WithContext(session.NewContext(r.Context(), s)))
	}))
	srv.Listener = capture.NewListener(srv.Listener)
	srv.Config.ConnContext = capture.ConnContext
	srv.Start()
	t.Cleanup(srv.Close)
	return s, "ws" + strings.TrimPrefix(srv.URL, "http") + "/" + s.ID + "/socket"
}

func testLimits() *socketLimits { return newSocketLimits(maxSockets, maxSessionSockets, 3*time.Second) }

// dial opens the socket as a page of origin would, with the login cookie
// when token is not "".
func dial(t *testing.T, url, origin, token string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	if token != "" {
		h.Set("Cookie", LoginCookie+"="+token)
	}
	c, resp, err := websocket.DefaultDialer.Dial(url, h)
	if c != nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, resp, err
}

func readHello(t *testing.T, c *websocket.Conn) hello {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var g hello
	if err := c.ReadJSON(&g); err != nil {
		t.Fatal(err)
	}
	return g
}

// errorBody is the JSON error of a refused handshake.
func errorBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	if resp == nil {
		t.Fatal("no response")
	}
	b, _ := io.ReadAll(resp.Body)
	var e struct{ Error string }
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("%d: not a JSON error: %s", resp.StatusCode, b)
	}
	return e.Error
}

// With api.websocketOrigins "any", the attacker's page opens the socket
// with the victim's cookie and reads their secret: WebSocket has no CORS.
func TestSocketAnyLetsTheAttackerReadTheUser(t *testing.T) {
	s, url := newSocketServer(t, func(*scenario.API) {}, testLimits())
	token, _, err := s.Users.Login("grace")
	if err != nil {
		t.Fatal(err)
	}
	c, resp, err := dial(t, url, "http://evil.test:8084", token)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	if resp.StatusCode != 101 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	g := readHello(t, c)
	if g.Type != "hello" || g.User == nil || g.User.Username != "grace" || g.Secret == nil || !strings.Contains(*g.Secret, "Grace Hopper") {
		t.Errorf("greeting %+v", g)
	}
	if v := resp.Header.Get("Access-Control-Allow-Origin"); v != "" {
		t.Errorf("the 101 carries ACAO %q: WebSocket ignores CORS, and so does the socket", v)
	}

	// The handshake is in the log while the socket is open.
	exs := s.Exchanges(0)
	if len(exs) != 1 {
		t.Fatalf("%d exchanges recorded while the socket is open, want the handshake", len(exs))
	}
	var ex capture.Exchange
	json.Unmarshal(exs[0], &ex)
	if ex.Response.Status != 101 || !strings.Contains(ex.Raw.Request, "\r\nOrigin: http://evil.test:8084\r\n") ||
		!strings.Contains(ex.Raw.Request, "\r\nCookie: login=") || !strings.HasPrefix(ex.Raw.Response, "HTTP/1.1 101 Switching Protocols\r\n") {
		t.Errorf("handshake exchange %d: raw %q → %q", ex.Response.Status, ex.Raw.Request, ex.Raw.Response)
	}

	if err := c.WriteMessage(websocket.TextMessage, []byte("what else?")); err != nil {
		t.Fatal(err)
	}
	var e echo
	if err := c.ReadJSON(&e); err != nil || e.Type != "echo" || e.Data != "what else?" {
		t.Errorf("echo %+v, %v", e, err)
	}
	c.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3})
	var se socketError
	if err := c.ReadJSON(&se); err != nil || se.Type != "error" || !strings.Contains(se.Error, "3 bytes") {
		t.Errorf("answer to a binary message %+v, %v", se, err)
	}

	// Each frame is in the log, raw: the greeting, the page's message
	// unmasked, the echo.
	want := []struct{ dir, op, payload string }{
		{capture.ServerToClient, "text", `"type":"hello"`},
		{capture.ClientToServer, "text", "what else?"},
		{capture.ServerToClient, "text", `"type":"echo"`},
	}
	var got []capture.Frame
	for deadline := time.Now().Add(5 * time.Second); len(got) < 5 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		got = got[:0]
		for _, raw := range s.SocketFrames(0) {
			var f capture.Frame
			json.Unmarshal(raw, &f)
			got = append(got, f)
		}
	}
	if len(got) < 5 {
		t.Fatalf("%d frames recorded, want 5", len(got))
	}
	for i, w := range want {
		f := got[i]
		if f.Direction != w.dir || f.OpcodeName != w.op || !strings.Contains(f.Payload, w.payload) ||
			f.Exchange != ex.Seq || f.Seq <= ex.Seq || f.Masked != (w.dir == capture.ClientToServer) {
			t.Errorf("frame %d: %s %s %q (exchange %d, seq %d, masked %v), want %s %s %q", i,
				f.Direction, f.OpcodeName, f.Payload, f.Exchange, f.Seq, f.Masked, w.dir, w.op, w.payload)
		}
	}
	if got[3].OpcodeName != "binary" || got[3].PayloadEncoding != "base64" {
		t.Errorf("binary frame: %+v", got[3])
	}
}

// Without a login cookie the greeting names no one.
func TestSocketGreetingWithoutCookie(t *testing.T) {
	_, url := newSocketServer(t, func(*scenario.API) {}, testLimits())
	for _, token := range []string{"", "forged"} {
		c, _, err := dial(t, url, "http://evil.test", token)
		if err != nil {
			t.Fatal(err)
		}
		if g := readHello(t, c); g.User != nil || g.Secret != nil {
			t.Errorf("cookie %q: greeting %+v", token, g)
		}
	}
}

// With api.websocketOrigins "allowlist", the handshake is answered under
// the CORS allowlist's own rule, sloppy modes included.
func TestSocketAllowlist(t *testing.T) {
	tests := []struct {
		desc, match string
		allowlist   []string
		origin      string
		ok          bool
	}{
		{"exact, listed", "exact", []string{"http://app.test"}, "http://app.test", true},
		{"exact, the attacker", "exact", []string{"http://app.test"}, "http://evil.test", false},
		{"exact, no Origin (not a browser)", "exact", []string{"http://app.test"}, "", false},
		{"suffix lets a look-alike in", "suffix", []string{"app.test"}, "http://evilapp.test", true},
		{"regex, unanchored, with allowOrigin unset", "regex", []string{`http://app\.test`}, "http://app.test.evil.com", true},
		{"regex that does not match", "regex", []string{`^http://app\.test$`}, "http://evil.test", false},
	}
	for _, tt := range tests {
		_, url := newSocketServer(t, func(a *scenario.API) {
			a.WebsocketOrigins, a.Match, a.Allowlist = "allowlist", tt.match, tt.allowlist
		}, testLimits())
		c, resp, err := dial(t, url, tt.origin, "")
		if tt.ok {
			if err != nil {
				t.Errorf("%s: refused: %v", tt.desc, err)
				continue
			}
			readHello(t, c)
			continue
		}
		if !errors.Is(err, websocket.ErrBadHandshake) || resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: got %v, %v; want 403", tt.desc, err, resp)
			continue
		}
		msg := errorBody(t, resp)
		if tt.origin != "" && !strings.Contains(msg, `"`+tt.origin+`"`) || !strings.Contains(msg, "allowlist") {
			t.Errorf("%s: error %q does not say which Origin and why", tt.desc, msg)
		}
	}
}

// A preflight-shaped request is the CORS middleware's, whatever else it
// carries; other requests that are not handshakes are refused plainly.
func TestSocketIsNotConfusedWithOtherRequests(t *testing.T) {
	_, url := newSocketServer(t, func(*scenario.API) {}, testLimits())
	httpURL := "http" + strings.TrimPrefix(url, "ws")
	upgrade := map[string]string{"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
	tests := []struct {
		desc, method string
		headers      map[string]string
		status       int
	}{
		{"a preflight with upgrade headers", "OPTIONS", map[string]string{"Origin": "http://evil.test", "Access-Control-Request-Method": "GET",
			"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}, 204},
		{"a plain GET", "GET", nil, http.StatusUpgradeRequired},
		{"a POST with upgrade headers", "POST", upgrade, http.StatusMethodNotAllowed},
		{"a handshake with a bad key", "GET", map[string]string{"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "short"}, 400},
	}
	for _, tt := range tests {
		r, _ := http.NewRequest(tt.method, httpURL, nil)
		for k, v := range tt.headers {
			r.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatalf("%s: %v", tt.desc, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("%s: %d, want %d", tt.desc, resp.StatusCode, tt.status)
		}
	}
}

// closeCode reads until the socket closes and returns the close code.
func closeCode(t *testing.T, c *websocket.Conn) (int, string, int) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n := 0
	for {
		_, _, err := c.ReadMessage()
		if ce, ok := errors.AsType[*websocket.CloseError](err); ok {
			return ce.Code, ce.Text, n
		}
		if err != nil {
			t.Fatalf("after %d messages: %v, not a close", n, err)
		}
		n++
	}
}

func TestSocketBounds(t *testing.T) {
	t.Run("a message over 4 KiB closes the socket with 1009", func(t *testing.T) {
		_, url := newSocketServer(t, func(*scenario.API) {}, testLimits())
		c, _, err := dial(t, url, "http://evil.test", "")
		if err != nil {
			t.Fatal(err)
		}
		readHello(t, c)
		c.WriteMessage(websocket.TextMessage, []byte(strings.Repeat("x", SocketMaxMessageBytes)))
		var e echo
		if err := c.ReadJSON(&e); err != nil || len(e.Data) != SocketMaxMessageBytes {
			t.Fatalf("a 4 KiB message: %v", err)
		}
		c.WriteMessage(websocket.TextMessage, []byte(strings.Repeat("x", SocketMaxMessageBytes+1)))
		if code, _, _ := closeCode(t, c); code != websocket.CloseMessageTooBig {
			t.Errorf("close code %d, want %d", code, websocket.CloseMessageTooBig)
		}
	})
	t.Run("at most 16 messages each way", func(t *testing.T) {
		s, url := newSocketServer(t, func(*scenario.API) {}, testLimits())
		c, _, err := dial(t, url, "http://evil.test", "")
		if err != nil {
			t.Fatal(err)
		}
		for range 40 {
			if c.WriteMessage(websocket.TextMessage, []byte("again")) != nil {
				break
			}
		}
		code, reason, n := closeCode(t, c)
		if n != SocketMaxMessages || code != websocket.ClosePolicyViolation || !strings.Contains(reason, "16 messages") {
			t.Errorf("%d messages, then close %d %q; want %d, then %d", n, code, reason, SocketMaxMessages, websocket.ClosePolicyViolation)
		}
		// The log holds the 16 the server sent and its close, however many
		// the page sent.
		time.Sleep(100 * time.Millisecond)
		sent := 0
		for _, raw := range s.SocketFrames(0) {
			var f capture.Frame
			json.Unmarshal(raw, &f)
			if f.Direction == capture.ServerToClient && f.OpcodeName == "text" {
				sent++
			}
		}
		if sent != SocketMaxMessages {
			t.Errorf("the log shows %d messages from the server, want %d", sent, SocketMaxMessages)
		}
	})
	t.Run("a socket closes after its lifetime", func(t *testing.T) {
		_, url := newSocketServer(t, func(*scenario.API) {}, newSocketLimits(4, 4, 300*time.Millisecond))
		c, _, err := dial(t, url, "http://evil.test", "")
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		code, reason, _ := closeCode(t, c)
		if code != websocket.CloseNormalClosure || !strings.Contains(reason, "after 300ms") {
			t.Errorf("close %d %q", code, reason)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("closed after %s", d)
		}
	})
}

// Sockets are bounded in all (503) and per session (429), before the
// upgrade, and a closed socket gives its place back.
func TestSocketCaps(t *testing.T) {
	for _, tt := range []struct {
		desc            string
		max, perSession int
		status          int
	}{
		{"the global cap", 2, 4, http.StatusServiceUnavailable},
		{"the session's cap", 4, 2, http.StatusTooManyRequests},
	} {
		limits := newSocketLimits(tt.max, tt.perSession, 3*time.Second)
		_, url := newSocketServer(t, func(*scenario.API) {}, limits)
		var open []*websocket.Conn
		for range 2 {
			c, _, err := dial(t, url, "http://evil.test", "")
			if err != nil {
				t.Fatalf("%s: %v", tt.desc, err)
			}
			readHello(t, c)
			open = append(open, c)
		}
		_, resp, err := dial(t, url, "http://evil.test", "")
		if err == nil || resp == nil || resp.StatusCode != tt.status {
			t.Fatalf("%s: third socket: %v %v, want %d", tt.desc, err, resp, tt.status)
		}
		if msg := errorBody(t, resp); !strings.Contains(msg, "WebSockets open") {
			t.Errorf("%s: %q", tt.desc, msg)
		}
		open[0].Close()
		var c *websocket.Conn
		for deadline := time.Now().Add(5 * time.Second); c == nil && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			c, _, _ = dial(t, url, "http://evil.test", "")
		}
		if c == nil {
			t.Errorf("%s: a closed socket did not give its place back", tt.desc)
		}
	}
}
