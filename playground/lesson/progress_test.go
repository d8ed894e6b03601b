package lesson

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/corslab/corslab/lessons"
	"github.com/corslab/corslab/playground/capture"
	"github.com/corslab/corslab/playground/cors"
	"github.com/corslab/corslab/playground/scenario"
	"github.com/corslab/corslab/playground/session"
)

// fakeSession is traffic recorded by hand. Only the first seenRuns runs and
// seenExchanges exchanges have happened yet; an exchange in dropped was
// never kept.
type fakeSession struct {
	runs                    []*session.Run
	exchanges               []capture.Exchange
	dropped                 map[uint64]bool
	seenRuns, seenExchanges int
	json                    map[uint64]json.RawMessage // by seq, encoded once
	keptCache               []capture.Exchange
	keptFor                 [2]int // seenExchanges and len(dropped) when keptCache was made
}

func (f *fakeSession) RunsAfter(after int) []*session.Run {
	var out []*session.Run
	for _, r := range f.runs[:f.seenRuns] {
		if r.ID > after {
			out = append(out, r)
		}
	}
	return out
}

func (f *fakeSession) Exchanges(since uint64) []json.RawMessage {
	var out []json.RawMessage
	for _, e := range f.kept() {
		if e.Seq > since {
			out = append(out, f.encode(e))
		}
	}
	return out
}

func (f *fakeSession) ExchangesBySeq(seqs []uint64) []json.RawMessage {
	kept := f.kept()
	var out []json.RawMessage
	for _, seq := range seqs {
		if i := slices.IndexFunc(kept, func(e capture.Exchange) bool { return e.Seq == seq }); i >= 0 {
			out = append(out, f.encode(kept[i]))
		}
	}
	return out
}

func (f *fakeSession) encode(e capture.Exchange) json.RawMessage {
	if b, ok := f.json[e.Seq]; ok {
		return b
	}
	b, err := json.Marshal(e)
	if err != nil {
		panic(err)
	}
	if f.json == nil {
		f.json = make(map[uint64]json.RawMessage)
	}
	f.json[e.Seq] = b
	return b
}

// kept is what Evaluate would be given now: the exchanges that happened
// and were kept.
func (f *fakeSession) kept() []capture.Exchange {
	if key := [2]int{f.seenExchanges, len(f.dropped)}; key != f.keptFor || f.keptCache == nil {
		f.keptCache = slices.DeleteFunc(slices.Clone(f.exchanges[:f.seenExchanges]), func(e capture.Exchange) bool { return f.dropped[e.Seq] })
		f.keptFor = key
	}
	return f.keptCache
}

// evaluate is the full evaluation of what has happened so far.
func (f *fakeSession) evaluate(l *Lesson) []Status {
	return l.Evaluate(goalSession, f.runs[:f.seenRuns], f.kept())
}

// sameStatuses compares statuses, times by instant.
func sameStatuses(got, want []Status) bool {
	return slices.EqualFunc(got, want, func(a, b Status) bool {
		return a.ID == b.ID && a.Met == b.Met && a.At.Equal(b.At) && a.Run == b.Run && a.Seq == b.Seq
	})
}

