// Command loadtest simulates a classroom of learners against a corslab and
// reports how it holds up: how long an exchange takes to reach the
// learner's websocket, errors, lost events, the server's memory and its
// start-up time.
//
//	go run ./cmd/loadtest                       300 learners, 2 runs/s each, 30 s
//	go run ./cmd/loadtest -learners 1000 -json  one JSON object for scripts
//	go run ./cmd/loadtest -soak                 100 coming and going, 30 min
//	go run ./cmd/loadtest -idle 1000            the memory of an idle session
//	go run ./cmd/loadtest -abuse -check         every attack of issue 12 at once, 60 s (abuse.go)
//	go run ./cmd/loadtest -baseline             corslab against a minimal Go server, 3 paired rounds (baseline.go)
//	go run ./cmd/loadtest baseline-server       that minimal server alone, on ports 9000-9004
//	go run ./cmd/loadtest -target http://127.0.0.1:8080 -pid 1234
//
// By default it builds corslab from the module it runs in and starts it on
// free ports; -target tests one already running. Each learner creates a
// session, watches it on a websocket, and runs request sequences the way
// the lab's browser does: a simple GET, a preflighted PUT, a redirect to a
// signed S3 URL, each followed by POST /runs. Each learner dials from its
// own loopback address, 127.0.x.y, so that per-address rate limits see a
// classroom rather than one machine. It only ever talks to loopback.
//
// What it reports:
//
//   - latency: from an exchange's start (when the request reached the
//     server) to its frame arriving on the learner's websocket, for every
//     exchange frame, in a fixed-size histogram (3% resolution);
//   - errors: transport errors, unexpected statuses by request (429 and
//     5xx apart), websocket drops (each reconnects with since=<last seq>);
//   - lost events: seq gaps in a learner's stream, and the answered
//     requests (other than a rate limiter's 429, which is not captured)
//     minus the distinct frames received, after a drain of up to 2 s;
//   - the server's RSS (VmRSS, and VmHWM for the peak), sampled every
//     second, and its CPU, the load test's and other processes';
//   - achieved request and run rates. A learner runs its next sequence
//     when the previous one is done: a slow server gets fewer requests
//     than asked for, so compare the achieved rates with the target.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Bounds, so that no typo runs for a day or opens a million sockets.
const (
	maxLearners = 5000
	maxDuration = 2 * time.Hour
	maxIdle     = 20000
)

// config is one load test.
type config struct {
	Target      string   // the ui origin of a running corslab; "" to build and start one
	PID         int      // the target's process id, for its RSS; 0 if unknown
	ServerFlags []string // extra flags for the corslab we start

	Learners         int
	Rate             float64 // runs a second, per learner
	Duration, Ramp   time.Duration
	LifeMin, LifeMax time.Duration // a learner's stay; 0: the whole run
	Startups         int           // start-up measurements
	Idle             int           // > 0: the idle-session mode, with that many sessions
	Soak             bool
	RSSBaseline      time.Duration // RSS growth is measured from this long into the traffic

	JSON     bool
	Progress time.Duration // how often to print progress; 0: never

	// Limits that make the exit code 1 (CI); negative or zero: none.
	MaxP99       time.Duration
	MaxErrors    int64
	MaxLost      int64
	MaxRSSGrowth float64 // percent

	// Passed to the corslab the test starts, and checked against its
	// --help first: "" and 0 leave the server's defaults.
	MemoryBudget string // a size, 256MiB or 1GiB, as given
	MaxSessions  int

	// The abuse mode (abuse.go).
	Abuse     bool
	AbuseFrom string // one, many or both
	Check     bool   // exit code 1 when a bound of issue 12 breaks
	RSSAbort  string // a size: stop the attack when the server's RSS passes it; "" for the default

	// The baseline mode (baseline.go).
	Baseline bool
	Rounds   int
}

func main() {
	os.Exit(mainCode(os.Args[1:], os.Stdout, os.Stderr))
}

