package playground

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/corslab/corslab/internal/browsertest"
	"github.com/corslab/corslab/lessons"
	"github.com/corslab/corslab/playground/lesson"
)

// A workshop in Chromium: two learners, each in a browser profile of their
// own, and the instructor's dashboard following them live, announcing a
// lesson, and watching one learner's page read-only.
func TestTeachInBrowser(t *testing.T) {
	const token = "browser-test-teach-token-42"
	curriculum, err := lesson.Load(lessons.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	titles := map[string]string{}
	for _, l := range curriculum {
		titles[l.Slug] = l.Title
	}
	browser := browsertest.CDP(t)
	srv := startServerWith(t, Config{
		Listen: "127.0.0.1", MaxSessions: 50, SessionIdle: time.Hour,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Lessons: curriculum, Workshop: true, TeachToken: token,
	})
	ui := srv.testURL(UI)
	visible := func(tab context.Context, sel string) bool {
		return evaluate[bool](t, tab, `(() => { const e = document.querySelector(`+jsString(sel)+`); return e !== null && e.getClientRects().length > 0; })()`)
	}
	text := func(tab context.Context, sel string) string {
		return evaluate[string](t, tab, `document.querySelector(`+jsString(sel)+`)?.textContent ?? ""`)
	}

	// ----- without the token: refused -----
	for path, kind := range map[string]string{"/teach": "text/html", "/teach/api/class": "application/json"} {
		resp, err := http.Get(ui + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("Content-Type"), kind) {
			t.Errorf("GET %s without the token: %d %s, want 401 %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), kind)
		}
		if kind == "application/json" {
			var e struct{ Error string }
			if json.Unmarshal(body, &e) != nil || e.Error == "" {
				t.Errorf("GET %s without the token: %s, want a JSON error", path, body)
			}
		}
	}
	teacher := newTab(t, browser)
	navigate(t, teacher, ui+"/teach")
	if got := text(teacher, "h1"); got != "Instructors only" || evaluate[bool](t, teacher, `document.querySelector("#class-grid") !== null`) {
		t.Errorf("/teach without the token shows %q", got)
	}

	// ----- the instructor signs in -----
	navigate(t, teacher, ui+"/teach?token="+url.QueryEscape(token))
	if loc := evaluate[string](t, teacher, "location.pathname + location.search"); loc != "/teach" {
		t.Errorf("after signing in the address is %s, want /teach without the token", loc)
	}
	waitFor(t, "the dashboard to follow the class", func() bool {
		return evaluate[string](t, teacher, `document.querySelector("#conn")?.dataset.state ?? ""`) == "live"
	})
	evaluate[bool](t, teacher, "window.sameDashboard = true")
	if got := text(teacher, "#learner-url"); got != ui+"/lessons" {
		t.Errorf("the learners' address is %q, want %s/lessons", got, ui)
	}

	// ----- two learners, each in a profile of their own, choose names -----
	ada := isolatedTab(t, browser)
	adaID := openLab(t, ada, ui+"/lessons/simple-requests")
	saveNickname(t, ada, "Ada")
	if got := evaluate[string](t, ada, `localStorage.getItem("corslab.nickname")`); got != "Ada" {
		t.Errorf("the nickname is kept as %q", got)
	}
	adaLearner := evaluate[string](t, ada, `localStorage.getItem("corslab.learner")`)

	bob := isolatedTab(t, browser)
	openLab(t, bob, ui+"/lessons/origins")
	// A name the server refuses: its reason, beside the field that keeps
	// what was typed.
	setField(t, bob, "#nickname", "   ")
	clickOn(t, bob, "#nickname-form button[type=submit]")
	waitFor(t, "the refusal beside the name", func() bool {
		return strings.Contains(text(bob, "#nickname-status"), "must be 1 to 40 characters")
	})
	if v := evaluate[string](t, bob, `document.querySelector("#nickname").value`); v != "   " {
		t.Errorf("after a refusal the field holds %q", v)
	}
	if evaluate[string](t, bob, `document.querySelector("#nickname").getAttribute("aria-invalid") ?? ""`) != "true" {
		t.Errorf("the refused name is not marked invalid")
	}
	saveNickname(t, bob, "<b>Bob</b>")
	if bobLearner := evaluate[string](t, bob, `localStorage.getItem("corslab.learner")`); bobLearner == adaLearner || len(bobLearner) < 8 {
		t.Errorf("learner ids: Ada %q, Bob %q", adaLearner, bobLearner)
	}
	// A third learner, by the API alone, with a name made to be HTML.
	const mallory = `<img src=x onerror=alert(1)>`
	putLearner(t, srv, openLessonSession(t, srv, "origins"), "learner-mallory-01", mallory)

	// ----- the dashboard shows them, names as text -----
	names := func() []string {
		return evaluate[[]string](t, teacher, `[...document.querySelectorAll("#grid-body .name")].map((n) => n.textContent)`)
	}
	waitFor(t, "the three learners on the dashboard", func() bool {
		got := strings.Join(names(), "|")
		return strings.Contains(got, "Ada") && strings.Contains(got, "<b>Bob</b>") && strings.Contains(got, mallory)
	})
	if evaluate[bool](t, teacher, `document.querySelector("#class-grid b, #class-grid img") !== null`) {
		t.Errorf("a nickname became HTML on the dashboard")
	}
	cell := func(name, slug string) string {
		return evaluate[string](t, teacher, fmt.Sprintf(`(() => {
			const row = [...document.querySelectorAll("#grid-body tr")].find((r) => r.querySelector(".name").textContent === %s);
			const cell = row?.querySelector('td[data-lesson=%q]');
			return cell ? (cell.dataset.met ?? "") + "/" + (cell.dataset.total ?? "") : "no cell";
		})()`, jsString(name), slug))
	}
	lessonTotal := func(slug, column string) string {
		return text(teacher, `#summary-rows tr[data-lesson="`+slug+`"] td.`+column)
	}
	waitFor(t, "Bob's lesson to show as started", func() bool { return cell("<b>Bob</b>", "origins") == "0/4" })
	if got := cell("Ada", "origins"); got != "/" {
		t.Errorf("Ada's cell for a lesson she did not open: %q", got)
	}

	// ----- Ada runs: her progress and the lesson's counts follow live -----
	clickRun(t, ada, srv, adaID, 1)
	waitFor(t, "Ada's first goal on the dashboard", func() bool { return cell("Ada", "simple-requests") == "1/3" })
	if runs, blocked := lessonTotal("simple-requests", "runs"), lessonTotal("simple-requests", "blocked"); runs != "1" || blocked != "1" {
		t.Errorf("simple-requests: %s runs, %s blocked; want 1 and 1", runs, blocked)
	}
	title := evaluate[string](t, teacher, `[...document.querySelectorAll("#grid-body tr")].find((r) => r.querySelector(".name").textContent === "Ada").querySelector('td[data-lesson="simple-requests"]').title`)
	if !strings.Contains(title, "goal 1 of 3 met") || !strings.Contains(title, "✓ 1. ") || !strings.Contains(title, "see that the request still reached the server") {
		t.Errorf("the cell's tooltip says %q", title)
	}

	// ----- the instructor watches Ada's page, read-only -----
	watch := evaluate[string](t, teacher, `[...document.querySelectorAll("#grid-body tr")].find((r) => r.querySelector(".name").textContent === "Ada").querySelector("a.watch").getAttribute("href")`)
	if watch != "/teach/learners/"+adaID {
		t.Fatalf("Ada's Watch link is %q, want /teach/learners/%s", watch, adaID)
	}
	watcher := newTab(t, browser) // the instructor's profile: it has the cookie
	navigate(t, watcher, ui+watch)
	if got := text(watcher, "#watching"); strings.Join(strings.Fields(got), " ") != "Watching Ada's lab — read-only" {
		t.Errorf("the read-only banner says %q", got)
	}
	waitFor(t, "Ada's run on the watch page", func() bool {
		return evaluate[int](t, watcher, `document.querySelectorAll("#log .run-group").length`) == 1
	})
	if !evaluate[bool](t, watcher, `[...document.querySelectorAll("#scenario > fieldset")].every((f) => f.disabled) && document.querySelector("#f-api-allowOrigin").matches(":disabled")`) {
		t.Errorf("the watch page's controls are not disabled")
	}
	for _, sel := range []string{"#run", "#predict", "#nickname", "#announcement", "#matrix-link"} {
		if visible(watcher, sel) {
			t.Errorf("the watch page shows %s", sel)
		}
	}
	if evaluate[bool](t, watcher, `document.querySelector("#runner-host iframe") !== null`) {
		t.Errorf("the watch page made a runner frame")
	}

	// Ada changes a setting and runs again: the watch page follows.
	setField(t, ada, "#f-api-allowOrigin", "echo")
	waitFor(t, "Ada's change to be saved", func() bool { return getScenarioField(t, srv, adaID, "allowOrigin") == "echo" })
	waitFor(t, "Ada's change on the watch page", func() bool {
		return evaluate[string](t, watcher, `document.querySelector("#f-api-allowOrigin").value`) == "echo"
	})
	if share := evaluate[string](t, watcher, `document.querySelector("#share-url").value`); !strings.Contains(share, "api.allowOrigin=echo") {
		t.Errorf("the watch page's link is %q, without Ada's change", share)
	}
	if loc := evaluate[string](t, watcher, "location.pathname"); loc != watch {
		t.Errorf("the watch page moved to %s", loc)
	}
	clickRun(t, ada, srv, adaID, 2)
	waitFor(t, "Ada's second run on the watch page", func() bool {
		return evaluate[int](t, watcher, `document.querySelectorAll("#log .run-group").length`) == 2
	})
	waitFor(t, "Ada's second goal on the dashboard", func() bool { return cell("Ada", "simple-requests") == "2/3" })
	if runs, blocked := lessonTotal("simple-requests", "runs"), lessonTotal("simple-requests", "blocked"); runs != "2" || blocked != "1" {
		t.Errorf("simple-requests: %s runs, %s blocked; want 2 and 1", runs, blocked)
	}
	if got := getScenarioField(t, srv, adaID, "allowOrigin"); got != "echo" {
		t.Errorf("after watching, Ada's allowOrigin is %q: the watch page saved something", got)
	}
	if got := evaluate[string](t, watcher, `localStorage.getItem("corslab:lesson:simple-requests") ?? ""`); got != "" {
		t.Errorf("the watch page kept Ada's progress as the instructor's: %s", got)
	}

	// ----- "everyone, open Preflight" -----
	announce := func(slug string) {
		t.Helper()
		if slug == "" {
			clickOn(t, teacher, "#announce-clear")
			waitFor(t, "the dashboard to show nothing asked", func() bool {
				return text(teacher, "#announce-current") == "Not asking for anything now."
			})
			return
		}
		setField(t, teacher, "#announce-lesson", slug)
		clickOn(t, teacher, "#announce-send")
		waitFor(t, "the dashboard to show the announcement", func() bool {
			return strings.Contains(text(teacher, "#announce-current"), titles[slug])
		})
	}
	banner := func(tab context.Context) string {
		if !visible(tab, "#announcement") {
			return ""
		}
		return text(tab, "#announcement .announcement-title")
	}
	announce("preflight")
	for who, tab := range map[string]context.Context{"Ada": ada, "Bob": bob} {
		waitFor(t, "the banner on "+who+"'s page", func() bool { return banner(tab) == titles["preflight"] })
	}
	if href := evaluate[string](t, ada, `document.querySelector("#announcement-open").getAttribute("href")`); href != "/lessons/preflight" {
		t.Errorf("Open lesson goes to %q", href)
	}
	clickOn(t, ada, "#announcement-open")
	waitFor(t, "Ada's page to open the lesson", func() bool {
		// Not evaluate(): the page may be between two documents.
		path, _ := chromedp.Run(ada, chromedp.Evaluate[string]("location.pathname"))
		return strings.HasPrefix(path, "/lessons/preflight/")
	})
	openLab(t, ada, evaluate[string](t, ada, "location.href")) // the session's page, ready
	waitFor(t, "Ada's new page to be live", func() bool {
		return evaluate[string](t, ada, `document.querySelector("#conn").dataset.state`) == "live"
	})
	time.Sleep(500 * time.Millisecond) // the announcement follows the backlog
	if banner(ada) != "" {
		t.Errorf("the banner shows on the lesson it asks for")
	}
	if got := evaluate[string](t, ada, `document.querySelector("#nickname").value`); got != "Ada" {
		t.Errorf("on Ada's next page the name field holds %q", got)
	}
	waitFor(t, "the dashboard to see Ada on Preflight", func() bool {
		return strings.Contains(evaluate[string](t, teacher, `[...document.querySelectorAll("#grid-body tr")].find((r) => r.querySelector(".name").textContent === "Ada")?.querySelector(".now-on").textContent ?? ""`), titles["preflight"])
	})

	// Clear takes it back; a dismissed one stays dismissed in that tab,
	// and a newer one shows again.
	announce("")
	waitFor(t, "the banner to go from Bob's page", func() bool { return banner(bob) == "" })
	announce("credentials")
	waitFor(t, "the new banner on Bob's page", func() bool { return banner(bob) == titles["credentials"] })
	clickOn(t, bob, "#announcement-dismiss")
	if banner(bob) != "" {
		t.Errorf("Dismiss left the banner")
	}
	openLab(t, bob, evaluate[string](t, bob, "location.href"))
	waitFor(t, "Bob's page to be live again", func() bool {
		return evaluate[string](t, bob, `document.querySelector("#conn").dataset.state`) == "live"
	})
	time.Sleep(500 * time.Millisecond)
	if banner(bob) != "" {
		t.Errorf("a dismissed announcement came back after a reload")
	}
	announce("preflight")
	waitFor(t, "a newer announcement on Bob's page", func() bool { return banner(bob) == titles["preflight"] })

	if !evaluate[bool](t, teacher, "window.sameDashboard === true") {
		t.Errorf("the dashboard was reloaded")
	}

	// ----- signed out: the dashboard says so -----
	err = chromedp.Do(teacher, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.ClearBrowserCookies, cdp.Empty{})
		return err
	}))
	if err != nil {
		t.Fatalf("clearing the cookies: %v", err)
	}
	clickOn(t, teacher, "#announce-send")
	waitFor(t, "the dashboard to say it is signed out", func() bool { return visible(teacher, "#signed-out") })
	if got := text(teacher, "#conn-text"); got != "signed out" {
		t.Errorf("the connection says %q", got)
	}
}

