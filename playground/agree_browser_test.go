package playground

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	jub0bs "github.com/jub0bs/cors"
	rs "github.com/rs/cors"

	"github.com/corslab/corslab/internal/browsertest"
	"github.com/corslab/corslab/internal/peers"
	"github.com/corslab/corslab/playground/capture"
	"github.com/corslab/corslab/playground/cors"
	"github.com/corslab/corslab/playground/need"
	"github.com/corslab/corslab/playground/probe"
	"github.com/corslab/corslab/playground/session"
)

// An agreeTarget is a real CORS server, configured well or badly, that
// the agreement suite points the yours origin and the probe at.
type agreeTarget struct {
	name string
	base string // the base URL; "" when the server could not start here
	// missing says why the server cannot run here, naming the package to
	// install.
	missing string
	// allowed are the cases whose response JavaScript reads, by the
	// configuration's intent: a check that the target is the server the
	// test means, not the agreement itself.
	allowed []string
}

// An agreeCase is a fetch() the lab's page makes through yours.
type agreeCase struct {
	name        string
	from        string // app, evil or sandbox
	method      string
	headers     map[string]string
	body        string
	credentials string // "" is the lab's default, same-origin
}

var agreeCases = []agreeCase{
	{name: "app-get", from: "app", method: "GET"},
	{name: "evil-get", from: "evil", method: "GET"},
	{name: "null-get", from: "sandbox", method: "GET"},
	{name: "put-json", from: "app", method: "PUT", headers: map[string]string{"Content-Type": "application/json"}, body: `{"name":"agree"}`},
	{name: "header-not-allowed", from: "app", method: "GET", headers: map[string]string{"X-Other": "1"}},
	{name: "app-credentials", from: "app", method: "GET", credentials: "include"},
	{name: "evil-credentials", from: "evil", method: "GET", credentials: "include"},
}

// agreeBackend is the application behind each CORS layer.
func agreeBackend() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "42")
		io.WriteString(w, `{"hello":"yours"}`)
	})
}

// startAgreeTargets starts every target, each allowing app (the lab's
// app origin) when it is configured well. The servers that are not
// installed are left without a base URL and say why.
func startAgreeTargets(t *testing.T, app string) []agreeTarget {
	t.Helper()
	serve := func(h http.Handler) string {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return srv.URL
	}
	var targets []agreeTarget

	// rs/cors, well: app only, PUT with Content-Type, credentials.
	targets = append(targets, agreeTarget{
		name: "rs-cors-good",
		base: serve(rs.New(rs.Options{
			AllowedOrigins:   []string{app},
			AllowedMethods:   []string{"GET", "PUT"},
			AllowedHeaders:   []string{"Content-Type"},
			ExposedHeaders:   []string{"X-Request-Id"},
			AllowCredentials: true,
		}).Handler(agreeBackend())),
		allowed: []string{"app-get", "put-json", "app-credentials"},
	})
	// rs/cors, badly: every origin reflected (null too) with credentials,
	// and a preflight that allows GET alone.
	targets = append(targets, agreeTarget{
		name: "rs-cors-bad",
		base: serve(rs.New(rs.Options{
			AllowOriginFunc:  func(string) bool { return true },
			AllowedMethods:   []string{"GET"},
			AllowCredentials: true,
		}).Handler(agreeBackend())),
		allowed: []string{"app-get", "evil-get", "null-get", "app-credentials", "evil-credentials"},
	})

	// jub0bs/cors refuses insecure configurations when it is built, so
	// its two are a good one and a public one: any origin, no
	// credentials, any request header.
	good, err := jub0bs.NewMiddleware(jub0bs.Config{
		Origins:         []string{app},
		Credentialed:    true,
		Methods:         []string{"PUT"},
		RequestHeaders:  []string{"Content-Type"},
		ResponseHeaders: []string{"X-Request-Id"},
	})
	if err != nil {
		t.Fatal(err)
	}
	targets = append(targets, agreeTarget{
		name: "jub0bs-cors-good", base: serve(good.Wrap(agreeBackend())),
		allowed: []string{"app-get", "put-json", "app-credentials"},
	})
	public, err := jub0bs.NewMiddleware(jub0bs.Config{
		Origins:        []string{"*"},
		Methods:        []string{"PUT"},
		RequestHeaders: []string{"*"},
	})
	if err != nil {
		t.Fatal(err)
	}
	targets = append(targets, agreeTarget{
		name: "jub0bs-cors-public", base: serve(public.Wrap(agreeBackend())),
		allowed: []string{"app-get", "evil-get", "null-get", "put-json", "header-not-allowed"},
	})

	// nginx and Express, well: corslab need's snippets for the PUT.
	p, err := need.Solve(need.Need{
		Origins: []string{app}, Method: "PUT", Headers: []string{"Content-Type: application/json"},
		Credentials: true, Expose: []string{"X-Request-Id"},
	})
	if err != nil {
		t.Fatal(err)
	}
	goodAllowed := []string{"app-get", "put-json", "app-credentials"}
	if why := peers.NginxMissing(); why != "" {
		targets = append(targets, agreeTarget{name: "nginx-good", missing: why}, agreeTarget{name: "nginx-bad", missing: why})
	} else {
		up := serve(agreeBackend())
		targets = append(targets, agreeTarget{
			name: "nginx-good", base: peers.Nginx(t, need.NginxMaps(p), need.NginxLocation(p, "/", up)),
			allowed: goodAllowed,
		})
		// nginx, badly: a wildcard with credentials, and the preflight's
		// add_header lines in the if block, which drop the ones of the
		// location: the preflight goes without Access-Control-Allow-Origin.
		targets = append(targets, agreeTarget{
			name: "nginx-bad", base: peers.Nginx(t, "", fmt.Sprintf(`location / {
    add_header Access-Control-Allow-Origin *;
    add_header Access-Control-Allow-Credentials true;
    if ($request_method = OPTIONS) {
        add_header Access-Control-Allow-Methods "GET, PUT, POST, DELETE";
        add_header Access-Control-Allow-Headers "Content-Type, X-Other";
        return 204;
    }
    proxy_pass %s;
}
`, up)),
			allowed: []string{"app-get", "evil-get", "null-get"},
		})
	}
	if why := peers.ExpressMissing(); why != "" {
		targets = append(targets, agreeTarget{name: "express-good", missing: why}, agreeTarget{name: "express-bad", missing: why})
	} else {
		route := `app.use((req, res) => {
  res.set('X-Request-Id', '42');
  res.json({hello: 'yours'});
});
`
		targets = append(targets, agreeTarget{
			name: "express-good", base: peers.Express(t, need.Express(p)+route),
			allowed: goodAllowed,
		})
		// Express, badly: origin: true reflects every origin, null too,
		// with credentials, and without allowedHeaders the package echoes
		// whatever a preflight asks for.
		targets = append(targets, agreeTarget{
			name: "express-bad", base: peers.Express(t, `const express = require('express');
const cors = require('cors');
const app = express();
app.use(cors({origin: true, credentials: true}));
`+route),
			allowed: []string{"app-get", "evil-get", "null-get", "put-json", "header-not-allowed", "app-credentials", "evil-credentials"},
		})
	}
	return targets
}

