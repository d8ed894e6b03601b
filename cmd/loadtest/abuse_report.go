package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
)

// abuseResult is every number an abuse test produced. The JSON is for
// scripts; the table for people.
type abuseResult struct {
	Mode      string   `json:"mode"` // abuse
	Server    string   `json:"server"`
	PID       int      `json:"pid"`
	From      []string `json:"from"` // one, many
	DurationS float64  `json:"durationS"`
	ElapsedS  float64  `json:"elapsedS"`
	Aborted   string   `json:"aborted,omitempty"` // why the attack stopped early

	Budget      int64 `json:"memoryBudget"`
	BudgetGiven bool  `json:"memoryBudgetGiven"` // -memory-budget, or the server's default
	RSSBound    int64 `json:"rssBound"`          // budget + 256 MiB
	RSSAbort    int64 `json:"rssAbort"`
	RSS         struct {
		Start int64 `json:"start"`
		Peak  int64 `json:"peak"` // VmHWM: the peak over the server's life
		End   int64 `json:"end"`
	} `json:"rss"`
	MaxSessions int `json:"maxSessions"` // --max-sessions, or the server's default; 0: unknown

	AttackerSessions int64            `json:"attackerSessions"`
	Sent             int64            `json:"sent"`
	Refusals         map[int]int64    `json:"refusals"` // answers of 400 and above, by status
	Errors           int64            `json:"errors"`   // transport errors
	ErrorKinds       map[string]int64 `json:"errorKinds"`
	Crash            struct {
		Exited     bool   `json:"exited"` // before the test stopped it
		State      string `json:"state,omitempty"`
		LastLines  string `json:"lastLines,omitempty"`
		Panics     int    `json:"panicLines"` // log lines that mention a panic
		FirstPanic string `json:"firstPanic,omitempty"`
	} `json:"crash"`
	Honest    honestResult `json:"honest"`
	Attacks   []attackRow  `json:"attacks"`
	CPU       cpuUsage     `json:"cpu"`
	ServerLog *serverLog   `json:"serverLog,omitempty"`
	Failures  []string     `json:"failures"` // the bounds that broke
}

// attackRow is one tally: an attack's variant from one source.
type attackRow struct {
	N          int              `json:"n"`
	Attack     string           `json:"attack"`
	Variant    string           `json:"variant"`
	From       string           `json:"from"`
	Sent       int64            `json:"sent"`
	Through    int64            `json:"through"`
	Sessions   int64            `json:"sessions"`
	Statuses   map[int]int64    `json:"statuses"`
	Errors     int64            `json:"errors"`
	ErrorKinds map[string]int64 `json:"errorKinds"`
	Answer     summary          `json:"answer"` // slowloris: how long the server held a connection
	Note       string           `json:"note,omitempty"`
	// Normal are statuses of 400 and above that are the attacked server's
	// own answer (the api's 400 to a body it cannot parse), not refusals.
	Normal []int `json:"normalStatuses,omitempty"`
}

// refused are the row's answers of 400 and above that are not normal.
func (row *attackRow) refused() map[int]int64 {
	m := map[int]int64{}
	for s, n := range row.Statuses {
		if s >= 400 && !slices.Contains(row.Normal, s) {
			m[s] = n
		}
	}
	return m
}

func newAbuseResult(cfg config, budget int64, given bool, abortAt int64) *abuseResult {
	r := &abuseResult{
		Mode: "abuse", DurationS: cfg.Duration.Seconds(),
		Budget: budget, BudgetGiven: given, RSSBound: budget + rssSlack, RSSAbort: abortAt,
		Refusals: map[int]int64{}, ErrorKinds: map[string]int64{},
	}
	for _, s := range sources(cfg.AbuseFrom, func() int { return 0 }) {
		r.From = append(r.From, s.name)
	}
	r.Honest.Learners, r.Honest.Rate = cfg.Learners, cfg.Rate
	r.CPU.Cores = runtime.NumCPU()
	return r
}

// fill copies the tallies and the honest learners' counts into r.
func (r *abuseResult) fill(a *abuser, h *honest) {
	learners, rate := r.Honest.Learners, r.Honest.Rate
	r.Honest = h.summary()
	r.Honest.Learners, r.Honest.Rate = learners, rate
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, t := range a.tallies {
		row := attackRow{
			N: k.N, Attack: attackName(k.N), Variant: k.Variant, From: k.From,
			Sent: t.sent.Load(), Through: t.through.Load(), Sessions: t.sessions.Load(),
			Answer: t.took.summary(), Statuses: map[int]int64{}, ErrorKinds: map[string]int64{},
		}
		t.mu.Lock()
		for s, n := range t.statuses {
			row.Statuses[s] = n
		}
		for e, n := range t.errs {
			row.ErrorKinds[e] = n
			row.Errors += n
		}
		row.Note, row.Normal = t.note, t.normal
		t.mu.Unlock()
		r.Attacks = append(r.Attacks, row)
	}
	r.sum()
}

