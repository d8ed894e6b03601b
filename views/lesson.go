package views

import "strconv"

// LessonView is a lesson as the lesson page and the embed view show it,
// beside the lab. LabData.Lesson carries it; nil on the plain lab.
type LessonView struct {
	Slug  string `json:"slug"`
	Title string `json:"title"`
	// Number is the lesson's place in the whole curriculum, from 1, in
	// the index's order (by track, then order): the one number the index,
	// the lesson page, the texts ("lesson 7") and the dashboard use.
	Number     int    `json:"number"`
	Track      string `json:"track"`      // track id: basics, credentials, s3, attacks, doors
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
	Slug   string `json:"slug"`
	Title  string `json:"title"`
	URL    string `json:"url"`
	Number int    `json:"number"` // as LessonView.Number
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
	Order                     int      // its place in its track (the front matter's order)
	Number                    int      // its place in the whole curriculum, as LessonView.Number
	GoalIDs                   []string // for progress: which goals localStorage says are done
}

// labTitle is the browser tab's title: the lesson's, after its number
// ("7. Signed URLs…", as the dashboard lists it), or the session's on the
// plain lab.
func labTitle(d LabData) string {
	if d.Lesson != nil {
		if d.Lesson.Number > 0 {
			return strconv.Itoa(d.Lesson.Number) + ". " + d.Lesson.Title
		}
		return d.Lesson.Title
	}
	return "Lab " + shortID(d.SessionID)
}

func copyLinkTitle(d LabData) string {
	if d.Lesson != nil {
		return "Copy a link that opens this lesson, with your changes, in a new session"
	}
	return "Copy a link that opens a new session with this scenario"
}

// goalCountText is how the page counts goals before it knows which are
// met: "3 goals".
func goalCountText(n int) string {
	if n == 1 {
		return "1 goal"
	}
	return strconv.Itoa(n) + " goals"
}

// lessonNumber numbers list items from 1: the goals of a lesson. (A
// lesson's own number is LessonView.Number, and LessonSummary.Number.)
func lessonNumber(i int) string { return strconv.Itoa(i + 1) }

// numberText is the index card's number: "7".
func (l LessonSummary) numberText() string { return strconv.Itoa(l.Number) }

// lessonLabel names a lesson by its number in the curriculum: "Lesson 7".
// Empty when the number is not known (0).
func lessonLabel(n int) string {
	if n <= 0 {
		return ""
	}
	return "Lesson " + strconv.Itoa(n)
}

// prevLabel and nextLabel head the links to the lessons before and after
// this one: "← Lesson 6", "Lesson 8 →", or "← Previous", "Next →" when the
// number is not known.
func prevLabel(p *LessonLink) string {
	if p == nil || p.Number <= 0 {
		return "← Previous"
	}
	return "← " + lessonLabel(p.Number)
}

func nextLabel(n *LessonLink) string {
	if n == nil || n.Number <= 0 {
		return "Next →"
	}
	return lessonLabel(n.Number) + " →"
}

// goalRef names a goal of the lesson by its number: "goal 1".
func (l *LessonView) goalRef(id string) string {
	for i, g := range l.Goals {
		if g.ID == id {
			return "goal " + lessonNumber(i)
		}
	}
	return "goal “" + id + "”"
}
