package main

import (
	"errors"
	"fmt"
	"math/bits"
	"net"
	"net/url"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// A histogram counts durations, in microseconds, in log-linear buckets:
// below 64 µs one bucket per microsecond, above that 32 buckets per power
// of two, so a percentile is off by at most 1/32 (3%). It has a fixed size
// (about 9 KiB), so a two-hour soak costs no more memory than a short run,
// and every method is safe for concurrent use.
type histogram struct {
	buckets [histBuckets]atomic.Uint64
	count   atomic.Uint64
	max     atomic.Uint64 // µs, exact
}

const (
	histSubBits = 6 // 2^6 = 64 exact buckets, then 32 per power of two
	histHalf    = 1 << (histSubBits - 1)
	histMaxUs   = 1<<40 - 1                         // 12 days: anything longer is clamped
	histBuckets = (40 - histSubBits + 2) * histHalf // bucketOf(histMaxUs) is the last
)

// bucketOf returns the bucket of v µs.
func bucketOf(v uint64) int {
	if v < 2*histHalf {
		return int(v)
	}
	exp := bits.Len64(v) - histSubBits // ≥ 1: v>>exp keeps the top 6 bits, 32…63
	return exp*histHalf + int(v>>exp)
}

// bucketRange returns the smallest and largest values of bucket i.
func bucketRange(i int) (lo, hi uint64) {
	if i < 2*histHalf {
		return uint64(i), uint64(i)
	}
	exp := i/histHalf - 1
	mantissa := uint64(i%histHalf + histHalf)
	return mantissa << exp, (mantissa+1)<<exp - 1
}

// record adds one duration; negative ones (a clock step) count as 0.
func (h *histogram) record(d time.Duration) {
	us := uint64(max(0, d.Microseconds()))
	us = min(us, histMaxUs)
	h.buckets[bucketOf(us)].Add(1)
	h.count.Add(1)
	for {
		old := h.max.Load()
		if us <= old || h.max.CompareAndSwap(old, us) {
			break
		}
	}
}

// quantile returns the duration below which a fraction q of the recorded
// ones fall: the middle of the bucket that holds it, never above the max.
func (h *histogram) quantile(q float64) time.Duration {
	n := h.count.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(q*float64(n) + 0.5)
	rank = min(max(rank, 1), n)
	var seen uint64
	for i := range h.buckets {
		seen += h.buckets[i].Load()
		if seen >= rank {
			lo, hi := bucketRange(i)
			return time.Duration(min((lo+hi)/2, h.max.Load())) * time.Microsecond
		}
	}
	return time.Duration(h.max.Load()) * time.Microsecond
}

// summary is a histogram as the report shows it.
type summary struct {
	Count uint64  `json:"count"`
	P50ms float64 `json:"p50Ms"`
	P90ms float64 `json:"p90Ms"`
	P99ms float64 `json:"p99Ms"`
	MaxMs float64 `json:"maxMs"`
}

// ms is d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (h *histogram) summary() summary {
	return summary{
		Count: h.count.Load(),
		P50ms: ms(h.quantile(0.50)),
		P90ms: ms(h.quantile(0.90)),
		P99ms: ms(h.quantile(0.99)),
		MaxMs: ms(time.Duration(h.max.Load()) * time.Microsecond),
	}
}

