package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// run sets up the server, runs the test cfg describes and returns its
// result. A result may come with an error: the numbers so far.
func run(ctx context.Context, cfg config, logw, progress io.Writer) (res *result, err error) {
	logf := func(format string, args ...any) { fmt.Fprintf(logw, "loadtest: "+format+"\n", args...) }
	res = newResult(cfg)
	ui, pid := cfg.Target, cfg.PID

	if cfg.Target == "" {
		args := serverArgs(cfg)
		bin, _, cleanup, err := buildTemp(ctx, args, logf)
		if err != nil {
			return nil, err
		}
		defer cleanup()
		if cfg.Startups > 0 {
			logf("measuring start-up, %d times", cfg.Startups)
			ports, healthy, cpu, err := measureStartups(ctx, bin, args, cfg.Startups)
			if err != nil {
				return nil, err
			}
			res.Startup = newStartup(ports, healthy, cpu)
		}
		srv, err := startServer(ctx, bin, args)
		if err != nil {
			return nil, err
		}
		defer func() { res.ServerLog = newServerLog(srv.output) }() // after stop: its last words too
		defer srv.stop()
		ui, pid = srv.url(0), srv.pid()
		res.Server = "corslab " + strings.Join(srv.args, " ")
		res.PID = pid

		// A server that dies under load ends the test, and says why.
		outer := ctx
		var cancel context.CancelFunc
		ctx, cancel = srv.watch(ctx)
		defer cancel()
		defer func() {
			if outer.Err() == nil { // not Ctrl-C, which reaches the server too
				err = errors.Join(err, srv.exitError())
			}
		}()
	} else {
		res.Server = cfg.Target
		res.PID = pid
		if err := checkHealth(ctx, ui); err != nil {
			return nil, err
		}
	}

	var mem *memSampler
	if pid > 0 {
		mem = newMemSampler(pid)
		if mem.sample() == 0 {
			return nil, fmt.Errorf("cannot read the server's memory: %v", mem.err)
		}
		memCtx, stopMem := context.WithCancel(ctx)
		defer stopMem()
		go mem.run(memCtx, time.Second)
	}

	e := newEnv(ui, cfg.Rate, logf)
	if cfg.Idle > 0 {
		idle, err := measureIdle(ctx, e, cfg.Idle, mem, logf)
		res.Idle = idle
		res.Errors = e.stats.errors()
		res.OwnAddresses = e.ownAddrs.Load()
		return res, err
	}

	startRSS := int64(0)
	if mem != nil {
		startRSS = mem.sample()
	}
	cpu := startCPU(pid)
	logf("%d learners, %g runs/s each, for %s (ramp %s)", cfg.Learners, cfg.Rate, cfg.Duration, cfg.Ramp)

	start := time.Now()
	stopProgress := watchProgress(ctx, cfg, e, mem, start, res, progress)
	window := crowd(ctx, e, cfg, start)
	stopProgress()

	res.fill(e, window)
	if mem != nil {
		endRSS := mem.sample()
		res.RSS = &rssResult{Start: startRSS, Peak: mem.peakRSS(), End: endRSS}
		if base := mem.at(start.Add(cfg.RSSBaseline)); base > 0 {
			res.RSS.Baseline = base
			res.RSS.BaselineAfterS = cfg.RSSBaseline.Seconds()
			res.RSS.GrowthPct = 100 * float64(endRSS-base) / float64(base)
		}
	}
	res.CPU = cpu.usage(window)
	return res, nil
}

// serverArgs are the flags for the corslab the test starts, beyond --port
// and --listen: -server-flags, and room for every session the test opens.
func serverArgs(cfg config) []string {
	args := append([]string{}, cfg.ServerFlags...)
	// Learners who leave keep their session until it expires; a test
	// should not hit the default cap of 2000 by accident.
	need := cfg.Idle + 2*cfg.Learners + 100
	if need > 2000 && !hasFlag(args, "max-sessions") {
		args = append(args, "--max-sessions", strconv.Itoa(need))
	}
	return args
}

// checkHealth makes sure a -target answers.
func checkHealth(ctx context.Context, ui string) error {
	req, _ := http.NewRequestWithContext(ctx, "GET", ui+"/healthz", nil)
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("-target: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("-target: GET /healthz answered %s: is this a corslab?", resp.Status)
	}
	return nil
}

