package session

import (
	"encoding/json"
	"testing"

	"github.com/corslab/corslab/playground/cors"
	"github.com/corslab/corslab/playground/scenario"
)

// heldByRing adds up what the ring keeps of each exchange.
func heldByRing(s *Session) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for i := range s.exchanges {
		n += s.exchanges[i].Bytes()
	}
	return n
}

// The budget counts what the ring keeps of each exchange, and gets every
// byte back when the ring forgets the exchange, when shedding drops
// bodies or whole exchanges, and when the session closes.
func TestKeptExchangesCountAgainstTheBudget(t *testing.T) {
	st := newBudgetStore(t, 10, 1<<30)
	s, _ := st.Create(scenario.Default())
	base := st.Budget().Used() // the scenario
	check := func(when string) {
		t.Helper()
		s.mu.Lock()
		exBytes := s.exBytes
		s.mu.Unlock()
		if ring := heldByRing(s); exBytes != ring {
			t.Errorf("%s: exBytes %d, the ring holds %d", when, exBytes, ring)
		}
		if st.Budget().Used() != held(s) {
			t.Errorf("%s: budget %d, session %d", when, st.Budget().Used(), held(s))
		}
	}

	ex := benchExchange()
	for range MaxExchanges + 10 {
		e := ex
		s.Record(&e)
	}
	check("past the ring's length")
	s.mu.Lock()
	first := s.exchanges[0].id()
	s.mu.Unlock()
	if first != 11 {
		t.Errorf("the ring starts at exchange %d; want 11", first)
	}

	s.dropBodies(1<<30, true)
	check("after shedding every body")
	s.dropOldest(1<<30, true)
	check("after shedding all but the newest")

	st.remove(s)
	if used := st.Budget().Used(); used != 0 {
		t.Errorf("after the session closed the budget counts %d bytes, want 0 (the scenario was %d)", used, base)
	}
}

// AddExplainedRun hands the engine exactly the exchanges the
// run claims, shed bodies or not, and returns the JSON the session keeps
// and sends.
func TestAddExplainedRun(t *testing.T) {
	st := newBudgetStore(t, 10, 1<<30)
	s, _ := st.Create(scenario.Default())
	sub, _, _ := s.Subscribe(0, 0)
	ex := benchExchange()
	for range 3 {
		e := ex
		s.Record(&e)
	}
	s.dropBodies(1<<30, true) // the engine needs no body
	takeAll(sub)

	var got []uint64
	run, doc := s.AddExplainedRun(Run{URL: "http://x"}, 1, func(exs []cors.Exchange, cache *cors.Cache) cors.Verdict {
		for _, e := range exs {
			got = append(got, e.Seq)
			if e.URL != "http://127.0.0.1:8082/s1/users" || e.Status != 200 || len(e.RequestHeaders) != len(ex.Request.Headers) {
				t.Errorf("view of exchange %d: %s %d, %d request headers", e.Seq, e.URL, e.Status, len(e.RequestHeaders))
			}
		}
		return cors.Verdict{OK: true, Stage: "response"}
	})
	if len(got) != 2 || got[0] != 2 || got[1] != 3 || len(run.Exchanges) != 2 {
		t.Errorf("the engine saw exchanges %v, the run claims %v; want [2 3]", got, run.Exchanges)
	}
	frames := takeAll(sub)
	if len(frames) != 1 || string(frames[0]) != runPrefix+string(doc)+"}" {
		t.Fatalf("the page got %q, want the run's JSON %s in a frame", frames, doc)
	}
	page, _ := s.RunsPage(0, 10)
	if len(page) != 1 || string(page[0]) != string(doc) {
		t.Errorf("the session keeps %s, AddExplainedRun returned %s", page, doc)
	}
	var back Run
	if err := json.Unmarshal(doc, &back); err != nil || back.ID != run.ID || back.Verdict == nil || !back.Verdict.OK {
		t.Errorf("the run's JSON reads back as %+v, %v", back, err)
	}
}
