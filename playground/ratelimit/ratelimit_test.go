package ratelimit

import (
	"net/netip"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func TestBucketBurstThenRate(t *testing.T) {
	r := Rate{PerSecond: 10, Burst: 5}
	var b Bucket
	for i := range 5 {
		if !b.Allow(r, t0) {
			t.Fatalf("request %d of the burst was refused", i+1)
		}
	}
	if b.Allow(r, t0) {
		t.Fatal("the 6th request at once was allowed; the burst is 5")
	}
	// 10 a second: one token every 100 ms.
	if b.Allow(r, t0.Add(99*time.Millisecond)) {
		t.Error("allowed after 99 ms, before a token came back")
	}
	if !b.Allow(r, t0.Add(200*time.Millisecond)) {
		t.Error("refused after 200 ms, when a token was back")
	}
	// A long pause refills to the burst, never beyond.
	later := t0.Add(time.Hour)
	n := 0
	for b.Allow(r, later) {
		n++
	}
	if n != 5 {
		t.Errorf("after an hour, %d requests passed at once; want the burst, 5", n)
	}
}

func TestZeroRateIsNoLimit(t *testing.T) {
	var b Bucket
	p := NewPerAddr(Rate{})
	for range 1000 {
		if !b.Allow(Rate{}, t0) || !p.Allow(netip.MustParseAddr("10.0.0.1"), t0) {
			t.Fatal("the zero Rate refused a request")
		}
	}
}

func TestPerAddrKeepsAddressesApart(t *testing.T) {
	p := NewPerAddr(Rate{PerSecond: 1, Burst: 2})
	a, b := netip.MustParseAddr("192.168.1.20"), netip.MustParseAddr("192.168.1.21")
	p.Allow(a, t0)
	p.Allow(a, t0)
	if p.Allow(a, t0) {
		t.Error("a third request from one address passed a burst of 2")
	}
	if !p.Allow(b, t0) {
		t.Error("another address was refused because of the first")
	}
	// An IPv4 address written as IPv4-mapped IPv6 is the same client.
	if p.Allow(netip.MustParseAddr("::ffff:192.168.1.20"), t0) {
		t.Error("::ffff:192.168.1.20 got tokens of its own")
	}
}

func TestPerAddrCountsIPv6By64(t *testing.T) {
	p := NewPerAddr(Rate{PerSecond: 1, Burst: 1})
	if !p.Allow(netip.MustParseAddr("2001:db8:1:2::1"), t0) {
		t.Fatal("first request refused")
	}
	if p.Allow(netip.MustParseAddr("2001:db8:1:2::beef"), t0) {
		t.Error("another address in the same /64 got a bucket of its own")
	}
	if !p.Allow(netip.MustParseAddr("2001:db8:1:3::1"), t0) {
		t.Error("a different /64 was refused")
	}
}

func TestPerAddrForgetsFullBuckets(t *testing.T) {
	p := NewPerAddr(Rate{PerSecond: 10, Burst: 10}) // refills in 1 s
	for i := range 100 {
		p.Allow(netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}), t0)
	}
	if p.Len() != 100 {
		t.Fatalf("remembers %d addresses, want 100", p.Len())
	}
	p.Allow(netip.MustParseAddr("10.0.1.1"), t0.Add(2*time.Second))
	if p.Len() != 1 {
		t.Errorf("2 s later remembers %d addresses; the 100 full buckets should be gone", p.Len())
	}
}

func TestPerAddrOverflowShares(t *testing.T) {
	p := NewPerAddr(Rate{PerSecond: 1, Burst: 1})
	p.swept = t0 // no sweep in the loop below
	for i := range maxKeys {
		p.Allow(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), t0)
	}
	if p.Len() != maxKeys {
		t.Fatalf("remembers %d, want %d", p.Len(), maxKeys)
	}
	if !p.Allow(netip.MustParseAddr("172.16.0.1"), t0) {
		t.Error("the first unknown address past the cap was refused; the shared bucket starts full")
	}
	if p.Allow(netip.MustParseAddr("172.16.0.2"), t0) {
		t.Error("a second unknown address past the cap got tokens of its own")
	}
	if p.Len() != maxKeys {
		t.Errorf("grew to %d addresses past the cap", p.Len())
	}
}

func TestPerSecond(t *testing.T) {
	for _, c := range []struct {
		desc string
		n    float64
		want Rate
	}{
		{"no limit", 0, Rate{}},
		{"a negative rate is no limit", -1, Rate{}},
		{"the default session rate: 2,000 at once", 100, Rate{PerSecond: 100, Burst: 2000}},
		{"a tiny rate still allows one request", 0.01, Rate{PerSecond: 0.01, Burst: 1}},
	} {
		if got := PerSecond(c.n); got != c.want {
			t.Errorf("%s: PerSecond(%g) = %+v, want %+v", c.desc, c.n, got, c.want)
		}
	}
}

func TestBucketSharedByGoroutines(t *testing.T) {
	// A session's bucket is taken from by every origin's handlers at once:
	// exactly the burst passes, however the requests interleave.
	r := Rate{PerSecond: 1e-9, Burst: 100}
	var b Bucket
	allowed := make(chan bool, 400)
	for range 400 {
		go func() { allowed <- b.Allow(r, t0) }()
	}
	n := 0
	for range 400 {
		if <-allowed {
			n++
		}
	}
	if n != 100 {
		t.Errorf("%d of 400 concurrent requests passed; want the burst, 100", n)
	}
}

func TestDelayIsWhenATokenIsBack(t *testing.T) {
	r := Rate{PerSecond: 4, Burst: 2} // a token every 250 ms
	var b Bucket
	p := NewPerAddr(r)
	a := netip.MustParseAddr("10.0.0.1")
	for _, c := range []struct {
		desc  string
		allow func(time.Time) bool
		delay func(time.Time) time.Duration
	}{
		{"a session's bucket", func(now time.Time) bool { return b.Allow(r, now) }, func(now time.Time) time.Duration { return b.Delay(r, now) }},
		{"an address's bucket", func(now time.Time) bool { return p.Allow(a, now) }, func(now time.Time) time.Duration { return p.Delay(a, now) }},
	} {
		if d := c.delay(t0); d != 0 {
			t.Errorf("%s: full, Delay %v; want 0", c.desc, d)
		}
		c.allow(t0)
		c.allow(t0)
		if d := c.delay(t0); d != 250*time.Millisecond {
			t.Errorf("%s: empty, Delay %v; want 250ms", c.desc, d)
		}
		if d := c.delay(t0.Add(100 * time.Millisecond)); d != 150*time.Millisecond {
			t.Errorf("%s: 100 ms later, Delay %v; want 150ms", c.desc, d)
		}
		if !c.allow(t0.Add(250 * time.Millisecond)) {
			t.Errorf("%s: refused when Delay said a token was back", c.desc)
		}
	}
	if d := (&Bucket{}).Delay(Rate{}, t0); d != 0 {
		t.Errorf("no limit: Delay %v", d)
	}
}
