package session

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/corslab/corslab/playground/bytesize"
	"github.com/corslab/corslab/playground/capture"
	"github.com/corslab/corslab/playground/scenario"
)

func newBudgetStore(t *testing.T, max int, budget int64) *Store {
	t.Helper()
	return NewStore(Options{Max: max, Idle: time.Hour, Budget: NewBudget(budget)})
}

func bigExchange(n int) *capture.Exchange {
	body := strings.Repeat("<", n)
	return &capture.Exchange{Origin: "api",
		Request:  capture.Message{Body: body, BodySize: int64(n)},
		Response: capture.Message{Body: body, BodySize: int64(n)},
		Raw:      capture.Raw{Request: "POST / HTTP/1.1\r\n\r\n" + body, Response: "HTTP/1.1 200 OK\r\n\r\n" + body}}
}

// The budget holds whatever the sessions do: the largest session is shed
// first, the small one keeps everything, and the budget's count matches
// what the sessions hold.
func TestBudgetShedsTheLargestSessionFirst(t *testing.T) {
	const limit = 4 << 20
	st := newBudgetStore(t, 10, limit)
	big, _ := st.Create(scenario.Default())
	small, _ := st.Create(scenario.Default())
	small.Record(bigExchange(1000))
	sub, _, _ := big.Subscribe(0, 0)
	defer big.Unsubscribe(sub)
	for range 200 {
		big.Record(bigExchange(capture.MaxBody))
		takeAll(sub) // a page that keeps up
	}
	if used := st.Budget().Used(); used > limit {
		t.Errorf("sessions hold %d bytes, budget %d", used, limit)
	}
	if got := small.Exchanges(0); len(got) != 1 || !strings.Contains(string(got[0]), strings.Repeat("<", 1000)) {
		t.Errorf("the small session lost its traffic: %d exchanges", len(got))
	}
	if big.Shed() == 0 || st.ShedPasses() == 0 {
		t.Fatalf("the large session was not shed (%d, %d passes)", big.Shed(), st.ShedPasses())
	}
	all := big.Exchanges(0)
	var newest capture.Exchange
	json.Unmarshal(all[len(all)-1], &newest)
	if newest.Seq != 200 || newest.Request.Body == "" || newest.Request.BodyDropped {
		t.Errorf("the newest exchange (seq %d) lost its body", newest.Seq)
	}
	if held := held(big) + held(small); st.Budget().Used() != held {
		t.Errorf("budget counts %d, sessions hold %d", st.Budget().Used(), held)
	}
}

// Dropping bodies comes before dropping exchanges, and says so.
func TestShedDropsBodiesFirstAndTellsThePage(t *testing.T) {
	st := newBudgetStore(t, 10, 1<<30)
	s, _ := st.Create(scenario.Default())
	for range 10 {
		s.Record(bigExchange(10000))
	}
	sub, _, _ := s.Subscribe(10, 0)
	defer s.Unsubscribe(sub)
	before := s.sheddable()
	s.dropBodies(1<<30, false)
	all := s.Exchanges(0)
	if len(all) != 10 || s.sheddable() > before*6/10 {
		t.Fatalf("kept %d exchanges, %d of %d bytes", len(all), s.sheddable(), before)
	}
	var first capture.Exchange
	json.Unmarshal(all[0], &first)
	if first.Request.Body != "" || !first.Request.BodyDropped || !strings.HasSuffix(first.Raw.Request, capture.BodyDropped) || first.Request.BodySize != 10000 {
		t.Errorf("the oldest exchange after shedding: %+v", first.Request)
	}
	<-sub.Ready
	if frames := takeAll(sub); len(frames) != 1 || !strings.Contains(string(frames[0]), "older traffic") {
		t.Errorf("the page was told %q", frames)
	}
}

// When what cannot be shed (bucket objects) fills the budget, a new session
// is refused with ErrBudget; when it frees, one fits again.
func TestBudgetFullRefusesNewSessions(t *testing.T) {
	st := newBudgetStore(t, 10, 1<<20)
	a, _ := st.Create(scenario.Default())
	st.SetStored(a.ID, 1<<20)
	if _, err := st.Create(scenario.Default()); !errors.Is(err, ErrBudget) {
		t.Fatalf("with a full budget: %v, want ErrBudget", err)
	}
	st.SetStored(a.ID, 0)
	if _, err := st.Create(scenario.Default()); err != nil {
		t.Fatalf("after the bucket emptied: %v", err)
	}
}

