package playground

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/audits"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/corslab/corslab/internal/browsertest"
	"github.com/corslab/corslab/lessons"
	"github.com/corslab/corslab/playground/lesson"
)

// TestCSPInBrowser uses corslab in Chromium under its Content-Security-
// Policy (security.go): the lab with runs from every kind of page, a
// lesson page, a lesson on corslab.localhost with look-alikes, the matrix,
// a workshop's pages, and the embed view in another site's iframe. Every report the browser
// makes about a policy fails the test, and every run must come out as it
// does without one.
func TestCSPInBrowser(t *testing.T) {
	curriculum, err := lesson.Load(lessons.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	browser := browsertest.CDP(t)
	srv := startLessonServer(t, curriculum)
	ui := srv.testURL(UI)
	appPort := strconv.Itoa(srv.Port(App))

	// First, that the watcher sees a violation at all, by each of its
	// three ways: otherwise the tests below would prove nothing.
	t.Run("the watcher sees a violation", func(t *testing.T) {
		tab, w := watchedTab(t, browser)
		openLab(t, tab, ui+"/lab")
		evaluate[bool](t, tab, `(document.body.setAttribute("style", "outline: 1px solid red"), true)`)
		waitFor(t, "the inline style to be reported three ways", func() bool {
			r := w.all()
			return slices.ContainsFunc(r, func(s string) bool { return strings.HasPrefix(s, "event: style-src-attr") }) &&
				slices.ContainsFunc(r, func(s string) bool { return strings.HasPrefix(s, "issue: style-src-attr") }) &&
				slices.ContainsFunc(r, func(s string) bool { return strings.HasPrefix(s, "console: ") })
		})

		// And in a frame from another site, in a process of its own: an
		// inline style, which the runner's policy does not allow either.
		setField(t, tab, "#f-request-from", "lookalike")
		var frame *target.Info
		waitFor(t, "the look-alike runner", func() bool {
			for _, info := range w.frames(t, tab) {
				if strings.HasPrefix(info.URL, "http://app-corslab.localhost:"+appPort+"/_corslab/runner") {
					frame = info
					return true
				}
			}
			return false
		})
		fctx, cancel := chromedp.NewContext(tab, chromedp.WithTargetID(frame.TargetID), chromedp.WithDetachOnCancel())
		defer cancel()
		ctx, stop := context.WithTimeout(fctx, 10*time.Second)
		defer stop()
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(document.body.setAttribute("style", "outline: 1px solid red"), true)`)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the inline style in the frame to be reported", func() bool {
			w.collect(t, tab)
			return slices.ContainsFunc(w.all(), func(s string) bool {
				return strings.HasPrefix(s, "issue: style-src-attr") && strings.Contains(s, "[in frame "+string(frame.TargetID))
			})
		})
	})

	t.Run("the lab: runs from app, evil, api, a sandbox, app's other frames and a look-alike", func(t *testing.T) {
		tab, w := watchedTab(t, browser)
		id := openLab(t, tab, ui+"/lab?api.allowOrigin=echo")
		// Each page's Origin, as the api saw it ("" for none: a GET from
		// the api's own page is same-origin).
		cases := []struct{ from, origin string }{
			{"app", srv.testURL(App)},
			{"evil", srv.testURL(Evil)},
			{"api", ""},
			{"sandbox", "null"},
			// app's other frames: the runner makes a data: frame and an
			// <iframe srcdoc>, and the lab a sandbox with allow-same-origin.
			{"data", "null"},
			{"srcdoc", srv.testURL(App)},
			{"sandbox-same-origin", srv.testURL(App)},
			{"lookalike", "http://app-corslab.localhost:" + appPort},
		}
		for i, c := range cases {
			if i > 0 {
				setField(t, tab, "#f-request-from", c.from)
				waitFor(t, "the scenario to be saved", func() bool { return getScenario(t, srv, id).Request.From == c.from })
			}
			run := clickRun(t, tab, srv, id, i+1)
			if !run.Browser.OK || run.Browser.Status != 200 || !strings.Contains(run.Browser.Body, "ada") {
				t.Errorf("from %s: ok=%v status=%d error=%q body=%.80q", c.from, run.Browser.OK, run.Browser.Status, run.Browser.Error, run.Browser.Body)
			}
			ex := runExchanges(t, srv, id, run)
			if len(ex) != 1 {
				t.Fatalf("from %s: exchanges %s", c.from, summarize(ex))
			}
			if origin, _ := ex[0].Request.Header("Origin"); origin != c.origin {
				t.Errorf("from %s: Origin %q, want %q", c.from, origin, c.origin)
			}
			// A look-alike (and, in Chromium, a sandboxed) runner is in a
			// process of its own: ask it before its frame is replaced.
			w.check(t, tab, "after the run from "+c.from)
		}
		// The live log came over the websocket (connect-src).
		waitFor(t, "the log to show the runs", func() bool {
			return evaluate[int](t, tab, "document.querySelectorAll('#log .run-group').length") == len(cases)
		})
		if state := evaluate[string](t, tab, "document.querySelector('#conn').dataset.state"); state != "live" {
			t.Errorf("the websocket is %q", state)
		}
	})

	t.Run("the lesson index, then a lesson page: run, hints, copy link and iframe", func(t *testing.T) {
		tab, w := watchedTab(t, browser)
		ctx, cancel := context.WithTimeout(tab, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, chromedp.Navigate(ui+"/lessons"), chromedp.WaitVisible(chromedp.CSS(".lesson-card .progress-text"))); err != nil {
			t.Fatal(err)
		}
		w.check(t, tab, "on the lesson index")
		id := openLab(t, tab, ui+"/lessons/simple-requests")
		run := clickRun(t, tab, srv, id, 1)
		if run.Browser.OK {
			t.Errorf("the lesson's start is blocked, but the run read the answer")
		}
		waitFor(t, "the first goal to turn green", func() bool {
			return evaluate[string](t, tab, `document.querySelector('[data-goal="blocked-but-sent"]').dataset.state`) == "met"
		})
		clickOn(t, tab, "#next-hint")
		clickOn(t, tab, "#show-all")
		clickOn(t, tab, "#copy-link")
		clickOn(t, tab, "#copy-iframe")
		w.check(t, tab, "on the lesson page")
	})

	t.Run("a lesson on corslab.localhost: the victim, then look-alikes", func(t *testing.T) {
		tab, w := watchedTab(t, browser)
		id := openLab(t, tab, ui+"/lessons/allowlist-bypass?run=1")
		here := evaluate[string](t, tab, "location.origin")
		if want := "http://corslab.localhost:" + strconv.Itoa(srv.Port(UI)); here != want {
			t.Fatalf("the lesson is on %s, want %s", here, want)
		}
		if run := waitRun(t, srv, id, 1); !run.Browser.OK || run.Browser.Status != 200 {
			t.Fatalf("logging in from app: ok=%v status=%d error=%q", run.Browser.OK, run.Browser.Status, run.Browser.Error)
		}
		w.check(t, tab, "after logging in")
		// Another site's look-alike passes the sloppy check but gets no
		// cookie; one on the app's own site steals /me.
		for n, c := range []struct {
			host   string
			status int
			body   string
		}{{"app-corslab.localhost", 401, "not logged in"}, {"x.corslab.localhost", 200, "ada"}} {
			q := url.Values{
				"request.from": {"lookalike"}, "request.lookalikeHost": {c.host},
				"request.method": {"GET"}, "request.path": {"/me"}, "run": {"1"},
			}
			openLab(t, tab, here+"/lessons/allowlist-bypass/"+id+"?"+q.Encode())
			run := waitRun(t, srv, id, n+2)
			if !run.Browser.OK || run.Browser.Status != c.status || !strings.Contains(run.Browser.Body, c.body) {
				t.Errorf("from %s: ok=%v status=%d error=%q body=%.80q", c.host, run.Browser.OK, run.Browser.Status, run.Browser.Error, run.Browser.Body)
			}
			w.check(t, tab, "after the run from "+c.host)
		}
	})

	t.Run("the matrix with run=1", func(t *testing.T) {
		tab, w := watchedTab(t, browser)
		openMatrix(t, browsertest.CDPTab(tab), ui+"/matrix?setup=three-origins&credentials=include&redirect=303&run=1")
		tables := waitMatrix(t, browsertest.CDPTab(tab))
		// As in TestMatrixInBrowser: only a bucket rule for null works.
		const api303, nullS3GET, nullPass = "✗ api · 303 redirect", "✗ s3 · redirected GET [null]", "✓ [null]"
		want := matrixText([3][4]string{
			{api303, api303, api303, api303},
			{api303, api303, api303, api303},
			{nullS3GET, nullS3GET, nullPass, nullS3GET},
		})
		if len(tables) != 1 || tables[0].text() != want {
			t.Errorf("the matrix under CSP: %+v\nwant:\n%s", tables, want)
		}
		w.check(t, tab, "after the matrix ran")
	})

	// The pages of a workshop: a learner's lesson page asks for a name, and
	// the instructor's dashboard follows the class and watches one
	// learner's page, read-only.
	t.Run("a workshop: a learner's page, the dashboard, a read-only view", func(t *testing.T) {
		const token = "csp-browser-test-teach-token"
		ws := startServerWith(t, Config{
			Listen: "127.0.0.1", MaxSessions: 20, SessionIdle: time.Hour,
			Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
			Lessons: curriculum, Workshop: true, TeachToken: token,
		})
		wsUI := ws.testURL(UI)
		learner, lw := watchedTab(t, browser)
		id := openLab(t, learner, wsUI+"/lessons/simple-requests")
		saveNickname(t, learner, "Ada")
		clickRun(t, learner, ws, id, 1)
		lw.check(t, learner, "on the learner's page")

		teacher, tw := watchedTab(t, browser)
		navigate(t, teacher, wsUI+"/teach?token="+url.QueryEscape(token))
		waitFor(t, "the dashboard to show the learner", func() bool {
			return evaluate[bool](t, teacher, `document.querySelector("#conn")?.dataset.state === "live" &&
				[...document.querySelectorAll("#grid-body .name")].some((n) => n.textContent === "Ada")`)
		})
		tw.check(t, teacher, "on the dashboard")
		navigate(t, teacher, wsUI+"/teach/learners/"+id)
		waitFor(t, "the read-only view to follow the session", func() bool {
			return evaluate[string](t, teacher, `document.querySelector("#conn")?.dataset.state ?? ""`) == "live"
		})
		tw.check(t, teacher, "on the read-only view")
	})

	// A documentation site on another site (docs.localhost) frames the
	// embed view, as README's "Copy iframe" snippet does, and, as a
	// control, the lesson page, which no site may frame.
	docs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!DOCTYPE html><title>Docs</title><h1>Some docs</h1>
<iframe src="%s" width="100%%" height="640" title="corslab"></iframe>`, ui+r.URL.Query().Get("frame"))
	}))
	t.Cleanup(docs.Close)
	docsURL := "http://docs.localhost:" + docs.URL[strings.LastIndex(docs.URL, ":")+1:] + "/?frame="

	t.Run("the embed view in another site's iframe runs", func(t *testing.T) {
		tab, w := watchedTab(t, browser)
		frame := "/embed/simple-requests?" + url.Values{"api.allowOrigin": {"echo"}, "run": {"1"}}.Encode()
		if err := chromedp.Do(tab, chromedp.Navigate(docsURL+url.QueryEscape(frame))); err != nil {
			t.Fatal(err)
		}
		// The embed view is in a process of its own: find its session in
		// its frame's address.
		var id string
		waitFor(t, "the embed view to load", func() bool {
			for _, info := range w.frames(t, tab) {
				if u, err := url.Parse(info.URL); err == nil && strings.HasPrefix(u.Path, "/embed/simple-requests/") {
					id = u.Path[strings.LastIndex(u.Path, "/")+1:]
					return true
				}
			}
			return false
		})
		run := waitRun(t, srv, id, 1)
		if !run.Browser.OK || !strings.Contains(run.Browser.Body, "ada") {
			t.Errorf("the embedded run: ok=%v status=%d error=%q", run.Browser.OK, run.Browser.Status, run.Browser.Error)
		}
		w.check(t, tab, "with the embed view framed")
	})

	t.Run("no other site may frame the lesson page", func(t *testing.T) {
		tab, w := watchedTab(t, browser)
		if err := chromedp.Do(tab, chromedp.Navigate(docsURL+url.QueryEscape("/lessons/simple-requests"))); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "frame-ancestors to refuse the frame", func() bool {
			w.collect(t, tab)
			return slices.ContainsFunc(w.all(), func(s string) bool { return strings.HasPrefix(s, "issue: frame-ancestors") })
		})
		t.Logf("reported, as it should be:\n  %s", strings.Join(w.all(), "\n  "))
	})
}