// stats is everything the learners count, shared by all of them.
type stats struct {
	latency histogram // exchange start → its frame read by the learner's websocket
	fetch   histogram // client-side time of each request to a virtual origin
	runPost histogram // client-side time of POST /api/sessions/{id}/runs

	learners       atomic.Int64 // sessions created and watched
	present        atomic.Int64 // learners browsing right now
	presence       atomic.Int64 // the learners' time present, summed, in ns: learner-seconds (baseline.go)
	learnersFailed atomic.Int64 // gave up before sending anything
	sequences      atomic.Int64 // browser-like request sequences done
	requests       atomic.Int64 // requests sent to virtual origins
	uiRequests     atomic.Int64 // JSON API requests and websocket handshakes
	runsPosted     atomic.Int64 // POST /runs answered 201
	scenarioPuts   atomic.Int64 // PUT /scenario answered 200
	disagreements  atomic.Int64 // runs whose engine verdict differs from our browser's outcome

	frames        atomic.Int64 // distinct exchange frames received
	exchangeBytes atomic.Int64 // their size
	runBytes      atomic.Int64 // the size of the run frames
	dupFrames     atomic.Int64 // exchange frames with a seq already seen
	runFrames     atomic.Int64
	notices       atomic.Int64 // "notice" frames: the server says the session is being limited
	badFrames     atomic.Int64 // frames that did not parse
	gaps          atomic.Int64 // exchange seqs skipped in a learner's stream
	// unaccounted sums, over learners, the virtual-origin requests that got
	// an answer (other than a rate limiter's 429) minus the distinct
	// exchange frames the learner received, after a drain wait.
	unaccounted atomic.Int64

	wsDrops      atomic.Int64 // websockets that ended without the learner closing them
	wsReconnects atomic.Int64 // …and were opened again with since=<last seq>

	mu         sync.Mutex
	statuses   map[statusKey]int64 // unexpected statuses, by what was sent
	transport  map[string]int64    // transport errors, by what was sent and why
	dropCauses map[string]int64    // why websockets dropped
}

type statusKey struct {
	What   string
	Status int
}

func newStats() *stats {
	return &stats{
		statuses:   map[statusKey]int64{},
		transport:  map[string]int64{},
		dropCauses: map[string]int64{},
	}
}

// maxErrorKinds bounds the distinct error descriptions kept; beyond it
// they are counted as "other".
const maxErrorKinds = 50

func (s *stats) unexpectedStatus(what string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.statuses[statusKey{what, status}]++
}

func (s *stats) transportError(what string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	countKind(s.transport, what+": "+describeErr(err))
}

func (s *stats) wsDropped(cause string) {
	s.wsDrops.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	countKind(s.dropCauses, cause)
}

func countKind(m map[string]int64, kind string) {
	if _, ok := m[kind]; !ok && len(m) >= maxErrorKinds {
		kind = "other"
	}
	m[kind]++
}

// describeErr shortens a transport error to what went wrong, without the
// URL and addresses that would make every learner's error unique.
func describeErr(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return fmt.Sprintf("%s: %v", oe.Op, oe.Err)
	}
	return err.Error()
}

// errorCounts is a snapshot of the error maps, for the report.
type errorCounts struct {
	Transport       int64            `json:"transport"`
	TransportKinds  map[string]int64 `json:"transportKinds"`
	Unexpected      int64            `json:"unexpectedStatuses"`
	ByStatus        map[int]int64    `json:"byStatus"`
	UnexpectedKinds []statusCount    `json:"unexpectedKinds"`
	Status429       int64            `json:"status429"`
	Status5xx       int64            `json:"status5xx"`
	WSDrops         int64            `json:"wsDrops"`
	WSReconnects    int64            `json:"wsReconnects"`
	WSDropCauses    map[string]int64 `json:"wsDropCauses"`
	Total           int64            `json:"total"` // transport + unexpected statuses + websocket drops
}

type statusCount struct {
	What   string `json:"what"`
	Status int    `json:"status"`
	Count  int64  `json:"count"`
}

func (s *stats) errors() errorCounts {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := errorCounts{
		TransportKinds: map[string]int64{},
		ByStatus:       map[int]int64{},
		WSDrops:        s.wsDrops.Load(),
		WSReconnects:   s.wsReconnects.Load(),
		WSDropCauses:   map[string]int64{},
	}
	for k, n := range s.transport {
		e.TransportKinds[k] = n
		e.Transport += n
	}
	for k, n := range s.statuses {
		e.Unexpected += n
		e.ByStatus[k.Status] += n
		e.UnexpectedKinds = append(e.UnexpectedKinds, statusCount{k.What, k.Status, n})
		switch {
		case k.Status == 429:
			e.Status429 += n
		case k.Status >= 500:
			e.Status5xx += n
		}
	}
	sort.Slice(e.UnexpectedKinds, func(i, j int) bool { return e.UnexpectedKinds[i].Count > e.UnexpectedKinds[j].Count })
	for k, n := range s.dropCauses {
		e.WSDropCauses[k] = n
	}
	e.Total = e.Transport + e.Unexpected + e.WSDrops
	return e
}
