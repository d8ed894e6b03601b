package session

import (
	"encoding/json"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/corslab/corslab/playground/capture"
	"github.com/corslab/corslab/playground/cors"
	"github.com/corslab/corslab/playground/ratelimit"
	"github.com/corslab/corslab/playground/scenario"
)

// Bounds on what one session keeps. Every byte of it also counts against
// the store's Budget, which may shed it sooner.
const (
	MaxExchanges     = 1000    // the exchange ring, for replay after a reconnect
	MaxExchangeBytes = 8 << 20 // …and the most bytes it may hold (capture.Kept.Bytes)
	MaxRuns          = 200
	MaxRunBytes      = 4 << 20 // the most encoded bytes the kept runs may hold
	// MaxSubscriberBytes is how far, in encoded frames, a websocket may fall
	// behind before it is dropped (it reconnects and loses nothing the
	// rings hold).
	MaxSubscriberBytes = 4 << 20
	MaxSubscribers     = 16 // websockets watching one session at once
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
	budget  *Budget
	onGrow  func()       // called, with no lock held, after the session kept more
	used    atomic.Int64 // unix nanoseconds of the last use
	version atomic.Uint64
	noticed atomic.Int64 // unix nanoseconds of the last notice (Notice)
	// active is set once the session has done anything: captured traffic,
	// a run, a new scenario, a learner. Sessions that never did are cheap
	// to drop (Store.Create, Store.Expire).
	active atomic.Bool
	apply  ApplyFunc // may be nil

	setMu sync.Mutex // one SetScenario at a time, so what apply did matches the scenario

	mu       sync.Mutex
	scenario scenario.Scenario
	policy   *scenario.Policy
	// exchanges are kept compactly (capture.Kept): each header and body
	// once. Their frames are made again for a page that reconnects; the
	// engine's view of each, for every run.
	exchanges []exchange    // oldest first, seqs increasing
	exBytes   int64         // bytes the exchanges hold
	seq       uint64        // last exchange or WebSocket frame seq
	runs      []keptRun     // oldest first, by run id
	runBytes  int64         // encoded size of runs
	strs      sharedStrings // the runs' strings, each once
	scBytes   int64         // encoded size of the scenario
	runID     int
	claimed   uint64 // the newest exchange a run has claimed
	cache     cors.Cache
	score     Score
	subs      map[*Subscriber]struct{}
	closed    bool
	learner   string // who this is, once their page says (SetLearner)
	nickname  string
	// refusals are the requests corslab turned away since the last run,
	// the newest maxRefusals of them.
	refusals []Refusal
	shed     int    // times the budget took traffic from it
	shedUpTo uint64 // the newest exchange whose body or whole was shed

	// sockFrames are the WebSocket frames the api origin's socket sent and
	// received (RecordSocketFrame); they take their seqs from seq too.
	sockFrames []socketFrame // oldest first
	sockBytes  int64         // bytes they hold
}

// stored is a websocket frame: a run's or an exchange's. Its JSON is the
// frame without its prefix and final brace.
type stored struct {
	frame  []byte
	prefix int // len of the frame's prefix
}

// keptRun is a run as the session keeps it: the Run, whose strings are
// shared with the session's other runs where equal (runs of one request
// repeat the same explanation), and the size of its frame, which is what
// the budget counts. A run's frame is made again for a page that
// reconnects: kept, a frame took 1.7 times the memory (an explanation is
// mostly text, and the frame carries every step's keys and spec URL).
//
// A large run (a body of many KiB, as an attack posts) is kept as its
// frame instead: such a run shares little, and made again for every GET
// /runs its JSON would cost the server's CPU what storing it saves.
type keptRun struct {
	run  *Run
	size int64
	// relative says the seq of each of the run's steps is kept as its
	// place in run.Exchanges, from 1 (0: no exchange), so that runs of
	// the same request share one list of steps (sharedStrings.shareRun).
	relative bool
	// frame is the run's frame, kept for a large run; run is then nil.
	frame stored
	runID uint64
}

// maxRunAsRun is the largest run frame kept as a Run rather than as its
// frame: learners' runs are 2 to 5 KiB.
const maxRunAsRun = 8 << 10

func (k keptRun) id() uint64 { return k.runID }

