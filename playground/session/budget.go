package session

import (
	"sort"
	"sync"
	"sync/atomic"
)

// A Budget is the memory every session together may keep: their exchanges,
// runs, bucket objects and websocket send queues, counted in bytes. One
// budget covers the whole store, so a class is bounded as a whole, not only
// learner by learner.
//
// When the count nears the limit, the store sheds old traffic from the
// largest sessions first (see Store.shed): the bodies of their oldest
// exchanges, then their oldest exchanges and runs. What cannot be shed
// (bucket objects, the newest traffic) only stops new sessions.
type Budget struct {
	limit int64
	used  atomic.Int64
}

// NewBudget returns a budget of limit bytes.
func NewBudget(limit int64) *Budget {
	if limit <= 0 {
		panic("session.NewBudget: the limit must be positive")
	}
	return &Budget{limit: limit}
}

// Limit is the budget in bytes.
func (b *Budget) Limit() int64 { return b.limit }

// Used is how many bytes the sessions hold now.
func (b *Budget) Used() int64 { return b.used.Load() }

func (b *Budget) add(n int64) { b.used.Add(n) }

// The watermarks, as fractions of the limit: shedding starts above high and
// stops at low, so that it runs now and then, not on every request, and a
// new session needs room below newRoom. The gap below the limit leaves the
// garbage collector room: a heap whose live data sat at the budget would be
// collected without pause.
const (
	highWater = 0.75
	lowWater  = 0.60
	newRoom   = 0.90
)

func (b *Budget) high() int64 { return int64(float64(b.limit) * highWater) }
func (b *Budget) low() int64  { return int64(float64(b.limit) * lowWater) }

// ShedNotice is what a session's pages are told when its older traffic was
// dropped to stay within the budget.
const ShedNotice = "corslab: older traffic of this session was dropped to keep the class running (the server's memory budget is nearly full). Your settings and newest runs are kept."

// shedder runs one shedding pass at a time.
type shedder struct {
	mu sync.Mutex
}

// shed brings the budget down to its low watermark, taking from the
// sessions that hold the most first, in passes that take more each time:
// the bodies of the oldest half of their exchanges; the oldest half of
// their exchanges and runs; every body; everything but their newest
// exchange and run, so that a learner always sees their last result. It
// reports whether it got below the high watermark. While another pass is
// at work it returns at once: that pass frees the memory.
func (st *Store) shed() bool { return st.shedPass(false) }

// shedAndWait is shed for one who needs the room now (a new session):
// while another pass is at work it waits for it, rather than judge the
// budget full halfway through a pass that is freeing it.
func (st *Store) shedAndWait() bool { return st.shedPass(true) }

func (st *Store) shedPass(wait bool) bool {
	b := st.budget
	if b.Used() <= b.high() {
		return true
	}
	if wait {
		st.shedding.mu.Lock()
	} else if !st.shedding.mu.TryLock() {
		return false // another pass is at work
	}
	defer st.shedding.mu.Unlock()
	if b.Used() <= b.high() {
		return true // the pass waited for made the room
	}
	all := st.All()
	// Slow websockets first: a page that has fallen far behind reconnects
	// and loses nothing the rings hold.
	for _, s := range all {
		s.dropSlowSubscribers()
	}
	passes := []func(s *Session, want int64){
		func(s *Session, want int64) { s.dropBodies(want, false) },
		func(s *Session, want int64) { s.dropOldest(want, false) },
		func(s *Session, want int64) { s.dropBodies(want, true) },
		func(s *Session, want int64) { s.dropOldest(want, true) },
	}
	sizes := make([]int64, len(all))
	for _, pass := range passes {
		if b.Used() <= b.low() {
			break
		}
		for i, s := range all {
			sizes[i] = s.sheddable()
		}
		sort.Sort(bySize{all, sizes})
		for _, s := range all {
			if b.Used() <= b.low() {
				break
			}
			pass(s, b.Used()-b.low())
		}
	}
	st.shedPasses.Add(1)
	return b.Used() <= b.high()
}

type bySize struct {
	s     []*Session
	sizes []int64
}

func (x bySize) Len() int           { return len(x.s) }
func (x bySize) Less(i, j int) bool { return x.sizes[i] > x.sizes[j] }
func (x bySize) Swap(i, j int) {
	x.s[i], x.s[j] = x.s[j], x.s[i]
	x.sizes[i], x.sizes[j] = x.sizes[j], x.sizes[i]
}