func realLessons(t testing.TB) []*Lesson {
	t.Helper()
	all, err := Load(lessons.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// learner makes up a learner's traffic in a lesson: attempts at its goals,
// some spoiled by a wrong field, and noise. Exchanges start a little before
// they are recorded, so their times are not in seq order; runs claim the
// exchanges recorded since the page last looked, as session.AddRun does.
type learner struct {
	rng     *rand.Rand
	l       *Lesson
	f       *fakeSession
	clock   int // seconds after t0
	claimed uint64
	goal    int // the goal attempted last
}

// step records one attempt at a goal, or one stray run or exchange.
func (tr *learner) step() {
	switch n := tr.rng.IntN(10); {
	case n < 2:
		tr.exchange(nil)
	case n < 3:
		tr.run(nil, 0)
	default:
		// Learners mostly work through the goals in order.
		if tr.rng.IntN(2) == 0 {
			tr.goal = (tr.goal + 1) % len(tr.l.Goals)
		} else {
			tr.goal = tr.rng.IntN(len(tr.l.Goals))
		}
		g := tr.l.Goals[tr.goal]
		switch {
		case g.Run == nil:
			tr.exchange(g.Exchange)
		case g.Exchange == nil:
			tr.run(g.Run, tr.lastSeq())
		default:
			// The run's own exchanges: a preflight or a redirect may come
			// first, and the page may have seen less than all before it.
			since := tr.lastSeq()
			if since > 0 && tr.rng.IntN(2) == 0 {
				since--
			}
			for range tr.rng.IntN(2) {
				tr.exchange(nil)
			}
			tr.exchange(g.Exchange)
			tr.run(g.Run, since)
		}
	}
}

func (tr *learner) lastSeq() uint64 { return uint64(len(tr.f.exchanges)) }

func (tr *learner) tick() time.Time {
	tr.clock += tr.rng.IntN(2) // often the same second: "after" is strict
	return at(tr.clock)
}

func (tr *learner) exchange(m *ExchangeMatch) {
	e := exchangeFor(tr.rng, m)
	e.Seq = tr.lastSeq() + 1
	e.Start = tr.tick().Add(-time.Duration(tr.rng.IntN(3)) * time.Second)
	if tr.rng.IntN(20) == 0 {
		tr.f.dropped[e.Seq] = true // shed before anything read it
	}
	tr.f.exchanges = append(tr.f.exchanges, e)
}

func (tr *learner) run(m *RunMatch, since uint64) {
	r := runFor(tr.rng, m)
	r.ID = len(tr.f.runs) + 1
	r.At = tr.tick()
	for seq := max(since, tr.claimed) + 1; seq <= tr.lastSeq() && len(r.Exchanges) < 42; seq++ {
		r.Exchanges = append(r.Exchanges, seq)
	}
	if n := len(r.Exchanges); n > 0 {
		tr.claimed = r.Exchanges[n-1]
	}
	tr.f.runs = append(tr.f.runs, r)
}

// pick is want, or any of options when want is "".
func pick(rng *rand.Rand, want string, options ...string) string {
	if want != "" && rng.IntN(12) > 0 { // now and then the learner gets it wrong
		return want
	}
	return options[rng.IntN(len(options))]
}

func pickPath(rng *rand.Rand, want string, options ...string) string {
	p := pick(rng, want, options...)
	if prefix, ok := strings.CutSuffix(p, "*"); ok {
		p = prefix + "notes.json"
	}
	if rng.IntN(4) == 0 {
		p += "?limit=2"
	}
	return p
}

// runFor is a run that probably matches m (nil: any run).
func runFor(rng *rand.Rand, m *RunMatch) *session.Run {
	if m == nil {
		m = &RunMatch{}
	}
	r := goalRun(0, time.Time{}, nil)
	q := &r.Request
	q.From = pick(rng, m.From, "app", "evil", "sandbox", "api", "lookalike")
	q.Target = pick(rng, m.Target, "api", "s3")
	q.Method = pick(rng, m.Method, "GET", "PUT", "POST", "HEAD")
	q.Path = pickPath(rng, m.Path, "/users", "/users/1", "/me", "/login", "/files/hello.txt", "/notes.json")
	q.Credentials = pick(rng, m.Credentials, "omit", "same-origin", "include")
	q.Mode = pick(rng, m.Mode, "cors", "no-cors")
	r.Setup = pick(rng, m.Setup, "three-origins", "two-origins", "one-origin")
	ok := rng.IntN(2) == 0
	if m.OK != nil && rng.IntN(12) > 0 {
		ok = *m.OK
	}
	r.Browser = session.Browser{OK: ok, Headers: [][2]string{}}
	if ok || rng.IntN(4) == 0 {
		r.Browser.Status = []int{200, 200, 201, 401}[rng.IntN(4)]
		if m.Status != 0 && rng.IntN(12) > 0 {
			r.Browser.Status = m.Status
		}
	}
	q.Via = pick(rng, m.Via, "fetch", "img", "img+canvas", "script", "font", "websocket", "form")
	q.CrossOrigin = pick(rng, m.CrossOrigin, "none", "anonymous")
	if q.Via != "fetch" {
		r.Browser.Door = &session.Door{
			Via:         q.Via,
			Canvas:      pick(rng, m.Canvas, "readable", "tainted", ""),
			ScriptError: pick(rng, m.ScriptError, "Script error.", "") + " x",
			Applied:     rng.IntN(2) == 0,
			Messages:    []string{"a " + pick(rng, m.Message, "hello") + " z"},
		}
		if m.Applied != nil && rng.IntN(12) > 0 {
			r.Browser.Door.Applied = *m.Applied
		}
	}
	if ok {
		r.Browser.Body = pick(rng, m.Body, `{"username": "ada"}`, "Hello from corslab", "X-Amz-Signature=1") + " and more"
		for _, name := range append(slices.Clone(m.Readable), "content-type", "etag", "front-token") {
			if rng.IntN(6) > 0 {
				r.Browser.Headers = append(r.Browser.Headers, [2]string{name, "1"})
			}
		}
	}
	switch {
	case rng.IntN(10) == 0:
		r.Verdict = nil
	case ok:
		r.Verdict = &session.Verdict{Verdict: verdict(true, "")}
	default:
		r.Verdict = &session.Verdict{Verdict: verdict(false, pick(rng, m.Stage, "request", "cache", "preflight", "response", "redirect"))}
	}
	return r
}

// exchangeFor is an exchange that probably matches m (nil: any exchange).
func exchangeFor(rng *rand.Rand, m *ExchangeMatch) capture.Exchange {
	if m == nil {
		m = &ExchangeMatch{}
	}
	e := goalExchange(0, time.Time{}, nil)
	e.Origin = pick(rng, m.Origin, "app", "api", "s3", "evil")
	e.Kind = pick(rng, m.Kind, capture.KindPreflight, capture.KindCORS, capture.KindSameOrigin, capture.KindNoOrigin, capture.KindRedirect)
	e.Request.Method = pick(rng, m.Method, "GET", "PUT", "POST", "OPTIONS")
	e.Request.Target = "/" + goalSession + pickPath(rng, m.Path, "/users", "/users/1", "/me", "/login", "/hello.txt", "/notes.json")
	e.Response.Status = []int{200, 204, 302, 403}[rng.IntN(4)]
	if m.Status != 0 && rng.IntN(12) > 0 {
		e.Response.Status = m.Status
	}
	e.Request.Headers = headersFor(rng, m.Request, "Origin", "Cookie", "Access-Control-Request-Method")
	e.Response.Headers = headersFor(rng, m.Response, "Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Set-Cookie")
	return e
}

// headersFor mostly meets conds, and adds some of extra with common
// values.
func headersFor(rng *rand.Rand, conds map[string]string, extra ...string) [][2]string {
	h := [][2]string{}
	names := slices.Sorted(func(yield func(string) bool) {
		for name := range conds {
			if !yield(name) {
				return
			}
		}
	})
	for _, name := range names {
		cond := conds[name]
		if rng.IntN(12) == 0 {
			cond = "+" // wrong, now and then
		}
		switch {
		case cond == "-":
		case cond == "+":
			h = append(h, [2]string{name, "x"})
		case strings.HasPrefix(cond, "!"):
			h = append(h, [2]string{name, cond[1:] + "x"})
		case strings.HasPrefix(cond, "~"):
			h = append(h, [2]string{name, "a " + cond[1:] + " z"})
		default:
			h = append(h, [2]string{name, cond})
		}
	}
	for _, name := range extra {
		if rng.IntN(3) == 0 && !slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, name) }) {
			h = append(h, [2]string{name, []string{"*", "null", "true", "login=1"}[rng.IntN(4)]})
		}
	}
	return h
}

