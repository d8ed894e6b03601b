package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// result is every number a test produced. The JSON is for scripts; the
// table for people.
type result struct {
	Mode   string `json:"mode"`   // load, soak or idle
	Server string `json:"server"` // the command line, or the -target
	PID    int    `json:"pid,omitempty"`

	Learners     int     `json:"learners"`
	Rate         float64 `json:"ratePerLearner"`
	DurationS    float64 `json:"durationS"`
	RampS        float64 `json:"rampS"`
	LifeMinS     float64 `json:"lifeMinS,omitempty"`
	LifeMaxS     float64 `json:"lifeMaxS,omitempty"`
	OwnAddresses bool    `json:"ownAddresses"` // each learner dialled from its own 127.0.x.y

	Startup *startupResult `json:"startup,omitempty"`
	Traffic trafficResult  `json:"traffic"`
	// Latency is from an exchange's start (when the request reached the
	// server) to its frame arriving on the learner's websocket.
	Latency summary `json:"latency"`
	// Fetch and RunPost are client-side response times: of each request
	// to a virtual origin, and of POST /runs.
	Fetch       summary     `json:"fetch"`
	RunPost     summary     `json:"runPost"`
	Errors      errorCounts `json:"errors"`
	Lost        lostResult  `json:"lost"`
	RSS         *rssResult  `json:"rss,omitempty"`
	CPU         cpuUsage    `json:"cpu"`                   // during the traffic
	RSSProgress []rssPoint  `json:"rssProgress,omitempty"` // soak only: at every progress line
	Idle        *idleResult `json:"idle,omitempty"`
	ServerLog   *serverLog  `json:"serverLog,omitempty"`

	mu sync.Mutex // guards RSSProgress while the test runs
}

type startupResult struct {
	Runs int `json:"runs"`
	// From exec to all five ports accepting TCP connections…
	MedianMs float64 `json:"medianMs"`
	MaxMs    float64 `json:"maxMs"`
	// …and to the first 200 from GET /healthz.
	HealthyMedianMs float64 `json:"healthyMedianMs"`
	HealthyMaxMs    float64 `json:"healthyMaxMs"`
	// …and the CPU time (user + system) the server had used by then.
	CPUMedianMs float64 `json:"cpuMedianMs"`
	CPUMaxMs    float64 `json:"cpuMaxMs"`
}

type trafficResult struct {
	LearnersStarted int64 `json:"learnersStarted"`
	LearnersFailed  int64 `json:"learnersFailed"`
	Sequences       int64 `json:"sequences"`
	Requests        int64 `json:"requests"`   // to the virtual origins
	UIRequests      int64 `json:"uiRequests"` // JSON API and websocket handshakes
	RunsPosted      int64 `json:"runsPosted"`
	RunFrames       int64 `json:"runFrames"`
	ScenarioPuts    int64 `json:"scenarioPuts"`
	Disagreements   int64 `json:"engineDisagreements"` // runs the engine judged otherwise than our browser
	Frames          int64 `json:"exchangeFrames"`
	ExchangeBytes   int64 `json:"exchangeFrameBytes"` // their total size
	RunBytes        int64 `json:"runFrameBytes"`
	Notices         int64 `json:"notices"` // the server told a page it is being limited
	// Rates over the traffic's duration.
	RequestsPerS        float64 `json:"requestsPerS"` // all HTTP requests
	VirtualPerS         float64 `json:"virtualRequestsPerS"`
	RunsPerS            float64 `json:"runsPerS"`
	PerLearnerRequestsS float64 `json:"perLearnerRequestsPerS"` // what one address sends
}

type lostResult struct {
	Gaps        int64 `json:"seqGaps"`     // exchange seqs missing from a learner's stream
	Unaccounted int64 `json:"unaccounted"` // answered requests minus distinct frames, after a drain
	DupFrames   int64 `json:"duplicateFrames"`
	BadFrames   int64 `json:"badFrames"`
}

type rssResult struct {
	Start          int64   `json:"start"`
	Peak           int64   `json:"peak"` // VmHWM: the peak over the server's life
	End            int64   `json:"end"`
	Baseline       int64   `json:"baseline"` // at BaselineAfterS into the traffic
	BaselineAfterS float64 `json:"baselineAfterS"`
	GrowthPct      float64 `json:"growthPct"` // End against Baseline
}

type rssPoint struct {
	AtS float64 `json:"atS"`
	RSS int64   `json:"rss"`
}

type idleResult struct {
	Sessions        int     `json:"sessions"`
	Created         int64   `json:"created"`
	RSSBefore       int64   `json:"rssBefore"`
	RSSAfter        int64   `json:"rssAfter"`
	SettleS         float64 `json:"settleS"`
	BytesPerSession float64 `json:"bytesPerSession"`
}

type serverLog struct {
	Warnings int      `json:"warnings"`
	Errors   int      `json:"errors"`
	First    []string `json:"first,omitempty"`
}

