// Package ratelimit keeps one learner, or one machine, from taking a
// workshop's corslab for itself: a limit for each session (Bucket) and one
// for each client address (PerAddr). Both are golang.org/x/time/rate token
// buckets; this package only decides what they are keyed by and how many
// of them are remembered.
package ratelimit

import (
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Rate is a limit: PerSecond requests on average, in bursts of up to Burst.
// The zero Rate is no limit.
type Rate struct {
	PerSecond float64
	Burst     int
}

// BurstSeconds is how many seconds' worth of requests a burst holds (see
// PerSecond). corslab's own pages are bursty: the redirect matrix makes
// its requests as fast as the browser can, and a learner may run it three
// times in a row; the burst must hold that however fast the machine, while
// a flood is held to the average rate. (The measurements behind it are at
// playground.DefaultSessionRate.)
const BurstSeconds = 20

// PerSecond is a limit of n requests a second, in bursts of BurstSeconds
// times as many. n of 0 (or less) is no limit.
func PerSecond(n float64) Rate {
	if n <= 0 {
		return Rate{}
	}
	return Rate{PerSecond: n, Burst: max(1, int(BurstSeconds*n))}
}

// Off reports whether r limits nothing.
func (r Rate) Off() bool { return r.PerSecond <= 0 }

// limiter is a new token bucket for r, full.
func (r Rate) limiter() *rate.Limiter {
	return rate.NewLimiter(rate.Limit(r.PerSecond), r.Burst)
}

// refill is how long an empty bucket takes to fill up again.
func (r Rate) refill() time.Duration {
	return time.Duration(float64(r.Burst) / r.PerSecond * float64(time.Second))
}

// Bucket is one token bucket, for one session. Its zero value is a full
// bucket, ready to use: the limiter is made at the first Allow, with the
// Rate it is given (a Bucket is always used with the same Rate).
type Bucket struct {
	once sync.Once
	lim  *rate.Limiter
}

// Allow takes a token at time now, and reports whether there was one.
func (b *Bucket) Allow(r Rate, now time.Time) bool {
	if r.Off() {
		return true
	}
	return b.limiter(r).AllowN(now, 1)
}

// Delay is how long after now the bucket holds a token again; 0 if it
// holds one. It takes nothing: it is for Retry-After.
func (b *Bucket) Delay(r Rate, now time.Time) time.Duration {
	if r.Off() {
		return 0
	}
	return delay(b.limiter(r), now)
}

func (b *Bucket) limiter(r Rate) *rate.Limiter {
	b.once.Do(func() { b.lim = r.limiter() })
	return b.lim
}

// delay is how long after now lim holds a whole token again.
func delay(lim *rate.Limiter, now time.Time) time.Duration {
	missing := 1 - lim.TokensAt(now)
	if missing <= 0 {
		return 0
	}
	return time.Duration(missing / float64(lim.Limit()) * float64(time.Second))
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
	buckets  map[netip.Prefix]*rate.Limiter
	overflow *rate.Limiter
	swept    time.Time
}

// NewPerAddr returns a limiter of rate per client address.
func NewPerAddr(r Rate) *PerAddr {
	p := &PerAddr{rate: r, buckets: make(map[netip.Prefix]*rate.Limiter)}
	if !r.Off() {
		p.overflow = r.limiter()
	}
	return p
}

// Allow takes a token from addr's bucket at time now.
func (p *PerAddr) Allow(addr netip.Addr, now time.Time) bool {
	if p.rate.Off() {
		return true
	}
	return p.bucket(addr, now).AllowN(now, 1)
}

// Delay is how long after now addr's bucket holds a token again; 0 if it
// holds one. It takes nothing: it is for Retry-After.
func (p *PerAddr) Delay(addr netip.Addr, now time.Time) time.Duration {
	if p.rate.Off() {
		return 0
	}
	return delay(p.bucket(addr, now), now)
}

// bucket is addr's bucket, made (full) if it is new.
func (p *PerAddr) bucket(addr netip.Addr, now time.Time) *rate.Limiter {
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
			return p.overflow
		}
		b = p.rate.limiter()
		p.buckets[key] = b
	}
	return b
}

// sweep forgets the buckets that have filled up again: a new one starts
// full, so nothing changes but the memory held. Called with p.mu held.
func (p *PerAddr) sweep(now time.Time) {
	for k, b := range p.buckets {
		if b.TokensAt(now) >= float64(b.Burst()) {
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
