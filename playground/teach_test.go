package playground

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/corslab/corslab/lessons"
	"github.com/corslab/corslab/playground/class"
	"github.com/corslab/corslab/playground/lesson"
)

const testToken = "instructor-token-0123456789"

// startClassroom runs a corslab with the built-in lessons and a dashboard.
func startClassroom(t *testing.T) *Server {
	t.Helper()
	curriculum, err := lesson.Load(lessons.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	return startServerWith(t, Config{
		Listen: "127.0.0.1", MaxSessions: 50, SessionIdle: time.Hour,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Lessons: curriculum, Workshop: true, TeachToken: testToken,
	})
}

// send makes a request to the UI origin; header is pairs of name, value.
func send(t *testing.T, srv *Server, method, path, body string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.testURL(UI)+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var bearer = []string{"Authorization", "Bearer " + testToken}

func TestTeachNeedsTheToken(t *testing.T) {
	srv := startClassroom(t)
	for _, tc := range []struct {
		path   string
		header []string
	}{
		{"/teach", nil},
		{"/teach?token=wrong-token-0123456789", nil},
		{"/teach/api/class", nil},
		{"/teach/api/class", []string{"Authorization", "Bearer wrong"}},
		{"/teach/api/class", []string{"Cookie", teachCookie + "=" + testToken[:len(testToken)-1]}},
		{"/teach/learners/abcdefghijklmnopqrstuvwxyz", nil},
		{"/teach/ws", nil},
	} {
		resp, body := send(t, srv, "GET", tc.path, "", tc.header...)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s %v: %d, want 401", tc.path, tc.header, resp.StatusCode)
		}
		if strings.Contains(body, "abcdefghij") || strings.Contains(body, "learners") && strings.HasPrefix(tc.path, "/teach/api") {
			t.Errorf("GET %s without the token leaks %q", tc.path, body)
		}
	}
	if _, body := send(t, srv, "GET", "/teach/api/class", ""); !strings.Contains(body, "token") {
		t.Errorf("401 says %q; it should say a token is needed", body)
	}

	// Signing in moves the token into a cookie only /teach paths carry.
	resp, _ := send(t, srv, "GET", "/teach?token="+url.QueryEscape(testToken), "")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/teach" {
		t.Fatalf("sign-in: %d to %q, want 303 to /teach", resp.StatusCode, resp.Header.Get("Location"))
	}
	cookies := resp.Cookies()
	if len(cookies) != 1 || cookies[0].Name != teachCookie || cookies[0].Path != "/teach" || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode {
		t.Fatalf("sign-in cookie: %+v", cookies)
	}
	for _, path := range []string{"/teach", "/teach/api/class"} {
		if resp, body := send(t, srv, "GET", path, "", "Cookie", cookies[0].String()); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s with the cookie: %d %s", path, resp.StatusCode, body)
		}
	}
	if resp, _ := send(t, srv, "GET", "/teach/api/class", "", bearer...); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /teach/api/class with the bearer token: %d", resp.StatusCode)
	}
}

func TestTeachIsClosedWithoutAToken(t *testing.T) {
	srv := startServer(t, 5) // no TeachToken
	for _, h := range [][]string{nil, {"Authorization", "Bearer "}, {"Cookie", teachCookie + "="}} {
		if resp, _ := send(t, srv, "GET", "/teach/api/class", "", h...); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("no dashboard, %v: %d, want 401", h, resp.StatusCode)
		}
	}
	if resp, body := send(t, srv, "GET", "/teach?token=", ""); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "--teach-token") {
		t.Errorf("GET /teach: %d, and it should say how to get a dashboard: %q", resp.StatusCode, body)
	}
}

// openLesson opens a lesson as a learner's browser does and returns the
// new session's id.
func openLesson(t *testing.T, srv *Server, slug string) string {
	t.Helper()
	resp, _ := send(t, srv, "GET", "/lessons/"+slug, "")
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/lessons/"+slug+"/") {
		t.Fatalf("GET /lessons/%s: %d to %q", slug, resp.StatusCode, loc)
	}
	return strings.TrimPrefix(loc, "/lessons/"+slug+"/")
}