func newResult(cfg config) *result {
	r := &result{
		Mode: "load", Learners: cfg.Learners, Rate: cfg.Rate,
		DurationS: cfg.Duration.Seconds(), RampS: cfg.Ramp.Seconds(),
		LifeMinS: cfg.LifeMin.Seconds(), LifeMaxS: cfg.LifeMax.Seconds(),
	}
	r.CPU.Cores = runtime.NumCPU()
	switch {
	case cfg.Idle > 0:
		r.Mode = "idle"
	case cfg.Soak:
		r.Mode = "soak"
	}
	return r
}

func newStartup(ports, healthy, cpu []time.Duration) *startupResult {
	return &startupResult{
		Runs:     len(ports),
		MedianMs: ms(ports[len(ports)/2]), MaxMs: ms(ports[len(ports)-1]),
		HealthyMedianMs: ms(healthy[len(healthy)/2]), HealthyMaxMs: ms(healthy[len(healthy)-1]),
		CPUMedianMs: ms(cpu[len(cpu)/2]), CPUMaxMs: ms(cpu[len(cpu)-1]),
	}
}

func newServerLog(t *tail) *serverLog {
	warns, errs, first := t.problems()
	return &serverLog{Warnings: warns, Errors: errs, First: first}
}

// fill copies the learners' counts into r; window is how long the traffic
// lasted.
func (r *result) fill(e *env, window time.Duration) {
	s := e.stats
	r.OwnAddresses = e.ownAddrs.Load()
	t := &r.Traffic
	t.LearnersStarted, t.LearnersFailed = s.learners.Load(), s.learnersFailed.Load()
	t.Sequences, t.Requests, t.UIRequests = s.sequences.Load(), s.requests.Load(), s.uiRequests.Load()
	t.RunsPosted, t.RunFrames, t.ScenarioPuts = s.runsPosted.Load(), s.runFrames.Load(), s.scenarioPuts.Load()
	t.Disagreements = s.disagreements.Load()
	t.Frames, t.Notices = s.frames.Load(), s.notices.Load()
	t.ExchangeBytes, t.RunBytes = s.exchangeBytes.Load(), s.runBytes.Load()
	if sec := window.Seconds(); sec > 0 {
		t.RequestsPerS = float64(t.Requests+t.UIRequests) / sec
		t.VirtualPerS = float64(t.Requests) / sec
		t.RunsPerS = float64(t.RunsPosted) / sec
		if t.LearnersStarted > 0 {
			// Learners were not all there all the time (ramp, churn): this
			// is the rate of one learner while browsing, from the config.
			t.PerLearnerRequestsS = float64(t.Requests+t.UIRequests) / float64(max(t.Sequences, 1)) * r.Rate
		}
	}
	r.Latency, r.Fetch, r.RunPost = s.latency.summary(), s.fetch.summary(), s.runPost.summary()
	r.Errors = s.errors()
	r.Lost = lostResult{Gaps: s.gaps.Load(), Unaccounted: s.unaccounted.Load(), DupFrames: s.dupFrames.Load(), BadFrames: s.badFrames.Load()}
}

func (r *result) writeJSON(w io.Writer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(r)
}

