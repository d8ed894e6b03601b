package playground

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// POST /api/sessions/{id}/step (handle_step.go), the matrix's one request
// between two fetches: it records the run just made, then sets the next
// scenario, and refuses anything malformed without changing anything.
func TestStepRecordsThenSetsTheScenario(t *testing.T) {
	srv := startServer(t, 5)
	s := createSession(t, srv, "")
	base := srv.testURL(UI) + "/api/sessions/" + s.ID
	sess := srv.findSession(s.ID)

	scenario := `{"setup":"three-origins","request":{"from":"app","target":"api","method":"GET","path":"/files/hello.txt","credentials":"include","mode":"cors","redirect":"follow"},` +
		`"api":{"allowOrigin":"*","redirect":303},"bucket":{"cors":[{"allowedOrigins":["null"],"allowedMethods":["GET"]}]}}`
	run := `{"request":{"from":"app","target":"api","method":"GET","path":"/files/hello.txt","headers":{},"body":"","credentials":"include","mode":"cors","redirect":"follow"},` +
		`"url":"` + s.Origins["api"] + `/files/hello.txt","since":SINCE,"browser":{"ok":false,"error":"TypeError: Failed to fetch"},"userAgent":"Chrome/140"}`

	// A scenario alone: set, with the newest exchange to claim from.
	status, body := do(t, "POST", base+"/step", `{"scenario":`+scenario+`}`, nil)
	var first struct {
		Run      json.RawMessage `json:"run"`
		Scenario *struct {
			API struct {
				AllowOrigin string `json:"allowOrigin"`
			} `json:"api"`
		} `json:"scenario"`
		Query   *string `json:"query"`
		LastSeq *uint64 `json:"lastSeq"`
	}
	if status != http.StatusOK || json.Unmarshal([]byte(body), &first) != nil || first.Scenario == nil || first.LastSeq == nil || first.Query == nil || first.Run != nil {
		t.Fatalf("a step with a scenario: %d %s", status, body)
	}
	if sc, _ := sess.Scenario(); sc.API.AllowOrigin != "*" || first.Scenario.API.AllowOrigin != "*" {
		t.Fatalf("the step did not set the scenario: %+v", sc.API)
	}

	// The browser's request, as a runner would make it.
	resp, err := http.Get(s.Origins["api"] + "/files/hello.txt")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	// Its run and the scenario back: the run claims the request's
	// exchanges and comes back with them and its verdict.
	since := "0"
	status, body = do(t, "POST", base+"/step", `{"run":`+strings.Replace(run, "SINCE", since, 1)+`,"scenario":{}}`, nil)
	var second struct {
		Run struct {
			ID        int      `json:"id"`
			Exchanges []uint64 `json:"exchanges"`
			Verdict   *struct {
				OK bool `json:"ok"`
			} `json:"verdict"`
		} `json:"run"`
		Score     *struct{ Total int } `json:"score"`
		Exchanges []struct {
			Seq uint64 `json:"seq"`
		} `json:"exchanges"`
		Scenario *struct{} `json:"scenario"`
		LastSeq  *uint64   `json:"lastSeq"`
	}
	if status != http.StatusOK || json.Unmarshal([]byte(body), &second) != nil {
		t.Fatalf("a step with a run and a scenario: %d %s", status, body)
	}
	if second.Run.ID != 1 || len(second.Run.Exchanges) == 0 || len(second.Exchanges) != len(second.Run.Exchanges) || second.Run.Verdict == nil || second.Score == nil {
		t.Errorf("the recorded run: %s", body)
	}
	for i, ex := range second.Exchanges {
		if ex.Seq != second.Run.Exchanges[i] {
			t.Errorf("exchange %d is seq %d, the run claimed %d", i, ex.Seq, second.Run.Exchanges[i])
		}
	}
	if second.Scenario == nil || second.LastSeq == nil || *second.LastSeq != sess.LastSeq() {
		t.Errorf("the scenario part: %s", body)
	}
	if sc, _ := sess.Scenario(); sc.API.AllowOrigin != "" {
		t.Errorf("the default scenario was not set back: %+v", sc.API)
	}

	// Anything malformed changes nothing, and says which field and why.
	runs, seq := sess.LastRun(), sess.LastSeq()
	for _, c := range []struct{ body, want string }{
		{`{}`, `"run": "a step needs a run, a scenario or both; got neither"`},
		{`{"run":null,"scenario":null}`, `got neither`},
		{`{"colour":"red"}`, `unknown field`},
		{`{"scenario":` + scenario + `} {}`, `after the JSON document`},
		{`{"run":{"url":3}}`, `"run"`},
		{`{"run":` + strings.Replace(run, "SINCE", "99999", 1) + `}`, `"run.since": "must be from 0 to`},
		{`{"run":` + strings.Replace(strings.Replace(run, "SINCE", "0", 1), `"ok":false`, `"ok":false,"status":1000`, 1) + `}`, `"run.browser.status": "must be 0 to 999"`},
		{`{"run":` + strings.Replace(run, "SINCE", "0", 1) + `,"scenario":{"api":{"redirect":300}}}`, `"scenario.api.redirect"`},
		{`{"scenario":{"bucket":{"cors":"all"}}}`, `scenario`},
	} {
		status, body := do(t, "POST", base+"/step", c.body, nil)
		if status != http.StatusBadRequest || !strings.Contains(body, c.want) {
			t.Errorf("step %s: %d %s, want 400 saying %s", c.body, status, body, c.want)
		}
	}
	if sess.LastRun() != runs || sess.LastSeq() != seq {
		t.Error("a refused step recorded something")
	}
	if sc, _ := sess.Scenario(); sc.API.AllowOrigin != "" {
		t.Errorf("a refused step changed the scenario: %+v", sc.API)
	}

	// The body is bounded as the rest of the API's.
	status, _ = do(t, "POST", base+"/step", `{"scenario":{"request":{"body":"`+strings.Repeat("a", maxAPIBody)+`"}}}`, nil)
	if status != http.StatusRequestEntityTooLarge {
		t.Errorf("a step larger than %d bytes: %d, want 413", maxAPIBody, status)
	}
	if status, _ := do(t, "POST", srv.testURL(UI)+"/api/sessions/nosuchsession/step", `{}`, nil); status != http.StatusNotFound {
		t.Errorf("a step of no session: %d, want 404", status)
	}
}
