package session

import (
	"testing"

	"github.com/corslab/corslab/playground/scenario"
)

// A page tells its session whose it is as it opens, before the learner
// chose a name: the session then belongs to them, and a name it already
// has for them stays.
func TestSetLearnerIDBeforeAName(t *testing.T) {
	st, _, _ := newTestStore(t, 5)
	s, err := st.Create(scenario.Default())
	if err != nil {
		t.Fatal(err)
	}
	v := s.Version()
	if err := s.SetLearnerID("learner-ada-01"); err != nil {
		t.Fatal(err)
	}
	if id, nick := s.Learner(); id != "learner-ada-01" || nick != "" {
		t.Errorf("after SetLearnerID: %q %q", id, nick)
	}
	if s.Version() == v {
		t.Error("SetLearnerID did not change the version the dashboard looks at")
	}

	for _, tc := range []struct {
		desc, id, wantID, wantNick string
	}{
		{"the same learner, another page without the name: the name stays", "learner-ada-01", "learner-ada-01", "Ada"},
		{"another learner takes the session: the name goes", "learner-bob-01", "learner-bob-01", ""},
	} {
		if err := s.SetLearner("learner-ada-01", "Ada"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetLearnerID(tc.id); err != nil {
			t.Fatal(err)
		}
		if id, nick := s.Learner(); id != tc.wantID || nick != tc.wantNick {
			t.Errorf("%s: %q %q, want %q %q", tc.desc, id, nick, tc.wantID, tc.wantNick)
		}
	}

	// A bad id is refused, naming the field, and changes nothing.
	for _, bad := range []string{"", "short", "has space-123", string(make([]byte, 65))} {
		err := s.SetLearnerID(bad)
		if fe, ok := err.(*FieldError); !ok || fe.Field != "learner" {
			t.Errorf("SetLearnerID(%q): %v, want a learner field error", bad, err)
		}
	}
	if id, _ := s.Learner(); id != "learner-bob-01" {
		t.Errorf("refused ids changed the learner to %q", id)
	}
}
