package playground

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/corslab/corslab/playground/capture"
)

func quietConfig(max int) Config {
	return Config{Listen: "127.0.0.1", MaxSessions: max, SessionIdle: time.Hour,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// do sends a request with the given headers and returns the status and body.
func do(t *testing.T, method, url, body string, headers map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// useSession makes a session one that is in use, as a learner's first
// request does: at the cap, only unused sessions give way.
func useSession(t *testing.T, srv *Server, id string) {
	t.Helper()
	sess := srv.findSession(id)
	if sess == nil {
		t.Fatalf("no session %q", id)
	}
	sess.Record(&capture.Exchange{Origin: "api"})
}

// Another site's page may send a learner to a new session (documentation
// links, embeds), but an <img>, a script or a form post of its own may not
// create one.
func TestOtherSitesCannotCreateSessions(t *testing.T) {
	cfg := quietConfig(100)
	cfg.Lessons = handlerCurriculum(t)
	srv := startServerWith(t, cfg)
	ui := srv.testURL(UI)
	img := map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image"}
	evilPage := map[string]string{"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image"}
	link := map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}
	embed := map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "iframe"}
	post := map[string]string{"Content-Type": "text/plain", "Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"}
	ownPost := map[string]string{"Content-Type": "application/json", "Origin": ui, "Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors"}
	for _, tc := range []struct {
		desc, method, path string
		headers            map[string]string
		want               int
	}{
		{"an <img> on another site", "GET", "/lab", img, http.StatusForbidden},
		{"an <img> on a same-site page (the evil origin)", "GET", "/lab", evilPage, http.StatusForbidden},
		{"an <img> for a lesson", "GET", "/lessons/handlers-one", img, http.StatusForbidden},
		{"an <img> for the matrix", "GET", "/matrix", img, http.StatusForbidden},
		{"an <img> for an unknown session's lab", "GET", "/lab/" + randomID(), img, http.StatusForbidden},
		{"a text/plain POST from another site", "POST", "/api/sessions", post, http.StatusForbidden},
		{"a link in documentation", "GET", "/lab", link, http.StatusSeeOther},
		{"an embed in documentation", "GET", "/embed/handlers-one", embed, http.StatusSeeOther},
		{"corslab's own page", "POST", "/api/sessions", ownPost, http.StatusCreated},
		{"curl", "POST", "/api/sessions", nil, http.StatusCreated},
	} {
		before := srv.sessions.Len()
		got, body := do(t, tc.method, ui+tc.path, "{}", tc.headers)
		created := srv.sessions.Len() - before
		if got != tc.want || (got < 400) != (created == 1) {
			t.Errorf("%s: %d (%d sessions created), want %d\n%s", tc.desc, got, created, tc.want, body)
		}
	}
}

// One address opens at most IPSessions sessions a minute, all at once if
// need be; another address is not held back by it.
func TestSessionCreationPerAddress(t *testing.T) {
	cfg := quietConfig(100)
	cfg.IPSessions = 5
	srv := startServerWith(t, cfg)
	for i := range 5 {
		if got, body := do(t, "GET", srv.testURL(UI)+"/lab", "", nil); got != http.StatusSeeOther {
			t.Fatalf("session %d: %d %s", i+1, got, body)
		}
	}
	got, body := do(t, "GET", srv.testURL(UI)+"/lab", "", nil)
	if got != http.StatusTooManyRequests || !strings.Contains(body, "--ip-sessions") {
		t.Errorf("the sixth session within a minute: %d %s", got, body)
	}
	// Another learner, from another address, still gets in.
	other := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}).DialContext},
		CheckRedirect: noRedirects.CheckRedirect}
	resp, err := other.Get(srv.testURL(UI) + "/lab")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("another address: %d", resp.StatusCode)
	}
}

// A flood of sessions that are never used (8 clients GETting /lab) leaves
// room for a learner: at the cap, unused sessions give way.
func TestAFloodOfUnusedSessionsLeavesRoom(t *testing.T) {
	srv := startServerWith(t, quietConfig(20))
	learner := createSession(t, srv, "{}")
	dialWS(t, srv, learner.ID, "") // the learner's page watches it
	for range 100 {
		do(t, "GET", srv.testURL(UI)+"/lab", "", nil)
	}
	if srv.sessions.Len() > 20 {
		t.Fatalf("%d sessions, cap 20", srv.sessions.Len())
	}
	if srv.findSession(learner.ID) == nil {
		t.Fatal("the flood evicted a learner's session")
	}
	createSession(t, srv, "{}") // another learner can still join
}

