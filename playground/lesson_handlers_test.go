package playground

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/corslab/corslab/playground/lesson"
	"github.com/corslab/corslab/playground/session"
)

// The handler tests' curriculum: two small lessons, in two tracks.
const (
	handlerLessonOne = `---
title: Handlers one
track: basics
order: 1
summary: The first test lesson.
scenario:
  request.method: PUT
  request.headers.User-Id: "11"
  api.allowlist: ["{app}", "{evil}"]
goals:
  - id: preflight-seen
    text: See a preflight.
    exchange: {origin: api, kind: preflight, path: /users}
  - id: put-works
    text: Get the PUT through.
    run: {method: PUT, path: /users, ok: true}
    exchange: {origin: api, method: PUT}
  - id: then-fails
    text: Then make it fail.
    run: {method: PUT, ok: false}
    after: put-works
hints: [Look at the preflight.]
links:
  - {title: Fetch, url: "https://fetch.spec.whatwg.org/"}
solution:
  - set: {api.allowOrigin: echo, api.allowMethods: PUT, api.allowHeaders: user-id}
---
The first lesson's text.
`
	handlerLessonTwo = `---
title: Handlers two
track: credentials
order: 1
summary: The second test lesson.
goals:
  - id: sent
    text: Send anything.
    exchange: {origin: api}
hints: [Press Run.]
links:
  - {title: MDN, url: "https://developer.mozilla.org/"}
solution:
  - set: {}
---
The second lesson's text.
`
)

// handlerCurriculum parses the handler tests' lessons, as main does.
func handlerCurriculum(t *testing.T) []*lesson.Lesson {
	t.Helper()
	one, err := lesson.Parse("01-handlers-one.md", []byte(handlerLessonOne))
	if err != nil {
		t.Fatal(err)
	}
	two, err := lesson.Parse("01-handlers-two.md", []byte(handlerLessonTwo))
	if err != nil {
		t.Fatal(err)
	}
	merged, err := lesson.Merge([]*lesson.Lesson{two, one})
	if err != nil {
		t.Fatal(err)
	}
	return merged
}

// lessonClient talks to a test server's UI origin without following
// redirects, with host as the Host header (what the learner's address bar
// says), so the origins are named after it.
type lessonClient struct {
	t    *testing.T
	srv  *Server
	host string
}

func newLessonClient(t *testing.T, maxSessions int) lessonClient {
	t.Helper()
	srv := startServerWith(t, Config{
		Listen: "127.0.0.1", MaxSessions: maxSessions, SessionIdle: time.Hour,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Lessons: handlerCurriculum(t),
	})
	return lessonClient{t: t, srv: srv, host: "localhost:" + strconv.Itoa(srv.Port(UI))}
}

// origin is a role's URL as the browser behind c sees it.
func (c lessonClient) origin(r Role) string {
	return "http://localhost:" + strconv.Itoa(c.srv.Port(r))
}

