package main

// The abuse mode, -abuse: issue 12's attacks, all at once, against a
// corslab this program starts, next to a few honest learners. It reports
// what the server kept (RSS), what it refused, whether it crashed, and what
// the honest learners saw; with -check it fails when one of issue 12's
// bounds breaks:
//
//   - the server's peak RSS stays under the memory budget plus 256 MiB;
//   - an honest learner can always create a session, and gets its answers
//     (create-session, each request, each posted run, each exchange on its
//     websocket) within 1 s at the 99th percentile, with no errors;
//   - the server neither exits nor logs a panic (a recovered one too).
//
// The attacks come from one loopback address (127.0.0.2: one laptop) and
// from many (127.0.0.10 to 127.0.0.254: a room, or a botnet) at once; the
// honest learners each have their own 127.0.x.y (x ≥ 1), as in the load
// test. abuse_attacks.go has the attacks, abuse_honest.go the honest
// learners, abuse_report.go the report and the checks.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/corslab/corslab/playground/bytesize"
	"github.com/corslab/corslab/playground/machine"
)

// Issue 12's bounds. They are constants on purpose: a flag would make it
// too easy to pass by asking for less.
const (
	rssSlack     = 256 << 20   // RSS stays under the budget plus this
	learnerBound = time.Second // an honest learner's answers, at p99
)

// Bounds on the abuse mode itself.
const (
	maxHonest    = 50
	maxAbuseTime = 30 * time.Minute
)

// abusePreset fills in what the abuse mode needs and was not given: three
// honest learners at the load test's 2 runs a second, for 60 s, all there
// from the start, and no start-up measurement.
func abusePreset(cfg *config, set map[string]bool) {
	preset := func(name string, apply func()) {
		if !set[name] {
			apply()
		}
	}
	preset("learners", func() { cfg.Learners = 3 })
	preset("duration", func() { cfg.Duration = 60 * time.Second })
	preset("ramp", func() { cfg.Ramp = 0 })
	preset("startups", func() { cfg.Startups = 0 })
}

// validateAbuse checks the flags of the abuse mode, and that the others
// do not clash with it.
func (cfg *config) validateAbuse() error {
	if !cfg.Abuse {
		if cfg.Check || cfg.RSSAbort != "" || cfg.AbuseFrom != "both" {
			return errors.New("-check, -rss-abort, -abuse-from: only with -abuse")
		}
		return nil
	}
	switch {
	case cfg.Target != "" || cfg.PID != 0:
		return errors.New("-abuse: starts its own corslab (it watches the server's log for panics and its exit): drop -target and -pid")
	case cfg.Soak || cfg.Idle > 0:
		return errors.New("-abuse: not with -soak or -idle")
	case cfg.Learners > maxHonest:
		return fmt.Errorf("-learners: with -abuse, the honest learners: at most %d, got %d", maxHonest, cfg.Learners)
	case cfg.Duration > maxAbuseTime:
		return fmt.Errorf("-duration: with -abuse, at most %s, got %s", maxAbuseTime, cfg.Duration)
	case cfg.AbuseFrom != "one" && cfg.AbuseFrom != "many" && cfg.AbuseFrom != "both":
		return fmt.Errorf("-abuse-from: one, many or both, got %q", cfg.AbuseFrom)
	}
	if cfg.RSSAbort != "" {
		if _, err := parseSize(cfg.RSSAbort); err != nil {
			return fmt.Errorf("-rss-abort: %v", err)
		}
	}
	return nil
}

// parseSize reads a size as corslab's --memory-budget does.
func parseSize(s string) (int64, error) { return bytesize.Parse(s) }

// budgetOf returns the memory budget the server runs with: -memory-budget,
// or the default the server's --help gives (helpDefault). given says
// whether it was -memory-budget.
func budgetOf(cfg config, helpDefault string) (budget int64, given bool, err error) {
	if cfg.MemoryBudget != "" {
		b, err := parseSize(cfg.MemoryBudget)
		return b, true, err
	}
	b, err := parseSize(helpDefault)
	if err != nil {
		return 0, false, fmt.Errorf("the server's --help gives no default for --memory-budget (%v): pass -memory-budget", err)
	}
	return b, false, nil
}

