package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// A fakeDriver is a WebDriver endpoint on loopback that answers every
// command with answer, and keeps what it was sent.
type fakeDriver struct {
	answer func(w http.ResponseWriter, r *http.Request, body map[string]any)

	mu   sync.Mutex
	sent []string       // "METHOD /path {body}"
	last map[string]any // the last body
}

func newFakeDriver(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, body map[string]any)) (*fakeDriver, *wdClient) {
	f := &fakeDriver{answer: answer}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c := newWDClient(srv.URL)
	t.Cleanup(c.close)
	return f, c
}

func (f *fakeDriver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var body map[string]any
	json.Unmarshal(b, &body)
	f.mu.Lock()
	f.sent = append(f.sent, strings.TrimSpace(r.Method+" "+r.URL.Path+" "+string(b)))
	f.last = body
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	f.answer(w, r, body)
}

func (f *fakeDriver) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.sent...)
}

// lastScript is the script of the last command sent.
func (f *fakeDriver) lastScript() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, _ := f.last["script"].(string)
	return s
}

// reply writes a response of status with value as its "value".
func reply(w http.ResponseWriter, status int, value any) {
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"value": value})
}

func TestWebDriverCommands(t *testing.T) {
	f, c := newFakeDriver(t, func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		switch r.URL.Path {
		case "/status":
			reply(w, 200, map[string]any{"ready": true, "message": ""})
		case "/session":
			reply(w, 200, map[string]any{"sessionId": "s 1", "capabilities": map[string]any{"browserName": "MiniBrowser"}})
		default:
			reply(w, 200, nil)
		}
	})
	ctx := context.Background()
	if !c.ready(ctx) {
		t.Error("ready() = false for {ready: true}")
	}
	s, err := c.newSession(ctx, map[string]any{"webkitgtk:browserOptions": map[string]any{"args": []string{"--automation"}}})
	if err != nil {
		t.Fatal(err)
	}
	if s.id != "s 1" || s.caps["browserName"] != "MiniBrowser" {
		t.Errorf("session %q with %v", s.id, s.caps)
	}
	for _, err := range []error{
		s.navigate(ctx, "http://127.0.0.1:8080/"),
		s.setTimeouts(ctx, 1500*time.Millisecond, time.Minute),
		s.setWindowSize(ctx, 1366, 900),
		s.delete(ctx),
	} {
		if err != nil {
			t.Error(err)
		}
	}
	want := []string{
		"GET /status",
		`POST /session {"capabilities":{"alwaysMatch":{"webkitgtk:browserOptions":{"args":["--automation"]}}}}`,
		`POST /session/s 1/url {"url":"http://127.0.0.1:8080/"}`,
		`POST /session/s 1/timeouts {"pageLoad":60000,"script":1500}`,
		`POST /session/s 1/window/rect {"height":900,"width":1366}`,
		"DELETE /session/s 1",
	}
	if got := f.requests(); !reflect.DeepEqual(got, want) {
		t.Errorf("the driver was sent\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestWebDriverErrors holds the client to WebDriver's error responses:
// {"value": {"error": code, "message": text}} with a 4xx or 5xx status.
func TestWebDriverErrors(t *testing.T) {
	_, c := newFakeDriver(t, func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		switch r.URL.Path {
		case "/session/gone/url":
			reply(w, 404, map[string]any{"error": "invalid session id", "message": "", "stacktrace": ""})
		case "/session/s/execute/async":
			reply(w, 500, map[string]any{"error": "javascript error", "message": "Unexpected identifier 'error'", "stacktrace": ""})
		case "/session/s/url":
			w.WriteHeader(502)
			io.WriteString(w, "<html>bad gateway</html>")
		case "/session":
			reply(w, 500, map[string]any{"error": "session not created", "message": "Maximum number of active sessions"})
		}
	})
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		err  error
		want *wdError // nil: not a driver's error
		text string   // in err's text
	}{
		{"no message", (&wdSession{c: c, id: "gone"}).navigate(ctx, "about:blank"),
			&wdError{Status: 404, Code: "invalid session id"}, "webdriver: invalid session id"},
		{"a script's", (&wdSession{c: c, id: "s"}).executeAsync(ctx, "syntax error(", nil, nil),
			&wdError{Status: 500, Code: "javascript error", Message: "Unexpected identifier 'error'"}, "webdriver: javascript error: Unexpected identifier 'error'"},
		{"new session", func() error { _, err := c.newSession(ctx, nil); return err }(),
			&wdError{Status: 500, Code: "session not created", Message: "Maximum number of active sessions"}, "session not created: Maximum number of active sessions"},
		{"not WebDriver's", (&wdSession{c: c, id: "s"}).navigate(ctx, "about:blank"),
			nil, "502 Bad Gateway: <html>bad gateway</html>"},
	} {
		var e *wdError
		switch {
		case tc.err == nil:
			t.Errorf("%s: no error", tc.name)
			continue
		case tc.want == nil && errors.As(tc.err, &e):
			t.Errorf("%s: %#v, want an error that is not a *wdError", tc.name, e)
		case tc.want != nil && (!errors.As(tc.err, &e) || *e != *tc.want):
			t.Errorf("%s: %#v, want %#v", tc.name, tc.err, tc.want)
		}
		if !strings.Contains(tc.err.Error(), tc.text) {
			t.Errorf("%s: %q, want it to say %q", tc.name, tc.err, tc.text)
		}
	}
}

