package lesson

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/corslab/corslab/playground/capture"
	"github.com/corslab/corslab/playground/cors"
	"github.com/corslab/corslab/playground/scenario"
	"github.com/corslab/corslab/playground/session"
)

const goalSession = "abcdefghijklmnopqrstuvwxyz"

// t0 is when the test traffic starts; at(n) is n seconds later.
var t0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

func at(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }

func yes() *bool { v := true; return &v }
func no() *bool  { v := false; return &v }

// goalRun is a run of GET /users?limit=2 from the app origin that JS read,
// changed by edit.
func goalRun(id int, when time.Time, edit func(*session.Run)) *session.Run {
	r := &session.Run{
		ID:    id,
		At:    when,
		Setup: "three-origins",
		Request: scenario.Request{
			From: "app", Target: "api", Method: "GET", Path: "/users?limit=2",
			Headers: map[string]string{}, Credentials: "same-origin", Mode: "cors", Redirect: "follow",
		},
		Browser: session.Browser{
			OK: true, Status: 200, Type: "cors",
			Headers: [][2]string{{"content-type", "application/json"}, {"x-total-count", "3"}},
			Body:    `[{"username": "grace"}]`,
		},
		Exchanges: []uint64{},
		Verdict:   &session.Verdict{Verdict: cors.Verdict{OK: true}},
	}
	if edit != nil {
		edit(r)
	}
	return r
}

// goalExchange is a CORS GET /{session}/users?limit=2 to the api, answered
// 200 with Access-Control-Allow-Origin: *, changed by edit.
func goalExchange(seq uint64, when time.Time, edit func(*capture.Exchange)) capture.Exchange {
	e := capture.Exchange{
		Seq: seq, Origin: "api", Kind: capture.KindCORS, Start: when,
		Request: capture.Message{
			Method: "GET", Target: "/" + goalSession + "/users?limit=2", Proto: "HTTP/1.1",
			Headers: [][2]string{{"Host", "127.0.0.1:8082"}, {"origin", "http://127.0.0.1:8081"}},
		},
		Response: capture.Message{
			Proto: "HTTP/1.1", Status: 200,
			Headers: [][2]string{{"Content-Type", "application/json"}, {"Access-Control-Allow-Origin", "*"}, {"Vary", "Origin"}},
		},
	}
	if edit != nil {
		edit(&e)
	}
	return e
}

// evaluateOne checks a single goal against some traffic.
func evaluateOne(g Goal, runs []*session.Run, exchanges []capture.Exchange) Status {
	if g.ID == "" {
		g.ID = "g"
	}
	l := &Lesson{Goals: []Goal{g}}
	return l.Evaluate(goalSession, runs, exchanges)[0]
}