// abortLimit is the RSS at which the attack stops early, before it takes
// the machine down with it: -rss-abort, or four times the bound, at most
// half the machine's memory, and never below the bound itself.
func abortLimit(cfg config, bound int64) (int64, error) {
	if cfg.RSSAbort != "" {
		return parseSize(cfg.RSSAbort)
	}
	limit := 4 * bound
	if total, err := machine.Memory(); err == nil {
		limit = min(limit, total/2)
	}
	return max(limit, bound+rssSlack), nil
}

// flagLine is a flag as Go's flag package lists it in -help: two spaces,
// a dash, the name; flagDefault ends its usage with the default.
var (
	flagLine    = regexp.MustCompile(`^  -([A-Za-z0-9][A-Za-z0-9_-]*)`)
	flagDefault = regexp.MustCompile(`\(default "?([^()"]*)"?\)$`)
)

// serverFlags runs bin --help and returns the flags it lists, each with
// its default ("" when the help gives none).
func serverFlags(ctx context.Context, bin string) (map[string]string, error) {
	out, _ := exec.CommandContext(ctx, bin, "--help").CombinedOutput() // it may exit 0 or 2: the listing is what counts
	flags := parseFlagHelp(string(out))
	if len(flags) == 0 {
		return nil, fmt.Errorf("%s --help listed no flags:\n%s", bin, lastLines(string(out), 10))
	}
	return flags, nil
}

// parseFlagHelp reads the flags, and their defaults, from what Go's
// flag.PrintDefaults writes: "  -name type" and the usage on the next
// lines, indented further, ending "(default value)".
func parseFlagHelp(help string) map[string]string {
	flags := map[string]string{}
	name, usage := "", ""
	done := func() {
		if name != "" {
			if m := flagDefault.FindStringSubmatch(strings.TrimSpace(usage)); m != nil {
				flags[name] = m[1]
			}
		}
	}
	for line := range strings.SplitSeq(help, "\n") {
		if m := flagLine.FindStringSubmatch(line); m != nil {
			done()
			name, usage = m[1], ""
			flags[name] = ""
			continue
		}
		if name != "" && strings.HasPrefix(line, "    ") {
			usage += " " + strings.TrimSpace(line)
		}
	}
	done()
	return flags
}

// unknownFlags returns the flags args set that known does not list, in
// order, each once.
func unknownFlags(args []string, known map[string]string) []string {
	var unknown []string
	name := regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			continue // a value
		}
		n, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if _, ok := known[n]; name.MatchString(n) && !ok && !slices.Contains(unknown, n) {
			unknown = append(unknown, n)
		}
	}
	return unknown
}

// checkServerFlags fails, with a message naming each, when args set a flag
// the server does not know (known, from serverFlags): better than the
// server's own one-line refusal in the middle of a start-up error.
func checkServerFlags(known map[string]string, args []string) error {
	unknown := unknownFlags(args, known)
	if len(unknown) == 0 {
		return nil
	}
	var list []string
	for n := range known {
		list = append(list, "--"+n)
	}
	slices.Sort(list)
	var msgs []string
	for _, n := range unknown {
		how := "drop it from -server-flags"
		if n == "memory-budget" || n == "max-sessions" {
			how = "drop -" + n
		}
		msgs = append(msgs, fmt.Sprintf("the corslab built from this tree has no --%s flag (%s, or update the server)", n, how))
	}
	return fmt.Errorf("%s; its flags are: %s", strings.Join(msgs, "; "), strings.Join(list, " "))
}