// Read in batches of any size, the goals of every real lesson come out as a
// full evaluation of the same traffic says, after every batch. So do those
// of a made-up lesson whose after: goals follow exchanges, which start in
// another order than they are recorded in.
func TestProgressMatchesEvaluate(t *testing.T) {
	afterExchanges := &Lesson{Slug: "after-exchanges", Goals: []Goal{
		{ID: "a", Exchange: &ExchangeMatch{Origin: "api", Status: 200}},
		{ID: "b", Exchange: &ExchangeMatch{Status: 403}, After: "a"},
		{ID: "c", Run: &RunMatch{OK: no()}, After: "b"},
		{ID: "d", Exchange: &ExchangeMatch{Kind: "preflight"}, After: "c"},
		{ID: "e", Run: &RunMatch{OK: yes()}, Exchange: &ExchangeMatch{Origin: "s3"}, After: "d"},
	}}
	for _, l := range append(realLessons(t), afterExchanges) {
		t.Run(l.Slug, func(t *testing.T) {
			t.Parallel()
			everMet := map[string]bool{}
			for seed := range uint64(100) {
				rng := rand.New(rand.NewPCG(seed, 12))
				f := &fakeSession{dropped: map[uint64]bool{}}
				tr := &learner{rng: rng, l: l, f: f, goal: -1}
				var p Progress
				for i := range 80 {
					tr.step()
					if rng.IntN(3) > 0 && i < 79 {
						continue
					}
					// What happened so far is read; runs may be read a moment
					// before the exchanges, never after.
					f.seenExchanges = len(f.exchanges)
					f.seenRuns = max(f.seenRuns, len(f.runs)-rng.IntN(2))
					if i == 79 {
						f.seenRuns = len(f.runs)
					}
					got, want := p.update(l, goalSession, f), f.evaluate(l)
					if !sameStatuses(got, want) {
						t.Fatalf("seed %d, after %d runs and %d exchanges:\n got %+v\nwant %+v", seed, f.seenRuns, f.seenExchanges, got, want)
					}
				}
				for _, st := range p.update(l, goalSession, f) {
					everMet[st.ID] = everMet[st.ID] || st.Met
				}
			}
			// The traffic is realistic enough to reach every goal.
			for _, g := range l.Goals {
				if !everMet[g.ID] {
					t.Errorf("goal %s was never met: the made-up traffic misses it", g.ID)
				}
			}
		})
	}
}

