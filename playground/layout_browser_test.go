package playground

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/corslab/corslab/internal/browsertest"
	"github.com/corslab/corslab/lessons"
	"github.com/corslab/corslab/playground/lesson"
)

// The screens the layout is made for: a 1366×768 laptop, the commonest,
// and a 1920×1080 desktop or projector.
var layoutScreens = []struct {
	name          string
	width, height int64
}{
	{"1366x768", 1366, 768},
	{"1920x1080", 1920, 1080},
}

// seen is JavaScript: seen(node) says where node is not in sight, or ""
// when it is. In sight: inside the viewport, and not scrolled out of any
// ancestor that clips it (a column that scrolls on its own).
const seen = `function seen(node) {
	if (!node) return "missing";
	const r = node.getBoundingClientRect();
	if (r.width === 0 && r.height === 0) return "not rendered";
	const name = (n) => n.id ? "#" + n.id : n.className ? "." + String(n.className).split(" ")[0] : n.localName;
	if (r.top < -1 || r.bottom > innerHeight + 1 || r.left < -1 || r.right > innerWidth + 1) {
		return "outside the viewport (top " + Math.round(r.top) + ", bottom " + Math.round(r.bottom) + " of " + innerHeight + ")";
	}
	for (let up = node.parentElement; up; up = up.parentElement) {
		const o = getComputedStyle(up).overflowY;
		if (o !== "auto" && o !== "scroll" && o !== "hidden") continue;
		const c = up.getBoundingClientRect();
		if (r.top < c.top - 1 || r.bottom > c.bottom + 1) {
			return "scrolled out of " + name(up) + " (top " + Math.round(r.top) + ", bottom " + Math.round(r.bottom) + "; it shows " + Math.round(c.top) + " to " + Math.round(c.bottom) + ")";
		}
	}
	return "";
}`

