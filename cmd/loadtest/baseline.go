package main

// The baseline mode, -baseline: corslab's cost as a multiple of a minimal
// Go server's doing the same job (baseline_server.go), measured in one run.
//
// Both run as children of this program, one after the other, on the same
// machine, with the same learners (learner.go) for the same time: a round
// runs corslab and the baseline back to back, and rounds alternate which
// goes first, so that a slow drift of the machine weighs on both alike.
// Each side reports:
//
//   - CPU per learner-second: the server's user + system time from
//     /proc/<pid>/stat over the traffic, divided by the time learners were
//     there (summed over learners). CPU time is what the server itself
//     used, which another busy process on the machine barely changes;
//   - allocated bytes and allocations per request: the runtime's own
//     counters (runtime.MemStats TotalAlloc and Mallocs, exact), which both
//     servers show on their --pprof port at /debug/pprof/heap?debug=1,
//     read before and after the traffic, divided by every HTTP request and
//     websocket handshake the learners made;
//   - RSS per active session: the highest VmRSS during the traffic (read
//     every second) less the VmRSS before it, divided by the learners'
//     sessions, all of which stay active to the end;
//   - the average exchange and run frame, to show that the baseline's
//     exchange frames are corslab's size, and that its run frames carry no
//     explanation.
//
// The table gives each side's median over the rounds, and the median of
// the rounds' ratios (corslab ÷ baseline).

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"
)

// maxRounds bounds -rounds.
const maxRounds = 20

// A blSide is a server to measure: bin sub… --port N --listen 127.0.0.1 args…
type blSide struct {
	name string
	bin  string
	sub  []string
	args []string
}

// sideResult is one side of one round.
type sideResult struct {
	Server         string  `json:"server"` // its command line
	Learners       int64   `json:"learners"`
	LearnerSeconds float64 `json:"learnerSeconds"`
	Requests       int64   `json:"requests"` // HTTP requests and websocket handshakes
	WindowS        float64 `json:"windowS"`
	CPUSeconds     float64 `json:"cpuSeconds"`
	AllocBytes     uint64  `json:"allocBytes"`
	Allocs         uint64  `json:"allocs"`
	RSSBefore      int64   `json:"rssBefore"`
	RSSPeak        int64   `json:"rssPeak"`
	ExchangeFrames int64   `json:"exchangeFrames"`
	RunFrames      int64   `json:"runFrames"`
	Errors         int64   `json:"errors"` // transport, unexpected statuses, websocket drops
	Lost           int64   `json:"lost"`   // seq gaps and unaccounted requests
	OtherCores     float64 `json:"otherCores"`

	Metrics map[string]float64 `json:"metrics"` // by blMetrics' keys
}

// A blMetric is one row of the comparison.
type blMetric struct {
	key, name string
	format    string // of the value, in the table
	scale     float64
	value     func(*sideResult, *result) float64
}

var blMetrics = []blMetric{
	{"cpuMsPerLearnerS", "CPU per learner-second", "%.3f ms", 1, func(s *sideResult, _ *result) float64 {
		return 1000 * s.CPUSeconds / s.LearnerSeconds
	}},
	{"cpuUsPerRequest", "CPU per request", "%.1f µs", 1, func(s *sideResult, _ *result) float64 {
		return 1e6 * s.CPUSeconds / float64(s.Requests)
	}},
	{"allocBytesPerRequest", "allocated per request", "%.1f KiB", 1.0 / 1024, func(s *sideResult, _ *result) float64 {
		return float64(s.AllocBytes) / float64(s.Requests)
	}},
	{"allocsPerRequest", "allocations per request", "%.0f", 1, func(s *sideResult, _ *result) float64 {
		return float64(s.Allocs) / float64(s.Requests)
	}},
	{"rssMiBPerSession", "RSS per active session", "%.3f MiB", 1, func(s *sideResult, _ *result) float64 {
		return float64(s.RSSPeak-s.RSSBefore) / (1 << 20) / float64(s.Learners)
	}},
	{"exchangeFrameBytes", "exchange frame, average", "%.0f B", 1, func(_ *sideResult, r *result) float64 {
		return float64(r.Traffic.ExchangeBytes) / float64(r.Traffic.Frames)
	}},
	{"runFrameBytes", "run frame, average", "%.0f B", 1, func(_ *sideResult, r *result) float64 {
		return float64(r.Traffic.RunBytes) / float64(r.Traffic.RunFrames)
	}},
	{"requestsPerLearnerS", "requests per learner-second", "%.2f", 1, func(s *sideResult, _ *result) float64 {
		return float64(s.Requests) / s.LearnerSeconds
	}},
	{"p99Ms", "exchange → websocket p99", "%.2f ms", 1, func(_ *sideResult, r *result) float64 {
		return r.Latency.P99ms
	}},
}

