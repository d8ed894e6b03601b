package session

import (
	"bytes"
	"encoding/json"
	"iter"
	"slices"
	"sort"
	"time"
	"unicode/utf8"

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
	// Refused lists the requests of the run that corslab itself turned away
	// (rate limits, the memory budget); when it is not empty the run has no
	// verdict and its prediction is not scored: what the page saw says
	// nothing about CORS.
	Refused []Refusal `json:"refused,omitempty"`
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

// An EngineExplainer runs the engine over a run's exchanges, in order, as
// the engine reads them (kept beside each exchange's frame when it was
// recorded: nothing is parsed again), with the session's model of the
// browser's preflight cache. The exchanges' header lists are shared:
// treat them as read-only.
type EngineExplainer func(exchanges []cors.Exchange, cache *cors.Cache) cors.Verdict

// Explainer is an EngineExplainer that reads the exchanges' stored JSON,
// for AddRun.
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
	// HeadersTruncated is set when corslab kept only some of the headers
	// (MaxRunHeaders, MaxRunHeaderBytes).
	HeadersTruncated bool    `json:"headersTruncated,omitempty"`
	DurationMs       float64 `json:"durationMs"`
	// Door is what a door other than fetch() let the page observe; nil
	// for fetch(). OK then says whether the door did what the page wanted
	// (see cors.Door): an image loaded, a canvas stayed readable, a socket
	// opened…
	Door *Door `json:"door,omitempty"`
}

// Door is what the runner page saw of a door other than fetch().
type Door struct {
	Via string `json:"via"`
	// Event is the last thing the page was told: load, error or timeout
	// (an element, a form's target frame), open, error or closed (an
	// EventSource, a WebSocket), queued or not-queued (a beacon).
	Event string `json:"event"`
	// Width and Height are an image's natural size.
	Width  int `json:"width"`
	Height int `json:"height"`
	// Canvas is readable or tainted once the image is drawn on a canvas
	// (img+canvas), "" when there was no image.
	Canvas string `json:"canvas"`
	// ScriptError is the message the page's error event got from the
	// script: "Script error." when the browser muted it.
	ScriptError string `json:"scriptError"`
	// Rules is readable or blocked: whether a stylesheet's cssRules could
	// be read.
	Rules string `json:"rules"`
	// Applied says the stylesheet or the font took effect.
	Applied bool `json:"applied"`
	// Messages are the events an EventSource got, or the messages a
	// WebSocket received, oldest first.
	Messages  []string `json:"messages"`
	CloseCode int      `json:"closeCode"`
}

// Bounds on a door's record: the runner keeps 16 messages of 1 KiB.
const (
	MaxDoorMessages    = 16
	MaxDoorMessageSize = 1 << 10
)

// What a run keeps of the browser's record: the runner page sends at most
// 16 KiB of body, and a real response's readable headers fit well within
// these. Anything beyond is cut, and the cut is marked.
const (
	MaxRunBody        = 16 << 10
	MaxRunHeaders     = 64
	MaxRunHeaderBytes = 16 << 10 // names and values together
)

// capRecord cuts the browser's record to what a run keeps.
func (b *Browser) capRecord() {
	if d := b.Door; d != nil {
		if len(d.Messages) > MaxDoorMessages {
			d.Messages = d.Messages[:MaxDoorMessages]
		}
		for i, m := range d.Messages {
			if len(m) > MaxDoorMessageSize {
				d.Messages[i] = cutUTF8(m, MaxDoorMessageSize)
			}
		}
	}
	if len(b.Body) > MaxRunBody {
		b.Body, b.BodyTruncated = cutUTF8(b.Body, MaxRunBody), true
	}
	size := 0
	for i, h := range b.Headers {
		size += len(h[0]) + len(h[1])
		if i == MaxRunHeaders || size > MaxRunHeaderBytes {
			b.Headers, b.HeadersTruncated = b.Headers[:i:i], true
			break
		}
	}
}