// crowd runs cfg.Learners places, which fill up spread over the ramp, until
// cfg.Duration after start. With lifetimes, a learner leaves when its time
// is up and a new one takes the place, unless less than the shortest stay
// is left. It returns how long the traffic lasted.
func crowd(ctx context.Context, e *env, cfg config, start time.Time) time.Duration {
	end := start.Add(cfg.Duration)
	var wg sync.WaitGroup
	for i := range cfg.Learners {
		arrive := start.Add(cfg.Ramp * time.Duration(i) / time.Duration(cfg.Learners))
		wg.Go(func() {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(arrive)):
			}
			for ctx.Err() == nil && time.Now().Before(end) {
				if cfg.LifeMax > 0 && time.Until(end) < cfg.LifeMin {
					return // too late to arrive: the place stays empty
				}
				until := end
				if cfg.LifeMax > 0 {
					life := cfg.LifeMin + rand.N(cfg.LifeMax-cfg.LifeMin+1)
					if t := time.Now().Add(life); t.Before(end) {
						until = t
					}
				}
				l := newLearner(e)
				l.live(ctx, until)
				if cfg.LifeMax == 0 {
					return // no one takes the place of a learner who failed
				}
				if l.id == "" { // failed: do not spin
					select {
					case <-ctx.Done():
					case <-time.After(time.Second):
					}
				}
			}
		})
	}
	wg.Wait()
	return min(time.Since(start), cfg.Duration)
}

// watchProgress prints a line every cfg.Progress while the learners run,
// and in a soak keeps the RSS of every minute. It returns a function that
// stops it.
func watchProgress(ctx context.Context, cfg config, e *env, mem *memSampler, start time.Time, res *result, w io.Writer) (stop func()) {
	if cfg.Progress <= 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(cfg.Progress)
		defer t.Stop()
		s := e.stats
		var lastReq, lastRuns int64
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			elapsed := time.Since(start).Round(time.Second)
			req := s.requests.Load() + s.uiRequests.Load()
			runs := s.runsPosted.Load()
			line := fmt.Sprintf("%8s  learners %d (%d came, %d failed)  req/s %.0f  runs/s %.0f  frames %d  p99 %.1f ms  errors %d  lost %d",
				elapsed, s.present.Load(), s.learners.Load(), s.learnersFailed.Load(),
				float64(req-lastReq)/cfg.Progress.Seconds(), float64(runs-lastRuns)/cfg.Progress.Seconds(),
				s.frames.Load(), s.latency.summary().P99ms, s.errors().Total, s.gaps.Load()+s.unaccounted.Load())
			lastReq, lastRuns = req, runs
			if mem != nil {
				rss := mem.sample()
				line += fmt.Sprintf("  RSS %s", mib(rss))
				if cfg.Soak {
					res.mu.Lock()
					res.RSSProgress = append(res.RSSProgress, rssPoint{elapsed.Seconds(), rss})
					res.mu.Unlock()
				}
			}
			fmt.Fprintln(w, line)
		}
	}()
	return func() { cancel(); <-done }
}

// measureIdle creates n sessions without traffic or websockets, each from
// its own address, and reports the server's RSS increase per session.
func measureIdle(ctx context.Context, e *env, n int, mem *memSampler, logf func(string, ...any)) (*idleResult, error) {
	if mem == nil {
		return nil, errors.New("-idle: needs the server's RSS: let loadtest start the server, or give -pid with -target")
	}
	const settle = 3 * time.Second
	sleep(ctx, settle)
	before := mem.sample()
	logf("creating %d idle sessions", n)
	var created atomic.Int64
	jobs := make(chan struct{})
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range jobs {
				l := newLearner(e)
				// No body: the default scenario, as a new lab has.
				if l.openSession(ctx, nil) == nil {
					created.Add(1)
				}
				l.client.CloseIdleConnections()
			}
		})
	}
	for range n {
		select {
		case jobs <- struct{}{}:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	sleep(ctx, settle)
	after := mem.sample()
	r := &idleResult{Sessions: n, Created: created.Load(), RSSBefore: before, RSSAfter: after, SettleS: settle.Seconds()}
	if r.Created > 0 {
		r.BytesPerSession = float64(after-before) / float64(r.Created)
	}
	return r, ctx.Err()
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