func classNow(t *testing.T, srv *Server) class.Snapshot {
	t.Helper()
	srv.teach.mu.Lock()
	srv.teach.last = nil // no cached answer
	srv.teach.mu.Unlock()
	resp, body := send(t, srv, "GET", "/teach/api/class", "", bearer...)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("class: %d %s", resp.StatusCode, body)
	}
	var snap class.Snapshot
	if err := json.Unmarshal([]byte(body), &snap); err != nil {
		t.Fatal(err)
	}
	return snap
}

func TestLearnerNicknames(t *testing.T) {
	srv := startClassroom(t)
	id := openLesson(t, srv, "origins")
	for _, tc := range []struct{ body, field string }{
		{`{"learner":"short","nickname":"Ada"}`, "learner"},
		{`{"learner":"ada-lovelace-1815!","nickname":"Ada"}`, "learner"},
		{`{"learner":"ada-lovelace-1815","nickname":"  "}`, "nickname"},
		{`{"learner":"ada-lovelace-1815","nickname":"` + strings.Repeat("é", 41) + `"}`, "nickname"},
		{`{"learner":"ada-lovelace-1815","nickname":"Ada\u0007"}`, "nickname"},
		{`{"learner":"ada-lovelace-1815","nickname":"Ada\u202e"}`, "nickname"},
	} {
		resp, body := send(t, srv, "PUT", "/api/sessions/"+id+"/learner", tc.body)
		var got struct{ Errors map[string]string }
		json.Unmarshal([]byte(body), &got)
		if resp.StatusCode != http.StatusBadRequest || got.Errors[tc.field] == "" {
			t.Errorf("%s: %d %s, want 400 naming %s", tc.body, resp.StatusCode, body, tc.field)
		}
	}
	if ln := classNow(t, srv).Learners; len(ln) != 1 || ln[0].Nickname != "" || ln[0].ID != "" {
		t.Fatalf("refused nicknames changed the learner: %+v", ln)
	}
	resp, body := send(t, srv, "PUT", "/api/sessions/"+id+"/learner", `{"learner":"ada-lovelace-1815","nickname":" Ada <b>L</b> "}`)
	var got map[string]string
	json.Unmarshal([]byte(body), &got)
	if resp.StatusCode != http.StatusOK || got["learner"] != "ada-lovelace-1815" || got["nickname"] != "Ada <b>L</b>" {
		t.Fatalf("PUT learner: %d %s; want the nickname trimmed, and otherwise as typed", resp.StatusCode, body)
	}
}

func TestClassProgressAndRuns(t *testing.T) {
	srv := startClassroom(t)
	ada := openLesson(t, srv, "origins")
	send(t, srv, "PUT", "/api/sessions/"+ada+"/learner", `{"learner":"learner-ada-0001","nickname":"Ada"}`)
	// Ada opens the lesson a second time: still one learner.
	ada2 := openLesson(t, srv, "origins")
	send(t, srv, "PUT", "/api/sessions/"+ada2+"/learner", `{"learner":"learner-ada-0001","nickname":"Ada"}`)
	bob := openLesson(t, srv, "preflight")
	anon := openLesson(t, srv, "origins")

	// What lesson 1's goal "other-origin-refused" asks for: the app's
	// request reaches the api, which sends no CORS headers; JS is refused.
	req, _ := http.NewRequest("GET", srv.testURL(API)+"/"+ada2+"/users", nil)
	req.Header.Set("Origin", srv.testURL(App))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	run := `{"request":` + testRequest("GET", "/users") + `,"url":"x","since":0,"browser":{"ok":false,"error":"TypeError: Failed to fetch"}}`
	if resp, body := send(t, srv, "POST", "/api/sessions/"+ada2+"/runs", run); resp.StatusCode != http.StatusCreated {
		t.Fatalf("run: %d %s", resp.StatusCode, body)
	}
	send(t, srv, "POST", "/api/sessions/"+bob+"/runs", `{"request":`+testRequest("PUT", "/users/1")+`,"url":"x","browser":{"ok":true,"status":200}}`)

	snap := classNow(t, srv)
	if snap.Sessions != 4 || len(snap.Learners) != 3 {
		t.Fatalf("%d sessions, %d learners; want 4 sessions of 3 learners: %+v", snap.Sessions, len(snap.Learners), snap.Learners)
	}
	// No name sorts first, then by nickname.
	if snap.Learners[0].Nickname != "" || snap.Learners[0].Current.Session != anon && snap.Learners[0].Current.Session != bob || snap.Learners[2].Nickname != "Ada" {
		t.Errorf("learners: %+v", snap.Learners)
	}
	a := snap.Learners[2]
	p := a.Lessons["origins"]
	if p.Total != 4 || len(p.Met) != 1 || p.Met[0] != "other-origin-refused" || p.Runs != 1 || p.Blocked != 1 || p.Done {
		t.Errorf("Ada's progress in origins: %+v", p)
	}
	if a.Current.Session != ada2 || a.Current.WatchURL != "/teach/learners/"+ada2 {
		t.Errorf("Ada's current session: %+v, want %s", a.Current, ada2)
	}
	byslug := map[string]class.Lesson{}
	for _, l := range snap.Lessons {
		byslug[l.Slug] = l
	}
	if l := byslug["origins"]; l.Runs != 1 || l.Blocked != 1 || l.Started != 2 || l.Done != 0 || len(l.Goals) != 4 {
		t.Errorf("origins totals: %+v", l)
	}
	if l := byslug["preflight"]; l.Runs != 1 || l.Blocked != 0 || l.Started != 1 {
		t.Errorf("preflight totals: %+v", l)
	}
	if len(snap.Lessons) != len(srv.cfg.Lessons) {
		t.Errorf("%d lessons in the snapshot, want %d", len(snap.Lessons), len(srv.cfg.Lessons))
	}

	// A goal once met stays met, even after the session's traffic moves on.
	send(t, srv, "PUT", "/api/sessions/"+ada2+"/scenario", `{"api":{"allowOrigin":"*"}}`)
	if p := classNow(t, srv).Learners[2].Lessons["origins"]; len(p.Met) != 1 {
		t.Errorf("after a scenario change, Ada's met goals are %v", p.Met)
	}
}

