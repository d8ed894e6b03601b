package playground

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/corslab/corslab/playground/origins"
	"github.com/corslab/corslab/playground/scenario"
	"github.com/corslab/corslab/playground/session"
)

// POST /api/sessions/{id}/step: one step of a page that runs many
// requests in turn, each under its own scenario (the matrix). The body is
//
//	{"run": {…}, "scenario": {…}}
//
// and either may be left out. The run, exactly what POST /runs takes, is
// the request the browser just made: it is recorded (and explained) first,
// while the session still has that request's scenario. Then the scenario,
// exactly what PUT /scenario takes, becomes the session's, for the next
// request. The answer is
//
//	{"run": {…}, "score": {…}, "exchanges": [{…}, …],
//	 "scenario": {…}, "query": "…", "lastSeq": N}
//
// run, score and exchanges (the exchanges the run claimed) when a run was
// recorded; scenario, query and lastSeq (the session's newest exchange once
// the scenario is set: the next run's since) when a scenario was set.
//
// One step is one request where PUT /scenario and POST /runs were two,
// one after the other: a page that makes its requests in turn waits for
// the step before its next request (the scenario must be set), but no
// longer than it would for the PUT alone.
//
// Nothing changes unless both parts are valid. The one error that can come
// after the run is recorded is the store refusing the scenario (a bucket's
// rules): the answer is then 400 with "errors" and the recorded run.
func (s *Server) handleStep(w http.ResponseWriter, r *http.Request, sess *session.Session) {
	data, ok := readBody(w, r) // at most maxAPIBody: one run and one scenario
	if !ok {
		return
	}
	var body struct {
		Run      json.RawMessage `json:"run"`
		Scenario json.RawMessage `json:"scenario"`
	}
	if err := decodeJSON(data, &body); err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	hasRun, hasScenario := present(body.Run), present(body.Scenario)
	if !hasRun && !hasScenario {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": scenario.FieldErrors{
			"run": "a step needs a run, a scenario or both; got neither",
		}})
		return
	}

	errs := scenario.FieldErrors{}
	var n newRun
	if hasRun {
		if err := decodeRun(body.Run, &n); err != nil {
			errs["run"] = err.Error()
		} else {
			for field, msg := range n.validate() {
				errs["run."+field] = msg
			}
			if newest := sess.LastSeq(); n.Since > newest {
				errs["run.since"] = fmt.Sprintf("must be from 0 to %d, the newest exchange this session has; got %d", newest, n.Since)
			}
		}
	}
	var sc scenario.Scenario
	if hasScenario {
		var err error
		if sc, err = scenario.Decode(body.Scenario); err != nil {
			addScenarioErrors(errs, err)
		}
	}
	if len(errs) > 0 {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": errs})
		return
	}

	var answer stepAnswer
	if hasRun {
		run, doc := s.recordRun(r, sess, &n)
		score := sess.Score()
		answer.Run, answer.Score = doc, &score
		answer.Exchanges = sess.ExchangesBySeq(run.Exchanges)
	}
	status := http.StatusOK
	if hasScenario {
		if err := sess.SetScenario(sc); err != nil {
			answer.Errors = scenario.FieldErrors{}
			addScenarioErrors(answer.Errors, err)
			status = http.StatusBadRequest
		} else {
			d := s.scenarioSet(r, sess) // as PUT /scenario
			lastSeq := sess.LastSeq()
			answer.Scenario, answer.Query, answer.LastSeq = &d.Scenario, &d.Query, &lastSeq
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(answer) // pages read it: no indentation
}

// stepAnswer is the answer to a step; see handleStep.
type stepAnswer struct {
	Run       json.RawMessage      `json:"run,omitempty"`
	Score     *session.Score       `json:"score,omitempty"`
	Exchanges []json.RawMessage    `json:"exchanges,omitempty"`
	Scenario  *scenario.Scenario   `json:"scenario,omitempty"`
	Query     *string              `json:"query,omitempty"`
	LastSeq   *uint64              `json:"lastSeq,omitempty"`
	Errors    scenario.FieldErrors `json:"errors,omitempty"`
}

// present reports whether a part of the step was sent: not left out, and
// not null.
func present(part json.RawMessage) bool {
	return len(part) > 0 && string(part) != "null"
}

// addScenarioErrors adds what refused a step's scenario to errs, each
// field named under "scenario.", as PUT /scenario names them at the top.
func addScenarioErrors(errs scenario.FieldErrors, err error) {
	var fields scenario.FieldErrors
	var bucket *origins.BucketError
	switch {
	case errors.As(err, &fields):
		for field, msg := range fields {
			errs["scenario."+field] = msg
		}
	case errors.As(err, &bucket):
		errs["scenario.bucket.cors"] = bucket.Error()
	default:
		errs["scenario"] = err.Error()
	}
}
