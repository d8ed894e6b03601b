package session

import (
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/corslab/corslab/playground/capture"
	"github.com/corslab/corslab/playground/scenario"
)

// benchExchange is a CORS GET to the api origin as capture records it.
func benchExchange() capture.Exchange {
	r := httptest.NewRequest("GET", "/s1/users", nil)
	r.Host = "127.0.0.1:8082"
	for _, h := range [][2]string{
		{"Connection", "keep-alive"}, {"Sec-Ch-Ua-Platform", `"Linux"`},
		{"User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"},
		{"Accept", "*/*"}, {"Origin", "http://127.0.0.1:8081"}, {"Sec-Fetch-Site", "same-site"}, {"Sec-Fetch-Mode", "cors"},
		{"Sec-Fetch-Dest", "empty"}, {"Referer", "http://127.0.0.1:8081/"}, {"Accept-Encoding", "gzip, deflate, br, zstd"},
		{"Accept-Language", "en-US,en;q=0.9"},
	} {
		r.Header.Set(h[0], h[1])
	}
	var ex *capture.Exchange
	w, r, finish := capture.Start(httptest.NewRecorder(), r, "api", func(e *capture.Exchange) { ex = e })
	for _, h := range [][2]string{
		{"Access-Control-Allow-Origin", "http://127.0.0.1:8081"}, {"Cache-Control", "no-store"},
		{"Content-Type", "application/json"}, {"Vary", "Origin"}, {"Date", "Sat, 05 Dec 2026 22:00:00 GMT"},
	} {
		w.Header().Set(h[0], h[1])
	}
	w.Write([]byte(`[{"id":1,"name":"Ada Lovelace","email":"ada@example.com"},{"id":2,"name":"Alan Turing","email":"alan@example.com"}]`))
	finish()
	return *ex
}

// BenchmarkRecord keeps one captured exchange and fans its frame out to a
// page watching the session, as every request to an origin does.
// heap-B/kept is the heap each exchange the ring keeps holds on to: its
// frame and what is kept beside it.
func BenchmarkRecord(b *testing.B) {
	st := NewStore(Options{Max: 1, Idle: time.Hour, Budget: NewBudget(1 << 30)})
	s, err := st.Create(scenario.Default())
	if err != nil {
		b.Fatal(err)
	}
	sub, _, err := s.Subscribe(0, 0)
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case <-sub.Ready:
				for _, ok := sub.Next(); ok; _, ok = sub.Next() {
				}
			case <-done:
				return
			}
		}
	}()
	ex := benchExchange()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	for b.Loop() {
		e := ex
		s.Record(&e)
	}
	b.StopTimer()
	ex = capture.Exchange{}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if kept := len(s.Exchanges(0)); kept > 0 {
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(kept), "heap-B/kept")
	}
}
