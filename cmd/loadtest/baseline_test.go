package main

import (
	"context"
	"encoding/json"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/pprof"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// corslabFrameBytes are the sizes of corslab's exchange frames for the
// learner's five requests, with the learner dialling from 127.0.1.1 and
// corslab on five-digit ports. Measured on 2026-12-05 from the corslab of
// commit ab51f50 (go build ., ports 31000-31004), by reading one learner's
// websocket through three sequences. TestBaselineFramesMatchCorslab
// measures them afresh when it can build corslab.
var corslabFrameBytes = map[string]int{
	"api GET /users":           2154,
	"api OPTIONS /users/1":     1988,
	"api PUT /users/1":         2138,
	"api GET /files/hello.txt": 2579,
	"s3 GET /hello.txt":        2948,
}

// startTestBaseline serves the baseline in this process, on five ports the
// system picks, until the test ends; it returns the ui origin.
func startTestBaseline(t *testing.T) string {
	t.Helper()
	var ls [5]net.Listener
	for i := range ls {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls[i] = l
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveBaseline(ctx, ls) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serveBaseline: %v", err)
		}
	})
	return "http://" + ls[0].Addr().String()
}

// TestBaselineServesTheLearners runs a few learners against the baseline,
// the way -baseline runs them: every request must get the status the
// learner expects of corslab, and every exchange its frame, in seq order.
func TestBaselineServesTheLearners(t *testing.T) {
	ui := startTestBaseline(t)
	e := newEnv(ui, 6, t.Logf)
	cfg := config{Learners: 4, Rate: 6, Duration: 2500 * time.Millisecond, Ramp: 200 * time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	crowd(ctx, e, cfg, time.Now())

	s := e.stats
	if errs := s.errors(); errs.Total != 0 || s.learnersFailed.Load() != 0 {
		t.Errorf("%d errors, %d learners failed: %+v", errs.Total, s.learnersFailed.Load(), errs)
	}
	if s.gaps.Load()+s.unaccounted.Load()+s.dupFrames.Load()+s.badFrames.Load() != 0 {
		t.Errorf("%d seq gaps, %d unaccounted, %d duplicate and %d bad frames: want none",
			s.gaps.Load(), s.unaccounted.Load(), s.dupFrames.Load(), s.badFrames.Load())
	}
	if s.frames.Load() == 0 || s.frames.Load() != s.requests.Load() {
		t.Errorf("%d exchange frames for %d requests", s.frames.Load(), s.requests.Load())
	}
	// A learner leaves once its exchanges are in: its last run's frame may
	// still be on the way.
	runs, runFrames := s.runsPosted.Load(), s.runFrames.Load()
	if runs == 0 || runs != s.sequences.Load() || runFrames > runs || runFrames < runs-int64(cfg.Learners) {
		t.Errorf("%d sequences, %d runs posted, %d run frames: want as many (less one a learner), more than 0", s.sequences.Load(), runs, runFrames)
	}
	if s.scenarioPuts.Load() == 0 {
		t.Error("no scenario change: every tenth run should make one")
	}
	if s.presence.Load() <= 0 || s.learners.Load() != int64(cfg.Learners) {
		t.Errorf("%d learners, presence %s", s.learners.Load(), time.Duration(s.presence.Load()))
	}
}

// TestBaselineSeqAndSince follows one learner's frames: exchanges numbered
// 1, 2, 3…, runs listing their exchanges, and a second websocket with
// since= and runsSince= getting exactly what came after.
func TestBaselineSeqAndSince(t *testing.T) {
	ui := startTestBaseline(t)
	l, frames := scriptedLearner(t, ui, 3) // GET, preflighted PUT, signed-URL redirect

	var seqs []uint64
	var runs []struct {
		ID        int64    `json:"id"`
		Exchanges []uint64 `json:"exchanges"`
	}
	for _, f := range frames {
		h, err := parseFrame(f)
		if err != nil {
			t.Fatalf("frame %.100s: %v", f, err)
		}
		switch h.Type {
		case "exchange":
			seqs = append(seqs, h.Seq)
		case "run":
			var doc struct {
				Run struct {
					ID        int64    `json:"id"`
					Exchanges []uint64 `json:"exchanges"`
				} `json:"run"`
			}
			json.Unmarshal(f, &doc)
			runs = append(runs, doc.Run)
		}
	}
	if want := []uint64{1, 2, 3, 4, 5}; !slices.Equal(seqs, want) {
		t.Errorf("exchange seqs %v, want %v", seqs, want)
	}
	wantRuns := [][]uint64{{1}, {2, 3}, {4, 5}}
	if len(runs) != len(wantRuns) {
		t.Fatalf("%d run frames, want %d", len(runs), len(wantRuns))
	}
	for i, r := range runs {
		if r.ID != int64(i+1) || !slices.Equal(r.Exchanges, wantRuns[i]) {
			t.Errorf("run frame %d: id %d, exchanges %v; want %d, %v", i, r.ID, r.Exchanges, i+1, wantRuns[i])
		}
	}

	// A reconnect after exchange 2 and run 1 gets 3, 4, 5 and runs 2, 3.
	l.lastSeq.Store(2)
	l.lastRun.Store(1)
	conn, err := l.dialWS(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var got []string
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for len(got) < 5 {
		_, data, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		h, _ := parseFrame(data)
		switch h.Type {
		case "exchange":
			got = append(got, "exchange "+strconv.FormatUint(h.Seq, 10))
		case "run":
			got = append(got, "run "+strconv.FormatInt(h.RunID, 10))
		}
	}
	if want := "exchange 3, exchange 4, exchange 5, run 2, run 3"; strings.Join(got, ", ") != want {
		t.Errorf("replay %s, want %s", strings.Join(got, ", "), want)
	}
}

// TestBaselineFrameSizes checks that the baseline's exchange frames are
// the size of corslab's, as recorded in corslabFrameBytes, within 10%.
func TestBaselineFrameSizes(t *testing.T) {
	ui := startTestBaseline(t)
	_, frames := scriptedLearner(t, ui, 3)
	compareFrameSizes(t, frameSizes(t, frames), corslabFrameBytes)
}

// TestBaselineFramesMatchCorslab builds and starts corslab, runs the same
// learner against it and against the baseline, and compares the frames.
func TestBaselineFramesMatchCorslab(t *testing.T) {
	if testing.Short() {
		t.Skip("builds corslab")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH: cannot build corslab")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bin, _, cleanup, err := buildTemp(ctx, nil, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	srv, err := startServer(ctx, bin, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.stop()
	_, corslabFrames := scriptedLearner(t, srv.url(0), 3)
	corslab := frameSizes(t, corslabFrames)
	for key, n := range corslab {
		if rec, ok := corslabFrameBytes[key]; !ok || math.Abs(float64(n-rec)) > 0.02*float64(rec) {
			t.Logf("corslab's %s frame is %d bytes now; corslabFrameBytes says %d: update it", key, n, rec)
		}
	}
	_, baselineFrames := scriptedLearner(t, startTestBaseline(t), 3)
	compareFrameSizes(t, frameSizes(t, baselineFrames), corslab)
}

// scriptedLearner opens a session on the ui origin as a learner does,
// watches it, runs n sequences one after the other, and returns the
// learner and the frames its websocket received, in order.
func scriptedLearner(t *testing.T, ui string, n int) (*learner, [][]byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e := newEnv(ui, 1, t.Logf)
	l := newLearner(e)
	defer l.client.CloseIdleConnections()
	if err := l.openSession(ctx, learnerScenario(false)); err != nil {
		t.Fatal(err)
	}
	conn, err := l.dialWS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var frames [][]byte
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				return
			}
			l.handleFrame(data, time.Now())
			mu.Lock()
			frames = append(frames, data)
			mu.Unlock()
		}
	}()
	// Each sequence starts once the last one's frames are in, so that its
	// since, and the exchanges its run lists, are known.
	for i := range n {
		l.sequence(ctx)
		deadline := time.Now().Add(3 * time.Second)
		for (l.received.Load() < l.expected.Load() || l.lastRun.Load() < int64(i+1)) && time.Now().Before(deadline) {
			time.Sleep(2 * time.Millisecond)
		}
	}
	conn.Close()
	<-done
	if errs := e.stats.errors(); errs.Total != 0 {
		t.Errorf("%s: %d errors: %+v", ui, errs.Total, errs)
	}
	if got, want := l.received.Load(), l.expected.Load(); got != want || want == 0 {
		t.Errorf("%s: %d exchange frames for %d requests", ui, got, want)
	}
	return l, frames
}