func TestGoalRunFields(t *testing.T) {
	failed := func(stage string) func(*session.Run) {
		return func(r *session.Run) {
			r.Browser = session.Browser{Error: "TypeError: Failed to fetch", Headers: [][2]string{}}
			r.Verdict = &session.Verdict{Verdict: cors.Verdict{OK: false, Stage: stage}}
		}
	}
	tests := []struct {
		desc  string
		match RunMatch
		edit  func(*session.Run)
		want  bool
	}{
		{"no fields match any run", RunMatch{}, nil, true},

		{"from: same origin", RunMatch{From: "app"}, nil, true},
		{"from: another origin", RunMatch{From: "evil"}, nil, false},
		{"from: sandbox is not app", RunMatch{From: "app"}, func(r *session.Run) { r.Request.From = "sandbox" }, false},

		{"target: same", RunMatch{Target: "api"}, nil, true},
		{"target: other", RunMatch{Target: "s3"}, nil, false},

		{"method: same", RunMatch{Method: "GET"}, nil, true},
		{"method: any case in the goal", RunMatch{Method: "get"}, nil, true},
		{"method: any case in the run", RunMatch{Method: "PATCH"}, func(r *session.Run) { r.Request.Method = "patch" }, true},
		{"method: other", RunMatch{Method: "POST"}, nil, false},

		{"path: exact, the run's query ignored", RunMatch{Path: "/users"}, nil, true},
		{"path: exact, no query", RunMatch{Path: "/users"}, func(r *session.Run) { r.Request.Path = "/users" }, true},
		{"path: a prefix is not a match", RunMatch{Path: "/user"}, nil, false},
		{"path: a longer path is not a match", RunMatch{Path: "/users"}, func(r *session.Run) { r.Request.Path = "/users/1" }, false},
		{"path: the goal's query is not ignored", RunMatch{Path: "/users?limit=2"}, nil, false},
		{"path: trailing * matches any rest", RunMatch{Path: "/users/*"}, func(r *session.Run) { r.Request.Path = "/users/1?x=y" }, true},
		{"path: trailing * matches an empty rest", RunMatch{Path: "/users*"}, nil, true},
		{"path: trailing * keeps its prefix", RunMatch{Path: "/files/*"}, nil, false},
		{"path: * only at the end is a wildcard", RunMatch{Path: "/*/1"}, func(r *session.Run) { r.Request.Path = "/users/1" }, false},

		{"credentials: same", RunMatch{Credentials: "same-origin"}, nil, true},
		{"credentials: other", RunMatch{Credentials: "include"}, nil, false},

		{"mode: same", RunMatch{Mode: "cors"}, nil, true},
		{"mode: other", RunMatch{Mode: "no-cors"}, nil, false},

		{"setup: same", RunMatch{Setup: "three-origins"}, nil, true},
		{"setup: other", RunMatch{Setup: "one-origin"}, nil, false},

		{"ok: true on a read response", RunMatch{OK: yes()}, nil, true},
		{"ok: true on a failure", RunMatch{OK: yes()}, failed("response"), false},
		{"ok: false on a failure", RunMatch{OK: no()}, failed("response"), true},
		{"ok: false on a read response", RunMatch{OK: no()}, nil, false},
		{"a run corslab refused meets no goal", RunMatch{OK: no()}, func(r *session.Run) {
			failed("response")(r)
			r.Verdict, r.Refused = nil, []session.Refusal{{Origin: "api", Status: 429}}
		}, false},
		{"not even one that asks for nothing", RunMatch{}, func(r *session.Run) { r.Refused = []session.Refusal{{Status: 429}} }, false},

		{"status: what JS saw", RunMatch{Status: 200}, nil, true},
		{"status: other", RunMatch{Status: 201}, nil, false},
		{"status: a failed fetch saw none", RunMatch{Status: 200}, failed("response"), false},

		{"stage: where the engine says it failed", RunMatch{Stage: "preflight"}, failed("preflight"), true},
		{"stage: another stage", RunMatch{Stage: "response"}, failed("preflight"), false},
		{"stage: a run that passed never matches", RunMatch{Stage: "response"}, func(r *session.Run) {
			r.Verdict = &session.Verdict{Verdict: cors.Verdict{OK: true, Stage: "response"}}
		}, false},
		{"stage: a run without a verdict never matches", RunMatch{Stage: "response"}, func(r *session.Run) { r.Verdict = nil }, false},

		{"body: a piece of it", RunMatch{Body: `"grace"`}, nil, true},
		{"body: the whole of it", RunMatch{Body: `[{"username": "grace"}]`}, nil, true},
		{"body: not in it", RunMatch{Body: "hopper"}, nil, false},
		{"body: is case-sensitive", RunMatch{Body: "GRACE"}, nil, false},

		{"readable: one name", RunMatch{Readable: []string{"X-Total-Count"}}, nil, true},
		{"readable: any case", RunMatch{Readable: []string{"CONTENT-TYPE", "x-TOTAL-count"}}, nil, true},
		{"readable: one name missing", RunMatch{Readable: []string{"X-Total-Count", "ETag"}}, nil, false},
		{"readable: nothing on a failure", RunMatch{Readable: []string{"content-type"}}, failed("response"), false},

		{"every field given must match", RunMatch{From: "app", Method: "get", Path: "/users", OK: yes(), Status: 200, Readable: []string{"x-total-count"}}, nil, true},
		{"one field of many differs", RunMatch{From: "app", Method: "get", Path: "/users", OK: yes(), Status: 204}, nil, false},
	}
	for _, tt := range tests {
		m := tt.match
		st := evaluateOne(Goal{Run: &m}, []*session.Run{goalRun(1, at(1), tt.edit)}, nil)
		if st.Met != tt.want {
			t.Errorf("%s: met = %v, want %v", tt.desc, st.Met, tt.want)
		}
	}
}

