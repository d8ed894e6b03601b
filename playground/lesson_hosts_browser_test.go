package playground

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/corslab/corslab/internal/browsertest"
	"github.com/corslab/corslab/playground/lesson"
	"github.com/corslab/corslab/playground/session"
)

// One progress record, whatever host a lesson needs. The learner starts on
// 127.0.0.1; hop-host needs corslab.localhost, whose localStorage is
// another. The index's link takes the progress there, and the lesson's
// All lessons and Next take what was met there back, so the index on
// 127.0.0.1 shows it. In each engine: the links are the browser's to
// follow, and each keeps localStorage per origin.
func TestProgressAcrossHostsInBrowsers(t *testing.T) {
	srv := startLessonServer(t, hopCurriculum(t))
	port := strconv.Itoa(srv.Port(UI))
	home := "http://127.0.0.1:" + port
	away := "http://corslab.localhost:" + port
	const (
		allLessons = `[...document.querySelectorAll("a")].find((a) => a.textContent.trim() === "All lessons")`
		next       = `document.querySelector('a[rel="next"]')`
	)
	progress := func(t *testing.T, tab browsertest.Tab, slug string) string {
		return jsTry(tab, `document.querySelector('.lesson-card[data-slug="`+slug+`"] .progress-text')?.textContent ?? "(not yet)"`)
	}
	stored := func(t *testing.T, tab browsertest.Tab, slug string) string {
		return jsValue[string](t, tab, `localStorage.getItem("corslab:lesson:`+slug+`") ?? ""`)
	}
	goalState := func(t *testing.T, tab browsertest.Tab, id string) string {
		return jsTry(tab, `document.querySelector('[data-goal="`+id+`"]')?.dataset.state ?? "(not yet)"`)
	}

	browsertest.Each(t, func(t *testing.T, browser browsertest.Browser) {
		tab := browser.NewTab(t)
		// Progress made at home before the hop, kept as the lesson page keeps it.
		open(t, tab, home+"/lessons")
		jsValue[bool](t, tab, `(localStorage.setItem("corslab:lesson:hop-before", '["ran"]'), true)`)
		open(t, tab, home+"/lessons")
		waitValue(t, "the index to show hop-before done", func() string { return progress(t, tab, "hop-before") }, "1 of 1 goal")

		// There: the index's link goes to corslab.localhost, carrying the
		// progress; the lesson page takes it into that host's record.
		href := follow(t, tab, `document.querySelector('.lesson-card[data-slug="hop-host"] a.start')`, away+"/lessons/hop-host/")
		if !strings.HasPrefix(href, away+"/lessons/hop-host#progress=") || !strings.Contains(href, "hop-before:ran") {
			t.Errorf("the index's link to hop-host is %s", href)
		}
		id := waitLessonPage(t, tab)
		if hash := jsValue[string](t, tab, "location.hash"); hash != "" {
			t.Errorf("the address bar keeps the fragment %q", hash)
		}
		waitValue(t, "corslab.localhost to know hop-before", func() string { return stored(t, tab, "hop-before") }, `["ran"]`)
		pressRun(t, tab)
		waitRun(t, srv, id, 1)
		waitValue(t, "goal ran to turn green", func() string { return goalState(t, tab, "ran") }, "met")

		// Back: All lessons leads to the index at home, with what was met.
		href = follow(t, tab, allLessons, home+"/lessons")
		if !strings.HasPrefix(href, home+"/lessons#progress=") || !strings.Contains(href, "hop-host:ran") {
			t.Errorf("All lessons on corslab.localhost leads to %s", href)
		}
		waitValue(t, "the index at home to show hop-host's goal", func() string { return progress(t, tab, "hop-host") }, "1 of 2 goals")
		if got := progress(t, tab, "hop-before"); got != "1 of 1 goal" {
			t.Errorf("hop-before now shows %q", got)
		}
		if hash := jsValue[string](t, tab, "location.hash"); hash != "" {
			t.Errorf("the index keeps the fragment %q", hash)
		}

		// There again, the second goal, then Next: hop-after, at home.
		follow(t, tab, `document.querySelector('.lesson-card[data-slug="hop-host"] a.start')`, away+"/lessons/hop-host/")
		id = waitLessonPage(t, tab)
		waitValue(t, "goal ran to show as done before", func() string { return goalState(t, tab, "ran") }, "before")
		pressRun(t, tab)
		waitRun(t, srv, id, 1)
		pressRun(t, tab)
		waitRun(t, srv, id, 2)
		waitValue(t, "goal again to turn green", func() string { return goalState(t, tab, "again") }, "met")
		href = follow(t, tab, next, home+"/lessons/hop-after/")
		if !strings.HasPrefix(href, home+"/lessons/hop-after#progress=") {
			t.Errorf("Next on corslab.localhost leads to %s", href)
		}
		waitLessonPage(t, tab)
		waitFor(t, "home to hold both of hop-host's goals", func() bool {
			s := stored(t, tab, "hop-host")
			return strings.Contains(s, `"ran"`) && strings.Contains(s, `"again"`)
		})
		// At home, All lessons is a link like any other.
		if href := follow(t, tab, allLessons, home+"/lessons"); href != home+"/lessons" {
			t.Errorf("All lessons at home leads to %s", href)
		}
		waitValue(t, "the index at home to show hop-host complete", func() string { return progress(t, tab, "hop-host") }, "2 of 2 goals")

		// An address typed on 127.0.0.1 is moved to corslab.localhost, and
		// names home: the way back is there too.
		open(t, tab, home+"/lessons/hop-host")
		waitLessonPage(t, tab)
		waitFor(t, "All lessons to lead home", func() bool {
			return strings.HasPrefix(jsValue[string](t, tab, allLessons+".href"), home+"/lessons#progress=")
		})

		// A fragment is only merged: known lessons and goals, a home that
		// is this corslab on a loopback host.
		open(t, tab, home+"/lessons#progress=hop-after:ran,bogus;nope:ran;hop-host:x&home=http://example.com:"+port)
		waitValue(t, "hop-after's goal to be merged", func() string { return progress(t, tab, "hop-after") }, "1 of 1 goal")
		got := jsValue[[]string](t, tab, `[location.hash, localStorage.getItem("corslab:lesson:hop-after"),
			String(localStorage.getItem("corslab:lesson:nope")), localStorage.getItem("corslab:lesson:hop-host"),
			String(sessionStorage.getItem("corslab:home"))]`)
		if got[0] != "" || got[1] != `["ran"]` || got[2] != "null" || strings.Contains(got[3], "x") || got[4] != "null" {
			t.Errorf("after a fragment with unknown lessons, goals and home: hash, hop-after, nope, hop-host, home: %q", got)
		}
	})
}

