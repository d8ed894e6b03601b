package session

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/corslab/corslab/playground/capture"
	"github.com/corslab/corslab/playground/cors"
	"github.com/corslab/corslab/playground/scenario"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestStore(t *testing.T, max int) (*Store, *clock, *[]string) {
	t.Helper()
	c := &clock{t: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	var expired []string
	st := NewStore(Options{Max: max, Idle: 2 * time.Hour, Now: c.now, OnExpire: func(s *Session) { expired = append(expired, s.ID) }})
	return st, c, &expired
}

func TestIDs(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := newID("")
		if !ValidID(id) || strings.ToLower(id) != id || len(id) != 26 {
			t.Fatalf("bad id %q", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
	for _, bad := range []string{"", "abc", strings.Repeat("A", 26), strings.Repeat("a", 25) + "1", strings.Repeat("a", 27)} {
		if ValidID(bad) {
			t.Errorf("ValidID(%q) = true", bad)
		}
	}
}

func TestReplicaIDs(t *testing.T) {
	for n := range MaxReplicas {
		st := NewStore(Options{Max: 10, Idle: time.Hour, IDPrefix: ReplicaPrefix(n)})
		seen := map[string]bool{}
		for range 5 {
			s, err := st.Create(scenario.Default())
			if err != nil {
				t.Fatal(err)
			}
			if !ValidID(s.ID) || s.ID[:1] != ReplicaPrefix(n) || seen[s.ID] {
				t.Fatalf("replica %d made id %q", n, s.ID)
			}
			seen[s.ID] = true
		}
	}
	if ReplicaPrefix(0) != "a" || ReplicaPrefix(MaxReplicas-1) != "7" {
		t.Errorf("replica letters: %q to %q", ReplicaPrefix(0), ReplicaPrefix(MaxReplicas-1))
	}
}

func TestCapLeavesSessionsInUseAlone(t *testing.T) {
	st, c, expired := newTestStore(t, 2)
	a, err := st.Create(scenario.Default())
	if err != nil {
		t.Fatal(err)
	}
	a.Record(&capture.Exchange{}) // in use: captured traffic
	c.add(time.Minute)
	b, _ := st.Create(scenario.Default())
	sub, _, _ := b.Subscribe(0, 0) // in use: a page watches it
	defer b.Unsubscribe(sub)
	if _, err := st.Create(scenario.Default()); !errors.Is(err, ErrTooMany) {
		t.Fatalf("third session: got %v, want ErrTooMany", err)
	}
	if st.Get(a.ID) == nil || st.Get(b.ID) == nil || st.Len() != 2 {
		t.Fatal("an existing session was evicted to make room")
	}
	// Both were just used by Get; two hours later they are idle and expire,
	// and a new session fits again.
	b.Unsubscribe(sub)
	c.add(2*time.Hour + time.Second)
	if _, err := st.Create(scenario.Default()); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if len(*expired) != 2 || st.Get(a.ID) != nil {
		t.Errorf("expired %v; a still there: %v", *expired, st.Get(a.ID) != nil)
	}
}

// A flood of sessions that never do anything (an <img src=/lab> on a
// page, a script) must not keep a class out: at the cap the least recently
// used unused one goes, and unused ones expire after UnusedIdle.
func TestUnusedSessionsGoFirst(t *testing.T) {
	st, c, expired := newTestStore(t, 3)
	used, _ := st.Create(scenario.Default())
	used.AddRun(Run{}, 0, nil)
	c.add(time.Second)
	old, _ := st.Create(scenario.Default())
	c.add(time.Second)
	young, _ := st.Create(scenario.Default())
	c.add(time.Second)
	if _, err := st.Create(scenario.Default()); err != nil {
		t.Fatalf("at the cap with unused sessions: %v", err)
	}
	if st.Peek(old.ID) != nil || st.Peek(young.ID) == nil || st.Peek(used.ID) == nil {
		t.Errorf("evicted %v; want only the least recently used unused session %s", *expired, old.ID)
	}
	c.add(DefaultUnusedIdle + time.Second)
	st.Expire()
	if st.Peek(young.ID) != nil || st.Peek(used.ID) == nil {
		t.Errorf("after %s: unused session kept %v, used session kept %v", DefaultUnusedIdle, st.Peek(young.ID) != nil, st.Peek(used.ID) != nil)
	}
}

func TestUseKeepsSessionAlive(t *testing.T) {
	st, c, _ := newTestStore(t, 10)
	s, _ := st.Create(scenario.Default())
	for range 3 {
		c.add(time.Hour)
		s.Record(&capture.Exchange{Origin: "api"}) // traffic counts as use
		st.Expire()
	}
	if st.Get(s.ID) == nil {
		t.Fatal("a session in use expired")
	}
	c.add(2*time.Hour + time.Second)
	st.Expire()
	if st.Get(s.ID) != nil {
		t.Fatal("an idle session did not expire")
	}
}

func TestRingKeepsTheNewest(t *testing.T) {
	st, _, _ := newTestStore(t, 1)
	s, _ := st.Create(scenario.Default())
	for range MaxExchanges + 10 {
		s.Record(&capture.Exchange{Origin: "api"})
	}
	all := s.Exchanges(0)
	if len(all) != MaxExchanges {
		t.Fatalf("kept %d, want %d", len(all), MaxExchanges)
	}
	var first, last capture.Exchange
	json.Unmarshal(all[0], &first)
	json.Unmarshal(all[len(all)-1], &last)
	if first.Seq != 11 || last.Seq != MaxExchanges+10 {
		t.Errorf("kept seq %d..%d, want 11..%d", first.Seq, last.Seq, MaxExchanges+10)
	}
	if got := s.Exchanges(MaxExchanges + 5); len(got) != 5 {
		t.Errorf("since %d: %d exchanges, want 5", MaxExchanges+5, len(got))
	}
	if got := s.Exchanges(MaxExchanges + 10); len(got) != 0 {
		t.Errorf("since the newest: %d exchanges, want 0", len(got))
	}
}

func TestRingByteBudget(t *testing.T) {
	st, _, _ := newTestStore(t, 1)
	s, _ := st.Create(scenario.Default())
	body := strings.Repeat("x", capture.MaxBody)
	for range 80 {
		s.Record(&capture.Exchange{Request: capture.Message{Body: body}, Response: capture.Message{Body: body}})
	}
	if s.exBytes > MaxExchangeBytes {
		t.Errorf("ring holds %d bytes, budget %d", s.exBytes, MaxExchangeBytes)
	}
	if got := len(s.Exchanges(0)); got == 0 || got == 80 {
		t.Errorf("kept %d of 80 large exchanges", got)
	}
}

func TestSubscribeBacklogThenLive(t *testing.T) {
	st, _, _ := newTestStore(t, 1)
	s, _ := st.Create(scenario.Default())
	for range 3 {
		s.Record(&capture.Exchange{})
	}
	s.AddRun(Run{URL: "http://x"}, 1, nil)
	sub, backlog, _ := s.Subscribe(1, 0)
	defer s.Unsubscribe(sub)
	var kinds []string
	for f := range backlog.All() {
		kinds = append(kinds, frameSummary(t, f))
	}
	s.Record(&capture.Exchange{})
	<-sub.Ready
	kinds = append(kinds, frameSummary(t, takeAll(sub)[0]))
	want := "exchange 2, exchange 3, run 1 [2 3], exchange 4"
	if got := strings.Join(kinds, ", "); got != want {
		t.Errorf("frames: got %s, want %s", got, want)
	}
}

func frameSummary(t *testing.T, frame []byte) string {
	t.Helper()
	var f struct {
		Type     string
		Exchange capture.Exchange
		Run      Run
	}
	if err := json.Unmarshal(frame, &f); err != nil {
		t.Fatalf("frame %s: %v", frame, err)
	}
	if f.Type == "run" {
		return fmt.Sprintf("run %d %v", f.Run.ID, f.Run.Exchanges)
	}
	return fmt.Sprintf("%s %d", f.Type, f.Exchange.Seq)
}

func TestSlowSubscriberIsDroppedNotWaitedOn(t *testing.T) {
	st, _, _ := newTestStore(t, 1)
	s, _ := st.Create(scenario.Default())
	slow, _, _ := s.Subscribe(0, 0)
	done := make(chan struct{})
	go func() {
		for range 100 { // nobody takes slow's frames
			s.Record(&capture.Exchange{Request: capture.Message{Body: strings.Repeat("x", MaxSubscriberBytes/50)}})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Record blocked on a slow subscriber")
	}
	select {
	case <-slow.Gone:
	default:
		t.Fatal("the slow subscriber was not dropped")
	}
	if n := s.Subscribers(); n != 0 {
		t.Errorf("%d subscribers left", n)
	}
	s.Unsubscribe(slow) // after a drop: must not panic
}

func TestRunClaimsExchangesAfterSince(t *testing.T) {
	st, _, _ := newTestStore(t, 1)
	s, _ := st.Create(scenario.Default())
	s.Record(&capture.Exchange{})
	s.Record(&capture.Exchange{})
	r := s.AddRun(Run{}, 1, nil)
	if len(r.Exchanges) != 1 || r.Exchanges[0] != 2 || r.ID != 1 {
		t.Errorf("run %d claims %v, want run 1 with [2]", r.ID, r.Exchanges)
	}
	// A page whose stream lags behind (since 0) cannot take exchange 2
	// from run 1: it gets only what came after.
	s.Record(&capture.Exchange{})
	if r := s.AddRun(Run{}, 0, nil); len(r.Exchanges) != 1 || r.Exchanges[0] != 3 {
		t.Errorf("a lagging run claims %v, want [3]", r.Exchanges)
	}
	for range MaxRuns + 5 {
		s.AddRun(Run{}, 2, nil)
	}
	if runs := s.Runs(); len(runs) != MaxRuns || runs[len(runs)-1].ID != MaxRuns+7 {
		t.Errorf("kept %d runs", len(runs))
	}
}

func TestUsers(t *testing.T) {
	u := newUsers()
	if n := len(u.List()); n != 3 {
		t.Fatalf("seeded %d users", n)
	}
	if _, err := u.Create(User{Username: "ada"}); !errors.Is(err, ErrTaken) {
		t.Errorf("duplicate username: %v", err)
	}
	if _, err := u.Create(User{Username: "bad name"}); !errors.Is(err, ErrBadUser) {
		t.Errorf("bad username: %v", err)
	}
	token, who, err := u.Login("grace")
	if err != nil || who.Username != "grace" {
		t.Fatalf("login: %v %v", who, err)
	}
	if got, err := u.Whoami(token); err != nil || got.ID != who.ID {
		t.Errorf("whoami: %v %v", got, err)
	}
	u.Delete(who.ID)
	if _, err := u.Whoami(token); err == nil {
		t.Error("a deleted user's login still works")
	}
	for i := len(u.List()); i < MaxUsers; i++ {
		if _, err := u.Create(User{Username: fmt.Sprintf("user%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := u.Create(User{Username: "onemore"}); !errors.Is(err, ErrUsersFull) {
		t.Errorf("over the cap: %v", err)
	}
}

func TestPredictionsAreScoredAgainstTheBrowser(t *testing.T) {
	st, _, _ := newTestStore(t, 1)
	s, _ := st.Create(scenario.Default())
	blockedAtPreflight := func([]json.RawMessage, *cors.Cache) cors.Verdict {
		return cors.Verdict{OK: false, Stage: cors.StagePreflight}
	}
	tests := []struct {
		desc       string
		browserOK  bool
		prediction *Prediction
		wantRight  bool
		wantAgrees bool
	}{
		{"right about the block and where", false, &Prediction{OK: false, Stage: "preflight"}, true, true},
		{"right about the block, wrong about where", false, &Prediction{OK: false, Stage: "response"}, false, true},
		{"right about the block, without saying where", false, &Prediction{OK: false}, true, true},
		{"predicted success", false, &Prediction{OK: true}, false, true},
		{"the browser let it through, as predicted, the model did not", true, &Prediction{OK: true}, true, false},
	}
	for _, tt := range tests {
		r := s.AddRun(Run{Browser: Browser{OK: tt.browserOK}, Prediction: tt.prediction}, 0, blockedAtPreflight)
		if r.Prediction.Correct != tt.wantRight || r.Verdict.Agrees != tt.wantAgrees {
			t.Errorf("%s: correct=%v agrees=%v, want %v %v", tt.desc, r.Prediction.Correct, r.Verdict.Agrees, tt.wantRight, tt.wantAgrees)
		}
	}
	s.AddRun(Run{}, 0, blockedAtPreflight) // no prediction: not scored
	if got := s.Score(); got != (Score{Right: 3, Total: 5}) {
		t.Errorf("score %+v, want 3 of 5", got)
	}
}