// Where attacks dial from. Linux routes all of 127.0.0.0/8 to the loopback
// interface, so each address is a client of its own to the server's
// per-address limits. Honest learners use 127.0.x.y with x ≥ 1 (sourceIP),
// so no attacker shares their addresses.
var (
	oneAddr     = net.IPv4(127, 0, 0, 2) // every attack "from one address"
	controlAddr = net.IPv4(127, 0, 0, 9) // the honest cross-site navigation
)

const manyFirst, manyCount = 10, 245 // 127.0.0.10 to 127.0.0.254

// manyAddr is the n-th address of the many, cycling.
func manyAddr(n int) net.IP { return net.IPv4(127, 0, 0, byte(manyFirst+n%manyCount)) }

// source is where an attack's connections come from: one address, or the
// next of the many for each caller.
type source struct {
	name string // "one" or "many"
	next func() net.IP
}

func sources(from string, nextMany func() int) []source {
	one := source{"one", func() net.IP { return oneAddr }}
	many := source{"many", func() net.IP { return manyAddr(nextMany()) }}
	switch from {
	case "one":
		return []source{one}
	case "many":
		return []source{many}
	}
	return []source{one, many}
}

// abuseMain runs the abuse mode and returns the exit code: 0, 1 when -check
// found a broken bound, 2 when the test could not be set up.
func abuseMain(ctx context.Context, cfg config, stdout, stderr io.Writer) int {
	progress := stdout
	if cfg.JSON {
		progress = stderr
	}
	res, err := runAbuse(ctx, cfg, stderr, progress)
	if res != nil {
		res.Failures = append([]string{}, res.check()...) // [] rather than null in the JSON
		if cfg.JSON {
			res.writeJSON(stdout)
		} else {
			res.writeTable(stdout, cfg.Check)
		}
	}
	if unfinished(ctx, err, stderr) {
		return 2
	}
	if cfg.Check && len(res.Failures) > 0 {
		for _, f := range res.Failures {
			fmt.Fprintln(stderr, "loadtest: FAIL:", f)
		}
		return 1
	}
	return 0
}

// runAbuse builds and starts corslab, runs the attacks and the honest
// learners for cfg.Duration, and returns what happened.
func runAbuse(ctx context.Context, cfg config, logw, progress io.Writer) (*abuseResult, error) {
	logf := func(format string, args ...any) { fmt.Fprintf(logw, "loadtest: "+format+"\n", args...) }
	args := serverArgs(cfg)
	bin, known, cleanup, err := buildTemp(ctx, args, logf)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	budget, given, err := budgetOf(cfg, known["memory-budget"])
	if err != nil {
		return nil, err
	}
	abortAt, err := abortLimit(cfg, budget+rssSlack)
	if err != nil {
		return nil, err
	}
	srv, err := startServer(ctx, bin, args)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	res := newAbuseResult(cfg, budget, given, abortAt)
	res.Server = "corslab " + strings.Join(srv.args, " ")
	res.PID = srv.pid()
	res.MaxSessions, _ = flagValue(srv.args, "max-sessions")
	if res.MaxSessions == 0 {
		res.MaxSessions, _ = strconv.Atoi(known["max-sessions"]) // the server's default
	}

	// A server that dies ends the attack; the report says so.
	ctx, cancel := srv.watch(ctx)
	defer cancel()

	mem := newMemSampler(srv.pid())
	if mem.sample() == 0 {
		return nil, fmt.Errorf("cannot read the server's memory: %v", mem.err)
	}
	ui := srv.url(0)
	if err := checkSourceAddrs(ctx, ui); err != nil {
		return nil, err
	}
	a, err := newAbuser(ctx, ui)
	if err != nil {
		return nil, err
	}
	h := newHonest(ui, cfg.Rate, logf)

	res.RSS.Start = mem.sample()
	cpu := startCPU(srv.pid())
	srcs := sources(cfg.AbuseFrom, func() int { return int(a.nextMany.Add(1) - 1) })
	var from []string
	for _, s := range srcs {
		from = append(from, s.name)
	}
	logf("every attack at once from %s, %d honest learners, for %s; the server's budget is %s, the bound %s",
		strings.Join(from, " and "), cfg.Learners, cfg.Duration, mib(budget), mib(budget+rssSlack))

	start := time.Now()
	end := start.Add(cfg.Duration)
	attackCtx, stopAttack := context.WithDeadline(ctx, end)
	defer stopAttack()
	valve := make(chan struct{})
	go func() { // the safety valve, 4 times a second
		defer close(valve)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-attackCtx.Done():
				return
			case <-t.C:
			}
			if rss := mem.sample(); rss > abortAt {
				res.Aborted = fmt.Sprintf("stopped after %s: the server's RSS, %s, passed the safety limit %s (-rss-abort)",
					time.Since(start).Round(100*time.Millisecond), mib(rss), mib(abortAt))
				logf("%s", res.Aborted)
				stopAttack()
				return
			}
		}
	}()
	stopProgress := a.watchProgress(attackCtx, cfg.Progress, start, mem, h, progress)

	var wg sync.WaitGroup
	for i := range attacks {
		for _, src := range srcs {
			wg.Go(func() { attacks[i].run(attackCtx, strike{a, &attacks[i], src}) })
		}
	}
	for range cfg.Learners {
		wg.Go(func() { h.learner(attackCtx, end) })
	}
	wg.Go(func() { h.navigate(attackCtx, ui) })
	wg.Wait()
	stopAttack()
	<-valve // res.Aborted is written
	stopProgress()
	window := min(time.Since(start), cfg.Duration)

	res.ElapsedS = window.Seconds()
	res.RSS.End = mem.sample()
	res.RSS.Peak = mem.peakRSS()
	res.CPU = cpu.usage(window)
	select {
	case <-srv.exited:
		res.Crash.Exited = true
		res.Crash.State = srv.cmd.ProcessState.String()
		res.Crash.LastLines = lastLines(srv.output.String(), 20)
	default:
	}
	srv.stop() // before reading its log: its last words too
	res.Crash.Panics, res.Crash.FirstPanic = srv.output.panicLines()
	res.ServerLog = newServerLog(srv.output)
	res.fill(a, h)
	return res, nil
}