// A new session asked for while a shedding pass is at work waits for that
// pass, and is created when it made the room: under attack passes run all
// the time, and an honest learner was refused halfway through one.
func TestNewSessionWaitsForTheSheddingPass(t *testing.T) {
	st := newBudgetStore(t, 10, 1<<20)
	a, _ := st.Create(scenario.Default())
	st.SetStored(a.ID, 1<<20)
	st.shedding.mu.Lock() // another pass is at work
	created := make(chan error, 1)
	go func() {
		_, err := st.Create(scenario.Default())
		created <- err
	}()
	select {
	case err := <-created:
		st.shedding.mu.Unlock()
		t.Fatalf("Create returned during the pass: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	st.SetStored(a.ID, 0) // what the pass freed
	st.shedding.mu.Unlock()
	if err := <-created; err != nil {
		t.Fatalf("after the pass made room: %v", err)
	}
}

// A websocket that never reads pins at most MaxSubscriberBytes, counted
// against the budget until it is dropped.
func TestSubscriberQueueIsBoundedInBytes(t *testing.T) {
	st := newBudgetStore(t, 10, 1<<30)
	s, _ := st.Create(scenario.Default())
	sub, _, _ := s.Subscribe(0, 0)
	for range 100 {
		s.Record(bigExchange(capture.MaxBody))
		if q := sub.pending(); q > MaxSubscriberBytes {
			t.Fatalf("queue holds %d bytes", q)
		}
	}
	select {
	case <-sub.Gone:
	default:
		t.Fatal("a subscriber 100 large frames behind was not dropped")
	}
	if st.Budget().Used() != held(s) {
		t.Errorf("budget %d after the drop, session %d: the queue was not given back", st.Budget().Used(), held(s))
	}
}

// A run is kept once, as compact JSON, with the browser's record cut to
// what a run keeps and the cut marked.
func TestRunIsStoredOnceCompactAndCapped(t *testing.T) {
	st := newBudgetStore(t, 10, 1<<30)
	s, _ := st.Create(scenario.Default())
	var headers [][2]string
	for range 300 {
		headers = append(headers, [2]string{"X-Big", strings.Repeat("<", 1000)})
	}
	r := s.AddRun(Run{Browser: Browser{Body: strings.Repeat("<", 250<<10), Headers: headers}}, 0, nil)
	if !r.Browser.BodyTruncated || len(r.Browser.Body) != MaxRunBody || !r.Browser.HeadersTruncated || len(r.Browser.Headers) > MaxRunHeaders {
		t.Errorf("run kept a %d-byte body (truncated %v) and %d headers (truncated %v)",
			len(r.Browser.Body), r.Browser.BodyTruncated, len(r.Browser.Headers), r.Browser.HeadersTruncated)
	}
	if s.runBytes > 40<<10 || st.Budget().Used() != held(s) {
		t.Errorf("the run takes %d bytes; the budget counts %d", s.runBytes, st.Budget().Used())
	}
	page, _ := s.RunsPage(0, 10)
	if len(page) != 1 || strings.Contains(string(page[0]), `\u003c`) {
		t.Errorf("the stored run escapes < as \\u003c")
	}
	if got := s.Runs(); len(got) != 1 || got[0].Browser.Body != r.Browser.Body {
		t.Errorf("runs read back: %d", len(got))
	}
}

// Everything an expired session held goes back to the budget.
func TestExpiryGivesBytesBack(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)}
	st := NewStore(Options{Max: 10, Idle: time.Hour, Now: c.now, Budget: NewBudget(1 << 30)})
	s, _ := st.Create(scenario.Default())
	s.Record(bigExchange(5000))
	s.AddRun(Run{}, 0, nil)
	sub, _, _ := s.Subscribe(0, 0)
	s.Record(bigExchange(5000))
	s.Unsubscribe(sub)
	c.add(2 * time.Hour)
	st.Expire()
	if used := st.Budget().Used(); used != 0 {
		t.Errorf("after expiry the budget still counts %d bytes", used)
	}
}

func TestPages(t *testing.T) {
	st := newBudgetStore(t, 10, 1<<30)
	s, _ := st.Create(scenario.Default())
	for range 7 {
		s.Record(&capture.Exchange{})
		s.AddRun(Run{}, 0, nil)
	}
	if page, next := s.ExchangesPage(2, 3); len(page) != 3 || next != 5 {
		t.Errorf("exchanges after 2, 3 at most: %d, next %d", len(page), next)
	}
	if page, next := s.ExchangesPage(4, 3); len(page) != 3 || next != 0 {
		t.Errorf("exchanges after 4, 3 at most: %d, next %d", len(page), next)
	}
	if page, next := s.RunsPage(5, 10); len(page) != 2 || next != 0 {
		t.Errorf("runs after 5: %d, next %d", len(page), next)
	}
	if s.LastRun() != 7 || s.LastSeq() != 7 {
		t.Errorf("last run %d, last seq %d", s.LastRun(), s.LastSeq())
	}
}

