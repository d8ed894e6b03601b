// Package ratelimit is the token buckets that keep one learner, or one
// machine, from taking a workshop's corslab for itself.
package ratelimit

import (
	"net/netip"
	"sync"
	"time"
)

// Rate is a limit: PerSecond requests on average, in bursts of up to Burst.
// The zero Rate is no limit.
type Rate struct {
	PerSecond float64
	Burst     int
}

// Off reports whether r limits nothing.
func (r Rate) Off() bool { return r.PerSecond <= 0 }

// refill is how long an empty bucket takes to fill up again.
func (r Rate) refill() time.Duration {
	return time.Duration(float64(r.Burst) / r.PerSecond * float64(time.Second))
}

// Bucket is one token bucket. Its zero value is a full bucket, ready to use.
type Bucket struct {
	mu     sync.Mutex
	tokens float64
	last   time.Time // when tokens was last brought up to date; zero: full
}

// Allow takes a token at time now, and reports whether there was one.
func (b *Bucket) Allow(r Rate, now time.Time) bool {
	if r.Off() {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.take(r, now)
}

func (b *Bucket) take(r Rate, now time.Time) bool {
	if b.last.IsZero() {
		b.tokens = float64(r.Burst)
	} else if d := now.Sub(b.last); d > 0 {
		b.tokens = min(float64(r.Burst), b.tokens+d.Seconds()*r.PerSecond)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// maxKeys bounds the addresses remembered at once. Beyond it, addresses
// that are not yet known share one bucket: a flood of new addresses gets
// one address's worth of requests rather than unbounded memory.
const maxKeys = 100_000

// PerAddr is a bucket for each client address. IPv6 clients are counted per
// /64, the block one host usually gets, so that changing the interface
// part of the address does not buy new tokens.
type PerAddr struct {
	rate Rate

	mu       sync.Mutex
	buckets  map[netip.Prefix]*Bucket
	overflow Bucket
	swept    time.Time
}

// NewPerAddr returns a limiter of rate per client address.
func NewPerAddr(rate Rate) *PerAddr {
	return &PerAddr{rate: rate, buckets: make(map[netip.Prefix]*Bucket)}
}

// Allow takes a token from addr's bucket at time now.
func (p *PerAddr) Allow(addr netip.Addr, now time.Time) bool {
	if p.rate.Off() {
		return true
	}
	key := netip.PrefixFrom(addr.Unmap(), 32)
	if addr.Is6() && !addr.Is4In6() {
		key, _ = addr.Prefix(64)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if now.Sub(p.swept) > p.rate.refill() {
		p.sweep(now)
	}
	b := p.buckets[key]
	if b == nil {
		if len(p.buckets) >= maxKeys {
			return p.overflow.take(p.rate, now)
		}
		b = new(Bucket)
		p.buckets[key] = b
	}
	return b.take(p.rate, now)
}

// sweep forgets the buckets that have filled up again since their last
// use: a new one starts full, so nothing changes but the memory held.
// Called with p.mu held.
func (p *PerAddr) sweep(now time.Time) {
	full := p.rate.refill()
	for k, b := range p.buckets {
		if now.Sub(b.last) >= full {
			delete(p.buckets, k)
		}
	}
	p.swept = now
}

// Len is how many addresses are remembered.
func (p *PerAddr) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.buckets)
}
