package need_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	jub0bs "github.com/jub0bs/cors"
	rscors "github.com/rs/cors"

	"github.com/corslab/corslab/internal/browsertest"
	"github.com/corslab/corslab/playground/need"
	"github.com/corslab/corslab/playground/origins"
	"github.com/corslab/corslab/playground/s3cors"
	"github.com/corslab/corslab/playground/scenario"
	"github.com/corslab/corslab/playground/session"
	"github.com/corslab/corslab/playground/sigv4"
)

// The proofs: every server corslab need writes a snippet for is started
// for real with the snippet, on loopback, and one Chromium runs from a
// page of an allowed origin the request the policy is for (JavaScript reads
// the body and the exposed header) and neighbouring requests it must
// refuse: from another origin (another port is another origin), with a
// request header the policy does not allow, and with another method.

// proofValue is the value of the exposed response header the backends send.
const proofValue = "proof-4242"

// page is a tab on a blank page of its own origin.
type page struct {
	origin string
	tab    context.Context
}

// fetchResult is what the page's fetch() gave JavaScript.
type fetchResult struct {
	OK      bool   `json:"ok"` // fetch resolved: CORS let JavaScript read the response
	Status  int    `json:"status"`
	Body    string `json:"body"`
	Exposed string `json:"exposed"`
	Error   string `json:"error"`
}

// request is a fetch() the page makes.
type request struct {
	URL         string
	Method      string
	Headers     map[string]string
	Credentials bool
	Body        string
	Expose      string // the response header JavaScript reads
}

func (p page) fetch(t *testing.T, r request) fetchResult {
	t.Helper()
	init := map[string]any{"method": r.Method, "credentials": "omit"}
	if r.Headers != nil {
		init["headers"] = r.Headers
	}
	if r.Credentials {
		init["credentials"] = "include"
	}
	if r.Body != "" {
		init["body"] = r.Body
	}
	args, _ := json.Marshal([]any{r.URL, init, r.Expose})
	js := fmt.Sprintf(`(async ([url, init, expose]) => {
	try {
		const res = await fetch(url, init);
		return JSON.stringify({ok: true, status: res.status, body: await res.text(), exposed: expose ? res.headers.get(expose) || "" : ""});
	} catch (e) {
		return JSON.stringify({ok: false, error: String(e)});
	}
})(%s)`, args)
	ctx, cancel := context.WithTimeout(p.tab, 15*time.Second)
	defer cancel()
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("fetch %s from %s: %v", r.URL, p.origin, err)
	}
	var res fetchResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("fetch result %q: %v", out, err)
	}
	return res
}

// blocked reports whether fetch() failed the way CORS makes it fail: a
// bare network error, not a mistake in the test's own fetch().
func (r fetchResult) blocked() bool {
	return !r.OK && r.Error == "TypeError: Failed to fetch"
}

// openPage serves a blank page on a loopback port of its own and opens it
// in a new tab of browser.
func openPage(t *testing.T, browser context.Context) page {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!doctype html><title>page</title>")
	}))
	t.Cleanup(srv.Close)
	tab, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	// The first Run's context owns the tab: no timeout on it.
	if err := chromedp.Do(tab); err != nil {
		t.Fatal(err)
	}
	ctx, cancelNav := context.WithTimeout(tab, 15*time.Second)
	defer cancelNav()
	if _, err := chromedp.Run(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	return page{origin: srv.URL, tab: tab}
}

// missing skips, or with CORSLAB_REQUIRE_BROWSER=1 fails, a proof whose
// server is not installed, as internal/browsertest does for browsers.
func missing(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CORSLAB_REQUIRE_BROWSER") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// backend is the application behind the CORS layer: it sets the response
// header the page reads, and names itself in the body.
func backend(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", proofValue)
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "hello from "+name)
	})
}

// A server under proof: start runs it with the policy and returns the URL
// the page fetches.
type server struct {
	name  string
	start func(t *testing.T, p *need.Policy) string
}

var servers = []server{
	{"rs-cors", func(t *testing.T, p *need.Policy) string {
		srv := httptest.NewServer(rscors.New(need.RsCorsOptions(p)).Handler(backend("rs-cors")))
		t.Cleanup(srv.Close)
		return srv.URL + "/data"
	}},
	{"jub0bs-cors", func(t *testing.T, p *need.Policy) string {
		mw, err := jub0bs.NewMiddleware(need.Jub0bsConfig(p))
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(mw.Wrap(backend("jub0bs-cors")))
		t.Cleanup(srv.Close)
		return srv.URL + "/data"
	}},
	{"corslab", func(t *testing.T, p *need.Policy) string {
		l := startLab(t, p)
		return l.api + "/" + l.sess.ID + "/users"
	}},
	{"nginx", startNginx},
	{"express", startExpress},
}

// The need every server but S3 is proven with: a JSON PUT with an API key
// and credentials, reading X-Request-Id, from origin.
func fullNeed(origin string) need.Need {
	return need.Need{
		Origins:     []string{origin},
		Method:      "PUT",
		Headers:     []string{"X-Api-Key", "Content-Type: application/json"},
		Credentials: true,
		Expose:      []string{"X-Request-Id"},
	}
}

