package session

import (
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/corslab/corslab/playground/capture"
	"github.com/corslab/corslab/playground/cors"
	"github.com/corslab/corslab/playground/ratelimit"
	"github.com/corslab/corslab/playground/scenario"
)

// Bounds on what one session keeps.
const (
	MaxExchanges     = 1000    // the exchange ring, for replay after a reconnect
	MaxExchangeBytes = 8 << 20 // …and the most encoded bytes it may hold
	MaxRuns          = 200
	SubscriberBuffer = 256 // frames a websocket may fall behind before it is dropped
	MaxSubscribers   = 16  // websockets watching one session at once
)

// Session is one learner's workspace.
type Session struct {
	ID      string
	Created time.Time
	Users   *Users // the api origin's user store
	Lesson  string // the slug of the lesson it was opened for, or ""
	// Limit is the session's share of requests (Config.SessionRate).
	Limit ratelimit.Bucket
	// Watchers counts the subscribers that are the instructor's read-only
	// view, not the learner: Subscribers minus Watchers are the learner's.
	Watchers atomic.Int32

	now     func() time.Time
	used    atomic.Int64 // unix nanoseconds of the last use
	version atomic.Uint64
	noticed atomic.Int64 // unix nanoseconds of the last notice (Notice)
	apply   ApplyFunc    // may be nil

	setMu sync.Mutex // one SetScenario at a time, so what apply did matches the scenario

	mu        sync.Mutex
	scenario  scenario.Scenario
	policy    *scenario.Policy
	exchanges []stored // oldest first
	bytes     int      // encoded size of exchanges
	seq       uint64   // last exchange seq
	runs      []*Run
	runID     int
	claimed   uint64 // the newest exchange a run has claimed
	cache     cors.Cache
	score     Score
	subs      map[*Subscriber]struct{}
	closed    bool
	learner   string // who this is, once their page says (SetLearner)
	nickname  string
}

// stored is an exchange kept in the ring as its websocket frame; the
// exchange's own JSON is frame[len(exchangePrefix) : len(frame)-1].
type stored struct {
	seq   uint64
	frame []byte
}

const exchangePrefix = `{"type":"exchange","exchange":`

func (s stored) json() json.RawMessage {
	return s.frame[len(exchangePrefix) : len(s.frame)-1]
}

func newSession(id string, sc scenario.Scenario, p *scenario.Policy, now func() time.Time) *Session {
	s := &Session{
		ID: id, Created: now(), Users: newUsers(),
		now: now, scenario: sc, policy: p,
		subs: make(map[*Subscriber]struct{}),
	}
	s.touch()
	return s
}

func (s *Session) touch()              { s.used.Store(s.now().UnixNano()) }
func (s *Session) lastUsed() time.Time { return time.Unix(0, s.used.Load()) }

// Scenario returns the current scenario and its compiled api policy. Treat
// both as read-only: they are shared.
func (s *Session) Scenario() (scenario.Scenario, *scenario.Policy) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.scenario, s.policy
}

// SetScenario replaces the scenario. It must be valid, and the store's
// OnScenario must accept it; otherwise it is refused and the old one stays.
func (s *Session) SetScenario(sc scenario.Scenario) error {
	if errs := sc.Validate(); errs != nil {
		return errs
	}
	p, err := scenario.NewPolicy(sc.API)
	if err != nil {
		return err
	}
	s.setMu.Lock()
	defer s.setMu.Unlock()
	if s.apply != nil {
		old, _ := s.Scenario()
		if err := s.apply(s, &old, sc); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.scenario, s.policy = sc, p
	s.mu.Unlock()
	s.touch()
	s.changed()
	return nil
}

// Record gives ex the next sequence number, keeps it in the ring and sends
// it to every subscriber. It never blocks: a subscriber whose buffer is full
// is dropped and has to reconnect.
func (s *Session) Record(ex *capture.Exchange) {
	s.touch()
	s.changed()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	ex.Seq = s.seq
	frame, err := json.Marshal(ex)
	if err != nil {
		// An Exchange holds only strings and numbers: this cannot happen.
		panic("session: encoding an exchange: " + err.Error())
	}
	frame = append(append([]byte(exchangePrefix), frame...), '}')
	s.exchanges = append(s.exchanges, stored{seq: ex.Seq, frame: frame})
	s.bytes += len(frame)
	for len(s.exchanges) > MaxExchanges || s.bytes > MaxExchangeBytes && len(s.exchanges) > 1 {
		s.bytes -= len(s.exchanges[0].frame)
		s.exchanges[0] = stored{}
		s.exchanges = s.exchanges[1:]
	}
	s.broadcast(frame)
}

// Exchanges returns the JSON of every kept exchange with seq > since, oldest
// first.
func (s *Session) Exchanges(since uint64) []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []json.RawMessage
	for _, e := range s.exchangesSince(since) {
		out = append(out, e.json())
	}
	return out
}

func (s *Session) exchangesSince(since uint64) []stored {
	// The ring is ordered by seq, so the first kept seq tells where since falls.
	if len(s.exchanges) == 0 || since < s.exchanges[0].seq {
		return s.exchanges
	}
	i := int(since - s.exchanges[0].seq + 1)
	if i >= len(s.exchanges) {
		return nil
	}
	return s.exchanges[i:]
}

// LastSeq is the sequence number of the newest exchange.
func (s *Session) LastSeq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seq
}

func (s *Session) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for sub := range s.subs {
		s.drop(sub)
	}
}
