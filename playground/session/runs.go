package session

import (
	"encoding/json"
	"time"

	"github.com/corslab/corslab/playground/cors"
	"github.com/corslab/corslab/playground/scenario"
)

// A Run is one fetch() the learner's browser performed, with what the
// browser let the page see and the exchanges it caused.
type Run struct {
	ID        int              `json:"id"`
	At        time.Time        `json:"at"`
	URL       string           `json:"url"`
	Setup     string           `json:"setup"` // the scenario's setup when the run was recorded
	Request   scenario.Request `json:"request"`
	Browser   Browser          `json:"browser"`
	Exchanges []uint64         `json:"exchanges"`
	// Verdict is the engine's account of the run; Agrees says whether it
	// matches what the browser did.
	Verdict    *Verdict    `json:"verdict"`
	Prediction *Prediction `json:"prediction"`

	frame []byte
}

// Verdict is the engine's verdict on a run, and whether the browser agreed.
type Verdict struct {
	cors.Verdict
	Agrees bool `json:"agrees"`
}

// Prediction is what the learner expected before pressing Run.
type Prediction struct {
	OK      bool   `json:"ok"`
	Stage   string `json:"stage"` // where it fails, when !OK
	Correct bool   `json:"correct"`
}

// Score counts a session's predictions.
type Score struct {
	Right int `json:"right"`
	Total int `json:"total"`
}

// Explainer runs the engine over a run's exchanges (their JSON, in order),
// with the session's model of the browser's preflight cache.
type Explainer func(exchanges []json.RawMessage, cache *cors.Cache) cors.Verdict

// Browser is the outcome as the page observed it.
type Browser struct {
	// OK means JS got the response: fetch resolved with a response that is
	// not opaque.
	OK            bool        `json:"ok"`
	Status        int         `json:"status"`
	Error         string      `json:"error"`
	Type          string      `json:"type"`
	Redirected    bool        `json:"redirected"`
	URL           string      `json:"url"`
	Headers       [][2]string `json:"headers"`
	Body          string      `json:"body"`
	BodyTruncated bool        `json:"bodyTruncated"`
	DurationMs    float64     `json:"durationMs"`
}

// maxRunExchanges bounds the exchanges one run claims: 20 redirects, each
// with a preflight, and the final request and its preflight.
const maxRunExchanges = 42

// AddRun records a run. Its exchanges are those recorded after the one
// numbered since, which the page had seen last when it started the run,
// and after every exchange an earlier run claimed: an exchange belongs to
// one run at most, even when a page's view of the stream lags behind.
// explain, if not nil, gives the run its verdict; a prediction in r is
// then scored against the browser.
func (s *Session) AddRun(r Run, since uint64, explain Explainer) *Run {
	s.touch()
	defer s.changed()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runID++
	r.ID = s.runID
	r.At = s.now().UTC()
	r.Exchanges = []uint64{}
	var claimed []json.RawMessage
	for _, e := range s.exchangesSince(max(since, s.claimed)) {
		if len(r.Exchanges) == maxRunExchanges {
			break
		}
		r.Exchanges = append(r.Exchanges, e.seq)
		claimed = append(claimed, e.json())
	}
	if explain != nil {
		r.Verdict = &Verdict{Verdict: explain(claimed, &s.cache)}
		r.Verdict.Agrees = r.Verdict.OK == r.Browser.OK
		if p := r.Prediction; p != nil {
			p.Correct = p.OK == r.Browser.OK && (p.OK || p.Stage == r.Verdict.Stage)
			s.score.Total++
			if p.Correct {
				s.score.Right++
			}
		}
	}
	if n := len(r.Exchanges); n > 0 {
		s.claimed = r.Exchanges[n-1]
	}
	if r.Browser.Headers == nil {
		r.Browser.Headers = [][2]string{}
	}
	if r.Request.Headers == nil {
		r.Request.Headers = map[string]string{}
	}
	body, err := json.Marshal(&r)
	if err != nil {
		panic("session: encoding a run: " + err.Error())
	}
	r.frame = append(append([]byte(`{"type":"run","run":`), body...), '}')
	s.runs = append(s.runs, &r)
	if len(s.runs) > MaxRuns {
		s.runs[0] = nil
		s.runs = s.runs[1:]
	}
	s.broadcast(r.frame)
	return &r
}

// Score is the session's prediction score.
func (s *Session) Score() Score {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.score
}

// Runs returns the kept runs, oldest first.
func (s *Session) Runs() []*Run {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Run{}, s.runs...)
}
