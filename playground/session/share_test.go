package session

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/corslab/corslab/playground/cors"
	"github.com/corslab/corslab/playground/scenario"
)

// recordedRun is a run a learner's page posted under load (a GET to the
// api redirected to a presigned S3 URL), with the verdict the engine gave
// it.
func recordedRun(t testing.TB) Run {
	t.Helper()
	raw, err := os.ReadFile("testdata/run.json")
	if err != nil {
		t.Fatal(err)
	}
	var r Run
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// fresh is a deep copy of v with every string made anew, as the engine
// makes each run's explanation.
func fresh(v cors.Verdict) cors.Verdict {
	out := v
	out.About = strings.Clone(v.About)
	out.Steps = make([]cors.Step, len(v.Steps), len(v.Steps)+3) // room to spare, as append leaves
	for i, s := range v.Steps {
		s.Text, s.Spec, s.Stage = strings.Clone(s.Text), strings.Clone(s.Spec), strings.Clone(s.Stage)
		out.Steps[i] = s
	}
	out.Exposed = nil
	for _, e := range v.Exposed {
		out.Exposed = append(out.Exposed, strings.Clone(e))
	}
	return out
}

// A kept run gives back, as JSON, as a frame and as a Run, exactly what
// was sent when it was added, and shares the text it repeats with the
// runs before it.
func TestKeptRunIsTheRunSent(t *testing.T) {
	st := NewStore(Options{Max: 1, Idle: time.Hour, Budget: NewBudget(1 << 30)})
	s, err := st.Create(scenario.Default())
	if err != nil {
		t.Fatal(err)
	}
	rec := recordedRun(t)
	var sent []json.RawMessage
	for i := range 3 {
		r := rec
		r.Verdict, r.Exchanges = nil, nil
		r.Browser.Body = strings.Clone(rec.Browser.Body)
		r.Request.Path = strings.Clone(rec.Request.Path)
		r.Request.Headers = map[string]string{"X-Trace": strings.Clone("1")}
		if i == 2 {
			r.Browser.Headers = append(r.Browser.Headers[:0:0], [2]string{"x-new", "only here"})
		}
		_, e := s.addRun(r, 0, func(int, int) cors.Verdict { return fresh(rec.Verdict.Verdict) })
		sent = append(sent, bytes.Clone(e.json()))
	}

	page, _ := s.RunsPage(0, 10)
	_, backlog, err := s.Subscribe(s.LastSeq(), 0)
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	for f := range backlog.All() {
		frames = append(frames, f)
	}
	runs := s.RunsAfter(0)
	if len(page) != 3 || len(frames) != 3 || len(runs) != 3 {
		t.Fatalf("kept %d runs in a page, %d in a backlog, %d as runs; want 3", len(page), len(frames), len(runs))
	}
	for i := range sent {
		if !bytes.Equal(page[i], sent[i]) {
			t.Errorf("run %d: RunsPage gives\n%s\nwant what was sent\n%s", i+1, page[i], sent[i])
		}
		if want := runPrefix + string(sent[i]) + "}"; string(frames[i]) != want {
			t.Errorf("run %d: the backlog's frame is\n%s\nwant\n%s", i+1, frames[i], want)
		}
		var decoded Run
		if err := json.Unmarshal(sent[i], &decoded); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(*runs[i], decoded) {
			t.Errorf("run %d: RunsAfter gives\n%+v\nwant the run sent\n%+v", i+1, *runs[i], decoded)
		}
	}

	// The explanation, body and headers repeated by runs 2 and 3 are the
	// first run's.
	kept := func(i int) *Run { return s.runs[i].run }
	same := func(a, b string) bool { return unsafe.StringData(a) == unsafe.StringData(b) }
	for i := 1; i < 3; i++ {
		for j, step := range kept(i).Verdict.Steps {
			if first := kept(0).Verdict.Steps[j]; !same(step.Text, first.Text) || !same(step.Spec, first.Spec) {
				t.Errorf("run %d, step %d: its text is a copy of run 1's, not run 1's", i+1, j+1)
			}
		}
		if !same(kept(i).Browser.Body, kept(0).Browser.Body) || !same(kept(i).Verdict.About, kept(0).Verdict.About) {
			t.Errorf("run %d: its body or the browser's about is a copy of run 1's", i+1)
		}
	}
	for i := 1; i < 3; i++ {
		if !same(kept(i).Request.Path, kept(0).Request.Path) {
			t.Errorf("run %d: its request's path is a copy of run 1's", i+1)
		}
		if reflect.ValueOf(kept(i).Request.Headers).UnsafePointer() != reflect.ValueOf(kept(0).Request.Headers).UnsafePointer() {
			t.Errorf("run %d: its request's headers are a copy of run 1's", i+1)
		}
	}
	if got := kept(1).Browser.Headers[0][1]; !same(got, kept(0).Browser.Headers[0][1]) {
		t.Errorf("run 2's first header value is a copy of run 1's")
	}
	if c := cap(kept(1).Verdict.Steps); c != len(kept(1).Verdict.Steps) {
		t.Errorf("a kept run's steps have room for %d, want exactly %d", c, len(kept(1).Verdict.Steps))
	}
}

// The table of shared strings is bounded: when it is full it starts
// again, and what runs already point at stays as it was.
func TestSharedStringsAreBounded(t *testing.T) {
	var tab sharedStrings
	keep := make([]string, 0, 3*maxSharedStrings)
	for i := range 3 * maxSharedStrings {
		s := strings.Repeat("x", i%7) + string(rune('a'+i%26)) + strings.Repeat("y", i/26)
		tab.share(&s)
		keep = append(keep, s)
		if len(tab.m) > maxSharedStrings || tab.bytes > maxSharedStringBytes {
			t.Fatalf("after %d strings the table holds %d strings, %d bytes", i+1, len(tab.m), tab.bytes)
		}
	}
	long := strings.Repeat("z", maxShared+1)
	tab.share(&long)
	if _, ok := tab.m[long]; ok {
		t.Errorf("a string longer than maxShared was kept")
	}
	runtime.KeepAlive(keep)
}

// BenchmarkKeepRun adds the recorded run, over two exchanges of its own,
// with an explanation made anew, as a learner repeating a request does.
// heap-B/run is the heap each run the session keeps holds on to, without
// its exchanges, which are kept apart (BenchmarkRecord counts them).
func BenchmarkKeepRun(b *testing.B) {
	st := NewStore(Options{Max: 1, Idle: time.Hour, Budget: NewBudget(1 << 30)})
	s, err := st.Create(scenario.Default())
	if err != nil {
		b.Fatal(err)
	}
	rec := recordedRun(b)
	verdict := rec.Verdict.Verdict
	rec.Verdict, rec.Exchanges = nil, nil
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ex := benchExchange()
	b.ReportAllocs()
	for b.Loop() {
		// The run's two exchanges (seqs 4 and 5 when it was recorded).
		since := s.LastSeq()
		for range 2 {
			e := ex
			s.Record(&e)
		}
		r := rec
		r.Browser.Body = strings.Clone(rec.Browser.Body)
		s.addRun(r, since, func(int, int) cors.Verdict {
			v := fresh(verdict)
			for i := range v.Steps {
				if v.Steps[i].Seq > 0 {
					v.Steps[i].Seq += since - 3
				}
			}
			return v
		})
	}
	b.StopTimer()
	s.mu.Lock()
	s.exchanges = nil // counted by BenchmarkRecord
	s.mu.Unlock()
	runtime.GC()
	runtime.ReadMemStats(&after)
	if kept := len(s.runs); kept > 0 {
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(kept), "heap-B/run")
	}
}