func TestGoalExchangeFields(t *testing.T) {
	preflight := func(e *capture.Exchange) {
		e.Kind = capture.KindPreflight
		e.Request.Method = "OPTIONS"
		e.Request.Headers = append(e.Request.Headers, [2]string{"Access-Control-Request-Method", "PUT"})
		e.Response.Status = 204
	}
	noACAO := func(e *capture.Exchange) {
		e.Response.Headers = [][2]string{{"Content-Type", "application/json"}}
	}
	acao := func(v string) func(*capture.Exchange) {
		return func(e *capture.Exchange) {
			e.Response.Headers = [][2]string{{"Access-Control-Allow-Origin", v}}
		}
	}
	tests := []struct {
		desc  string
		match ExchangeMatch
		edit  func(*capture.Exchange)
		want  bool
	}{
		{"no fields match any exchange", ExchangeMatch{}, nil, true},

		{"origin: the one that received it", ExchangeMatch{Origin: "api"}, nil, true},
		{"origin: another", ExchangeMatch{Origin: "s3"}, nil, false},

		{"kind: same", ExchangeMatch{Kind: "cors"}, nil, true},
		{"kind: preflight", ExchangeMatch{Kind: "preflight"}, preflight, true},
		{"kind: other", ExchangeMatch{Kind: "preflight"}, nil, false},

		{"method: same", ExchangeMatch{Method: "GET"}, nil, true},
		{"method: any case", ExchangeMatch{Method: "options"}, preflight, true},
		{"method: other", ExchangeMatch{Method: "PUT"}, preflight, false},

		{"path: the session and query stripped", ExchangeMatch{Path: "/users"}, nil, true},
		{"path: the session is not part of the path", ExchangeMatch{Path: "/" + goalSession + "/users"}, nil, false},
		{"path: another session's path is not stripped", ExchangeMatch{Path: "/users"}, func(e *capture.Exchange) {
			e.Request.Target = "/zyxwvutsrqponmlkjihgfedcba/users"
		}, false},
		{"path: a prefix is not a match", ExchangeMatch{Path: "/user"}, nil, false},
		{"path: trailing * matches any rest", ExchangeMatch{Path: "/uploads/*"}, func(e *capture.Exchange) {
			e.Request.Target = "/" + goalSession + "/uploads/a/b.txt?X-Amz-Signature=1"
		}, true},
		{"path: trailing * keeps its prefix", ExchangeMatch{Path: "/uploads/*"}, nil, false},

		{"status: the response's", ExchangeMatch{Status: 200}, nil, true},
		{"status: other", ExchangeMatch{Status: 204}, nil, false},

		{"response header: exact value", ExchangeMatch{Response: map[string]string{"Access-Control-Allow-Origin": "*"}}, nil, true},
		{"response header: other value", ExchangeMatch{Response: map[string]string{"Access-Control-Allow-Origin": "http://127.0.0.1:8081"}}, nil, false},
		{"response header: value when absent", ExchangeMatch{Response: map[string]string{"Access-Control-Allow-Origin": "*"}}, noACAO, false},
		{"response header: name in any case", ExchangeMatch{Response: map[string]string{"access-control-ALLOW-origin": "*"}}, nil, true},
		{"response header: value is case-sensitive", ExchangeMatch{Response: map[string]string{"Vary": "origin"}}, nil, false},

		{`"-": absent`, ExchangeMatch{Response: map[string]string{"Access-Control-Allow-Origin": "-"}}, noACAO, true},
		{`"-": present`, ExchangeMatch{Response: map[string]string{"Access-Control-Allow-Origin": "-"}}, nil, false},
		{`"-": present but empty`, ExchangeMatch{Response: map[string]string{"Access-Control-Allow-Origin": "-"}}, acao(""), false},

		{`"+": present`, ExchangeMatch{Response: map[string]string{"Access-Control-Allow-Origin": "+"}}, nil, true},
		{`"+": present and empty`, ExchangeMatch{Response: map[string]string{"Access-Control-Allow-Origin": "+"}}, acao(""), true},
		{`"+": absent`, ExchangeMatch{Response: map[string]string{"Access-Control-Allow-Origin": "+"}}, noACAO, false},

		{`"!value": another value`, ExchangeMatch{Response: map[string]string{"Access-Control-Allow-Origin": "!*"}}, acao("http://127.0.0.1:8081"), true},
		{`"!value": that value`, ExchangeMatch{Response: map[string]string{"Access-Control-Allow-Origin": "!*"}}, nil, false},
		{`"!value": absent does not match`, ExchangeMatch{Response: map[string]string{"Access-Control-Allow-Origin": "!*"}}, noACAO, false},
		{`"!x": absent does not match`, ExchangeMatch{Response: map[string]string{"X-Anything": "!x"}}, nil, false},

		{`"~text": contained`, ExchangeMatch{Response: map[string]string{"Content-Type": "~json"}}, nil, true},
		{`"~text": not contained`, ExchangeMatch{Response: map[string]string{"Content-Type": "~xml"}}, nil, false},
		{`"~text": absent`, ExchangeMatch{Response: map[string]string{"Content-Type": "~json"}}, func(e *capture.Exchange) { e.Response.Headers = nil }, false},

		{"request header: exact value, name in any case", ExchangeMatch{Request: map[string]string{"Origin": "http://127.0.0.1:8081"}}, nil, true},
		{"request header: other value", ExchangeMatch{Request: map[string]string{"Origin": "null"}}, nil, false},
		{`request header: "-" absent`, ExchangeMatch{Request: map[string]string{"Cookie": "-"}}, nil, true},
		{`request header: "-" present`, ExchangeMatch{Request: map[string]string{"ORIGIN": "-"}}, nil, false},
		{`request header: "+" present`, ExchangeMatch{Request: map[string]string{"access-control-request-method": "+"}}, preflight, true},
		{`request header: "+" absent`, ExchangeMatch{Request: map[string]string{"access-control-request-method": "+"}}, nil, false},
		{`request header: "!value"`, ExchangeMatch{Request: map[string]string{"Origin": "!null"}}, nil, true},
		{`request header: "!value" absent`, ExchangeMatch{Request: map[string]string{"Cookie": "!a=1"}}, nil, false},
		{`request header: "~text"`, ExchangeMatch{Request: map[string]string{"origin": "~:8081"}}, nil, true},
		{`request header: "~text" not contained`, ExchangeMatch{Request: map[string]string{"origin": "~evil"}}, nil, false},
		{"request conditions are not checked on the response", ExchangeMatch{Request: map[string]string{"Vary": "+"}}, nil, false},
		{"response conditions are not checked on the request", ExchangeMatch{Response: map[string]string{"Origin": "+"}}, nil, false},

		{"every condition must hold", ExchangeMatch{
			Origin: "api", Kind: "cors", Method: "get", Path: "/users", Status: 200,
			Request:  map[string]string{"Origin": "+", "Cookie": "-"},
			Response: map[string]string{"Access-Control-Allow-Origin": "*", "Vary": "~Origin"},
		}, nil, true},
		{"one condition of many fails", ExchangeMatch{
			Origin: "api", Path: "/users",
			Response: map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": "true"},
		}, nil, false},
	}
	for _, tt := range tests {
		m := tt.match
		st := evaluateOne(Goal{Exchange: &m}, nil, []capture.Exchange{goalExchange(1, at(1), tt.edit)})
		if st.Met != tt.want {
			t.Errorf("%s: met = %v, want %v", tt.desc, st.Met, tt.want)
		}
	}
}