// sum totals the rows: sessions, refusals, errors.
func (r *abuseResult) sum() {
	slices.SortFunc(r.Attacks, func(x, y attackRow) int {
		return cmp.Or(cmp.Compare(x.N, y.N), cmp.Compare(setupRank(x.Variant), setupRank(y.Variant)),
			strings.Compare(x.Variant, y.Variant), strings.Compare(x.From, y.From))
	})
	for _, row := range r.Attacks {
		r.AttackerSessions += row.Sessions
		r.Sent += row.Sent
		r.Errors += row.Errors
		for s, n := range row.refused() {
			r.Refusals[s] += n
		}
		for e, n := range row.ErrorKinds {
			r.ErrorKinds[e] += n
		}
	}
}

// setupRank puts the rows of what an attack needs (its sessions, a warm-up,
// an empty bucket) after the attack's own.
func setupRank(variant string) int {
	for _, p := range []string{"new ", "warm-up", "empty the bucket", "fill the ring"} {
		if strings.HasPrefix(variant, p) {
			return 1
		}
	}
	return 0
}

func attackName(n int) string {
	for _, a := range attacks {
		if a.N == n {
			return a.Name
		}
	}
	return fmt.Sprintf("attack %d", n)
}

// check returns issue 12's bounds that r breaks, one sentence each.
func (r *abuseResult) check() []string {
	var fails []string
	failf := func(format string, args ...any) { fails = append(fails, fmt.Sprintf(format, args...)) }
	switch {
	case r.RSS.Peak <= 0:
		failf("the server's RSS is unknown")
	case r.RSS.Peak > r.RSSBound:
		failf("peak RSS %s > %s, the memory budget %s + 256 MiB", mib(r.RSS.Peak), mib(r.RSSBound), mib(r.Budget))
	}
	if r.Aborted != "" {
		failf("%s", r.Aborted)
	}
	h := &r.Honest
	switch {
	case h.Attempts == 0:
		failf("the honest learners never tried to create a session")
	case h.Created < h.Attempts:
		failf("the honest learners failed to create a session %d times of %d (%s)", h.Attempts-h.Created, h.Attempts, kinds(h.CreateFailures, 4))
	}
	if h.Request.Count == 0 {
		failf("the honest learners made no request in a session")
	}
	for _, l := range []struct {
		what string
		s    summary
	}{
		{"create-session", h.Create}, {"request → answer", h.Request},
		{"POST /runs", h.RunPost}, {"exchange → websocket", h.Latency},
	} {
		if l.s.P99ms > ms(learnerBound) {
			failf("the honest learners' %s p99 %.1f ms > %s", l.what, l.s.P99ms, learnerBound)
		}
	}
	// Failed creates are counted above; the rest are the requests of the
	// sessions the learners had.
	if n := h.Errors.Transport + h.Errors.Unexpected - (h.Attempts - h.Created); n > 0 {
		var other []statusCount
		for _, k := range h.Errors.UnexpectedKinds {
			if k.What != createWhat {
				other = append(other, k)
			}
		}
		transport := maps.Clone(h.Errors.TransportKinds)
		maps.DeleteFunc(transport, func(k string, _ int64) bool { return strings.HasPrefix(k, createWhat+":") })
		failf("the honest learners had %d requests in their sessions without the answer a learner gets (%s)",
			n, strings.Join(slices.DeleteFunc([]string{statusKinds(other, 4), kinds(transport, 3)}, func(s string) bool { return s == "" }), "; "))
	}
	if h.WSFailures > 0 {
		failf("the honest learners could not open the websocket of %d of their sessions", h.WSFailures)
	}
	if r.Crash.Exited {
		failf("the server exited during the attack (%s)", r.Crash.State)
	}
	if r.Crash.Panics > 0 {
		failf("the server's log mentions a panic %d times; the first: %.200s", r.Crash.Panics, r.Crash.FirstPanic)
	}
	return fails
}

func (r *abuseResult) writeJSON(w io.Writer) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(r)
}