// Runs of the same request, each over exchanges of its own, keep one list
// of steps between them, even with another request between them, and each
// gives back its own seqs.
func TestKeptRunsShareTheirSteps(t *testing.T) {
	st := NewStore(Options{Max: 1, Idle: time.Hour, Budget: NewBudget(1 << 30)})
	s, err := st.Create(scenario.Default())
	if err != nil {
		t.Fatal(err)
	}
	ex := benchExchange()
	explain := func(seqs []uint64) cors.Verdict {
		return cors.Verdict{OK: true, Browser: "chromium", Steps: []cors.Step{
			{OK: true, Stage: "preflight", Text: strings.Clone("The preflight was allowed."), Spec: "https://fetch.spec.whatwg.org/#cors-preflight-fetch", Seq: seqs[0]},
			{OK: true, Stage: "response", Text: strings.Clone("Cross-origin: the browser applies CORS."), Spec: "https://fetch.spec.whatwg.org/#cors-protocol"},
			{OK: true, Stage: "response", Text: strings.Clone("JS reads the response."), Spec: "https://fetch.spec.whatwg.org/#cors-check", Seq: seqs[1]},
		}}
	}
	var sent []json.RawMessage
	for i := range 4 {
		since := s.LastSeq()
		for range 2 {
			e := ex
			s.Record(&e)
		}
		seqs := []uint64{since + 1, since + 2}
		if i == 2 {
			seqs[1] = since + 1 // explained differently: its own steps
		}
		_, e := s.addRun(Run{Request: scenario.Request{Headers: map[string]string{}}}, since, func(int, int) cors.Verdict { return explain(seqs) })
		sent = append(sent, bytes.Clone(e.json()))
	}
	page, _ := s.RunsPage(0, 10)
	runs := s.RunsAfter(0)
	for i := range sent {
		if !bytes.Equal(page[i], sent[i]) {
			t.Errorf("run %d: RunsPage gives\n%s\nwant what was sent\n%s", i+1, page[i], sent[i])
		}
		var decoded Run
		if err := json.Unmarshal(sent[i], &decoded); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(*runs[i], decoded) {
			t.Errorf("run %d: RunsAfter gives\n%+v\nwant the run sent\n%+v", i+1, *runs[i], decoded)
		}
		if got, want := runs[i].Verdict.Steps[2].Seq, uint64(2*i+2); i != 2 && got != want {
			t.Errorf("run %d: its last step is about exchange %d, want %d", i+1, got, want)
		}
	}
	steps := func(i int) *cors.Step { return &s.runs[i].run.Verdict.Steps[0] }
	if !s.runs[0].relative || steps(0) != steps(1) {
		t.Errorf("runs 1 and 2, explained alike, keep two lists of steps")
	}
	if steps(2) == steps(1) {
		t.Errorf("run 3, explained otherwise, shares run 2's steps")
	}
	if steps(3) != steps(0) {
		t.Errorf("run 4, explained as run 1 was before run 3, keeps a list of its own")
	}
}