// TestCheckAgreesWithBrowser holds corslab check's prediction to the
// real browsers (issue 16): for real CORS servers configured well and
// badly, each case runs in each engine from the lab's page through the
// yours origin, and the probe, with that engine's table, sends the same
// fetch (the Origin the browser sent, read from the captured exchange)
// straight to the server. Its verdict must be what the browser did.
func TestCheckAgreesWithBrowser(t *testing.T) {
	srv := startServer(t, 500)
	targets := startAgreeTargets(t, srv.testURL(App))
	browsertest.Each(t, func(t *testing.T, b browsertest.Browser) {
		start := time.Now()
		tab := b.NewTab(t)
		table := engineTable(b.Engine())
		ran := 0
		for _, tg := range targets {
			t.Run(tg.name, func(t *testing.T) {
				if tg.base == "" {
					peers.Missing(t, tg.name+": "+tg.missing)
				}
				for _, c := range agreeCases {
					t.Run(c.name, func(t *testing.T) { agreeOne(t, srv, tab, table, tg, c) })
					ran++
				}
			})
		}
		t.Logf("%s: %d cases in %s", b.Engine(), ran, time.Since(start).Round(100*time.Millisecond))
	})
}

// agreeOne runs case c against tg in the browser and with the probe.
func agreeOne(t *testing.T, srv *Server, tab browsertest.Tab, table *cors.Browser, tg agreeTarget, c agreeCase) {
	t.Helper()
	q := url.Values{
		"request.target": {"yours"}, "yours.baseUrl": {tg.base}, "request.path": {"/items"},
		"request.from": {c.from}, "request.method": {c.method}, "run": {"1"},
	}
	for name, v := range c.headers {
		q.Set("request.headers."+name, v)
	}
	if c.body != "" {
		q.Set("request.body", c.body)
	}
	if c.credentials != "" {
		q.Set("request.credentials", c.credentials)
	}
	open(t, tab, srv.testURL(UI)+"/lab?"+q.Encode())
	id := waitLabSession(t, tab)
	run := waitRun(t, srv, id, 1)
	if len(run.Refused) > 0 {
		t.Fatalf("%s: corslab refused it: %+v", c.name, run.Refused)
	}
	exs := runExchanges(t, srv, id, run)
	if len(exs) == 0 {
		t.Fatalf("%s: no exchange captured: the browser sent nothing to yours (%+v)", c.name, run.Browser)
	}
	// The Origin the browser sent: the probe sends the very same string.
	origin, ok := exs[0].Request.Header("Origin")
	if !ok {
		t.Fatalf("%s: the browser sent no Origin header:\n%s", c.name, rawExchanges(exs))
	}
	for _, ex := range exs[1:] {
		if o, _ := ex.Request.Header("Origin"); o != origin {
			t.Fatalf("%s: the browser's exchanges carry different Origins, %q and %q:\n%s", c.name, origin, o, rawExchanges(exs))
		}
	}
	if want := map[string]string{"app": srv.testURL(App), "evil": srv.testURL(Evil), "sandbox": "null"}[c.from]; origin != want {
		t.Fatalf("%s: the page on %s sent Origin %q, want %q", c.name, c.from, origin, want)
	}

	// The probe, from what the lab recorded of the fetch() call.
	r := run.Request
	if r.Mode != "" && r.Mode != "cors" {
		t.Fatalf("%s: the lab ran mode %q, want cors", c.name, r.Mode)
	}
	cfg := probe.Config{
		URL: tg.base + r.Path, Origin: origin, Method: r.Method, Credentials: r.Credentials,
		Redirect: r.Redirect, Browser: table, Timeout: 10 * time.Second,
	}
	for _, name := range slices.Sorted(maps.Keys(r.Headers)) {
		cfg.Headers = append(cfg.Headers, [2]string{name, r.Headers[name]})
	}
	if r.Body != "" {
		cfg.Body = []byte(r.Body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := probe.Run(ctx, cfg)
	if err != nil {
		t.Fatalf("%s: the probe: %v", c.name, err)
	}

	wantOK := slices.Contains(tg.allowed, c.name)
	if run.Browser.OK != wantOK {
		t.Errorf("%s: the browser's fetch ok=%v (%s), but the target is configured so that it is %v: the target is not what the test means",
			c.name, run.Browser.OK, run.Browser.Error, wantOK)
	}
	if res.Verdict.OK != run.Browser.OK {
		t.Errorf("%s, Origin %s: corslab check predicts ok=%v, the browser's fetch ok=%v\n%s",
			c.name, origin, res.Verdict.OK, run.Browser.OK, agreeDiff(run, exs, res))
	} else if run.Verdict == nil || run.Verdict.OK != run.Browser.OK {
		// The lab's own explanation of the browser's exchanges.
		t.Errorf("%s, Origin %s: the lab's engine does not agree with the browser on its exchanges\n%s",
			c.name, origin, agreeDiff(run, exs, res))
	}
}

// agreeDiff is both sides of a disagreement: what the browser sent and
// got and the lab's account of it, and what the probe sent and got and
// its steps.
func agreeDiff(run session.Run, exs []capture.Exchange, res *probe.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "── the browser, through yours: fetch ok=%v status=%d error=%q\n", run.Browser.OK, run.Browser.Status, run.Browser.Error)
	b.WriteString(rawExchanges(exs))
	if run.Verdict != nil {
		fmt.Fprintf(&b, "the lab's engine on these exchanges: ok=%v stage=%s\n%s", run.Verdict.OK, run.Verdict.Stage, stepsText(run.Verdict.Steps))
	}
	fmt.Fprintf(&b, "── corslab check (%s), straight to the server: ok=%v stage=%s\n", res.Browser.Name, res.Verdict.OK, res.Verdict.Stage)
	for _, ex := range res.Exchanges {
		fmt.Fprintf(&b, "#%d preflight=%v\n%s\n%s\n", ex.Seq, ex.Preflight, strings.TrimSpace(ex.RequestHead), strings.TrimSpace(ex.ResponseHead))
		if ex.Err != nil {
			fmt.Fprintf(&b, "[no response: %v]\n", ex.Err)
		}
	}
	b.WriteString(stepsText(res.Verdict.Steps))
	return b.String()
}

// rawExchanges are captured exchanges as they went over the wire.
func rawExchanges(exs []capture.Exchange) string {
	var b strings.Builder
	for _, ex := range exs {
		fmt.Fprintf(&b, "#%d %s\n%s\n%s\n", ex.Seq, ex.Kind, strings.TrimSpace(ex.Raw.Request), strings.TrimSpace(ex.Raw.Response))
	}
	return b.String()
}

func stepsText(steps []cors.Step) string {
	var b strings.Builder
	for _, st := range steps {
		mark := "✓"
		if !st.OK {
			mark = "✗"
		}
		fmt.Fprintf(&b, "  %s %s #%d: %s\n", mark, st.Stage, st.Seq, st.Text)
	}
	return b.String()
}
