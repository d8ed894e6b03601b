package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestServerFlags(t *testing.T) {
	help := `Usage: corslab [flags]

Flags:
  -ip-rate requests
    	requests a second one client address may make (default 100)
  -listen address
    	address to listen on (default "127.0.0.1")
  -max-sessions int
    	the most learner sessions alive at once (default 2000)
  -memory-budget size
    	the size all sessions together may keep (traffic, runs, bucket objects), e.g. 512MiB or 2GiB; older traffic is shed near it; the default is 1GiB, or a quarter of this machine's memory if less (default 1GiB)
  -open
    	open the lab in the default browser
`
	known := parseFlagHelp(help)
	if want := map[string]string{"ip-rate": "100", "max-sessions": "2000", "open": "", "memory-budget": "1GiB", "listen": "127.0.0.1"}; !maps.Equal(known, want) {
		t.Fatalf("flags read from the help: %q, want %q", known, want)
	}
	for _, tc := range []struct {
		desc string
		args []string
		want []string
	}{
		{"all known", []string{"--max-sessions", "50", "--ip-rate=0", "-open"}, nil},
		{"one unknown, with its value", []string{"--session-idle", "1m", "--max-sessions", "5"}, []string{"session-idle"}},
		{"unknown with =, twice", []string{"--session-idle=1m", "-session-idle=2m", "--memory-budget=1GiB"}, []string{"session-idle"}},
		{"a negative value is not a flag", []string{"--replica", "-1"}, []string{"replica"}},
	} {
		if got := unknownFlags(tc.args, known); !slices.Equal(got, tc.want) {
			t.Errorf("%s: unknownFlags(%q) = %q, want %q", tc.desc, tc.args, got, tc.want)
		}
	}
}

func TestParseFlagsAbuse(t *testing.T) {
	cfg, err := parseFlags([]string{"-abuse", "-memory-budget", "256MiB", "-max-sessions", "300", "-server-flags", "--ip-rate 50"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Learners != 3 || cfg.Duration != time.Minute || cfg.Startups != 0 || cfg.Ramp != 0 {
		t.Errorf("the abuse preset: learners %d, duration %s, startups %d, ramp %s", cfg.Learners, cfg.Duration, cfg.Startups, cfg.Ramp)
	}
	if want := []string{"--ip-rate", "50", "--memory-budget", "256MiB", "--max-sessions", "300"}; !slices.Equal(cfg.ServerFlags, want) {
		t.Errorf("server flags %q, want %q", cfg.ServerFlags, want)
	}
	cfg, err = parseFlags([]string{"-abuse", "-learners", "5", "-duration", "20s"}, io.Discard)
	if err != nil || cfg.Learners != 5 || cfg.Duration != 20*time.Second || len(cfg.ServerFlags) != 0 {
		t.Errorf("given flags win over the preset: %+v, %v", cfg, err)
	}
	for _, args := range [][]string{
		{"-check"},
		{"-rss-abort", "1GiB"},
		{"-abuse", "-target", "http://127.0.0.1:8080"},
		{"-abuse", "-soak"},
		{"-abuse", "-abuse-from", "some"},
		{"-abuse", "-memory-budget", "lots"},
		{"-abuse", "-rss-abort", "0"},
		{"-abuse", "-server-flags", "--memory-budget 1GiB"},
		{"-abuse", "-learners", "500"},
		{"-target", "http://127.0.0.1:8080", "-max-sessions", "10"},
	} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("parseFlags(%q): no error", args)
		}
	}
}

