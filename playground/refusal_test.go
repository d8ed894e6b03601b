package playground

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/corslab/corslab/playground/ratelimit"
)

// A request corslab itself refuses (its rate limits) says nothing about
// CORS: the run it was part of carries the refusal, gets no verdict, and
// its prediction is not scored. The refusal has none of the scenario's
// CORS headers, so a browser cannot take it for the scenario's answer.
func TestRefusedRequestGivesNoVerdict(t *testing.T) {
	// The same page, at the same moment, sees what it saw in the matrix of
	// issue 12: the api answered corslab's 429 and (same-origin, or read
	// through the proxy) JS read it. Without the refusal noted, the engine
	// would call that "JS reads it".
	const browserSaw = `{"ok": true, "status": 429, "type": "basic", "body": "corslab: too many requests"}`
	quick := ratelimit.Rate{PerSecond: 20, Burst: 3} // refills in 150 ms
	for _, c := range []struct {
		desc       string
		cfg        Config
		wantReason string
	}{
		{"the session's limit", Config{SessionRate: quick}, "--session-rate"},
		{"the client address's limit", Config{IPRate: quick}, "--ip-rate"},
	} {
		t.Run(c.desc, func(t *testing.T) {
			cfg := c.cfg
			cfg.Listen, cfg.MaxSessions, cfg.SessionIdle = "127.0.0.1", 5, time.Hour
			cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
			srv := startServerWith(t, cfg)
			time.Sleep(200 * time.Millisecond) // creating the session may have used tokens
			id := createSession(t, srv, `{"api": {"allowOrigin": "echo"}}`).ID
			time.Sleep(200 * time.Millisecond)

			// Ask the api until corslab refuses; a real page's fetch.
			var refused *http.Response
			var body []byte
			for range 20 {
				req, _ := http.NewRequest("GET", srv.testURL(API)+"/"+id+"/users", nil)
				req.Header.Set("Origin", srv.testURL(App))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ = io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusTooManyRequests {
					refused = resp
					break
				}
			}
			if refused == nil {
				t.Fatal("20 requests at once, and corslab refused none")
			}
			for name := range refused.Header {
				if strings.HasPrefix(strings.ToLower(name), "access-control-") {
					t.Errorf("corslab's 429 carries %s: %q; the scenario's headers must not be on corslab's refusal", name, refused.Header.Get(name))
				}
			}
			if !strings.Contains(string(body), c.wantReason) {
				t.Errorf("the 429 says %q; want it to name %s", body, c.wantReason)
			}

			time.Sleep(300 * time.Millisecond) // the bucket is full again
			run := postRunJSON(t, srv, id, browserSaw, `{"ok": true}`)
			if run.Verdict != nil {
				t.Errorf("the run has a verdict (%+v); a refused run must have none", run.Verdict)
			}
			if len(run.Refused) == 0 {
				t.Fatalf("the run does not say corslab refused a request of it")
			}
			r := run.Refused[0]
			if r.Origin != "api" || r.Method != "GET" || r.Target != "/"+id+"/users" || r.Status != 429 || !strings.Contains(r.Reason, c.wantReason) {
				t.Errorf("refused: %+v; want api's GET /%s/users, 429, the reason naming %s", r, id, c.wantReason)
			}
			if run.Prediction == nil || run.Prediction.Correct || run.Score.Total != 0 {
				t.Errorf("prediction %+v, score %+v: a refused run's prediction is not scored", run.Prediction, run.Score)
			}

			// The refusal belonged to that run only: the next one, with
			// nothing refused, is explained as usual.
			time.Sleep(300 * time.Millisecond)
			req, _ := http.NewRequest("GET", srv.testURL(API)+"/"+id+"/users", nil)
			req.Header.Set("Origin", srv.testURL(App))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			next := postRunJSON(t, srv, id, `{"ok": true, "status": 200, "type": "cors"}`, `{"ok": true}`)
			if len(next.Refused) != 0 || next.Verdict == nil || !next.Verdict.OK || !next.Verdict.Agrees || next.Score.Total != 1 {
				t.Errorf("the next run: refused %v, verdict %+v, score %+v; want a verdict that agrees, and a scored prediction", next.Refused, next.Verdict, next.Score)
			}
		})
	}
}

