package origins

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/corslab/corslab/playground/scenario"
	"github.com/corslab/corslab/playground/session"
	"github.com/corslab/corslab/playground/sigv4"
)

// filesLab is the api origin wired to an s3 origin as the playground wires
// them: the api signs with an in-process SDK client, and the browser
// follows the URL to the s3 origin, listening here on an httptest.Server.
type filesLab struct {
	sess  *session.Session
	s3    *S3
	s3URL string // the s3 origin, as locate names it
	api   http.Handler
}

// newFilesLab starts a session with the default scenario as edit changes it.
func newFilesLab(t *testing.T, edit func(*scenario.Scenario)) *filesLab {
	t.Helper()
	st := session.NewStore(session.Options{Max: 1, Idle: time.Hour})
	sc := scenario.Default()
	edit(&sc)
	sess, err := st.Create(sc)
	if err != nil {
		t.Fatal(err)
	}
	s3o := NewS3(s3mem.New(), sigv4.Corslab(), nil)
	if err := s3o.CreateBucket(sess.ID); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(withSession(sess, s3o))
	t.Cleanup(srv.Close)
	origins := map[string]string{"app": appOrigin, "api": apiOrigin, "s3": srv.URL, "evil": evilOrigin}
	locate := func(r *http.Request, role, path string) (string, bool) {
		base, ok := origins[role]
		if !ok {
			return "", false
		}
		return base + "/" + session.FromContext(r.Context()).ID + path, true
	}
	return &filesLab{sess: sess, s3: s3o, s3URL: srv.URL, api: API(locate, NewS3Client(s3o, sigv4.Corslab()))}
}

// do sends method on path under the session to the api origin, from the
// app origin.
func (l *filesLab) do(method, path string, cookie *http.Cookie) answer {
	r := httptest.NewRequest(method, apiOrigin+"/"+l.sess.ID+path, nil)
	r.Header.Set("Origin", appOrigin)
	if cookie != nil {
		r.AddCookie(cookie)
	}
	w := httptest.NewRecorder()
	withSession(l.sess, l.api).ServeHTTP(w, r)
	return answerOf(w.Result())
}

// checkSigned checks that signed is a presigned URL of key in the session's
// bucket on the s3 origin, valid for expires seconds.
func (l *filesLab) checkSigned(t *testing.T, signed, key, expires string) {
	t.Helper()
	u, err := url.Parse(signed)
	if err != nil {
		t.Fatalf("signed URL %q: %v", signed, err)
	}
	q := u.Query()
	if got := u.Scheme + "://" + u.Host; got != l.s3URL {
		t.Errorf("signed URL's origin %q, want the s3 origin %q", got, l.s3URL)
	}
	if want := "/" + l.sess.ID + "/" + key; u.Path != want {
		t.Errorf("signed URL's path %q, want %q", u.Path, want)
	}
	if got := q.Get("X-Amz-Expires"); got != expires {
		t.Errorf("X-Amz-Expires %q, want %q", got, expires)
	}
	if got := q.Get("X-Amz-Credential"); !strings.HasPrefix(got, "corslab/") || !strings.HasSuffix(got, "/us-east-1/s3/aws4_request") {
		t.Errorf("X-Amz-Credential %q, want corslab's key and scope", got)
	}
	if got := q.Get("X-Amz-SignedHeaders"); got != "host" {
		t.Errorf("X-Amz-SignedHeaders %q, want host", got)
	}
}

// fetch sends method to a URL over a connection, as a browser following it.
func fetch(t *testing.T, method, target, body string) answer {
	t.Helper()
	r, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	return answerOf(resp)
}

func errorOf(body string) string {
	var e struct{ Error string }
	json.Unmarshal([]byte(body), &e)
	return e.Error
}