// get is the run as it was added: a copy, whose steps have their seqs.
// Treat it as read-only, like the kept run whose slices it shares.
func (k keptRun) get() *Run {
	if k.run == nil {
		var r Run
		json.Unmarshal(k.frame.json(), &r) // written by appendJSON: it reads back
		return &r
	}
	r := *k.run
	if !k.relative {
		return &r
	}
	v := *r.Verdict
	v.Steps = slices.Clone(v.Steps)
	for i := range v.Steps {
		if n := v.Steps[i].Seq; n > 0 {
			v.Steps[i].Seq = r.Exchanges[n-1]
		}
	}
	r.Verdict = &v
	return &r
}

// appendJSON appends the run's JSON, made again unless it is kept.
func (k keptRun) appendJSON(b []byte) []byte {
	if k.run == nil {
		return append(b, k.frame.json()...)
	}
	return k.get().appendJSON(b)
}

// json is the run's JSON.
func (k keptRun) json() json.RawMessage { return k.appendJSON(nil) }

// wsFrame is the run's websocket frame.
func (k keptRun) wsFrame() []byte {
	if k.run == nil {
		return k.frame.frame
	}
	return appendFrame(runPrefix, k.get().appendJSON).frame
}

// exchange is an exchange as the session keeps it.
type exchange struct {
	capture.Kept
	// bare is set once shedding dropped the bodies of the exchange.
	bare bool
}

func (e *exchange) id() uint64 { return e.Seq() }

// json is the exchange's JSON, made again.
func (e *exchange) json() json.RawMessage { return e.AppendJSON(nil) }

// frame is the exchange's websocket frame, made again.
func (e *exchange) frame() []byte { return appendFrame(exchangePrefix, e.AppendJSON).frame }

const (
	exchangePrefix = `{"type":"exchange","exchange":`
	runPrefix      = `{"type":"run","run":`
)

func (s stored) json() json.RawMessage {
	return s.frame[s.prefix : len(s.frame)-1]
}

// appendFrame makes a websocket frame of the given type prefix, with the
// JSON appendJSON appends: an exchange's or a run's, written by hand as
// encoding/json would write them without escaping <, > and & (frames are
// read as JSON, never pasted into HTML, and a body full of < would take six
// times the memory), several times faster.
//
// The frame is kept as long as the ring keeps it, so it is made in a
// scratch buffer and copied out at its exact size: a buffer grown by
// doubling would keep up to twice the bytes the budget counts.
func appendFrame(prefix string, appendJSON func([]byte) []byte) stored {
	b := appendBuffers.Get().(*[]byte)
	defer appendBuffers.Put(b)
	*b = append(appendJSON(append((*b)[:0], prefix...)), '}')
	frame := make([]byte, len(*b)) // exact: the ring keeps it
	copy(frame, *b)
	if cap(*b) > maxFrameBuffer {
		*b = nil // a frame with large bodies: let its buffer go
	}
	return stored{frame: frame, prefix: len(prefix)}
}

var appendBuffers = sync.Pool{New: func() any { return new([]byte) }}

// maxFrameBuffer is the largest scratch buffer kept for reuse: most frames
// are a few KiB; one with 64 KiB bodies is rare.
const maxFrameBuffer = 64 << 10

func newSession(id string, sc scenario.Scenario, p *scenario.Policy, now func() time.Time, budget *Budget) *Session {
	s := &Session{
		ID: id, Created: now(), Users: newUsers(),
		now: now, budget: budget, scenario: sc, policy: p,
		subs: make(map[*Subscriber]struct{}),
	}
	s.touch()
	return s
}

// countScenario counts the scenario against the budget: it may hold a
// 64 KiB request body and long header lists, and unlike old traffic it
// cannot be shed. Called with s.mu held.
func (s *Session) countScenario() {
	data, _ := json.Marshal(&s.scenario)
	s.grow(&s.scBytes, int64(len(data))-s.scBytes)
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
	s.countScenario()
	s.mu.Unlock()
	s.active.Store(true)
	s.touch()
	s.changed()
	return nil
}

