package playground

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/corslab/corslab/playground/scenario"
	"github.com/corslab/corslab/views"
)

// The matrix page runs article 000's experiment (a redirect from the api to
// a presigned S3 URL, under every combination of the api's CORS headers and
// the bucket's CORS rules) as real fetch() calls in the learner's browser.
// The server only validates the settings and serves the page: matrix.js
// runs each cell through the same JSON API the lab uses, and the table is
// whatever the browser did.

// matrixAll is the value of setup and credentials that runs every choice.
const matrixAll = "all"

// matrixSetups are the setup values the matrix accepts, "all" last.
func matrixSetups() []string { return append(scenario.Setups(), matrixAll) }

// matrixCredentials are the credentials values the matrix accepts: the
// fetch() credentials modes, the article's first, then "all".
func matrixCredentials() []string {
	return []string{"include", "same-origin", "omit", matrixAll}
}

// matrixRedirects are the statuses the api may redirect with.
func matrixRedirects() []int { return []int{301, 302, 303, 307, 308} }

// matrixSettings is what a matrix permalink says.
type matrixSettings struct {
	Setup       string // a setup or "all"
	Credentials string // a credentials mode or "all"
	Redirect    int    // the api's redirect status
	RunOnLoad   bool   // run=1: run once when the page opens
}

// defaultMatrix is the article's headline table: three origins, cookies
// included, a 303.
func defaultMatrix() matrixSettings {
	return matrixSettings{Setup: "three-origins", Credentials: "include", Redirect: 303}
}

// query is the permalink query of the settings, without run=1, always
// naming all three so that a shared link says what it shows.
func (m matrixSettings) query() string {
	return "setup=" + url.QueryEscape(m.Setup) +
		"&credentials=" + url.QueryEscape(m.Credentials) +
		"&redirect=" + strconv.Itoa(m.Redirect)
}

// parseMatrixQuery reads a matrix permalink. Parameters left out keep
// their defaults; anything else is refused, one message per parameter,
// naming the values it accepts.
func parseMatrixQuery(q url.Values) (matrixSettings, scenario.FieldErrors) {
	m := defaultMatrix()
	errs := scenario.FieldErrors{}
	oneOf := func(allowed []string) string {
		return fmt.Sprintf("must be %s or %s", strings.Join(allowed[:len(allowed)-1], ", "), allowed[len(allowed)-1])
	}
	for key, vals := range q {
		if len(vals) > 1 {
			errs[key] = "given more than once"
			continue
		}
		v := vals[0]
		switch key {
		case "setup":
			if !slices.Contains(matrixSetups(), v) {
				errs[key] = fmt.Sprintf("%s; got %q", oneOf(matrixSetups()), v)
			}
			m.Setup = v
		case "credentials":
			if !slices.Contains(matrixCredentials(), v) {
				errs[key] = fmt.Sprintf("%s; got %q", oneOf(matrixCredentials()), v)
			}
			m.Credentials = v
		case "redirect":
			var allowed []string
			for _, s := range matrixRedirects() {
				allowed = append(allowed, strconv.Itoa(s))
			}
			if !slices.Contains(allowed, v) {
				errs[key] = fmt.Sprintf("the api's redirect status %s; got %q", oneOf(allowed), v)
			}
			m.Redirect, _ = strconv.Atoi(v)
		case "run":
			var msg string
			if m.RunOnLoad, msg = runParam(vals); msg != "" {
				errs[key] = msg
			}
		default:
			errs[key] = "unknown parameter; the matrix takes setup, credentials, redirect and run"
		}
	}
	if len(errs) > 0 {
		return m, errs
	}
	return m, nil
}

// GET /matrix?setup=…&credentials=…&redirect=…[&run=1]: a new session,
// then its matrix page.
func (s *Server) handleNewMatrix(w http.ResponseWriter, r *http.Request) {
	m, errs := parseMatrixQuery(r.URL.Query())
	if errs != nil {
		s.badMatrixLink(w, r, errs)
		return
	}
	s.startMatrix(w, r, m)
}

// startMatrix creates a session with the default scenario (the matrix
// sets each cell's own as it runs it) and sends the browser to its matrix
// page, keeping run=1.
func (s *Server) startMatrix(w http.ResponseWriter, r *http.Request, m matrixSettings) {
	sess := s.createSession(w, r, scenario.Default(), "", "/matrix")
	if sess == nil {
		return
	}
	target := "/matrix/" + sess.ID + "?" + m.query()
	if m.RunOnLoad {
		target += "&run=1"
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// GET /matrix/{id}?setup=…&credentials=…&redirect=…[&run=1]: the matrix
// page of a session. An unknown or expired session becomes a new one with
// the same settings.
func (s *Server) handleMatrix(w http.ResponseWriter, r *http.Request) {
	m, errs := parseMatrixQuery(r.URL.Query())
	if errs != nil {
		s.badMatrixLink(w, r, errs)
		return
	}
	id := r.PathValue("id")
	sess := s.findSession(id)
	if sess == nil {
		s.startMatrix(w, r, m)
		return
	}
	o := s.originsFor(r)
	query := m.query()
	sc, _ := sess.Scenario()
	render(w, r, http.StatusOK, views.Matrix(views.MatrixData{
		SessionID:        sess.ID,
		UIOrigin:         o.url(UI),
		Origins:          o.views(sess.ID),
		Setup:            m.Setup,
		Credentials:      m.Credentials,
		Redirect:         m.Redirect,
		Query:            query,
		ShareURL:         o.url(UI) + "/matrix?" + query,
		RunOnLoad:        m.RunOnLoad,
		LastSeq:          sess.LastSeq(),
		Scenario:         sc,
		Runners:          matrixRunners(m, o),
		Setups:           matrixSetups(),
		CredentialsModes: matrixCredentials(),
		Redirects:        matrixRedirects(),
	}))
}

// matrixRunners are the runner pages the matrix's cells run from, one per
// origin, in the order of the tables: the page's origin of each setup, as
// matrix.js's SETUPS name it (app, but the api's own in two-origins). The
// page loads them with its HTML, rather than once matrix.js has loaded.
// Their URLs are the ones runner-frame.js builds, which takes them over;
// should one differ, it loads its own, and the matrix is only slower.
func matrixRunners(m matrixSettings, o originSet) []views.MatrixRunner {
	setups := []string{m.Setup}
	if m.Setup == matrixAll {
		setups = scenario.Setups()
	}
	var runners []views.MatrixRunner
	for _, setup := range setups {
		from := App
		if scenario.SetupPage(setup) == API.String() {
			from = API
		}
		if !slices.ContainsFunc(runners, func(r views.MatrixRunner) bool { return r.From == from.String() }) {
			runners = append(runners, views.MatrixRunner{
				From: from.String(),
				URL:  o.url(from) + "/_corslab/runner?ui=" + url.QueryEscape(o.url(UI)),
			})
		}
	}
	return runners
}

func (s *Server) badMatrixLink(w http.ResponseWriter, r *http.Request, errs scenario.FieldErrors) {
	render(w, r, http.StatusBadRequest, views.ErrorPage(views.ErrorData{
		Status:  http.StatusBadRequest,
		Title:   "This link's matrix is not valid",
		Message: "The link asks for a matrix corslab cannot run. Nothing was changed. Fix the link, or start from the default matrix.",
		Fields:  errs,
		Back:    "/matrix",
	}))
}
