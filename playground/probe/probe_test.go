package probe

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jub0bs "github.com/jub0bs/cors"
	rs "github.com/rs/cors"

	"github.com/corslab/corslab/playground/cors"
)

// The page's origin in most cases: a dev server on another port and host
// than the API's 127.0.0.1, as in the issue.
const page = "http://localhost:5173"

// seen is a request as the server got it.
type seen struct {
	method, path string
	header       http.Header
}

// recorder is an httptest server on 127.0.0.1 that records every request
// before the CORS middleware sees it.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	seen []seen
}

func (r *recorder) requests() []seen {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seen)
}

// serve starts a recorder serving h, wrapped in mw.
func serve(t *testing.T, mw func(http.Handler) http.Handler, h http.Handler) *recorder {
	t.Helper()
	rec := &recorder{}
	inner := mw(h)
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.seen = append(rec.seen, seen{r.Method, r.URL.Path, r.Header.Clone()})
		rec.mu.Unlock()
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(rec.Close)
	return rec
}

// items answers every request with a small JSON body.
var items = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"items":[]}`)
})

func rsCORS(o rs.Options) func(http.Handler) http.Handler { return rs.New(o).Handler }

func jub0bsCORS(t *testing.T, c jub0bs.Config, debug bool) func(http.Handler) http.Handler {
	t.Helper()
	m, err := jub0bs.NewMiddleware(c)
	if err != nil {
		t.Fatal(err)
	}
	m.SetDebug(debug)
	return m.Wrap
}

// put is the request: PUT with JSON and credentials.
func put(url string) Config {
	return Config{
		URL: url, Origin: page, Method: "PUT", Headers: [][2]string{{"Content-Type", "application/json"}},
		Body: []byte(`{"name":"a"}`), Credentials: "include", Browser: cors.Chromium, Timeout: 2 * time.Second,
	}
}

func TestProbeMiddlewares(t *testing.T) {
	tests := []struct {
		desc      string
		mw        func(t *testing.T) func(http.Handler) http.Handler
		cfg       func(url string) Config
		wantOK    bool
		wantStage string
		wantText  string   // in the failing step, or in some step when OK
		wantSent  []string // method path ACRM ACRH origin, as the server got them
	}{
		{
			desc: "rs/cors allows the origin with credentials, PUT and Content-Type",
			mw: func(t *testing.T) func(http.Handler) http.Handler {
				return rsCORS(rs.Options{AllowedOrigins: []string{page}, AllowCredentials: true, AllowedMethods: []string{"GET", "PUT"}, AllowedHeaders: []string{"Content-Type"}})
			},
			cfg: put, wantOK: true, wantText: "`Access-Control-Allow-Credentials: true`",
			wantSent: []string{"OPTIONS /api/items PUT content-type " + page, "PUT /api/items - - " + page},
		},
		{
			desc: "jub0bs/cors allows the origin with credentials, PUT and Content-Type",
			mw: func(t *testing.T) func(http.Handler) http.Handler {
				return jub0bsCORS(t, jub0bs.Config{Origins: []string{page}, Credentialed: true, Methods: []string{"PUT"}, RequestHeaders: []string{"Content-Type"}}, false)
			},
			cfg: put, wantOK: true, wantText: "JS reads the `200` response",
			wantSent: []string{"OPTIONS /api/items PUT content-type " + page, "PUT /api/items - - " + page},
		},
		{
			desc: "rs/cors does not know the origin: the preflight's answer has no ACAO",
			mw: func(t *testing.T) func(http.Handler) http.Handler {
				return rsCORS(rs.Options{AllowedOrigins: []string{"https://app.example.com"}, AllowCredentials: true, AllowedMethods: []string{"PUT"}, AllowedHeaders: []string{"Content-Type"}})
			},
			cfg: put, wantStage: cors.StagePreflight, wantText: "has no `Access-Control-Allow-Origin`",
			wantSent: []string{"OPTIONS /api/items PUT content-type " + page},
		},
		{
			desc: "rs/cors does not know the origin of a simple GET: blocked at the response, which the server sent all the same",
			mw: func(t *testing.T) func(http.Handler) http.Handler {
				return rsCORS(rs.Options{AllowedOrigins: []string{"https://app.example.com"}})
			},
			cfg:       func(u string) Config { return Config{URL: u, Origin: page, Browser: cors.Chromium} },
			wantStage: cors.StageResponse, wantText: "has no `Access-Control-Allow-Origin`",
			wantSent: []string{"GET /api/items - - " + page},
		},
		{
			desc: "jub0bs/cors (debug) refuses the method: blocked at the preflight, the PUT never sent",
			mw: func(t *testing.T) func(http.Handler) http.Handler {
				return jub0bsCORS(t, jub0bs.Config{Origins: []string{page}, Credentialed: true, Methods: []string{"POST"}, RequestHeaders: []string{"Content-Type"}}, true)
			},
			cfg: put, wantStage: cors.StagePreflight, wantText: "the page asked to use `PUT`",
			wantSent: []string{"OPTIONS /api/items PUT content-type " + page},
		},
		{
			desc: "jub0bs/cors refuses a header: the preflight asks for both, lower case and sorted",
			mw: func(t *testing.T) func(http.Handler) http.Handler {
				return jub0bsCORS(t, jub0bs.Config{Origins: []string{page}, Methods: []string{"PUT"}, RequestHeaders: []string{"Content-Type"}}, false)
			},
			cfg: func(u string) Config {
				c := put(u)
				c.Credentials = ""
				c.Headers = append(c.Headers, [2]string{"X-Request-ID", "7"}, [2]string{"Accept", "application/json"})
				return c
			},
			wantStage: cors.StagePreflight,
			wantSent:  []string{"OPTIONS /api/items PUT content-type,x-request-id " + page},
		},
		{
			desc: "rs/cors with AllowedOrigins * and credentials answers `*`, which credentials do not accept",
			mw: func(t *testing.T) func(http.Handler) http.Handler {
				return rsCORS(rs.Options{AllowedOrigins: []string{"*"}, AllowCredentials: true, AllowedMethods: []string{"PUT"}, AllowedHeaders: []string{"*"}})
			},
			cfg: put, wantStage: cors.StagePreflight, wantText: "then `*` is not a wildcard",
			wantSent: []string{"OPTIONS /api/items PUT content-type " + page},
		},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			srv := serve(t, tt.mw(t), items)
			res, err := Run(context.Background(), tt.cfg(srv.URL+"/api/items"))
			if err != nil {
				t.Fatal(err)
			}
			v := res.Verdict
			if v.OK != tt.wantOK || v.Stage != tt.wantStage {
				t.Errorf("verdict OK %v at %q, want %v at %q; steps:\n%s", v.OK, v.Stage, tt.wantOK, tt.wantStage, stepsText(*v))
			}
			if tt.wantText != "" && !strings.Contains(stepsText(*v), tt.wantText) {
				t.Errorf("no step says %q:\n%s", tt.wantText, stepsText(*v))
			}
			if got := sentText(srv.requests()); !slices.Equal(got, tt.wantSent) {
				t.Errorf("the server got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tt.wantSent, "\n  "))
			}
			if len(res.Exchanges) != len(tt.wantSent) {
				t.Errorf("%d exchanges recorded, want %d", len(res.Exchanges), len(tt.wantSent))
			}
			for _, st := range v.Steps {
				if st.Unexpected {
					t.Errorf("the model did not expect what the probe sent: %s", st.Text)
				}
			}
		})
	}
}

// sentText is each request as "METHOD path ACRM ACRH Origin", - for absent.
func sentText(reqs []seen) []string {
	var out []string
	for _, r := range reqs {
		field := func(name string) string {
			if v := r.header.Values(name); len(v) > 0 {
				return strings.Join(v, ",")
			}
			return "-"
		}
		out = append(out, strings.Join([]string{r.method, r.path, field("Access-Control-Request-Method"), field("Access-Control-Request-Headers"), field("Origin")}, " "))
	}
	return out
}

func stepsText(v cors.Verdict) string {
	var b strings.Builder
	for _, st := range v.Steps {
		b.WriteString(st.Stage + ": " + st.Text + "\n")
	}
	return b.String()
}

// The heads a probe records are the bytes on the wire, and a browser's:
// Origin, Accept, Sec-Fetch-*, a User-Agent naming corslab, no Cookie
// and no Accept-Encoding of Go's.
func TestProbeRecordsBrowserHeads(t *testing.T) {
	srv := serve(t, rsCORS(rs.Options{AllowedOrigins: []string{page}, AllowCredentials: true, AllowedMethods: []string{"PUT"}, AllowedHeaders: []string{"Content-Type"}, MaxAge: 60}), items)
	res, err := Run(context.Background(), put(srv.URL+"/api/items"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Exchanges) != 2 {
		t.Fatalf("%d exchanges", len(res.Exchanges))
	}
	pre, req := res.Exchanges[0], res.Exchanges[1]
	host := strings.TrimPrefix(srv.URL, "http://")
	checks := []struct {
		desc string
		got  bool
	}{
		{"preflight flagged", pre.Preflight && !req.Preflight},
		{"preflight request line", strings.HasPrefix(pre.RequestHead, "OPTIONS /api/items HTTP/1.1\r\nHost: "+host+"\r\n")},
		{"preflight head ends with an empty line", strings.HasSuffix(pre.RequestHead, "\r\n\r\n")},
		{"preflight ACRM", strings.Contains(pre.RequestHead, "\r\nAccess-Control-Request-Method: PUT\r\n")},
		{"preflight ACRH", strings.Contains(pre.RequestHead, "\r\nAccess-Control-Request-Headers: content-type\r\n")},
		{"preflight Accept", strings.Contains(pre.RequestHead, "\r\nAccept: */*\r\n")},
		{"Sec-Fetch-Mode", strings.Contains(req.RequestHead, "\r\nSec-Fetch-Mode: cors\r\n")},
		{"Sec-Fetch-Dest", strings.Contains(req.RequestHead, "\r\nSec-Fetch-Dest: empty\r\n")},
		{"Sec-Fetch-Site: localhost and 127.0.0.1 are two sites", strings.Contains(req.RequestHead, "\r\nSec-Fetch-Site: cross-site\r\n")},
		{"User-Agent names corslab", strings.Contains(req.RequestHead, "\r\nUser-Agent: corslab-probe (model of Chromium; no browser)\r\n")},
		{"no Accept-Encoding", !strings.Contains(req.RequestHead, "Accept-Encoding")},
		{"no cookie: none was given", !strings.Contains(req.RequestHead, "Cookie")},
		{"no Connection: close", !strings.Contains(req.RequestHead, "Connection")},
		{"request Content-Type as the page set it", strings.Contains(req.RequestHead, "\r\nContent-Type: application/json\r\n")},
		{"request body kept", string(req.RequestBody) == `{"name":"a"}`},
		{"response status line", strings.HasPrefix(req.ResponseHead, "HTTP/1.1 200 OK\r\n")},
		{"response body", string(req.ResponseBody) == `{"items":[]}`},
		{"preflight answer in the head", strings.Contains(pre.ResponseHead, "\r\nAccess-Control-Max-Age: 60\r\n")},
		{"engine headers cut from the head", headerIs(req.ResponseHeaders, "Access-Control-Allow-Origin", page)},
		{"engine request headers cut from the head", headerIs(pre.RequestHeaders, "Access-Control-Request-Method", "PUT")},
		{"seq", pre.Seq == 1 && req.Seq == 2},
		{"credentials flagged on the request only", req.Credentials && !pre.Credentials},
		{"a note about cookies", len(res.Notes) == 1 && strings.Contains(res.Notes[0], "the probe has none")},
	}
	for _, c := range checks {
		if !c.got {
			t.Errorf("%s: no\npreflight:\n%s%s\nrequest:\n%s%s", c.desc, pre.RequestHead, pre.ResponseHead, req.RequestHead, req.ResponseHead)
		}
	}
}

func headerIs(h [][2]string, name, value string) bool {
	v, ok := headerValue(h, name)
	return ok && v == value
}

// A cookie given goes where the browser would send its cookies: on the
// request, not the preflight, and not to another host.
func TestProbeCookie(t *testing.T) {
	other := serve(t, rsCORS(rs.Options{AllowedOrigins: []string{page}, AllowCredentials: true}), items)
	otherURL := strings.Replace(other.URL, "127.0.0.1", "localhost", 1) + "/elsewhere"
	srv := serve(t, rsCORS(rs.Options{AllowedOrigins: []string{page}, AllowCredentials: true, AllowedMethods: []string{"PUT"}, AllowedHeaders: []string{"Content-Type"}}),
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, otherURL, http.StatusTemporaryRedirect)
		}))
	cfg := put(srv.URL + "/api/items")
	cfg.Cookie = "session=abc"
	cfg.AllowHosts = []string{"localhost"}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := srv.requests()
	if len(got) != 2 || got[0].header.Get("Cookie") != "" || got[1].header.Get("Cookie") != "session=abc" {
		t.Errorf("the API got cookies %q", []string{got[0].header.Get("Cookie"), got[1].header.Get("Cookie")})
	}
	for _, r := range other.requests() {
		if r.header.Get("Cookie") != "" {
			t.Errorf("the cookie went to another host: %s %s", r.method, r.path)
		}
	}
	if len(res.Notes) != 0 {
		t.Errorf("notes: %q", res.Notes)
	}
}

// Redirects: fetch's rules, the engine's taint, and the hosts allowed.
func TestProbeRedirects(t *testing.T) {
	// The other origin: localhost, not 127.0.0.1, so another host.
	other := serve(t, rsCORS(rs.Options{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"PUT"}, AllowedHeaders: []string{"*"}}), items)
	otherURL := strings.Replace(other.URL, "127.0.0.1", "localhost", 1) + "/moved"
	api := serve(t, rsCORS(rs.Options{AllowedOrigins: []string{page}, AllowedMethods: []string{"PUT"}, AllowedHeaders: []string{"Content-Type"}}),
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, otherURL, http.StatusTemporaryRedirect)
		}))

	t.Run("a 307 to another origin taints the origin: the second preflight and request say null", func(t *testing.T) {
		cfg := put(api.URL + "/api/items")
		cfg.Credentials = "omit"
		cfg.AllowHosts = []string{"localhost"}
		res, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Verdict.OK {
			t.Errorf("blocked at %s:\n%s", res.Verdict.Stage, stepsText(*res.Verdict))
		}
		want := []string{"OPTIONS /moved PUT content-type null", "PUT /moved - - null"}
		if got := sentText(other.requests()); !slices.Equal(got, want) {
			t.Errorf("the other origin got %q, want %q", got, want)
		}
		if n := len(res.Exchanges); n != 4 {
			t.Errorf("%d exchanges, want 4", n)
		}
	})
	t.Run("a redirect to a host not allowed stops the probe before it sends anything there", func(t *testing.T) {
		before := len(other.requests())
		cfg := put(api.URL + "/api/items")
		cfg.Credentials = "omit"
		res, err := Run(context.Background(), cfg)
		var refused *RedirectRefusedError
		if !errors.As(err, &refused) || refused.Host != "localhost" {
			t.Fatalf("got %v, want a RedirectRefusedError for localhost", err)
		}
		if len(other.requests()) != before || len(res.Exchanges) != 2 || res.Verdict != nil {
			t.Errorf("sent %d to the other host, recorded %d exchanges, verdict %v", len(other.requests())-before, len(res.Exchanges), res.Verdict)
		}
	})
	t.Run("redirect mode error: the redirect is the end", func(t *testing.T) {
		cfg := put(api.URL + "/api/items")
		cfg.Credentials, cfg.Redirect = "omit", "error"
		res, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if res.Verdict.OK || res.Verdict.Stage != cors.StageRedirect || len(res.Exchanges) != 2 {
			t.Errorf("verdict %v at %s after %d exchanges", res.Verdict.OK, res.Verdict.Stage, len(res.Exchanges))
		}
	})
}

// Over HTTPS the heads are recorded above TLS, as plain text, and a
// server whose certificate the probe does not trust is a network error.
func TestProbeHTTPS(t *testing.T) {
	srv := httptest.NewTLSServer(rs.New(rs.Options{AllowedOrigins: []string{page}}).Handler(items))
	defer srv.Close()
	res, err := Run(context.Background(), Config{URL: srv.URL + "/api/items", Origin: page, Browser: cors.Chromium})
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("an untrusted certificate: got %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	res, err = Run(context.Background(), Config{URL: srv.URL + "/api/items", Origin: page, Browser: cors.Chromium, RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	ex := res.Exchanges[0]
	if !res.Verdict.OK || !strings.HasPrefix(ex.RequestHead, "GET /api/items HTTP/1.1\r\n") || !strings.HasPrefix(ex.ResponseHead, "HTTP/1.1 200 OK\r\n") ||
		!strings.Contains(ex.RequestHead, "\r\nSec-Fetch-Site: cross-site\r\n") {
		t.Errorf("OK %v, heads:\n%s%s", res.Verdict.OK, ex.RequestHead, ex.ResponseHead)
	}
}

func TestProbeNetworkErrors(t *testing.T) {
	t.Run("a closed port", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		res, err := Run(context.Background(), Config{URL: "http://" + addr + "/api", Origin: page, Browser: cors.Chromium})
		if err == nil || res == nil || res.Verdict != nil || len(res.Exchanges) != 1 || res.Exchanges[0].Err == nil {
			t.Fatalf("got %v, %+v", err, res)
		}
	})
	t.Run("no answer in time", func(t *testing.T) {
		srv := serve(t, func(h http.Handler) http.Handler { return h }, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}))
		start := time.Now()
		_, err := Run(context.Background(), Config{URL: srv.URL, Origin: page, Browser: cors.Chromium, Timeout: 200 * time.Millisecond})
		if err == nil || !strings.Contains(err.Error(), "no answer within 200ms") || time.Since(start) > 2*time.Second {
			t.Errorf("got %v after %s", err, time.Since(start))
		}
	})
	t.Run("a long body is cut at MaxBody", func(t *testing.T) {
		srv := serve(t, rsCORS(rs.Options{}), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write(make([]byte, 3*MaxBody))
		}))
		res, err := Run(context.Background(), Config{URL: srv.URL, Origin: page, Browser: cors.Chromium})
		if err != nil {
			t.Fatal(err)
		}
		if ex := res.Exchanges[0]; len(ex.ResponseBody) != MaxBody || !ex.BodyTruncated || !res.Verdict.OK {
			t.Errorf("kept %d bytes, truncated %v, OK %v", len(ex.ResponseBody), ex.BodyTruncated, res.Verdict.OK)
		}
	})
}

func TestConfigErrors(t *testing.T) {
	ok := Config{URL: "http://127.0.0.1:1/x", Origin: page, Browser: cors.Chromium}
	tests := []struct {
		desc string
		mod  func(*Config)
		want string
	}{
		{"relative URL", func(c *Config) { c.URL = "/api/items" }, "url: must be an absolute http or https URL"},
		{"ftp URL", func(c *Config) { c.URL = "ftp://x/y" }, "url: must be an absolute http or https URL"},
		{"URL with a password", func(c *Config) { c.URL = "http://u:p@x/y" }, "url: must not carry a user name or password"},
		{"no origin", func(c *Config) { c.Origin = "" }, "origin: is required"},
		{"origin without a scheme", func(c *Config) { c.Origin = "localhost:5173" }, "origin: must be an origin such as"},
		{"origin with a slash", func(c *Config) { c.Origin = page + "/" }, `origin: an origin has no path, not even /: use "http://localhost:5173"`},
		{"origin with a path", func(c *Config) { c.Origin = page + "/app" }, `origin: an origin has no path: use "http://localhost:5173"`},
		{"method not a token", func(c *Config) { c.Method = "PU T" }, "method: must be an HTTP method"},
		{"GET with a body", func(c *Config) { c.Body = []byte("x") }, "body: fetch() refuses a body with GET"},
		{"header name not a token", func(c *Config) { c.Headers = [][2]string{{"X A", "1"}} }, "header: the name must be a token"},
		{"header value with a newline", func(c *Config) { c.Headers = [][2]string{{"X-A", "1\r\nX-B: 2"}} }, "header: the value of X-A must not contain CR, LF or NUL"},
		{"credentials", func(c *Config) { c.Credentials = "yes" }, `credentials: must be omit, same-origin or include, got "yes"`},
		{"redirect", func(c *Config) { c.Redirect = "none" }, "redirect: must be follow, error or manual"},
		{"no browser", func(c *Config) { c.Browser = nil }, "browser: must name a browser table"},
		{"allowed host with a port", func(c *Config) { c.AllowHosts = []string{"localhost:3000"} }, "allow-host: must be a bare host name"},
	}
	for _, tt := range tests {
		c := ok
		tt.mod(&c)
		_, err := Run(context.Background(), c)
		var fe *FieldError
		if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.As(err, &fe) {
			t.Errorf("%s: got %v, want a FieldError containing %q", tt.desc, err, tt.want)
		}
	}
	// Every problem at once.
	_, err := Run(context.Background(), Config{Origin: "x", Method: "A B", Credentials: "no"})
	if n := strings.Count(err.Error(), "\n") + 1; n != 5 {
		t.Errorf("got %d problems, want 5 (url, origin, method, credentials, browser):\n%v", n, err)
	}
	// The origin is serialized as the browser would send it.
	c, err := Config{URL: "http://x/", Origin: "HTTP://Example.COM:80", Browser: cors.Chromium}.validate()
	if err != nil || c.Origin != "http://example.com" || c.Method != "GET" || c.Credentials != "same-origin" || c.Redirect != "follow" || c.Timeout != DefaultTimeout {
		t.Errorf("normalized to %+v, %v", c, err)
	}
}

func TestFetchSite(t *testing.T) {
	u := func(s string) *url.URL {
		p, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		origin string
		chain  []string
		want   string
	}{
		{"http://localhost:5173", []string{"http://localhost:5173/x"}, "same-origin"},
		{"http://localhost:5173", []string{"http://localhost:3000/x"}, "same-site"},
		{"http://localhost:5173", []string{"http://127.0.0.1:3000/x"}, "cross-site"},
		{"https://app.example.com", []string{"https://api.example.com/x"}, "same-site"},
		{"http://app.example.com", []string{"https://api.example.com/x"}, "cross-site"},
		{"https://a.github.io", []string{"https://b.github.io/x"}, "cross-site"},
		{"https://app.example.com", []string{"https://app.example.com/x", "https://api.example.com/y", "https://app.example.com/z"}, "same-site"},
		{"https://app.example.com", []string{"https://evil.test/x", "https://app.example.com/z"}, "cross-site"},
		{"null", []string{"https://app.example.com/x"}, "cross-site"},
	}
	for _, tt := range tests {
		var chain []*url.URL
		for _, c := range tt.chain {
			chain = append(chain, u(c))
		}
		if got := fetchSite(tt.origin, chain); got != tt.want {
			t.Errorf("from %s through %v: got %s, want %s", tt.origin, tt.chain, got, tt.want)
		}
	}
	for s, want := range map[string]bool{"https://x.example/": true, "http://localhost:1/": true, "http://a.localhost/": true, "http://127.0.0.2/": true, "http://[::1]:3/": true, "http://example.com/": false, "http://10.0.0.1/": false} {
		if trustworthy(u(s)) != want {
			t.Errorf("trustworthy(%s) = %v", s, !want)
		}
	}
}

func TestLabel(t *testing.T) {
	if got, want := Label(cors.WebKit), "predicted by corslab's model of WebKit; no browser ran this"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