// writeTable prints the result for people.
func (r *result) writeTable(w io.Writer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(w, "\ncorslab %s test: %s\n", r.Mode, r.Server)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(name, format string, args ...any) {
		fmt.Fprintf(tw, "  %s\t"+format+"\n", append([]any{name}, args...)...)
	}
	if s := r.Startup; s != nil {
		row("start-up", "median %.1f ms, max %.1f ms over %d runs (exec → 5 ports accept); first /healthz 200: median %.1f ms, max %.1f ms, after %.1f ms of CPU (median; max %.1f ms)",
			s.MedianMs, s.MaxMs, s.Runs, s.HealthyMedianMs, s.HealthyMaxMs, s.CPUMedianMs, s.CPUMaxMs)
	}
	if i := r.Idle; i != nil {
		row("idle sessions", "%d created of %d, no traffic, no websocket", i.Created, i.Sessions)
		row("server RSS", "%s before, %s after (%.0f s settle each)", mib(i.RSSBefore), mib(i.RSSAfter), i.SettleS)
		row("per session", "%.1f KiB of RSS", i.BytesPerSession/1024)
		tw.Flush()
		r.writeLog(w)
		return
	}
	t := &r.Traffic
	addrs := "each from its own 127.0.x.y"
	if !r.OwnAddresses {
		addrs = "all from 127.0.0.1"
	}
	life := ""
	if r.LifeMaxS > 0 {
		life = fmt.Sprintf(", each staying %s to %s", seconds(r.LifeMinS), seconds(r.LifeMaxS))
	}
	row("learners", "%d places × %g runs/s for %s (ramp %s%s), %s", r.Learners, r.Rate, seconds(r.DurationS), seconds(r.RampS), life, addrs)
	row("", "%d learners came, %d failed to start", t.LearnersStarted, t.LearnersFailed)
	row("traffic", "%.0f req/s: %.0f to virtual origins, %.0f to the UI API; %.1f runs/s; %.1f req/s per learner",
		t.RequestsPerS, t.VirtualPerS, t.RequestsPerS-t.VirtualPerS, t.RunsPerS, t.PerLearnerRequestsS)
	row("", "%d requests, %d UI requests, %d runs posted (the engine disagreed with %d), %d run frames, %d scenario changes",
		t.Requests, t.UIRequests, t.RunsPosted, t.Disagreements, t.RunFrames, t.ScenarioPuts)
	row("exchange → websocket", "%s  (%d frames)", r.Latency, r.Latency.Count)
	if t.Frames > 0 && t.RunFrames > 0 {
		row("", "frames average %.1f KiB (exchange) and %.1f KiB (run); the server keeps up to 1000 and 200 of them a session",
			float64(t.ExchangeBytes)/float64(t.Frames)/1024, float64(t.RunBytes)/float64(t.RunFrames)/1024)
	}
	row("request time", "%s", r.Fetch)
	row("POST /runs time", "%s", r.RunPost)
	e := &r.Errors
	row("errors", "%d: %d transport, %d unexpected status (429: %d, 5xx: %d), %d websocket drops (%d reconnected)",
		e.Total, e.Transport, e.Unexpected, e.Status429, e.Status5xx, e.WSDrops, e.WSReconnects)
	for _, k := range e.UnexpectedKinds[:min(len(e.UnexpectedKinds), 8)] {
		row("", "%d × %s → %d", k.Count, k.What, k.Status)
	}
	for _, k := range topKinds(e.TransportKinds, 8) {
		row("", "%d × %s", e.TransportKinds[k], k)
	}
	for _, k := range topKinds(e.WSDropCauses, 4) {
		row("", "%d × websocket %s", e.WSDropCauses[k], k)
	}
	if t.Notices > 0 {
		row("", "%d rate-limit notices on websockets", t.Notices)
	}
	row("lost events", "%d seq gaps, %d unaccounted after the drain (%d duplicate, %d unreadable frames)",
		r.Lost.Gaps, r.Lost.Unaccounted, r.Lost.DupFrames, r.Lost.BadFrames)
	if m := r.RSS; m != nil {
		row("server RSS", "start %s, peak %s, end %s", mib(m.Start), mib(m.Peak), mib(m.End))
		if m.BaselineAfterS > 0 {
			row("", "end is %+.1f%% against %s at %s into the traffic", m.GrowthPct, mib(m.Baseline), seconds(m.BaselineAfterS))
		}
		row("CPU", "of %d cores, on average: server %.2f, loadtest %.2f, other processes %.2f",
			r.CPU.Cores, r.CPU.Server, r.CPU.Loadtest, r.CPU.Others)
	} else {
		row("server RSS", "unknown: give -pid with -target")
		row("CPU", "of %d cores, on average: loadtest %.2f, the server and other processes %.2f",
			r.CPU.Cores, r.CPU.Loadtest, r.CPU.Others)
	}
	if r.RSS != nil && r.CPU.Others > 0.2 {
		row("", "WARNING: other processes took %.2f cores from the server and the load test: the latencies are pessimistic", r.CPU.Others)
	}
	tw.Flush()
	r.writeLog(w)
}

func (r *result) writeLog(w io.Writer) {
	if l := r.ServerLog; l != nil && l.Warnings+l.Errors > 0 {
		fmt.Fprintf(w, "  server log: %d warnings, %d errors; the first:\n", l.Warnings, l.Errors)
		for _, line := range l.First {
			fmt.Fprintf(w, "    %.300s\n", line)
		}
	}
}

func (s summary) String() string {
	return fmt.Sprintf("p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.1f ms", s.P50ms, s.P90ms, s.P99ms, s.MaxMs)
}

// check returns the limits the result exceeds.
func (r *result) check(cfg config) []string {
	var fails []string
	if cfg.MaxP99 > 0 && r.Latency.P99ms > ms(cfg.MaxP99) {
		fails = append(fails, fmt.Sprintf("p99 %.2f ms > -max-p99 %s", r.Latency.P99ms, cfg.MaxP99))
	}
	if cfg.MaxErrors >= 0 && r.Errors.Total > cfg.MaxErrors {
		fails = append(fails, fmt.Sprintf("%d errors > -max-errors %d", r.Errors.Total, cfg.MaxErrors))
	}
	if lost := r.Lost.Gaps + r.Lost.Unaccounted; cfg.MaxLost >= 0 && lost > cfg.MaxLost {
		fails = append(fails, fmt.Sprintf("%d lost events > -max-lost %d", lost, cfg.MaxLost))
	}
	if cfg.MaxRSSGrowth >= 0 {
		switch {
		case r.RSS == nil:
			fails = append(fails, "-max-rss-growth: the server's RSS is unknown")
		case r.RSS.GrowthPct > cfg.MaxRSSGrowth:
			fails = append(fails, fmt.Sprintf("RSS grew %.1f%% > -max-rss-growth %g%%", r.RSS.GrowthPct, cfg.MaxRSSGrowth))
		}
	}
	return fails
}

// topKinds returns the n most frequent keys of m.
func topKinds(m map[string]int64, n int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		return cmp.Or(cmp.Compare(m[b], m[a]), strings.Compare(a, b))
	})
	return keys[:min(n, len(keys))]
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func seconds(s float64) string { return (time.Duration(s * float64(time.Second))).String() }