// baselineResult is every number of a -baseline run.
type baselineResult struct {
	Mode      string          `json:"mode"` // baseline
	Learners  int             `json:"learners"`
	Rate      float64         `json:"ratePerLearner"`
	DurationS float64         `json:"durationS"`
	RampS     float64         `json:"rampS"`
	Cores     int             `json:"cores"`
	Rounds    []baselineRound `json:"rounds"`
	// Medians over the rounds: each side's, and of the rounds' ratios.
	Corslab  map[string]float64 `json:"corslab"`
	Baseline map[string]float64 `json:"baseline"`
	Ratio    map[string]float64 `json:"ratio"`
}

type baselineRound struct {
	First    string             `json:"first"` // which side ran first
	Corslab  *sideResult        `json:"corslabResult"`
	Baseline *sideResult        `json:"baselineResult"`
	Ratio    map[string]float64 `json:"ratio"` // corslab ÷ baseline
}

// baselineMain runs -baseline and prints its result.
func baselineMain(ctx context.Context, cfg config, stdout, stderr io.Writer) int {
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, "loadtest: "+format+"\n", args...) }
	res, err := compareBaseline(ctx, cfg, logf)
	if res != nil && len(res.Rounds) > 0 {
		if cfg.JSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			enc.Encode(res)
		} else {
			res.writeTable(stdout)
		}
	}
	if unfinished(ctx, err, stderr) {
		return 2
	}
	return 0
}

// compareBaseline builds corslab, then runs cfg.Rounds rounds of corslab
// and the baseline. It returns the rounds done so far with any error.
func compareBaseline(ctx context.Context, cfg config, logf func(string, ...any)) (*baselineResult, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("-baseline: cannot find this program to start the baseline: %v", err)
	}
	args := serverArgs(cfg)
	// Building checks corslab's flags, --pprof among them.
	bin, _, cleanup, err := buildTemp(ctx, append(slices.Clip(args), "--pprof", "127.0.0.1:1"), logf)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	sides := [2]blSide{
		{name: "corslab", bin: bin, args: args},
		{name: "baseline", bin: self, sub: []string{"baseline-server"}},
	}

	res := &baselineResult{
		Mode: "baseline", Learners: cfg.Learners, Rate: cfg.Rate,
		DurationS: cfg.Duration.Seconds(), RampS: cfg.Ramp.Seconds(), Cores: runtime.NumCPU(),
	}
	logf("%d rounds of corslab and the baseline, each %d learners × %g runs/s for %s (ramp %s)",
		cfg.Rounds, cfg.Learners, cfg.Rate, cfg.Duration, cfg.Ramp)
	for i := range cfg.Rounds {
		order := []int{0, 1}
		if i%2 == 1 {
			order = []int{1, 0}
		}
		var got [2]*sideResult
		for _, k := range order {
			s, err := measureSide(ctx, cfg, sides[k], logf)
			if err != nil {
				res.summarize()
				return res, fmt.Errorf("round %d, %s: %w", i+1, sides[k].name, err)
			}
			logf("round %d/%d, %s: %.2f s of CPU for %.0f learner-seconds and %d requests: %.3f ms per learner-second",
				i+1, cfg.Rounds, sides[k].name, s.CPUSeconds, s.LearnerSeconds, s.Requests, s.Metrics["cpuMsPerLearnerS"])
			got[k] = s
		}
		round := baselineRound{First: sides[order[0]].name, Corslab: got[0], Baseline: got[1], Ratio: map[string]float64{}}
		for _, m := range blMetrics {
			if b := got[1].Metrics[m.key]; b > 0 {
				round.Ratio[m.key] = got[0].Metrics[m.key] / b
			}
		}
		res.Rounds = append(res.Rounds, round)
	}
	res.summarize()
	return res, nil
}