// The lab and every lesson page, on a laptop's screen and on a desktop's,
// show what a learner works with together, without scrolling: on a
// lesson, the start of its text, its goals, and the first setting of each
// group of the form it shows; Run always. The jump strip over the form
// brings each group into sight in one click ("What the server sends"
// included, which the README's second step asks for), and moves the focus
// there. Run headings stay short, the diagram's labels fit or can be read
// in full, the projector's text size is big and remembered, the skip links
// come first, and a run's verdict is said in the live region.
func TestLayoutInBrowser(t *testing.T) {
	curriculum, err := lesson.Load(lessons.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	browser := browsertest.CDP(t)
	srv := startLessonServer(t, curriculum)
	ui := srv.testURL(UI)

	for _, screen := range layoutScreens {
		t.Run(screen.name, func(t *testing.T) {
			tab := newTab(t, browser)
			setScreen(t, tab, screen.width, screen.height)

			t.Run("lab: every group one click away", func(t *testing.T) {
				openLab(t, tab, ui+"/lab")
				screenshot(t, tab, "lab-"+screen.name)
				if where := evaluate[string](t, tab, seen+`; seen(document.querySelector('#jump a[href="#group-api"]'))`); where != "" {
					t.Errorf("the link to What the server sends is %s", where)
				}
				checkInSight(t, tab, "#run", "Run")
				checkJumpStrip(t, tab)
			})

			for _, l := range curriculum {
				t.Run("lesson "+l.Slug, func(t *testing.T) {
					openLab(t, tab, ui+"/lessons/"+l.Slug)
					screenshot(t, tab, "lesson-"+l.Slug+"-"+screen.name)
					// Its first lines: a paragraph may be longer than the region.
					if where := evaluate[string](t, tab, seen+`; (() => {
						const p = document.querySelector(".lesson-text > :first-child");
						const lines = Math.min(p.getBoundingClientRect().height, 3 * parseFloat(getComputedStyle(p).lineHeight));
						const start = { getBoundingClientRect: () => { const r = p.getBoundingClientRect(); return { top: r.top, bottom: r.top + lines, left: r.left, right: r.right, width: r.width, height: lines }; }, parentElement: p.parentElement };
						return seen(start);
					})()`); where != "" {
						t.Errorf("the first lines of the lesson's text are %s", where)
					}
					checkInSight(t, tab, "#goals", "the goals")
					checkInSight(t, tab, "#run", "Run")
					groups := evaluate[[]string](t, tab, `[...document.querySelectorAll("#scenario > fieldset")]
						.filter((g) => g.getClientRects().length > 0).map((g) => g.id)`)
					if len(groups) == 0 {
						t.Fatal("the lesson shows no group of the form")
					}
					for _, g := range groups {
						first := `[...document.querySelectorAll("#` + g + ` [data-field]")].find((f) => f.getClientRects().length > 0)`
						where := evaluate[string](t, tab, seen+`; seen(`+first+`)`)
						if where != "" {
							t.Errorf("the first setting of #%s (%s) is %s", g, evaluate[string](t, tab, first+`?.dataset.field ?? "none"`), where)
						}
					}
					checkJumpStrip(t, tab)
				})
			}
		})
	}

	t.Run("run headings and diagram labels fit at 1366x768", func(t *testing.T) {
		tab := newTab(t, browser)
		setScreen(t, tab, 1366, 768)
		// The lesson as it starts: the api redirects to the bucket, three
		// lanes in the narrow results column beside the lesson.
		id := openLab(t, tab, ui+"/lessons/redirects-null-origin")
		clickRun(t, tab, srv, id, 1)
		waitFor(t, "the diagram of the run", func() bool {
			return evaluate[bool](t, tab, `document.querySelectorAll("#diagram .arrow-group").length >= 3`)
		})
		checkDiagramLabels(t, tab)
		screenshot(t, tab, "lesson-run-1366x768")
		// Beside the lesson the results column is narrow: the model's
		// explanation takes the diagram's place on request.
		if evaluate[bool](t, tab, `document.querySelector("#explain").checkVisibility()`) {
			t.Errorf("the explanation squeezes in beside the diagram in the narrow results column")
		}
		clickOn(t, tab, "#why-toggle")
		if !evaluate[bool](t, tab, `document.querySelector("#explain").checkVisibility() && !document.querySelector("#diagram").checkVisibility({visibilityProperty: true})`) {
			t.Errorf("Why did not put the explanation in the diagram's place")
		}
		checkInSight(t, tab, "#explain", "the explanation")
		clickOn(t, tab, "#why-toggle")
		// The goals other than the one to do now take a line each, until
		// "All in full".
		clamped := `[...document.querySelectorAll("#goals .goal-text")].filter((g) => g.scrollHeight > g.clientHeight + 1).length`
		if evaluate[int](t, tab, clamped) == 0 {
			t.Errorf("no goal is shortened to a line beside the lesson's text")
		}
		clickOn(t, tab, "#goals-full")
		if n := evaluate[int](t, tab, clamped); n != 0 {
			t.Errorf("with All in full, %d goals are still shortened", n)
		}
		clickOn(t, tab, "#goals-full")
		// A signed URL in the form's path: the longest run heading there is.
		setField(t, tab, "#f-request-target", "s3")
		setField(t, tab, "#f-request-path", "/hello.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=corslab%2F20250101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20250101T000000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
		clickRun(t, tab, srv, id, 2)
		waitFor(t, "the run's heading", func() bool {
			return evaluate[bool](t, tab, `document.querySelector('#log .run-group[data-key="2"] .group-title') !== null`)
		})
		lines := evaluate[float64](t, tab, `(() => {
			const title = document.querySelector("#log .run-group .group-title");
			return title.getBoundingClientRect().height / parseFloat(getComputedStyle(title).lineHeight);
		})()`)
		if lines > 2.2 {
			t.Errorf("the run's heading is %.1f lines tall, want at most 2", lines)
		}
		verdictLines := evaluate[float64](t, tab, `(() => {
			const v = document.querySelector("#log .run-group .group-head > .verdict");
			return v.getBoundingClientRect().height / parseFloat(getComputedStyle(v).lineHeight);
		})()`)
		if verdictLines > 2.2 {
			t.Errorf("the run's verdict is %.1f lines tall, want at most 2", verdictLines)
		}
		checkDiagramLabels(t, tab)

		// The plain lab: a redirect from api to s3.
		id = openLab(t, tab, ui+"/lab?request.path=/files/hello.txt&api.allowOrigin=*&api.redirect=302")
		clickRun(t, tab, srv, id, 1)
		waitFor(t, "the diagram of the run", func() bool {
			return evaluate[bool](t, tab, `document.querySelectorAll("#diagram .arrow-group").length >= 4`)
		})
		checkDiagramLabels(t, tab)
		screenshot(t, tab, "lab-run-1366x768")

		// Four lanes, in the lab and in the narrower column beside a
		// lesson: the page, app's CDN, and the api and s3 behind it.
		for _, u := range []string{ui + "/lessons/one-origin-cdn?setup=one-origin", ui + "/lab?setup=one-origin&request.path=/files/hello.txt"} {
			id = openLab(t, tab, u)
			clickRun(t, tab, srv, id, 1)
			waitFor(t, "four lanes in "+u, func() bool {
				return evaluate[int](t, tab, `document.querySelectorAll("#diagram .lane").length`) >= 4
			})
			checkDiagramLabels(t, tab)
		}
		screenshot(t, tab, "lab-four-lanes-1366x768")
	})

	t.Run("the projector's text size", func(t *testing.T) {
		tab := newTab(t, browser)
		setScreen(t, tab, 1366, 768)
		id := openLab(t, tab, ui+"/lab")
		clickRun(t, tab, srv, id, 1)
		waitFor(t, "an exchange in the log", func() bool {
			return evaluate[bool](t, tab, `document.querySelector("#log .raw-text") !== null`)
		})
		rawSize := `parseFloat(getComputedStyle(document.querySelector("#log .raw-text")).fontSize)`
		before := evaluate[float64](t, tab, rawSize)
		toggle := `document.querySelector("[data-projector-toggle]")`
		if got := evaluate[string](t, tab, toggle+`.getAttribute("aria-pressed")`); got != "false" {
			t.Fatalf("the toggle starts with aria-pressed=%q", got)
		}
		clickOn(t, tab, "[data-projector-toggle]")
		if got := evaluate[string](t, tab, toggle+`.getAttribute("aria-pressed")`); got != "true" {
			t.Errorf("pressed, the toggle says aria-pressed=%q", got)
		}
		if got := evaluate[float64](t, tab, rawSize); got < 18 {
			t.Errorf("the raw HTTP is %.1fpx in projector mode (%.1fpx before), want 18 or more", got, before)
		}
		if got := evaluate[float64](t, tab, `parseFloat(getComputedStyle(document.documentElement).fontSize)`); got < 20 {
			t.Errorf("the page's text is %.1fpx in projector mode, want 20 or more", got)
		}
		screenshot(t, tab, "lab-projector-1366x768")

		// Kept across a reload, and on the other pages.
		openLab(t, tab, ui+"/lab/"+id)
		if !evaluate[bool](t, tab, `document.documentElement.classList.contains("projector")`) ||
			evaluate[string](t, tab, toggle+`.getAttribute("aria-pressed")`) != "true" {
			t.Errorf("after a reload the page is not in projector mode")
		}
		waitFor(t, "the log after the reload", func() bool {
			return evaluate[bool](t, tab, `document.querySelector("#log .raw-text") !== null`)
		})
		if got := evaluate[float64](t, tab, rawSize); got < 18 {
			t.Errorf("after a reload the raw HTTP is %.1fpx", got)
		}
		checkDiagramLabels(t, tab)
		openLab(t, tab, ui+"/lessons/preflight")
		screenshot(t, tab, "lesson-projector-1366x768")
		checkInSight(t, tab, "#run", "Run, in projector mode")
		navigate(t, tab, ui+"/matrix/"+id)
		if !evaluate[bool](t, tab, `document.documentElement.classList.contains("projector")`) {
			t.Errorf("the matrix page is not in projector mode")
		}
		clickOn(t, tab, "[data-projector-toggle]")
		if evaluate[bool](t, tab, `document.documentElement.classList.contains("projector")`) {
			t.Errorf("pressed again, the matrix page is still in projector mode")
		}
		if got := evaluate[string](t, tab, `localStorage.getItem("corslab:projector")`); got != "off" {
			t.Errorf("localStorage keeps %q, want off", got)
		}
	})

	t.Run("the matrix's details pane has room for its text", func(t *testing.T) {
		tab := newTab(t, browser)
		setScreen(t, tab, 1366, 768)
		navigate(t, tab, ui+"/matrix?setup=three-origins&credentials=include&redirect=303&run=1")
		waitFor(t, "the matrix to run", func() bool {
			return strings.HasPrefix(evaluate[string](t, tab, `document.querySelector("#run-status").textContent`), "Done")
		})
		clickOn(t, tab, "button.cell:not(:disabled)")
		waitFor(t, "the cell's exchanges", func() bool {
			return evaluate[bool](t, tab, `document.querySelector("#details .raw-text") !== null`)
		})
		screenshot(t, tab, "matrix-1366x768")
		for _, width := range []int64{1366, 900} {
			setScreen(t, tab, width, 768)
			narrowest := evaluate[float64](t, tab, `Math.min(...[...document.querySelectorAll("#details .raw-text, #details .step-body, #details .facts dd")]
				.filter((n) => n.checkVisibility()).map((n) => n.getBoundingClientRect().width))`)
			below := evaluate[bool](t, tab, `document.querySelector("#details").getBoundingClientRect().top >= document.querySelector(".matrix-main").getBoundingClientRect().bottom - 1`)
			if narrowest < 240 && !below {
				t.Errorf("%dpx wide, the details pane's narrowest text column is %.0fpx, want 240 or more", width, narrowest)
			}
		}
	})

	t.Run("skip links come first and lead to Run, the log and the lesson", func(t *testing.T) {
		tab := newTab(t, browser)
		setScreen(t, tab, 1366, 768)
		id := openLab(t, tab, ui+"/lessons/preflight")
		evaluate[bool](t, tab, `document.activeElement.blur(), true`)
		var names []string
		for range 3 {
			pressTab(t, tab, false)
			names = append(names, evaluate[string](t, tab, `document.activeElement.textContent.trim()`))
			if where := evaluate[string](t, tab, seen+`; seen(document.activeElement)`); where != "" {
				t.Errorf("focused, %q is %s", names[len(names)-1], where)
			}
		}
		if want := []string{"Skip to the lesson", "Skip to Run", "Skip to the log"}; strings.Join(names, "|") != strings.Join(want, "|") {
			t.Errorf("the first tab stops are %q, want %q", names, want)
		}
		// Back to "Skip to Run", and Enter.
		pressTab(t, tab, true)
		pressKey(t, tab, "\r")
		if got := evaluate[string](t, tab, `document.activeElement.id`); got != "run" {
			t.Fatalf("after Skip to Run the focus is on #%s", got)
		}
		checkInSight(t, tab, "#run", "Run, focused")
		// The Enter that followed the link did not press Run as well.
		time.Sleep(500 * time.Millisecond)
		var runs []json.RawMessage
		getJSON(t, ui+"/api/sessions/"+id+"/runs", &runs)
		if len(runs) != 0 || evaluate[bool](t, tab, `document.querySelector("#run").disabled`) {
			t.Errorf("the Enter on Skip to Run also pressed Run (%d runs)", len(runs))
		}
		// From the top of the page again, Run is two stops and an Enter away.
		openLab(t, tab, ui+"/lessons/preflight")
		stops := 0
		for stops = 1; stops <= 10; stops++ {
			pressTab(t, tab, false)
			if evaluate[string](t, tab, `document.activeElement.textContent.trim()`) == "Skip to Run" {
				pressKey(t, tab, "\r")
				break
			}
		}
		waitFor(t, "the focus to move", func() bool { return evaluate[string](t, tab, `document.activeElement.id`) != "" })
		if got := evaluate[string](t, tab, `document.activeElement.id`); got != "run" || stops > 2 {
			t.Errorf("Run took %d tab stops and an Enter (focus on #%s), want at most 2", stops, got)
		}
		// The lesson and the log.
		for _, c := range []struct{ link, want string }{{"Skip to the lesson", "lesson-title"}, {"Skip to the log", "log"}} {
			evaluate[bool](t, tab, `document.querySelector('a.skip-link[href="#`+c.want+`"]').focus(), true`)
			pressKey(t, tab, "\r")
			waitFor(t, "the focus to leave "+c.link, func() bool {
				return !evaluate[bool](t, tab, `document.activeElement.classList.contains("skip-link")`)
			})
			if got := evaluate[string](t, tab, `document.activeElement.id`); got != c.want {
				t.Errorf("after %s the focus is on #%s, want #%s", c.link, got, c.want)
			}
			checkInSight(t, tab, "#"+c.want, c.link+"'s target")
		}
		// The plain lab has no lesson to skip to.
		openLab(t, tab, ui+"/lab")
		if got := evaluate[[]string](t, tab, `[...document.querySelectorAll("a.skip-link")].map((a) => a.textContent)`); strings.Join(got, "|") != "Skip to Run|Skip to the log" {
			t.Errorf("the lab's skip links are %q", got)
		}
	})

	t.Run("the live region says each run's verdict", func(t *testing.T) {
		tab := newTab(t, browser)
		setScreen(t, tab, 1366, 768)
		id := openLab(t, tab, ui+"/lab")
		region := `document.querySelector("#announcer")`
		if got := evaluate[string](t, tab, region+`.getAttribute("role")`); got != "status" {
			t.Errorf("the live region's role is %q", got)
		}
		clickRun(t, tab, srv, id, 1)
		waitFor(t, "the first run's verdict to be said", func() bool {
			return strings.Contains(evaluate[string](t, tab, region+`.textContent`), "Run 1: blocked")
		})
		setField(t, tab, "#f-api-allowOrigin", "echo")
		waitFor(t, "the scenario to be saved", func() bool { return getScenarioField(t, srv, id, "allowOrigin") == "echo" })
		clickRun(t, tab, srv, id, 2)
		waitFor(t, "the second run's verdict to be said", func() bool {
			return strings.Contains(evaluate[string](t, tab, region+`.textContent`), "Run 2: JS read the response, 200 OK")
		})
	})

	t.Run("a goal turning green is said in a live region", func(t *testing.T) {
		tab := newTab(t, browser)
		setScreen(t, tab, 1366, 768)
		id := openLab(t, tab, ui+"/lessons/simple-requests")
		status := `document.querySelector("#run-status")`
		if got := evaluate[string](t, tab, status+`.getAttribute("role")`); got != "status" {
			t.Errorf("the run bar's status has role %q, want status", got)
		}
		clickRun(t, tab, srv, id, 1)
		waitFor(t, "goal 1 to be said met", func() bool {
			return strings.Contains(evaluate[string](t, tab, status+`.textContent`), "Goal 1 met")
		})
	})
}

// setScreen makes the tab's viewport width×height CSS pixels.
func setScreen(t *testing.T, tab context.Context, width, height int64) {
	t.Helper()
	if err := chromedp.Do(tab, chromedp.EmulateViewport(width, height)); err != nil {
		t.Fatal(err)
	}
}

// checkInSight fails the test unless sel is in sight (seen).
func checkInSight(t *testing.T, tab context.Context, sel, what string) {
	t.Helper()
	if where := evaluate[string](t, tab, seen+`; seen(document.querySelector(`+jsString(sel)+`))`); where != "" {
		t.Errorf("%s is %s", what, where)
	}
}

// checkJumpStrip clicks each link of the jump strip over the form, and
// checks that its group's legend and first setting come into sight, with
// the focus on the group.
func checkJumpStrip(t *testing.T, tab context.Context) {
	t.Helper()
	links := evaluate[[]string](t, tab, `[...document.querySelectorAll("#jump a[data-group]")].filter((a) => a.getClientRects().length > 0).map((a) => a.dataset.group)`)
	if len(links) == 0 {
		t.Fatal("the jump strip has no link")
	}
	// Backwards, so that each link has somewhere to go.
	for i := len(links) - 1; i >= 0; i-- {
		g := links[i]
		clickOn(t, tab, `#jump a[data-group="`+g+`"]`)
		if got := evaluate[string](t, tab, `document.activeElement.id`); got != g {
			t.Errorf("the link to #%s put the focus on #%s", g, got)
		}
		for _, part := range []string{"legend", "[data-field]"} {
			sel := `[...document.querySelectorAll("#` + g + ` ` + part + `")].find((n) => n.getClientRects().length > 0)`
			if where := evaluate[string](t, tab, seen+`; seen(`+sel+`)`); where != "" {
				t.Errorf("after its link, #%s's first %s is %s", g, part, where)
			}
		}
		// Not under the strip, which stays on top.
		if under := evaluate[bool](t, tab, `document.querySelector("#`+g+` legend").getBoundingClientRect().top < document.querySelector("#jump").getBoundingClientRect().bottom - 1`); under {
			t.Errorf("after its link, #%s's legend is under the jump strip", g)
		}
		if got := evaluate[string](t, tab, `document.querySelector("#jump [aria-current]")?.dataset.group ?? ""`); got != g {
			t.Errorf("after the link to #%s the strip marks #%s as current", g, got)
		}
	}
}

// checkDiagramLabels checks that every label of the diagram fits its room
// or, where it was shortened, has its whole text in a tooltip (<title>)
// and in the diagram's description.
func checkDiagramLabels(t *testing.T, tab context.Context) {
	t.Helper()
	var problems []string
	js := `(() => {
		const out = [];
		const svg = document.querySelector("#diagram svg");
		if (!svg) return ["no diagram"];
		const described = document.querySelector("#diagram-text").textContent;
		// "waiting…" is no label: the run is not over.
		if (svg.querySelector(".mark-wait")) return ["the run is still drawn as waiting"];
		for (const text of svg.querySelectorAll("text")) {
			const shown = text.textContent;
			const full = text.dataset.full ?? "";
			const title = text.parentNode.querySelector(":scope > title")?.textContent ?? "";
			if (shown.endsWith("…") && !full) out.push("cut without its whole text: " + shown);
			if (full && !title.includes(full)) out.push("shortened without a tooltip: " + shown + " (title " + JSON.stringify(title) + ")");
			if (full && !described.includes(full)) out.push("not in the diagram's description: " + full);
			if (text.classList.contains("lane-title") || text.classList.contains("lane-sub")) {
				const box = text.parentNode.querySelector("rect").getBBox();
				const b = text.getBBox();
				if (b.x < box.x - 0.5 || b.x + b.width > box.x + box.width + 0.5) out.push("wider than its lane box: " + shown);
			}
		}
		const box = svg.getBoundingClientRect();
		for (const text of svg.querySelectorAll("text")) {
			const r = text.getBoundingClientRect();
			if (r.right > box.right + 1 || r.left < box.left - 1) out.push("outside the diagram: " + text.textContent);
		}
		return out;
	})()`
	waitFor(t, "the diagram of the finished run", func() bool {
		return evaluate[bool](t, tab, `document.querySelector("#diagram svg .mark-wait") === null`)
	})
	problems = evaluate[[]string](t, tab, js)
	for _, p := range problems {
		t.Errorf("diagram label %s", p)
	}
}

// pressTab presses Tab (or Shift+Tab) in the page, as the keyboard would.
func pressTab(t *testing.T, tab context.Context, shift bool) {
	t.Helper()
	var opts []chromedp.KeyOption
	if shift {
		opts = append(opts, chromedp.KeyModifiers(chromedp.ModifierShift))
	}
	ctx, cancel := context.WithTimeout(tab, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\t", opts...)); err != nil {
		t.Fatal(err)
	}
}

// pressKey types key into the focused element.
func pressKey(t *testing.T, tab context.Context, key string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.KeyEvent(key)); err != nil {
		t.Fatal(err)
	}
}

// screenshot saves the tab's viewport as NAME.png (light) and
// NAME-dark.png in $CORSLAB_SCREENSHOTS, when it names a directory: for
// people to look at the layout, not for the test to judge.
func screenshot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	dir := os.Getenv("CORSLAB_SCREENSHOTS")
	if dir == "" {
		return
	}
	for _, scheme := range []string{"light", "dark"} {
		media := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
			})
			return err
		})
		if err := chromedp.Do(tab, media); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond) // colours fade in (transitions)
		png, err := chromedp.Run(tab, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		file := name + ".png"
		if scheme == "dark" {
			file = name + "-dark.png"
		}
		if err := os.WriteFile(filepath.Join(dir, file), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	media := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{})
		return err
	})
	if err := chromedp.Do(tab, media); err != nil {
		t.Fatal(err)
	}
}
