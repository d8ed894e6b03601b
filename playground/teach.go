package playground

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/corslab/corslab/playground/class"
	"github.com/corslab/corslab/playground/lesson"
	"github.com/corslab/corslab/playground/session"
	"github.com/corslab/corslab/views"
)

// The instructor's dashboard lives under /teach on the UI origin. It needs
// the token corslab printed at start-up: opening /teach?token=T once sets
// a cookie that only /teach paths carry, and scripts may send the token as
// "Authorization: Bearer T" instead.
const (
	teachCookie = "corslab_teach"
	// teachEvery is how often a dashboard's websocket looks for news.
	teachEvery = time.Second
)

// teacher is the server's view of the class: counts that outlive sessions,
// each session's goal progress, and the current announcement.
type teacher struct {
	token [sha256.Size]byte // of the token; zero when there is no dashboard
	open  bool

	mu           sync.Mutex
	lessonRuns   map[string]*runCount // by lesson slug, since start-up
	progress     map[string]*sessionProgress
	announcement *class.Announcement
	announced    int // the last announcement's id
	// last is the newest snapshot and the state it was taken in; building
	// lets one caller at a time make a new one.
	building sync.Mutex
	last     *class.Snapshot
	lastKey  uint64
	lastAt   time.Time
}

type runCount struct{ runs, blocked int }

// sessionProgress is one session's standing in its lesson. A goal met once
// stays met, even when the ring has since dropped what met it.
type sessionProgress struct {
	runCount
	met     map[string]bool
	version uint64 // the session's version when its goals were last checked
	// goals is brought up to date by the lesson page's polls and by the
	// dashboard alike, so each run and exchange is looked at once. It
	// guards itself: use it without holding teacher.mu.
	goals lesson.Progress
}

func newTeacher(token string) *teacher {
	t := &teacher{
		open:       token != "",
		lessonRuns: make(map[string]*runCount),
		progress:   make(map[string]*sessionProgress),
	}
	if t.open {
		t.token = sha256.Sum256([]byte(token))
	}
	return t
}

// asksNames reports whether learner pages ask for the name the dashboard
// shows them by (lab-data's "workshop"): whenever an instructor could be
// looking, that is whenever the dashboard is on. Workshop mode always
// turns it on (it makes a token when none was given); --teach-token on a
// laptop does too.
func (s *Server) asksNames() bool { return s.cfg.Workshop || s.teach.open }

// allowed reports whether r carries the token, in the cookie or as a bearer
// token. Hashing first makes the comparison constant-time whatever the
// lengths.
func (t *teacher) allowed(r *http.Request) bool {
	if !t.open {
		return false
	}
	given := ""
	if c, err := r.Cookie(teachCookie); err == nil {
		given = c.Value
	}
	if auth := r.Header.Get("Authorization"); strings.HasPrefix(auth, "Bearer ") {
		given = strings.TrimPrefix(auth, "Bearer ")
	}
	return t.matches(given)
}

func (t *teacher) matches(token string) bool {
	sum := sha256.Sum256([]byte(token))
	return t.open && token != "" && subtle.ConstantTimeCompare(sum[:], t.token[:]) == 1
}

// countRun adds a run to its lesson's and its session's counts.
func (t *teacher) countRun(sess *session.Session, ok bool) {
	if sess.Lesson == "" {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	lc := t.lessonRuns[sess.Lesson]
	if lc == nil {
		lc = new(runCount)
		t.lessonRuns[sess.Lesson] = lc
	}
	p := t.progressOf(sess.ID)
	lc.runs++
	p.runs++
	if !ok {
		lc.blocked++
		p.blocked++
	}
}

// progressOf returns the session's progress entry, making it. Called with
// t.mu held.
func (t *teacher) progressOf(id string) *sessionProgress {
	p := t.progress[id]
	if p == nil {
		p = &sessionProgress{met: map[string]bool{}}
		t.progress[id] = p
	}
	return p
}

// goals returns the session's goal progress, for its lesson page.
func (t *teacher) goals(id string) *lesson.Progress {
	t.mu.Lock()
	defer t.mu.Unlock()
	return &t.progressOf(id).goals
}

// forget drops an expired session's progress.
func (t *teacher) forget(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.progress, id)
}