// measureSide starts one side, runs the learners against it and returns
// its numbers.
func measureSide(ctx context.Context, cfg config, side blSide, logf func(string, ...any)) (*sideResult, error) {
	pprofAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	srv, err := startProgram(ctx, side.bin, side.sub, append(slices.Clip(side.args), "--pprof", pprofAddr))
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	ctx, cancel := srv.watch(ctx)
	defer cancel()

	pid := srv.pid()
	sleep(ctx, time.Second) // let start-up settle, alike for both
	before, err := readAllocs(ctx, pprofAddr)
	if err != nil {
		return nil, errors.Join(srv.exitError(), err)
	}
	mem := newMemSampler(pid)
	rssBefore := mem.sample()
	if rssBefore == 0 {
		return nil, fmt.Errorf("cannot read the server's memory: %v", mem.err)
	}
	memCtx, stopMem := context.WithCancel(ctx)
	defer stopMem()
	go mem.run(memCtx, time.Second)

	cpu := startCPU(pid)
	e := newEnv(srv.url(0), cfg.Rate, logf)
	window := crowd(ctx, e, cfg, time.Now())
	usage := cpu.usage(window)
	rssEnd := mem.sample()
	stopMem()
	after, err := readAllocs(ctx, pprofAddr)
	if err := errors.Join(srv.exitError(), err, ctx.Err()); err != nil {
		return nil, err
	}

	r := newResult(cfg)
	r.fill(e, window)
	s := &sideResult{
		Server:         side.name + " " + strings.Join(srv.args, " "),
		Learners:       r.Traffic.LearnersStarted,
		LearnerSeconds: time.Duration(e.stats.presence.Load()).Seconds(),
		Requests:       r.Traffic.Requests + r.Traffic.UIRequests,
		WindowS:        window.Seconds(),
		CPUSeconds:     usage.Server * window.Seconds(),
		AllocBytes:     after.bytes - before.bytes,
		Allocs:         after.objects - before.objects,
		RSSBefore:      rssBefore,
		RSSPeak:        max(rssEnd, mem.highest()),
		ExchangeFrames: r.Traffic.Frames,
		RunFrames:      r.Traffic.RunFrames,
		Errors:         r.Errors.Total,
		Lost:           r.Lost.Gaps + r.Lost.Unaccounted,
		OtherCores:     usage.Others,
		Metrics:        map[string]float64{},
	}
	if s.Learners == 0 || s.Requests == 0 || s.LearnerSeconds <= 0 {
		return nil, fmt.Errorf("no learner got going (%d errors): %+v", r.Errors.Total, r.Errors)
	}
	for _, m := range blMetrics {
		s.Metrics[m.key] = m.value(s, r)
	}
	return s, nil
}

// highest is the highest RSS sampled.
func (m *memSampler) highest() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var h int64
	for _, s := range m.samples {
		h = max(h, s.RSS)
	}
	return h
}

// allocCounters are the Go runtime's cumulative allocation counters.
type allocCounters struct{ bytes, objects uint64 }

// readAllocs reads TotalAlloc and Mallocs from the runtime.MemStats that
// Go's heap profile in text form ends with. It tries for up to 3 s: the
// profiler may start a little after the server.
func readAllocs(ctx context.Context, addr string) (allocCounters, error) {
	client := &http.Client{Timeout: 10 * time.Second}
	var lastErr error
	for range 30 {
		c, err := readAllocsOnce(ctx, client, "http://"+addr+"/debug/pprof/heap?debug=1")
		if err == nil || ctx.Err() != nil {
			return c, err
		}
		lastErr = err
		sleep(ctx, 100*time.Millisecond)
	}
	return allocCounters{}, fmt.Errorf("the allocation counters on --pprof %s: %v", addr, lastErr)
}

func readAllocsOnce(ctx context.Context, client *http.Client, url string) (allocCounters, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := client.Do(req)
	if err != nil {
		return allocCounters{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return allocCounters{}, errors.New(resp.Status)
	}
	var c allocCounters
	var haveBytes, haveObjects bool
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 64<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "# TotalAlloc = "); ok {
			c.bytes, err = strconv.ParseUint(v, 10, 64)
			haveBytes = err == nil
		} else if v, ok := strings.CutPrefix(line, "# Mallocs = "); ok {
			c.objects, err = strconv.ParseUint(v, 10, 64)
			haveObjects = err == nil
		}
	}
	if !haveBytes || !haveObjects {
		return c, errors.Join(sc.Err(), errors.New("no # TotalAlloc and # Mallocs lines in the heap profile"))
	}
	return c, nil
}