// cutUTF8 cuts s to at most n bytes without splitting a character.
func cutUTF8(s string, n int) string {
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// maxRunExchanges bounds the exchanges one run claims: 20 redirects, each
// with a preflight, and the final request and its preflight.
const maxRunExchanges = 42

// AddRun records a run. Its exchanges are those recorded after the one
// numbered since, which the page had seen last when it started the run,
// and after every exchange an earlier run claimed: an exchange belongs to
// one run at most, even when a page's view of the stream lags behind.
// explain, if not nil, gives the run its verdict; a prediction in r is
// then scored against the browser. A run during which corslab refused a
// request (Refuse) gets neither: the browser saw corslab's refusal, not
// the scenario's servers.
//
// AddRun hands explain the exchanges' JSON; AddExplainedRun, which the
// API uses, hands the engine its view of them and returns the run's JSON.
func (s *Session) AddRun(r Run, since uint64, explain Explainer) *Run {
	var verdict func(first, n int) cors.Verdict
	if explain != nil {
		verdict = func(first, n int) cors.Verdict {
			raws := make([]json.RawMessage, n)
			for i := range raws {
				raws[i] = s.exchanges[first+i].json()
			}
			return explain(raws, &s.cache)
		}
	}
	run, _ := s.addRun(r, since, verdict)
	return run
}

// AddExplainedRun is AddRun with the engine's view of the exchanges, kept
// since they were recorded. It also returns the run's JSON, as every page
// watching the session receives it: an answer is written from these bytes,
// not encoded again. The JSON is shared: treat it as read-only.
func (s *Session) AddExplainedRun(r Run, since uint64, explain EngineExplainer) (*Run, json.RawMessage) {
	var verdict func(first, n int) cors.Verdict
	if explain != nil {
		verdict = func(first, n int) cors.Verdict {
			exchanges := make([]cors.Exchange, n)
			for i := range exchanges {
				exchanges[i] = s.exchanges[first+i].Engine()
			}
			return explain(exchanges, &s.cache)
		}
	}
	run, e := s.addRun(r, since, verdict)
	return run, e.json()
}

// addRun is AddRun; verdict, if not nil, explains the run over the n
// exchanges from index first of the ring, with s.mu held.
func (s *Session) addRun(r Run, since uint64, verdict func(first, n int) cors.Verdict) (*Run, stored) {
	s.touch()
	s.active.Store(true)
	defer s.grown()
	defer s.changed()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runID++
	r.ID = s.runID
	r.At = s.now().UTC()
	r.Browser.capRecord()
	first := s.indexAfter(max(since, s.claimed))
	n := min(len(s.exchanges)-first, maxRunExchanges)
	r.Exchanges = make([]uint64, n)
	for i := range n {
		r.Exchanges[i] = s.exchanges[first+i].id()
	}
	r.Refused = s.claimRefusals(since)
	if verdict != nil && len(r.Refused) == 0 {
		r.Verdict = &Verdict{Verdict: verdict(first, n)}
		r.Verdict.Agrees = r.Verdict.OK == r.Browser.OK
		if p := r.Prediction; p != nil {
			// The yes/no is scored on its own; where it fails, only when
			// the learner said where.
			p.Correct = p.OK == r.Browser.OK && (p.OK || p.Stage == "" || p.Stage == r.Verdict.Stage)
			s.score.Total++
			if p.Correct {
				s.score.Right++
			}
		}
	}
	if n > 0 {
		s.claimed = r.Exchanges[n-1]
	}
	if r.Browser.Headers == nil {
		r.Browser.Headers = [][2]string{}
	}
	if r.Request.Headers == nil {
		r.Request.Headers = map[string]string{}
	}
	e := appendFrame(runPrefix, r.appendJSON)
	k := keptRun{size: int64(len(e.frame)), runID: uint64(r.ID)}
	if len(e.frame) > maxRunAsRun {
		k.frame = e
	} else {
		kept := r
		k.relative = s.strs.shareRun(&kept)
		k.run = &kept
	}
	s.runs = append(s.runs, k)
	s.grow(&s.runBytes, int64(len(e.frame)))
	for len(s.runs) > MaxRuns || s.runBytes > MaxRunBytes && len(s.runs) > 1 {
		s.popRun()
	}
	s.broadcast(e.frame)
	return &r, e
}

// Score is the session's prediction score.
func (s *Session) Score() Score {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.score
}

// Runs returns the kept runs, oldest first.
func (s *Session) Runs() []*Run { return s.RunsAfter(0) }

// RunsAfter returns the kept runs with an id above after, oldest first:
// for work that looks at each run once (a lesson's goals). Each is a copy
// of the kept run, sharing its slices and maps: treat them as read-only.
func (s *Session) RunsAfter(after int) []*Run {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.runsAfter(after)
	out := make([]*Run, len(list))
	for i, k := range list {
		out[i] = k.get()
	}
	return out
}

// RunsPage returns the JSON of at most limit kept runs with an id above
// after, oldest first, and, when more follow, the after that asks for them
// (0 when none do). Each is made anew; RunsPageSeq makes them one at a time.
func (s *Session) RunsPage(after, limit int) (page []json.RawMessage, next uint64) {
	seq, next := s.RunsPageSeq(after, limit)
	for doc := range seq {
		page = append(page, bytes.Clone(doc))
	}
	return page, next
}

// RunsPageSeq is RunsPage whose runs' JSON is made one at a time, in one
// buffer, as the sequence is read: a page is up to 3.2 MiB, and made at
// once it would be that much garbage a request (a page that asks for its
// runs in a loop). Each yielded JSON is valid until the next is asked for.
func (s *Session) RunsPageSeq(after, limit int) (page iter.Seq[json.RawMessage], next uint64) {
	s.mu.Lock()
	list := slices.Clone(s.runsAfter(after)) // kept runs never change
	s.mu.Unlock()
	if len(list) > limit {
		list, next = list[:limit], list[limit-1].id()
	}
	return func(yield func(json.RawMessage) bool) {
		b := appendBuffers.Get().(*[]byte)
		defer appendBuffers.Put(b)
		for _, k := range list {
			*b = k.appendJSON((*b)[:0])
			if !yield(*b) {
				break
			}
		}
		if cap(*b) > maxFrameBuffer {
			*b = nil
		}
	}, next
}

// LastRun is the id of the newest run, 0 before the first.
func (s *Session) LastRun() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runID
}

// runsAfter is the kept runs with an id above after. Called with s.mu held.
func (s *Session) runsAfter(after int) []keptRun {
	i := sort.Search(len(s.runs), func(i int) bool { return s.runs[i].id() > uint64(max(after, 0)) })
	return s.runs[i:]
}