// writeTable prints the result for people; checked says whether -check
// makes the bounds decide the exit code.
func (r *abuseResult) writeTable(w io.Writer, checked bool) {
	fmt.Fprintf(w, "\ncorslab abuse test: %s\n", r.Server)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(name, format string, args ...any) {
		fmt.Fprintf(tw, "  %s\t"+format+"\n", append([]any{name}, args...)...)
	}
	from := map[string]string{"one": "from one address (127.0.0.2)", "many": fmt.Sprintf("from many (127.0.0.%d–%d)", manyFirst, manyFirst+manyCount-1)}
	var fromText []string
	for _, f := range r.From {
		fromText = append(fromText, from[f])
	}
	row("attacks", "every attack of issue 12 at once for %s, %s", seconds(r.ElapsedS), strings.Join(fromText, " and "))
	if r.Aborted != "" {
		row("", "%s", r.Aborted)
	}
	budget := "given"
	if !r.BudgetGiven {
		budget = "the server's default"
	}
	row("server RSS", "start %s, peak %s, end %s; bound %s: the budget, %s (%s), + 256 MiB",
		mib(r.RSS.Start), mib(r.RSS.Peak), mib(r.RSS.End), mib(r.RSSBound), mib(r.Budget), budget)
	maxSessions := "unknown"
	if r.MaxSessions > 0 {
		maxSessions = fmt.Sprint(r.MaxSessions)
	}
	row("sessions", "%d created by the attackers (%s); the server holds at most %s at once", r.AttackerSessions, r.sessionsByAttack(), maxSessions)
	row("refusals", "%s, of %d attack requests", statusCounts(r.Refusals, 0), r.Sent)
	row("attack errors", "%d transport errors%s", r.Errors, prefixed(": ", kinds(r.ErrorKinds, 5)))
	switch {
	case r.Crash.Exited:
		row("crashes", "the server exited during the attack (%s); its last lines:", r.Crash.State)
		for _, l := range strings.Split(r.Crash.LastLines, "\n") {
			row("", "  %.200s", l)
		}
	default:
		row("crashes", "none: the server ran to the end")
	}
	if r.Crash.Panics > 0 {
		row("", "%d lines of its log mention a panic; the first: %.300s", r.Crash.Panics, r.Crash.FirstPanic)
	} else {
		row("", "no panic in its log")
	}

	h := &r.Honest
	row("honest learners", "%d, each from its own 127.0.x.y, a new session every %s, %g runs/s", h.Learners, visitLength, h.Rate)
	row("  sessions", "%d of %d created%s; %d websockets would not open", h.Created, h.Attempts, prefixed("; failed: ", kinds(h.CreateFailures, 4)), h.WSFailures)
	row("  create session", "%s", h.Create)
	row("  request → answer", "%s  (%d requests to the origins)", h.Request, h.Request.Count)
	row("  POST /runs", "%s  (%d runs)", h.RunPost, h.Runs)
	row("  exchange → websocket", "%s", h.Latency)
	row("  errors", "%d transport, %d unexpected statuses%s, %d websocket drops (%d reconnected); lost events: %d seq gaps, %d unaccounted",
		h.Errors.Transport, h.Errors.Unexpected, prefixed(": ", statusKinds(h.Errors.UnexpectedKinds, 4)), h.Errors.WSDrops, h.Errors.WSReconnects,
		h.Lost.Gaps, h.Lost.Unaccounted)
	row("  cross-site link", "%d of %d navigations to /lab from another site opened a lab%s",
		h.NavigationLabs, h.Navigations, prefixed("; refused: ", kinds(h.NavigationFailures, 3)))
	row("CPU", "of %d cores, on average: server %.2f, loadtest %.2f (attackers and honest learners), other processes %.2f",
		r.CPU.Cores, r.CPU.Server, r.CPU.Loadtest, r.CPU.Others)
	if r.CPU.Others > 0.2 {
		row("", "WARNING: other processes took %.2f cores from the server and the test: the latencies are pessimistic", r.CPU.Others)
	}
	tw.Flush()

	r.writeAttacks(w)

	if checked {
		fmt.Fprintf(w, "  bounds (-check):")
	} else {
		fmt.Fprintf(w, "  bounds (informative; -check makes them decide the exit code):")
	}
	if len(r.Failures) == 0 {
		fmt.Fprintf(w, " all held: peak RSS under the budget + 256 MiB, every honest session created, honest p99s under %s, no crash, no panic\n", learnerBound)
	} else {
		fmt.Fprintf(w, " %d broken\n", len(r.Failures))
		for _, f := range r.Failures {
			fmt.Fprintf(w, "    BROKEN: %s\n", f)
		}
	}
	if l := r.ServerLog; l != nil && l.Warnings+l.Errors > 0 {
		fmt.Fprintf(w, "  server log: %d warnings, %d errors; the first:\n", l.Warnings, l.Errors)
		for _, line := range l.First {
			fmt.Fprintf(w, "    %.300s\n", line)
		}
	}
}