func TestProofs(t *testing.T) {
	browser := browsertest.CDP(t)
	allowed, second, other := openPage(t, browser), openPage(t, browser), openPage(t, browser)

	// Two origins, so that each server's allowlist answers each with itself.
	n := fullNeed(allowed.origin)
	n.Origins = append(n.Origins, second.origin)
	p, err := need.Solve(n)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			url := s.start(t, p)
			req := request{
				URL: url, Method: "PUT", Credentials: true, Expose: "X-Request-Id",
				Headers: map[string]string{"X-Api-Key": "k", "Content-Type": "application/json"},
				Body:    `{"username": "proof", "name": "Proof"}`,
			}
			if got := allowed.fetch(t, req); !got.OK || got.Exposed != proofValue || got.Body == "" {
				t.Errorf("the request the policy is for: %+v, want it read, with X-Request-Id %q", got, proofValue)
			}
			if got := second.fetch(t, req); !got.OK || got.Exposed != proofValue {
				t.Errorf("the same request from %s, the second origin allowed: %+v, want it read", second.origin, got)
			}
			if got := other.fetch(t, req); !got.blocked() {
				t.Errorf("the same request from %s, not allowed: got %+v, want it blocked by CORS", other.origin, got)
			}
			extra := req
			extra.Headers = map[string]string{"X-Api-Key": "k", "Content-Type": "application/json", "X-Other": "1"}
			if got := allowed.fetch(t, extra); !got.blocked() {
				t.Errorf("with a header the policy does not allow (X-Other): got %+v, want it blocked by CORS", got)
			}
			del := req
			del.Method = "DELETE"
			if got := allowed.fetch(t, del); !got.blocked() {
				t.Errorf("with a method the policy does not allow (DELETE): got %+v, want it blocked by CORS", got)
			}
		})
	}

	t.Run("s3", func(t *testing.T) {
		p, err := need.Solve(need.Need{Origins: []string{allowed.origin}, Headers: []string{"X-Trace"}, Expose: []string{"ETag"}})
		if err != nil {
			t.Fatal(err)
		}
		l := startLab(t, p)
		req := request{URL: l.s3 + "/" + l.sess.ID + "/hello.txt", Method: "GET", Headers: map[string]string{"X-Trace": "1"}, Expose: "ETag"}
		if got := allowed.fetch(t, req); !got.OK || got.Body != origins.HelloText || got.Exposed == "" {
			t.Errorf("the request the rule is for: %+v, want hello.txt read, with its ETag", got)
		}
		if got := other.fetch(t, req); !got.blocked() {
			t.Errorf("the same request from %s: got %+v, want it blocked by CORS", other.origin, got)
		}
		extra := req
		extra.Headers = map[string]string{"X-Trace": "1", "X-Other": "1"}
		if got := allowed.fetch(t, extra); !got.blocked() {
			t.Errorf("with a header the rule does not allow (X-Other): got %+v, want it blocked by CORS", got)
		}
	})

	// The redirect to a signed URL: corslab's api with the scenario snippet
	// (its allowlist, 303, and the bucket's rule for null).
	t.Run("s3-redirect", func(t *testing.T) {
		p, err := need.Solve(need.Need{Origins: []string{allowed.origin}, Credentials: true, SignedS3Redirect: true})
		if err != nil {
			t.Fatal(err)
		}
		l := startLab(t, p)
		req := request{URL: l.api + "/" + l.sess.ID + "/files/hello.txt", Method: "GET", Credentials: true}
		if got := allowed.fetch(t, req); !got.OK || got.Body != origins.HelloText {
			t.Errorf("through the redirect: %+v, want hello.txt read", got)
		}
		if got := other.fetch(t, req); !got.blocked() {
			t.Errorf("through the redirect from %s: got %+v, want it blocked by CORS at the api", other.origin, got)
		}
		// Straight at the bucket the browser sends the page's own origin,
		// which a rule for null does not match.
		direct := request{URL: l.s3 + "/" + l.sess.ID + "/hello.txt", Method: "GET", Credentials: true}
		if got := allowed.fetch(t, direct); !got.blocked() {
			t.Errorf("straight at the bucket, Origin %s: got %+v, want it blocked by CORS", allowed.origin, got)
		}
	})
}

// lab is corslab's api and s3 origins for one session whose scenario is
// the corslab snippet, and whose bucket has the S3 snippet's rules, put
// with PutBucketCors through the S3 API.
type lab struct {
	sess    *session.Session
	api, s3 string
}