// Cases where what one batch read meets a goal only with what an earlier
// batch read. Each is read split in every way possible.
func TestProgressAcrossBatches(t *testing.T) {
	status200 := func(e *capture.Exchange) { e.Response.Status = 200 }
	status403 := func(e *capture.Exchange) { e.Response.Status = 403 }
	claims := func(seqs ...uint64) func(*session.Run) {
		return func(r *session.Run) { r.Exchanges = seqs }
	}
	failed := func(r *session.Run) { r.Browser.OK = false }
	tests := []struct {
		desc  string
		goals []Goal
		// events is the order things were recorded in: a *session.Run or a
		// capture.Exchange.
		events []any
		want   []Status
	}{
		{
			"after: met by an exchange that started before one read earlier",
			[]Goal{
				{ID: "a", Exchange: &ExchangeMatch{Status: 200}},
				{ID: "b", Exchange: &ExchangeMatch{Status: 403}, After: "a"},
			},
			[]any{goalExchange(1, at(5), status403), goalExchange(2, at(1), status200)},
			[]Status{{ID: "a", Met: true, At: at(1), Seq: 2}, {ID: "b", Met: true, At: at(5), Seq: 1}},
		},
		{
			"after: the earliest of several earlier matches that started later",
			[]Goal{
				{ID: "a", Exchange: &ExchangeMatch{Status: 200}},
				{ID: "b", Exchange: &ExchangeMatch{Status: 403}, After: "a"},
			},
			[]any{
				goalExchange(1, at(2), status403), goalExchange(2, at(6), status403), goalExchange(3, at(4), status403),
				goalExchange(4, at(3), status200),
			},
			[]Status{{ID: "a", Met: true, At: at(3), Seq: 4}, {ID: "b", Met: true, At: at(6), Seq: 2}},
		},
		{
			"a run goal after an exchange that was recorded after the run",
			[]Goal{
				{ID: "a", Exchange: &ExchangeMatch{Status: 200}},
				{ID: "b", Run: &RunMatch{OK: yes()}, After: "a"},
			},
			[]any{goalRun(1, at(3), nil), goalExchange(1, at(2), status200)},
			[]Status{{ID: "a", Met: true, At: at(2), Seq: 1}, {ID: "b", Met: true, At: at(3), Run: 1}},
		},
		{
			"a run whose exchanges were read before it",
			[]Goal{{ID: "a", Run: &RunMatch{OK: yes()}, Exchange: &ExchangeMatch{Status: 403}}},
			[]any{goalExchange(1, at(1), nil), goalExchange(2, at(1), status403), goalRun(1, at(2), claims(1, 2))},
			[]Status{{ID: "a", Met: true, At: at(2), Run: 1, Seq: 2}},
		},
		{
			"an exchange no run has claimed yet meets an exchange goal",
			[]Goal{
				{ID: "seen", Exchange: &ExchangeMatch{Origin: "api"}},
				{ID: "read", Run: &RunMatch{OK: yes()}, Exchange: &ExchangeMatch{Origin: "api"}},
			},
			[]any{goalExchange(1, at(1), nil)},
			[]Status{{ID: "seen", Met: true, At: at(1), Seq: 1}, {ID: "read"}},
		},
		{
			"a chain met in one batch or in several",
			[]Goal{
				{ID: "a", Run: &RunMatch{OK: yes()}},
				{ID: "b", Run: &RunMatch{OK: no()}, After: "a"},
				{ID: "c", Run: &RunMatch{OK: yes()}, Exchange: &ExchangeMatch{Status: 200}, After: "b"},
			},
			[]any{
				goalRun(1, at(1), failed), goalRun(2, at(2), nil), goalExchange(1, at(2), status200),
				goalRun(3, at(3), claims(1)), goalRun(4, at(4), failed), goalExchange(2, at(4), status200),
				goalRun(5, at(5), claims(2)),
			},
			[]Status{
				{ID: "a", Met: true, At: at(2), Run: 2}, {ID: "b", Met: true, At: at(4), Run: 4},
				{ID: "c", Met: true, At: at(5), Run: 5, Seq: 2},
			},
		},
	}
	for _, tt := range tests {
		l := &Lesson{Goals: tt.goals}
		// Bit i of split set: read after event i.
		for split := range 1 << (len(tt.events) - 1) {
			f := &fakeSession{dropped: map[uint64]bool{}}
			var p Progress
			var got []Status
			for i, ev := range tt.events {
				switch ev := ev.(type) {
				case *session.Run:
					f.runs = append(f.runs, ev)
				case capture.Exchange:
					f.exchanges = append(f.exchanges, ev)
				}
				if split&(1<<i) != 0 || i == len(tt.events)-1 {
					f.seenRuns, f.seenExchanges = len(f.runs), len(f.exchanges)
					got = p.update(l, goalSession, f)
				}
			}
			if !sameStatuses(got, tt.want) {
				t.Errorf("%s, read split %b:\n got %+v\nwant %+v", tt.desc, split, got, tt.want)
			}
			if want := f.evaluate(l); !sameStatuses(got, want) {
				t.Errorf("%s, read split %b: Evaluate says %+v", tt.desc, split, want)
			}
		}
	}
}