// freeAddr is a loopback address with a port free right now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// summarize sets the medians of the rounds.
func (r *baselineResult) summarize() {
	r.Corslab, r.Baseline, r.Ratio = map[string]float64{}, map[string]float64{}, map[string]float64{}
	if len(r.Rounds) == 0 {
		return
	}
	for _, m := range blMetrics {
		var c, b, ratio []float64
		for _, rd := range r.Rounds {
			c = append(c, rd.Corslab.Metrics[m.key])
			b = append(b, rd.Baseline.Metrics[m.key])
			if v, ok := rd.Ratio[m.key]; ok {
				ratio = append(ratio, v)
			}
		}
		r.Corslab[m.key], r.Baseline[m.key] = median(c), median(b)
		if len(ratio) > 0 {
			r.Ratio[m.key] = median(ratio)
		}
	}
}

// median of xs, which it sorts; the mean of the middle two for an even count.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// writeTable prints the comparison for people.
func (r *baselineResult) writeTable(w io.Writer) {
	fmt.Fprintf(w, "\ncorslab against the baseline, a minimal Go server doing the same job (cmd/loadtest/baseline_server.go)\n")
	fmt.Fprintf(w, "%d learners × %g runs/s for %s (ramp %s), %d rounds, each side a fresh child process; %d cores\n\n",
		r.Learners, r.Rate, seconds(r.DurationS), seconds(r.RampS), len(r.Rounds), r.Cores)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	// Every name as long as the longest: aligned right, they read as aligned left.
	width := 0
	for _, m := range blMetrics {
		width = max(width, utf8.RuneCountInString(m.name))
	}
	fmt.Fprintf(tw, "  %-*s\tcorslab\tbaseline\tratio\t\n", width, "")
	for _, m := range blMetrics {
		ratio := "–"
		if v, ok := r.Ratio[m.key]; ok {
			ratio = fmt.Sprintf("%.2f×", v)
		}
		name := m.name + strings.Repeat(" ", width-utf8.RuneCountInString(m.name))
		fmt.Fprintf(tw, "  %s\t"+m.format+"\t"+m.format+"\t%s\t\n", name, r.Corslab[m.key]*m.scale, r.Baseline[m.key]*m.scale, ratio)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nmedians over the rounds; a ratio is the median of the rounds' corslab ÷ baseline. CPU is the server's\n")
	fmt.Fprintf(w, "user + system time (/proc); allocations are Go's runtime counters; RSS is the peak during the traffic\n")
	fmt.Fprintf(w, "less the RSS before it. The baseline's run frames carry no explanation: it has no CORS engine.\n\n")

	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  round\tfirst\tCPU ms/learner-s\tCPU µs/request\tKiB/request\tMiB/session\tother cores\terrors, lost\t\n")
	var problems, busy, unequal bool
	for i, rd := range r.Rounds {
		c, b := rd.Corslab, rd.Baseline
		cell := func(key, format string, scale float64) string {
			return fmt.Sprintf(format+" / "+format+" = %.2f×", c.Metrics[key]*scale, b.Metrics[key]*scale, rd.Ratio[key])
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\t%.2f / %.2f\t%d, %d / %d, %d\t\n", i+1, rd.First,
			cell("cpuMsPerLearnerS", "%.3f", 1), cell("cpuUsPerRequest", "%.0f", 1),
			cell("allocBytesPerRequest", "%.1f", 1.0/1024), cell("rssMiBPerSession", "%.3f", 1),
			c.OtherCores, b.OtherCores, c.Errors, c.Lost, b.Errors, b.Lost)
		problems = problems || c.Errors+c.Lost+b.Errors+b.Lost > 0
		busy = busy || max(c.OtherCores, b.OtherCores) > 0.2
		if rate := rd.Ratio["requestsPerLearnerS"]; rate < 0.9 || rate > 1.1 {
			unequal = true
		}
	}
	tw.Flush()
	if problems {
		fmt.Fprintf(w, "WARNING: errors or lost events (corslab / baseline above): a side that did not serve every request is not comparable; see -json\n")
	}
	if unequal {
		fmt.Fprintf(w, "WARNING: in a round, the learners got over 10%% more requests done against one side than the other: compare CPU per request\n")
	}
	if busy {
		fmt.Fprintf(w, "note: other processes were busy (other cores, corslab / baseline): a server on a busy machine spends less CPU\n"+
			"per request (more work per wake-up) and gets fewer requests; pairing and medians keep the ratios fair\n")
	}
}
