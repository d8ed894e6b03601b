package origins

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/corslab/corslab/playground/scenario"
	"github.com/corslab/corslab/playground/session"
)

// newAPI returns the api origin and a session whose api policy is set by
// edit, for requests made with do.
func newAPI(t *testing.T, edit func(*scenario.API)) (*session.Session, func(*http.Request) *http.Response) {
	t.Helper()
	st := session.NewStore(session.Options{Max: 1, Idle: time.Hour})
	sc := scenario.Default()
	edit(&sc.API)
	s, err := st.Create(sc)
	if err != nil {
		t.Fatal(err)
	}
	h := API(func(r *http.Request, role, path string) (string, bool) {
		if role != "s3" && role != "api" {
			return "", false
		}
		return "http://" + role + ".test/" + s.ID + path, true
	}, nil)
	return s, func(r *http.Request) *http.Response {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r.WithContext(session.NewContext(r.Context(), s)))
		return w.Result()
	}
}

func TestAPIAppliesPolicyEverywhere(t *testing.T) {
	s, do := newAPI(t, func(a *scenario.API) {
		a.AllowOrigin = "echo"
		a.AllowMethods = "PUT"
		a.AllowHeaders = "echo"
		a.ExposeHeaders = "X-Total-Count"
		a.PreflightStatus = 200
		age := 600
		a.MaxAge = &age
	})
	origin := "http://127.0.0.1:8081"
	tests := []struct {
		desc       string
		method     string
		path       string
		headers    map[string]string
		wantStatus int
		want       map[string]string // "" means absent
	}{
		{"preflight answered with the policy's status and preflight headers", "OPTIONS", "/users",
			map[string]string{"Origin": origin, "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "x-user-id"}, 200,
			map[string]string{"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Methods": "PUT", "Access-Control-Allow-Headers": "x-user-id", "Access-Control-Max-Age": "600", "Access-Control-Expose-Headers": "", "Vary": "Origin"}},
		{"preflight to an unknown path is still answered by the middleware", "OPTIONS", "/nope",
			map[string]string{"Origin": origin, "Access-Control-Request-Method": "DELETE"}, 200,
			map[string]string{"Access-Control-Allow-Origin": origin}},
		{"actual request gets ACAO and Expose, not preflight headers", "GET", "/users",
			map[string]string{"Origin": origin}, 200,
			map[string]string{"Access-Control-Allow-Origin": origin, "Access-Control-Expose-Headers": "X-Total-Count", "Access-Control-Allow-Methods": "", "X-Total-Count": "3", "Cache-Control": "no-store"}},
		{"a 404 carries the policy too", "GET", "/nope",
			map[string]string{"Origin": origin}, 404,
			map[string]string{"Access-Control-Allow-Origin": origin}},
		{"no Origin, nothing to echo", "GET", "/users", nil, 200,
			map[string]string{"Access-Control-Allow-Origin": ""}},
		{"wrong method gets 405 and Allow", "DELETE", "/users",
			map[string]string{"Origin": origin}, 405,
			map[string]string{"Allow": "GET, HEAD, POST, PUT", "Access-Control-Allow-Origin": origin}},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, "http://127.0.0.1:8082/"+s.ID+tt.path, nil)
		for k, v := range tt.headers {
			r.Header.Set(k, v)
		}
		resp := do(r)
		if resp.StatusCode != tt.wantStatus {
			t.Errorf("%s: status %d, want %d", tt.desc, resp.StatusCode, tt.wantStatus)
		}
		for k, want := range tt.want {
			if got := resp.Header.Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", tt.desc, k, got, want)
			}
		}
	}
}