// TestWebDriverEval holds eval to what execute/async gives back: the
// script's outcome as {value} or {error}.
func TestWebDriverEval(t *testing.T) {
	f, c := newFakeDriver(t, func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		script, _ := body["script"].(string)
		if args, ok := body["args"].([]any); !ok || len(args) != 0 {
			reply(w, 400, map[string]any{"error": "invalid argument", "message": "args must be an array"})
			return
		}
		switch {
		case strings.Contains(script, "answer"):
			reply(w, 200, map[string]any{"value": `{"n":42,"list":["a","b"]}`})
		case strings.Contains(script, "nothing"):
			reply(w, 200, map[string]any{"value": nil})
		case strings.Contains(script, "boom"):
			reply(w, 200, map[string]any{"error": "Error: boom"})
		default:
			reply(w, 500, map[string]any{"error": "javascript error", "message": "SyntaxError"})
		}
	})
	s := &wdSession{c: c, id: "s"}
	ctx := context.Background()

	var obj struct {
		N    int
		List []string
	}
	if err := s.eval(ctx, "", "answer()", &obj); err != nil || obj.N != 42 || len(obj.List) != 2 {
		t.Errorf("a value: %+v, %v", obj, err)
	}
	if script := f.lastScript(); !strings.Contains(script, jsonOf("answer()")) || !strings.Contains(script, "arguments[arguments.length - 1]") {
		t.Errorf("the script sent does not evaluate jsonOf(expr) and call back:\n%s", script)
	}
	if err := s.eval(ctx, "prelude();", "answer()", nil); err != nil || !strings.Contains(f.lastScript(), "prelude();") {
		t.Errorf("with a prelude: %v; the script:\n%s", err, f.lastScript())
	}
	var none any = "unset"
	if err := s.eval(ctx, "", "nothing()", &none); err != nil || none != nil {
		t.Errorf("undefined: %v, %v; want nil", none, err)
	}
	if err := s.eval(ctx, "", "boom()", nil); err == nil || !strings.Contains(err.Error(), "Error: boom") {
		t.Errorf("a throw: %v; want an error saying Error: boom", err)
	}
	var e *wdError
	if err := s.eval(ctx, "", "syntax error(", nil); !errors.As(err, &e) || e.Code != "javascript error" {
		t.Errorf("a script the driver rejects: %v; want its javascript error", err)
	}
}

// TestWebDriverCancel holds the client to ctx: a command cut short
// returns at once, with ctx's error.
func TestWebDriverCancel(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	_, c := newFakeDriver(t, func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		select { // a script that never calls back
		case <-r.Context().Done():
		case <-release:
		}
	})
	s := &wdSession{c: c, id: "s"}

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	err := s.eval(ctx, "", "new Promise(() => {})", nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v; want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancelled after 50ms, returned after %v", d)
	}

	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.navigate(ctx, "about:blank"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("past the deadline: %v; want context.DeadlineExceeded", err)
	}
}
