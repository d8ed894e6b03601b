package playground

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/corslab/corslab/internal/browsertest"
	"github.com/corslab/corslab/playground/capture"
	"github.com/corslab/corslab/playground/session"
)

// The browser is the oracle: these tests run the lab in Debian's Chromium
// and check what it really did, through the JSON API. One browser serves
// every case; each case has its own tab and session.
func TestInBrowser(t *testing.T) {
	browser := browsertest.CDP(t)
	srv := startServer(t, 50)

	t.Run("blocked without ACAO, captured anyway, then echo makes it pass", func(t *testing.T) {
		tab := newTab(t, browser)
		id := openLab(t, tab, srv.testURL(UI)+"/lab")

		run := clickRun(t, tab, srv, id, 1)
		if run.Browser.OK || !strings.Contains(run.Browser.Error, "TypeError") {
			t.Errorf("with no Access-Control-Allow-Origin: ok=%v error=%q, want blocked with a TypeError", run.Browser.OK, run.Browser.Error)
		}
		ex := runExchanges(t, srv, id, run)
		if len(ex) != 1 || ex[0].Kind != capture.KindCORS || ex[0].Response.Status != 200 {
			t.Fatalf("blocked run's exchanges: %s", summarize(ex))
		}
		if _, ok := ex[0].Response.Header("Access-Control-Allow-Origin"); ok {
			t.Errorf("the api sent ACAO with allowOrigin \"\"")
		}

		// Change the toggle in the page, as a learner would.
		setField(t, tab, "#f-api-allowOrigin", "echo")
		waitFor(t, "the scenario to be saved", func() bool { return getScenarioField(t, srv, id, "allowOrigin") == "echo" })
		run = clickRun(t, tab, srv, id, 2)
		if !run.Browser.OK || run.Browser.Status != 200 || !strings.Contains(run.Browser.Body, "ada") {
			t.Errorf("with echo: ok=%v status=%d body=%q error=%q", run.Browser.OK, run.Browser.Status, run.Browser.Body, run.Browser.Error)
		}
		ex = runExchanges(t, srv, id, run)
		if len(ex) != 1 {
			t.Fatalf("echo run's exchanges: %s", summarize(ex))
		}
		origin, _ := ex[0].Request.Header("Origin")
		acao, _ := ex[0].Response.Header("Access-Control-Allow-Origin")
		if origin != srv.testURL(App) || acao != origin {
			t.Errorf("Origin %q, ACAO %q: want both %q", origin, acao, srv.testURL(App))
		}
		// The explanation says whose rules it used, and that the suite
		// verifies them.
		waitFor(t, "the explanation's rules note", func() bool {
			note := evaluate[string](t, tab, `document.querySelector(".rules-note")?.textContent ?? ""`)
			return strings.Contains(note, "Chromium's rules") && strings.Contains(note, "Verified")
		})
		// The address bar follows the change.
		loc := evaluate[string](t, tab, "location.href")
		if !strings.Contains(loc, "api.allowOrigin=echo") {
			t.Errorf("address bar %q does not carry the change", loc)
		}
	})

	// The README's "Try this first", step 3.
	t.Run("PUT with X-User-Id is preflighted, then sent", func(t *testing.T) {
		tab := newTab(t, browser)
		q := url.Values{
			"request.method":            {"PUT"},
			"request.headers.X-User-Id": {"11"},
			"request.body":              {`{"username":"user10","name":"Ten"}`},
			"api.allowOrigin":           {"echo"},
			"api.allowMethods":          {"PUT"},
			"api.allowHeaders":          {"x-user-id"},
			"run":                       {"1"},
		}
		id := openLab(t, tab, srv.testURL(UI)+"/lab?"+q.Encode())
		run := waitRun(t, srv, id, 1) // run=1 runs on load
		if !run.Browser.OK || run.Browser.Status != 201 {
			t.Errorf("PUT: ok=%v status=%d error=%q", run.Browser.OK, run.Browser.Status, run.Browser.Error)
		}
		ex := runExchanges(t, srv, id, run)
		if len(ex) != 2 || ex[0].Kind != capture.KindPreflight || ex[1].Request.Method != "PUT" {
			t.Fatalf("want a preflight then the PUT, got %s", summarize(ex))
		}
		acrm, _ := ex[0].Request.Header("Access-Control-Request-Method")
		acrh, _ := ex[0].Request.Header("Access-Control-Request-Headers")
		if acrm != "PUT" || acrh != "x-user-id" {
			t.Errorf("preflight asked for method %q headers %q", acrm, acrh)
		}
		if v, _ := ex[1].Request.Header("X-User-Id"); v != "11" {
			t.Errorf("the PUT carried X-User-Id %q", v)
		}
		// The page shows the preflight, and dropped run=1 from the address.
		waitFor(t, "the preflight in the log", func() bool {
			return strings.Contains(evaluate[string](t, tab, "document.querySelector('#log').innerText"), "PREFLIGHT")
		})
		if loc := evaluate[string](t, tab, "location.href"); strings.Contains(loc, "run=1") {
			t.Errorf("run=1 still in the address bar: %s", loc)
		}
	})

	t.Run("a sandboxed iframe sends Origin: null", func(t *testing.T) {
		tab := newTab(t, browser)
		id := openLab(t, tab, srv.testURL(UI)+"/lab?request.from=sandbox&api.allowOrigin=null&run=1")
		run := waitRun(t, srv, id, 1)
		ex := runExchanges(t, srv, id, run)
		if len(ex) != 1 {
			t.Fatalf("exchanges: %s", summarize(ex))
		}
		if !strings.Contains(ex[0].Raw.Request, "\r\nOrigin: null\r\n") {
			t.Errorf("raw request has no Origin: null:\n%s", ex[0].Raw.Request)
		}
		// Access-Control-Allow-Origin: null matches the opaque origin: the
		// reason trusting "null" is dangerous.
		if !run.Browser.OK {
			t.Errorf("ACAO null for Origin null: blocked (%q)", run.Browser.Error)
		}
	})

	t.Run("credentials: the login cookie goes along, and * is refused with it", func(t *testing.T) {
		tab := newTab(t, browser)
		ui := srv.testURL(UI)
		cred := "&request.credentials=include&api.allowOrigin=echo&api.allowCredentials=true&run=1"
		id := openLab(t, tab, ui+"/lab?request.method=POST&request.path=%2Flogin"+cred)
		if run := waitRun(t, srv, id, 1); !run.Browser.OK {
			t.Fatalf("login: %q", run.Browser.Error)
		}
		// Each step reloads the lab with run=1, so each run starts before
		// the page's stream has caught up: it must still claim only its
		// own exchange.
		openLab(t, tab, ui+"/lab/"+id+"?request.path=%2Fme"+cred)
		run := waitRun(t, srv, id, 2)
		ex := runExchanges(t, srv, id, run)
		if !run.Browser.OK || !strings.Contains(run.Browser.Body, `"ada"`) || len(ex) != 1 {
			t.Fatalf("/me with the cookie: ok=%v body=%q exchanges %s", run.Browser.OK, run.Browser.Body, summarize(ex))
		}
		if cookie, _ := ex[0].Request.Header("Cookie"); !strings.HasPrefix(cookie, "login=") {
			t.Errorf("/me carried Cookie %q", cookie)
		}
		openLab(t, tab, ui+"/lab/"+id+"?request.path=%2Fme"+strings.Replace(cred, "allowOrigin=echo", "allowOrigin=*", 1))
		run = waitRun(t, srv, id, 3)
		ex = runExchanges(t, srv, id, run)
		if run.Browser.OK || len(ex) != 1 || ex[0].Response.Status != 200 {
			t.Errorf("ACAO * with credentials: ok=%v, exchanges %s; want blocked after a 200", run.Browser.OK, summarize(ex))
		}
	})

	t.Run("a copied link reopens the scenario in a new tab", func(t *testing.T) {
		tab := newTab(t, browser)
		id := openLab(t, tab, srv.testURL(UI)+"/lab")
		setField(t, tab, "#f-request-path", "/users/2")
		setField(t, tab, "#f-api-allowOrigin", "*")
		setField(t, tab, "#f-api-maxAge", "600")
		waitFor(t, "the share link to follow", func() bool {
			v := evaluate[string](t, tab, "document.querySelector('#share-url').value")
			return strings.Contains(v, "api.maxAge=600") && strings.Contains(v, "request.path=%2Fusers%2F2")
		})
		share := evaluate[string](t, tab, "document.querySelector('#share-url').value")

		other := newTab(t, browser)
		otherID := openLab(t, other, share)
		if otherID == id {
			t.Errorf("the shared link joined the sharer's session")
		}
		for sel, want := range map[string]string{"#f-request-path": "/users/2", "#f-api-allowOrigin": "*", "#f-api-maxAge": "600"} {
			if got := evaluate[string](t, other, "document.querySelector('"+sel+"').value"); got != want {
				t.Errorf("new tab: %s = %q, want %q", sel, got, want)
			}
		}
		if got := getScenarioField(t, srv, otherID, "maxAge"); got != "600" {
			t.Errorf("new session's api.maxAge = %s", got)
		}
	})
}