// TestAbuseCheck is the pass/fail logic: each bound of issue 12 on its own.
func TestAbuseCheck(t *testing.T) {
	good := func() *abuseResult {
		r := &abuseResult{Budget: 256 << 20, RSSBound: 512 << 20}
		r.RSS.Peak = 400 << 20
		h := &r.Honest
		h.Attempts, h.Created = 12, 12
		h.Create = summary{Count: 12, P50ms: 2, P99ms: 40}
		h.Request = summary{Count: 300, P50ms: 1, P99ms: 999}
		h.RunPost = summary{Count: 100, P50ms: 1, P99ms: 20}
		h.Latency = summary{Count: 300, P50ms: 1, P99ms: 30}
		return r
	}
	for _, tc := range []struct {
		desc   string
		change func(r *abuseResult)
		want   string // a word of the one failure; "" for none
	}{
		{"every bound held", func(*abuseResult) {}, ""},
		{"RSS exactly at the bound holds", func(r *abuseResult) { r.RSS.Peak = r.RSSBound }, ""},
		{"RSS over the budget + 256 MiB", func(r *abuseResult) { r.RSS.Peak = r.RSSBound + 1 }, "peak RSS"},
		{"RSS unknown", func(r *abuseResult) { r.RSS.Peak = 0 }, "RSS is unknown"},
		{"one session refused", func(r *abuseResult) {
			r.Honest.Created--
			r.Honest.CreateFailures = map[string]int64{"503 Service Unavailable": 1}
		}, "failed to create a session 1 times of 12 (503"},
		{"never tried", func(r *abuseResult) { r.Honest.Attempts, r.Honest.Created = 0, 0 }, "never tried"},
		{"create p99 over 1 s", func(r *abuseResult) { r.Honest.Create.P99ms = 1000.5 }, "create-session p99"},
		{"request p99 over 1 s", func(r *abuseResult) { r.Honest.Request.P99ms = 1500 }, "request → answer p99"},
		{"POST /runs p99 over 1 s", func(r *abuseResult) { r.Honest.RunPost.P99ms = 2000 }, "POST /runs p99"},
		{"frames late", func(r *abuseResult) { r.Honest.Latency.P99ms = 1200 }, "exchange → websocket p99"},
		{"no requests", func(r *abuseResult) { r.Honest.Request = summary{} }, "no request"},
		{"an honest request refused", func(r *abuseResult) {
			r.Honest.Errors = errorCounts{Unexpected: 1, UnexpectedKinds: []statusCount{{"GET /users", 429, 1}}}
		}, "GET /users → 429"},
		{"an honest request timed out", func(r *abuseResult) {
			r.Honest.Errors = errorCounts{Transport: 1, TransportKinds: map[string]int64{"POST /runs: timeout": 1}}
		}, "POST /runs: timeout × 1"},
		{"a failed create is one failure, not two", func(r *abuseResult) {
			r.Honest.Created--
			r.Honest.Errors = errorCounts{Unexpected: 1, UnexpectedKinds: []statusCount{{createWhat, 503, 1}}}
		}, "failed to create a session"},
		{"a websocket would not open", func(r *abuseResult) { r.Honest.WSFailures = 1 }, "websocket"},
		{"the server exited", func(r *abuseResult) { r.Crash.Exited, r.Crash.State = true, "signal: killed" }, "exited"},
		{"a recovered panic", func(r *abuseResult) { r.Crash.Panics, r.Crash.FirstPanic = 3, `msg="handler panicked"` }, "panic 3 times"},
		{"stopped by the safety valve", func(r *abuseResult) { r.Aborted = "stopped after 9s" }, "stopped after"},
	} {
		r := good()
		tc.change(r)
		got := r.check()
		switch {
		case tc.want == "" && len(got) != 0:
			t.Errorf("%s: failures %q, want none", tc.desc, got)
		case tc.want != "" && (len(got) != 1 || !strings.Contains(got[0], tc.want)):
			t.Errorf("%s: failures %q, want one with %q", tc.desc, got, tc.want)
		}
	}
}

func TestRefusalTotals(t *testing.T) {
	r := &abuseResult{Refusals: map[int]int64{}, ErrorKinds: map[string]int64{}, Attacks: []attackRow{
		{N: 8, Variant: "fill the ring: POST api /users, 60 KiB", Sent: 10, Statuses: map[int]int64{400: 8, 429: 2}, Normal: []int{400}},
		{N: 1, Variant: "GET /lab", Sent: 7, Sessions: 5, Statuses: map[int]int64{303: 5, 503: 2}, Errors: 1, ErrorKinds: map[string]int64{"timeout": 1}},
		{N: 8, Variant: "GET /goals", Sent: 3, Statuses: map[int]int64{200: 3}},
	}}
	r.sum()
	if want := map[int]int64{429: 2, 503: 2}; len(r.Refusals) != 2 || r.Refusals[429] != 2 || r.Refusals[503] != 2 {
		t.Errorf("refusals %v, want %v: the api's own 400 is not corslab refusing", r.Refusals, want)
	}
	if r.AttackerSessions != 5 || r.Sent != 20 || r.Errors != 1 {
		t.Errorf("sessions %d, sent %d, errors %d; want 5, 20, 1", r.AttackerSessions, r.Sent, r.Errors)
	}
	var order []string
	for _, row := range r.Attacks {
		order = append(order, row.Variant)
	}
	if want := []string{"GET /lab", "GET /goals", "fill the ring: POST api /users, 60 KiB"}; !slices.Equal(order, want) {
		t.Errorf("rows in order %q, want %q: by attack, set-up last", order, want)
	}
	if got := statusCounts(map[int]int64{429: 2, 503: 9, 400: 2, 413: 1}, 3); got != "503×9 400×2 429×2 …" {
		t.Errorf("statusCounts = %q", got)
	}
}

