package playground

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/corslab/corslab/playground/lesson"
	"github.com/corslab/corslab/playground/origins"
	"github.com/corslab/corslab/playground/scenario"
	"github.com/corslab/corslab/playground/session"
)

// Three small lessons of the tests' own; the second needs the host
// corslab.localhost, as lesson 11 does. The first goal of each is met by
// any run, the second by a later run in the same session.
var hopLessons = []string{`---
title: "Before the hop"
slug: hop-before
track: basics
order: 1
summary: A lesson on the learner's own host.
goals:
  - {id: ran, text: Press Run., run: {}}
solution:
  - set: {}
---
Press Run.
`, `---
title: "On a host of its own"
slug: hop-host
track: basics
order: 2
summary: A lesson that needs corslab.localhost.
host: corslab.localhost
goals:
  - {id: ran, text: Press Run., run: {}}
  - {id: again, text: Press Run again., run: {}, after: ran}
solution:
  - set: {}
  - set: {}
---
Press Run, twice.
`, `---
title: "After the hop"
slug: hop-after
track: basics
order: 3
summary: Back on the learner's own host.
goals:
  - {id: ran, text: Press Run., run: {}}
solution:
  - set: {}
---
Press Run.
`}

func hopCurriculum(t *testing.T) []*lesson.Lesson {
	t.Helper()
	var list []*lesson.Lesson
	for i, text := range hopLessons {
		l, err := lesson.Parse("hop-"+strconv.Itoa(i)+".md", []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		list = append(list, l)
	}
	return list
}

// Links to a lesson that needs a host name it, from any loopback host,
// so that the browser goes there at once and the page's script carries
// the learner's progress along; every other link is a path. A typed
// address on the learner's host is moved there, naming that host as home.
// On a workshop's LAN host nothing moves.
func TestLessonHostLinks(t *testing.T) {
	srv := startLessonServer(t, hopCurriculum(t))
	port := strconv.Itoa(srv.Port(UI))
	lessonURL := func(host, slug string) string {
		r := httptest.NewRequest(http.MethodGet, "/lessons", nil)
		r.Host = host
		return srv.lessonURL(r, srv.lesson(slug))
	}
	for _, tc := range []struct {
		desc, host, slug, want string
	}{
		{"from 127.0.0.1, the lesson on its host", "127.0.0.1:" + port, "hop-host", "http://corslab.localhost:" + port + "/lessons/hop-host"},
		{"from localhost, the lesson on its host", "localhost:" + port, "hop-host", "http://corslab.localhost:" + port + "/lessons/hop-host"},
		{"from its own host, still named", "corslab.localhost:" + port, "hop-host", "http://corslab.localhost:" + port + "/lessons/hop-host"},
		{"from 127.0.0.1, a lesson without a host", "127.0.0.1:" + port, "hop-after", "/lessons/hop-after"},
		{"from corslab.localhost, a lesson without a host: a path, which means home", "corslab.localhost:" + port, "hop-after", "/lessons/hop-after"},
		{"on a workshop's LAN host nothing moves", "192.168.1.20:" + port, "hop-host", "/lessons/hop-host"},
	} {
		if got := lessonURL(tc.host, tc.slug); got != tc.want {
			t.Errorf("%s: %s", tc.desc, got)
		}
	}

	c := lessonClient{t: t, srv: srv, host: "127.0.0.1:" + port}
	_, _, index := c.get("/lessons")
	for _, want := range []string{`href="http://corslab.localhost:` + port + `/lessons/hop-host"`, `href="/lessons/hop-before"`, `href="/lessons/hop-after"`} {
		if !strings.Contains(index, want) {
			t.Errorf("the index on 127.0.0.1 lacks %s", want)
		}
	}
	status, loc, _ := c.get("/lessons/hop-host?run=1")
	if want := "http://corslab.localhost:" + port + "/lessons/hop-host?run=1#home=http://127.0.0.1:" + port; status != http.StatusFound || loc != want {
		t.Errorf("a typed address on 127.0.0.1: %d to %q, want 302 to %q", status, loc, want)
	}
	c.host = "corslab.localhost:" + port
	id, _ := c.newLessonSession("hop-host", "")
	_, _, page := c.get("/lessons/hop-host/" + id)
	for _, want := range []string{`"url":"/lessons/hop-before"`, `"url":"/lessons/hop-after"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the lesson page on corslab.localhost lacks %s (a path to the lesson around it)", want)
		}
	}
}

// What the api's login cookie did in the learner's browser, from the
// session's runs and the exchanges they caused: the embed view's note
// (static/embed-cookies.js) rests on Withheld.
func TestEmbedCookieReport(t *testing.T) {
	srv := startServerWith(t, Config{
		Listen: "127.0.0.1", MaxSessions: 20, SessionIdle: time.Hour,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	app := srv.testURL(App)
	type step struct {
		method, path      string
		from, credentials string
		cookie            bool // send the cookie the last login set
		preflight         bool
	}
	login := step{method: "POST", path: "/login", from: "app", credentials: "include"}
	me := step{method: "GET", path: "/me", from: "app", credentials: "include"}
	meWithCookie := me
	meWithCookie.cookie = true
	for _, tc := range []struct {
		desc  string
		steps []step
		want  loginCookieReport
	}{
		{"nothing yet", nil, loginCookieReport{}},
		{"a login sets it", []step{login}, loginCookieReport{LoggedIn: true}},
		{"after a login, /me from the app with credentials but without the cookie: withheld", []step{login, me}, loginCookieReport{LoggedIn: true, Withheld: true}},
		{"after a login, /me with the cookie", []step{login, meWithCookie}, loginCookieReport{LoggedIn: true}},
		{"without a login, /me without the cookie is just not logged in", []step{me}, loginCookieReport{}},
		{"credentials omit send no cookie, as asked", []step{login, {method: "GET", path: "/me", from: "app", credentials: "omit"}}, loginCookieReport{LoggedIn: true}},
		{"a look-alike on another site gets no cookie, as it should", []step{login, {method: "GET", path: "/me", from: "lookalike", credentials: "include"}}, loginCookieReport{LoggedIn: true}},
		{"a preflight never carries cookies", []step{login, {method: "OPTIONS", path: "/me", from: "app", credentials: "include", preflight: true}}, loginCookieReport{LoggedIn: true}},
		{"after a logout, no cookie is expected", []step{login, {method: "POST", path: "/logout", from: "app", credentials: "include", cookie: true}, me}, loginCookieReport{}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			id := createSession(t, srv, `{}`).ID
			sess := srv.findSession(id)
			var cookie string
			for _, st := range tc.steps {
				since := sess.LastSeq()
				req, _ := http.NewRequest(st.method, srv.testURL(API)+"/"+id+st.path, nil)
				req.Header.Set("Origin", app)
				if st.preflight {
					req.Header.Set("Access-Control-Request-Method", "GET")
				}
				if st.cookie && cookie != "" {
					req.Header.Set("Cookie", origins.LoginCookie+"="+cookie)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				for _, c := range resp.Cookies() {
					if c.Name == origins.LoginCookie {
						cookie = c.Value
					}
				}
				waitFor(t, "the exchange", func() bool { return sess.LastSeq() > since })
				sess.AddRun(session.Run{Request: scenario.Request{From: st.from, Credentials: st.credentials, Method: st.method, Path: st.path, Target: "api"}}, since, nil)
			}
			var got loginCookieReport
			getJSON(t, srv.testURL(UI)+"/api/sessions/"+id+"/cookies", &got)
			if got != tc.want {
				b, _ := json.Marshal(got)
				t.Errorf("got %s, want %+v", b, tc.want)
			}
		})
	}
}