// A goal with run: and exchange: is met only by a run that matches and one
// of that run's own exchanges that matches.
func TestGoalRunAndExchange(t *testing.T) {
	g := Goal{
		Run:      &RunMatch{Method: "PUT", OK: yes()},
		Exchange: &ExchangeMatch{Kind: "preflight", Response: map[string]string{"Access-Control-Allow-Methods": "~PUT"}},
	}
	put := func(ok bool, seqs ...uint64) func(*session.Run) {
		return func(r *session.Run) {
			r.Request.Method = "PUT"
			r.Browser.OK = ok
			r.Exchanges = seqs
		}
	}
	preflight := func(e *capture.Exchange) {
		e.Kind = capture.KindPreflight
		e.Request.Method = "OPTIONS"
		e.Response.Status = 204
		e.Response.Headers = append(e.Response.Headers, [2]string{"Access-Control-Allow-Methods", "GET, PUT"})
	}
	goodPreflight := goalExchange(1, at(1), preflight)
	actual := goalExchange(2, at(2), func(e *capture.Exchange) { e.Request.Method = "PUT" })
	tests := []struct {
		desc      string
		runs      []*session.Run
		exchanges []capture.Exchange
		want      Status
	}{
		{
			"the run and its preflight match",
			[]*session.Run{goalRun(1, at(3), put(true, 1, 2))},
			[]capture.Exchange{goodPreflight, actual},
			Status{ID: "g", Met: true, At: at(3), Run: 1, Seq: 1},
		},
		{
			"the run matches, but none of its exchanges does",
			[]*session.Run{goalRun(1, at(3), put(true, 2))},
			[]capture.Exchange{goodPreflight, actual},
			Status{ID: "g"},
		},
		{
			"the matching exchange is another run's",
			[]*session.Run{goalRun(1, at(3), put(false, 1)), goalRun(2, at(5), put(true, 4))},
			[]capture.Exchange{goodPreflight, actual, goalExchange(4, at(4), nil)},
			Status{ID: "g"},
		},
		{
			"the matching exchange belongs to no run",
			[]*session.Run{goalRun(1, at(3), put(true))},
			[]capture.Exchange{goodPreflight},
			Status{ID: "g"},
		},
		{
			"the exchange matches, but its run does not",
			[]*session.Run{goalRun(1, at(3), put(false, 1, 2))},
			[]capture.Exchange{goodPreflight, actual},
			Status{ID: "g"},
		},
		{
			"a run may name an exchange no longer kept",
			[]*session.Run{goalRun(1, at(3), put(true, 9)), goalRun(2, at(4), put(true, 1))},
			[]capture.Exchange{goodPreflight},
			Status{ID: "g", Met: true, At: at(4), Run: 2, Seq: 1},
		},
		{
			"the second of a run's exchanges",
			[]*session.Run{goalRun(7, at(3), put(true, 2, 3))},
			[]capture.Exchange{actual, goalExchange(3, at(2), preflight)},
			Status{ID: "g", Met: true, At: at(3), Run: 7, Seq: 3},
		},
	}
	for _, tt := range tests {
		if got := evaluateOne(g, tt.runs, tt.exchanges); got != tt.want {
			t.Errorf("%s: got %+v, want %+v", tt.desc, got, tt.want)
		}
	}
}