// writeAttacks prints one block per attack, one line per variant and
// source.
func (r *abuseResult) writeAttacks(w io.Writer) {
	fmt.Fprintf(w, "\n  attacks: sent, got through (what the attacker wanted), sessions created, transport errors, answer time, answers of 400 and above\n")
	width := len("variant")
	for _, row := range r.Attacks {
		width = max(width, len([]rune(row.Variant)))
	}
	line := func(variant, from, sent, through, sessions, errs, answer, refused, note string) {
		pad := width - len([]rune(variant))
		fmt.Fprintf(w, "      %s%s  %-4s  %7s  %7s  %8s  %6s  %-22s  %s%s\n",
			variant, strings.Repeat(" ", pad), from, sent, through, sessions, errs, answer, refused, prefixed("; ", note))
	}
	n := 0
	for _, row := range r.Attacks {
		if row.N != n {
			n = row.N
			through := ""
			for _, a := range attacks {
				if a.N == n {
					through = a.Through
				}
			}
			fmt.Fprintf(w, "  %2d %s (got through: %s)\n", n, row.Attack, through)
			line("variant", "from", "sent", "through", "sessions", "errors", "answer p50 / max", "refused", "")
		}
		answer := "-"
		if row.Answer.Count > 0 {
			answer = fmt.Sprintf("%s / %s", msText(row.Answer.P50ms), msText(row.Answer.MaxMs))
		}
		refused := statusCounts(row.refused(), 4)
		for _, s := range row.Normal {
			if n := row.Statuses[s]; n > 0 {
				refused += fmt.Sprintf(" (and %d×%d, the api's own answer)", s, n)
			}
		}
		line(row.Variant, row.From, fmt.Sprint(row.Sent), fmt.Sprint(row.Through), fmt.Sprint(row.Sessions),
			fmt.Sprint(row.Errors), answer, refused, row.Note)
	}
	fmt.Fprintln(w)
}

// sessionsByAttack lists which attacks created the attackers' sessions.
func (r *abuseResult) sessionsByAttack() string {
	by := map[int]int64{}
	for _, row := range r.Attacks {
		by[row.N] += row.Sessions
	}
	var parts []string
	for _, a := range attacks {
		if by[a.N] > 0 {
			parts = append(parts, fmt.Sprintf("%d: %d", a.N, by[a.N]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return "by attack " + strings.Join(parts, ", ")
}

// statusCounts writes counts by status, the most frequent first: "503×4820
// 429×289"; at most n of them (0: all), and "…" for the rest.
func statusCounts(m map[int]int64, n int) string {
	if len(m) == 0 {
		return "none"
	}
	codes := make([]int, 0, len(m))
	for s := range m {
		codes = append(codes, s)
	}
	slices.SortFunc(codes, func(a, b int) int { return cmp.Or(cmp.Compare(m[b], m[a]), cmp.Compare(a, b)) })
	var parts []string
	for i, s := range codes {
		if n > 0 && i == n {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, fmt.Sprintf("%d×%d", s, m[s]))
	}
	return strings.Join(parts, " ")
}

// kinds writes the n most frequent kinds of m: "timeout × 3, EOF × 1".
func kinds(m map[string]int64, n int) string {
	var parts []string
	for _, k := range topKinds(m, n) {
		parts = append(parts, fmt.Sprintf("%s × %d", k, m[k]))
	}
	if len(m) > n {
		parts = append(parts, "…")
	}
	return strings.Join(parts, ", ")
}

func statusKinds(s []statusCount, n int) string {
	var parts []string
	for _, k := range s[:min(n, len(s))] {
		parts = append(parts, fmt.Sprintf("%s → %d × %d", k.What, k.Status, k.Count))
	}
	return strings.Join(parts, ", ")
}

// prefixed is p+s, or "" when s is.
func prefixed(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}

// msText writes milliseconds with the precision that matters.
func msText(v float64) string {
	switch {
	case v >= 10_000:
		return fmt.Sprintf("%.0f s", v/1000)
	case v >= 1000:
		return fmt.Sprintf("%.1f s", v/1000)
	case v >= 10:
		return fmt.Sprintf("%.0f ms", v)
	}
	return fmt.Sprintf("%.1f ms", v)
}
