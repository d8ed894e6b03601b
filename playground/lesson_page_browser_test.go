package playground

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/corslab/corslab/internal/browsertest"
	"github.com/corslab/corslab/playground/lesson"
)

// Two small lessons of the test's own, so that it does not change when the
// curriculum does: the first shows two fields, locks one of them, and
// starts from a path it hides.
const (
	pageTestLesson = `---
title: "Echo the origin"
slug: page-test-echo
track: basics
order: 1
summary: A test lesson for the lesson page.
scenario:
  request.path: /users/1
show: [request.method, api.allowOrigin]
lock: [request.method]
goals:
  - id: blocked
    text: Run it while the api sends no CORS headers.
    run: {ok: false}
  - id: read
    text: Make JavaScript read the answer.
    run: {ok: true}
    after: blocked
hints:
  - The first hint.
  - The second hint.
links:
  - {title: "Fetch standard: CORS check", url: "https://fetch.spec.whatwg.org/#cors-check"}
solution:
  - set: {}
  - set: {api.allowOrigin: echo}
---
Press **Run**.
`
	pageTestNext = `---
title: "The one after"
slug: page-test-next
track: basics
order: 2
summary: Another test lesson.
goals:
  - id: any-run
    text: Press Run.
    run: {}
solution:
  - set: {}
---
Press Run.
`
)