// The lab's own API calls that corslab refuses are the page's to retry
// (api.js): they are not part of any run's traffic, and the next run is
// explained as usual.
func TestRefusedAPICallIsNotARunsRefusal(t *testing.T) {
	srv := startServerWith(t, Config{
		Listen: "127.0.0.1", MaxSessions: 5, SessionIdle: time.Hour,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		SessionRate: ratelimit.Rate{PerSecond: 20, Burst: 3},
	})
	id := createSession(t, srv, `{"api": {"allowOrigin": "echo"}}`).ID
	refused := false
	for range 20 {
		resp, err := http.Get(srv.testURL(UI) + "/api/sessions/" + id)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			refused = resp.Header.Get("Retry-After") != ""
			break
		}
	}
	if !refused {
		t.Fatal("the API was never refused with a Retry-After")
	}
	time.Sleep(300 * time.Millisecond)
	run := postRunJSON(t, srv, id, `{"ok": false, "error": "TypeError: Failed to fetch"}`, "")
	if len(run.Refused) != 0 || run.Verdict == nil {
		t.Errorf("refused %v, verdict %+v: an API call's refusal is not the run's", run.Refused, run.Verdict)
	}
}

// The app origin's proxy passes a request on from loopback: that hop was
// counted as the app hop already, from the learner's own address, so it
// does not use the loopback address's share (which every learner's
// proxied hops would otherwise share).
func TestProxyHopIsCountedOnce(t *testing.T) {
	srv := startServerWith(t, Config{
		Listen: "127.0.0.1", MaxSessions: 5, SessionIdle: time.Hour,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		IPRate: ratelimit.Rate{PerSecond: 0.001, Burst: 3},
	})
	get := func(via string) int {
		req, _ := http.NewRequest("GET", srv.testURL(API)+"/", nil)
		if via != "" {
			req.Header.Set("Via", via)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for range 10 {
		if code := get(proxyVia); code != 200 {
			t.Fatalf("a proxied hop from loopback: %d, want 200 (not counted)", code)
		}
	}
	var codes []int
	for range 4 {
		codes = append(codes, get("1.1 some-other-proxy"))
	}
	if codes[2] != 200 || codes[3] != http.StatusTooManyRequests {
		t.Errorf("other requests: %v; want the burst of 3 intact, then 429", codes)
	}
}

// refusalRun is what POST /runs answers, as far as these tests look.
type refusalRun struct {
	Verdict *struct {
		OK     bool `json:"ok"`
		Agrees bool `json:"agrees"`
	} `json:"verdict"`
	Prediction *struct{ OK, Correct bool } `json:"prediction"`
	Refused    []struct {
		Origin, Method, Target, Reason string
		Status                         int
	} `json:"refused"`
	Score struct{ Right, Total int } `json:"score"`
}

// postRunJSON records a run of GET /users from app with what the browser
// saw and a prediction (JSON, or "" for none).
func postRunJSON(t *testing.T, srv *Server, id, browser, prediction string) refusalRun {
	t.Helper()
	body := `{"request": {"from":"app","target":"api","method":"GET","path":"/users","headers":{},"body":"","credentials":"omit","mode":"cors","redirect":"follow"},` +
		`"url": "` + srv.testURL(API) + "/" + id + `/users", "since": 0, "browser": ` + browser
	if prediction != "" {
		body += `, "prediction": ` + prediction
	}
	resp, err := http.Post(srv.testURL(UI)+"/api/sessions/"+id+"/runs", "application/json", strings.NewReader(body+"}"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /runs: %d %s", resp.StatusCode, data)
	}
	var run refusalRun
	if err := json.Unmarshal(data, &run); err != nil {
		t.Fatal(err)
	}
	return run
}
