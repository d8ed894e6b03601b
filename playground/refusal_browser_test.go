package playground

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/corslab/corslab/internal/browsertest"
	"github.com/corslab/corslab/playground/ratelimit"
)

// refusedText is what every page says of a request corslab refused
// (static/refused.js).
const refusedText = "corslab refused this request, not your browser's CORS check"

// TestLabSaysCorslabRefused presses Run in the lab when the session has
// used up its share: the api hop and the POST of the run are refused by
// corslab. The page waits and posts the run again, saying why, and then
// shows the run as corslab's refusal, with its reason: no verdict, no
// agreement, no scored prediction. (Without the refusal the api, which
// echoes the Origin, would have let JS read the response; with corslab's
// 429, which has no CORS headers, the browser blocks it, and the model
// would have explained that as a missing Access-Control-Allow-Origin.)
func TestLabSaysCorslabRefused(t *testing.T) {
	browser := browsertest.CDP(t)
	srv := startServerWith(t, Config{
		Listen: "127.0.0.1", MaxSessions: 5, SessionIdle: time.Hour,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		// A token every 5 s: drained, the session's next requests are
		// refused for as long (and Retry-After says so).
		SessionRate: ratelimit.Rate{PerSecond: 0.2, Burst: 20},
	})
	tab := newTab(t, browser)
	id := openLab(t, tab, srv.testURL(UI)+"/lab?api.allowOrigin=echo")
	// Every text the status line shows, in order.
	evaluate[bool](t, tab, `(() => {
		window.statusTexts = [];
		const status = document.querySelector("#run-status");
		new MutationObserver(() => window.statusTexts.push(status.textContent))
			.observe(status, { childList: true, characterData: true, subtree: true });
		document.querySelector('button[data-predict="yes"]').click();
		return true;
	})()`)

	for range 100 {
		resp, err := http.Get(srv.testURL(UI) + "/api/sessions/" + id)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			break
		}
	}
	// Not clickRun: the test's own GETs would take the session's tokens.
	if err := chromedp.Do(tab, chromedp.Click(chromedp.CSS("#run"))); err != nil {
		t.Fatal(err)
	}
	statuses := strings.Join(evaluateWhenDone(t, tab), "\n")
	sess := srv.sessions.Peek(id)
	runs := sess.Runs()
	if len(runs) != 1 {
		t.Fatalf("%d runs recorded, want 1", len(runs))
	}
	run := runs[0]
	if len(run.Refused) == 0 || run.Verdict != nil {
		t.Fatalf("the run: refused %+v, verdict %+v; want corslab's refusal and no verdict", run.Refused, run.Verdict)
	}
	if r := run.Refused[0]; r.Origin != "api" || r.Status != http.StatusTooManyRequests {
		t.Errorf("refused: %+v, want the api hop's 429", r)
	}

	if !strings.Contains(statuses, refusedText+" (corslab: too many requests in this session") || !regexp.MustCompile(`Trying again in [1-5] s`).MatchString(statuses) {
		t.Errorf("the status line never said it waited for corslab; it said:\n%s", statuses)
	}
	group := evaluate[string](t, tab, `document.querySelector('.run-group[data-key="1"]').innerText`)
	for _, want := range []string{refusedText, "429 from api: GET /users", "--session-rate", "your prediction was not scored"} {
		if !strings.Contains(group, want) {
			t.Errorf("the run in the log does not say %q:\n%s", want, group)
		}
	}
	for _, sel := range []string{".agree", ".disagree", ".prediction", ".steps"} {
		if n := evaluate[int](t, tab, `document.querySelectorAll('.run-group[data-key="1"] `+sel+`').length`); n != 0 {
			t.Errorf("the refused run shows %s: a verdict or a score for corslab's refusal", sel)
		}
	}
	if pane := evaluate[string](t, tab, "document.querySelector('#explain').innerText"); !strings.Contains(pane, refusedText) {
		t.Errorf("the explanation pane says %q, want corslab's refusal", pane)
	}
	if score := sess.Score(); score.Total != 0 || run.Prediction == nil || run.Prediction.Correct {
		t.Errorf("prediction %+v, score %+v: the prediction of a refused run was scored", run.Prediction, score)
	}
}

// evaluateWhenDone waits for the lab's run to be over (Run enabled again)
// and returns every text its status line showed.
func evaluateWhenDone(t *testing.T, tab context.Context) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 20*time.Second)
	defer cancel()
	// Run is disabled from the click until the run is recorded.
	if err := chromedp.Do(ctx, chromedp.WaitNotPresent(chromedp.CSS(`.run-group[data-key="pending"]`)), chromedp.WaitEnabled(chromedp.CSS("#run"))); err != nil {
		t.Fatal(err)
	}
	return evaluate[[]string](t, tab, "window.statusTexts")
}