func startLab(t *testing.T, p *need.Policy) *lab {
	t.Helper()
	sc, err := scenario.Decode(need.Corslab(p))
	if err != nil {
		t.Fatalf("the corslab snippet does not decode: %v\n%s", err, need.Corslab(p))
	}
	st := session.NewStore(session.Options{Max: 1, Idle: time.Hour})
	sess, err := st.Create(sc)
	if err != nil {
		t.Fatal(err)
	}
	withSession := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(w, r.WithContext(session.NewContext(r.Context(), sess)))
		})
	}
	s3 := origins.NewS3(s3mem.New(), sigv4.Corslab(), nil)
	if err := s3.CreateBucket(sess.ID); err != nil {
		t.Fatal(err)
	}
	s3srv := httptest.NewServer(withSession(s3))
	t.Cleanup(s3srv.Close)
	client := origins.NewS3Client(withSession(s3), sigv4.Corslab())
	if snippets := need.SnippetsFor(p, "s3"); len(snippets) > 0 {
		rules, err := s3cors.ParseXML([]byte(snippets[0].Text))
		if err != nil {
			t.Fatalf("the S3 snippet does not parse: %v", err)
		}
		if err := origins.PutBucketCORS(session.NewContext(context.Background(), sess), client, sess.ID, rules); err != nil {
			t.Fatalf("PutBucketCors with the S3 snippet: %v", err)
		}
	}
	locate := func(r *http.Request, role, path string) (string, bool) {
		if role != "s3" {
			return "", false
		}
		return s3srv.URL + "/" + sess.ID + path, true
	}
	// The api's own response header, the one the page reads.
	api := origins.API(locate, client)
	apisrv := httptest.NewServer(withSession(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", proofValue)
		api.ServeHTTP(w, r)
	})))
	t.Cleanup(apisrv.Close)
	return &lab{sess: sess, api: apisrv.URL, s3: s3srv.URL}
}

// repoRoot is the module's directory.
func repoRoot() string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(here), "..", "..")
}

// freePort is a loopback port nobody listens on, for a server that takes
// its port from its configuration.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitListening waits for a server to accept connections on addr.
func waitListening(t *testing.T, addr string, exited <-chan struct{}, stderr func() string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			t.Fatalf("the server exited before listening:\n%s", stderr())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("nothing listens on %s after 10s:\n%s", addr, stderr())
}

// startNginx runs Debian's nginx in the foreground with the snippet's map
// and location blocks in a minimal nginx.conf, proxying to a backend.
func startNginx(t *testing.T, p *need.Policy) string {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if _, statErr := os.Stat("/usr/sbin/nginx"); statErr != nil {
			missing(t, "the nginx proof needs nginx (apt-get install -y nginx): "+err.Error())
		}
		bin = "/usr/sbin/nginx"
	}
	up := httptest.NewServer(backend("nginx"))
	t.Cleanup(up.Close)
	dir := t.TempDir()
	port := freePort(t)
	conf := fmt.Sprintf(`daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log stderr warn;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
%[2]s
    server {
        listen 127.0.0.1:%[3]d;
%[4]s
    }
}
`, dir, indentBy(need.NginxMaps(p), "    "), port, indentBy(need.NginxLocation(p, "/", up.URL), "        "))
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd := exec.Command(bin, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-e", "stderr")
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	runServer(t, cmd, fmt.Sprintf("127.0.0.1:%d", port), func() string { return stderr.String() + "\n" + conf })
	return fmt.Sprintf("http://127.0.0.1:%d/data", port)
}

// startExpress runs node with the Express snippet, a route, and
// app.listen, the packages found in .ci/node_modules.
func startExpress(t *testing.T, p *need.Policy) string {
	node, err := exec.LookPath("node")
	if err != nil {
		missing(t, "the Express proof needs Node.js (apt-get install -y nodejs): "+err.Error())
	}
	modules := filepath.Join(repoRoot(), ".ci", "node_modules")
	for _, pkg := range []string{"express", "cors"} {
		if _, err := os.Stat(filepath.Join(modules, pkg, "package.json")); err != nil {
			missing(t, "the Express proof needs the npm package "+pkg+" (npm ci --prefix .ci): "+err.Error())
		}
	}
	port := freePort(t)
	script := need.Express(p) + fmt.Sprintf(`app.use((req, res) => {
  res.set('X-Request-Id', %q);
  res.type('text/plain').send('hello from express');
});
app.listen(%d, '127.0.0.1');
`, proofValue, port)
	dir := t.TempDir()
	path := filepath.Join(dir, "server.js")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd := exec.Command(node, path)
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	runServer(t, cmd, fmt.Sprintf("127.0.0.1:%d", port), func() string { return stderr.String() + "\n" + script })
	return fmt.Sprintf("http://127.0.0.1:%d/data", port)
}

// runServer starts cmd, waits for it to listen on addr, and stops it when
// the test ends.
func runServer(t *testing.T, cmd *exec.Cmd, addr string, output func() string) {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	waitListening(t, addr, exited, output)
}

// syncBuffer is a server's output, written by exec's copying goroutine
// while the test may read it.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func indentBy(s, by string) string {
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if sc.Text() != "" {
			b.WriteString(by + sc.Text())
		}
		b.WriteString("\n")
	}
	return b.String()
}
