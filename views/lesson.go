package views

// LessonView is a lesson as the lesson page and the embed view show it,
// beside the lab. LabData.Lesson carries it; nil on the plain lab.
type LessonView struct {
	Slug       string `json:"slug"`
	Title      string `json:"title"`
	Track      string `json:"track"`      // track id: basics, credentials, s3, attacks
	TrackTitle string `json:"trackTitle"` // "S3 and redirects"
	Summary    string `json:"summary"`
	// HTML is the lesson's text, rendered from Markdown by goldmark with raw
	// HTML disabled: safe to insert with templ.Raw.
	HTML  string     `json:"-"`
	Goals []GoalView `json:"goals"`
	Hints []string   `json:"hints"`
	Links []LinkView `json:"links"`
	// Show lists the scenario field paths the form shows ("request.method",
	// or a group: "request", "api", "bucket", "setup", "proxy"); empty
	// shows every field. Lock lists fields shown but not editable.
	Show []string    `json:"show"`
	Lock []string    `json:"lock"`
	Prev *LessonLink `json:"prev,omitempty"`
	Next *LessonLink `json:"next,omitempty"`
	// ShareURL opens this lesson in a new session in its current state
	// (/lessons/{slug}?<changes from the lesson's start>); EmbedURL is the
	// same for the embed view (/embed/{slug}?…); LabURL opens the full
	// lesson page from the embed view.
	ShareURL string `json:"shareUrl"`
	EmbedURL string `json:"embedUrl"`
	LabURL   string `json:"labUrl"`
	// GoalsURL answers the goals' live state for this session:
	// GET → [{"id", "met", "at", "run", "seq"}].
	GoalsURL string `json:"goalsUrl"`
}

// GoalView is one goal as the learner reads it.
type GoalView struct {
	ID    string `json:"id"`
	Text  string `json:"text"`
	After string `json:"after,omitempty"` // the goal it must follow, if any
}

// LinkView is a further-reading link.
type LinkView struct {
	Title string `json:"title"`
	URL   string `json:"url"`
}

// LessonLink points at another lesson.
type LessonLink struct {
	Slug  string `json:"slug"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

// LessonIndexData is the /lessons page: every lesson, by track.
type LessonIndexData struct {
	Tracks []TrackView
}

// TrackView is one track of the index.
type TrackView struct {
	ID, Title string
	Lessons   []LessonSummary
}

// LessonSummary is a lesson in the index.
type LessonSummary struct {
	Slug, Title, Summary, URL string
	Order                     int
	GoalIDs                   []string // for progress: which goals localStorage says are done
}