// TestFilesHandsOutSignedURLs follows GET /files/hello.txt for each way
// api.redirect can hand the URL out.
func TestFilesHandsOutSignedURLs(t *testing.T) {
	tests := []struct {
		desc     string
		redirect int
		method   string
		expires  int // api.signedUrlExpires; 120 if 0
	}{
		{desc: "301 redirects to the signed URL", redirect: 301, method: "GET"},
		{desc: "302 redirects to the signed URL", redirect: 302, method: "GET"},
		{desc: "303 redirects to the signed URL", redirect: 303, method: "GET"},
		{desc: "307 redirects to the signed URL", redirect: 307, method: "GET"},
		{desc: "308 redirects to the signed URL", redirect: 308, method: "GET"},
		{desc: "0 answers 200 with the signed URL as the body", redirect: 0, method: "GET"},
		{desc: "HEAD redirects too", redirect: 303, method: "HEAD"},
		{desc: "a URL may live seven days, S3's longest", redirect: 303, method: "GET", expires: 7 * 24 * 60 * 60},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			expires := tt.expires
			if expires == 0 {
				expires = 120
			}
			l := newFilesLab(t, func(sc *scenario.Scenario) {
				sc.API.Redirect = tt.redirect
				sc.API.SignedURLExpires = expires
				sc.API.AllowOrigin = "*"
			})

			a := l.do(tt.method, "/files/hello.txt", nil)

			signed := a.header.Get("Location")
			wantStatus := tt.redirect
			if tt.redirect == 0 {
				wantStatus = 200
				if signed != "" {
					t.Errorf("Location %q on a 200", signed)
				}
				signed = a.body
			}
			if a.status != wantStatus {
				t.Errorf("status %d, want %d", a.status, wantStatus)
			}
			if got := a.header.Get(acao); got != "*" {
				t.Errorf("ACAO %q, want the api policy's *", got)
			}
			if got := a.header.Get("Content-Type"); got != "text/plain; charset=utf-8" {
				t.Errorf("Content-Type %q", got)
			}
			l.checkSigned(t, signed, "hello.txt", strconv.Itoa(expires))
			if got := fetch(t, "GET", signed, ""); got.status != 200 || got.body != HelloText {
				t.Errorf("following the signed URL: %d %q, want 200 %q", got.status, got.body, HelloText)
			}
		})
	}
}

func TestFilesMissingKey(t *testing.T) {
	l := newFilesLab(t, func(*scenario.Scenario) {})
	a := l.do("GET", "/files/missing.txt", nil)
	if a.status != 303 {
		t.Fatalf("status %d, want 303: the api signs without looking", a.status)
	}
	if got := fetch(t, "GET", a.header.Get("Location"), ""); got.status != 404 || faultOf(got.body).Code != "NoSuchKey" {
		t.Errorf("following it: %d %s, want 404 NoSuchKey", got.status, got.body)
	}
}

func TestFilesRequireLogin(t *testing.T) {
	l := newFilesLab(t, func(sc *scenario.Scenario) { sc.API.RequireLogin = true })
	token, _, err := l.sess.Users.Login("")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		desc    string
		method  string
		path    string
		cookie  *http.Cookie
		status  int
		message string
	}{
		{desc: "a GET without the login cookie is refused",
			method: "GET", path: "/files/hello.txt", status: 401,
			message: "not logged in: this API signs URLs only for a logged-in user (POST /login first, then send credentials)"},
		{desc: "a GET with a cookie nobody logged in with is refused",
			method: "GET", path: "/files/hello.txt", cookie: &http.Cookie{Name: LoginCookie, Value: "forged"}, status: 401,
			message: "the login cookie is not (or no longer) valid"},
		{desc: "a GET with a valid login cookie is redirected",
			method: "GET", path: "/files/hello.txt", cookie: &http.Cookie{Name: LoginCookie, Value: token}, status: 303},
		{desc: "an upload without the login cookie is refused",
			method: "POST", path: "/uploads/new.txt", status: 401,
			message: "not logged in: this API signs URLs only for a logged-in user (POST /login first, then send credentials)"},
		{desc: "an upload with a valid login cookie is signed",
			method: "POST", path: "/uploads/new.txt", cookie: &http.Cookie{Name: LoginCookie, Value: token}, status: 200},
	}
	for _, tt := range tests {
		a := l.do(tt.method, tt.path, tt.cookie)
		if a.status != tt.status {
			t.Errorf("%s: status %d, want %d (%s)", tt.desc, a.status, tt.status, a.body)
		}
		if tt.message != "" && errorOf(a.body) != tt.message {
			t.Errorf("%s: error %q, want %q", tt.desc, errorOf(a.body), tt.message)
		}
		if tt.status == 303 {
			l.checkSigned(t, a.header.Get("Location"), "hello.txt", "900")
		}
	}
}

// TestFilesOneOrigin checks that in the one-origin setup the URL points at
// the app origin's /files/, and that the signature still holds once the
// CDN passes the request on to the bucket with the s3 origin's Host.
func TestFilesOneOrigin(t *testing.T) {
	l := newFilesLab(t, func(sc *scenario.Scenario) { sc.Setup = "one-origin" })

	a := l.do("GET", "/files/hello.txt", nil)

	u, err := url.Parse(a.header.Get("Location"))
	if a.status != 303 || err != nil {
		t.Fatalf("%d Location %q, want 303 and a URL", a.status, a.header.Get("Location"))
	}
	if want := appOrigin + "/" + l.sess.ID + "/files/hello.txt"; u.Scheme+"://"+u.Host+u.Path != want {
		t.Errorf("Location %q, want it under %q", u, want)
	}
	l.checkSigned(t, l.s3URL+"/"+l.sess.ID+"/hello.txt?"+u.RawQuery, "hello.txt", "900")
	if got := fetch(t, "GET", l.s3URL+"/"+l.sess.ID+"/hello.txt?"+u.RawQuery, ""); got.status != 200 || got.body != HelloText {
		t.Errorf("the proxied request: %d %q, want 200 %q", got.status, got.body, HelloText)
	}
}

