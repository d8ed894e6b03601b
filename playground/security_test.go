package playground

import (
	"io"
	"io/fs"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/corslab/corslab/static"
)

// uiCSPFor is the UI's Content-Security-Policy, written out, for a browser
// that reached corslab on host: every origin the lab frames is named on
// that host. The embed view has no frame-ancestors.
func uiCSPFor(srv *Server, host string, embed bool) string {
	p := func(r Role) string { return strconv.Itoa(srv.Port(r)) }
	csp := "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self' ws://" + host + ":" + p(UI) + "; " +
		"frame-src http://" + host + ":" + p(App) + " http://" + host + ":" + p(API) + " http://" + host + ":" + p(Evil) +
		" http://*.localhost:" + p(App) + "; " +
		"object-src 'none'; base-uri 'none'; form-action 'self'"
	if !embed {
		csp += "; frame-ancestors 'none'"
	}
	return csp
}

// Every response of the UI origin, of every kind, carries the security
// headers; the embed view, which other sites frame, carries no
// X-Frame-Options and no frame-ancestors. A static script or stylesheet,
// never a document, carries nosniff alone (TestStaticFileHeaders).
func TestUISecurityHeaders(t *testing.T) {
	c := newLessonClient(t, 20) // Host: localhost:<ui>
	_, labLoc, _ := c.get("/lab")
	labID := strings.TrimPrefix(labLoc, "/lab/")
	lessonID, _ := c.newLessonSession("handlers-one", "")

	tests := []struct {
		kind   string
		path   string
		status int
		embed  bool
	}{
		{"new lab (redirect)", "/lab", http.StatusSeeOther, false},
		{"lab", "/lab/" + labID, http.StatusOK, false},
		{"lab with run=1", "/lab/" + labID + "?run=1", http.StatusOK, false},
		{"bad permalink", "/lab?request.method=%00", http.StatusBadRequest, false},
		{"lesson index", "/lessons", http.StatusOK, false},
		{"lesson page", "/lessons/handlers-one/" + lessonID, http.StatusOK, false},
		{"no such lesson", "/lessons/no-such-lesson", http.StatusNotFound, false},
		{"new embed (redirect)", "/embed/handlers-one", http.StatusSeeOther, true},
		{"embed view", "/embed/handlers-one/" + lessonID + "?run=1", http.StatusOK, true},
		{"embed view, no such lesson", "/embed/no-such-lesson", http.StatusNotFound, true},
		{"matrix", "/matrix/" + labID + "?run=1", http.StatusOK, false},
		{"API: session JSON", "/api/sessions/" + labID, http.StatusOK, false},
		{"API: lessons JSON", "/api/lessons", http.StatusOK, false},
		{"API: goals JSON", "/api/sessions/" + lessonID + "/goals", http.StatusOK, false},
		{"API: HAR", "/api/sessions/" + labID + "/har", http.StatusOK, false},
		{"API: not found", "/api/no-such-thing", http.StatusNotFound, false},
		{"websocket without an upgrade", "/api/sessions/" + labID + "/ws", http.StatusBadRequest, false},
		{"static, not a file", "/static/", http.StatusNotFound, false},
		{"health check", "/healthz", http.StatusOK, false},
		{"not found", "/no-such-page", http.StatusNotFound, false},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			resp := c.do(http.MethodGet, tt.path, "")
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("GET %s: %d, want %d", tt.path, resp.StatusCode, tt.status)
			}
			want := map[string]string{
				"Content-Security-Policy":    uiCSPFor(c.srv, "localhost", tt.embed),
				"X-Content-Type-Options":     "nosniff",
				"Referrer-Policy":            "no-referrer",
				"Cross-Origin-Opener-Policy": "same-origin",
				"X-Frame-Options":            "DENY",
			}
			if tt.embed {
				want["X-Frame-Options"] = ""
			}
			for name, v := range want {
				if got := resp.Header.Values(name); strings.Join(got, ", ") != v || len(got) > 1 {
					t.Errorf("%s: %q\nwant %q", name, got, v)
				}
			}
			csp := resp.Header.Get("Content-Security-Policy")
			if strings.Contains(csp, "unsafe-") {
				t.Errorf("the policy allows something unsafe: %s", csp)
			}
			if tt.embed == strings.Contains(csp, "frame-ancestors") {
				t.Errorf("embed view %v, but the policy is %s", tt.embed, csp)
			}
		})
	}
}

