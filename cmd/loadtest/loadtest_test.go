package main

import (
	"bytes"
	"context"
	"io"
	"math"
	"os/exec"
	"testing"
	"time"
)

// TestTinyLoad builds corslab, starts it, and runs five learners for two
// seconds: nothing may be lost, and every number must be there.
func TestTinyLoad(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH: loadtest needs it to build corslab")
	}
	cfg := config{
		Learners: 5, Rate: 2, Duration: 2 * time.Second, Ramp: 200 * time.Millisecond,
		Startups: 1, MaxErrors: -1, MaxLost: -1, MaxRSSGrowth: -1,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var log bytes.Buffer
	res, err := run(ctx, cfg, &log, io.Discard)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, log.String())
	}
	var table bytes.Buffer
	res.writeTable(&table)
	t.Log(table.String())

	if lost := res.Lost.Gaps + res.Lost.Unaccounted; lost != 0 {
		t.Errorf("%d lost events, want 0", lost)
	}
	if res.Latency.Count == 0 || res.Latency.Count != uint64(res.Traffic.Frames) {
		t.Errorf("latency count %d, frames %d: want the same, more than 0", res.Latency.Count, res.Traffic.Frames)
	}
	if res.Traffic.Frames != res.Traffic.Requests {
		t.Errorf("%d exchange frames for %d requests", res.Traffic.Frames, res.Traffic.Requests)
	}
	if res.RSS == nil || res.RSS.Start <= 0 || res.RSS.Peak < res.RSS.Start {
		t.Errorf("RSS %+v: want start > 0 and peak >= start", res.RSS)
	}
	if res.Errors.Total != 0 || res.Traffic.LearnersFailed != 0 {
		t.Errorf("%d errors, %d learners failed: %+v", res.Errors.Total, res.Traffic.LearnersFailed, res.Errors)
	}
	if res.Traffic.RunsPosted == 0 || res.Traffic.Disagreements != 0 {
		t.Errorf("%d runs posted, the engine disagreed with %d: want some, and none", res.Traffic.RunsPosted, res.Traffic.Disagreements)
	}
	if res.Startup == nil || res.Startup.MedianMs <= 0 {
		t.Errorf("start-up %+v", res.Startup)
	}
	if !res.OwnAddresses {
		t.Log("learners could not dial from 127.0.x.y on this machine")
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	for us := 1; us <= 100_000; us++ {
		h.record(time.Duration(us) * time.Microsecond)
	}
	for _, q := range []float64{0.5, 0.9, 0.99} {
		want := q * 100_000
		got := float64(h.quantile(q).Microseconds())
		if math.Abs(got-want)/want > 0.03 {
			t.Errorf("quantile(%g) = %g µs, want %g ± 3%%", q, got, want)
		}
	}
	if s := h.summary(); s.Count != 100_000 || s.MaxMs != 100 {
		t.Errorf("summary %+v", s)
	}
	// Every bucket's range starts right after the previous one's.
	for i := 1; i < histBuckets; i++ {
		lo, _ := bucketRange(i)
		_, prevHi := bucketRange(i - 1)
		if lo != prevHi+1 || bucketOf(lo) != i {
			t.Fatalf("bucket %d starts at %d, after %d", i, lo, prevHi)
		}
	}
	if bucketOf(histMaxUs) != histBuckets-1 {
		t.Errorf("the largest value falls in bucket %d of %d", bucketOf(histMaxUs), histBuckets)
	}
}

func TestParseFrame(t *testing.T) {
	start := time.Date(2026, 11, 23, 7, 1, 2, 123456000, time.UTC)
	for _, tc := range []struct {
		frame string
		want  frameHead
	}{
		{`{"type":"exchange","exchange":{"seq":7,"origin":"api","kind":"cors","client":"127.0.0.1:1","start":"2026-11-23T07:01:02.123456Z","request":{}}}`,
			frameHead{Type: "exchange", Seq: 7, Start: start}},
		{`{"type":"run","run":{"id":3,"at":"x"}}`, frameHead{Type: "run", RunID: 3}},
		{`{"type":"notice","text":"slow down"}`, frameHead{Type: "notice"}},
		// Laid out otherwise: the full decoder takes over.
		{`{"exchange":{"request":{"method":"GET"},"start":"2026-11-23T07:01:02.123456Z","seq":8},"type":"exchange"}`,
			frameHead{Type: "exchange", Seq: 8, Start: start}},
	} {
		got, err := parseFrame([]byte(tc.frame))
		if err != nil || got.Type != tc.want.Type || got.Seq != tc.want.Seq || !got.Start.Equal(tc.want.Start) || got.RunID != tc.want.RunID {
			t.Errorf("parseFrame(%s) = %+v, %v; want %+v", tc.frame, got, err, tc.want)
		}
	}
	if _, err := parseFrame([]byte(`{"type":`)); err == nil {
		t.Error("a truncated frame parsed")
	}
}

func TestLoopbackTarget(t *testing.T) {
	for raw, want := range map[string]string{
		"http://127.0.0.1:8080":     "http://127.0.0.1:8080",
		"http://localhost:8080/":    "http://127.0.0.1:8080",
		"http://127.1.2.3:9000":     "http://127.1.2.3:9000",
		"http://[::1]:8080":         "http://[::1]:8080",
		"http://192.168.1.2:80":     "",
		"http://example.com:80":     "",
		"https://127.0.0.1:8080":    "",
		"http://127.0.0.1":          "",
		"http://127.0.0.1:8080/lab": "",
	} {
		got, err := loopbackTarget(raw)
		if got != want || (err == nil) != (want != "") {
			t.Errorf("loopbackTarget(%q) = %q, %v; want %q", raw, got, err, want)
		}
	}
}