// flagValue returns the number args give a flag, if they do.
func flagValue(args []string, name string) (int, bool) {
	for i, a := range args {
		a = strings.TrimLeft(a, "-")
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			n, err := strconv.Atoi(v)
			return n, err == nil
		}
		if a == name && i+1 < len(args) {
			n, err := strconv.Atoi(args[i+1])
			return n, err == nil
		}
	}
	return 0, false
}

// checkSourceAddrs makes sure this machine lets us dial from the attack
// addresses: without them there is no "one" and "many".
func checkSourceAddrs(ctx context.Context, ui string) error {
	addr := strings.TrimPrefix(ui, "http://")
	for _, ip := range []net.IP{oneAddr, controlAddr, manyAddr(0), sourceIP(0)} {
		d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: ip}}
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			if errors.Is(err, syscall.EADDRNOTAVAIL) {
				return fmt.Errorf("cannot dial from %s (%v): -abuse needs the whole of 127.0.0.0/8 on the loopback interface, as Linux has it", ip, err)
			}
			return err
		}
		c.Close()
	}
	return nil
}

// watchProgress prints a line every interval while the attack runs. It
// returns a function that stops it.
func (a *abuser) watchProgress(ctx context.Context, interval time.Duration, start time.Time, mem *memSampler, h *honest, w io.Writer) (stop func()) {
	if interval <= 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		var lastSent int64
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			tot := a.totals()
			hs := h.summary()
			fmt.Fprintf(w, "%8s  RSS %s (peak %s)  attack req/s %.0f  refused %d  attacker sessions %d  honest: %d of %d sessions, create p99 %.1f ms, request p99 %.1f ms\n",
				time.Since(start).Round(time.Second), mib(mem.sample()), mib(mem.peakRSS()),
				float64(tot.sent-lastSent)/interval.Seconds(), tot.refused, tot.sessions,
				hs.Created, hs.Attempts, hs.Create.P99ms, hs.Request.P99ms)
			lastSent = tot.sent
		}
	}()
	return func() { cancel(); <-done }
}