func TestAPIUsersAndLogin(t *testing.T) {
	s, do := newAPI(t, func(*scenario.API) {})
	base := "http://127.0.0.1:8082/" + s.ID
	req := func(method, path, body string) *http.Request {
		return httptest.NewRequest(method, base+path, strings.NewReader(body))
	}

	resp := do(req("PUT", "/users", `{"username":"user10","name":"Ten"}`))
	var u session.User
	json.NewDecoder(resp.Body).Decode(&u)
	if resp.StatusCode != 201 || u.ID != 4 || u.Username != "user10" {
		t.Fatalf("create: %d %+v", resp.StatusCode, u)
	}
	if resp := do(req("PATCH", "/users/4", `{"name":"Ten!"}`)); resp.StatusCode != 200 {
		t.Errorf("patch: %d", resp.StatusCode)
	}
	if resp := do(req("PUT", "/users/4", `{"name":"only a name"}`)); resp.StatusCode != 400 {
		t.Errorf("put without username: %d, want 400", resp.StatusCode)
	}
	if resp := do(req("POST", "/users", `{not json`)); resp.StatusCode != 400 {
		t.Errorf("bad JSON: %d, want 400", resp.StatusCode)
	}
	if resp := do(req("DELETE", "/users/4", "")); resp.StatusCode != 204 {
		t.Errorf("delete: %d", resp.StatusCode)
	}
	if resp := do(req("GET", "/users/4", "")); resp.StatusCode != 404 {
		t.Errorf("get deleted: %d", resp.StatusCode)
	}

	if resp := do(req("GET", "/me", "")); resp.StatusCode != 401 {
		t.Errorf("me without cookie: %d, want 401", resp.StatusCode)
	}
	resp = do(req("POST", "/login", `{"username":"grace"}`))
	cookies := resp.Cookies()
	if resp.StatusCode != 200 || len(cookies) != 1 {
		t.Fatalf("login: %d, cookies %v", resp.StatusCode, cookies)
	}
	c := cookies[0]
	if c.Name != LoginCookie || c.Path != "/"+s.ID+"/" || c.SameSite != http.SameSiteLaxMode || !c.HttpOnly {
		t.Errorf("login cookie %+v", c)
	}
	me := req("GET", "/me", "")
	me.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	resp = do(me)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"grace"`) {
		t.Errorf("me with cookie: %d %s", resp.StatusCode, body)
	}
}

func TestAPILoginCookieSameSite(t *testing.T) {
	tests := []struct {
		desc, sameSite string
		wantSameSite   http.SameSite
		wantSecure     bool
		wantAttrs      string // how the attributes end the Set-Cookie header
	}{
		{"lax, the default", "lax", http.SameSiteLaxMode, false, "; HttpOnly; SameSite=Lax"},
		{"strict", "strict", http.SameSiteStrictMode, false, "; HttpOnly; SameSite=Strict"},
		{"none is sent with Secure, which browsers insist on", "none", http.SameSiteNoneMode, true, "; HttpOnly; Secure; SameSite=None"},
	}
	for _, tt := range tests {
		s, do := newAPI(t, func(a *scenario.API) { a.CookieSameSite = tt.sameSite })
		base := "http://127.0.0.1:8082/" + s.ID
		for _, path := range []string{"/login", "/logout"} {
			resp := do(httptest.NewRequest("POST", base+path, nil))
			raw := resp.Header.Get("Set-Cookie")
			cookies := resp.Cookies()
			if len(cookies) != 1 {
				t.Fatalf("%s: POST %s set %d cookies: %q", tt.desc, path, len(cookies), raw)
			}
			c := cookies[0]
			if c.Name != LoginCookie || c.SameSite != tt.wantSameSite || c.Secure != tt.wantSecure || !c.HttpOnly || c.Path != "/"+s.ID+"/" {
				t.Errorf("%s: POST %s set %q", tt.desc, path, raw)
			}
			if !strings.HasSuffix(raw, tt.wantAttrs) {
				t.Errorf("%s: POST %s: Set-Cookie %q, want it to end %q", tt.desc, path, raw, tt.wantAttrs)
			}
			if path == "/logout" && c.MaxAge >= 0 {
				t.Errorf("%s: logout does not delete the cookie: %q", tt.desc, raw)
			}
		}
	}
}

func TestAPIRedirects(t *testing.T) {
	s, do := newAPI(t, func(a *scenario.API) { a.AllowOrigin = "*" })
	base := "http://127.0.0.1:8082/" + s.ID
	tests := []struct {
		desc, method, path string
		wantStatus         int
		wantLocation       string
	}{
		{"307 to the bucket keeps the query", "POST", "/redirect/307/s3/hello.txt?x=1", 307, "http://s3.test/" + s.ID + "/hello.txt?x=1"},
		{"302 to the api itself", "GET", "/redirect/302/api/users", 302, "http://api.test/" + s.ID + "/users"},
		{"a chain", "GET", "/redirect/301/api/redirect/308/api/me", 301, "http://api.test/" + s.ID + "/redirect/308/api/me"},
		{"not a redirect status", "GET", "/redirect/200/api/users", 404, ""},
		{"unknown role", "GET", "/redirect/302/ftp/x", 404, ""},
	}
	for _, tt := range tests {
		resp := do(httptest.NewRequest(tt.method, base+tt.path, nil))
		if resp.StatusCode != tt.wantStatus || resp.Header.Get("Location") != tt.wantLocation {
			t.Errorf("%s: %d Location %q, want %d %q", tt.desc, resp.StatusCode, resp.Header.Get("Location"), tt.wantStatus, tt.wantLocation)
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
			t.Errorf("%s: the policy's ACAO is missing (%q)", tt.desc, got)
		}
	}
}