// A kept run holds strings of its own, never pieces of a larger one: a
// posted run's strings are cut from the whole request body, and a run
// counted for its frame's size must not keep 256 KiB alive.
func TestKeptRunHoldsNoPieceOfThePostedBody(t *testing.T) {
	st := NewStore(Options{Max: 1, Idle: time.Hour, Budget: NewBudget(1 << 30)})
	s, err := st.Create(scenario.Default())
	if err != nil {
		t.Fatal(err)
	}
	posted := strings.Repeat("x", 256<<10) // the body the run's strings were cut from
	piece := func(from, n int) string { return posted[from : from+n] }
	r := Run{
		URL: piece(0, 40), Setup: "three-origins",
		Request: scenario.Request{From: piece(50, 3), Method: piece(60, 3), Path: piece(70, 20), Body: piece(100, 1000),
			Headers: map[string]string{piece(200, 8): piece(300, 10)}},
		Browser:    Browser{Error: piece(400, 30), URL: piece(500, 40), Body: piece(1000, 5000), Headers: [][2]string{{piece(600, 12), piece(700, 20)}}},
		Prediction: &Prediction{Stage: piece(800, 9)},
	}
	s.addRun(r, 0, nil)
	kept := s.runs[0].run
	start := uintptr(unsafe.Pointer(unsafe.StringData(posted)))
	inside := func(str string) bool {
		p := uintptr(unsafe.Pointer(unsafe.StringData(str)))
		return str != "" && p >= start && p < start+uintptr(len(posted))
	}
	for name, str := range map[string]string{
		"url": kept.URL, "request.from": kept.Request.From, "request.method": kept.Request.Method, "request.path": kept.Request.Path,
		"request.body": kept.Request.Body, "browser.error": kept.Browser.Error, "browser.url": kept.Browser.URL,
		"browser.body": kept.Browser.Body, "browser header name": kept.Browser.Headers[0][0], "browser header value": kept.Browser.Headers[0][1],
		"prediction.stage": kept.Prediction.Stage,
	} {
		if inside(str) {
			t.Errorf("the kept run's %s is a piece of the posted body", name)
		}
	}
	for k, v := range kept.Request.Headers {
		if inside(k) || inside(v) {
			t.Errorf("the kept run's request header %q is a piece of the posted body", k)
		}
	}

	// A large run is kept as its frame, a copy, and gives the run back.
	r.Browser.Body = piece(1000, 100<<10)
	s.addRun(r, 0, nil)
	if s.runs[1].run != nil {
		t.Fatalf("a run of a %d-byte frame is kept as a Run", s.runs[1].size)
	}
	runs := s.RunsAfter(1)
	if len(runs) != 1 || len(runs[0].Browser.Body) != MaxRunBody || runs[0].URL != r.URL {
		t.Errorf("the large run comes back as %d runs, body %d bytes", len(runs), len(runs[0].Browser.Body))
	}
}