// cspWatch collects what Chromium reports about Content Security
// Policies in a tab and in every frame in it, three ways:
//
//   - "event: …": a securitypolicyviolation event, which a script that
//     the DevTools protocol adds to every document (CSP does not apply to
//     it) hands to Go;
//   - "issue: …": the DevTools Issues panel's CSP issues (Audits domain),
//     which also cover what no event reports, such as frame-ancestors;
//   - "console: …": console messages about a policy, such as a source
//     list the browser cannot parse.
//
// A frame from another site runs in a process of its own, a target of its
// own that the tab's events do not cover: collect attaches to each such
// frame, which replays its issues and console messages so far.
type cspWatch struct {
	mu       sync.Mutex
	reports  []string
	seen     map[string]bool
	reported int // reports already failed a test
}

// watchedTab opens a tab whose CSP reports w collects.
func watchedTab(t *testing.T, browser context.Context) (context.Context, *cspWatch) {
	t.Helper()
	w := &cspWatch{seen: map[string]bool{}}
	tab, cancel := chromedp.NewContext(browser, chromedp.WithListener(w.listener("")))
	t.Cleanup(cancel)
	if err := chromedp.Do(tab); err != nil { // opens the tab: no timeout
		t.Fatalf("opening a tab: %v", err)
	}
	ctx, stop := context.WithTimeout(tab, 10*time.Second)
	defer stop()
	err := chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, audits.Enable, cdp.Empty{})
			return err
		}),
		chromedp.ExposeFunc("corslabCSPViolation", func(ctx context.Context, v cspEvent) (bool, error) {
			w.add(fmt.Sprintf("event: %s blocked %q in %s (%s:%d) %q", v.Directive, v.Blocked, v.Document, v.Source, v.Line, v.Sample))
			return true, nil
		}),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
				Source: cspListenerJS, RunImmediately: new(true),
			})
			return err
		}),
	)
	if err != nil {
		t.Fatalf("watching the tab's CSP reports: %v", err)
	}
	return tab, w
}

