// Package session holds each learner's isolated workspace: the scenario, the
// exchanges the virtual origins captured, the runs the browser made, and the
// websocket subscribers that watch them. Everything is in memory and bounded.
package session

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/corslab/corslab/playground/scenario"
)

// ErrTooMany is returned by Create when the store is at its cap and every
// session in it is in use.
var ErrTooMany = errors.New("too many sessions")

// ErrBudget is returned by Create when the sessions alive hold so much that
// shedding their old traffic leaves no room for another.
var ErrBudget = errors.New("the memory budget is full")

// Store is the set of live sessions.
type Store struct {
	max        int
	idle       time.Duration
	unusedIdle time.Duration
	budget     *Budget
	now        func() time.Time
	onCreate   func(*Session) error
	onExpire   func(*Session)
	apply      ApplyFunc
	prefix     string

	shedding   shedder
	shedPasses atomic.Int64

	mu       sync.Mutex
	sessions map[string]*Session
	buckets  map[string]int64 // bytes each session's bucket stores (SetStored)
	stored   int64            // their sum
}

// Options configure a Store. Max and Idle are required.
type Options struct {
	Max  int           // the most sessions alive at once
	Idle time.Duration // a session unused for this long expires
	// UnusedIdle is how long a session that never did anything (no
	// traffic, no run, no new scenario) and has no page watching it lives
	// unused: 10 minutes, or Idle if shorter, by default.
	UnusedIdle time.Duration
	// Budget bounds what all sessions together keep; nil is no bound.
	Budget *Budget
	// OnCreate and OnExpire let other parts keep per-session resources
	// (the S3 bucket) in step. OnCreate failing fails Create.
	OnCreate func(*Session) error
	OnExpire func(*Session)
	// OnScenario, when set, brings per-session resources in line with a
	// scenario before the session takes it: the bucket's CORS rules.
	OnScenario ApplyFunc
	Now        func() time.Time // for tests; time.Now by default
	// IDPrefix, if set, is the first character of every new id: a
	// replica's letter (ReplicaPrefix), so that a router in front of
	// several corslabs can send each session's requests to the one that
	// holds it.
	IDPrefix string
}

// MaxReplicas is how many replicas ids can tell apart: one per letter of
// the id alphabet.
const MaxReplicas = len(idAlphabet)

// ReplicaPrefix is replica n's id prefix, for n from 0 to MaxReplicas-1.
func ReplicaPrefix(n int) string { return idAlphabet[n : n+1] }

// ApplyFunc makes the world match sc, which replaces old (nil when the
// session is being created). An error refuses sc: the session keeps old.
type ApplyFunc func(s *Session, old *scenario.Scenario, sc scenario.Scenario) error

// NewStore returns an empty store.
func NewStore(o Options) *Store {
	if o.Max <= 0 || o.Idle <= 0 {
		panic("session.NewStore: Max and Idle must be positive")
	}
	if len(o.IDPrefix) > 1 || o.IDPrefix != "" && !strings.Contains(idAlphabet, o.IDPrefix) {
		panic("session.NewStore: IDPrefix must be one character of the id alphabet")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.UnusedIdle <= 0 {
		o.UnusedIdle = min(o.Idle, DefaultUnusedIdle)
	}
	if o.Budget == nil {
		o.Budget = NewBudget(1 << 62)
	}
	return &Store{
		max: o.Max, idle: o.Idle, unusedIdle: o.UnusedIdle, budget: o.Budget, now: o.Now,
		buckets:  make(map[string]int64),
		onCreate: o.OnCreate, onExpire: o.OnExpire, apply: o.OnScenario, prefix: o.IDPrefix,
		sessions: make(map[string]*Session),
	}
}

// DefaultUnusedIdle is how long a session that never did anything lives.
const DefaultUnusedIdle = 10 * time.Minute

// Create starts a session with a validated scenario. At the cap it first
// expires idle sessions, then drops the least recently used session that
// never did anything and that no page watches, and returns ErrTooMany if
// none could go: a session in use is never evicted to make room. It returns
// ErrBudget when the memory budget is full even after shedding.
func (st *Store) Create(sc scenario.Scenario) (*Session, error) { return st.CreateFor(sc, "") }

// CreateFor is Create for a session that belongs to a lesson, by slug.
func (st *Store) CreateFor(sc scenario.Scenario, lesson string) (*Session, error) {
	policy, err := scenario.NewPolicy(sc.API)
	if err != nil {
		return nil, err
	}
	if st.Len() >= st.max {
		st.Expire()
		if st.Len() >= st.max && !st.evictUnused() {
			return nil, ErrTooMany
		}
	}
	if b := st.budget; b.Used() > int64(float64(b.limit)*newRoom) {
		st.shedAndWait()
		if b.Used() > int64(float64(b.limit)*newRoom) {
			return nil, ErrBudget
		}
	}
	s := newSession(newID(st.prefix), sc, policy, st.now, st.budget)
	s.Lesson = lesson
	s.apply = st.apply
	s.onGrow = st.maybeShed
	if st.onCreate != nil {
		if err := st.onCreate(s); err != nil {
			return nil, err
		}
	}
	if st.apply != nil {
		if err := st.apply(s, nil, sc); err != nil {
			if st.onExpire != nil {
				st.onExpire(s)
			}
			return nil, err
		}
	}
	st.mu.Lock()
	var victim *Session
	if len(st.sessions) >= st.max { // others took the last places meanwhile
		victim = st.lruUnused()
	}
	full := len(st.sessions) >= st.max
	if !full {
		st.sessions[s.ID] = s
	}
	st.mu.Unlock()
	if victim != nil {
		st.remove(victim)
	}
	if !full {
		s.mu.Lock()
		s.countScenario()
		s.mu.Unlock()
	}
	if full {
		if st.onExpire != nil {
			st.onExpire(s)
		}
		return nil, ErrTooMany
	}
	return s, nil
}

// Get returns the session with the given id, or nil, and marks it used.
func (st *Store) Get(id string) *Session {
	st.mu.Lock()
	s := st.sessions[id]
	st.mu.Unlock()
	if s != nil {
		s.touch()
	}
	return s
}

// All returns every live session, in no particular order.
func (st *Store) All() []*Session {
	st.mu.Lock()
	defer st.mu.Unlock()
	all := make([]*Session, 0, len(st.sessions))
	for _, s := range st.sessions {
		all = append(all, s)
	}
	return all
}

// Peek returns the session with the given id, or nil, without marking it
// used: for watching a session without keeping it alive.
func (st *Store) Peek(id string) *Session {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.sessions[id]
}

// Len is the number of live sessions.
func (st *Store) Len() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.sessions)
}

