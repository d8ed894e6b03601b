package need_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3/backend/s3mem"
	jub0bs "github.com/jub0bs/cors"
	rscors "github.com/rs/cors"

	"github.com/corslab/corslab/internal/browsertest"
	"github.com/corslab/corslab/internal/peers"
	"github.com/corslab/corslab/playground/need"
	"github.com/corslab/corslab/playground/origins"
	"github.com/corslab/corslab/playground/s3cors"
	"github.com/corslab/corslab/playground/scenario"
	"github.com/corslab/corslab/playground/session"
	"github.com/corslab/corslab/playground/sigv4"
)

// The proofs: every server corslab need writes a snippet for is started
// for real with the snippet, on loopback, and each engine (Chromium,
// Firefox and WebKit, one tab each) runs from a page of an allowed origin
// the request the policy is for (JavaScript reads the body and the exposed
// header) and neighbouring requests it must refuse: from another origin
// (another port is another origin), with a request header the policy does
// not allow, and with another method.

// proofValue is the value of the exposed response header the backends send.
const proofValue = "proof-4242"

// page is a blank page of its own origin, shown in a tab when it fetches.
type page struct {
	origin string
	tab    *sharedTab
}

// sharedTab is the one tab of an engine that the pages take turns in: a
// page's fetch navigates the tab to it first, if another page is there.
type sharedTab struct {
	tab    browsertest.Tab
	engine string
	at     string // the origin the tab shows
}

// fetchResult is what the page's fetch() gave JavaScript.
type fetchResult struct {
	OK      bool   `json:"ok"` // fetch resolved: CORS let JavaScript read the response
	Status  int    `json:"status"`
	Body    string `json:"body"`
	Exposed string `json:"exposed"`
	Error   string `json:"error"`
	engine  string
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
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if p.tab.at != p.origin {
		if err := p.tab.tab.Navigate(ctx, p.origin+"/"); err != nil {
			t.Fatalf("opening %s: %v", p.origin, err)
		}
		p.tab.at = p.origin
	}
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
		return {ok: true, status: res.status, body: await res.text(), exposed: expose ? res.headers.get(expose) || "" : ""};
	} catch (e) {
		return {ok: false, error: String(e)};
	}
})(%s)`, args)
	res := fetchResult{engine: p.tab.engine}
	if err := p.tab.tab.Eval(ctx, js, &res); err != nil {
		t.Fatalf("fetch %s from %s: %v", r.URL, p.origin, err)
	}
	return res
}

// corsErrors are what fetch() rejects with, in each engine, when CORS
// blocks the response: the bare network error, the same for every cause.
var corsErrors = map[string]string{
	browsertest.Chromium: "TypeError: Failed to fetch",
	browsertest.Firefox:  "TypeError: NetworkError when attempting to fetch resource.",
	browsertest.WebKit:   "TypeError: Load failed",
}

// blocked reports whether fetch() failed the way CORS makes it fail: a
// bare network error, not a mistake in the test's own fetch().
func (r fetchResult) blocked() bool {
	return !r.OK && r.Error == corsErrors[r.engine]
}

// openPages serves n blank pages, each on a loopback port of its own, and
// opens a new tab of b for them to share: a page is opened in it when it
// fetches.
func openPages(t *testing.T, b browsertest.Browser, n int) []page {
	t.Helper()
	tab := &sharedTab{tab: b.NewTab(t), engine: b.Engine()}
	var pages []page
	for range n {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, "<!doctype html><title>page</title>")
		}))
		t.Cleanup(srv.Close)
		pages = append(pages, page{origin: srv.URL, tab: tab})
	}
	return pages
}

// missing skips, or with CORSLAB_REQUIRE_BROWSER=1 fails, a proof whose
// server is not installed, as internal/browsertest does for browsers.
func missing(t *testing.T, msg string) {
	t.Helper()
	peers.Missing(t, msg)
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
	browsertest.Each(t, func(t *testing.T, b browsertest.Browser) {
		start := time.Now()
		proofs(t, b)
		t.Logf("%s: the proofs took %s", b.Engine(), time.Since(start).Round(100*time.Millisecond))
	})
}

// proofs runs every server's proof in b.
func proofs(t *testing.T, b browsertest.Browser) {
	ps := openPages(t, b, 3)
	allowed, second, other := ps[0], ps[1], ps[2]

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

// startNginx runs Debian's nginx with the snippet's map and location
// blocks, proxying to a backend.
func startNginx(t *testing.T, p *need.Policy) string {
	if why := peers.NginxMissing(); why != "" {
		missing(t, "the nginx proof: "+why)
	}
	up := httptest.NewServer(backend("nginx"))
	t.Cleanup(up.Close)
	return peers.Nginx(t, need.NginxMaps(p), need.NginxLocation(p, "/", up.URL)) + "/data"
}

// startExpress runs node with the Express snippet and a route.
func startExpress(t *testing.T, p *need.Policy) string {
	if why := peers.ExpressMissing(); why != "" {
		missing(t, "the Express proof: "+why)
	}
	return peers.Express(t, need.Express(p)+fmt.Sprintf(`app.use((req, res) => {
  res.set('X-Request-Id', %q);
  res.type('text/plain').send('hello from express');
});
`, proofValue)) + "/data"
}
