package origins

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/corslab/corslab/playground/scenario"
)

// POST /me renames the logged-in user on the cookie alone, whatever the
// body's type, as a form posts it (CSRF), unless api.requireJson is set.
func TestMeRenameAndRequireJSON(t *testing.T) {
	for _, requireJSON := range []bool{false, true} {
		s, do := newAPI(t, func(a *scenario.API) { a.RequireJSON = requireJSON })
		base := "http://127.0.0.1:8082/" + s.ID
		login := do(httptest.NewRequest("POST", base+"/login", nil)) // no body: the first user, ada
		cookie := login.Cookies()[0]
		post := func(ctype, body string, withCookie bool) (int, string) {
			req := httptest.NewRequest("POST", base+"/me", strings.NewReader(body))
			req.Header.Set("Content-Type", ctype)
			if withCookie {
				req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
			}
			resp := do(req)
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		if status, _ := post("application/json", `{"name":"x"}`, false); status != 401 {
			t.Errorf("requireJson %v: POST /me without the cookie: %d, want 401", requireJSON, status)
		}
		// The body a text/plain form makes of one field named
		// {"name":"pwned","x":" whose value is "}.
		status, body := post("text/plain", "{\"name\":\"pwned\",\"x\":\"=\"}\r\n", true)
		switch {
		case !requireJSON && (status != 200 || !strings.Contains(body, `"name":"pwned"`)):
			t.Errorf("a text/plain form's JSON: %d %s, want 200 and the new name", status, body)
		case requireJSON && (status != 415 || !strings.Contains(body, "api.requireJson")):
			t.Errorf("requireJson: a text/plain body: %d %s, want 415 naming the setting", status, body)
		}
		if status, body := post("application/json; charset=utf-8", `{"name":"Ada L."}`, true); status != 200 || !strings.Contains(body, `"Ada L."`) {
			t.Errorf("requireJson %v: a JSON body: %d %s, want 200", requireJSON, status, body)
		}
		if u, _ := s.Users.Get(1); u.Name != "Ada L." {
			t.Errorf("requireJson %v: user 1 is %+v", requireJSON, u)
		}
	}
}
