package class

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// Roll gathers a class's sessions into learners: one Learner per learner
// id, so that the tabs and sessions of one person are one row of the
// dashboard, online while any of their pages is.
type Roll struct {
	rows map[string]*row
}

type row struct {
	Learner
	all   []Session
	named time.Time // LastSeen of the session Nickname comes from
}

// Add puts one session in its learner's row and returns that learner, for
// the caller to add the session's progress to. learner is "" when the
// session's page has not said whose it is: the session is then a learner
// of its own. The nickname shown is the one of their most recently used
// session that has one, so a new page that has not sent the name yet
// does not hide it.
func (r *Roll) Add(learner, nickname string, s Session) *Learner {
	key := learner
	if key == "" {
		key = "session:" + s.Session
	}
	if r.rows == nil {
		r.rows = map[string]*row{}
	}
	ln := r.rows[key]
	if ln == nil {
		ln = &row{Learner: Learner{ID: learner, Lessons: map[string]Progress{}}}
		r.rows[key] = ln
	}
	s.Online = s.Pages > 0
	ln.all = append(ln.all, s)
	ln.Pages += s.Pages
	if nickname != "" && (ln.Nickname == "" || s.LastSeen.After(ln.named)) {
		ln.Nickname, ln.named = nickname, s.LastSeen
	}
	return &ln.Learner
}

// Learners returns the rows, by nickname (no name first), then by id.
// Each lists its most recently used sessions, at most MaxListed, the first
// being Current.
func (r *Roll) Learners() []Learner {
	out := make([]Learner, 0, len(r.rows))
	for _, ln := range r.rows {
		slices.SortFunc(ln.all, func(a, b Session) int {
			if c := b.LastSeen.Compare(a.LastSeen); c != 0 {
				return c
			}
			return strings.Compare(a.Session, b.Session)
		})
		l := ln.Learner
		l.Online = l.Pages > 0
		l.Current = ln.all[0]
		l.SessionCount = len(ln.all)
		l.Sessions = slices.Clone(ln.all[:min(len(ln.all), MaxListed)])
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b Learner) int {
		return cmp.Or(
			strings.Compare(strings.ToLower(a.Nickname), strings.ToLower(b.Nickname)),
			strings.Compare(a.ID, b.ID),
			strings.Compare(a.Current.Session, b.Current.Session),
		)
	})
	return out
}