func newTab(t testing.TB, browser context.Context) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	// The first Run on a tab opens it, for as long as the context of that
	// call lives: no timeout here, only on later actions.
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	return tab
}

// openLab opens a lab URL, waits until its runner is ready, and returns
// the session id from the address bar.
func openLab(t testing.TB, tab context.Context, u string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(u), chromedp.WaitEnabled(chromedp.CSS("#run"))); err != nil {
		t.Fatalf("opening %s: %v", u, err)
	}
	id := evaluate[string](t, tab, "location.pathname.split('/').pop()")
	if !session.ValidID(id) {
		t.Fatalf("no session id in %s", evaluate[string](t, tab, "location.href"))
	}
	return id
}

func evaluate[T any](t testing.TB, tab context.Context, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// setField sets a form control the way typing or choosing would, firing
// the events the page listens to.
func setField(t *testing.T, tab context.Context, sel, value string) {
	t.Helper()
	js := fmt.Sprintf(`(() => {
		const el = document.querySelector(%q);
		el.value = %q;
		el.dispatchEvent(new Event("input", {bubbles: true}));
		el.dispatchEvent(new Event("change", {bubbles: true}));
		return el.value;
	})()`, sel, value)
	if got := evaluate[string](t, tab, js); got != value {
		t.Fatalf("%s: set %q, reads %q", sel, value, got)
	}
}

func clickRun(t *testing.T, tab context.Context, srv *Server, id string, n int) session.Run {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitEnabled(chromedp.CSS("#run")), chromedp.Click(chromedp.CSS("#run"))); err != nil {
		t.Fatalf("clicking Run: %v", err)
	}
	return waitRun(t, srv, id, n)
}

