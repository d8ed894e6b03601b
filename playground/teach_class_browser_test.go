package playground

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/corslab/corslab/internal/browsertest"
	"github.com/corslab/corslab/lessons"
	"github.com/corslab/corslab/playground/lesson"
)

// The dashboard as an instructor sees it in Chromium, with corslab started
// as `--teach-token T` on a laptop (no --public-host): a learner is asked
// for a name, their two tabs are one row under it, they stay online while
// either tab is open, the goal dots say which goals are met, and the
// lessons are numbered through the whole curriculum.
func TestTeachDashboardFollowsALearnersTabs(t *testing.T) {
	const token = "browser-test-class-token-42"
	curriculum, err := lesson.Load(lessons.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	var four *lesson.Lesson // a lesson with four goals or more, for the dots
	for _, l := range curriculum {
		if len(l.Goals) >= 4 && four == nil {
			four = l
		}
	}
	if four == nil {
		t.Fatal("no built-in lesson has four goals")
	}
	browser := browsertest.CDP(t)
	srv := startServerWith(t, Config{
		Listen: "127.0.0.1", MaxSessions: 50, SessionIdle: time.Hour,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Lessons: curriculum, TeachToken: token, // no Workshop: a laptop
	})
	ui := srv.testURL(UI)
	text := func(tab context.Context, sel string) string {
		return evaluate[string](t, tab, `document.querySelector(`+jsString(sel)+`)?.textContent ?? ""`)
	}

	teacher := newTab(t, browser)
	navigate(t, teacher, ui+"/teach?token="+url.QueryEscape(token))
	waitFor(t, "the dashboard to follow the class", func() bool {
		return evaluate[string](t, teacher, `document.querySelector("#conn")?.dataset.state ?? ""`) == "live"
	})

	// ----- the lessons are numbered 1 to 18, across tracks -----
	var want []string
	for i, l := range curriculum {
		want = append(want, fmt.Sprintf("%d|%d. %s|%d.", i+1, i+1, l.Title, i+1))
	}
	got := evaluate[[]string](t, teacher, `(() => {
		const heads = [...document.querySelectorAll("#grid-head th.lesson-col")];
		const nos = [...document.querySelectorAll("#summary-rows .lesson-no")];
		return heads.map((h, i) => h.textContent + "|" + h.getAttribute("aria-label") + "|" + (nos[i]?.textContent ?? ""));
	})()`)
	if strings.Join(got, "\n") != strings.Join(want, "\n") || len(got) != 18 {
		t.Errorf("the dashboard numbers the lessons\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// ----- a learner opens two tabs: asked for a name, one row -----
	tab1 := isolatedTab(t, browser)
	s1 := openLab(t, tab1, ui+"/lessons/"+four.Slug)
	if !evaluate[bool](t, tab1, `(() => { const f = document.querySelector("#nickname"); return f !== null && f.getClientRects().length > 0; })()`) {
		t.Fatal("with the dashboard on, the lesson page does not ask for a name")
	}
	if got := text(tab1, `label[for="nickname"]`); got != "Your name for the instructor" {
		t.Errorf("the name field's label says %q", got)
	}
	learner := evaluate[string](t, tab1, `localStorage.getItem("corslab.learner")`)
	tab2, close2 := tabBeside(t, tab1) // the same browser: same learner
	s2 := openLab(t, tab2, ui+"/lessons/preflight")

	rowJS := `[...document.querySelectorAll("#grid-body tr")].find((r) => r.dataset.learner === ` + jsString(learner) + `)`
	row := func(expr string) string {
		return evaluate[string](t, teacher, `(() => { const row = `+rowJS+`; return row ? String(`+expr+`) : "no row"; })()`)
	}
	rows := func() int { return evaluate[int](t, teacher, `document.querySelectorAll("#grid-body tr").length`) }
	waitFor(t, "one row with both tabs, before a name", func() bool {
		return row(`row.querySelector("td.tabs .tab-count").textContent`) == "2 tabs open · 2 sessions"
	})
	if n, name := rows(), row(`row.querySelector(".name").textContent`); n != 1 || name != "(no name yet)" {
		t.Errorf("%d rows, named %q; want one, with no name yet", n, name)
	}
	listed := row(`[...row.querySelectorAll("details.sessions li")].map((li) => li.dataset.session).sort().join(" ")`)
	if want := strings.Join(sortedPair(s1, s2), " "); listed != want {
		t.Errorf("the row lists sessions %q, want %q", listed, want)
	}

	saveNickname(t, tab1, "Ada")
	waitFor(t, "the row to take the name", func() bool { return row(`row.querySelector(".name").textContent`) == "Ada" })
	if n := rows(); n != 1 {
		t.Errorf("after naming herself, Ada has %d rows", n)
	}

	// ----- she works in the second tab, then closes it: still online -----
	setField(t, tab2, "#f-api-allowOrigin", "*")
	waitFor(t, "the second tab to be her current one", func() bool {
		return strings.Contains(row(`row.querySelector(".now-on").textContent`), "Preflight")
	})
	close2()
	waitFor(t, "the dashboard to see one tab left", func() bool {
		return row(`row.querySelector("td.tabs .tab-count").textContent`) == "1 tab open · 2 sessions"
	})
	if state, words := row(`row.className`), row(`row.querySelector("th.who .visually-hidden").textContent`); state != "online" || words != "online: " {
		t.Errorf("with one of two tabs closed, her row is %q, %q; want online", state, words)
	}
	if got := text(teacher, "#count-online"); got != "1" {
		t.Errorf("%s online, want 1", got)
	}

	// ----- goals 1, 2 and 4 met: the dots say which -----
	srv.teach.mu.Lock()
	for _, i := range []int{0, 1, 3} {
		srv.teach.progressOf(s1).met[four.Goals[i].ID] = true
	}
	srv.teach.last = nil // no news in the session itself: look again
	srv.teach.mu.Unlock()
	cellJS := `row.querySelector('td[data-lesson=` + jsString(four.Slug) + `]')`
	dots := strings.Repeat("○", len(four.Goals))
	dots = "●●○●" + dots[len("●●○●"):]
	waitFor(t, "the dots for goals 1, 2 and 4", func() bool {
		return row(cellJS+`.querySelector(".dots").textContent`) == dots
	})
	wantWords := fmt.Sprintf("goals 1, 2 and 4 of %d met", len(four.Goals))
	if got := row(cellJS + `.querySelector(".dots").getAttribute("aria-label")`); got != wantWords {
		t.Errorf("the dots' label says %q, want %q", got, wantWords)
	}
	if got := row(cellJS + `.querySelector(".dots").getAttribute("role")`); got != "img" {
		t.Errorf("the dots' role is %q, want img", got)
	}
	if got := row(`[...` + cellJS + `.querySelectorAll(".goal")].map((d) => d.classList.contains("met") ? "met" : "open").join(" ")`); !strings.HasPrefix(got, "met met open met") {
		t.Errorf("the dots are %q, want met met open met…", got)
	}
	title := row(cellJS + `.title`)
	if !strings.Contains(title, wantWords) || !strings.Contains(title, "○ 3. "+four.Goals[2].Text) || !strings.Contains(title, "✓ 4. "+four.Goals[3].Text) {
		t.Errorf("the cell's tooltip says %q", title)
	}
	evaluate[bool](t, teacher, `(import(document.querySelector("script[src*=\"teach.js\"]").src).then((m) => { window.words = [
		m.goalsMetText([false, false, false]), m.goalsMetText([false, true, false]),
		m.goalsMetText([true, false, true]), m.goalsMetText([true, true, true]), m.goalsMetText([true]),
	]; }), true)`)
	waitFor(t, "teach.js's words", func() bool { return evaluate[bool](t, teacher, "Array.isArray(window.words)") })
	if got := strings.Join(evaluate[[]string](t, teacher, "window.words"), "|"); got != "none of 3 goals met|goal 2 of 3 met|goals 1 and 3 of 3 met|all 3 goals met|the goal met" {
		t.Errorf("goalsMetText says %q", got)
	}

	// ----- her last tab closes: offline -----
	if err := chromedp.Cancel(tab1); err != nil {
		t.Fatalf("closing her first tab: %v", err)
	}
	waitFor(t, "the dashboard to see no tab left", func() bool {
		return row(`row.querySelector("td.tabs .tab-count").textContent`) == "no tab open · 2 sessions"
	})
	if state := row(`row.className`); state != "offline" {
		t.Errorf("with every tab closed, her row is %q, want offline", state)
	}
	if got := text(teacher, "#count-online"); got != "0" {
		t.Errorf("%s online, want 0", got)
	}
}

// tabBeside opens another tab in tab's browser context: the same
// learner's browser, sharing its localStorage. Calling the func closes it.
func tabBeside(t *testing.T, tab context.Context) (context.Context, func()) {
	t.Helper()
	other, cancel := chromedp.NewContext(tab)
	t.Cleanup(cancel)
	if err := chromedp.Do(other); err != nil {
		t.Fatalf("opening a second tab: %v", err)
	}
	return other, cancel
}

func sortedPair(a, b string) []string {
	if b < a {
		return []string{b, a}
	}
	return []string{a, b}
}