// A static script or stylesheet has the headers below, and no other:
// nosniff, and what caching and compression need (and Content-Length or
// chunks, as its size goes). The document headers (TestUISecurityHeaders)
// belong to the page that loads it.
func TestStaticFileHeaders(t *testing.T) {
	srv := startServer(t, 1)
	v := "/static/v/" + static.Version
	tests := []struct {
		desc, path string
		status     int
		want       []string
	}{
		{"versioned script", v + "/lab.js", http.StatusOK, []string{
			"Accept-Ranges", "Cache-Control", "Content-Encoding", "Content-Type", "Date", "Etag", "Vary", "X-Content-Type-Options"}},
		{"versioned stylesheet", v + "/lab.css", http.StatusOK, []string{
			"Accept-Ranges", "Cache-Control", "Content-Encoding", "Content-Type", "Date", "Etag", "Vary", "X-Content-Type-Options"}},
		{"plain URL", "/static/dom.js", http.StatusOK, []string{
			"Accept-Ranges", "Cache-Control", "Content-Encoding", "Content-Type", "Date", "Etag", "Vary", "X-Content-Type-Options"}},
		{"a script not there", "/static/nope.js", http.StatusNotFound, []string{
			"Content-Type", "Date", "X-Content-Type-Options"}},
	}
	for _, tt := range tests {
		resp, _ := rawGet(t, srv.testURL(UI)+tt.path, "Accept-Encoding", "gzip")
		var got []string
		for name := range resp.Header {
			if name != "Content-Length" {
				got = append(got, name)
			}
		}
		sort.Strings(got)
		if resp.StatusCode != tt.status || strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("%s: GET %s: %d, headers\n %v\nwant %d, headers\n %v", tt.desc, tt.path, resp.StatusCode, got, tt.status, tt.want)
		}
		if v := resp.Header.Get("X-Content-Type-Options"); v != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q, want nosniff", tt.desc, v)
		}
	}
}