// cspListenerJS hands each securitypolicyviolation event of a document
// to Go.
const cspListenerJS = `document.addEventListener("securitypolicyviolation", (e) => {
	window.corslabCSPViolation?.({
		directive: e.effectiveDirective, blocked: e.blockedURI, document: e.documentURI,
		source: e.sourceFile, line: e.lineNumber, sample: e.sample,
	});
}, true);`

// cspEvent is what cspListenerJS sends.
type cspEvent struct {
	Directive string `json:"directive"`
	Blocked   string `json:"blocked"`
	Document  string `json:"document"`
	Source    string `json:"source"`
	Line      int    `json:"line"`
	Sample    string `json:"sample"`
}

// listener is the event handler of the tab (frame "") or of a frame
// target, which its reports name. It runs in the loop that reads the
// target's messages: it only records.
func (w *cspWatch) listener(frame string) func(ev any) {
	where := ""
	if frame != "" {
		where = " [in frame " + frame + "]"
	}
	return func(ev any) {
		switch ev := ev.(type) {
		case *audits.EventIssueAdded:
			if d := ev.Issue.Details.ContentSecurityPolicyIssueDetails; d != nil {
				w.add(fmt.Sprintf("issue: %s blocked %q (%s)%s", d.ViolatedDirective, d.BlockedURL, d.ContentSecurityPolicyViolationType, where))
			}
		case *log.EventEntryAdded:
			if text := ev.Entry.Text; strings.Contains(text, "Content Security Policy") || strings.Contains(text, "Content-Security-Policy") {
				w.add(fmt.Sprintf("console: %s (%s)%s", strings.TrimSpace(text), ev.Entry.URL, where))
			}
		}
	}
}