// Record gives ex the next sequence number, keeps it in the ring and sends
// it to every subscriber. It never blocks: a subscriber that has fallen
// too far behind is dropped and has to reconnect.
func (s *Session) Record(ex *capture.Exchange) {
	s.touch()
	s.changed()
	s.active.Store(true)
	s.mu.Lock()
	s.seq++
	ex.Seq = s.seq
	e := appendFrame(exchangePrefix, ex.AppendJSON)
	s.exchanges = append(s.exchanges, exchange{Kept: capture.Keep(ex)})
	s.grow(&s.exBytes, s.exchanges[len(s.exchanges)-1].Bytes())
	for len(s.exchanges) > MaxExchanges || s.exBytes > MaxExchangeBytes && len(s.exchanges) > 1 {
		s.popExchange()
	}
	s.broadcast(e.frame)
	s.mu.Unlock()
	s.grown()
}

// grow adds n bytes to one of the session's counts and to the budget.
// Called with s.mu held.
func (s *Session) grow(count *int64, n int64) {
	*count += n
	s.budget.add(n)
}

// grown tells the store the session holds more, so that it may shed.
func (s *Session) grown() {
	if s.onGrow != nil {
		s.onGrow()
	}
}

// popExchange forgets the oldest exchange. Called with s.mu held.
func (s *Session) popExchange() {
	s.grow(&s.exBytes, -s.exchanges[0].Bytes())
	s.exchanges[0] = exchange{}
	s.exchanges = s.exchanges[1:]
}

// popRun forgets the oldest run. Called with s.mu held.
func (s *Session) popRun() {
	s.grow(&s.runBytes, -s.runs[0].size)
	s.runs[0] = keptRun{}
	s.runs = s.runs[1:]
}

// Exchanges returns the JSON of every kept exchange with seq > since, oldest
// first.
func (s *Session) Exchanges(since uint64) []json.RawMessage {
	list, _ := s.ExchangesPage(since, MaxExchanges)
	return list
}

// ExchangesPage returns the JSON of at most limit kept exchanges with
// seq > since, oldest first, and, when more follow, the since that asks for
// them (0 when none do). The JSON is shared: treat it as read-only.
func (s *Session) ExchangesPage(since uint64, limit int) (page []json.RawMessage, next uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.exchangesSince(since)
	if len(list) > limit {
		list, next = list[:limit], list[limit-1].id()
	}
	page = make([]json.RawMessage, len(list))
	for i := range list {
		page[i] = list[i].json()
	}
	return page, next
}

func (s *Session) exchangesSince(since uint64) []exchange {
	return s.exchanges[s.indexAfter(since):]
}

// indexAfter is the index in the ring of the first exchange with a seq
// above since (len(s.exchanges) when there is none). Called with s.mu held.
func (s *Session) indexAfter(since uint64) int {
	// The ring is ordered by seq. Its seqs are consecutive unless the
	// session's WebSocket frames took some in between.
	if len(s.exchanges) == 0 || since < s.exchanges[0].id() {
		return 0
	}
	if i := since - s.exchanges[0].id() + 1; i <= uint64(len(s.exchanges)) && s.exchanges[i-1].id() == since {
		return int(i) // consecutive: no search
	}
	return sort.Search(len(s.exchanges), func(i int) bool { return s.exchanges[i].id() > since })
}

// LastSeq is the sequence number of the newest exchange or WebSocket frame.
func (s *Session) LastSeq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seq
}

// close drops the subscribers and gives the session's bytes back to the
// budget.
func (s *Session) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for sub := range s.subs {
		s.drop(sub)
	}
	s.grow(&s.exBytes, -s.exBytes)
	s.grow(&s.runBytes, -s.runBytes)
	s.grow(&s.scBytes, -s.scBytes)
	s.grow(&s.sockBytes, -s.sockBytes)
	s.exchanges, s.runs, s.sockFrames = nil, nil, nil
}

// ExchangesBySeq returns the JSON of the kept exchanges among seqs, in the
// order of seqs; those no longer kept are left out.
func (s *Session) ExchangesBySeq(seqs []uint64) []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []json.RawMessage
	for _, seq := range seqs {
		if seq == 0 {
			continue
		}
		if i := s.indexAfter(seq - 1); i < len(s.exchanges) && s.exchanges[i].id() == seq {
			out = append(out, s.exchanges[i].json())
		}
	}
	return out
}