// Which UI paths are static files that only a page uses, and so carry
// nosniff alone. A file a browser makes a document of (HTML, SVG) keeps a
// page's headers, should static/ ever hold one.
func TestStaticSubresource(t *testing.T) {
	for _, tt := range []struct {
		path string
		want bool
	}{
		{"/static/v/0123456789/lab.js", true},
		{"/static/lab.css", true},
		{"/static/data.json", true},
		{"/static/nope.js", true},
		{"/static/page.html", false},
		{"/static/v/0123456789/icon.svg", false},
		{"/static/", false},
		{"/static/v/0123456789/", false},
		{"/lab", false},
		{"/lessons/lab.js", false},
		{"/_corslab/static/runner.js", false}, // not the UI's: noSniff
	} {
		if got := staticSubresource(tt.path); got != tt.want {
			t.Errorf("staticSubresource(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}

// The policy names the origins on the host the browser used, as the page
// does; on an IPv6 address, which CSP cannot name, it says what it can.
func TestUICSPFollowsTheHost(t *testing.T) {
	srv := startServer(t, 5)
	ui, app := strconv.Itoa(srv.Port(UI)), strconv.Itoa(srv.Port(App))
	for _, host := range []string{"127.0.0.1", "localhost", "corslab.localhost", "192.168.1.5"} {
		resp, _ := getAs(t, srv.testURL(UI)+"/lessons", host+":"+ui)
		if got, want := resp.Header.Get("Content-Security-Policy"), uiCSPFor(srv, host, false); got != want {
			t.Errorf("Host %s:\n got %s\nwant %s", host, got, want)
		}
	}
	resp, _ := getAs(t, srv.testURL(UI)+"/lessons", "[::1]:"+ui)
	want := "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
		"frame-src http: http://*.localhost:" + app + "; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
	if got := resp.Header.Get("Content-Security-Policy"); got != want {
		t.Errorf("Host [::1]:\n got %s\nwant %s", got, want)
	}
}

// nosniff makes the browser refuse a script or stylesheet served with
// another type: every static file must have its own.
func TestStaticFilesHaveTheirTypes(t *testing.T) {
	srv := startServer(t, 1)
	files, err := fs.Glob(static.FS, "*.*")
	if err != nil || len(files) == 0 {
		t.Fatalf("static files: %v %v", files, err)
	}
	for _, name := range files {
		want := map[string]string{".js": "text/javascript", ".css": "text/css"}[name[strings.LastIndex(name, "."):]]
		for _, u := range []string{srv.testURL(UI) + "/static/" + name, srv.testURL(App) + "/_corslab/static/" + name} {
			resp, err := http.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			ct := resp.Header.Get("Content-Type")
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(ct, want+";") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("GET %s: %d, Content-Type %q, X-Content-Type-Options %q; want %s and nosniff",
					u, resp.StatusCode, ct, resp.Header.Get("X-Content-Type-Options"), want)
			}
		}
	}
}

// The UI origin allows no other origin to read it: no Access-Control-*
// header on a preflight or on a request with a foreign Origin, whatever
// the route.
func TestUISendsNoCORSHeaders(t *testing.T) {
	c := newLessonClient(t, 20)
	_, labLoc, _ := c.get("/lab")
	labID := strings.TrimPrefix(labLoc, "/lab/")
	lessonID, _ := c.newLessonSession("handlers-one", "")
	paths := []string{
		"/api/sessions", "/api/sessions/" + labID, "/api/sessions/" + labID + "/scenario",
		"/api/sessions/" + labID + "/runs", "/api/lessons", "/lab", "/lab/" + labID,
		"/embed/handlers-one/" + lessonID, "/matrix/" + labID, "/static/lab.js",
	}
	for _, foreign := range []string{"http://evil.example", "null", c.origin(Evil), c.origin(App)} {
		for _, path := range paths {
			for _, method := range []string{http.MethodOptions, http.MethodGet, http.MethodPost} {
				req, err := http.NewRequest(method, c.srv.testURL(UI)+path, strings.NewReader(`{}`))
				if err != nil {
					t.Fatal(err)
				}
				req.Host = c.host
				req.Header.Set("Origin", foreign)
				req.Header.Set("Content-Type", "application/json")
				if method == http.MethodOptions {
					req.Header.Set("Access-Control-Request-Method", "PUT")
					req.Header.Set("Access-Control-Request-Headers", "content-type")
					req.Header.Del("Content-Type")
				}
				client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				for name, v := range resp.Header {
					if strings.HasPrefix(name, "Access-Control-") {
						t.Errorf("%s %s with Origin %s: %d with %s: %q", method, path, foreign, resp.StatusCode, name, v)
					}
				}
			}
		}
	}
}

// The runner page on app, api and evil (and on a look-alike host) gets
// nosniff and a policy of its own; nothing that limits who frames it, and
// nothing that changes the learner's fetch().
func TestRunnerSecurityHeaders(t *testing.T) {
	srv := startServer(t, 1)
	p := func(r Role) string { return strconv.Itoa(srv.Port(r)) }
	uiParam := "?ui=http://127.0.0.1:" + p(UI)
	tests := []struct {
		desc, url, host string
	}{
		{"app", srv.testURL(App) + "/_corslab/runner", "127.0.0.1:" + p(App)},
		{"api", srv.testURL(API) + "/_corslab/runner", "127.0.0.1:" + p(API)},
		{"evil", srv.testURL(Evil) + "/_corslab/runner", "127.0.0.1:" + p(Evil)},
		{"evil, named ui", srv.testURL(Evil) + "/_corslab/runner" + uiParam, "127.0.0.1:" + p(Evil)},
		{"look-alike", srv.testURL(App) + "/_corslab/runner" + uiParam, "app-corslab.localhost:" + p(App)},
		{"app on localhost", srv.testURL(App) + "/_corslab/runner", "localhost:" + p(App)},
	}
	// The same on every host: it names none.
	const wantCSP = "default-src 'none'; script-src *; style-src *; img-src * data:; font-src *; connect-src *; " +
		"frame-src *; form-action *; object-src 'none'; base-uri 'none'"
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			resp, body := getAs(t, tt.url, tt.host)
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, "runner.js") {
				t.Fatalf("GET %s on %s: %d\n%s", tt.url, tt.host, resp.StatusCode, body)
			}
			if got := resp.Header.Get("Content-Security-Policy"); got != wantCSP {
				t.Errorf("Content-Security-Policy:\n got %s\nwant %s", got, wantCSP)
			}
			if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options: %q", got)
			}
			// The browsers' default Referrer-Policy, said out loud: WebKit
			// would give the frame the lab's no-referrer.
			if got := resp.Header.Get("Referrer-Policy"); got != "strict-origin-when-cross-origin" {
				t.Errorf("Referrer-Policy: %q", got)
			}
			// Framed under any ancestor.
			for _, name := range []string{"X-Frame-Options", "Cross-Origin-Opener-Policy"} {
				if v, ok := resp.Header[name]; ok {
					t.Errorf("the runner page has %s: %q", name, v)
				}
			}
		})
	}

	t.Run("on an IPv6 address, the same policy", func(t *testing.T) {
		resp, _ := getAs(t, srv.testURL(App)+"/_corslab/runner", "[::1]:"+p(App))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if v := resp.Header.Get("Content-Security-Policy"); v != wantCSP {
			t.Errorf("Content-Security-Policy:\n got %s\nwant %s", v, wantCSP)
		}
		if v := resp.Header.Get("X-Content-Type-Options"); v != "nosniff" {
			t.Errorf("X-Content-Type-Options: %q", v)
		}
	})

	t.Run("its script: nosniff, and still readable by the sandboxed runner", func(t *testing.T) {
		resp, _ := getAs(t, srv.testURL(App)+"/_corslab/static/runner.js", "127.0.0.1:"+p(App))
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "*" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET runner.js: %d, headers %v", resp.StatusCode, resp.Header)
		}
	})
}

