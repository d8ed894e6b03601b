package playground

import (
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/corslab/corslab/playground/lesson"
	"github.com/corslab/corslab/playground/scenario"
	"github.com/corslab/corslab/playground/session"
	"github.com/corslab/corslab/views"
)

// lessonRoutes adds the curriculum: the index, deep links into lessons,
// the embed view and the goals' live state.
func (s *Server) lessonRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /lessons", s.handleLessonIndex)
	mux.HandleFunc("GET /lessons/{slug}", s.handleNewLesson(false))
	mux.HandleFunc("GET /lessons/{slug}/{id}", s.handleLesson(false))
	mux.HandleFunc("GET /embed/{slug}", s.handleNewLesson(true))
	mux.HandleFunc("GET /embed/{slug}/{id}", s.handleLesson(true))
	mux.HandleFunc("GET /api/lessons", s.handleLessonList)
	mux.Handle("GET /api/sessions/{id}/goals", s.withSession(s.handleGoals))
}

func (s *Server) lesson(slug string) *lesson.Lesson {
	i := slices.IndexFunc(s.cfg.Lessons, func(l *lesson.Lesson) bool { return l.Slug == slug })
	if i < 0 {
		return nil
	}
	return s.cfg.Lessons[i]
}

// roleURLs names each virtual origin for a lesson's {app}, {api}, {s3} and
// {evil}.
func (o originSet) roleURLs() map[string]string {
	return map[string]string{"app": o.url(App), "api": o.url(API), "s3": o.url(S3), "evil": o.url(Evil)}
}

// lessonStart is a lesson's starting scenario for the browser behind r.
func (s *Server) lessonStart(r *http.Request, l *lesson.Lesson) scenario.Scenario {
	return l.Start(s.originsFor(r).roleURLs())
}

// moveToLessonHost sends a browser that opened a lesson with a Host of its
// own on another loopback host (127.0.0.1, localhost) to that host, same
// port and address: its origins must be one site that has subdomains, which
// an IP address or localhost cannot be. On a host that is not loopback
// (a workshop's LAN address) a .localhost name would reach the learner's
// own machine, not this server, so the lesson stays. It reports whether it
// redirected.
func (s *Server) moveToLessonHost(w http.ResponseWriter, r *http.Request, l *lesson.Lesson) bool {
	here := s.originsFor(r).host
	if l.Host == "" || here == l.Host || !isLoopbackHost(here) {
		return false
	}
	http.Redirect(w, r, "http://"+net.JoinHostPort(l.Host, strconv.Itoa(s.ports[UI]))+r.URL.RequestURI(), http.StatusFound)
	return true
}

// lessonPath is where a lesson page or its embed view lives.
func lessonPath(embed bool, slug string) string {
	if embed {
		return "/embed/" + slug
	}
	return "/lessons/" + slug
}

func withQuery(u, query string) string {
	if query == "" {
		return u
	}
	return u + "?" + query
}

// GET /lessons/{slug}?<changes>[&run=1] and /embed/{slug}?…: a new session
// with the lesson's scenario and the changes, then its page.
func (s *Server) handleNewLesson(embed bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		l := s.lesson(r.PathValue("slug"))
		if l == nil {
			s.noSuchLesson(w, r)
			return
		}
		if s.moveToLessonHost(w, r, l) {
			return
		}
		sc, _, errs := s.lessonQuery(r, l)
		if errs != nil {
			s.badPermalink(w, r, errs)
			return
		}
		sess := s.createSession(w, r, sc, l.Slug, lessonPath(embed, l.Slug))
		if sess == nil {
			return
		}
		http.Redirect(w, r, withQuery(lessonPath(embed, l.Slug)+"/"+sess.ID, r.URL.RawQuery), http.StatusSeeOther)
	}
}

// lessonQuery reads a lesson link's query: changes to the lesson's start,
// and run=1.
func (s *Server) lessonQuery(r *http.Request, l *lesson.Lesson) (scenario.Scenario, bool, scenario.FieldErrors) {
	q := r.URL.Query()
	run, runErr := runParam(q["run"])
	q.Del("run")
	sc, errs := scenario.Patch(s.lessonStart(r, l), q)
	return sc, run, withRunError(errs, runErr)
}

// GET /lessons/{slug}/{id}?<changes>[&run=1] and /embed/{slug}/{id}?…: the
// lesson beside the lab. Like /lab/{id}, a query sets the scenario, and an
// unknown or expired session becomes a new one.
func (s *Server) handleLesson(embed bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		l := s.lesson(r.PathValue("slug"))
		if l == nil {
			s.noSuchLesson(w, r)
			return
		}
		if s.moveToLessonHost(w, r, l) {
			return
		}
		sc, runOnLoad, errs := s.lessonQuery(r, l)
		if errs != nil {
			s.badPermalink(w, r, errs)
			return
		}
		id := r.PathValue("id")
		sess := s.findSession(id)
		if sess == nil || sess.Lesson != l.Slug {
			s.handleNewLesson(embed)(w, r)
			return
		}
		changes := r.URL.Query()
		changes.Del("run") // run=1 alone changes nothing
		if len(changes) > 0 {
			if err := sess.SetScenario(sc); err != nil {
				s.badPermalink(w, r, scenario.FieldErrors{"scenario": err.Error()})
				return
			}
		}
		s.renderLesson(w, r, sess, embed, runOnLoad)
	}
}