// Many sessions with one large exchange each (a flood that makes sessions
// and sends one big request in each) cannot fill the budget: when halving
// is not enough, even the newest bodies go, and a learner still gets in.
func TestBudgetShedsEvenTheNewestWhenItMust(t *testing.T) {
	const limit = 8 << 20
	st := newBudgetStore(t, 1000, limit)
	for range 100 {
		s, err := st.Create(scenario.Default())
		if err != nil {
			t.Fatalf("session after %s of traffic: %v", bytesize.Format(st.Budget().Used()), err)
		}
		s.Record(bigExchange(capture.MaxBody))
	}
	if used := st.Budget().Used(); used > limit {
		t.Errorf("sessions hold %s, budget %s", bytesize.Format(used), bytesize.Format(limit))
	}
	if _, err := st.Create(scenario.Default()); err != nil {
		t.Errorf("a learner after the flood: %v", err)
	}
}

// takeAll takes every frame waiting for sub, as a websocket writer does.
func takeAll(sub *Subscriber) [][]byte {
	var frames [][]byte
	for f, ok := sub.Next(); ok; f, ok = sub.Next() {
		frames = append(frames, f)
	}
	return frames
}

// A refusal belongs to the run that was under way when corslab refused the
// request, not to whichever run comes next.
func TestRefusalsGoToTheRunTheyHappenedIn(t *testing.T) {
	st := newBudgetStore(t, 10, 1<<30)
	s, _ := st.Create(scenario.Default())
	s.Refuse(Refusal{Origin: "api", Status: 429}) // a flood from the console, long ago
	s.Record(&capture.Exchange{})
	s.Record(&capture.Exchange{})
	// The page had seen exchange 2 when it pressed Run: the old refusal is
	// not this run's.
	if r := s.AddRun(Run{}, 2, nil); len(r.Refused) != 0 {
		t.Errorf("a run claimed a refusal from before it started: %+v", r.Refused)
	}
	s.Refuse(Refusal{Origin: "s3", Status: 503})
	if r := s.AddRun(Run{}, 2, nil); len(r.Refused) != 1 || r.Refused[0].Origin != "s3" {
		t.Errorf("the run during which s3 was refused claims %+v", r.Refused)
	}
}

// held is what the session counts against the budget, websocket queues
// aside.
func held(s *Session) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exBytes + s.runBytes + s.scBytes
}

// A scenario counts too: it may hold a 64 KiB body, and it cannot be shed.
func TestScenarioCountsAgainstTheBudget(t *testing.T) {
	st := newBudgetStore(t, 10, 1<<30)
	s, _ := st.Create(scenario.Default())
	small := st.Budget().Used()
	if small == 0 {
		t.Fatal("a new session's scenario is not counted")
	}
	sc := scenario.Default()
	sc.Request.Method, sc.Request.Body = "POST", strings.Repeat("x", 60<<10)
	if err := s.SetScenario(sc); err != nil {
		t.Fatal(err)
	}
	if grew := st.Budget().Used() - small; grew < 60<<10 {
		t.Errorf("a 60 KiB body grew the count by %d", grew)
	}
	s.SetScenario(scenario.Default())
	if st.Budget().Used() != small {
		t.Errorf("back to the default: %d, want %d", st.Budget().Used(), small)
	}
}

// A page that was away while its traffic was shed (dropped for being slow,
// or reloaded) is told when it comes back, if it asks for what was shed.
func TestAPageThatWasAwayIsToldOfShedding(t *testing.T) {
	st := newBudgetStore(t, 10, 1<<30)
	s, _ := st.Create(scenario.Default())
	for range 10 {
		s.Record(bigExchange(10000))
	}
	s.dropOldest(1<<30, false) // exchanges 1 to 5 go
	for _, tc := range []struct {
		since uint64
		told  bool
	}{{0, true}, {4, true}, {5, false}, {10, false}} {
		sub, backlog, _ := s.Subscribe(tc.since, 0)
		s.Unsubscribe(sub)
		frames := slices.Collect(backlog.All())
		told := len(frames) > 0 && strings.Contains(string(frames[len(frames)-1]), "older traffic")
		if told != tc.told {
			t.Errorf("since %d: told %v, want %v", tc.since, told, tc.told)
		}
	}
}
