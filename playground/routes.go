package playground

import (
	"net/http"
	"strings"

	"github.com/corslab/corslab/playground/capture"
	"github.com/corslab/corslab/playground/origins"
	"github.com/corslab/corslab/playground/session"
)

// routes is every route of the UI origin: pages, the JSON API and the
// websocket.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /static/", staticFiles("/static/", false))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/lab", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /lab", s.handleNewLab)
	mux.HandleFunc("GET /lab/{id}", s.handleLab)
	mux.HandleFunc("GET /matrix", s.handleNewMatrix)
	mux.HandleFunc("GET /matrix/{id}", s.handleMatrix)

	s.lessonRoutes(mux)
	s.teachRoutes(mux)
	mux.HandleFunc("POST /api/sessions", s.handleCreateSession)
	mux.Handle("GET /api/sessions/{id}", s.withSession(s.handleGetSession))
	mux.Handle("PUT /api/sessions/{id}/scenario", s.withSession(s.handlePutScenario))
	mux.Handle("GET /api/sessions/{id}/exchanges", s.withSession(s.handleExchanges))
	mux.Handle("GET /api/sessions/{id}/runs", s.withSession(s.handleRuns))
	mux.Handle("POST /api/sessions/{id}/runs", s.withSession(s.handleAddRun))
	mux.Handle("POST /api/sessions/{id}/step", s.withSession(s.handleStep)) // handle_step.go: a run and the next scenario
	mux.Handle("GET /api/sessions/{id}/har", s.withSession(s.handleHAR))
	mux.Handle("PUT /api/sessions/{id}/learner", s.withSession(s.handleSetLearner))
	mux.Handle("GET /api/sessions/{id}/ws", s.withSession(s.handleWS))
	s.probeRoutes(mux) // handle_probe.go: the lab's probe and scan
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeJSONError(w, http.StatusNotFound, "no such API endpoint: "+r.Method+" "+r.URL.Path)
	})
	return gzipPages(mux)
}

// pageOrigin is the app or evil origin: the runner page the lab drives, and
// a page that says where you are when you open the origin in a tab.
func (s *Server) pageOrigin(role Role) http.Handler {
	mux := http.NewServeMux()
	s.runnerRoutes(mux, role)
	mux.HandleFunc("GET /{$}", s.handleOriginHome(role))
	if role == App {
		cdn := s.captured(role, s.cdnProxy())
		mux.Handle("/{session}/api/", cdn)
		mux.Handle("/{session}/files/", cdn)
	}
	mux.Handle("/", s.captured(role, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if session.FromContext(r.Context()) != nil && strings.Count(r.URL.Path, "/") == 2 && strings.HasSuffix(r.URL.Path, "/") {
			s.handleOriginHome(role)(w, r)
			return
		}
		http.NotFound(w, r)
	})))
	return mux
}

// apiOrigin is the api origin: the user API under each session's path, and
// a runner page so a request can also be made same-origin.
func (s *Server) apiOrigin() http.Handler {
	mux := http.NewServeMux()
	s.runnerRoutes(mux, API)
	mux.HandleFunc("GET /{$}", s.handleOriginHome(API))
	mux.Handle("/", s.captured(API, origins.API(s.locate, s.s3client)))
	return mux
}

// yoursOrigin is the yours origin: every request under a session's path
// goes on to the session's yours.baseUrl (origins.Yours), captured like any
// origin's. It serves no runner: the learner's page runs on app, evil, a
// sandbox or a look-alike, and the request comes here cross-origin.
//
// In workshop mode (Config.Workshop) it is an open proxy for the whole
// network unless --allow-targets says where it may go, so it is off
// without them; on loopback it goes anywhere.
func (s *Server) yoursOrigin() http.Handler {
	cfg := origins.YoursConfig{
		Targets: s.cfg.AllowTargets,
		Timeout: s.cfg.YoursTimeout,
		Refused: func(r *http.Request, status int, msg string) {
			if sess := session.FromContext(r.Context()); sess != nil {
				sess.Refuse(session.Refusal{Origin: Yours.String(), Method: r.Method, Target: r.URL.RequestURI(), Status: status, Reason: msg})
			}
		},
	}
	if s.cfg.Workshop && s.cfg.AllowTargets == nil {
		cfg.Off = "corslab: the yours origin is off. corslab serves a workshop (--listen beyond loopback, or --public-host), " +
			"and a server that forwards requests to any URL would be an open proxy into this network. " +
			"The instructor can allow the servers the class may check: start corslab with --allow-targets api.example.com,10.1.2.0/24."
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handleOriginHome(Yours))
	mux.Handle("/", s.captured(Yours, origins.Yours(cfg)))
	return mux
}

// runnerRoutes serves the runner page and its script on a virtual origin.
// They sit outside any session's path, so they are not captured.
func (s *Server) runnerRoutes(mux *http.ServeMux, role Role) {
	// runnerPage and noSniff add corslab's own headers (security.go).
	mux.Handle("GET /_corslab/runner", s.runnerPage(role, s.handleRunner(role)))
	// Access-Control-Allow-Origin: * lets the sandboxed runner, whose origin
	// is opaque, load its module script.
	mux.Handle("GET /_corslab/static/", noSniff(staticFiles("/_corslab/static/", true)))
}

// captured records every request under a live session's path as an
// exchange of that session, and hands the session to next in the context.
// Other requests pass through unrecorded: no learner could see them.
func (s *Server) captured(role Role, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		sess := s.findSession(id)
		if sess == nil {
			next.ServeHTTP(w, r)
			return
		}
		if !s.allowSession(w, r, role, sess) || role == S3 && !s.admitObject(w, r, sess) {
			return // refused before capture: a flood costs no memory
		}
		w, r, finish := capture.Start(w, r, role.String(), sess.Record)
		defer finish()
		next.ServeHTTP(w, r.WithContext(session.NewContext(r.Context(), sess)))
	})
}

// locate builds the URL of path under r's session on role's origin, as the
// browser that sent r sees it.
func (s *Server) locate(r *http.Request, role, path string) (string, bool) {
	sess := session.FromContext(r.Context())
	for _, rl := range []Role{App, API, S3, Evil} {
		if rl.String() == role && sess != nil {
			return s.originsFor(r).base(rl, sess.ID) + path, true
		}
	}
	return "", false
}

// staticFiles serves the static/ files under prefix (static.go). With
// anyOrigin they say Access-Control-Allow-Origin: *, for the sandboxed
// runner, whose origin is opaque.
func staticFiles(prefix string, anyOrigin bool) http.Handler {
	set := embeddedStatic()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if anyOrigin {
			w.Header().Set("Access-Control-Allow-Origin", "*")
		}
		set.serve(w, r, strings.TrimPrefix(r.URL.Path, prefix))
	})
}
