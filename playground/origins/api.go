// Package origins holds the virtual origins' handlers: the api origin's user
// API, the runner pages the app, evil and api origins serve, and the gate in
// front of the fake S3. They find the request's session in its context
// (session.FromContext); the playground puts it there when it captures the
// exchange.
package origins

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/corslab/corslab/playground/scenario"
	"github.com/corslab/corslab/playground/session"
)

// LoginCookie is the cookie POST /login sets and GET /me reads.
const LoginCookie = "login"

// maxAPIBody bounds the JSON bodies the api origin reads.
const maxAPIBody = 64 << 10

// API returns the api origin: a small user API whose every CORS header, on
// every response including preflights, comes from the session's policy.
//
//	HEAD, GET        /{session}/users       list users (X-Total-Count says how many)
//	PUT, POST        /{session}/users       create a user {"username", "name"}
//	GET, PUT, PATCH, DELETE /{session}/users/{id}
//	POST             /{session}/login       set the login cookie {"username"} (default: the first user)
//	POST             /{session}/logout      clear it
//	GET, POST        /{session}/me          the logged-in user, from the cookie; POST {"name"} renames them
//	any method       /{session}/redirect/{status}/{role}/{path...}
//	                 a redirect to {path} under the session on the role's origin
//	GET, HEAD        /{session}/files/{key...}
//	                 a presigned GET of the key in the session's bucket: a redirect
//	                 with api.redirect's status, or (0) the URL as a 200 body
//	POST             /{session}/uploads/{key...}
//	                 a presigned PUT of the key: {"method", "url", "expiresIn"}
//
// and the doors other than fetch() (doors.go):
//
//	GET, HEAD        /{session}/image.png   an ImageWidth × ImageHeight PNG, for <img> and canvas
//	GET, HEAD        /{session}/script.js   a script that throws ScriptErrorMessage, for <script>
//	GET, HEAD        /{session}/style.css   a rule for StyleProbeClass, for <link rel=stylesheet>
//	GET, HEAD        /{session}/font.ttf    a font with a wide FontGlyph, for @font-face
//	GET              /{session}/events      three Server-Sent Events, for EventSource
//	POST             /{session}/collect     204, for navigator.sendBeacon()
//	GET              /{session}/socket      a WebSocket: a greeting with the logged-in user, then echoes (socket.go)
//
// locate turns a role and a path into an absolute URL on that origin, as
// the browser making the request sees it; it reports false for an unknown
// role. client signs URLs for the session's bucket.
func API(locate Locator, client *s3.Client) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/{session}/files/{key...}", filesHandler(locate, client))
	mux.Handle("/{session}/uploads/{key...}", uploadsHandler(locate, client))
	mux.Handle("/{session}/redirect/{status}/{role}/{path...}", redirectHandler(locate))
	mux.HandleFunc("/{session}/users", usersHandler)
	mux.HandleFunc("/{session}/users/{id}", userHandler)
	mux.HandleFunc("/{session}/login", loginHandler)
	mux.HandleFunc("/{session}/logout", logoutHandler)
	mux.HandleFunc("/{session}/me", meHandler)
	mux.Handle("/{session}/image.png", assetHandler("image/png", imagePNG()))
	mux.Handle("/{session}/script.js", assetHandler("text/javascript", []byte(scriptJS)))
	mux.Handle("/{session}/style.css", assetHandler("text/css", []byte(styleCSS())))
	mux.Handle("/{session}/font.ttf", assetHandler("font/ttf", fontTTF()))
	mux.HandleFunc("/{session}/events", eventsHandler)
	mux.HandleFunc("/{session}/collect", collectHandler)
	mux.Handle("/{session}/socket", socketHandler(newSocketLimits(maxSockets, maxSessionSockets, SocketLifetime)))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint; try /users, /users/{id}, /login, /logout, /me, /files/{key}, /uploads/{key}, /redirect/{status}/{role}/{path}, /image.png, /script.js, /style.css, /font.ttf, /events, /collect or /socket")
	})
	return withPolicy(mux)
}