// isolatedTab opens a tab in a browser context of its own: another
// learner's browser, with its own cookies and storage.
func isolatedTab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(tab); err != nil { // opens the tab: no timeout
		t.Fatalf("opening a tab in a new browser context: %v", err)
	}
	return tab
}

// navigate opens u and waits for the page's body.
func navigate(t *testing.T, tab context.Context, u string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(u), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
		t.Fatalf("opening %s: %v", u, err)
	}
}

// saveNickname types a name into the page's "Your name for the
// instructor" and saves it, as a learner would.
func saveNickname(t *testing.T, tab context.Context, name string) {
	t.Helper()
	setField(t, tab, "#nickname", name)
	clickOn(t, tab, "#nickname-form button[type=submit]")
	waitFor(t, "the name "+name+" to be saved", func() bool {
		return evaluate[string](t, tab, `document.querySelector("#nickname-status").textContent`) == "Saved ✓"
	})
}

// openLessonSession opens a lesson as a browser would, without one, and
// returns its session's id.
func openLessonSession(t *testing.T, srv *Server, slug string) string {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(srv.testURL(UI) + "/lessons/" + slug)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/lessons/"+slug+"/") {
		t.Fatalf("GET /lessons/%s: %d to %q", slug, resp.StatusCode, loc)
	}
	return strings.TrimPrefix(loc, "/lessons/"+slug+"/")
}

// putLearner says whose session id is, through the JSON API.
func putLearner(t *testing.T, srv *Server, id, learner, nickname string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"learner": learner, "nickname": nickname})
	req, err := http.NewRequest("PUT", srv.testURL(UI)+"/api/sessions/"+id+"/learner", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT learner %q: %d", nickname, resp.StatusCode)
	}
}

// jsString is s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
