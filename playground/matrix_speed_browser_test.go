package playground

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/css"
	"github.com/chromedp/cdproto/dom"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/corslab/corslab/internal/browsertest"
	"github.com/corslab/corslab/playground/capture"
)

// BenchmarkMatrixFill times the default matrix (12 cells), from
// navigation to the last cell filled, against a bare page making the same
// requests against the same corslab (issue 15 asks for at most 1.25
// times). ratio is the median of the rounds' corslab ÷ bare; the medians
// of each page's times are reported beside it. A round is a pair of page
// loads; run several: go test ./playground/ -run '^$' -bench MatrixFill
// -benchtime 7x.
//
// The bare page is what anyone would write to run the experiment by hand:
// an inline script, served by the app origin, that for each cell in turn
// sets the session's scenario to the cell's (PUT /scenario, the lab's own
// handler: one session has one scenario, so cells follow one another) and
// then calls the same fetch() the matrix's runner calls: same URL, init,
// origin and session setup, hence the same redirects and preflights. It
// records nothing, loads nothing else and waits on nothing else. The
// matrix sets each scenario with a step (POST /step), which also records
// the cell before. Both pages are timed in the page, performance.now()
// when the last cell is filled: for the matrix, when its last cell shows
// the browser's outcome (✓ or ✗, once corslab has recorded the run and
// said it refused none of its requests); for the bare page, when its last
// fetch has settled. /matrix's redirect to its new session counts, and
// the bare page's session is made before its navigation, which does not.
//
// Each page is opened from a page of its own origin (the UI's /healthz,
// the app's home page), as a learner opens the matrix from the lab: from
// about:blank, the UI's Cross-Origin-Opener-Policy would add a new
// renderer process to corslab's time alone. The test waits for each page
// with one evaluation of a promise, not a poll, so that the browser works
// on the page alone.
//
// The machine is shared and noisy: the pages run in pairs, corslab then
// bare, one pair a round after one warm-up pair (which fills the
// browser's cache of corslab's immutable static files, as a learner's
// second matrix finds it), and the ratio is the median of the rounds'.
// Every round's exchanges are compared: the bare page must make exactly
// the matrix's requests, or the benchmark fails.
func BenchmarkMatrixFill(b *testing.B) {
	browser := browsertest.CDP(b)
	srv := startServerWithBarePage(b)
	tab := quietTab(b, browser)
	watchMatrixFill(b, tab)

	var corslabMs, bareMs, corslabStart, bareStart, ratios []float64
	for round := 0; round <= b.N; round++ {
		c := timeMatrix(b, tab, srv)
		bare := timeBareMatrix(b, tab, srv)
		sameRequests(b, srv, c.session, bare.session)
		if round == 0 {
			b.Logf("warm-up: corslab %4.0f ms, bare %4.0f ms (not counted)", c.filled, bare.filled)
			continue
		}
		b.Logf("round %d: corslab %4.0f ms (first scenario at %3.0f), bare %4.0f ms (first scenario at %3.0f), ratio %.2f",
			round, c.filled, c.firstPut, bare.filled, bare.firstPut, c.filled/bare.filled)
		corslabMs, corslabStart = append(corslabMs, c.filled), append(corslabStart, c.firstPut)
		bareMs, bareStart = append(bareMs, bare.filled), append(bareStart, bare.firstPut)
		ratios = append(ratios, c.filled/bare.filled)
	}
	// Where the time goes: until the first cell's scenario (the page, and
	// the session), then the cells.
	b.ReportMetric(median(corslabMs), "corslab-ms")
	b.ReportMetric(median(bareMs), "bare-ms")
	b.ReportMetric(median(corslabStart), "corslab-first-ms")
	b.ReportMetric(median(bareStart), "bare-first-ms")
	b.ReportMetric(median(ratios), "ratio")
	b.ReportMetric(0, "ns/op") // a round is two pages: ns/op says nothing
}