// TestBigRunRecord: the run of attack 3 is as big as the JSON API takes,
// and still a run the lab could post.
func TestBigRunRecord(t *testing.T) {
	rec := bigRunRecord("http://127.0.0.1:8082/users")
	if n := len(rec); n < 240<<10 || n > 256<<10 {
		t.Errorf("the record is %d bytes, want 240 KiB to 256 KiB (the API's limit)", n)
	}
	var run runDoc
	dec := json.NewDecoder(bytes.NewReader(rec))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&run); err != nil {
		t.Fatal(err)
	}
	if len(run.Browser.Body) != 64<<10 || len(run.Browser.Headers) != 100 || strings.Trim(run.Browser.Body, "<") != "" {
		t.Errorf("body %d bytes, %d headers: want 64 KiB of '<' and 100", len(run.Browser.Body), len(run.Browser.Headers))
	}
}

func TestCreatedSession(t *testing.T) {
	redirect := func(status int, loc string) answer {
		return answer{Status: status, Header: http.Header{"Location": {loc}}}
	}
	for _, tc := range []struct {
		ans    answer
		prefix string
		want   bool
	}{
		{redirect(303, "/lab/abcdefghijklmnopqrstuvwxyz"), "/lab/", true},
		{redirect(303, "http://127.0.0.1:8080/lab/abcdefghijklmnopqrstuvwxyz?api.allowOrigin=echo"), "/lab/", true},
		{redirect(303, "/lessons/origins/abcdefghijklmnopqrstuvwxyz"), "/lessons/origins/", true},
		{redirect(303, "/lab/"), "/lab/", false},
		{redirect(302, "/lab/abcdefghijklmnopqrstuvwxyz"), "/lab/", false},
		{redirect(303, "/lessons"), "/lab/", false},
		{answer{Status: 503}, "/lab/", false},
	} {
		if got := createdSession(tc.ans, tc.prefix); got != tc.want {
			t.Errorf("createdSession(%d %s, %q) = %v", tc.ans.Status, tc.ans.Header.Get("Location"), tc.prefix, got)
		}
	}
}

// TestTinyAbuse runs every attack for a few seconds against a corslab it
// builds: each must send something, and the report must have every part.
// It judges the generator, not the server: the bounds are not checked.
func TestTinyAbuse(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the abuse test starts a server and floods it for seconds")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH: loadtest needs it to build corslab")
	}
	cfg, err := parseFlags([]string{"-abuse", "-duration", "4s", "-learners", "1", "-progress", "0"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var log bytes.Buffer
	res, err := runAbuse(ctx, cfg, &log, io.Discard)
	if err != nil {
		t.Fatalf("runAbuse: %v\n%s", err, log.String())
	}
	res.Failures = res.check()
	var table bytes.Buffer
	res.writeTable(&table, false)
	t.Log(table.String())

	sent := map[int]int64{}
	from := map[string]bool{}
	for _, row := range res.Attacks {
		sent[row.N] += row.Sent
		from[row.From] = true
	}
	for _, a := range attacks {
		if sent[a.N] == 0 {
			t.Errorf("attack %d (%s) sent nothing", a.N, a.Name)
		}
	}
	if !from["one"] || !from["many"] {
		t.Errorf("attacks came from %v, want one and many", from)
	}
	if res.RSS.Peak <= 0 || res.Honest.Attempts == 0 || res.Honest.Navigations == 0 {
		t.Errorf("peak RSS %d, honest attempts %d, navigations %d: want all above 0", res.RSS.Peak, res.Honest.Attempts, res.Honest.Navigations)
	}
	if res.Crash.Exited {
		t.Errorf("the server exited: %s", res.Crash.LastLines)
	}
	for _, part := range []string{"server RSS", "sessions", "refusals", "crashes", "create session", "request → answer", "bounds"} {
		if !strings.Contains(table.String(), part) {
			t.Errorf("the report has no %q", part)
		}
	}
}