// teachRoutes adds the dashboard's routes to the UI origin.
func (s *Server) teachRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /teach", s.handleTeach)
	mux.Handle("GET /teach/api/class", s.teacherOnly(s.handleClass))
	mux.Handle("POST /teach/api/announce", s.teacherOnly(s.handleAnnounce))
	mux.Handle("GET /teach/ws", s.teacherOnly(s.handleTeachWS))
	mux.Handle("GET /teach/learners/{id}", s.teacherOnly(s.handleWatch))
	mux.Handle("/teach/", s.teacherOnly(func(w http.ResponseWriter, r *http.Request) {
		writeJSONError(w, http.StatusNotFound, "no such page: "+r.Method+" "+r.URL.Path)
	}))
}

// teacherOnly lets only the instructor through. A learner who finds the
// path gets 401 and nothing else: not even whether a session exists.
func (s *Server) teacherOnly(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.teach.allowed(r) {
			if strings.HasPrefix(r.URL.Path, "/teach/api/") || r.URL.Path == "/teach/ws" {
				writeJSONError(w, http.StatusUnauthorized, "the instructor's dashboard needs the token corslab printed at start-up")
				return
			}
			s.teachRefused(w, r)
			return
		}
		h(w, r)
	})
}

func (s *Server) teachRefused(w http.ResponseWriter, r *http.Request) {
	msg := "This is the instructor's dashboard. Open the link corslab printed when it started: it carries the token."
	if !s.teach.open {
		msg = "This corslab has no instructor's dashboard: start it with --teach-token, or in workshop mode (--listen 0.0.0.0), to get one."
	}
	render(w, r, http.StatusUnauthorized, views.ErrorPage(views.ErrorData{
		Status: http.StatusUnauthorized, Title: "Instructors only", Message: msg, Back: "/lessons",
	}))
}

// GET /teach, or /teach?token=T to sign in: the token moves into a cookie
// and out of the address bar, the history and the projector.
func (s *Server) handleTeach(w http.ResponseWriter, r *http.Request) {
	if token := r.URL.Query().Get("token"); token != "" {
		if !s.teach.matches(token) {
			s.teachRefused(w, r)
			return
		}
		http.SetCookie(w, &http.Cookie{
			Name: teachCookie, Value: token, Path: "/teach",
			MaxAge: int((12 * time.Hour).Seconds()), HttpOnly: true, SameSite: http.SameSiteStrictMode,
		})
		http.Redirect(w, r, "/teach", http.StatusSeeOther)
		return
	}
	if !s.teach.allowed(r) {
		s.teachRefused(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	render(w, r, http.StatusOK, views.Teach(views.TeachData{
		Class:      *s.snapshot(),
		LearnerURL: s.originsFor(r).url(UI) + "/lessons",
	}))
}

// GET /teach/api/class
func (s *Server) handleClass(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, s.snapshot())
}

// POST /teach/api/announce {"lesson": "preflight"}: ask every learner's
// page to open a lesson; {"lesson": ""} takes the request back.
func (s *Server) handleAnnounce(w http.ResponseWriter, r *http.Request) {
	// A page of another origin on the same site (the evil origin is one)
	// would carry the SameSite cookie: only the dashboard itself may post.
	if origin := r.Header.Get("Origin"); origin != "" && origin != s.originsFor(r).url(UI) {
		writeJSONError(w, http.StatusForbidden, "announcements come from the dashboard's own origin, not "+origin)
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		writeJSONError(w, http.StatusUnsupportedMediaType, "send the announcement as application/json")
		return
	}
	data, ok := readBody(w, r)
	if !ok {
		return
	}
	var req struct {
		Lesson string `json:"lesson"`
	}
	if err := decodeJSON(data, &req); err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	var a *class.Announcement
	if req.Lesson != "" {
		l := s.lesson(req.Lesson)
		if l == nil {
			writeJSONError(w, http.StatusBadRequest, "lesson: no lesson has the slug "+strconv.Quote(req.Lesson))
			return
		}
		a = &class.Announcement{Lesson: l.Slug, Title: l.Title, URL: lessonPath(false, l.Slug), At: time.Now().UTC()}
	}
	s.teach.announce(a, s.sessions.All())
	writeJSON(w, http.StatusOK, a)
}

// announce makes a the current announcement (nil: none) and sends it to
// every page of the sessions. Holding t.mu while sending keeps it in order
// with subscribe: a page gets each announcement once.
func (t *teacher) announce(a *class.Announcement, sessions []*session.Session) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.announced++
	if a != nil {
		a.ID = t.announced
	}
	t.announcement = a
	t.last = nil
	frame := announceFrame(t.announced, a)
	for _, sess := range sessions {
		sess.Send(frame)
	}
}

