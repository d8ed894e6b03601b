package playground

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	rs "github.com/rs/cors"

	"github.com/corslab/corslab/internal/browsertest"
)

// The yours origin in every engine: the learner's own browser fetches,
// from app, evil or a sandbox, through yours, from a server of their own
// (here rs/cors, configured well under /good and badly under /bad), and
// the engine's verdict on the run must be what the browser did.
func TestYoursInBrowser(t *testing.T) {
	srv := startServer(t, 50)
	app := srv.testURL(App)

	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "42")
		w.Write([]byte(`{"hello":"yours"}`))
	})
	mux := http.NewServeMux()
	mux.Handle("/good/", rs.New(rs.Options{
		AllowedOrigins:   []string{app},
		AllowedMethods:   []string{"GET", "PUT"},
		AllowedHeaders:   []string{"X-Token", "Content-Type"},
		ExposedHeaders:   []string{"X-Request-Id"},
		AllowCredentials: true,
	}).Handler(hello))
	// The classic mistakes: every origin reflected and credentials
	// allowed, but the preflight allows no header.
	mux.Handle("/bad/", rs.New(rs.Options{
		AllowOriginFunc:  func(string) bool { return true },
		AllowedMethods:   []string{"GET"},
		AllowCredentials: true,
	}).Handler(hello))
	upstream := httptest.NewServer(mux)
	t.Cleanup(upstream.Close)

	cases := []struct {
		desc   string
		q      url.Values
		wantOK bool
	}{
		{"a GET from app, allowed", url.Values{"yours.baseUrl": {upstream.URL + "/good"}}, true},
		{"a PUT with a header from app, preflight allowed", url.Values{"yours.baseUrl": {upstream.URL + "/good"},
			"request.method": {"PUT"}, "request.headers.X-Token": {"t"}, "request.body": {"{}"}, "request.path": {"/items/put"}}, true},
		{"a GET from evil, not allowed", url.Values{"yours.baseUrl": {upstream.URL + "/good"}, "request.from": {"evil"}}, false},
		{"a GET from a sandbox, Origin null, not allowed", url.Values{"yours.baseUrl": {upstream.URL + "/good"}, "request.from": {"sandbox"}}, false},
		{"a GET from evil with credentials, reflected", url.Values{"yours.baseUrl": {upstream.URL + "/bad"}, "request.from": {"evil"},
			"request.credentials": {"include"}}, true},
		{"a PUT with a header the bad preflight does not allow", url.Values{"yours.baseUrl": {upstream.URL + "/bad"},
			"request.method": {"PUT"}, "request.headers.X-Token": {"t"}, "request.body": {"{}"}, "request.path": {"/items/bad"}}, false},
	}
	browsertest.Each(t, func(t *testing.T, b browsertest.Browser) {
		tab := b.NewTab(t)
		for _, c := range cases {
			q := c.q
			q.Set("request.target", "yours")
			if q.Get("request.path") == "" {
				q.Set("request.path", "/items")
			}
			q.Set("run", "1")
			open(t, tab, srv.testURL(UI)+"/lab?"+q.Encode())
			id := waitLabSession(t, tab)
			run := waitRun(t, srv, id, 1)
			// The form shows the base URL, under To, and the page kept it.
			if got := jsValue[string](t, tab, `(() => { const f = document.querySelector("#f-yours-baseUrl"); return f && !f.closest("#yours-fields").hidden ? f.value : "hidden"; })()`); got != q.Get("yours.baseUrl") {
				t.Errorf("%s: the base URL box shows %q, want %q", c.desc, got, q.Get("yours.baseUrl"))
			}
			if len(run.Refused) > 0 {
				t.Fatalf("%s: corslab refused it: %+v", c.desc, run.Refused)
			}
			if run.Verdict == nil {
				t.Fatalf("%s: the run has no verdict", c.desc)
			}
			if run.Browser.OK != c.wantOK {
				t.Errorf("%s: the browser's fetch ok=%v (%s), want %v", c.desc, run.Browser.OK, run.Browser.Error, c.wantOK)
			}
			if !run.Verdict.Agrees || run.Verdict.OK != run.Browser.OK {
				t.Errorf("%s: the engine says ok=%v at %s (%+v); the browser's fetch ok=%v (%s)",
					c.desc, run.Verdict.OK, run.Verdict.Stage, run.Verdict.Steps, run.Browser.OK, run.Browser.Error)
			}
			// The browser's hops were to yours, each captured, and the
			// upstream's answer came back through it.
			exs := runExchanges(t, srv, id, run)
			if len(exs) == 0 {
				t.Fatalf("%s: no exchange captured", c.desc)
			}
			for _, ex := range exs {
				if ex.Origin != Yours.String() {
					t.Errorf("%s: an exchange on %s, want yours", c.desc, ex.Origin)
				}
				if _, cookie := ex.Request.Header("Cookie"); cookie && ex.Request.Method == "OPTIONS" {
					t.Errorf("%s: a preflight carried a cookie", c.desc)
				}
			}
			if c.wantOK && !strings.Contains(run.Browser.Body, "yours") {
				t.Errorf("%s: body %q, want the upstream's", c.desc, run.Browser.Body)
			}
		}
	})
}

// waitLabSession waits until a lab page has moved to its session's URL and
// returns the session id.
func waitLabSession(t *testing.T, tab browsertest.Tab) string {
	t.Helper()
	var id string
	waitFor(t, "the lab's session", func() bool {
		p := jsValue[string](t, tab, "location.pathname")
		id = strings.TrimPrefix(p, "/lab/")
		return strings.HasPrefix(p, "/lab/") && id != ""
	})
	return id
}
