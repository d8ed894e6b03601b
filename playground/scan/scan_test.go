package scan

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jub0bs "github.com/jub0bs/cors"
	rs "github.com/rs/cors"

	"github.com/corslab/corslab/playground/probe"
)

// app is the origin of the app's pages in most cases; the API is an
// httptest server on 127.0.0.1.
const app = "https://app.example.com"

// items answers every request with a small JSON body.
var items = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"items":[]}`))
})

// recorder is an httptest server that keeps every request's head as the
// server got it, before any middleware.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	seen []*http.Request
}

func (r *recorder) requests() []*http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seen)
}

func serve(t *testing.T, h http.Handler) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.seen = append(rec.seen, r.Clone(context.Background()))
		rec.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(rec.Close)
	return rec
}

func rsCORS(o rs.Options) http.Handler { return rs.New(o).Handler(items) }

func jub0bsCORS(t *testing.T, c jub0bs.Config) http.Handler {
	t.Helper()
	m, err := jub0bs.NewMiddleware(c)
	if err != nil {
		t.Fatal(err)
	}
	return m.Wrap(items)
}

// echo is a hand-written CORS layer that copies any Origin, with
// credentials, and says nothing to caches.
func echo(allow func(string) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" && allow(o) {
			w.Header().Set("Access-Control-Allow-Origin", o)
			w.Header().Set("Access-Control-Allow-Credentials", "true")
		}
		items(w, r)
	})
}

var putJSON = [][2]string{{"Content-Type", "application/json"}}

func TestScanMiddlewares(t *testing.T) {
	unescaped := regexp.MustCompile(`^https://app.example.com$`)
	tests := []struct {
		desc    string
		origin  string // "" is app
		method  string
		headers [][2]string
		handler func(t *testing.T) http.Handler
		want    []string          // finding ids, in the report's order
		wantSev map[string]string // severities of some of them
	}{
		{
			desc:   "rs/cors with an exact allowlist, credentials, PUT and Content-Type: nothing to report",
			method: "PUT", headers: putJSON,
			handler: func(t *testing.T) http.Handler {
				return rsCORS(rs.Options{AllowedOrigins: []string{app}, AllowCredentials: true, AllowedMethods: []string{"GET", "PUT"}, AllowedHeaders: []string{"Content-Type"}})
			},
		},
		{
			desc:   "jub0bs/cors with an exact allowlist, credentials, PUT and Content-Type: nothing to report",
			method: "PUT", headers: putJSON,
			handler: func(t *testing.T) http.Handler {
				return jub0bsCORS(t, jub0bs.Config{Origins: []string{app}, Credentialed: true, Methods: []string{"PUT"}, RequestHeaders: []string{"Content-Type"}})
			},
		},
		{
			desc: "rs/cors with an exact allowlist and credentials, GET only: nothing to report",
			handler: func(t *testing.T) http.Handler {
				return rsCORS(rs.Options{AllowedOrigins: []string{app}, AllowCredentials: true, ExposedHeaders: []string{"X-Request-Id"}})
			},
		},
		{
			desc:    "rs/cors AllowAll, a public API without credentials: nothing to report",
			handler: func(t *testing.T) http.Handler { return rs.AllowAll().Handler(items) },
		},
		{
			desc: "jub0bs/cors allowing * without credentials: nothing to report",
			handler: func(t *testing.T) http.Handler {
				return jub0bsCORS(t, jub0bs.Config{Origins: []string{"*"}, Methods: []string{"*"}, RequestHeaders: []string{"*"}})
			},
		},
		{
			desc: "rs/cors AllowOriginFunc that allows everything, with credentials",
			handler: func(t *testing.T) http.Handler {
				return rsCORS(rs.Options{AllowOriginFunc: func(string) bool { return true }, AllowCredentials: true})
			},
			want: []string{"reflects-any-origin-with-credentials"}, wantSev: map[string]string{"reflects-any-origin-with-credentials": "high"},
		},
		{
			desc: "rs/cors AllowOriginFunc that allows everything, without credentials",
			handler: func(t *testing.T) http.Handler {
				return rsCORS(rs.Options{AllowOriginFunc: func(string) bool { return true }})
			},
			want: []string{"reflects-any-origin"}, wantSev: map[string]string{"reflects-any-origin": "low"},
		},
		{
			desc:   "rs/cors reflecting every origin only for PUT: the preflight shows it, and PUT is never sent",
			method: "PUT", headers: putJSON,
			handler: func(t *testing.T) http.Handler {
				return rsCORS(rs.Options{AllowOriginFunc: func(string) bool { return true }, AllowCredentials: true, AllowedMethods: []string{"PUT"}, AllowedHeaders: []string{"Content-Type"}})
			},
			want: []string{"reflects-any-origin-with-credentials"},
		},
		{
			desc: "rs/cors allowing null next to the app",
			handler: func(t *testing.T) http.Handler {
				return rsCORS(rs.Options{AllowedOrigins: []string{app, "null"}, AllowCredentials: true})
			},
			want: []string{"trusts-null"}, wantSev: map[string]string{"trusts-null": "high"},
		},
		{
			desc: "rs/cors AllowOriginFunc with strings.HasSuffix(origin, \"example.com\")",
			handler: func(t *testing.T) http.Handler {
				return rsCORS(rs.Options{AllowOriginFunc: func(o string) bool { return strings.HasSuffix(o, "example.com") }, AllowCredentials: true})
			},
			want: []string{"accepts-lookalike-suffix", "accepts-lookalike-unescaped-dot", "accepts-http-of-https-origin", "accepts-lookalike-subdomain", "accepts-lookalike-sibling"},
			wantSev: map[string]string{
				"accepts-lookalike-suffix": "high", "accepts-lookalike-unescaped-dot": "high", "accepts-http-of-https-origin": "medium",
				"accepts-lookalike-subdomain": "low", "accepts-lookalike-sibling": "low",
			},
		},
		{
			desc: "rs/cors pattern https://*example.com (no dot after the star)",
			handler: func(t *testing.T) http.Handler {
				return rsCORS(rs.Options{AllowedOrigins: []string{"https://*example.com"}, AllowCredentials: true})
			},
			want: []string{"accepts-lookalike-suffix", "accepts-lookalike-unescaped-dot", "accepts-lookalike-subdomain", "accepts-lookalike-sibling"},
		},
		{
			desc: "rs/cors pattern https://app.example.com* (a prefix)",
			handler: func(t *testing.T) http.Handler {
				return rsCORS(rs.Options{AllowedOrigins: []string{app + "*"}, AllowCredentials: true})
			},
			want: []string{"accepts-lookalike-prefix"}, wantSev: map[string]string{"accepts-lookalike-prefix": "high"},
		},
		{
			desc: "rs/cors AllowOriginFunc with strings.HasPrefix, without credentials",
			handler: func(t *testing.T) http.Handler {
				return rsCORS(rs.Options{AllowOriginFunc: func(o string) bool { return strings.HasPrefix(o, app) }})
			},
			want: []string{"accepts-lookalike-prefix"}, wantSev: map[string]string{"accepts-lookalike-prefix": "low"},
		},
		{
			desc: "rs/cors AllowOriginFunc with a regular expression whose dots are not escaped",
			handler: func(t *testing.T) http.Handler {
				return rsCORS(rs.Options{AllowOriginFunc: unescaped.MatchString, AllowCredentials: true})
			},
			want: []string{"accepts-lookalike-unescaped-dot"},
		},
		{
			desc:    "a hand-written handler that echoes any Origin, without Vary",
			handler: func(t *testing.T) http.Handler { return echo(func(string) bool { return true }) },
			want:    []string{"reflects-any-origin-with-credentials", "missing-vary-origin"},
		},
		{
			desc:    "a hand-written handler with an exact allowlist, without Vary",
			handler: func(t *testing.T) http.Handler { return echo(func(o string) bool { return o == app }) },
			want:    []string{"missing-vary-origin"}, wantSev: map[string]string{"missing-vary-origin": "low"},
		},
		{
			desc: "rs/cors AllowedOrigins * with AllowCredentials: the pair browsers refuse",
			handler: func(t *testing.T) http.Handler {
				return rsCORS(rs.Options{AllowedOrigins: []string{"*"}, AllowCredentials: true})
			},
			want: []string{"wildcard-with-credentials"},
		},
		{
			desc: "rs/cors exposing Authorization",
			handler: func(t *testing.T) http.Handler {
				return rsCORS(rs.Options{AllowedOrigins: []string{app}, AllowCredentials: true, ExposedHeaders: []string{"Authorization", "X-Request-Id"}})
			},
			want: []string{"exposes-sensitive-headers"}, wantSev: map[string]string{"exposes-sensitive-headers": "low"},
		},
		{
			desc: "rs/cors exposing Set-Cookie, which browsers never expose",
			handler: func(t *testing.T) http.Handler {
				return rsCORS(rs.Options{AllowedOrigins: []string{app}, AllowCredentials: true, ExposedHeaders: []string{"Set-Cookie"}})
			},
			want: []string{"exposes-sensitive-headers"}, wantSev: map[string]string{"exposes-sensitive-headers": "info"},
		},
		{
			desc: "jub0bs/cors exposing X-Session-Token",
			handler: func(t *testing.T) http.Handler {
				return jub0bsCORS(t, jub0bs.Config{Origins: []string{app}, Credentialed: true, ResponseHeaders: []string{"X-Session-Token"}})
			},
			want: []string{"exposes-sensitive-headers"}, wantSev: map[string]string{"exposes-sensitive-headers": "low"},
		},
		{
			desc: "jub0bs/cors told to tolerate the app's origin over http",
			handler: func(t *testing.T) http.Handler {
				c := jub0bs.Config{Origins: []string{app, "http://app.example.com"}, Credentialed: true}
				c.DangerouslyTolerateInsecureOrigins = true
				return jub0bsCORS(t, c)
			},
			want: []string{"accepts-http-of-https-origin"}, wantSev: map[string]string{"accepts-http-of-https-origin": "medium"},
		},
		{
			desc: "jub0bs/cors allowing https://*.example.com: the owner's subdomains and siblings",
			handler: func(t *testing.T) http.Handler {
				return jub0bsCORS(t, jub0bs.Config{Origins: []string{"https://*.example.com"}, Credentialed: true})
			},
			want:    []string{"accepts-lookalike-subdomain", "accepts-lookalike-sibling"},
			wantSev: map[string]string{"accepts-lookalike-subdomain": "low", "accepts-lookalike-sibling": "low"},
		},
		{
			desc:   "jub0bs/cors allowing https://*.github.io for alice.github.io: strangers' sites",
			origin: "https://alice.github.io",
			handler: func(t *testing.T) http.Handler {
				c := jub0bs.Config{Origins: []string{"https://*.github.io"}, Credentialed: true}
				c.DangerouslyTolerateSubdomainsOfPublicSuffixes = true
				return jub0bsCORS(t, c)
			},
			want:    []string{"accepts-lookalike-suffix", "accepts-lookalike-sibling", "accepts-lookalike-subdomain"},
			wantSev: map[string]string{"accepts-lookalike-suffix": "high", "accepts-lookalike-sibling": "high", "accepts-lookalike-subdomain": "low"},
		},
		{
			desc: "jub0bs/cors allowing every method and header with credentials",
			handler: func(t *testing.T) http.Handler {
				return jub0bsCORS(t, jub0bs.Config{Origins: []string{app}, Credentialed: true, Methods: []string{"*"}, RequestHeaders: []string{"*"}})
			},
			want: []string{"preflight-allows-everything-with-credentials"},
		},
		{
			desc: "rs/cors echoing every requested header, with the made-up method listed",
			handler: func(t *testing.T) http.Handler {
				return rsCORS(rs.Options{AllowedOrigins: []string{app}, AllowCredentials: true, AllowedMethods: []string{"GET", madeUpMethod}, AllowedHeaders: []string{"*"}})
			},
			want: []string{"preflight-allows-everything-with-credentials"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			t.Parallel()
			srv := serve(t, tt.handler(t))
			origin := tt.origin
			if origin == "" {
				origin = app
			}
			rep, err := Run(context.Background(), Config{
				URL: srv.URL + "/api/items", Origin: origin, Method: tt.method, Headers: tt.headers, Timeout: 2 * time.Second,
			})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range rep.Findings {
				got = append(got, f.ID)
				if want, ok := tt.wantSev[f.ID]; ok && string(f.Severity) != want {
					t.Errorf("%s: severity %s, want %s", f.ID, f.Severity, want)
				}
				shows(t, f, rep)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("findings %q, want %q\nchecks: %+v", got, tt.want, rep.Checks)
			}
			if len(tt.want) == 0 && len(rep.Checks) != 12 {
				t.Errorf("a clean report lists %d checks, want all 12: %+v", len(rep.Checks), rep.Checks)
			}
			safe(t, srv, rep)
		})
	}
}

