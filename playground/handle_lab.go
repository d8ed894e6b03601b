package playground

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/a-h/templ"

	"github.com/corslab/corslab/playground/scenario"
	"github.com/corslab/corslab/playground/session"
	"github.com/corslab/corslab/views"
)

// parseLabQuery splits a lab URL's query into the scenario it describes and the
// run=1 flag that documentation links use to run once on load.
func parseLabQuery(q url.Values) (sc scenario.Scenario, runOnLoad bool, errs scenario.FieldErrors) {
	runOnLoad = q.Get("run") == "1"
	q.Del("run")
	sc, errs = scenario.FromQuery(q)
	return sc, runOnLoad, errs
}

// GET /lab?<scenario>: a new session with the scenario, then its lab page.
func (s *Server) handleNewLab(w http.ResponseWriter, r *http.Request) {
	sc, _, errs := parseLabQuery(r.URL.Query())
	if errs != nil {
		s.badPermalink(w, r, errs)
		return
	}
	s.startLab(w, r, sc)
}

func (s *Server) startLab(w http.ResponseWriter, r *http.Request, sc scenario.Scenario) {
	sess, err := s.sessions.Create(sc)
	if errors.Is(err, session.ErrTooMany) {
		s.tooManySessions(w, r, "/lab")
		return
	}
	if err != nil {
		s.log.Error("creating a session", "err", err)
		http.Error(w, "could not create a session", http.StatusInternalServerError)
		return
	}
	target := "/lab/" + sess.ID
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// GET /lab/{id}?<scenario>[&run=1]: the lab page. A query sets the
// session's scenario (the address bar always carries it, so a reload or a
// copied URL restores it). An unknown or expired session becomes a new one
// with the same scenario.
func (s *Server) handleLab(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sc, runOnLoad, errs := parseLabQuery(q)
	if errs != nil {
		s.badPermalink(w, r, errs)
		return
	}
	id := r.PathValue("id")
	var sess *session.Session
	if session.ValidID(id) {
		sess = s.sessions.Get(id)
	}
	if sess == nil {
		s.startLab(w, r, sc)
		return
	}
	if len(q) > 0 {
		if err := sess.SetScenario(sc); err != nil {
			s.badPermalink(w, r, scenario.FieldErrors{"scenario": err.Error()})
			return
		}
	}
	if l := s.lesson(sess.Lesson); l != nil {
		// A lesson's session lives on its lesson page.
		http.Redirect(w, r, lessonPath(false, l.Slug)+"/"+sess.ID, http.StatusSeeOther)
		return
	}
	sc, _ = sess.Scenario()
	score := sess.Score()
	o := s.originsFor(r)
	query := sc.Query().Encode()
	render(w, r, http.StatusOK, views.Lab(views.LabData{
		SessionID: sess.ID,
		UIOrigin:  o.url(UI),
		Origins:   o.views(sess.ID),
		Scenario:  sc,
		Query:     query,
		ShareURL:  o.share(query),
		RunOnLoad: runOnLoad,
		PagePath:  "/lab/" + sess.ID,
		LastSeq:   sess.LastSeq(),
		Score:     &views.Score{Right: score.Right, Total: score.Total},
	}))
}

func (s *Server) badPermalink(w http.ResponseWriter, r *http.Request, errs scenario.FieldErrors) {
	render(w, r, http.StatusBadRequest, views.ErrorPage(views.ErrorData{
		Status:  http.StatusBadRequest,
		Title:   "This link's scenario is not valid",
		Message: "The link sets scenario fields that corslab cannot use. Nothing was changed. Fix the link, or start from the default scenario.",
		Fields:  errs,
		Back:    "/lab",
	}))
}

// GET /_corslab/runner on app, evil and api: the page that performs the
// learner's fetch() when the lab asks.
func (s *Server) handleRunner(role Role) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		o := s.originsFor(r)
		render(w, r, http.StatusOK, views.Runner(views.RunnerData{
			Role:     role.String(),
			Origin:   o.url(role),
			UIOrigin: o.url(UI),
		}))
	}
}

// The page a learner sees when opening a virtual origin in a tab.
func (s *Server) handleOriginHome(role Role) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		o := s.originsFor(r)
		id := ""
		if sess := session.FromContext(r.Context()); sess != nil {
			id = sess.ID
		}
		render(w, r, http.StatusOK, views.OriginHome(views.OriginHomeData{
			Role:     role.String(),
			Origin:   o.url(role),
			UIOrigin: o.url(UI),
			Origins:  o.views(id),
		}))
	}
}

func render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	// The status is sent: a failure now means the client went away.
	c.Render(r.Context(), w)
}