func TestAnnouncements(t *testing.T) {
	srv := startClassroom(t)
	id := openLesson(t, srv, "origins")
	ws := dialWS(t, srv, id, "")

	post := func(body string, header ...string) (*http.Response, string) {
		return send(t, srv, "POST", "/teach/api/announce", body, append(append([]string{}, bearer...), header...)...)
	}
	if resp, _ := post(`{"lesson":"preflight"}`, "Content-Type", "text/plain"); resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain announcement: %d, want 415", resp.StatusCode)
	}
	if resp, _ := post(`{"lesson":"preflight"}`, "Content-Type", "application/json", "Origin", srv.testURL(Evil)); resp.StatusCode != http.StatusForbidden {
		t.Errorf("announcement from the evil origin: %d, want 403", resp.StatusCode)
	}
	if resp, body := post(`{"lesson":"no-such"}`, "Content-Type", "application/json"); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "lesson") {
		t.Errorf("unknown lesson: %d %s", resp.StatusCode, body)
	}
	resp, body := post(`{"lesson":"preflight"}`, "Content-Type", "application/json", "Origin", srv.testURL(UI))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("announce: %d %s", resp.StatusCode, body)
	}

	var a struct {
		Type string `json:"type"`
		class.Announcement
	}
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := ws.ReadJSON(&a); err != nil {
		t.Fatal(err)
	}
	if a.Type != "announce" || a.Lesson != "preflight" || a.URL != "/lessons/preflight" || a.Title == "" || a.ID != 1 {
		t.Errorf("announce frame: %+v", a)
	}
	// A page that connects later gets it too, after its backlog.
	late := dialWS(t, srv, openLesson(t, srv, "origins"), "")
	late.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := late.ReadJSON(&a); err != nil || a.Lesson != "preflight" {
		t.Errorf("late page: %+v %v", a, err)
	}
	if snap := classNow(t, srv); snap.Announcement == nil || snap.Announcement.Lesson != "preflight" {
		t.Errorf("snapshot announcement: %+v", snap.Announcement)
	}

	// Taking it back sends lesson "" with a new id.
	post(`{"lesson":""}`, "Content-Type", "application/json")
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	a = struct {
		Type string `json:"type"`
		class.Announcement
	}{}
	if err := ws.ReadJSON(&a); err != nil || a.Type != "announce" || a.Lesson != "" || a.ID != 2 {
		t.Errorf("cleared: %+v %v", a, err)
	}
}