// subscribe subscribes to sess, adding the current announcement (if there
// has been one) to the backlog: a page that (re)connects learns it.
func (t *teacher) subscribe(sess *session.Session, since uint64, runsSince int) (*session.Subscriber, *session.Backlog, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	sub, backlog, err := sess.Subscribe(since, runsSince)
	if err == nil && t.announced > 0 {
		backlog.Add(announceFrame(t.announced, t.announcement))
	}
	return sub, backlog, err
}

// announceFrame is {"type":"announce", ...a}; a cleared announcement is
// one with lesson "".
func announceFrame(id int, a *class.Announcement) []byte {
	if a == nil {
		a = &class.Announcement{ID: id}
	}
	frame, _ := json.Marshal(struct {
		Type string `json:"type"`
		*class.Announcement
	}{"announce", a})
	return frame
}

// GET /teach/learners/{id}: a learner's lab or lesson page, read-only, for
// the projector. Watching does not keep the session alive.
func (s *Server) handleWatch(w http.ResponseWriter, r *http.Request) {
	sess := s.sessions.Peek(r.PathValue("id"))
	if sess == nil {
		render(w, r, http.StatusNotFound, views.ErrorPage(views.ErrorData{
			Status: http.StatusNotFound, Title: "No such session",
			Message: "That learner's session has expired or never existed.", Back: "/teach",
		}))
		return
	}
	d := s.labData(r, sess, false)
	d.ReadOnly = true
	d.Workshop = false
	_, d.Watching = sess.Learner() // "": the page says the learner has no name yet
	if d.Lesson != nil {
		d.Lesson.GoalsURL += "?watch=1"
	}
	w.Header().Set("Cache-Control", "no-store")
	render(w, r, http.StatusOK, views.Lab(d))
}

// PUT /api/sessions/{id}/learner {"learner": id, "nickname": name}: whose
// session this is, for the instructor's dashboard. A page sends it as it
// opens, with "nickname": null until the learner chose a name, so that
// the dashboard shows every tab and session of theirs in one row even
// before they did; a name given must be 1 to 40 characters.
func (s *Server) handleSetLearner(w http.ResponseWriter, r *http.Request, sess *session.Session) {
	data, ok := readBody(w, r)
	if !ok {
		return
	}
	var req struct {
		Learner  string  `json:"learner"`
		Nickname *string `json:"nickname"`
	}
	if err := decodeJSON(data, &req); err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	var err error
	if req.Nickname == nil {
		err = sess.SetLearnerID(req.Learner)
	} else {
		err = sess.SetLearner(req.Learner, *req.Nickname)
	}
	if err != nil {
		if fe, ok := err.(*session.FieldError); ok {
			writeJSON(w, http.StatusBadRequest, map[string]any{"errors": map[string]string{fe.Field: fe.Rule}})
			return
		}
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	id, nick := sess.Learner()
	writeJSON(w, http.StatusOK, map[string]string{"learner": id, "nickname": nick})
}

// GET /teach/ws: the class, sent again whenever it changed (checked every
// teachEvery). A dashboard that cannot keep up is dropped, like any other.
func (s *Server) handleTeachWS(w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	if !s.openSocket() {
		writeFrame(conn, websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "corslab is stopping"))
		return
	}
	defer s.sockets.Done()
	closed := readUntilClosed(conn)
	ping := time.NewTicker(wsPingPeriod)
	defer ping.Stop()
	tick := time.NewTicker(teachEvery)
	defer tick.Stop()
	var sent *class.Snapshot
	for {
		if snap := s.snapshot(); snap != sent {
			sent = snap
			frame, err := json.Marshal(struct {
				Type string `json:"type"`
				*class.Snapshot
			}{"class", snap})
			if err != nil || !writeFrame(conn, websocket.TextMessage, frame) {
				return
			}
		}
		select {
		case <-tick.C:
		case <-ping.C:
			if !writeFrame(conn, websocket.PingMessage, nil) {
				return
			}
		case <-s.closing:
			writeFrame(conn, websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "corslab is stopping"))
			return
		case <-closed:
			return
		}
	}
}

