// Package class is what an instructor sees of a workshop: who is in it (by
// the nickname each learner chose), how far each has got in every lesson,
// how many runs each lesson has seen and how many of them the browser
// blocked, and the lesson the instructor has asked everyone to open.
package class

import "time"

// MaxListed bounds the sessions one Learner lists: a learner who opened
// more shows their most recent ones, and SessionCount says how many there
// are. Every session still counts toward their progress and Pages.
const MaxListed = 8

// Snapshot is the class at one moment, as the dashboard shows it. It is
// what GET /teach/api/class answers and what the /teach/ws websocket sends
// (as {"type":"class", ...Snapshot}) whenever something changed.
type Snapshot struct {
	At       time.Time `json:"at"`
	Lessons  []Lesson  `json:"lessons"`  // in the curriculum's order
	Learners []Learner `json:"learners"` // by nickname, then id
	// Sessions is every live session; Online the learners with a page open.
	Sessions int `json:"sessions"`
	Online   int `json:"online"`
	// Announcement is the lesson everyone was asked to open, or nil.
	Announcement *Announcement `json:"announcement"`
}

// Lesson is one lesson's totals over the whole class.
type Lesson struct {
	// Number is the lesson's place in the whole curriculum, from 1, as the
	// lesson index numbers it: lessons are numbered across tracks, not
	// within each.
	Number int    `json:"number"`
	Slug   string `json:"slug"`
	Title  string `json:"title"`
	Track  string `json:"track"`
	Goals  []Goal `json:"goals"`
	// Runs counts every run made on this lesson's pages since start-up,
	// Blocked those where JS did not get the response.
	Runs    int `json:"runs"`
	Blocked int `json:"blocked"`
	// Started and Done count learners who opened it and who met every goal.
	Started int `json:"started"`
	Done    int `json:"done"`
}

// Goal is one goal of a lesson.
type Goal struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

// Learner is one person: every session their browser opened, grouped by
// the learner id it keeps in localStorage and tells each session. A
// session whose page has not told its learner yet is a learner of its own,
// with no nickname.
type Learner struct {
	ID       string `json:"id"`
	Nickname string `json:"nickname"` // "" when they have not chosen one
	// Online is true while any page of any of their sessions has its
	// websocket open; Pages counts those pages (tabs). The instructor's
	// own read-only views are not the learner's pages.
	Online bool `json:"online"`
	Pages  int  `json:"pages"`
	// Current is the session they used last: the one to watch.
	Current Session `json:"current"`
	// Sessions are their sessions, the most recently used first: at most
	// MaxListed of them, out of SessionCount.
	Sessions     []Session `json:"sessions"`
	SessionCount int       `json:"sessionCount"`
	// Lessons is their progress per lesson slug, for lessons they opened.
	Lessons map[string]Progress `json:"lessons"`
}

// Session is one of a learner's sessions.
type Session struct {
	Session  string    `json:"session"`
	Lesson   string    `json:"lesson"` // its lesson's slug, "" for the plain lab
	LastSeen time.Time `json:"lastSeen"`
	Online   bool      `json:"online"` // a page of it has its websocket open
	Pages    int       `json:"pages"`  // how many of its pages do
	WatchURL string    `json:"watchUrl"`
}

// Progress is how far a learner got in one lesson, over every session
// they opened for it: a goal met once stays met.
type Progress struct {
	Met []string `json:"met"` // ids of the goals met, in the lesson's order
	// Goals has one entry per goal of the lesson, in its order: whether
	// that goal is met. The dashboard draws a dot for each.
	Goals   []bool `json:"goals"`
	Total   int    `json:"total"`
	Done    bool   `json:"done"`
	Runs    int    `json:"runs"`
	Blocked int    `json:"blocked"`
}

// With is p with one more session's part in the lesson added: the goals
// (ids, in the lesson's order) that session met, and its runs. A goal met
// in any session is met.
func (p Progress) With(goals []string, met func(id string) bool, runs, blocked int) Progress {
	had := make(map[string]bool, len(p.Met))
	for _, id := range p.Met {
		had[id] = true
	}
	out := Progress{
		Met: []string{}, Goals: make([]bool, len(goals)), Total: len(goals),
		Runs: p.Runs + runs, Blocked: p.Blocked + blocked,
	}
	for i, id := range goals {
		if had[id] || met(id) {
			out.Met = append(out.Met, id)
			out.Goals[i] = true
		}
	}
	out.Done = out.Total > 0 && len(out.Met) == out.Total
	return out
}

// Announcement is the instructor's "everyone, open lesson X". ID grows with
// every announcement, so a page can tell a new one from one it dismissed.
type Announcement struct {
	ID     int       `json:"id"`
	Lesson string    `json:"lesson"`
	Title  string    `json:"title"`
	URL    string    `json:"url"` // the lesson's path on the UI origin: /lessons/{slug}
	At     time.Time `json:"at"`
}
