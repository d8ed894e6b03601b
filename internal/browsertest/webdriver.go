package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// wdClient speaks W3C WebDriver classic (JSON over HTTP) to one driver,
// such as WebKitWebDriver: just the commands the Tab interface needs.
type wdClient struct {
	base string // http://127.0.0.1:port, no trailing slash
	hc   *http.Client
}

func newWDClient(base string) *wdClient {
	// A transport of its own, so that closing the client closes its
	// connections to a driver that is going away.
	return &wdClient{base: base, hc: &http.Client{Transport: &http.Transport{}}}
}

// close drops the client's idle connections.
func (c *wdClient) close() { c.hc.CloseIdleConnections() }

// A wdError is an error a driver sent back: the body
// {"value": {"error": code, "message": ...}} of a non-2xx response.
type wdError struct {
	Status  int    // HTTP status
	Code    string // WebDriver error code: "javascript error", "no such window", ...
	Message string
}

func (e *wdError) Error() string {
	if e.Message == "" {
		return "webdriver: " + e.Code
	}
	return "webdriver: " + e.Code + ": " + e.Message
}

// do sends one command: in (unless nil) as the JSON body, and the
// response's "value" decoded into out (unless nil).
func (c *wdClient) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err // wraps ctx's error when ctx ended the request
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("webdriver: reading the response to %s %s: %w", method, path, err)
	}
	var r struct {
		Value json.RawMessage `json:"value"`
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Value struct{ Error, Message string } `json:"value"`
		}
		if json.Unmarshal(b, &e) != nil || e.Value.Error == "" {
			return fmt.Errorf("webdriver: %s %s: %s: %.200s", method, path, resp.Status, b)
		}
		return &wdError{Status: resp.StatusCode, Code: e.Value.Error, Message: e.Value.Message}
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("webdriver: %s %s: decoding %.200s: %w", method, path, b, err)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(r.Value, out); err != nil {
		return fmt.Errorf("webdriver: %s %s: decoding %.200s: %w", method, path, r.Value, err)
	}
	return nil
}

// ready reports whether the driver can create a session now.
func (c *wdClient) ready(ctx context.Context) bool {
	var s struct{ Ready bool }
	return c.do(ctx, http.MethodGet, "/status", nil, &s) == nil && s.Ready
}

// newSession starts a session (and so a browser) with the capabilities
// that must match, alwaysMatch.
func (c *wdClient) newSession(ctx context.Context, alwaysMatch map[string]any) (*wdSession, error) {
	in := map[string]any{"capabilities": map[string]any{"alwaysMatch": alwaysMatch}}
	var out struct {
		SessionID    string         `json:"sessionId"`
		Capabilities map[string]any `json:"capabilities"`
	}
	if err := c.do(ctx, http.MethodPost, "/session", in, &out); err != nil {
		return nil, err
	}
	if out.SessionID == "" {
		return nil, fmt.Errorf("webdriver: new session: no session id in the response")
	}
	return &wdSession{c: c, id: out.SessionID, caps: out.Capabilities}, nil
}

// A wdSession is one session of a driver. WebDriver classic runs a
// session's commands one at a time, in its one current window.
type wdSession struct {
	c    *wdClient
	id   string
	caps map[string]any // as the driver matched them
}

func (s *wdSession) path(p string) string { return "/session/" + url.PathEscape(s.id) + p }

// navigate loads u in the current window and returns once the page
// loaded, as the session's page load strategy says ("normal": the load
// event fired).
func (s *wdSession) navigate(ctx context.Context, u string) error {
	return s.c.do(ctx, http.MethodPost, s.path("/url"), map[string]string{"url": u}, nil)
}

// executeAsync runs script, the body of a function called with args and
// then a callback, in the current window's page, and decodes the value
// the script passed to the callback into out.
func (s *wdSession) executeAsync(ctx context.Context, script string, args []any, out any) error {
	if args == nil {
		args = []any{} // the command requires an array
	}
	return s.c.do(ctx, http.MethodPost, s.path("/execute/async"), map[string]any{"script": script, "args": args}, out)
}

// setTimeouts sets how long scripts and page loads may take.
func (s *wdSession) setTimeouts(ctx context.Context, script, pageLoad time.Duration) error {
	in := map[string]int64{"script": script.Milliseconds(), "pageLoad": pageLoad.Milliseconds()}
	return s.c.do(ctx, http.MethodPost, s.path("/timeouts"), in, nil)
}

// setWindowSize resizes the current window (its outer size).
func (s *wdSession) setWindowSize(ctx context.Context, width, height int) error {
	return s.c.do(ctx, http.MethodPost, s.path("/window/rect"), map[string]int{"width": width, "height": height}, nil)
}

// delete ends the session, which closes its browser.
func (s *wdSession) delete(ctx context.Context) error {
	return s.c.do(ctx, http.MethodDelete, s.path(""), nil, nil)
}

// eval evaluates the page expression expr as Tab.Eval says, after the
// statements of prelude (which may be ""), and decodes its value into out.
//
// The expression goes through jsonOf, as in every engine, so that values
// come back the same way; execute/async then hands the script's outcome to
// the callback: {value: JSON text or null}, or {error: text} when the
// expression threw or its promise was rejected (WebDriver's own "javascript
// error" only covers what is thrown before the callback).
func (s *wdSession) eval(ctx context.Context, prelude, expr string, out any) error {
	script := "const corslab$done = arguments[arguments.length - 1];\n" +
		prelude + ";\n" +
		"(" + jsonOf(expr) + ").then((value) => corslab$done({value}), (e) => corslab$done({error: " + describeJS + "(e)}));"
	var r struct {
		Value *string `json:"value"`
		Error *string `json:"error"`
	}
	if err := s.executeAsync(ctx, script, nil, &r); err != nil {
		return err
	}
	if r.Error != nil {
		return fmt.Errorf("the page threw %s", *r.Error)
	}
	return decode(r.Value, out)
}

// describeJS is a page function giving a thrown value as text: an error
// (of any realm, or anything with a message) as "Name: message", anything
// else as JSON when it has some, else as a string.
const describeJS = `((e) => {
	if (e !== null && typeof e === "object" && typeof e.message === "string") {
		return (typeof e.name === "string" && e.name ? e.name + ": " : "") + e.message;
	}
	try { const j = JSON.stringify(e); if (j !== undefined) return j; } catch {}
	return String(e);
})`