// startServerWithBarePage is startServer with two more routes on the app
// origin, in front of everything else there: the bare page, and the
// matrix's own scenario handler under a path of the bare page's, so that
// setting a cell's scenario is a same-origin request for it too.
func startServerWithBarePage(t testing.TB) *Server {
	t.Helper()
	srv, err := Listen(Config{
		Listen: "127.0.0.1", MaxSessions: 50, SessionIdle: time.Hour,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_bare/matrix/{id}", func(w http.ResponseWriter, r *http.Request) {
		barePage(w, srv, r.PathValue("id"))
	})
	mux.Handle("PUT /_bare/api/sessions/{id}/scenario", srv.withSession(srv.handlePutScenario))
	mux.Handle("/", srv.servers[App].Handler)
	srv.servers[App].Handler = mux

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return srv
}

// barePage writes the bare page of session id: its cells are the default
// matrix's, three origins, credentials included, a 303, in the matrix's
// order (rows, then columns), as matrix.js's cellScenario builds them.
func barePage(w http.ResponseWriter, srv *Server, id string) {
	page := srv.testURL(App)
	type cell struct {
		Scenario map[string]any `json:"scenario"`
	}
	apis := []map[string]any{
		{"allowOrigin": "", "allowCredentials": false, "vary": false},
		{"allowOrigin": "*", "allowCredentials": false, "vary": false},
		{"allowOrigin": page, "allowCredentials": true, "vary": true},
	}
	buckets := []any{
		nil,
		[]map[string]any{{"allowedOrigins": []string{"*"}, "allowedMethods": []string{"GET", "HEAD"}}},
		[]map[string]any{{"allowedOrigins": []string{"null"}, "allowedMethods": []string{"GET"}}},
		[]map[string]any{{"allowedOrigins": []string{page}, "allowedMethods": []string{"GET"}}},
	}
	request := map[string]any{
		"from": "app", "target": "api", "method": "GET", "path": "/files/hello.txt",
		"credentials": "include", "mode": "cors", "redirect": "follow",
	}
	var cells []cell
	for _, api := range apis {
		for _, bucket := range buckets {
			a := map[string]any{"redirect": 303}
			for k, v := range api {
				a[k] = v
			}
			cells = append(cells, cell{map[string]any{
				"setup": "three-origins", "request": request, "api": a, "bucket": map[string]any{"cors": bucket},
			}})
		}
	}
	data, _ := json.Marshal(map[string]any{
		"put":   "/_bare/api/sessions/" + url.PathEscape(id) + "/scenario",
		"url":   srv.testURL(API) + "/" + id + "/files/hello.txt",
		"init":  map[string]any{"method": "GET", "headers": map[string]string{}, "credentials": "include", "mode": "cors", "redirect": "follow"},
		"cells": cells,
	})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprintf(w, `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>bare matrix</title></head>
<body data-cells="%s"><script>
window.corslabBareDone = (async () => {
	const { put, url, init, cells } = JSON.parse(document.body.dataset.cells);
	window.corslabFirstPut = performance.now();
	for (const { scenario } of cells) {
		const res = await fetch(put, { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify(scenario) });
		if (!res.ok) throw new Error("PUT scenario: " + res.status);
		try {
			const answer = await fetch(url, init);
			await answer.text();
		} catch {
			// blocked: the cell's ✗
		}
	}
	return performance.now();
})();
</script></body></html>
`, html.EscapeString(string(data)))
}

// quietTab is a new tab that reports only what the test waits for: chromedp
// has a tab send every request, websocket frame, DOM change and style
// sheet over the DevTools protocol, work a learner's browser does not do,
// and more of it for the page that does more.
func quietTab(t testing.TB, browser context.Context) context.Context {
	t.Helper()
	tab := newTab(t, browser)
	ctx, cancel := context.WithTimeout(tab, 10*time.Second)
	defer cancel()
	for _, disable := range []cdp.Command[cdp.Empty, cdp.Empty]{network.Disable, css.Disable, dom.Disable, cdplog.Disable} {
		err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, disable, cdp.Empty{})
			return err
		}))
		if err != nil {
			t.Fatalf("%s: %v", disable.Method, err)
		}
	}
	return tab
}

// load opens u in a quiet tab and waits for its load event.
func load(t testing.TB, tab context.Context, u string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(u)); err != nil {
		t.Fatalf("opening %s: %v", u, err)
	}
}