func (s *Server) renderLesson(w http.ResponseWriter, r *http.Request, sess *session.Session, embed, runOnLoad bool) {
	d := s.labData(r, sess, embed)
	d.RunOnLoad = runOnLoad
	render(w, r, http.StatusOK, views.Lab(d))
}

func (s *Server) lessonView(r *http.Request, l *lesson.Lesson, id, query string) *views.LessonView {
	ui := s.originsFor(r).url(UI)
	v := &views.LessonView{
		Slug: l.Slug, Title: l.Title, Track: l.Track, Summary: l.Summary, HTML: l.HTML,
		Hints: l.Hints, Show: l.Show, Lock: l.Lock,
		ShareURL: withQuery(ui+lessonPath(false, l.Slug), query),
		EmbedURL: withQuery(ui+lessonPath(true, l.Slug), query),
		LabURL:   withQuery(ui+lessonPath(false, l.Slug)+"/"+id, query),
		GoalsURL: "/api/sessions/" + id + "/goals",
	}
	for _, t := range lesson.Tracks() {
		if t.ID == l.Track {
			v.TrackTitle = t.Title
		}
	}
	for _, g := range l.Goals {
		v.Goals = append(v.Goals, views.GoalView{ID: g.ID, Text: g.Text, After: g.After})
	}
	for _, link := range l.Links {
		v.Links = append(v.Links, views.LinkView{Title: link.Title, URL: link.URL})
	}
	// Prev and next follow the index: by track, then order.
	i := slices.Index(s.cfg.Lessons, l)
	if i > 0 {
		p := s.cfg.Lessons[i-1]
		v.Prev = &views.LessonLink{Slug: p.Slug, Title: p.Title, URL: lessonPath(false, p.Slug)}
	}
	if i >= 0 && i+1 < len(s.cfg.Lessons) {
		n := s.cfg.Lessons[i+1]
		v.Next = &views.LessonLink{Slug: n.Slug, Title: n.Title, URL: lessonPath(false, n.Slug)}
	}
	return v
}

// GET /lessons: every lesson, by track.
func (s *Server) handleLessonIndex(w http.ResponseWriter, r *http.Request) {
	var data views.LessonIndexData
	for _, t := range lesson.Tracks() {
		tv := views.TrackView{ID: t.ID, Title: t.Title}
		for _, l := range s.cfg.Lessons {
			if l.Track != t.ID {
				continue
			}
			ls := views.LessonSummary{Slug: l.Slug, Title: l.Title, Summary: l.Summary, URL: lessonPath(false, l.Slug), Order: l.Order}
			for _, g := range l.Goals {
				ls.GoalIDs = append(ls.GoalIDs, g.ID)
			}
			tv.Lessons = append(tv.Lessons, ls)
		}
		if len(tv.Lessons) > 0 {
			data.Tracks = append(data.Tracks, tv)
		}
	}
	render(w, r, http.StatusOK, views.LessonIndex(data))
}

// GET /api/lessons: the lessons, for scripts and the index's progress.
func (s *Server) handleLessonList(w http.ResponseWriter, r *http.Request) {
	type item struct {
		Slug    string           `json:"slug"`
		Title   string           `json:"title"`
		Track   string           `json:"track"`
		Order   int              `json:"order"`
		Summary string           `json:"summary"`
		URL     string           `json:"url"`
		Goals   []views.GoalView `json:"goals"`
	}
	list := []item{}
	for _, l := range s.cfg.Lessons {
		it := item{Slug: l.Slug, Title: l.Title, Track: l.Track, Order: l.Order, Summary: l.Summary, URL: lessonPath(false, l.Slug)}
		for _, g := range l.Goals {
			it.Goals = append(it.Goals, views.GoalView{ID: g.ID, Text: g.Text, After: g.After})
		}
		list = append(list, it)
	}
	writeJSON(w, http.StatusOK, list)
}

// GET /api/sessions/{id}/goals: the goals of the session's lesson, each met
// or not, checked against its runs and exchanges now. Only what arrived
// since the last check is read (lesson.Progress, shared with the
// instructor's dashboard), so a page polling it costs what is new, not
// the whole exchange ring.
func (s *Server) handleGoals(w http.ResponseWriter, r *http.Request, sess *session.Session) {
	l := s.lesson(sess.Lesson)
	if l == nil {
		writeJSONError(w, http.StatusNotFound, "this session was not opened for a lesson: open one at /lessons")
		return
	}
	writeJSON(w, http.StatusOK, s.teach.goals(sess.ID).Update(l, sess))
}

func (s *Server) noSuchLesson(w http.ResponseWriter, r *http.Request) {
	render(w, r, http.StatusNotFound, views.ErrorPage(views.ErrorData{
		Status:  http.StatusNotFound,
		Title:   "No such lesson",
		Message: "There is no lesson at " + url.PathEscape(r.PathValue("slug")) + ". The index lists them all.",
		Back:    "/lessons",
	}))
}