// shows fails unless the first exchange of f's evidence shows f in its
// raw heads.
func shows(t *testing.T, f Finding, rep *Report) {
	t.Helper()
	if len(f.Evidence) == 0 {
		t.Errorf("%s: no evidence", f.ID)
		return
	}
	ev := f.Evidence[0]
	req, resp := ev.RawRequest, ev.RawResponse
	has := func(head, line string) {
		t.Helper()
		if !strings.Contains(strings.ToLower(head), strings.ToLower("\r\n"+line+"\r\n")) {
			t.Errorf("%s: the evidence lacks %q:\n%s%s", f.ID, line, req, resp)
		}
	}
	switch f.ID {
	case "wildcard-with-credentials":
		has(resp, "Access-Control-Allow-Origin: *")
		has(resp, "Access-Control-Allow-Credentials: true")
	case "missing-vary-origin":
		has(req, "Origin: "+ev.Origin)
		if strings.Contains(strings.ToLower(resp), "\r\nvary: origin") {
			t.Errorf("%s: the evidence says Vary: Origin:\n%s", f.ID, resp)
		}
		if len(f.Evidence) != 2 || f.Evidence[1].Origin == ev.Origin {
			t.Errorf("%s: want a second exchange from another origin, got %+v", f.ID, f.Evidence)
		}
	case "preflight-allows-everything-with-credentials":
		if want := "OPTIONS " + strings.TrimPrefix(rep.Target, "http://"+hostPort(rep.Target)) + " HTTP/1.1\r\n"; !strings.HasPrefix(req, want) {
			t.Errorf("%s: the evidence does not start with %q:\n%s", f.ID, want, req)
		}
		has(req, "Access-Control-Request-Method: "+madeUpMethod)
		has(req, "Access-Control-Request-Headers: "+strings.ToLower(madeUpHeader))
		has(resp, "Access-Control-Allow-Origin: "+rep.Origin)
		has(resp, "Access-Control-Allow-Credentials: true")
	case "exposes-sensitive-headers":
		if !strings.Contains(strings.ToLower(resp), "\r\naccess-control-expose-headers: ") {
			t.Errorf("%s: the evidence has no Access-Control-Expose-Headers:\n%s", f.ID, resp)
		}
	default: // an origin the server should not have allowed
		has(req, "Origin: "+ev.Origin)
		has(resp, "Access-Control-Allow-Origin: "+ev.Origin)
		if ev.Origin == rep.Origin {
			t.Errorf("%s: the evidence was sent from the app's own origin", f.ID)
		}
		if f.Severity == High || f.ID == "reflects-any-origin-with-credentials" {
			has(resp, "Access-Control-Allow-Credentials: true")
		}
	}
}