// since above the newest is a client's mistake: 400, never a panic or a
// burnt run id.
func TestSinceAboveTheNewestIsRefused(t *testing.T) {
	srv := startServer(t, 5)
	s := createSession(t, srv, "{}")
	base := srv.testURL(UI) + "/api/sessions/" + s.ID
	for _, path := range []string{
		"/exchanges?since=18446744073709551615",
		"/exchanges?since=1",
		"/runs?since=1",
		"/runs?since=-1",
		"/exchanges?limit=0",
		"/exchanges?limit=100000",
		"/ws?since=18446744073709551615",
		"/ws?runsSince=9223372036854775807",
	} {
		got, body := do(t, "GET", base+path, "", map[string]string{"Origin": srv.testURL(UI)})
		if got != http.StatusBadRequest || !strings.Contains(body, "must be") {
			t.Errorf("%s: %d %s", path, got, body)
		}
	}
	run := `{"request": {"from":"app","target":"api","method":"GET","path":"/users","headers":{},"body":"","credentials":"omit","mode":"cors","redirect":"follow"}, "url": "x", "since": 18446744073709551615, "browser": {"ok": false}}`
	if got, body := do(t, "POST", base+"/runs", run, nil); got != http.StatusBadRequest || !strings.Contains(body, `"since"`) {
		t.Errorf("a run with since above the newest: %d %s", got, body)
	}
	for _, id := range []string{`"Abc"`, `"a-b"`, `"` + strings.Repeat("a", 33) + `"`} {
		bad := strings.Replace(run, `"since": 18446744073709551615`, `"since": 0, "documentId": `+id, 1)
		if got, body := do(t, "POST", base+"/runs", bad, nil); got != http.StatusBadRequest || !strings.Contains(body, `"documentId"`) {
			t.Errorf("a run with documentId %s: %d %s", id, got, body)
		}
	}
	if srv.findSession(s.ID).LastRun() != 0 {
		t.Error("a refused run burnt a run id")
	}
	if got, _ := do(t, "GET", base+"/exchanges?since=0", "", nil); got != http.StatusOK {
		t.Errorf("since=0: %d", got)
	}
}

// GET /exchanges and GET /runs answer a page at a time, with a Link to the
// next.
func TestExchangesAndRunsArePaged(t *testing.T) {
	srv := startServer(t, 5)
	s := createSession(t, srv, "{}")
	for range 7 {
		resp, err := http.Get(s.Origins["api"] + "/users")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	base := srv.testURL(UI) + "/api/sessions/" + s.ID
	seen := 0
	for next := base + "/exchanges?limit=3"; next != ""; {
		resp, err := http.Get(next)
		if err != nil {
			t.Fatal(err)
		}
		var list []map[string]any
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err := json.Unmarshal(b, &list); err != nil || len(list) == 0 || len(list) > 3 {
			t.Fatalf("%s: %d items, %v", next, len(list), err)
		}
		seen += len(list)
		next = ""
		if link := resp.Header.Get("Link"); link != "" {
			u, _, _ := strings.Cut(strings.TrimPrefix(link, "<"), ">")
			next = srv.testURL(UI) + u
		}
		if seen > 7 {
			t.Fatal("pages repeat")
		}
	}
	if seen != 7 {
		t.Errorf("pages held %d exchanges, want 7", seen)
	}
}

// A client that sends half a body and stalls is cut off after the read
// timeout, on the UI as on the origins.
func TestAStalledBodyIsCutOff(t *testing.T) {
	cfg := quietConfig(5)
	cfg.ReadTimeout = 500 * time.Millisecond
	srv := startServerWith(t, cfg)
	for _, role := range []Role{UI, API} {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", srv.Port(role)))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "POST /api/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"setup\":")
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		start := time.Now()
		answer, _ := io.ReadAll(c) // until the server closes the connection
		c.Close()
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s kept a stalled request open for %s", role, d)
		}
		if role == UI && !strings.HasPrefix(string(answer), "HTTP/1.1 408") {
			t.Errorf("the UI answered a stalled body with %.40q, want 408", answer)
		}
	}
}

// Each server holds at most MaxConns connections: one more is closed at
// once, and a slot frees when a connection ends.
func TestConnectionsAreCapped(t *testing.T) {
	cfg := quietConfig(5)
	cfg.MaxConns = 3
	srv := startServerWith(t, cfg)
	addr := fmt.Sprintf("127.0.0.1:%d", srv.Port(UI))
	var held []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	extra, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	extra.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := extra.Read(make([]byte, 1)); err == nil || n != 0 {
		t.Errorf("a fourth connection was served: read %d, %v", n, err)
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Error("a fourth connection was held open, not closed")
	}
	extra.Close()
	held[0].Close()
	// The server notices the close when its read fails; until then the
	// slot is taken and a new connection is closed at once.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	served := false
	for deadline := time.Now().Add(5 * time.Second); !served && time.Now().Before(deadline); {
		resp, err := client.Get(srv.testURL(UI) + "/healthz")
		if err == nil {
			resp.Body.Close()
			served = resp.StatusCode == http.StatusOK
		} else {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if !served {
		t.Error("no connection was served after one of the held ones ended")
	}
	for _, c := range held[1:] {
		c.Close()
	}
}