func TestScenarioChangesReachWatchers(t *testing.T) {
	srv := startClassroom(t)
	id := openLesson(t, srv, "origins")
	ws := dialWS(t, srv, id, "")
	send(t, srv, "PUT", "/api/sessions/"+id+"/scenario", `{"api":{"allowOrigin":"*"}}`)
	var f struct {
		Type     string `json:"type"`
		Scenario struct {
			API struct {
				AllowOrigin string `json:"allowOrigin"`
			} `json:"api"`
		} `json:"scenario"`
		Query string `json:"query"`
	}
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := ws.ReadJSON(&f); err != nil {
		t.Fatal(err)
	}
	if f.Type != "scenario" || f.Scenario.API.AllowOrigin != "*" || !strings.Contains(f.Query, "api.allowOrigin") {
		t.Errorf("scenario frame: %+v", f)
	}

	// The read-only view renders the learner's page for the instructor,
	// without keeping the session alive.
	before := srv.sessions.Peek(id).LastUsed()
	resp, body := send(t, srv, "GET", "/teach/learners/"+id, "", bearer...)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"readOnly":true`) || strings.Contains(body, `"watching":`) || !strings.Contains(body, `goals?watch=1`) {
		t.Errorf("watch page: %d, readOnly, watching or the goals URL wrong", resp.StatusCode)
	}
	// The watch page's websocket starts with the scenario as it is now,
	// and neither it nor the goals poll keeps the session alive or counts
	// as the learner being online.
	watch := dialWS(t, srv, id, "watch=1")
	watch.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := watch.ReadJSON(&f); err != nil || f.Type != "scenario" || f.Scenario.API.AllowOrigin != "*" {
		t.Errorf("watcher's first frame: %+v %v", f, err)
	}
	if resp, _ := send(t, srv, "GET", "/api/sessions/"+id+"/goals?watch=1", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("goals for the watcher: %d", resp.StatusCode)
	}
	if !srv.sessions.Peek(id).LastUsed().Equal(before) {
		t.Error("watching touched the session")
	}
	ws.Close()
	deadline := time.Now().Add(5 * time.Second)
	for classNow(t, srv).Online != 0 {
		if time.Now().After(deadline) {
			t.Fatal("with only the instructor watching, the learner still counts as online")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if resp, _ := send(t, srv, "GET", "/teach/learners/"+strings.Repeat("a", 26), "", bearer...); resp.StatusCode != http.StatusNotFound {
		t.Errorf("watching an unknown session: %d, want 404", resp.StatusCode)
	}
}

func TestTeachWebsocketFollowsTheClass(t *testing.T) {
	srv := startClassroom(t)
	u := "ws://127.0.0.1:" + strings.TrimPrefix(srv.testURL(UI), "http://127.0.0.1:") + "/teach/ws"
	if _, resp, err := websocket.DefaultDialer.Dial(u, http.Header{"Origin": {srv.testURL(UI)}}); err == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("teach ws without the token: %v", err)
	}
	if _, resp, err := websocket.DefaultDialer.Dial(u, http.Header{"Origin": {srv.testURL(Evil)}, "Authorization": {bearer[1]}}); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("teach ws from the evil origin: %v", err)
	}
	ws, _, err := websocket.DefaultDialer.Dial(u, http.Header{"Origin": {srv.testURL(UI)}, "Authorization": {bearer[1]}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	read := func() class.Snapshot {
		t.Helper()
		var f struct {
			Type string `json:"type"`
			class.Snapshot
		}
		ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		if err := ws.ReadJSON(&f); err != nil || f.Type != "class" {
			t.Fatalf("teach frame: %+v %v", f.Type, err)
		}
		return f.Snapshot
	}
	if first := read(); first.Sessions != 0 {
		t.Errorf("first frame: %d sessions, want 0", first.Sessions)
	}
	id := openLesson(t, srv, "origins")
	send(t, srv, "PUT", "/api/sessions/"+id+"/learner", `{"learner":"learner-grace-01","nickname":"Grace"}`)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if snap := read(); len(snap.Learners) == 1 && snap.Learners[0].Nickname == "Grace" {
			return
		}
	}
	t.Error("the dashboard never saw Grace arrive")
}

// testRequest is a run's request from the app to the api, as JSON.
func testRequest(method, path string) string {
	return `{"from":"app","target":"api","method":"` + method + `","path":"` + path + `","credentials":"same-origin","mode":"cors","redirect":"follow"}`
}