// withPolicy applies the session's CORS policy to every response, and
// answers preflights itself, the way CORS middleware does.
func withPolicy(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		if s == nil {
			writeError(w, http.StatusNotFound, "no such session: open the lab to start one")
			return
		}
		sc, policy := s.Scenario()
		preflight := scenario.IsPreflight(r.Method, r.Header)
		policy.Apply(w.Header(), r.Header, preflight)
		w.Header().Set("Cache-Control", "no-store")
		if preflight {
			w.WriteHeader(sc.API.PreflightStatus)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// A Locator builds the URL of path under the request's session on the
// origin of role ("app", "api", "s3", "evil"), from the host r was sent to.
type Locator func(r *http.Request, role, path string) (string, bool)

// redirectHandler answers any method with a redirect, so learners can see
// what browsers do with each status: 301, 302 and 303 turn a POST into a
// GET, 307 and 308 keep it, and a redirect to another origin taints the
// request's origin. The query string is carried over to the target.
func redirectHandler(locate Locator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, err := strconv.Atoi(r.PathValue("status"))
		if err != nil || !isRedirect(status) {
			writeError(w, http.StatusNotFound, "redirect statuses are 301, 302, 303, 307 and 308, e.g. /redirect/307/s3/hello.txt")
			return
		}
		target, ok := locate(r, r.PathValue("role"), "/"+r.PathValue("path"))
		if !ok {
			writeError(w, http.StatusNotFound, "redirect targets are app, api, s3 or evil, e.g. /redirect/302/api/users")
			return
		}
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		w.Header().Set("Location", target)
		writeJSON(w, status, map[string]string{"location": target})
	})
}

func isRedirect(status int) bool {
	switch status {
	case 301, 302, 303, 307, 308:
		return true
	}
	return false
}

func usersHandler(w http.ResponseWriter, r *http.Request) {
	users := session.FromContext(r.Context()).Users
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		list := users.List()
		w.Header().Set("X-Total-Count", strconv.Itoa(len(list)))
		writeJSON(w, http.StatusOK, list)
	case http.MethodPut, http.MethodPost:
		var in session.User
		if !readJSON(w, r, &in) {
			return
		}
		u, err := users.Create(in)
		if err != nil {
			writeUserError(w, err)
			return
		}
		w.Header().Set("Location", "users/"+strconv.Itoa(u.ID))
		writeJSON(w, http.StatusCreated, u)
	default:
		notAllowed(w, "GET, HEAD, POST, PUT")
	}
}

func userHandler(w http.ResponseWriter, r *http.Request) {
	users := session.FromContext(r.Context()).Users
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil {
		writeError(w, http.StatusNotFound, "user ids are numbers, e.g. /users/1")
		return
	}
	var u session.User
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		u, err = users.Get(id)
	case http.MethodPut, http.MethodPatch:
		var in struct{ Username, Name *string }
		if !readJSON(w, r, &in) {
			return
		}
		if r.Method == http.MethodPut && (in.Username == nil || in.Name == nil) {
			writeError(w, http.StatusBadRequest, `PUT replaces the user: send both "username" and "name" (or use PATCH)`)
			return
		}
		u, err = users.Update(id, func(u *session.User) {
			if in.Username != nil {
				u.Username = *in.Username
			}
			if in.Name != nil {
				u.Name = *in.Name
			}
		})
	case http.MethodDelete:
		if err = users.Delete(id); err == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
	default:
		notAllowed(w, "DELETE, GET, HEAD, PATCH, PUT")
		return
	}
	if err != nil {
		writeUserError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

func loginHandler(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		notAllowed(w, "POST")
		return
	}
	var in struct{ Username string }
	if !readJSON(w, r, &in) {
		return
	}
	s := session.FromContext(r.Context())
	token, u, err := s.Users.Login(in.Username)
	if err != nil {
		writeError(w, http.StatusUnauthorized, "no user named "+strconv.Quote(in.Username))
		return
	}
	http.SetCookie(w, loginCookie(s, token, int((2*time.Hour).Seconds())))
	writeJSON(w, http.StatusOK, map[string]any{"user": u})
}