// The lesson page in Chromium: goals that turn green as the learner runs,
// progress kept in localStorage and shown on the index, the form narrowed
// to the lesson's settings, a shareable link, and the embed view.
func TestLessonPageInBrowser(t *testing.T) {
	var curriculum []*lesson.Lesson
	for name, text := range map[string]string{"page-test-echo.md": pageTestLesson, "page-test-next.md": pageTestNext} {
		l, err := lesson.Parse(name, []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		curriculum = append(curriculum, l)
	}
	browser := browsertest.CDP(t)
	srv := startLessonServer(t, curriculum)
	ui := srv.testURL(UI)
	goalState := func(tab context.Context, id string) string {
		return evaluate[string](t, tab, `document.querySelector('[data-goal="`+id+`"]').dataset.state`)
	}
	visible := func(tab context.Context, sel string) bool {
		return evaluate[bool](t, tab, `document.querySelector('`+sel+`').getClientRects().length > 0`)
	}

	t.Run("a goal turns green after Run, without a reload", func(t *testing.T) {
		tab := newTab(t, browser)
		id := openLab(t, tab, ui+"/lessons/page-test-echo")
		evaluate[bool](t, tab, "window.stillTheSamePage = true")
		if got := goalState(tab, "blocked"); got != "open" {
			t.Fatalf("before any run, goal blocked is %q", got)
		}
		// Run without a prediction: predict mode only invites one.
		if evaluate[bool](t, tab, `document.querySelector('#predict').classList.contains('off')`) {
			t.Errorf("predict mode is not on in a lesson")
		}
		clickRun(t, tab, srv, id, 1)
		waitFor(t, "goal blocked to turn green", func() bool { return goalState(tab, "blocked") == "met" })
		if got := goalState(tab, "read"); got != "open" {
			t.Errorf("goal read is %q after a blocked run", got)
		}
		if got := evaluate[string](t, tab, "document.querySelector('#goal-progress').textContent"); got != "1 of 2 done" {
			t.Errorf("goal progress beside Run says %q", got)
		}

		setField(t, tab, "#f-api-allowOrigin", "echo")
		waitFor(t, "the scenario to be saved", func() bool { return getScenarioField(t, srv, id, "allowOrigin") == "echo" })
		clickRun(t, tab, srv, id, 2)
		waitFor(t, "goal read to turn green", func() bool { return goalState(tab, "read") == "met" })
		if !evaluate[bool](t, tab, "window.stillTheSamePage === true") {
			t.Errorf("the page was reloaded")
		}
		if !visible(tab, "#lesson-done") {
			t.Errorf("every goal is met, but the page does not say so")
		}
		stored := evaluate[string](t, tab, `localStorage.getItem("corslab:lesson:page-test-echo")`)
		if !strings.Contains(stored, `"blocked"`) || !strings.Contains(stored, `"read"`) {
			t.Errorf("localStorage holds %s, want both goals", stored)
		}
	})

	t.Run("the index shows the progress, and a new session shows it as done before", func(t *testing.T) {
		tab := newTab(t, browser)
		ctx, cancel := context.WithTimeout(tab, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, chromedp.Navigate(ui+"/lessons"), chromedp.WaitVisible(chromedp.CSS(".lesson-card"))); err != nil {
			t.Fatal(err)
		}
		progress := func(slug string) string {
			return evaluate[string](t, tab, `document.querySelector('.lesson-card[data-slug="`+slug+`"] .progress-text').textContent`)
		}
		waitFor(t, "the index to read the progress", func() bool { return progress("page-test-echo") == "2 of 2 goals" })
		if got := progress("page-test-next"); got != "0 of 1 goal" {
			t.Errorf("the untouched lesson shows %q", got)
		}
		if got := evaluate[string](t, tab, `document.querySelector('.lesson-card[data-slug="page-test-echo"] a.start').textContent`); got != "Review" {
			t.Errorf("a finished lesson's link says %q", got)
		}
		if !evaluate[bool](t, tab, `document.querySelector('a[href="/lab"]') !== null`) {
			t.Errorf("the index has no link back to the lab")
		}

		openLab(t, tab, ui+"/lessons/page-test-echo")
		for _, id := range []string{"blocked", "read"} {
			waitFor(t, "goal "+id+" to show as done before", func() bool { return goalState(tab, id) == "before" })
		}
	})

	t.Run("show hides the other fields, lock disables one, and hidden values are kept", func(t *testing.T) {
		tab := newTab(t, browser)
		id := openLab(t, tab, ui+"/lessons/page-test-echo")
		for sel, want := range map[string]bool{
			"#f-request-method":      true,
			"#f-api-allowOrigin":     true,
			"#f-request-credentials": false,
			"#f-request-path":        false,
			"#f-setup":               false,
			"#bucket-fields":         false,
		} {
			if got := visible(tab, sel); got != want {
				t.Errorf("%s visible: %v, want %v", sel, got, want)
			}
		}
		if !evaluate[bool](t, tab, "document.querySelector('#f-request-method').disabled") {
			t.Errorf("the locked method is not disabled")
		}
		if !evaluate[bool](t, tab, `document.querySelector('[data-field="request.method"] .lock-note') !== null`) {
			t.Errorf("the locked method has no note")
		}
		if evaluate[bool](t, tab, "document.querySelector('#f-api-allowOrigin').disabled") {
			t.Errorf("allowOrigin is disabled, but only shown")
		}

		clickOn(t, tab, "#show-all")
		if !visible(tab, "#f-request-credentials") {
			t.Errorf("Show all settings did not show the credentials")
		}
		clickOn(t, tab, "#show-all")
		if visible(tab, "#f-request-credentials") {
			t.Errorf("the credentials stay visible after the second press")
		}

		// A save carries the hidden fields as they were.
		setField(t, tab, "#f-api-allowOrigin", "*")
		waitFor(t, "the scenario to be saved", func() bool { return getScenarioField(t, srv, id, "allowOrigin") == "*" })
		if sc := getScenario(t, srv, id); sc.Request.Path != "/users/1" || sc.Request.Method != "GET" {
			t.Errorf("after a save the scenario has %s %s, want the lesson's GET /users/1", sc.Request.Method, sc.Request.Path)
		}
	})

	t.Run("Copy link reopens the lesson in a new session with the change", func(t *testing.T) {
		tab := newTab(t, browser)
		id := openLab(t, tab, ui+"/lessons/page-test-echo")
		// Catch what the buttons copy, whatever the clipboard allows.
		evaluate[bool](t, tab, `(window.copied = [], navigator.clipboard.writeText = async (text) => { window.copied.push(text); }, true)`)
		setField(t, tab, "#f-api-allowOrigin", "echo")
		waitFor(t, "the share link to follow", func() bool {
			return strings.Contains(evaluate[string](t, tab, "document.querySelector('#share-url').value"), "api.allowOrigin=echo")
		})
		clickOn(t, tab, "#copy-link")
		clickOn(t, tab, "#copy-iframe")
		var copied []string
		waitFor(t, "both copies", func() bool {
			copied = evaluate[[]string](t, tab, "window.copied")
			return len(copied) == 2
		})
		share, snippet := copied[0], copied[1]
		if want := ui + "/lessons/page-test-echo?api.allowOrigin=echo"; share != want {
			t.Errorf("Copy link copied %q, want %q", share, want)
		}
		for _, want := range []string{
			`<iframe src="` + ui + `/embed/page-test-echo?api.allowOrigin=echo"`,
			`width="100%" height="640"`, `title="corslab: Echo the origin"`, `loading="lazy"></iframe>`,
		} {
			if !strings.Contains(snippet, want) {
				t.Errorf("Copy iframe copied %s; it lacks %s", snippet, want)
			}
		}
		if loc := evaluate[string](t, tab, "location.pathname + location.search"); loc != "/lessons/page-test-echo/"+id+"?api.allowOrigin=echo" {
			t.Errorf("the address bar says %s", loc)
		}

		other := newTab(t, browser)
		otherID := openLab(t, other, share)
		if otherID == id {
			t.Errorf("the shared link joined the sharer's session")
		}
		if path := evaluate[string](t, other, "location.pathname"); path != "/lessons/page-test-echo/"+otherID {
			t.Errorf("the shared link opened %s", path)
		}
		if got := evaluate[string](t, other, "document.querySelector('#f-api-allowOrigin').value"); got != "echo" {
			t.Errorf("the new session's form has allowOrigin %q", got)
		}
		if sc := getScenario(t, srv, otherID); sc.API.AllowOrigin != "echo" || sc.Request.Path != "/users/1" {
			t.Errorf("the new session has allowOrigin %q and path %q, want echo over the lesson's start", sc.API.AllowOrigin, sc.Request.Path)
		}
	})

	t.Run("the embed view fits 640 pixels and runs", func(t *testing.T) {
		tab := newTab(t, browser)
		if err := chromedp.Do(tab, chromedp.EmulateViewport(640, 700)); err != nil {
			t.Fatal(err)
		}
		id := openLab(t, tab, ui+"/embed/page-test-echo")
		if path := evaluate[string](t, tab, "location.pathname"); path != "/embed/page-test-echo/"+id {
			t.Errorf("the embed view is at %s", path)
		}
		if w := evaluate[int](t, tab, "document.documentElement.scrollWidth - document.documentElement.clientWidth"); w > 0 {
			t.Errorf("the embed view is %d pixels too wide for 640", w)
		}
		for _, sel := range []string{".topbar", "#diagram"} {
			if evaluate[bool](t, tab, `document.querySelector('`+sel+`') !== null`) {
				t.Errorf("the embed view has %s", sel)
			}
		}
		for _, sel := range []string{"#run", "#f-api-allowOrigin", "#goals", "#log"} {
			if !visible(tab, sel) {
				t.Errorf("the embed view does not show %s", sel)
			}
		}
		open := evaluate[[]string](t, tab, `[document.querySelector('#open-in-corslab').href, document.querySelector('#open-in-corslab').target]`)
		if !strings.HasSuffix(open[0], "/lessons/page-test-echo/"+id) || open[1] != "_blank" {
			t.Errorf("Open in corslab: %q", open)
		}

		clickRun(t, tab, srv, id, 1)
		waitFor(t, "the goal to turn green in the embed view", func() bool { return goalState(tab, "blocked") == "met" })
		waitFor(t, "the run in the log", func() bool {
			return evaluate[bool](t, tab, "document.querySelector('#log .run-group') !== null")
		})

		// Nothing stops another site from framing it.
		resp, err := http.Get(ui + "/embed/page-test-echo?" + url.Values{"api.allowOrigin": {"*"}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET /embed/page-test-echo: %s", resp.Status)
		}
		if v := resp.Header.Get("X-Frame-Options"); v != "" {
			t.Errorf("the embed view is sent with X-Frame-Options: %s", v)
		}
		if v := resp.Header.Get("Content-Security-Policy"); strings.Contains(v, "frame-ancestors") {
			t.Errorf("the embed view is sent with Content-Security-Policy: %s", v)
		}
	})
}

// clickOn clicks the element sel matches, as a learner would.
func clickOn(t *testing.T, tab context.Context, sel string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		t.Fatalf("clicking %s: %v", sel, err)
	}
}