// Unlike Evaluate, a goal once met stays met when the session drops what
// met it; a lesson page must not take back a green tick.
func TestProgressKeepsWhatTheRingDropped(t *testing.T) {
	l := &Lesson{Goals: []Goal{
		{ID: "seen", Exchange: &ExchangeMatch{Origin: "api"}},
		{ID: "read", Run: &RunMatch{OK: yes()}, Exchange: &ExchangeMatch{Origin: "api"}},
	}}
	f := &fakeSession{
		runs:      []*session.Run{goalRun(1, at(2), func(r *session.Run) { r.Exchanges = []uint64{1} })},
		exchanges: []capture.Exchange{goalExchange(1, at(1), nil)},
		dropped:   map[uint64]bool{},
	}
	f.seenRuns, f.seenExchanges = 1, 1
	want := []Status{{ID: "seen", Met: true, At: at(1), Seq: 1}, {ID: "read", Met: true, At: at(2), Run: 1, Seq: 1}}
	var pr Progress
	if got := pr.update(l, goalSession, f); !sameStatuses(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	f.dropped[1] = true
	if got := pr.update(l, goalSession, f); !sameStatuses(got, want) {
		t.Errorf("after the ring dropped the exchange: %+v, want %+v", got, want)
	}
	if got := f.evaluate(l); got[0].Met || got[1].Met {
		t.Errorf("Evaluate of what is kept: %+v, want both unmet", got)
	}
}

// A goal waiting for its after: keeps only the matches that could count,
// and at most maxWaiting of them: past that, it is met by a later match
// than Evaluate names, but met all the same.
func TestProgressWaitingIsBounded(t *testing.T) {
	l := &Lesson{Goals: []Goal{
		{ID: "a", Exchange: &ExchangeMatch{Status: 200}},
		{ID: "b", Exchange: &ExchangeMatch{Status: 403}, After: "a"},
	}}
	f := &fakeSession{dropped: map[uint64]bool{}}
	var pr Progress
	n := maxWaiting + 10
	for i := range n {
		seq := uint64(i + 1)
		f.exchanges = append(f.exchanges, goalExchange(seq, at(10+i), func(e *capture.Exchange) { e.Response.Status = 403 }))
		// One that started no later than the one before cannot count first.
		f.exchanges = append(f.exchanges, goalExchange(seq+uint64(n), at(10+i), func(e *capture.Exchange) { e.Response.Status = 403 }))
	}
	slices.SortFunc(f.exchanges, func(a, b capture.Exchange) int { return int(a.Seq) - int(b.Seq) })
	f.seenExchanges = len(f.exchanges)
	pr.update(l, goalSession, f)
	if w := len(pr.goals[1].waiting); w != maxWaiting {
		t.Errorf("b keeps %d matches while a is unmet, want %d", w, maxWaiting)
	}
	f.exchanges = append(f.exchanges, goalExchange(uint64(2*n+1), at(0), func(e *capture.Exchange) { e.Response.Status = 200 }))
	f.seenExchanges = len(f.exchanges)
	got := pr.update(l, goalSession, f)
	if want := (Status{ID: "b", Met: true, At: at(20), Seq: 11}); !sameStatuses(got[1:], []Status{want}) {
		t.Errorf("b: got %+v, want %+v", got[1], want)
	}
	if got := f.evaluate(l); got[1].Seq != 1 {
		t.Errorf("Evaluate: b met by %d, want 1", got[1].Seq)
	}
}

// verdict is an engine verdict that passed, or failed at stage.
func verdict(ok bool, stage string) cors.Verdict { return cors.Verdict{OK: ok, Stage: stage} }

// fullRing is a session of lesson l with a full exchange ring: n CORS GETs
// whose responses carry bodySize bytes, and no runs.
func fullRing(tb testing.TB, l *Lesson, n, bodySize int) *session.Session {
	tb.Helper()
	st := session.NewStore(session.Options{Max: 1, Idle: time.Hour})
	sess, err := st.CreateFor(scenario.Default(), l.Slug)
	if err != nil {
		tb.Fatal(err)
	}
	body := strings.Repeat("{\"username\": \"grace\", \"name\": \"Grace Hopper\"},\n", bodySize/47+1)[:bodySize]
	for i := range n {
		e := goalExchange(0, time.Now(), nil)
		e.Request.Target = fmt.Sprintf("/%s/users?page=%d", sess.ID, i)
		e.Response.Body, e.Response.BodySize = body, int64(len(body))
		e.Raw.Response = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + body
		sess.Record(&e)
	}
	return sess
}

// counted counts the exchanges a Progress reads of a session.
type counted struct {
	*session.Session
	read int
}

func (c *counted) Exchanges(since uint64) []json.RawMessage {
	out := c.Session.Exchanges(since)
	c.read += len(out)
	return out
}

func (c *counted) ExchangesBySeq(seqs []uint64) []json.RawMessage {
	out := c.Session.ExchangesBySeq(seqs)
	c.read += len(out)
	return out
}

// The work of an Update is bounded by what is new: on a full ring, the
// second call reads and decodes no exchange and allocates only its answer.
func TestProgressReadsOnlyWhatIsNew(t *testing.T) {
	l := lessonBySlug(t, "cors-is-not-authorization") // put-by-curl reads the exchanges
	sess := fullRing(t, l, 1000, 4<<10)
	kept := len(sess.Exchanges(0))
	if kept < 500 {
		t.Fatalf("the ring keeps %d exchanges; want a full one", kept)
	}
	c := &counted{Session: sess}
	var pr Progress
	pr.update(l, sess.ID, c)
	if c.read != kept {
		t.Errorf("the first update read %d exchanges, want all %d", c.read, kept)
	}
	c.read = 0
	pr.update(l, sess.ID, c)
	if c.read != 0 {
		t.Errorf("an update with nothing new read %d exchanges", c.read)
	}
	if allocs := testing.AllocsPerRun(20, func() { pr.Update(l, sess) }); allocs > 1 {
		t.Errorf("an update with nothing new allocates %v times, want only its answer", allocs)
	}
	e := goalExchange(0, time.Now(), nil)
	sess.Record(&e)
	pr.update(l, sess.ID, c)
	if c.read != 1 {
		t.Errorf("an update after one new exchange read %d", c.read)
	}
}

func lessonBySlug(tb testing.TB, slug string) *Lesson {
	tb.Helper()
	all := realLessons(tb)
	i := slices.IndexFunc(all, func(l *Lesson) bool { return l.Slug == slug })
	if i < 0 {
		tb.Fatalf("no lesson %s", slug)
	}
	return all[i]
}

// BenchmarkGoals is one poll of a lesson's goals on a session with a full
// ring (1000 exchanges with 2 KiB bodies): "full" decodes everything and
// runs Evaluate, as GET /goals did; "incremental" is Progress.Update with
// nothing new, and "incremental-one-new" with one new exchange each time
// (recording it included).
func BenchmarkGoals(b *testing.B) {
	l := lessonBySlug(b, "cors-is-not-authorization")
	sess := fullRing(b, l, 1000, 2<<10)
	kept := len(sess.Exchanges(0))
	b.Run("full", func(b *testing.B) {
		defer func() { b.ReportMetric(float64(kept), "exchanges") }()
		for b.Loop() {
			raws := sess.Exchanges(0)
			exchanges := make([]capture.Exchange, 0, len(raws))
			for _, raw := range raws {
				var ex capture.Exchange
				if json.Unmarshal(raw, &ex) == nil {
					exchanges = append(exchanges, ex)
				}
			}
			l.Evaluate(sess.ID, sess.Runs(), exchanges)
		}
	})
	b.Run("incremental", func(b *testing.B) {
		var pr Progress
		pr.Update(l, sess)
		for b.Loop() {
			pr.Update(l, sess)
		}
	})
	b.Run("incremental-one-new", func(b *testing.B) {
		var pr Progress
		pr.Update(l, sess)
		e := goalExchange(0, time.Now(), nil)
		for b.Loop() {
			sess.Record(&e)
			pr.Update(l, sess)
		}
	})
}

// The lesson page and the dashboard update one Progress at once, while the
// session records; each sees every goal the traffic meets.
func TestProgressConcurrentUpdates(t *testing.T) {
	l := lessonBySlug(t, "cors-is-not-authorization")
	sess := fullRing(t, l, 10, 100)
	var pr Progress
	done := make(chan []Status)
	for range 2 {
		go func() {
			var st []Status
			for range 50 {
				st = pr.Update(l, sess)
			}
			done <- st
		}()
	}
	for range 20 {
		e := goalExchange(0, time.Now(), nil)
		sess.Record(&e)
	}
	curl := goalExchange(0, time.Now(), func(e *capture.Exchange) {
		e.Kind, e.Request.Method, e.Request.Target = capture.KindNoOrigin, "PUT", "/"+sess.ID+"/users/1"
	})
	sess.Record(&curl)
	<-done
	<-done
	i := slices.IndexFunc(l.Goals, func(g Goal) bool { return g.ID == "put-by-curl" })
	if st := pr.Update(l, sess)[i]; !st.Met || st.Seq != curl.Seq {
		t.Errorf("put-by-curl: %+v, want met by seq %d", st, curl.Seq)
	}
}
