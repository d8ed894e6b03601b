package class

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2025, 1, 2, 10, 0, 0, 0, time.UTC)

// at is a session of the class, used mins minutes after t0, with pages
// of its own open.
func at(id string, mins, pages int) Session {
	return Session{Session: id, Lesson: "origins", LastSeen: t0.Add(time.Duration(mins) * time.Minute), Pages: pages}
}

type seat struct {
	learner, nickname string
	s                 Session
}

func TestRollGroupsALearnersTabsAndSessions(t *testing.T) {
	for _, tc := range []struct {
		desc  string
		seats []seat
		want  []string // per row: nickname/id: its sessions, most recent first
	}{
		{
			desc:  "a session whose page has not said whose it is, is a row of its own",
			seats: []seat{{"", "", at("s1", 1, 1)}, {"", "", at("s2", 2, 1)}},
			want:  []string{"/: s1", "/: s2"},
		},
		{
			desc: "one learner id, three sessions: one row, the newest first",
			seats: []seat{
				{"learner-ada", "Ada", at("s1", 1, 0)},
				{"learner-ada", "Ada", at("s3", 3, 1)},
				{"learner-ada", "Ada", at("s2", 2, 1)},
			},
			want: []string{"Ada/learner-ada: s3 s2 s1"},
		},
		{
			desc: "before choosing a name, a learner's sessions are already one row",
			seats: []seat{
				{"learner-ada", "", at("s1", 1, 1)},
				{"learner-ada", "", at("s2", 2, 1)},
				{"learner-bob", "Bob", at("s3", 3, 1)},
			},
			want: []string{"/learner-ada: s2 s1", "Bob/learner-bob: s3"},
		},
		{
			desc: "a new page that has not sent the name yet does not hide it",
			seats: []seat{
				{"learner-ada", "Ada", at("s1", 1, 1)},
				{"learner-ada", "", at("s2", 2, 1)},
			},
			want: []string{"Ada/learner-ada: s2 s1"},
		},
		{
			desc: "a learner who renamed themselves shows their newest name",
			seats: []seat{
				{"learner-ada", "Ada L", at("s2", 2, 1)},
				{"learner-ada", "Ada", at("s1", 1, 1)},
			},
			want: []string{"Ada L/learner-ada: s2 s1"},
		},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			var r Roll
			for _, s := range tc.seats {
				r.Add(s.learner, s.nickname, s.s)
			}
			var got []string
			for _, ln := range r.Learners() {
				row := ln.Nickname + "/" + ln.ID + ":"
				for _, s := range ln.Sessions {
					row += " " + s.Session
				}
				if ln.Current != ln.Sessions[0] || ln.SessionCount != len(ln.Sessions) {
					t.Errorf("%s: current %s, %d sessions counted", row, ln.Current.Session, ln.SessionCount)
				}
				got = append(got, row)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got rows %q, want %q", got, tc.want)
			}
		})
	}
}

// A learner who opened many sessions lists their newest MaxListed, and
// counts them all, pages and progress included: the row stays bounded.
func TestRollListsAtMostMaxListedSessions(t *testing.T) {
	var r Roll
	n := MaxListed + 5
	for i := range n {
		r.Add("learner-ada", "Ada", at(fmt.Sprintf("s%02d", i), i, 1))
	}
	ln := r.Learners()[0]
	if len(ln.Sessions) != MaxListed || ln.SessionCount != n || ln.Pages != n {
		t.Fatalf("%d sessions listed of %d, %d pages; want %d of %d, %d pages", len(ln.Sessions), ln.SessionCount, ln.Pages, MaxListed, n, n)
	}
	if ln.Sessions[0].Session != fmt.Sprintf("s%02d", n-1) || ln.Sessions[MaxListed-1].Session != fmt.Sprintf("s%02d", n-MaxListed) {
		t.Errorf("listed %s … %s, want the newest", ln.Sessions[0].Session, ln.Sessions[MaxListed-1].Session)
	}
}

// A learner is online while any page of any of their sessions is: closing
// the tab they used last leaves them online through the other.
func TestRollOnlineWhileAnyPageIs(t *testing.T) {
	for _, tc := range []struct {
		desc     string
		sessions []Session
		online   bool
		pages    int
	}{
		{"the session used last has no page open, an older one has", []Session{at("old", 1, 1), at("new", 2, 0)}, true, 1},
		{"two tabs of one session, and another session's tab", []Session{at("a", 1, 2), at("b", 2, 1)}, true, 3},
		{"every tab closed", []Session{at("a", 1, 0), at("b", 2, 0)}, false, 0},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			var r Roll
			for _, s := range tc.sessions {
				r.Add("learner-ada", "Ada", s)
			}
			ln := r.Learners()[0]
			if ln.Online != tc.online || ln.Pages != tc.pages {
				t.Errorf("online %v with %d pages, want %v with %d", ln.Online, ln.Pages, tc.online, tc.pages)
			}
			for _, s := range ln.Sessions {
				if s.Online != (s.Pages > 0) {
					t.Errorf("session %s: online %v with %d pages", s.Session, s.Online, s.Pages)
				}
			}
		})
	}
}

// Progress says which goals are met, by position in the lesson, not only
// how many: goals 1, 2 and 4 met over two sessions are true, true, false,
// true.
func TestProgressGoalPositions(t *testing.T) {
	goals := []string{"g1", "g2", "g3", "g4"}
	in := func(ids ...string) func(string) bool {
		return func(id string) bool { return slices.Contains(ids, id) }
	}
	for _, tc := range []struct {
		desc      string
		sessions  [][]string // the goals each session met
		wantGoals []bool
		wantMet   []string
		done      bool
	}{
		{"none met", [][]string{{}}, []bool{false, false, false, false}, []string{}, false},
		{"goals 1, 2 and 4, in two sessions", [][]string{{"g4", "g1"}, {"g2"}}, []bool{true, true, false, true}, []string{"g1", "g2", "g4"}, false},
		{"goal 3 alone", [][]string{{"g3"}}, []bool{false, false, true, false}, []string{"g3"}, false},
		{"all four", [][]string{{"g1", "g2"}, {"g3", "g4"}}, []bool{true, true, true, true}, []string{"g1", "g2", "g3", "g4"}, true},
		{"a goal the lesson no longer has is not counted", [][]string{{"gone", "g2"}}, []bool{false, true, false, false}, []string{"g2"}, false},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			var p Progress
			for _, met := range tc.sessions {
				p = p.With(goals, in(met...), 2, 1)
			}
			if !slices.Equal(p.Goals, tc.wantGoals) || !slices.Equal(p.Met, tc.wantMet) || p.Done != tc.done || p.Total != 4 {
				t.Errorf("got goals %v, met %v, done %v, total %d; want %v, %v, %v, 4", p.Goals, p.Met, p.Done, p.Total, tc.wantGoals, tc.wantMet, tc.done)
			}
			if n := len(tc.sessions); p.Runs != 2*n || p.Blocked != n {
				t.Errorf("%d runs, %d blocked; want %d and %d", p.Runs, p.Blocked, 2*n, n)
			}
		})
	}
}