// mainCode runs the load test and returns the exit code: 0, 1 when a
// limit was exceeded, 2 when the test could not be set up or run.
func mainCode(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "baseline-server" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return baselineServerMain(ctx, args[1:], stdout, stderr)
	}
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cfg.Abuse {
		return abuseMain(ctx, cfg, stdout, stderr)
	}
	if cfg.Baseline {
		return baselineMain(ctx, cfg, stdout, stderr)
	}

	// Progress lines go where the human table goes, unless stdout is for JSON.
	progress := stdout
	if cfg.JSON {
		progress = stderr
	}
	res, err := run(ctx, cfg, stderr, progress)
	if res != nil {
		if cfg.JSON {
			res.writeJSON(stdout)
		} else {
			res.writeTable(stdout)
		}
	}
	if unfinished(ctx, err, stderr) {
		return 2
	}
	if failures := res.check(cfg); len(failures) > 0 {
		for _, f := range failures {
			fmt.Fprintln(stderr, "loadtest: FAIL:", f)
		}
		return 1
	}
	return 0
}

// unfinished says on stderr why a test did not finish, if it did not: it
// could not be set up or run (err), or it was interrupted (ctx is done).
func unfinished(ctx context.Context, err error, stderr io.Writer) bool {
	switch {
	case err != nil:
		fmt.Fprintln(stderr, "loadtest:", err)
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "loadtest: interrupted; the numbers above are partial")
	default:
		return false
	}
	return true
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	var serverFlags string
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Target, "target", "", "test the corslab running at this ui `URL` (loopback only) instead of building and starting one")
	fs.IntVar(&cfg.PID, "pid", 0, "with -target: the server's process `id`, to report its RSS")
	fs.StringVar(&serverFlags, "server-flags", "", "extra `flags` for the corslab the test starts, split at spaces, e.g. \"--ip-rate 0\"")
	fs.IntVar(&cfg.Learners, "learners", 300, "`number` of simultaneous learners (at most 5000)")
	fs.Float64Var(&cfg.Rate, "rate", 2, "request sequences (runs) a `second`, per learner")
	fs.DurationVar(&cfg.Duration, "duration", 30*time.Second, "how `long` the learners browse (at most 2h)")
	fs.DurationVar(&cfg.Ramp, "ramp", 5*time.Second, "learners arrive spread over this `long` (at most a quarter of -duration unless given)")
	fs.DurationVar(&cfg.LifeMin, "life-min", 0, "with -life-max: a learner stays at least this `long`, then leaves, and a new one arrives")
	fs.DurationVar(&cfg.LifeMax, "life-max", 0, "a learner stays a random time up to this `long` (0: the whole test)")
	fs.IntVar(&cfg.Startups, "startups", 5, "start the server this many `times` to measure its start-up (0: skip; not with -target)")
	fs.IntVar(&cfg.Idle, "idle", 0, "idle-session mode: create this `many` sessions without traffic and report the RSS each costs")
	fs.BoolVar(&cfg.Soak, "soak", false, "soak preset: 100 learners at 1 run/s for 30m, each staying 1m to 5m, sessions expiring after 1m idle; RSS every minute")
	fs.DurationVar(&cfg.RSSBaseline, "rss-baseline", 0, "measure RSS growth from this `long` into the traffic (-soak: 5m)")
	fs.BoolVar(&cfg.JSON, "json", false, "print one JSON object with every number instead of the table")
	fs.DurationVar(&cfg.Progress, "progress", 10*time.Second, "print a progress line this `often` (-soak: 1m; 0: never)")
	fs.DurationVar(&cfg.MaxP99, "max-p99", 0, "fail (exit code 1) if the exchange→websocket p99 exceeds this `duration`")
	fs.Int64Var(&cfg.MaxErrors, "max-errors", -1, "fail if transport errors, unexpected statuses and websocket drops exceed this `number`")
	fs.Int64Var(&cfg.MaxLost, "max-lost", -1, "fail if lost events (seq gaps plus unaccounted requests) exceed this `number`")
	fs.Float64Var(&cfg.MaxRSSGrowth, "max-rss-growth", -1, "fail if the server's RSS at the end exceeds its RSS at -rss-baseline by more than this `percent`")
	fs.StringVar(&cfg.MemoryBudget, "memory-budget", "", "pass --memory-budget `size` (such as 256MiB or 1GiB) to the corslab the test starts (default: the server's own, 1GiB or a quarter of the machine's memory)")
	fs.IntVar(&cfg.MaxSessions, "max-sessions", 0, "pass --max-sessions `N` to the corslab the test starts (default: the server's own, or room for every learner)")
	fs.BoolVar(&cfg.Abuse, "abuse", false, "abuse mode: every attack of issue 12 at once for -duration (default 60s), from one and from many loopback addresses, next to -learners honest learners (default 3)")
	fs.StringVar(&cfg.AbuseFrom, "abuse-from", "both", "with -abuse: where the attacks come `from`: one (one address), many, or both at once")
	fs.BoolVar(&cfg.Check, "check", false, "with -abuse: fail (exit code 1) when a bound breaks: peak RSS over the budget + 256 MiB, an honest learner who cannot create a session or waits over 1 s (p99), a crash or a panic")
	fs.StringVar(&cfg.RSSAbort, "rss-abort", "", "with -abuse: stop the attack early when the server's RSS passes this `size`, to protect the machine (default: 4 × (budget + 256MiB), at most half the machine's memory)")
	fs.BoolVar(&cfg.Baseline, "baseline", false, "baseline mode: run the learners against corslab and against a minimal Go server doing the same job, -rounds times each, paired, for -duration (default 15s) each, and print both servers' CPU per learner-second, allocations per request, RSS per session and the ratios")
	fs.IntVar(&cfg.Rounds, "rounds", 3, "with -baseline: `rounds` of corslab and the baseline (1 to 20); each ratio is the median of the rounds'")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: go run ./cmd/loadtest [flags]\n       go run ./cmd/loadtest baseline-server [--port 9000]\n\nSimulates learners against a corslab and reports latency, errors, lost events, memory and start-up time.\nWith -abuse, attacks it with every attack of issue 12 at once, next to a few honest learners.\nWith -baseline, compares corslab with a minimal Go server doing the same job (baseline-server).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q (see -help)", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	cfg.ServerFlags = strings.Fields(serverFlags)
	for _, f := range []struct {
		name, value string
	}{{"memory-budget", cfg.MemoryBudget}, {"max-sessions", strconv.Itoa(cfg.MaxSessions)}} {
		if hasFlag(cfg.ServerFlags, f.name) {
			return cfg, fmt.Errorf("-server-flags: give --%s as -%s, so that the test knows it", f.name, f.name)
		}
		if set[f.name] && f.value != "" && f.value != "0" {
			cfg.ServerFlags = append(cfg.ServerFlags, "--"+f.name, f.value)
		}
	}

	if cfg.Baseline && !set["duration"] {
		cfg.Duration = 15 * time.Second // two sides × 3 rounds stay within two minutes
	}
	if !set["ramp"] {
		cfg.Ramp = min(cfg.Ramp, cfg.Duration/4) // short tests get a short ramp
	}
	if cfg.Soak {
		// The preset fills in what was not given explicitly.
		preset := func(name string, apply func()) {
			if !set[name] {
				apply()
			}
		}
		preset("learners", func() { cfg.Learners = 100 })
		preset("rate", func() { cfg.Rate = 1 })
		preset("duration", func() { cfg.Duration = 30 * time.Minute })
		preset("life-min", func() { cfg.LifeMin = time.Minute })
		preset("life-max", func() { cfg.LifeMax = 5 * time.Minute })
		preset("rss-baseline", func() { cfg.RSSBaseline = 5 * time.Minute })
		preset("progress", func() { cfg.Progress = time.Minute })
		// Learners leave; their sessions must expire for RSS to flatten.
		if cfg.Target == "" && !hasFlag(cfg.ServerFlags, "session-idle") {
			cfg.ServerFlags = append(cfg.ServerFlags, "--session-idle", "1m")
		}
	}
	if cfg.Abuse {
		abusePreset(&cfg, set)
	}
	return cfg, cfg.validate()
}