// add records a report. A frame replays what it reported each time it is
// attached to: a report it made already is not recorded twice.
func (w *cspWatch) add(report string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.seen[report] {
		w.seen[report] = true
		w.reports = append(w.reports, report)
	}
}

func (w *cspWatch) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.reports)
}

// frames lists the frame targets in tab: the frames from other sites,
// each in a process of its own, at any depth.
func (w *cspWatch) frames(t *testing.T, tab context.Context) []*target.Info {
	t.Helper()
	infos, err := chromedp.Targets(tab)
	if err != nil {
		t.Fatalf("listing targets: %v", err)
	}
	in := map[target.ID]bool{chromedp.FromContext(tab).Target.TargetID: true}
	var frames []*target.Info
	for grew := true; grew; {
		grew = false
		for _, info := range infos {
			if info.Type == "iframe" && in[info.ParentID] && !in[info.TargetID] {
				in[info.TargetID] = true
				frames = append(frames, info)
				grew = true
			}
		}
	}
	return frames
}

// collect attaches to each frame target in tab, long enough for it to
// replay its issues and console messages, and detaches. (chromedp logs
// "received DOM.documentUpdated when there's no top-level frame" for such
// a target, which is not a page: that is harmless.)
func (w *cspWatch) collect(t *testing.T, tab context.Context) {
	t.Helper()
	for _, info := range w.frames(t, tab) {
		fctx, cancel := chromedp.NewContext(tab, chromedp.WithTargetID(info.TargetID), chromedp.WithDetachOnCancel(),
			chromedp.WithListener(w.listener(string(info.TargetID)+" "+info.URL)))
		ctx, stop := context.WithTimeout(fctx, 5*time.Second)
		// Attaching enables the Log domain, enabling Audits replays the
		// issues; the listener has seen them once the call returns.
		err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, audits.Enable, cdp.Empty{})
			return err
		}))
		stop()
		cancel()
		if err != nil && !strings.Contains(err.Error(), "No target") && !strings.Contains(err.Error(), "detached") {
			t.Logf("attaching to frame %s: %v", info.URL, err)
		}
	}
}

// check fails the test with every report not yet failed, after a moment
// for events in flight, and collects the frames' first.
func (w *cspWatch) check(t *testing.T, tab context.Context, when string) {
	t.Helper()
	w.collect(t, tab)
	time.Sleep(200 * time.Millisecond)
	w.mu.Lock()
	defer w.mu.Unlock()
	if fresh := w.reports[w.reported:]; len(fresh) > 0 {
		t.Errorf("Chromium reported %d CSP problem(s) %s:\n  %s", len(fresh), when, strings.Join(fresh, "\n  "))
		w.reported = len(w.reports)
	}
}
