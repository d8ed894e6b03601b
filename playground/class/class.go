// Package class is what an instructor sees of a workshop: who is in it (by
// the nickname each learner chose), how far each has got in every lesson,
// how many runs each lesson has seen and how many of them the browser
// blocked, and the lesson the instructor has asked everyone to open.
package class

import "time"

// Snapshot is the class at one moment, as the dashboard shows it. It is
// what GET /teach/api/class answers and what the /teach/ws websocket sends
// (as {"type":"class", ...Snapshot}) whenever something changed.
type Snapshot struct {
	At       time.Time `json:"at"`
	Lessons  []Lesson  `json:"lessons"`  // in the curriculum's order
	Learners []Learner `json:"learners"` // by nickname, then id
	// Sessions is every live session; Online those with a page watching.
	Sessions int `json:"sessions"`
	Online   int `json:"online"`
	// Announcement is the lesson everyone was asked to open, or nil.
	Announcement *Announcement `json:"announcement"`
}

// Lesson is one lesson's totals over the whole class.
type Lesson struct {
	Slug  string `json:"slug"`
	Title string `json:"title"`
	Track string `json:"track"`
	Goals []Goal `json:"goals"`
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

// Learner is one person: the sessions their browser opened, grouped by
// the learner id it keeps in localStorage. A session whose page has not
// told its learner yet is a learner of its own, with no nickname.
type Learner struct {
	ID       string `json:"id"`
	Nickname string `json:"nickname"` // "" when they have not chosen one
	// Current is the session they used last: the one to watch.
	Current Current `json:"current"`
	// Lessons is their progress per lesson slug, for lessons they opened.
	Lessons map[string]Progress `json:"lessons"`
}

// Current is a learner's most recently used session.
type Current struct {
	Session  string    `json:"session"`
	Lesson   string    `json:"lesson"` // its lesson's slug, "" for the plain lab
	LastSeen time.Time `json:"lastSeen"`
	Online   bool      `json:"online"` // a page of it has its websocket open
	WatchURL string    `json:"watchUrl"`
}

// Progress is how far a learner got in one lesson, over every session
// they opened for it: a goal met once stays met.
type Progress struct {
	Met     []string `json:"met"` // ids of the goals met, in the lesson's order
	Total   int      `json:"total"`
	Done    bool     `json:"done"`
	Runs    int      `json:"runs"`
	Blocked int      `json:"blocked"`
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