// jsTry evaluates expr in tab, a page that may still be loading: an
// error is an answer like any other, for the next try.
func jsTry(tab browsertest.Tab, expr string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var v string
	if err := tab.Eval(ctx, expr, &v); err != nil {
		return "(" + err.Error() + ")"
	}
	return v
}

// waitValue waits until get returns want, and says what it returned last
// if it never does.
func waitValue(t *testing.T, what string, get func() string, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := get()
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %q, want %q", what, got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// follow clicks the link expr finds, as a learner would, and waits until
// the tab has left the page for one at an address that starts with want.
// It returns the link's address as the click left it.
func follow(t *testing.T, tab browsertest.Tab, expr, want string) string {
	t.Helper()
	jsValue[bool](t, tab, `(window.corslabTestOldPage = true)`)
	href := jsValue[string](t, tab, `(() => { const a = `+expr+`; a.click(); return a.href; })()`)
	var at string
	var err error
	deadline := time.Now().Add(10 * time.Second)
	for !strings.HasPrefix(at, want) {
		if time.Now().After(deadline) {
			t.Fatalf("following %s (%s): the tab is at %q (%v), want %s…", expr, href, at, err, want)
		}
		time.Sleep(50 * time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err = tab.Eval(ctx, `(window.corslabTestOldPage ? "(still) " : "") + location.href`, &at)
		cancel()
	}
	return href
}

// waitLessonPage waits until the lesson page in tab can run, and returns
// its session.
func waitLessonPage(t *testing.T, tab browsertest.Tab) string {
	t.Helper()
	waitFor(t, "the Run button", func() bool {
		return jsValue[bool](t, tab, `(() => { const b = document.querySelector("#run"); return Boolean(b && !b.disabled); })()`)
	})
	id := jsValue[string](t, tab, "location.pathname.split('/').pop()")
	if !session.ValidID(id) {
		t.Fatalf("no session id in %s", jsValue[string](t, tab, "location.href"))
	}
	return id
}

// A cookie lesson of the test's own: log in on the app, then read /me.
const embedCookieLesson = `---
title: "Cookies in a frame"
slug: embed-cookie
track: credentials
order: 1
summary: A test lesson that needs the api's login cookie.
scenario:
  request.method: POST
  request.path: /login
  request.credentials: include
  api.allowOrigin: echo
  api.allowCredentials: "true"
goals:
  - id: logged-in
    text: Log in.
    run: {from: app, method: POST, path: /login, credentials: include, ok: true, status: 200}
  - id: me
    text: Read /me, logged in.
    run: {from: app, method: GET, path: /me, credentials: include, ok: true, status: 200}
solution:
  - set: {}
  - set: {request.method: GET, request.path: /me}
---
Log in, then read /me.
`

// The embed view of a cookie lesson in a frame on another site: the
// browser keeps the login cookie back, and the embed view says so, with
// Open in corslab. In a frame on the same site, and opened top-level, the
// cookie goes and nothing is said.
func TestEmbedCookieNoteInBrowser(t *testing.T) {
	l, err := lesson.Parse("embed-cookie.md", []byte(embedCookieLesson))
	if err != nil {
		t.Fatal(err)
	}
	srv := startLessonServer(t, []*lesson.Lesson{l})
	ui := srv.testURL(UI)
	browser := browsertest.CDP(t)

	// Someone's docs, with the embed view in an iframe.
	docs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!DOCTYPE html><title>Docs</title><h1>Some docs</h1>
<iframe src="%s" width="100%%" height="640" title="corslab"></iframe>`, r.URL.Query().Get("frame"))
	}))
	t.Cleanup(docs.Close)
	docsPort := docs.URL[strings.LastIndex(docs.URL, ":")+1:]

	// newEmbedSession opens the embed view's session first, so that the
	// test knows it before any frame does.
	newEmbedSession := func(t *testing.T) string {
		c := lessonClient{t: t, srv: srv, host: "127.0.0.1:" + strconv.Itoa(srv.Port(UI))}
		_, loc, _ := c.get("/embed/embed-cookie")
		m := lessonSessionPath.FindStringSubmatch(loc)
		if m == nil || m[1] != "embed" {
			t.Fatalf("GET /embed/embed-cookie went to %q", loc)
		}
		return m[3]
	}
	meQuery := "?" + url.Values{"request.method": {"GET"}, "request.path": {"/me"}, "run": {"1"}}.Encode()
	note := `document.querySelector("#cookie-note")?.textContent ?? ""`
	withheld := func(t *testing.T, id string) bool {
		var rep loginCookieReport
		getJSON(t, ui+"/api/sessions/"+id+"/cookies", &rep)
		return rep.Withheld
	}

	// inFrame logs in, then asks for /me, in the embed view framed by docs
	// on docsHost, and returns the tab, the session and /me's status.
	inFrame := func(t *testing.T, docsHost string) (context.Context, string, int) {
		tab := newTab(t, browser)
		id := newEmbedSession(t)
		frame := ui + "/embed/embed-cookie/" + id
		if err := chromedp.Do(tab, chromedp.Navigate("http://"+docsHost+":"+docsPort+"/?frame="+url.QueryEscape(frame+"?run=1"))); err != nil {
			t.Fatal(err)
		}
		if run := waitRun(t, srv, id, 1); run.Browser.Status != http.StatusOK {
			t.Fatalf("the login in the frame: status %d, error %q", run.Browser.Status, run.Browser.Error)
		}
		evaluate[string](t, tab, `document.querySelector("iframe").src = `+strconv.Quote(frame+meQuery))
		return tab, id, waitRun(t, srv, id, 2).Browser.Status
	}

	t.Run("in a frame on another site, the note and Open in corslab", func(t *testing.T) {
		tab, id, status := inFrame(t, "docs.localhost")
		if status != http.StatusUnauthorized {
			t.Errorf("GET /me from the frame on another site: status %d, want 401 (no cookie)", status)
		}
		var text string
		waitFor(t, "the note", func() bool {
			text = evalInFrame[string](t, tab, "/embed/embed-cookie/"+id, note)
			return text != ""
		})
		if !strings.Contains(text, "This lesson needs cookies, which your browser does not send from an embedded frame on another site.") {
			t.Errorf("the note says %q", text)
		}
		got := evalInFrame[[]string](t, tab, "/embed/embed-cookie/"+id, `[
			document.querySelector("#cookie-note").getAttribute("role"),
			document.querySelector("#cookie-note-open").href,
			document.querySelector("#cookie-note-open").target,
			document.querySelector("#open-in-corslab").getAttribute("aria-describedby"),
			String(document.querySelector("#cookie-note").getClientRects().length > 0),
		]`)
		if got[0] != "status" || !strings.HasPrefix(got[1], ui+"/lessons/embed-cookie/"+id) || got[2] != "_blank" || got[3] != "cookie-note" || got[4] != "true" {
			t.Errorf("the note's role, its Open in corslab link and target, the header button's description, visible: %q", got)
		}
	})

	t.Run("in a frame on the same site, the cookie goes and nothing is said", func(t *testing.T) {
		tab, id, status := inFrame(t, "127.0.0.1")
		if status != http.StatusOK {
			t.Errorf("GET /me from the frame on the same site: status %d, want 200", status)
		}
		waitFor(t, "the goals to be asked after the run", func() bool {
			return evalInFrame[string](t, tab, "/embed/embed-cookie/"+id, `document.querySelector('[data-goal="me"]').dataset.state`) == "met"
		})
		if withheld(t, id) {
			t.Errorf("the server says the cookie was withheld")
		}
		if text := evalInFrame[string](t, tab, "/embed/embed-cookie/"+id, note); text != "" {
			t.Errorf("the embed view says %q", text)
		}
	})

	t.Run("opened top-level, nothing is said", func(t *testing.T) {
		tab := newTab(t, browser)
		id := newEmbedSession(t)
		for i, q := range []string{"?run=1", meQuery} {
			openLab(t, tab, ui+"/lessons/embed-cookie/"+id+q)
			if run := waitRun(t, srv, id, i+1); run.Browser.Status != http.StatusOK {
				t.Fatalf("run %d: status %d", i+1, run.Browser.Status)
			}
		}
		waitFor(t, "goal me to turn green", func() bool {
			return evaluate[string](t, tab, `document.querySelector('[data-goal="me"]').dataset.state`) == "met"
		})
		if withheld(t, id) {
			t.Errorf("the server says the cookie was withheld")
		}
		if text := evaluate[string](t, tab, note); text != "" {
			t.Errorf("the lesson page says %q", text)
		}
	})
}

// evalInFrame evaluates expr in the frame of tab whose address contains
// where: a frame from another site is a target of its own (a process of
// its own), a frame from the same site is in the tab's frame tree.
func evalInFrame[T any](t *testing.T, tab context.Context, where, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 10*time.Second)
	defer cancel()
	infos, err := chromedp.Targets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, info := range infos {
		if info.Type == "iframe" && strings.Contains(info.URL, where) {
			fctx, cancel := chromedp.NewContext(tab, chromedp.WithTargetID(info.TargetID), chromedp.WithDetachOnCancel())
			defer cancel()
			ectx, stop := context.WithTimeout(fctx, 10*time.Second)
			defer stop()
			v, err := chromedp.Run(ectx, chromedp.Evaluate[T](expr))
			if err != nil {
				t.Fatalf("evaluating %s in the frame at %s: %v", expr, info.URL, err)
			}
			return v
		}
	}
	v, err := chromedp.Run(ctx, chromedp.Action[T](func(ctx context.Context, tg *chromedp.Target) (T, error) {
		var zero T
		tree, err := cdp.Call(ctx, tg, page.GetFrameTree, cdp.Empty{})
		if err != nil {
			return zero, err
		}
		frame := findFrame(tree.FrameTree, where)
		if frame == nil {
			return zero, errors.New("no frame at " + where)
		}
		world, err := cdp.Call(ctx, tg, page.CreateIsolatedWorld, page.CreateIsolatedWorldParams{FrameID: frame.ID})
		if err != nil {
			return zero, err
		}
		return chromedp.Evaluate[T](expr, func(p *runtime.EvaluateParams) { p.ContextID = world.ExecutionContextID })(ctx, tg)
	}))
	if err != nil {
		t.Fatalf("evaluating %s in the frame at %s: %v", expr, where, err)
	}
	return v
}

func findFrame(tree *page.FrameTree, where string) *cdp.Frame {
	if tree == nil {
		return nil
	}
	if tree.Frame != nil && strings.Contains(tree.Frame.URL, where) {
		return tree.Frame
	}
	for _, child := range tree.ChildFrames {
		if f := findFrame(child, where); f != nil {
			return f
		}
	}
	return nil
}