func hostPort(u string) string {
	rest := strings.TrimPrefix(strings.TrimPrefix(u, "http://"), "https://")
	host, _, _ := strings.Cut(rest, "/")
	return host
}

// safe fails unless the scan kept to its bounds: at most
// DefaultMaxRequests requests, only GET and OPTIONS, no cookie or
// credentials, each counted in the report.
func safe(t *testing.T, srv *recorder, rep *Report) {
	t.Helper()
	seen := srv.requests()
	if len(seen) > DefaultMaxRequests || len(seen) != rep.Requests {
		t.Errorf("the server got %d requests, the report counts %d, the bound is %d", len(seen), rep.Requests, DefaultMaxRequests)
	}
	for _, r := range seen {
		if r.Method != "GET" && r.Method != "OPTIONS" {
			t.Errorf("the scan sent %s", r.Method)
		}
		for _, h := range []string{"Cookie", "Authorization", "Proxy-Authorization"} {
			if v := r.Header.Get(h); v != "" {
				t.Errorf("the scan sent %s: %s", h, v)
			}
		}
	}
}

func TestScanNeverSendsHeaderValues(t *testing.T) {
	srv := serve(t, rsCORS(rs.Options{AllowedOrigins: []string{app}, AllowCredentials: true, AllowedMethods: []string{"DELETE"}, AllowedHeaders: []string{"Authorization"}}))
	rep, err := Run(context.Background(), Config{
		URL: srv.URL + "/api/items/1", Origin: app, Method: "DELETE", Headers: [][2]string{{"Authorization", "Bearer s3cret"}}, Timeout: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 0 {
		t.Errorf("findings %+v, want none", rep.Findings)
	}
	preflights := 0
	for _, r := range srv.requests() {
		for name, values := range r.Header {
			for _, v := range values {
				if strings.Contains(v, "s3cret") {
					t.Errorf("the scan sent the header's value, in %s: %s", name, v)
				}
			}
		}
		if r.Method == "OPTIONS" && r.Header.Get("Access-Control-Request-Method") == "DELETE" {
			preflights++
			if got := r.Header.Get("Access-Control-Request-Headers"); got != "authorization" {
				t.Errorf("the preflight asked about %q, want authorization", got)
			}
		}
	}
	// The app's origin and each look-alike that applies: any, null,
	// suffix, prefix, dot, subdomain, sibling, http.
	if preflights != 9 {
		t.Errorf("%d preflights for DELETE, want 9", preflights)
	}
	safe(t, srv, rep)
}

func TestScanBudget(t *testing.T) {
	srv := serve(t, rsCORS(rs.Options{AllowedOrigins: []string{app}, AllowCredentials: true}))
	rep, err := Run(context.Background(), Config{URL: srv.URL, Origin: app, MaxRequests: 4, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(srv.requests()); n != 4 || rep.Requests != 4 {
		t.Errorf("sent %d requests, the report says %d; want 4", n, rep.Requests)
	}
	var notRun []string
	for _, c := range rep.Checks {
		if c.Outcome == NotRun {
			notRun = append(notRun, c.ID)
		}
	}
	// The app's origin, any, null and the suffix look-alike use the four.
	want := []string{"accepts-lookalike-prefix", "accepts-lookalike-unescaped-dot", "accepts-lookalike-subdomain", "accepts-lookalike-sibling", "accepts-http-of-https-origin", "preflight-allows-everything-with-credentials"}
	if !slices.Equal(notRun, want) {
		t.Errorf("checks not run %q, want %q", notRun, want)
	}
}

func TestScanRedirects(t *testing.T) {
	final := serve(t, rsCORS(rs.Options{AllowOriginFunc: func(string) bool { return true }, AllowCredentials: true}))
	// The first hop allows the app, so that the browser follows it, to a
	// host name other than its own.
	to := strings.Replace(final.URL, "127.0.0.1", "localhost", 1) + "/api/items"
	first := serve(t, rs.New(rs.Options{AllowedOrigins: []string{app}, AllowCredentials: true}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, to, http.StatusFound)
	})))

	_, err := Run(context.Background(), Config{URL: first.URL + "/old", Origin: app, Timeout: 2 * time.Second})
	var refused *probe.RedirectRefusedError
	if !errors.As(err, &refused) || refused.Host != "localhost" {
		t.Fatalf("err = %v, want a redirect refused for localhost", err)
	}
	if n := len(final.requests()); n != 0 {
		t.Errorf("the host not allowed got %d requests", n)
	}

	rep, err := Run(context.Background(), Config{URL: first.URL + "/old", Origin: app, AllowHosts: []string{"localhost"}, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(rep.Target, "http://localhost:") || len(rep.Notes) == 0 {
		t.Errorf("target %s, notes %q: want the redirect's target, and a note", rep.Target, rep.Notes)
	}
	if len(rep.Findings) == 0 || rep.Findings[0].ID != "reflects-any-origin-with-credentials" {
		t.Errorf("findings %+v, want the target's reflection", rep.Findings)
	}
}

func TestScanConfigErrors(t *testing.T) {
	tests := []struct {
		desc string
		cfg  Config
		want []string
	}{
		{"no origin", Config{URL: "http://a/"}, []string{"origin: is required"}},
		{"null", Config{URL: "http://a/", Origin: "null"}, []string{"origin: must be your app's origin"}},
		{"a relative URL and a bad method", Config{URL: "/x", Origin: app, Method: "P T"}, []string{"url: must be an absolute", "method: must be an HTTP method"}},
		{"a negative budget", Config{URL: "http://a/", Origin: app, MaxRequests: -1}, []string{"max-requests: must not be negative"}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			rep, err := Run(context.Background(), tt.cfg)
			if rep != nil || err == nil {
				t.Fatalf("report %v, err %v: want only an error", rep, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %q, want %q in it", err, w)
				}
			}
			var fe *probe.FieldError
			if !errors.As(err, &fe) {
				t.Errorf("err %T is no *probe.FieldError", err)
			}
		})
	}
}

func TestLookalikes(t *testing.T) {
	tests := []struct {
		origin string
		want   map[string]string // check → origin ("" for not applicable)
		who    map[string]string
	}{
		{
			origin: "https://app.example.com",
			want: map[string]string{
				"reflects-any-origin": anyOrigin, "trusts-null": "null",
				"accepts-lookalike-suffix":        "https://corslab-scanexample.com",
				"accepts-lookalike-prefix":        "https://app.example.com.corslab-scan.invalid",
				"accepts-lookalike-unescaped-dot": "https://app-example.com",
				"accepts-lookalike-subdomain":     "https://corslab-scan.app.example.com",
				"accepts-lookalike-sibling":       "https://corslab-scan.example.com",
				"accepts-http-of-https-origin":    "http://app.example.com",
			},
			who: map[string]string{"accepts-lookalike-sibling": owner, "accepts-lookalike-subdomain": owner},
		},
		{
			origin: "https://example.co.uk:8443",
			want: map[string]string{
				"accepts-lookalike-suffix":        "https://corslab-scanexample.co.uk:8443",
				"accepts-lookalike-prefix":        "https://example.co.uk.corslab-scan.invalid:8443",
				"accepts-lookalike-unescaped-dot": "https://example-co.uk:8443",
				"accepts-lookalike-subdomain":     "https://corslab-scan.example.co.uk:8443",
				"accepts-lookalike-sibling":       "",
				"accepts-http-of-https-origin":    "http://example.co.uk:8443",
			},
		},
		{
			origin: "https://alice.github.io",
			want: map[string]string{
				"accepts-lookalike-suffix":        "https://corslab-scanalice.github.io",
				"accepts-lookalike-unescaped-dot": "https://alice-github.io",
				"accepts-lookalike-sibling":       "https://corslab-scan.github.io",
			},
			who: map[string]string{"accepts-lookalike-sibling": anyone},
		},
		{
			origin: "http://localhost:5173",
			want: map[string]string{
				"accepts-lookalike-suffix":        "",
				"accepts-lookalike-prefix":        "http://localhost.corslab-scan.invalid:5173",
				"accepts-lookalike-unescaped-dot": "",
				"accepts-lookalike-subdomain":     "http://corslab-scan.localhost:5173",
				"accepts-lookalike-sibling":       "",
				"accepts-http-of-https-origin":    "",
			},
		},
		{
			origin: "http://127.0.0.1:8080",
			want: map[string]string{
				"accepts-lookalike-suffix":    "",
				"accepts-lookalike-prefix":    "http://127.0.0.1.corslab-scan.invalid:8080",
				"accepts-lookalike-subdomain": "",
				"accepts-lookalike-sibling":   "",
			},
		},
		{
			origin: "https://api.corp.internal",
			want: map[string]string{
				"accepts-lookalike-suffix":  "",
				"accepts-lookalike-sibling": "https://corslab-scan.corp.internal",
			},
			who: map[string]string{"accepts-lookalike-sibling": owner},
		},
	}
	for _, tt := range tests {
		t.Run(tt.origin, func(t *testing.T) {
			got := map[string]lookalike{}
			for _, l := range lookalikes(tt.origin) {
				got[l.check] = l
				if l.why == "" {
					t.Errorf("%s: no words", l.check)
				}
			}
			if len(got) != 8 {
				t.Errorf("%d checks, want 8", len(got))
			}
			for check, want := range tt.want {
				if got[check].origin != want {
					t.Errorf("%s: %q, want %q (%s)", check, got[check].origin, want, got[check].why)
				}
			}
			for check, want := range tt.who {
				if got[check].who != want {
					t.Errorf("%s: who %q, want %q", check, got[check].who, want)
				}
			}
		})
	}
}