// waitRun waits until the session has n runs and returns the last.
func waitRun(t *testing.T, srv *Server, id string, n int) session.Run {
	t.Helper()
	var runs []session.Run
	waitFor(t, fmt.Sprintf("run %d to be recorded", n), func() bool {
		getJSON(t, srv.testURL(UI)+"/api/sessions/"+id+"/runs", &runs)
		return len(runs) >= n
	})
	return runs[n-1]
}

func runExchanges(t *testing.T, srv *Server, id string, run session.Run) []capture.Exchange {
	t.Helper()
	var all []capture.Exchange
	getJSON(t, srv.testURL(UI)+"/api/sessions/"+id+"/exchanges", &all)
	var out []capture.Exchange
	for _, ex := range all {
		for _, seq := range run.Exchanges {
			if ex.Seq == seq {
				out = append(out, ex)
			}
		}
	}
	return out
}

func getScenarioField(t *testing.T, srv *Server, id, field string) string {
	t.Helper()
	var s struct {
		Scenario struct{ API map[string]any }
	}
	getJSON(t, srv.testURL(UI)+"/api/sessions/"+id, &s)
	return fmt.Sprint(s.Scenario.API[field])
}

func getJSON(t testing.TB, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func summarize(ex []capture.Exchange) string {
	var parts []string
	for _, e := range ex {
		parts = append(parts, fmt.Sprintf("#%d %s %s %s → %d", e.Seq, e.Kind, e.Request.Method, e.Request.Target, e.Response.Status))
	}
	return "[" + strings.Join(parts, "; ") + "]"
}
