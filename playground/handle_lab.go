package playground

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/a-h/templ"

	"github.com/corslab/corslab/playground/scenario"
	"github.com/corslab/corslab/playground/session"
	"github.com/corslab/corslab/views"
)

// parseLabQuery splits a lab URL's query into the scenario it describes and the
// run=1 flag that documentation links use to run once on load.
func parseLabQuery(q url.Values) (sc scenario.Scenario, runOnLoad bool, errs scenario.FieldErrors) {
	runOnLoad, runErr := runParam(q["run"])
	q.Del("run")
	sc, errs = scenario.FromQuery(q)
	return sc, runOnLoad, withRunError(errs, runErr)
}

// runParam reads the values of a page link's run parameter (the lab, a
// lesson, the matrix): run=1 runs the request once when the page opens, as
// links from documentation want. It returns whether to run, and what is
// wrong with the parameter, if anything, for the error page to list like
// any other.
func runParam(vals []string) (run bool, msg string) {
	switch {
	case len(vals) == 0:
		return false, ""
	case len(vals) > 1:
		return false, "given more than once"
	case vals[0] != "1":
		return false, fmt.Sprintf("must be 1 (run when the page opens), or left out; got %q", vals[0])
	}
	return true, ""
}

// withRunError adds runParam's message, if any, to a link's other errors.
func withRunError(errs scenario.FieldErrors, msg string) scenario.FieldErrors {
	if msg == "" {
		return errs
	}
	if errs == nil {
		errs = scenario.FieldErrors{}
	}
	errs["run"] = msg
	return errs
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
	sess := s.createSession(w, r, sc, "", "/lab")
	if sess == nil {
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
	sess := s.findSession(id)
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
	d := s.labData(r, sess, false)
	d.RunOnLoad = runOnLoad
	render(w, r, http.StatusOK, views.Lab(d))
}

// labData is what a session's page shows: the lab, or for a session opened
// for a lesson, that lesson's page (or with embed, its embed view).
func (s *Server) labData(r *http.Request, sess *session.Session, embed bool) views.LabData {
	o := s.originsFor(r)
	sc, _ := sess.Scenario()
	score := sess.Score()
	d := views.LabData{
		SessionID: sess.ID,
		UIOrigin:  o.url(UI),
		Origins:   o.views(sess.ID),
		Scenario:  sc,
		LastSeq:   sess.LastSeq(),
		Score:     &views.Score{Right: score.Right, Total: score.Total},
		Workshop:  s.asksNames(),
	}
	l := s.lesson(sess.Lesson)
	if l == nil {
		d.Query = sc.Query().Encode()
		d.ShareURL = o.share(d.Query)
		d.PagePath = "/lab/" + sess.ID
		return d
	}
	d.Query = sc.QueryFrom(s.lessonStart(r, l)).Encode()
	d.Lesson = s.lessonView(r, l, sess.ID, d.Query)
	d.ShareURL = d.Lesson.ShareURL
	d.PagePath = lessonPath(embed, l.Slug) + "/" + sess.ID
	d.Embed = embed
	d.Predict = true
	return d
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

// GET /_corslab/runner[?ui=<lab origin>][&frame=data|srcdoc] on app, evil
// and api: the page that performs the learner's fetch() when the lab asks.
// It obeys only the lab's origin: by default the UI origin on its own
// host; ui names it when the host differs, as for the look-alike page,
// which the app's server serves on another host name (see runnerUI). With
// frame, the app's page does not fetch itself: it makes a frame of that
// kind, which does, and passes the messages on (see runnerFrame).
func (s *Server) handleRunner(role Role) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		o := s.originsFor(r)
		ui, err := s.runnerUI(r.URL.Query(), o)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		frame, err := runnerFrame(r.URL.Query(), role)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		name := role.String()
		if ui != o.url(UI) && role == App {
			name = "lookalike" // the app's server, on a look-alike host
		}
		render(w, r, http.StatusOK, views.Runner(views.RunnerData{
			Role:     name,
			Origin:   o.url(role),
			UIOrigin: ui,
			Frame:    frame,
		}))
	}
}

// runnerFrame is the frame parameter of a runner page: "" when there is
// none, and the page calls fetch() itself, or the kind of frame it makes
// to call fetch() in: "data", a frame whose document is a data: URL (an
// opaque origin), or "srcdoc", an <iframe srcdoc> document (which takes
// the page's own origin). Those pages are the app's, so only the app's
// runner makes them.
func runnerFrame(q url.Values, role Role) (string, error) {
	vs, ok := q["frame"]
	if !ok {
		return "", nil
	}
	if len(vs) != 1 {
		return "", fmt.Errorf("frame: give it once; got %d values", len(vs))
	}
	if vs[0] != "data" && vs[0] != "srcdoc" {
		return "", fmt.Errorf("frame: must be data or srcdoc; got %q", vs[0])
	}
	if role != App {
		return "", fmt.Errorf("frame: only the app origin's runner makes a %s frame; this is the %s origin's", vs[0], role)
	}
	return vs[0], nil
}

// runnerUI is the lab origin a runner page takes orders from: its own
// host's UI origin, or the ui parameter. The parameter may only name the UI
// port, on the runner's own host or, when the runner is on a loopback name,
// another loopback one (a look-alike host under .localhost and a lab on
// 127.0.0.1, say): origins that only corslab's lab serves, so that no other
// page can make a runner fetch from a corslab origin with its cookies.
func (s *Server) runnerUI(q url.Values, o originSet) (string, error) {
	vs, ok := q["ui"]
	if !ok {
		return o.url(UI), nil
	}
	bad := func(why string) error {
		return fmt.Errorf("ui: %s; got %q", why, vs[0])
	}
	if len(vs) != 1 {
		return "", fmt.Errorf("ui: give it once; got %d values", len(vs))
	}
	u, err := url.Parse(vs[0])
	if err != nil || u.Scheme != "http" || u.Opaque != "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return "", bad("must be an origin such as http://127.0.0.1:8080")
	}
	host := u.Hostname()
	if u.Port() != strconv.Itoa(s.ports[UI]) {
		return "", bad("must be the lab's port, " + strconv.Itoa(s.ports[UI]))
	}
	if host == "" || requestHost(u.Host) != host || host != strings.ToLower(host) {
		return "", bad("must name a host in lower case, as a browser serializes an origin")
	}
	if host != o.host && !(isLoopbackHost(host) && isLoopbackHost(o.host)) {
		return "", bad("must be on this page's host, " + o.host + ", or both must be loopback names")
	}
	return "http://" + u.Host, nil
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