// snapshot returns the class as it is now. While nothing changes, it is the
// same *Snapshot as last time, so callers can tell news by the pointer; it
// is rebuilt at most once per teachEvery/2, by one caller at a time.
func (s *Server) snapshot() *class.Snapshot {
	t := s.teach
	t.building.Lock()
	defer t.building.Unlock()
	all := s.sessions.All()
	// The key changes when any session changes, or one comes or goes.
	key := uint64(len(all))
	for _, sess := range all {
		key = key*31 + sess.Version() + uint64(sess.Subscribers())
	}
	t.mu.Lock()
	last, fresh := t.last, t.lastKey == key || time.Since(t.lastAt) < teachEvery/2
	t.mu.Unlock()
	if last != nil && fresh {
		return last
	}
	snap := s.buildSnapshot(all)
	t.mu.Lock()
	t.last, t.lastKey, t.lastAt = snap, key, time.Now()
	t.mu.Unlock()
	return snap
}

// buildSnapshot adds up the class. Goals are checked without holding
// s.teach.mu, so that recording runs never waits for it.
func (s *Server) buildSnapshot(all []*session.Session) *class.Snapshot {
	t := s.teach
	now := time.Now()
	t.mu.Lock()
	snap := &class.Snapshot{At: now.UTC(), Sessions: len(all), Announcement: t.announcement}
	for i, l := range s.cfg.Lessons {
		cl := class.Lesson{Number: i + 1, Slug: l.Slug, Title: l.Title, Track: l.Track, Goals: []class.Goal{}}
		for _, g := range l.Goals {
			cl.Goals = append(cl.Goals, class.Goal{ID: g.ID, Text: g.Text})
		}
		if c := t.lessonRuns[l.Slug]; c != nil {
			cl.Runs, cl.Blocked = c.runs, c.blocked
		}
		snap.Lessons = append(snap.Lessons, cl)
	}
	t.mu.Unlock()
	lessons := make(map[string]*class.Lesson, len(snap.Lessons))
	for i := range snap.Lessons {
		lessons[snap.Lessons[i].Slug] = &snap.Lessons[i]
	}

	// One row per learner id: every tab and session of theirs is in it.
	var roll class.Roll
	for _, sess := range all {
		id, nick := sess.Learner()
		ln := roll.Add(id, nick, class.Session{
			Session: sess.ID, Lesson: sess.Lesson, LastSeen: sess.LastUsed().UTC(),
			Pages: learnerPages(sess), WatchURL: "/teach/learners/" + sess.ID,
		})
		if l := s.lesson(sess.Lesson); l != nil {
			p := s.checkGoals(l, sess)
			ln.Lessons[l.Slug] = t.merge(l, ln.Lessons[l.Slug], p)
		}
	}
	snap.Learners = roll.Learners()
	for _, ln := range snap.Learners {
		if ln.Online {
			snap.Online++
		}
		for slug, p := range ln.Lessons {
			cl := lessons[slug]
			cl.Started++
			if p.Done {
				cl.Done++
			}
		}
	}
	return snap
}

// learnerPages counts the session's pages that are the learner's: its
// websockets, less the instructor's read-only views of it.
func learnerPages(sess *session.Session) int {
	return max(0, sess.Subscribers()-int(sess.Watchers.Load()))
}

// checkGoals brings a lesson session's progress up to date if it changed,
// and returns it. Checking reads only what the session recorded since the
// last check, by the dashboard or by the lesson page (lesson.Progress), so
// it needs no throttle.
func (s *Server) checkGoals(l *lesson.Lesson, sess *session.Session) *sessionProgress {
	t := s.teach
	t.mu.Lock()
	p := t.progressOf(sess.ID)
	v := sess.Version()
	changed := v != p.version
	t.mu.Unlock()
	if !changed {
		return p
	}
	states := p.goals.Update(l, sess)
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, st := range states {
		if st.Met {
			p.met[st.ID] = true
		}
	}
	p.version = v
	return p
}

// merge adds one session's progress in lesson l to what the same learner
// made in their other sessions of it.
func (t *teacher) merge(l *lesson.Lesson, have class.Progress, p *sessionProgress) class.Progress {
	goals := make([]string, len(l.Goals))
	for i, g := range l.Goals {
		goals[i] = g.ID
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return have.With(goals, func(id string) bool { return p.met[id] }, p.runs, p.blocked)
}