func logoutHandler(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		notAllowed(w, "POST")
		return
	}
	http.SetCookie(w, loginCookie(session.FromContext(r.Context()), "", -1))
	w.WriteHeader(http.StatusNoContent)
}

// loginCookie is the login cookie of session s, with the SameSite the
// scenario's api.cookieSameSite chooses; maxAge -1 deletes it. The cookie is
// scoped to the session's path, so learners sharing a browser don't log each
// other in. Cookies ignore ports: the browser also sends it to the other
// virtual origins under this path.
func loginCookie(s *session.Session, value string, maxAge int) *http.Cookie {
	c := &http.Cookie{
		Name: LoginCookie, Value: value, Path: "/" + s.ID + "/",
		MaxAge: maxAge, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	}
	sc, _ := s.Scenario()
	switch sc.API.CookieSameSite {
	case "strict":
		c.SameSite = http.SameSiteStrictMode
	case "none":
		// Chromium ignores a SameSite=None cookie without Secure. It does
		// store a Secure cookie from http://localhost and
		// http://127.0.0.1, which it counts as secure contexts.
		c.SameSite = http.SameSiteNoneMode
		c.Secure = true
	}
	return c
}

// meHandler is the logged-in user: GET reads the profile, POST changes its
// name ({"name"}), trusting the cookie alone, as a form-era site does. So
// a page of any origin can make the browser change it (CSRF): CORS only
// keeps that page from reading the answer.
func meHandler(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodPost {
		notAllowed(w, "GET, HEAD, POST")
		return
	}
	c, err := r.Cookie(LoginCookie)
	if err != nil {
		writeError(w, http.StatusUnauthorized, "not logged in: the request carried no login cookie (POST /login first, and send credentials)")
		return
	}
	users := session.FromContext(r.Context()).Users
	u, err := users.Whoami(c.Value)
	if err != nil {
		writeError(w, http.StatusUnauthorized, "the login cookie is not (or no longer) valid")
		return
	}
	if r.Method == http.MethodPost {
		var in struct {
			Name string `json:"name"`
		}
		if !readJSON(w, r, &in) {
			return
		}
		if u, err = users.Update(u.ID, func(u *session.User) { u.Name = in.Name }); err != nil {
			writeUserError(w, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": u})
}

// readJSON decodes the request body into v; an empty body leaves v as it
// is. On failure it answers 400 and returns false. Like many real APIs it
// does not insist on Content-Type: application/json, which is exactly why a
// text/plain "simple request", or a form, can still change data, unless
// the session's api.requireJson says to (415 for a body of another type).
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAPIBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "the body is larger than 64 KiB")
		return false
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return true
	}
	if sc, _ := session.FromContext(r.Context()).Scenario(); sc.API.RequireJSON {
		if t, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); t != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, "this api accepts only Content-Type: application/json (api.requireJson), which a form cannot send, and which a cross-origin fetch() may send only after a preflight")
			return false
		}
	}
	if err := json.Unmarshal(body, v); err != nil {
		writeError(w, http.StatusBadRequest, "the body is not the JSON this endpoint expects: "+err.Error())
		return false
	}
	return true
}

func writeUserError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, session.ErrNoUser):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, session.ErrTaken):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, session.ErrUsersFull):
		writeError(w, http.StatusInsufficientStorage, err.Error())
	default:
		writeError(w, http.StatusBadRequest, err.Error())
	}
}

func notAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeError(w, http.StatusMethodNotAllowed, "method not allowed here; allowed: "+allow)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
