package session

import (
	"encoding/json"
	"time"

	"github.com/corslab/corslab/playground/scenario"
)

// A Run is one fetch() the learner's browser performed, with what the
// browser let the page see and the exchanges it caused.
type Run struct {
	ID        int              `json:"id"`
	At        time.Time        `json:"at"`
	URL       string           `json:"url"`
	Request   scenario.Request `json:"request"`
	Browser   Browser          `json:"browser"`
	Exchanges []uint64         `json:"exchanges"`

	frame []byte
}

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
func (s *Session) AddRun(r Run, since uint64) *Run {
	s.touch()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runID++
	r.ID = s.runID
	r.At = s.now().UTC()
	r.Exchanges = []uint64{}
	for _, e := range s.exchangesSince(max(since, s.claimed)) {
		if len(r.Exchanges) == maxRunExchanges {
			break
		}
		r.Exchanges = append(r.Exchanges, e.seq)
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

// Runs returns the kept runs, oldest first.
func (s *Session) Runs() []*Run {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Run{}, s.runs...)
}
