package playground

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/corslab/corslab/playground/capture"
	"github.com/corslab/corslab/playground/lesson"
	"github.com/corslab/corslab/playground/origins"
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
	mux.Handle("GET /api/sessions/{id}/cookies", s.withSession(s.handleCookies))
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

// lessonOrigin is the UI origin a lesson's page must be on for the browser
// behind r, when it needs a host of its own (corslab.localhost): its
// origins must then be one site that has subdomains, which an IP address
// or localhost cannot be. It is "" when the lesson works on r's host: it
// names none, or r's host is not loopback (a workshop's LAN address),
// where a .localhost name would reach the learner's own machine, not this
// server.
func (s *Server) lessonOrigin(r *http.Request, l *lesson.Lesson) string {
	if l.Host == "" || !isLoopbackHost(s.originsFor(r).host) {
		return ""
	}
	return "http://" + net.JoinHostPort(l.Host, strconv.Itoa(s.ports[UI]))
}

// lessonURL is the link to lesson l's page from a page served for r: its
// path, or its whole address on the host it needs (lessonOrigin), even
// from that host. So a link names a host only when the lesson needs that
// one; static/progress.js relies on it: it sends the learner back to the
// host they came from on a path, and carries their progress along.
func (s *Server) lessonURL(r *http.Request, l *lesson.Lesson) string {
	return s.lessonOrigin(r, l) + lessonPath(false, l.Slug)
}

// moveToLessonHost sends a browser that opened a lesson that needs a host
// of its own (lessonOrigin) on another loopback host (127.0.0.1,
// localhost) to that host, same port, path and query. It reports whether
// it redirected.
//
// localStorage is per origin, and the learner's progress is kept in the
// one of the host they came from, their home. The redirect names it in the
// fragment, #home=http://127.0.0.1:8080, so that the lesson's links lead
// back there (static/progress.js). A fragment in Location replaces the
// request's own, so corslab's own links to such a lesson name its host
// (lessonURL) and never come through here with the progress they carry.
func (s *Server) moveToLessonHost(w http.ResponseWriter, r *http.Request, l *lesson.Lesson) bool {
	o := s.originsFor(r)
	to := s.lessonOrigin(r, l)
	if to == "" || o.host == l.Host {
		return false
	}
	http.Redirect(w, r, to+r.URL.RequestURI()+"#home="+o.url(UI), http.StatusFound)
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
	v.Number = i + 1
	if i > 0 {
		p := s.cfg.Lessons[i-1]
		v.Prev = &views.LessonLink{Number: i, Slug: p.Slug, Title: p.Title, URL: s.lessonURL(r, p)}
	}
	if i >= 0 && i+1 < len(s.cfg.Lessons) {
		n := s.cfg.Lessons[i+1]
		v.Next = &views.LessonLink{Number: i + 2, Slug: n.Slug, Title: n.Title, URL: s.lessonURL(r, n)}
	}
	return v
}

// GET /lessons: every lesson, by track.
func (s *Server) handleLessonIndex(w http.ResponseWriter, r *http.Request) {
	var data views.LessonIndexData
	for _, t := range lesson.Tracks() {
		tv := views.TrackView{ID: t.ID, Title: t.Title}
		for n, l := range s.cfg.Lessons {
			if l.Track != t.ID {
				continue
			}
			ls := views.LessonSummary{Number: n + 1, Slug: l.Slug, Title: l.Title, Summary: l.Summary, URL: s.lessonURL(r, l), Order: l.Order}
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

// loginCookieReport is what a session's runs show of the api's login
// cookie (origins.LoginCookie) in the learner's browser.
type loginCookieReport struct {
	// LoggedIn: the api's latest answer that set the cookie, to a run,
	// set it (POST /login), rather than deleting it (POST /logout).
	LoggedIn bool `json:"loggedIn"`
	// Withheld: after such a login, a run from the app's page with
	// credentials: "include" reached the api without the cookie.
	Withheld bool `json:"withheld"`
}

// GET /api/sessions/{id}/cookies: whether the browser keeps the api's
// login cookie back. From the app's page the api is on the same site
// (ports do not count), so a browser that sends cookies at all sends it;
// it keeps it back when the page is in a frame on another site, where the
// cookie is a third-party one (SameSite=Lax, and Chromium's third-party
// cookie blocking). The embed view asks this to tell a learner whose
// cookie lesson cannot work in it (static/embed-cookies.js).
func (s *Server) handleCookies(w http.ResponseWriter, r *http.Request, sess *session.Session) {
	writeJSON(w, http.StatusOK, reportLoginCookie(sess))
}

// reportLoginCookie reads the session's runs, oldest first, and the
// exchanges each one caused at the api. Only runs count: a login from curl
// puts no cookie in the browser.
func reportLoginCookie(sess *session.Session) loginCookieReport {
	var rep loginCookieReport
	for _, run := range sess.RunsAfter(0) {
		if len(run.Refused) > 0 {
			continue // corslab refused part of it: it says nothing of the browser
		}
		q := run.Request
		credentialed := q.Credentials == "include" && q.From == "app"
		for _, raw := range sess.ExchangesBySeq(run.Exchanges) {
			var ex capture.Exchange
			if json.Unmarshal(raw, &ex) != nil || ex.Origin != API.String() {
				continue
			}
			if set, ok := setsLoginCookie(&ex.Response); ok {
				rep.LoggedIn = set
				continue
			}
			// A preflight never carries cookies (fetch.spec.whatwg.org/#cors-preflight-fetch).
			if rep.LoggedIn && credentialed && ex.Kind != "preflight" && !hasLoginCookie(&ex.Request) {
				rep.Withheld = true
			}
		}
	}
	return rep
}

// setsLoginCookie reports whether a response sets the login cookie (set)
// or deletes it (!set), or does neither (!ok).
func setsLoginCookie(m *capture.Message) (set, ok bool) {
	for _, h := range m.Headers {
		if !strings.EqualFold(h[0], "Set-Cookie") {
			continue
		}
		if c, err := http.ParseSetCookie(h[1]); err == nil && c.Name == origins.LoginCookie {
			return c.Value != "" && c.MaxAge >= 0, true
		}
	}
	return false, false
}

// hasLoginCookie reports whether a request carried the login cookie.
func hasLoginCookie(m *capture.Message) bool {
	for _, h := range m.Headers {
		if !strings.EqualFold(h[0], "Cookie") {
			continue
		}
		if cookies, err := http.ParseCookie(h[1]); err == nil &&
			slices.ContainsFunc(cookies, func(c *http.Cookie) bool { return c.Name == origins.LoginCookie }) {
			return true
		}
	}
	return false
}

func (s *Server) noSuchLesson(w http.ResponseWriter, r *http.Request) {
	render(w, r, http.StatusNotFound, views.ErrorPage(views.ErrorData{
		Status:  http.StatusNotFound,
		Title:   "No such lesson",
		Message: "There is no lesson at " + url.PathEscape(r.PathValue("slug")) + ". The index lists them all.",
		Back:    "/lessons",
	}))
}
