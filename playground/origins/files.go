package origins

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/corslab/corslab/playground/scenario"
	"github.com/corslab/corslab/playground/session"
)

// filesHandler is GET /{session}/files/{key...}: the backend of article 000.
// It checks access, signs a GET of the key in the session's bucket, and
// hands the URL out the way api.redirect says: a redirect the browser
// follows on its own, or (0) a 200 whose body is the URL, for a two-phase
// fetch.
func filesHandler(locate Locator, client *s3.Client) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			notAllowed(w, "GET, HEAD")
			return
		}
		sc, ok := fileAccess(w, r)
		if !ok {
			return
		}
		signed, ok := signURL(w, r, locate, client, sc, http.MethodGet)
		if !ok {
			return
		}
		if sc.API.Redirect == 0 {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusOK)
			w.Write([]byte(signed))
			return
		}
		w.Header().Set("Location", signed)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(sc.API.Redirect)
		w.Write([]byte("Redirecting to a signed URL of the bucket.\n"))
	}
}

// uploadsHandler is POST /{session}/uploads/{key...}: it signs a PUT of the
// key, so the browser can upload straight to the bucket (article 002).
func uploadsHandler(locate Locator, client *s3.Client) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			notAllowed(w, "POST")
			return
		}
		sc, ok := fileAccess(w, r)
		if !ok {
			return
		}
		signed, ok := signURL(w, r, locate, client, sc, http.MethodPut)
		if !ok {
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"method":    http.MethodPut,
			"url":       signed,
			"expiresIn": sc.API.SignedURLExpires,
		})
	}
}

// fileAccess checks what /files and /uploads ask of a request: a key, and
// the login cookie when the scenario requires it.
func fileAccess(w http.ResponseWriter, r *http.Request) (scenario.Scenario, bool) {
	s := session.FromContext(r.Context())
	sc, _ := s.Scenario()
	if r.PathValue("key") == "" {
		writeError(w, http.StatusNotFound, "name a file in the bucket, e.g. /files/hello.txt")
		return sc, false
	}
	if !sc.API.RequireLogin {
		return sc, true
	}
	c, err := r.Cookie(LoginCookie)
	if err != nil {
		writeError(w, http.StatusUnauthorized, "not logged in: this API signs URLs only for a logged-in user (POST /login first, then send credentials)")
		return sc, false
	}
	if _, err := s.Users.Whoami(c.Value); err != nil {
		writeError(w, http.StatusUnauthorized, "the login cookie is not (or no longer) valid")
		return sc, false
	}
	return sc, true
}

// signURL presigns method on the request's key in the session's bucket, for
// the s3 origin as the browser sees it. In the one-origin setup the URL
// points at the app origin's /files/, where the proxy passes it on to the
// bucket unchanged: the signature still matches.
func signURL(w http.ResponseWriter, r *http.Request, locate Locator, client *s3.Client, sc scenario.Scenario, method string) (string, bool) {
	s := session.FromContext(r.Context())
	bucketURL, _ := locate(r, "s3", "/") // http://host:port/<session>/
	u, err := url.Parse(bucketURL)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "could not work out the s3 origin's URL")
		return "", false
	}
	endpoint := u.Scheme + "://" + u.Host
	expires := time.Duration(sc.API.SignedURLExpires) * time.Second
	signed, err := presignURL(r.Context(), client, method, endpoint, s.ID, r.PathValue("key"), expires)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "signing the URL failed: "+err.Error())
		return "", false
	}
	if sc.Setup == "one-origin" {
		if files, ok := locate(r, "app", "/files/"); ok && strings.HasPrefix(signed, bucketURL) {
			signed = files + signed[len(bucketURL):]
		}
	}
	return signed, true
}