func (cfg *config) validate() error {
	switch {
	case cfg.Learners < 1 || cfg.Learners > maxLearners:
		return fmt.Errorf("-learners: must be 1 to %d, got %d", maxLearners, cfg.Learners)
	case !(cfg.Rate > 0 && cfg.Rate <= 50):
		return fmt.Errorf("-rate: must be more than 0 and at most 50 runs a second, got %g", cfg.Rate)
	case cfg.Duration <= 0 || cfg.Duration > maxDuration:
		return fmt.Errorf("-duration: must be more than 0 and at most %s, got %s", maxDuration, cfg.Duration)
	case cfg.Ramp < 0 || cfg.Ramp > cfg.Duration:
		return fmt.Errorf("-ramp: must be from 0 to -duration, got %s", cfg.Ramp)
	case cfg.LifeMin < 0 || cfg.LifeMax < 0 || cfg.LifeMax > 0 && cfg.LifeMin > cfg.LifeMax:
		return fmt.Errorf("-life-min, -life-max: need 0 <= min <= max, got %s and %s", cfg.LifeMin, cfg.LifeMax)
	case cfg.LifeMax > 0 && cfg.LifeMin == 0:
		return errors.New("-life-max: needs -life-min too, more than 0")
	case cfg.Startups < 0 || cfg.Startups > 50:
		return fmt.Errorf("-startups: must be 0 to 50, got %d", cfg.Startups)
	case cfg.Idle < 0 || cfg.Idle > maxIdle:
		return fmt.Errorf("-idle: must be 0 to %d, got %d", maxIdle, cfg.Idle)
	case cfg.RSSBaseline < 0 || cfg.RSSBaseline > cfg.Duration:
		return fmt.Errorf("-rss-baseline: must be from 0 to -duration, got %s", cfg.RSSBaseline)
	case cfg.PID != 0 && cfg.Target == "":
		return errors.New("-pid: only with -target (the server the test starts is measured anyway)")
	case cfg.PID < 0:
		return errors.New("-pid: must be a process id")
	case cfg.Progress < 0:
		return errors.New("-progress: must be 0 (never) or more")
	case cfg.MaxSessions < 0:
		return errors.New("-max-sessions: must be 1 or more (0: the server's default)")
	case (cfg.MemoryBudget != "" || cfg.MaxSessions > 0) && cfg.Target != "":
		return errors.New("-memory-budget, -max-sessions: only for the server the test starts, not with -target")
	}
	if cfg.MemoryBudget != "" {
		if _, err := parseSize(cfg.MemoryBudget); err != nil {
			return fmt.Errorf("-memory-budget: %v", err)
		}
	}
	if cfg.Baseline {
		switch {
		case cfg.Rounds < 1 || cfg.Rounds > maxRounds:
			return fmt.Errorf("-rounds: must be 1 to %d, got %d", maxRounds, cfg.Rounds)
		case cfg.Target != "" || cfg.Idle > 0 || cfg.Soak || cfg.Abuse:
			return errors.New("-baseline: starts both servers itself and runs learners; not with -target, -idle, -soak or -abuse")
		}
	}
	if err := cfg.validateAbuse(); err != nil {
		return err
	}
	if cfg.Target != "" {
		t, err := loopbackTarget(cfg.Target)
		if err != nil {
			return fmt.Errorf("-target: %v", err)
		}
		cfg.Target = t
		if len(cfg.ServerFlags) > 0 {
			return errors.New("-server-flags: only for the server the test starts, not with -target")
		}
	}
	return nil
}

// loopbackTarget checks -target: an http URL of this machine's loopback
// interface with a port, and returns its origin. localhost becomes
// 127.0.0.1, so that learners can dial from 127.0.x.y.
func loopbackTarget(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	if u.Scheme != "http" || u.Port() == "" || strings.Trim(u.Path, "/") != "" {
		return "", fmt.Errorf("want the ui origin, such as http://127.0.0.1:8080, got %q", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		host = "127.0.0.1"
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return "", fmt.Errorf("%q is not a loopback address: loadtest only loads this machine", u.Hostname())
	}
	return "http://" + net.JoinHostPort(host, u.Port()), nil
}

// hasFlag reports whether args set the named flag, as -name or --name,
// with its value after = or as the next argument.
func hasFlag(args []string, name string) bool {
	for _, a := range args {
		a = strings.TrimLeft(a, "-")
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}