// frameSizes returns the size of each exchange frame, by origin, method
// and path within the session.
func frameSizes(t *testing.T, frames [][]byte) map[string]int {
	t.Helper()
	sizes := map[string]int{}
	for _, data := range frames {
		var f struct {
			Type     string `json:"type"`
			Exchange struct {
				Origin  string `json:"origin"`
				Request struct {
					Method string `json:"method"`
					Target string `json:"target"`
				} `json:"request"`
			} `json:"exchange"`
		}
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatalf("frame %.100s: %v", data, err)
		}
		if f.Type != "exchange" {
			continue
		}
		path, _, _ := strings.Cut(f.Exchange.Request.Target, "?")
		_, path, _ = strings.Cut(strings.TrimPrefix(path, "/"), "/") // less the session id
		sizes[f.Exchange.Origin+" "+f.Exchange.Request.Method+" /"+path] = len(data)
	}
	return sizes
}

func compareFrameSizes(t *testing.T, got, want map[string]int) {
	t.Helper()
	for key, w := range want {
		g, ok := got[key]
		switch {
		case !ok:
			t.Errorf("no %s exchange frame; got %v", key, got)
		case math.Abs(float64(g-w)) > 0.10*float64(w):
			t.Errorf("%s frame: %d bytes, want %d ± 10%%", key, g, w)
		default:
			t.Logf("%s frame: %d bytes against %d", key, g, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("frames for %v, want %v", got, want)
	}
}

// TestReadAllocs reads the counters from Go's own heap profile handler,
// as both servers serve it on --pprof.
func TestReadAllocs(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	ts := httptest.NewServer(mux)
	defer ts.Close()
	addr := strings.TrimPrefix(ts.URL, "http://")
	ctx := context.Background()
	a, err := readAllocs(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	sink := make([][]byte, 0, 100)
	for range 100 {
		sink = append(sink, make([]byte, 1000))
	}
	b, err := readAllocs(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	if b.objects-a.objects < 100 || b.bytes-a.bytes < 100_000 || len(sink) != 100 {
		t.Errorf("100 allocations of 1000 bytes: counters went from %+v to %+v", a, b)
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		xs   []float64
		want float64
	}{
		{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got := median(tc.xs); got != tc.want {
			t.Errorf("median(%v) = %g, want %g", tc.xs, got, tc.want)
		}
	}
}