// TestUploads signs a PUT and sends it, as article 002's page does.
func TestUploads(t *testing.T) {
	l := newFilesLab(t, func(sc *scenario.Scenario) { sc.API.SignedURLExpires = 120 })

	a := l.do("POST", "/uploads/new.txt", nil)

	var got map[string]any
	if err := json.Unmarshal([]byte(a.body), &got); err != nil || a.status != 200 {
		t.Fatalf("%d %s: %v", a.status, a.body, err)
	}
	if got["method"] != "PUT" || got["expiresIn"] != 120.0 || len(got) != 3 {
		t.Errorf("answer %v, want method PUT, url and expiresIn 120", got)
	}
	signed, _ := got["url"].(string)
	l.checkSigned(t, signed, "new.txt", "120")

	// The browser adds a Content-Type the URL did not sign: S3 lets it be.
	const body = "uploaded with a presigned PUT\n"
	r, err := http.NewRequest("PUT", signed, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	if put := answerOf(resp); put.status != 200 {
		t.Fatalf("PUT to the signed URL: %d %s", put.status, put.body)
	}
	get := fetch(t, "GET", l.s3URL+"/"+l.sess.ID+"/new.txt", "")
	if get.status != 200 || get.body != body || get.header.Get("Content-Type") != "text/plain;charset=UTF-8" {
		t.Errorf("the uploaded object: %d %q %q, want 200 text/plain;charset=UTF-8 %q", get.status, get.header.Get("Content-Type"), get.body, body)
	}
}

func TestFilesMethodsAndPaths(t *testing.T) {
	l := newFilesLab(t, func(*scenario.Scenario) {})
	tests := []struct {
		desc    string
		method  string
		path    string
		status  int
		allow   string
		message string
	}{
		{desc: "files takes no POST", method: "POST", path: "/files/hello.txt", status: 405,
			allow: "GET, HEAD", message: "method not allowed here; allowed: GET, HEAD"},
		{desc: "files takes no PUT", method: "PUT", path: "/files/hello.txt", status: 405,
			allow: "GET, HEAD", message: "method not allowed here; allowed: GET, HEAD"},
		{desc: "an OPTIONS that is no preflight reaches files, which refuses it", method: "OPTIONS", path: "/files/hello.txt", status: 405,
			allow: "GET, HEAD", message: "method not allowed here; allowed: GET, HEAD"},
		{desc: "uploads takes no GET", method: "GET", path: "/uploads/new.txt", status: 405,
			allow: "POST", message: "method not allowed here; allowed: POST"},
		{desc: "uploads takes no PUT", method: "PUT", path: "/uploads/new.txt", status: 405,
			allow: "POST", message: "method not allowed here; allowed: POST"},
		{desc: "files without a key", method: "GET", path: "/files/", status: 404,
			message: "name a file in the bucket, e.g. /files/hello.txt"},
		{desc: "uploads without a key", method: "POST", path: "/uploads/", status: 404,
			message: "name a file in the bucket, e.g. /files/hello.txt"},
	}
	for _, tt := range tests {
		a := l.do(tt.method, tt.path, nil)
		if a.status != tt.status || a.header.Get("Allow") != tt.allow || errorOf(a.body) != tt.message {
			t.Errorf("%s: %d Allow %q %q, want %d %q %q", tt.desc, a.status, a.header.Get("Allow"), errorOf(a.body),
				tt.status, tt.allow, tt.message)
		}
	}
}

// The api presigns while other requests use corslab's S3 client (a
// bucket's CORS rules being set). When it presigned with a client made per
// request, -race caught the SDK's default S3 Express provider being written
// by one and read by the other; corslab now signs with its own SigV4 code,
// and this stays as a guard.
func TestPresigningBesideOtherCallsIsRaceFree(t *testing.T) {
	sess, err := session.NewStore(session.Options{Max: 1, Idle: time.Hour}).Create(scenario.Default())
	if err != nil {
		t.Fatal(err)
	}
	s3o := NewS3(s3mem.New(), sigv4.Corslab(), nil)
	if err := s3o.CreateBucket(sess.ID); err != nil {
		t.Fatal(err)
	}
	client := NewS3Client(s3o, sigv4.Corslab())
	ctx := session.NewContext(context.Background(), sess)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := presignURL(ctx, client, http.MethodGet, "http://127.0.0.1:1", sess.ID, "hello.txt", time.Minute); err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() {
			if err := PutBucketCORS(ctx, client, sess.ID, nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}