// The virtual origins' answers are the learner's: corslab adds none of its
// security headers to them (they would change what the lab teaches).
func TestVirtualOriginsGetNoSecurityHeaders(t *testing.T) {
	srv := startServer(t, 5)
	id := createSession(t, srv, `{"api": {"allowOrigin": "*"}}`).ID
	urls := []string{
		srv.testURL(API) + "/" + id + "/users",
		srv.testURL(API) + "/" + id + "/no-such-route",
		srv.testURL(API) + "/" + id + "/files/hello.txt",
		srv.testURL(S3) + "/" + id + "/hello.txt",
		srv.testURL(App) + "/" + id + "/",
		srv.testURL(App) + "/" + id + "/api/users",
		srv.testURL(Evil) + "/" + id + "/",
	}
	for _, u := range urls {
		for _, method := range []string{http.MethodGet, http.MethodOptions} {
			req, _ := http.NewRequest(method, u, nil)
			req.Header.Set("Origin", srv.testURL(App))
			req.Header.Set("Access-Control-Request-Method", "GET")
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			for _, name := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Cross-Origin-Opener-Policy"} {
				if v, ok := resp.Header[name]; ok {
					t.Errorf("%s %s: %d with %s: %q", method, u, resp.StatusCode, name, v)
				}
			}
		}
	}
}