// Expire removes every session idle for longer than the store's idle time,
// and every session that never did anything, has no page watching it, and
// has been idle for longer than UnusedIdle.
func (st *Store) Expire() {
	now := st.now()
	cutoff, unusedCutoff := now.Add(-st.idle), now.Add(-st.unusedIdle)
	var gone []*Session
	st.mu.Lock()
	for id, s := range st.sessions {
		last := s.lastUsed()
		if last.Before(cutoff) || last.Before(unusedCutoff) && s.unused() {
			delete(st.sessions, id)
			gone = append(gone, s)
		}
	}
	st.mu.Unlock()
	st.remove(gone...)
}

// unused reports whether the session never did anything and no page
// watches it: dropping it loses nobody's work.
func (s *Session) unused() bool {
	return !s.active.Load() && s.Subscribers() == 0
}

// evictUnused drops the least recently used unused session, to make room
// for a new one; it reports whether there was one.
func (st *Store) evictUnused() bool {
	st.mu.Lock()
	victim := st.lruUnused()
	st.mu.Unlock()
	if victim == nil {
		return false
	}
	st.remove(victim)
	return true
}

// lruUnused takes the least recently used unused session out of the map,
// or returns nil if there is none. Called with st.mu held.
func (st *Store) lruUnused() *Session {
	var victim *Session
	for _, s := range st.sessions {
		if s.unused() && (victim == nil || s.lastUsed().Before(victim.lastUsed())) {
			victim = s
		}
	}
	if victim != nil {
		delete(st.sessions, victim.ID)
	}
	return victim
}

// remove ends sessions already taken out of the map.
func (st *Store) remove(gone ...*Session) {
	for _, s := range gone {
		s.close()
		if st.onExpire != nil {
			st.onExpire(s)
		}
	}
}

// maybeShed sheds when the budget is past its high watermark.
func (st *Store) maybeShed() {
	if st.budget.Used() > st.budget.high() {
		st.shed()
	}
}

// SetStored says how many bytes a session's bucket stores now, so that
// they count against the budget; 0 when the bucket is gone.
func (st *Store) SetStored(id string, bytes int64) {
	st.mu.Lock()
	old := st.buckets[id]
	st.stored += bytes - old
	if bytes == 0 {
		delete(st.buckets, id)
	} else {
		st.buckets[id] = bytes
	}
	st.mu.Unlock()
	st.budget.add(bytes - old)
	if bytes > old {
		st.maybeShed()
	}
}

// Stored is how many bytes all buckets store (SetStored).
func (st *Store) Stored() int64 {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.stored
}

// Budget is the store's memory budget.
func (st *Store) Budget() *Budget { return st.budget }

// ShedPasses is how many times the store shed traffic to stay in budget.
func (st *Store) ShedPasses() int64 { return st.shedPasses.Load() }

// Run expires idle sessions every interval until ctx is done.
func (st *Store) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			st.Expire()
		}
	}
}

// Close drops every subscriber of every session, so that websocket writers
// end and the server can shut down.
func (st *Store) Close() {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, s := range st.sessions {
		s.close()
	}
}

// idAlphabet is lower-case base32, so that an id can also name an S3 bucket.
const idAlphabet = "abcdefghijklmnopqrstuvwxyz234567"

var idEncoding = base32.NewEncoding(idAlphabet).WithPadding(base32.NoPadding)

// newID returns 128 random bits as 26 lower-case characters; with a
// prefix, that is the first character instead, leaving 123 random bits.
func newID(prefix string) string {
	var b [16]byte
	rand.Read(b[:])
	id := idEncoding.EncodeToString(b[:])
	return prefix + id[len(prefix):]
}

// ValidID reports whether id has the shape of a session id, so that
// malformed ids are turned away before any lookup.
func ValidID(id string) bool {
	if len(id) != 26 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || '2' <= c && c <= '7') {
			return false
		}
	}
	return true
}

type ctxKey struct{}

// NewContext returns a context carrying s: the virtual origins hand the
// session a request belongs to down to their handlers this way.
func NewContext(ctx context.Context, s *Session) context.Context {
	return context.WithValue(ctx, ctxKey{}, s)
}

// FromContext returns the session in ctx, or nil.
func FromContext(ctx context.Context) *Session {
	s, _ := ctx.Value(ctxKey{}).(*Session)
	return s
}