func (c lessonClient) do(method, path, body string) *http.Response {
	c.t.Helper()
	req, err := http.NewRequest(method, c.srv.testURL(UI)+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Host = c.host
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp
}

// get returns the status, the Location header and the body.
func (c lessonClient) get(path string) (int, string, string) {
	c.t.Helper()
	resp := c.do(http.MethodGet, path, "")
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// json fetches path and decodes a 200 answer into v.
func (c lessonClient) json(method, path, body string, wantStatus int, v any) {
	c.t.Helper()
	resp := c.do(method, path, body)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		c.t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, b, wantStatus)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		c.t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			c.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

var lessonSessionPath = regexp.MustCompile(`^/(lessons|embed)/([a-z0-9-]+)/([^/?]+)(\?.*)?$`)

// newLessonSession opens /lessons/{slug}?query and returns the new
// session's id and where the redirect went.
func (c lessonClient) newLessonSession(slug, query string) (id, location string) {
	c.t.Helper()
	status, loc, body := c.get("/lessons/" + slug + query)
	m := lessonSessionPath.FindStringSubmatch(loc)
	if status != http.StatusSeeOther || m == nil || m[1] != "lessons" || m[2] != slug || !session.ValidID(m[3]) {
		c.t.Fatalf("GET /lessons/%s%s: %d to %q\n%.500s", slug, query, status, loc, body)
	}
	return m[3], loc
}

func TestLessonHandlersIndex(t *testing.T) {
	c := newLessonClient(t, 10)
	status, _, body := c.get("/lessons")
	if status != http.StatusOK {
		t.Fatalf("GET /lessons: %d", status)
	}
	one, two := strings.Index(body, "Handlers one"), strings.Index(body, "Handlers two")
	if one < 0 || two < 0 || one > two {
		t.Errorf("the index does not list both lessons, basics first: %d %d", one, two)
	}
	for _, want := range []string{`href="/lessons/handlers-one"`, `href="/lessons/handlers-two"`, "The first test lesson."} {
		if !strings.Contains(body, want) {
			t.Errorf("the index lacks %s", want)
		}
	}
}

func TestLessonHandlersAPIList(t *testing.T) {
	c := newLessonClient(t, 10)
	var got []map[string]any
	c.json(http.MethodGet, "/api/lessons", "", http.StatusOK, &got)
	want := []map[string]any{
		{
			"slug": "handlers-one", "title": "Handlers one", "track": "basics", "order": 1.0,
			"summary": "The first test lesson.", "url": "/lessons/handlers-one",
			"goals": []any{
				map[string]any{"id": "preflight-seen", "text": "See a preflight."},
				map[string]any{"id": "put-works", "text": "Get the PUT through."},
				map[string]any{"id": "then-fails", "text": "Then make it fail.", "after": "put-works"},
			},
		},
		{
			"slug": "handlers-two", "title": "Handlers two", "track": "credentials", "order": 1.0,
			"summary": "The second test lesson.", "url": "/lessons/handlers-two",
			"goals": []any{map[string]any{"id": "sent", "text": "Send anything."}},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
}

// A lesson link makes a session with the lesson's start and the link's
// changes, the origins named after the host the browser used.
func TestLessonHandlersNewSession(t *testing.T) {
	c := newLessonClient(t, 10)
	id, loc := c.newLessonSession("handlers-one", "?api.allowOrigin=echo&run=1")
	if want := "/lessons/handlers-one/" + id + "?api.allowOrigin=echo&run=1"; loc != want {
		t.Errorf("redirect to %q, want %q", loc, want)
	}
	if sess := c.srv.sessions.Get(id); sess == nil || sess.Lesson != "handlers-one" {
		t.Fatalf("the session is not the lesson's: %+v", sess)
	}

	var d sessionJSON
	c.json(http.MethodGet, "/api/sessions/"+id, "", http.StatusOK, &d)
	sc := d.Scenario
	if sc.API.AllowOrigin != "echo" {
		t.Errorf("the link's change: api.allowOrigin %q", sc.API.AllowOrigin)
	}
	if sc.Request.Method != "PUT" || sc.Request.Headers["User-Id"] != "11" {
		t.Errorf("the lesson's start: request %+v", sc.Request)
	}
	if want := []string{c.origin(App), c.origin(Evil)}; !reflect.DeepEqual(sc.API.Allowlist, want) {
		t.Errorf("{app} and {evil}: allowlist %q, want %q", sc.API.Allowlist, want)
	}
	if d.Query != "api.allowOrigin=echo" {
		t.Errorf("query %q, want it relative to the lesson's start", d.Query)
	}
	if want := c.origin(UI) + "/lessons/handlers-one/" + id + "?api.allowOrigin=echo"; d.URL != want {
		t.Errorf("url %q, want %q", d.URL, want)
	}

	if status, _, body := c.get(loc); status != http.StatusOK || !strings.Contains(body, "Handlers one") {
		t.Errorf("the lesson page: %d", status)
	}
	// The page's query sets the scenario, on top of the lesson's start.
	if status, _, _ := c.get("/lessons/handlers-one/" + id + "?api.allowMethods=PUT"); status != http.StatusOK {
		t.Fatalf("the lesson page with a change: %d", status)
	}
	c.json(http.MethodGet, "/api/sessions/"+id, "", http.StatusOK, &d)
	if d.Query != "api.allowMethods=PUT" || d.Scenario.API.AllowOrigin != "" || d.Scenario.Request.Method != "PUT" {
		t.Errorf("after /lessons/handlers-one/{id}?api.allowMethods=PUT: query %q, scenario %+v", d.Query, d.Scenario.API)
	}
	// A plain lesson link is the lesson's start: an empty query.
	plain, _ := c.newLessonSession("handlers-one", "")
	c.json(http.MethodGet, "/api/sessions/"+plain, "", http.StatusOK, &d)
	if d.Query != "" || d.URL != c.origin(UI)+"/lessons/handlers-one/"+plain {
		t.Errorf("the lesson's start: query %q, url %q", d.Query, d.URL)
	}
}

// run=1 is no change to the scenario: as on /lab/{id}, it leaves the
// session's scenario as it is.
func TestLessonHandlersRunOnLoadKeepsTheScenario(t *testing.T) {
	c := newLessonClient(t, 10)
	id, _ := c.newLessonSession("handlers-one", "?api.allowOrigin=echo")
	if status, _, _ := c.get("/lessons/handlers-one/" + id + "?run=1"); status != http.StatusOK {
		t.Fatalf("page: %d", status)
	}
	var d sessionJSON
	c.json(http.MethodGet, "/api/sessions/"+id, "", http.StatusOK, &d)
	if d.Scenario.API.AllowOrigin != "echo" {
		t.Errorf("/lessons/{slug}/{id}?run=1 reset the scenario: api.allowOrigin %q", d.Scenario.API.AllowOrigin)
	}

	// What /lab/{id}?run=1 does.
	var lab sessionJSON
	c.json(http.MethodPost, "/api/sessions", `{"api": {"allowOrigin": "echo"}}`, http.StatusCreated, &lab)
	if status, _, _ := c.get("/lab/" + lab.ID + "?run=1"); status != http.StatusOK {
		t.Fatalf("lab page: %d", status)
	}
	c.json(http.MethodGet, "/api/sessions/"+lab.ID, "", http.StatusOK, &lab)
	if lab.Scenario.API.AllowOrigin != "echo" {
		t.Errorf("/lab/{id}?run=1 reset the scenario")
	}
}

func TestLessonHandlersBadLinks(t *testing.T) {
	c := newLessonClient(t, 10)
	id, _ := c.newLessonSession("handlers-one", "?api.allowOrigin=echo")
	tests := []struct {
		desc, path string
		wantStatus int
		wantBody   string
	}{
		{"an unknown key", "/lessons/handlers-one?api.nope=1", 400, "api.nope"},
		{"a bad value", "/lessons/handlers-one?api.maxAge=soon", 400, "api.maxAge"},
		{"an unknown key on a session's page", "/lessons/handlers-one/" + id + "?api.nope=1", 400, "api.nope"},
		{"an unknown key in an embed", "/embed/handlers-one?request.nope=1", 400, "request.nope"},
		{"an unknown lesson", "/lessons/nope", 404, "No such lesson"},
		{"an unknown lesson with a session", "/lessons/nope/" + id, 404, "No such lesson"},
		{"an unknown lesson to embed", "/embed/nope?api.allowOrigin=echo", 404, "No such lesson"},
		{"an unknown embedded lesson with a session", "/embed/nope/" + id, 404, "No such lesson"},
	}
	for _, tt := range tests {
		resp := c.do(http.MethodGet, tt.path, "")
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.wantStatus || !strings.Contains(string(b), tt.wantBody) {
			t.Errorf("%s: %d, want %d with %q", tt.desc, resp.StatusCode, tt.wantStatus, tt.wantBody)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("%s: Content-Type %q, want a page", tt.desc, ct)
		}
	}
	// A refused link changed nothing.
	var d sessionJSON
	c.json(http.MethodGet, "/api/sessions/"+id, "", http.StatusOK, &d)
	if d.Query != "api.allowOrigin=echo" {
		t.Errorf("after a bad link the query is %q", d.Query)
	}
}

// A session lives on its own lesson's page: the lab and other lessons'
// pages send the learner to a session of theirs.
func TestLessonHandlersSessionPages(t *testing.T) {
	c := newLessonClient(t, 10)
	id, _ := c.newLessonSession("handlers-one", "")

	if status, loc, _ := c.get("/lab/" + id); status != http.StatusSeeOther || loc != "/lessons/handlers-one/"+id {
		t.Errorf("/lab/{id} of a lesson session: %d to %q", status, loc)
	}

	status, loc, _ := c.get("/lessons/handlers-two/" + id)
	m := lessonSessionPath.FindStringSubmatch(loc)
	if status != http.StatusSeeOther || m == nil || m[2] != "handlers-two" || m[3] == id {
		t.Errorf("another lesson's session: %d to %q, want a new session", status, loc)
	}

	var lab sessionJSON
	c.json(http.MethodPost, "/api/sessions", "", http.StatusCreated, &lab)
	status, loc, _ = c.get("/lessons/handlers-one/" + lab.ID + "?api.vary=false")
	m = lessonSessionPath.FindStringSubmatch(loc)
	if status != http.StatusSeeOther || m == nil || m[3] == lab.ID || m[4] != "?api.vary=false" {
		t.Errorf("a lab session on a lesson page: %d to %q, want a new session with the query", status, loc)
	}

	for _, unknown := range []string{strings.Repeat("a", 26), "not-an-id"} {
		status, loc, _ := c.get("/lessons/handlers-one/" + unknown)
		m := lessonSessionPath.FindStringSubmatch(loc)
		if status != http.StatusSeeOther || m == nil || m[2] != "handlers-one" || !session.ValidID(m[3]) || m[3] == unknown {
			t.Errorf("session %q: %d to %q, want a new session", unknown, status, loc)
		}
	}
}

func TestLessonHandlersEmbed(t *testing.T) {
	c := newLessonClient(t, 10)
	status, loc, _ := c.get("/embed/handlers-one?api.allowOrigin=echo")
	m := lessonSessionPath.FindStringSubmatch(loc)
	if status != http.StatusSeeOther || m == nil || m[1] != "embed" || m[2] != "handlers-one" || m[4] != "?api.allowOrigin=echo" {
		t.Fatalf("GET /embed/handlers-one: %d to %q", status, loc)
	}
	if sess := c.srv.sessions.Get(m[3]); sess == nil || sess.Lesson != "handlers-one" {
		t.Fatalf("the embed's session is not the lesson's")
	}
	if status, _, body := c.get(loc); status != http.StatusOK || !strings.Contains(body, "Handlers one") {
		t.Errorf("the embed page: %d", status)
	}
	// An embed's unknown session becomes a new one, still embedded.
	status, loc, _ = c.get("/embed/handlers-one/" + strings.Repeat("a", 26))
	if m := lessonSessionPath.FindStringSubmatch(loc); status != http.StatusSeeOther || m == nil || m[1] != "embed" {
		t.Errorf("an unknown embedded session: %d to %q", status, loc)
	}
}

func TestLessonHandlersGoals(t *testing.T) {
	c := newLessonClient(t, 10)
	id, _ := c.newLessonSession("handlers-one", "?api.allowOrigin=echo&api.allowMethods=PUT&api.allowHeaders=user-id")
	goals := func() []lesson.Status {
		t.Helper()
		var st []lesson.Status
		c.json(http.MethodGet, "/api/sessions/"+id+"/goals", "", http.StatusOK, &st)
		return st
	}

	var raw []map[string]any
	c.json(http.MethodGet, "/api/sessions/"+id+"/goals", "", http.StatusOK, &raw)
	wantRaw := []map[string]any{
		{"id": "preflight-seen", "met": false}, {"id": "put-works", "met": false}, {"id": "then-fails", "met": false},
	}
	if !reflect.DeepEqual(raw, wantRaw) {
		t.Errorf("a fresh session's goals: %v", raw)
	}

	// A preflight reaches the api: the first goal is met by that exchange.
	api := "127.0.0.1:" + strconv.Itoa(c.srv.Port(API))
	rawRequest(t, api, "OPTIONS /"+id+"/users HTTP/1.1\r\nHost: "+api+"\r\nOrigin: "+c.origin(App)+"\r\nAccess-Control-Request-Method: PUT\r\nAccess-Control-Request-Headers: user-id\r\nConnection: close\r\n\r\n")
	st := goals()
	if !st[0].Met || st[0].Seq != 1 || st[0].At.IsZero() || st[1].Met || st[2].Met {
		t.Errorf("after a preflight: %+v", st)
	}

	// The PUT and a run that claims both exchanges: the second goal.
	body := `{"username": "grace", "name": "Grace Hopper"}`
	rawRequest(t, api, "PUT /"+id+"/users HTTP/1.1\r\nHost: "+api+"\r\nOrigin: "+c.origin(App)+"\r\nUser-Id: 11\r\nContent-Type: application/json\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\nConnection: close\r\n\r\n"+body)
	run := func(ok bool, since int) {
		t.Helper()
		req := `{"from":"app","target":"api","method":"PUT","path":"/users","headers":{"User-Id":"11"},"body":"","credentials":"same-origin","mode":"cors","redirect":"follow"}`
		browser := `{"ok": true, "status": 200, "headers": [["content-type", "application/json"]]}`
		if !ok {
			browser = `{"ok": false, "error": "TypeError: Failed to fetch"}`
		}
		c.json(http.MethodPost, "/api/sessions/"+id+"/runs", `{"request": `+req+`, "url": "x", "since": `+strconv.Itoa(since)+`, "browser": `+browser+`}`, http.StatusCreated, nil)
	}
	run(true, 0)
	st = goals()
	if !st[1].Met || st[1].Run != 1 || st[1].Seq != 2 || st[2].Met {
		t.Errorf("after a PUT that worked: %+v", st)
	}

	// A failed PUT after it: the third.
	time.Sleep(2 * time.Millisecond) // a later run has a later time, even on a coarse clock
	run(false, 2)
	st = goals()
	if !st[2].Met || st[2].Run != 2 || !st[2].At.After(st[1].At) {
		t.Errorf("after a PUT that failed: %+v", st)
	}
	if !st[0].Met || st[0].Seq != 1 {
		t.Errorf("a met goal stays met: %+v", st[0])
	}
}

func TestLessonHandlersGoalsOfOtherSessions(t *testing.T) {
	c := newLessonClient(t, 10)
	var lab sessionJSON
	c.json(http.MethodPost, "/api/sessions", "", http.StatusCreated, &lab)
	var e struct{ Error string }
	c.json(http.MethodGet, "/api/sessions/"+lab.ID+"/goals", "", http.StatusNotFound, &e)
	if e.Error == "" {
		t.Error("a lab session's goals: no error message")
	}
	e.Error = ""
	c.json(http.MethodGet, "/api/sessions/"+strings.Repeat("a", 26)+"/goals", "", http.StatusNotFound, &e)
	if e.Error == "" {
		t.Error("an unknown session's goals: no error message")
	}
}

// At --max-sessions a lesson link gets the "too many sessions" page, and
// the sessions that exist keep working.
func TestLessonHandlersTooManySessions(t *testing.T) {
	c := newLessonClient(t, 1)
	id, loc := c.newLessonSession("handlers-one", "")
	useSession(t, c.srv, id) // a session in use never gives way
	for _, path := range []string{"/lessons/handlers-one", "/lessons/handlers-two?api.allowOrigin=echo", "/embed/handlers-one", "/lessons/handlers-two/" + strings.Repeat("a", 26)} {
		status, _, body := c.get(path)
		if status != http.StatusServiceUnavailable || !strings.Contains(body, "Too many sessions") {
			t.Errorf("%s over the cap: %d, want 503 and a page", path, status)
		}
	}
	if status, _, _ := c.get(loc); status != http.StatusOK {
		t.Errorf("the existing lesson session: %d", status)
	}
}

// Lessons are numbered once, across tracks, in the index's order: the
// index's cards, a lesson page's title and its links to the others.
func TestLessonHandlersNumbers(t *testing.T) {
	c := newLessonClient(t, 10)
	_, _, index := c.get("/lessons")
	var got []string
	for _, m := range regexp.MustCompile(`<span class="lesson-number" aria-hidden="true">(\d+)</span>`).FindAllStringSubmatch(index, -1) {
		got = append(got, m[1])
	}
	if !slices.Equal(got, []string{"1", "2"}) {
		t.Errorf("the index numbers the lessons %q, want 1, 2 across the tracks", got)
	}
	id, _ := c.newLessonSession("handlers-two", "")
	_, _, page := c.get("/lessons/handlers-two/" + id)
	for _, want := range []string{"<title>2. Handlers two · corslab</title>", "<span>Lesson 2</span>", "← Lesson 1"} {
		if !strings.Contains(page, want) {
			t.Errorf("the lesson page lacks %s", want)
		}
	}
}
