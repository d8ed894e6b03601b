package playground

import (
	"context"
	"io"
	"log/slog"
	"runtime"
	"testing"
	"time"
)

// idleSessions is how many sessions BenchmarkIdleSession opens: enough to
// average out the noise of one allocation, few enough for a second or two.
const idleSessions = 1000

// BenchmarkIdleSession measures what a session costs while nobody uses it:
// each iteration starts a corslab, opens idleSessions sessions through the
// JSON API as new labs do (default scenario, no traffic, no websocket), and
// compares the live heap after a GC before and after. It reports the live
// heap per session (B/session) and the bytes allocated to create one
// (alloc-B/session), the garbage that the server's RSS carries until the
// next GC. ns/op is the time to open all of them. Quick with -benchtime 1x.
func BenchmarkIdleSession(b *testing.B) {
	for b.Loop() {
		srv, stop := serveIdle(b)
		// Warm up: the first sessions pay for lazy set-up (the S3
		// backend's, the JSON encoders' caches) that the rest share.
		for range 10 {
			createSession(b, srv, "")
		}
		before := heapAfterGC()
		for range idleSessions {
			createSession(b, srv, "")
		}
		after := heapAfterGC()
		if n := srv.sessions.Len(); n != idleSessions+10 {
			b.Fatalf("%d sessions alive, want %d", n, idleSessions+10)
		}
		// HeapAlloc may shrink a little if the warm-up left garbage: signed.
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/idleSessions, "B/session")
		b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/idleSessions, "alloc-B/session")
		stop()
	}
}

// serveIdle runs a corslab with room for the benchmark's sessions, and
// returns it with a function that stops it: unlike startServer, each
// iteration's server goes away before the next one starts.
func serveIdle(b *testing.B) (*Server, func()) {
	b.Helper()
	srv, err := Listen(Config{
		Listen: "127.0.0.1", MaxSessions: idleSessions + 10, SessionIdle: time.Hour,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	return srv, func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("Serve: %v", err)
		}
	}
}

// heapAfterGC collects garbage and returns the memory statistics, whose
// HeapAlloc is then the live heap.
func heapAfterGC() runtime.MemStats {
	runtime.GC()
	runtime.GC() // a second cycle frees what the first one's finalizers released
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m
}