// watchMatrixFill makes every matrix page the tab opens note, in
// window.corslabFilled, when its last cell shows the browser's outcome:
// milliseconds since the navigation began (the page's time origin).
func watchMatrixFill(t testing.TB, tab context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 10*time.Second)
	defer cancel()
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: matrixFillJS,
		})
		return err
	}))
	if err != nil {
		t.Fatalf("watching the matrix: %v", err)
	}
}

const matrixFillJS = `if (window.top === window && location.pathname.startsWith("/matrix/")) {
	window.corslabFilled = new Promise((resolve) => {
		const filled = () => {
			const cells = document.querySelectorAll("#matrices button.cell");
			return cells.length === 12 && [...cells].every((c) => c.dataset.state === "pass" || c.dataset.state === "fail");
		};
		const watch = new MutationObserver(() => {
			if (!filled()) return;
			resolve(performance.now());
			watch.disconnect();
		});
		watch.observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-state"] });
	});
}`

// A matrixTime is one page's time, in milliseconds since its navigation
// began: when its first cell's scenario went out, and when its last cell was
// filled.
type matrixTime struct {
	firstPut, filled float64
	session          string
}

// firstPutJS is when the page's first scenario (PUT or step) started: the
// bare page notes it (Chromium gives its same-origin PUTs no resource
// timing entry).
const firstPutJS = `window.corslabFirstPut ?? performance.getEntriesByType("resource").find((e) => /\/(scenario|step)$/.test(e.name))?.startTime ?? 0`

// timeMatrix opens the default matrix with run=1 and times it.
func timeMatrix(t testing.TB, tab context.Context, srv *Server) matrixTime {
	t.Helper()
	load(t, tab, srv.testURL(UI)+"/healthz")
	load(t, tab, srv.testURL(UI)+"/matrix?run=1")
	return matrixTime{
		filled:   awaitNumber(t, tab, "window.corslabFilled"),
		firstPut: evaluate[float64](t, tab, firstPutJS),
		session:  evaluate[string](t, tab, "location.pathname.split('/')[2]"),
	}
}

// timeBareMatrix opens the bare page of a new session and times it.
func timeBareMatrix(t testing.TB, tab context.Context, srv *Server) matrixTime {
	t.Helper()
	id := createSession(t, srv, "").ID
	load(t, tab, srv.testURL(App)+"/")
	load(t, tab, srv.testURL(App)+"/_bare/matrix/"+id)
	return matrixTime{
		filled:   awaitNumber(t, tab, "window.corslabBareDone"),
		firstPut: evaluate[float64](t, tab, firstPutJS),
		session:  id,
	}
}

// awaitNumber waits for the promise expr and returns the number it
// resolves to. One call, not a poll: the browser works on the page alone.
func awaitNumber(t testing.TB, tab context.Context, expr string) float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[float64](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("waiting for %s: %v", expr, err)
	}
	return v
}

// sameRequests fails the test unless the bare page's session saw exactly
// the matrix session's requests, in order: same origins, kinds, methods,
// paths, Origin and preflight headers, and statuses.
func sameRequests(t testing.TB, srv *Server, matrixID, bareID string) {
	t.Helper()
	got, want := requestsOf(t, srv, bareID), requestsOf(t, srv, matrixID)
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Fatalf("the bare page's requests are not the matrix's:\nbare:\n  %s\nmatrix:\n  %s",
			strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// requestsOf describes a session's exchanges, one line each, without
// what differs from session to session (its id, the presigned query).
func requestsOf(t testing.TB, srv *Server, id string) []string {
	t.Helper()
	var list []capture.Exchange
	getJSON(t, srv.testURL(UI)+"/api/sessions/"+id+"/exchanges?limit=500", &list)
	var out []string
	for _, ex := range list {
		target, _, _ := strings.Cut(strings.ReplaceAll(ex.Request.Target, id, "{session}"), "?")
		origin, _ := ex.Request.Header("Origin")
		origin = strings.ReplaceAll(origin, srv.testURL(App), "app")
		acrm, _ := ex.Request.Header("Access-Control-Request-Method")
		acrh, _ := ex.Request.Header("Access-Control-Request-Headers")
		out = append(out, fmt.Sprintf("%s %s %s %s Origin=%q ACRM=%q ACRH=%q → %d",
			ex.Origin, ex.Kind, ex.Request.Method, target, origin, acrm, acrh, ex.Response.Status))
	}
	return out
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
