package playground

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/url"
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

// An axeViolation is one rule axe-core found broken, with where.
type axeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
	Summary string   `json:"summary"`
}

// Every kind of page corslab serves, in light and in dark mode, has no
// accessibility violation axe-core can find: each is checked in the state
// a learner sees it in (the lab and a lesson after a run, the matrix with
// its table filled, the dashboard following a learner).
func TestAccessibility(t *testing.T) {
	axe := browsertest.Axe(t)
	const token = "a11y-test-teach-token-0042"
	curriculum, err := lesson.Load(lessons.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	browser := browsertest.CDP(t)
	srv := startServerWith(t, Config{
		Listen: "127.0.0.1", MaxSessions: 50, SessionIdle: time.Hour,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Lessons: curriculum, Workshop: true, TeachToken: token,
	})
	ui := srv.testURL(UI)

	// A learner whose lab the dashboard and the watch view show.
	learner := newTab(t, browser)
	learnerID := openLab(t, learner, ui+"/lessons/simple-requests")
	saveNickname(t, learner, "Ada")
	clickRun(t, learner, srv, learnerID, 1)

	type page struct {
		name string
		url  string
		// ready is true once the page shows what a learner would check.
		ready string
		// prepare runs once the page is ready, before the check.
		prepare func(tab context.Context)
	}
	run := func(tab context.Context) {
		id := evaluate[string](t, tab, "location.pathname.split('/').pop()")
		clickRun(t, tab, srv, id, 1)
		waitFor(t, "the run in the log", func() bool {
			return evaluate[bool](t, tab, `document.querySelector("#log .run-group:not([data-key=pending])") !== null`)
		})
	}
	labReady := `!document.querySelector("#run")?.disabled`
	pages := []page{
		{name: "lab", url: ui + "/lab", ready: labReady, prepare: run},
		{name: "lab with a field refused", url: ui + "/lab", ready: labReady, prepare: func(tab context.Context) {
			setField(t, tab, "#f-api-preflightStatus", "99")
			waitFor(t, "the field's error", func() bool {
				return evaluate[bool](t, tab, `document.querySelector("#f-api-preflightStatus").getAttribute("aria-invalid") === "true"`)
			})
		}},
		{name: "lesson", url: ui + "/lessons/preflight", ready: labReady, prepare: run},
		{name: "embed", url: ui + "/embed/preflight", ready: labReady, prepare: run},
		{name: "index", url: ui + "/lessons", ready: `document.querySelector("main") !== null`},
		{name: "matrix", url: ui + "/matrix?setup=three-origins&credentials=include&redirect=303&run=1",
			ready: `(document.querySelector("#run-status")?.textContent ?? "").startsWith("Done")`},
		{name: "dashboard", url: ui + "/teach?token=" + url.QueryEscape(token),
			ready: `document.querySelector("#conn")?.dataset.state === "live" && document.querySelector("#class-grid") !== null`},
		{name: "watch", url: ui + "/teach/learners/" + learnerID, ready: `document.querySelector("#watching") !== null`},
		{name: "origin home", url: srv.testURL(API) + "/", ready: `document.querySelector("main") !== null`},
		{name: "error: no such lesson", url: ui + "/lessons/no-such-lesson", ready: `document.querySelector("main") !== null`},
		{name: "error: bad permalink", url: ui + "/lab?request.method=%20", ready: `document.querySelector("main") !== null`},
	}
	for _, scheme := range []string{"light", "dark"} {
		for _, p := range pages {
			t.Run(scheme+"/"+p.name, func(t *testing.T) {
				tab := newTab(t, browser)
				if p.name == "dashboard" || p.name == "watch" {
					// Signed in as the instructor: the token's cookie.
					navigate(t, tab, ui+"/teach?token="+url.QueryEscape(token))
				}
				media := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
					_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
						Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
					})
					return err
				})
				if err := chromedp.Do(tab, media); err != nil {
					t.Fatal(err)
				}
				navigate(t, tab, p.url)
				waitFor(t, p.name+" to be ready", func() bool { return evaluate[bool](t, tab, p.ready) })
				if p.prepare != nil {
					p.prepare(tab)
				}
				if got := evaluate[bool](t, tab, `matchMedia("(prefers-color-scheme: dark)").matches`); got != (scheme == "dark") {
					t.Fatalf("the page does not see the %s scheme", scheme)
				}
				for _, v := range axeRun(t, tab, axe) {
					t.Errorf("%s (%s): %s\n  at %s\n  %s", v.ID, v.Impact, v.Help, strings.Join(v.Targets, ", "), strings.ReplaceAll(v.Summary, "\n", "\n  "))
				}
			})
		}
	}
}

// axeRun loads axe-core into the tab's page, once transitions have ended
// (colours mid-fade would be misread), and returns what it finds.
func axeRun(t *testing.T, tab context.Context, axe string) []axeViolation {
	t.Helper()
	waitFor(t, "animations to end", func() bool {
		return evaluate[bool](t, tab, `document.getAnimations().every((a) => a.playState !== "running" || a.effect?.getTiming().iterations === Infinity)`)
	})
	ctx, cancel := context.WithTimeout(tab, 60*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](axe)); err != nil {
		t.Fatalf("loading axe-core: %v", err)
	}
	const check = `axe.run(document, {resultTypes: ["violations"]}).then((r) => JSON.stringify(r.violations.map((v) => ({
		id: v.id, impact: v.impact, help: v.help,
		targets: v.nodes.map((n) => n.target.join(" ")),
		summary: [...new Set(v.nodes.map((n) => n.failureSummary))].join("\n"),
	}))))`
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](check, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("running axe-core: %v", err)
	}
	var violations []axeViolation
	if err := json.Unmarshal([]byte(out), &violations); err != nil {
		t.Fatalf("axe-core's answer %s: %v", out, err)
	}
	return violations
}
