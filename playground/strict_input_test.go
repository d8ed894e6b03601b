package playground

import (
	"encoding/json"
	"html"
	"net/http"
	"strings"
	"testing"
)

// TestNullInAScenarioIsAFieldError sends null where a scenario field needs
// a value, through both doors a scenario comes in by.
func TestNullInAScenarioIsAFieldError(t *testing.T) {
	srv := startServer(t, 5)
	sess := createSession(t, srv, `{"api": {"allowOrigin": "echo"}}`)
	for _, tc := range []struct {
		method, path, body, field string
	}{
		{"POST", "/api/sessions", `{"setup": null}`, "setup"},
		{"POST", "/api/sessions", `{"api": {"requireLogin": null}}`, "api.requireLogin"},
		{"PUT", "/api/sessions/" + sess.ID + "/scenario", `{"setup": null}`, "setup"},
		{"PUT", "/api/sessions/" + sess.ID + "/scenario", `{"api": {"requireLogin": null}}`, "api.requireLogin"},
		{"PUT", "/api/sessions/" + sess.ID + "/scenario", `{"request": {"headers": {"X-A": null}}}`, "request.headers"},
	} {
		resp, body := send(t, srv, tc.method, tc.path, tc.body, "Content-Type", "application/json", "Origin", srv.testURL(UI))
		var got struct{ Errors map[string]string }
		json.Unmarshal([]byte(body), &got)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(got.Errors[tc.field], "not null") {
			t.Errorf("%s %s %s: %d %.200s, want 400 with an error on %s", tc.method, tc.path, tc.body, resp.StatusCode, body, tc.field)
		}
	}
	// The refused scenario changed nothing; null where it means something
	// is still taken.
	resp, body := send(t, srv, "PUT", "/api/sessions/"+sess.ID+"/scenario", `{"api": {"allowOrigin": "echo", "maxAge": null}, "bucket": {"cors": null}}`,
		"Content-Type", "application/json", "Origin", srv.testURL(UI))
	if resp.StatusCode != http.StatusOK {
		t.Errorf("maxAge and bucket.cors null: %d %s", resp.StatusCode, body)
	}
}

// TestInvalidUTF8InAJSONBodyIsRefused posts JSON with a byte that is not
// UTF-8 to every JSON body the UI origin reads.
func TestInvalidUTF8InAJSONBodyIsRefused(t *testing.T) {
	srv := startClassroom(t)
	sess := createSession(t, srv, `{}`)
	for _, tc := range []struct {
		desc, method, path, body string
		header                   []string
		where                    string
	}{
		{"a new session", "POST", "/api/sessions", "{\"request\": {\"body\": \"a\xffb\"}}", nil, "line 1, column 24: invalid UTF-8"},
		{"a scenario", "PUT", "/api/sessions/" + sess.ID + "/scenario", "{\n\"api\": {\"allowOrigin\": \"\xc3\"}}", nil, "line 2, column 25: invalid UTF-8"},
		{"a run", "POST", "/api/sessions/" + sess.ID + "/runs", "{\"url\": \"http://x\", \"browser\": {\"body\": \"\xfe\"}}", nil, "line 1, column 42: invalid UTF-8"},
		{"a learner's nickname", "PUT", "/api/sessions/" + sess.ID + "/learner", "{\"learner\": \"l1\", \"nickname\": \"Ad\xe0\"}", nil, "line 1, column 34: invalid UTF-8"},
		{"an announcement", "POST", "/teach/api/announce", "{\"lesson\": \"\x80\"}", bearer, "line 1, column 13: invalid UTF-8"},
	} {
		header := append([]string{"Content-Type", "application/json", "Origin", srv.testURL(UI)}, tc.header...)
		resp, body := send(t, srv, tc.method, tc.path, tc.body, header...)
		var got struct{ Error string }
		json.Unmarshal([]byte(body), &got)
		if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(got.Error, tc.where) {
			t.Errorf("%s: %d %.200s, want 400 saying %q", tc.desc, resp.StatusCode, body, tc.where)
		}
	}
}

// TestRunParameterIsValidated opens lab, lesson and embed links with a run
// parameter that is not 1: the error page lists it, as it lists any other
// bad parameter.
func TestRunParameterIsValidated(t *testing.T) {
	srv := startClassroom(t)
	lab := createSession(t, srv, `{}`)
	lessonID := openLesson(t, srv, "origins")
	const rule = "must be 1 (run when the page opens), or left out"
	for _, tc := range []struct{ path, says string }{
		{"/lab?run=maybe", rule + `; got "maybe"`},
		{"/lab?api.allowOrigin=echo&run=0", rule + `; got "0"`},
		{"/lab?run=", rule + `; got ""`},
		{"/lab?run=1&run=1", "given more than once"},
		{"/lab/" + lab.ID + "?run=maybe", rule},
		{"/lessons/origins?run=maybe", rule},
		{"/lessons/origins/" + lessonID + "?run=true", rule},
		{"/embed/origins?run=yes", rule},
		{"/embed/origins/" + lessonID + "?run=2", rule},
		{"/matrix?run=maybe", rule},
	} {
		resp, body := send(t, srv, "GET", tc.path, "")
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(html.UnescapeString(body), tc.says) {
			t.Errorf("GET %s: %d, want 400 saying %q", tc.path, resp.StatusCode, tc.says)
		}
	}
	for _, path := range []string{"/lab/" + lab.ID + "?run=1", "/lessons/origins/" + lessonID + "?run=1"} {
		if resp, _ := send(t, srv, "GET", path, ""); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d, want 200", path, resp.StatusCode)
		}
	}
}