// answer is what an attack request got back.
type answer struct {
	Status int
	Header http.Header
	Body   []byte // the first 64 KiB
	Size   int64  // the whole body's size
	Took   time.Duration
}

// keptBody is how much of an answer's body an attack keeps to look at;
// the rest is read and dropped, so that the connection is reused and the
// time is the whole answer's.
const keptBody = 64 << 10

// tallyKey names a tally: an attack's variant from one source.
type tallyKey struct {
	N       int    // the attack's row in issue 12's table
	Variant string // what was sent
	From    string // "one" or "many"
}

// A tally counts one variant of an attack from one source.
type tally struct {
	sent     atomic.Int64 // requests, connections or sockets tried
	through  atomic.Int64 // …that got what the attacker wanted (attack.Through)
	sessions atomic.Int64 // sessions created
	took     histogram    // answer times (slowloris: how long the server held each)

	mu       sync.Mutex
	statuses map[int]int64
	errs     map[string]int64
	note     string
	normal   []int // statuses of 400 and above that are the target's own answer, not a refusal
}

// tally returns the tally of k, new or already counting.
func (a *abuser) tally(k tallyKey) *tally {
	a.mu.Lock()
	defer a.mu.Unlock()
	t := a.tallies[k]
	if t == nil {
		t = &tally{statuses: map[int]int64{}, errs: map[string]int64{}}
		a.tallies[k] = t
	}
	return t
}

// do sends req with c and tallies it: sent, then the status and time, or
// the error. A request cut short because the test is over is not counted.
func (t *tally) do(ctx context.Context, c *http.Client, req *http.Request) (answer, error) {
	t.sent.Add(1)
	start := time.Now()
	resp, err := c.Do(req.WithContext(ctx))
	if err != nil {
		t.fail(ctx, err)
		return answer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, keptBody))
	var rest int64
	if err == nil {
		rest, err = io.Copy(io.Discard, resp.Body)
	}
	if err != nil {
		t.fail(ctx, err)
		return answer{}, err
	}
	ans := answer{Status: resp.StatusCode, Header: resp.Header, Body: body, Size: int64(len(body)) + rest, Took: time.Since(start)}
	t.status(ans.Status)
	t.took.record(ans.Took)
	return ans, nil
}

func (t *tally) status(code int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.statuses[code]++
}

// fail counts a transport error, unless ctx is done: then the attack was
// stopped, not refused, and the attempt is taken back.
func (t *tally) fail(ctx context.Context, err error) {
	if ctx.Err() != nil {
		t.sent.Add(-1)
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	countKind(t.errs, describeErr(err))
}

// got counts a request that got through when ok, and returns ok.
func (t *tally) got(ok bool) bool {
	if ok {
		t.through.Add(1)
	}
	return ok
}

// created counts a request that got through by creating a session.
func (t *tally) created(ok bool) bool {
	if ok {
		t.through.Add(1)
		t.sessions.Add(1)
	}
	return ok
}

// expect marks statuses of 400 and above as the attacked server's normal
// answer rather than corslab refusing: the api's 400 to a body that is not
// the JSON it takes, for an attack that only wants the body captured.
func (t *tally) expect(statuses ...int) *tally {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.normal = statuses
	return t
}

func (t *tally) setNote(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.note = s
}

// totals are the tallies summed, for the progress line.
type totals struct{ sent, refused, sessions int64 }

func (a *abuser) totals() totals {
	a.mu.Lock()
	defer a.mu.Unlock()
	var tot totals
	for _, t := range a.tallies {
		tot.sent += t.sent.Load()
		tot.sessions += t.sessions.Load()
		t.mu.Lock()
		for s, n := range t.statuses {
			if s >= 400 && !slices.Contains(t.normal, s) {
				tot.refused += n
			}
		}
		t.mu.Unlock()
	}
	return tot
}