// Status says when the goal was met and by what: a run-only goal names the
// run, an exchange-only goal the exchange, a goal with both names both and
// takes the run's time.
func TestGoalStatusFields(t *testing.T) {
	runs := []*session.Run{goalRun(4, at(10), func(r *session.Run) { r.Exchanges = []uint64{6} })}
	exchanges := []capture.Exchange{goalExchange(6, at(8), nil)}
	l := &Lesson{Goals: []Goal{
		{ID: "by-run", Run: &RunMatch{OK: yes()}},
		{ID: "by-exchange", Exchange: &ExchangeMatch{Origin: "api"}},
		{ID: "by-both", Run: &RunMatch{OK: yes()}, Exchange: &ExchangeMatch{Origin: "api"}},
		{ID: "never", Run: &RunMatch{From: "evil"}},
	}}
	got := l.Evaluate(goalSession, runs, exchanges)
	want := []Status{
		{ID: "by-run", Met: true, At: at(10), Run: 4},
		{ID: "by-exchange", Met: true, At: at(8), Seq: 6},
		{ID: "by-both", Met: true, At: at(10), Run: 4, Seq: 6},
		{ID: "never"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d statuses, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("goal %s: got %+v, want %+v", want[i].ID, got[i], want[i])
		}
	}
	// An unmet goal is only its id in JSON: the page tells unmet from met
	// by "met", and has no time to show.
	b, err := json.Marshal(got[3])
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"id":"never","met":false}` {
		t.Errorf("unmet goal as JSON: %s", b)
	}
	b, _ = json.Marshal(got[1])
	if string(b) != `{"id":"by-exchange","met":true,"at":"2025-03-01T10:00:08Z","seq":6}` {
		t.Errorf("met goal as JSON: %s", b)
	}
}

// The earliest run or exchange that matches is the one a status names.
func TestGoalEarliestMatchWins(t *testing.T) {
	runs := []*session.Run{
		goalRun(1, at(1), func(r *session.Run) { r.Browser.OK = false }),
		goalRun(2, at(2), nil),
		goalRun(3, at(3), nil),
	}
	exchanges := []capture.Exchange{
		goalExchange(1, at(1), func(e *capture.Exchange) { e.Origin = "s3" }),
		goalExchange(2, at(2), nil),
		goalExchange(3, at(3), nil),
	}
	if got := evaluateOne(Goal{Run: &RunMatch{OK: yes()}}, runs, exchanges); got.Run != 2 || got.At != at(2) {
		t.Errorf("run goal met by run %d at %v, want run 2", got.Run, got.At)
	}
	if got := evaluateOne(Goal{Exchange: &ExchangeMatch{Origin: "api"}}, runs, exchanges); got.Seq != 2 || got.At != at(2) {
		t.Errorf("exchange goal met by seq %d at %v, want seq 2", got.Seq, got.At)
	}
}

// after: counts only what happened strictly after the goal it names was
// first met, and nothing while that goal is unmet.
func TestGoalAfter(t *testing.T) {
	stolen := Goal{ID: "stolen", Run: &RunMatch{From: "evil", Credentials: "include", OK: yes()}}
	fixed := Goal{ID: "fixed", Run: &RunMatch{From: "evil", Credentials: "include", OK: no()}, After: "stolen"}
	exploit := func(ok bool) func(*session.Run) {
		return func(r *session.Run) {
			r.Request.From, r.Request.Credentials, r.Browser.OK = "evil", "include", ok
		}
	}
	tests := []struct {
		desc      string
		goals     []Goal
		runs      []*session.Run
		exchanges []capture.Exchange
		want      []Status
	}{
		{
			"the fix after the exploit",
			[]Goal{stolen, fixed},
			[]*session.Run{goalRun(1, at(1), exploit(true)), goalRun(2, at(2), exploit(false))},
			nil,
			[]Status{{ID: "stolen", Met: true, At: at(1), Run: 1}, {ID: "fixed", Met: true, At: at(2), Run: 2}},
		},
		{
			"a failure before the exploit does not count",
			[]Goal{stolen, fixed},
			[]*session.Run{goalRun(1, at(1), exploit(false)), goalRun(2, at(2), exploit(true))},
			nil,
			[]Status{{ID: "stolen", Met: true, At: at(2), Run: 2}, {ID: "fixed"}},
		},
		{
			"at the same instant is not after",
			[]Goal{stolen, fixed},
			[]*session.Run{goalRun(1, at(1), exploit(true)), goalRun(2, at(1), exploit(false))},
			nil,
			[]Status{{ID: "stolen", Met: true, At: at(1), Run: 1}, {ID: "fixed"}},
		},
		{
			"an unmet reference leaves the goal unmet",
			[]Goal{stolen, fixed},
			[]*session.Run{goalRun(1, at(1), exploit(false)), goalRun(2, at(2), exploit(false))},
			nil,
			[]Status{{ID: "stolen"}, {ID: "fixed"}},
		},
		{
			"the reference's first match is what counts",
			[]Goal{stolen, fixed},
			[]*session.Run{goalRun(1, at(1), exploit(true)), goalRun(2, at(2), exploit(false)), goalRun(3, at(3), exploit(true))},
			nil,
			[]Status{{ID: "stolen", Met: true, At: at(1), Run: 1}, {ID: "fixed", Met: true, At: at(2), Run: 2}},
		},
		{
			"the earliest match after the reference",
			[]Goal{stolen, fixed},
			[]*session.Run{
				goalRun(1, at(1), exploit(false)), goalRun(2, at(2), exploit(true)),
				goalRun(3, at(3), exploit(false)), goalRun(4, at(4), exploit(false)),
			},
			nil,
			[]Status{{ID: "stolen", Met: true, At: at(2), Run: 2}, {ID: "fixed", Met: true, At: at(3), Run: 3}},
		},
		{
			"an exchange counts after a run only when it started later",
			[]Goal{stolen, {ID: "seen", Exchange: &ExchangeMatch{Origin: "api"}, After: "stolen"}},
			[]*session.Run{goalRun(1, at(2), func(r *session.Run) { exploit(true)(r); r.Exchanges = []uint64{1} })},
			[]capture.Exchange{goalExchange(1, at(1), nil), goalExchange(2, at(2), nil), goalExchange(3, at(3), nil)},
			[]Status{{ID: "stolen", Met: true, At: at(2), Run: 1}, {ID: "seen", Met: true, At: at(3), Seq: 3}},
		},
		{
			"a chain: each after the one before",
			[]Goal{
				{ID: "a", Exchange: &ExchangeMatch{Status: 200}},
				{ID: "b", Exchange: &ExchangeMatch{Status: 403}, After: "a"},
				{ID: "c", Exchange: &ExchangeMatch{Status: 200}, After: "b"},
			},
			nil,
			[]capture.Exchange{
				goalExchange(1, at(1), func(e *capture.Exchange) { e.Response.Status = 403 }),
				goalExchange(2, at(2), nil),
				goalExchange(3, at(3), func(e *capture.Exchange) { e.Response.Status = 403 }),
				goalExchange(4, at(4), nil),
			},
			[]Status{{ID: "a", Met: true, At: at(2), Seq: 2}, {ID: "b", Met: true, At: at(3), Seq: 3}, {ID: "c", Met: true, At: at(4), Seq: 4}},
		},
		{
			"a broken chain",
			[]Goal{
				{ID: "a", Exchange: &ExchangeMatch{Status: 500}},
				{ID: "b", Exchange: &ExchangeMatch{Status: 200}, After: "a"},
				{ID: "c", Exchange: &ExchangeMatch{Status: 200}, After: "b"},
			},
			nil,
			[]capture.Exchange{goalExchange(1, at(1), nil), goalExchange(2, at(2), nil)},
			[]Status{{ID: "a"}, {ID: "b"}, {ID: "c"}},
		},
	}
	for _, tt := range tests {
		l := &Lesson{Goals: tt.goals}
		got := l.Evaluate(goalSession, tt.runs, tt.exchanges)
		if len(got) != len(tt.want) {
			t.Errorf("%s: got %d statuses, want %d", tt.desc, len(got), len(tt.want))
			continue
		}
		for i := range tt.want {
			if got[i] != tt.want[i] {
				t.Errorf("%s: goal %s: got %+v, want %+v", tt.desc, tt.want[i].ID, got[i], tt.want[i])
			}
		}
	}
}

// With no traffic every goal is unmet, in the lesson's order.
func TestGoalsStartUnmet(t *testing.T) {
	l := &Lesson{Goals: []Goal{
		{ID: "one", Run: &RunMatch{}},
		{ID: "two", Exchange: &ExchangeMatch{}},
		{ID: "three", Run: &RunMatch{}, Exchange: &ExchangeMatch{}, After: "one"},
	}}
	got := l.Evaluate(goalSession, nil, nil)
	want := []Status{{ID: "one"}, {ID: "two"}, {ID: "three"}}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("got %+v, want %+v", got[i], want[i])
		}
	}
}
