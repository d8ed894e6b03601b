package playground

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/corslab/corslab/lessons"
	"github.com/corslab/corslab/playground/class"
	"github.com/corslab/corslab/playground/lesson"
)

// Tests of what the dashboard shows of each learner (issue 14, items 11
// to 13): one row per learner, online while any page of theirs is, and
// which goals each has met.

// learnerRow is the snapshot's row for the learner id, or fails.
func learnerRow(t *testing.T, snap class.Snapshot, id string) class.Learner {
	t.Helper()
	for _, ln := range snap.Learners {
		if ln.ID == id {
			return ln
		}
	}
	t.Fatalf("no row for learner %s in %+v", id, snap.Learners)
	return class.Learner{}
}

func sessionIDs(ss []class.Session) []string {
	var ids []string
	for _, s := range ss {
		ids = append(ids, s.Session)
	}
	return ids
}

// A page tells its session whose it is as it opens, with no name yet:
// the learner's sessions are one row from the start, and keep the name
// once they choose one.
func TestClassGroupsALearnersSessionsInOneRow(t *testing.T) {
	srv := startClassroom(t)
	const ada = "learner-ada-0001"
	a1 := openLesson(t, srv, "origins")
	a2 := openLesson(t, srv, "preflight")
	a3 := openLesson(t, srv, "simple-requests")
	anon := openLesson(t, srv, "origins")
	for _, tc := range []struct{ id, body string }{
		{a1, `{"learner":"` + ada + `","nickname":null}`},
		{a2, `{"learner":"` + ada + `"}`},
		{a3, `{"learner":"` + ada + `","nickname":null}`},
	} {
		resp, body := send(t, srv, "PUT", "/api/sessions/"+tc.id+"/learner", tc.body, "Content-Type", "application/json")
		var got map[string]string
		json.Unmarshal([]byte(body), &got)
		if resp.StatusCode != 200 || got["learner"] != ada || got["nickname"] != "" {
			t.Fatalf("PUT %s: %d %s; want 200, the learner with no name yet", tc.body, resp.StatusCode, body)
		}
	}
	snap := classNow(t, srv)
	if len(snap.Learners) != 2 || snap.Sessions != 4 {
		t.Fatalf("%d rows for %d sessions, want 2 rows (Ada's three sessions, and one no one claimed): %+v", len(snap.Learners), snap.Sessions, snap.Learners)
	}
	row := learnerRow(t, snap, ada)
	if got := sessionIDs(row.Sessions); len(got) != 3 || !slices.Contains(got, a1) || !slices.Contains(got, a2) || !slices.Contains(got, a3) || row.SessionCount != 3 {
		t.Errorf("Ada's row lists %v (%d), want her three sessions", got, row.SessionCount)
	}
	if row.Nickname != "" || len(row.Lessons) != 3 {
		t.Errorf("Ada's row before a name: %q, %d lessons; want no name and three lessons", row.Nickname, len(row.Lessons))
	}
	if other := snap.Learners[0]; other.ID != "" || other.Current.Session != anon || other.SessionCount != 1 {
		t.Errorf("the unclaimed session's row: %+v", other)
	}

	// She names herself on one page; another page that opens then, which
	// has not sent the name yet, does not hide it.
	putLearner(t, srv, a2, ada, "Ada")
	send(t, srv, "PUT", "/api/sessions/"+a3+"/learner", `{"learner":"`+ada+`","nickname":null}`)
	if row := learnerRow(t, classNow(t, srv), ada); row.Nickname != "Ada" || row.SessionCount != 3 {
		t.Errorf("after naming herself: %q with %d sessions, want Ada with 3", row.Nickname, row.SessionCount)
	}

	// A blank name is still refused when it is given.
	if resp, body := send(t, srv, "PUT", "/api/sessions/"+a1+"/learner", `{"learner":"`+ada+`","nickname":"  "}`); resp.StatusCode != 400 || !strings.Contains(body, "nickname") {
		t.Errorf("a blank name: %d %s, want 400 naming the nickname", resp.StatusCode, body)
	}

	// However many sessions she opens, her row lists the newest few.
	for range class.MaxListed + 2 {
		send(t, srv, "PUT", "/api/sessions/"+openLesson(t, srv, "origins")+"/learner", `{"learner":"`+ada+`"}`)
	}
	row = learnerRow(t, classNow(t, srv), ada)
	if len(row.Sessions) != class.MaxListed || row.SessionCount != 3+class.MaxListed+2 {
		t.Errorf("Ada's row lists %d of %d sessions, want %d of %d", len(row.Sessions), row.SessionCount, class.MaxListed, 3+class.MaxListed+2)
	}
	if row.Current != row.Sessions[0] {
		t.Errorf("current %s is not the first listed, %s", row.Current.Session, row.Sessions[0].Session)
	}
}

// A learner with two tabs is online while either is open: closing the
// one they used last leaves them online, and the instructor's own
// read-only view is not one of their pages.
func TestClassLearnerOnlineWhileAnyPageIs(t *testing.T) {
	srv := startClassroom(t)
	const ada = "learner-ada-0002"
	older, newer := openLesson(t, srv, "origins"), openLesson(t, srv, "preflight")
	putLearner(t, srv, older, ada, "Ada")
	putLearner(t, srv, newer, ada, "Ada")
	tab1 := dialWS(t, srv, older, "")
	tab2 := dialWS(t, srv, newer, "")
	dialWS(t, srv, older, "watch=1") // the instructor, watching
	// The newer session is the one she used last.
	time.Sleep(10 * time.Millisecond)
	send(t, srv, "PUT", "/api/sessions/"+newer+"/scenario", `{"api":{"allowOrigin":"*"}}`)

	wait := func(what string, ok func(class.Snapshot, class.Learner) bool) class.Learner {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			snap := classNow(t, srv)
			row := learnerRow(t, snap, ada)
			if ok(snap, row) {
				return row
			}
			if time.Now().After(deadline) {
				t.Fatalf("waiting for %s: %d online; Ada %+v", what, snap.Online, row)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	wait("both tabs", func(snap class.Snapshot, row class.Learner) bool {
		return row.Online && row.Pages == 2 && snap.Online == 1
	})
	tab2.Close()
	row := wait("one tab left", func(_ class.Snapshot, row class.Learner) bool { return row.Pages == 1 })
	if !row.Online || classNow(t, srv).Online != 1 {
		t.Errorf("with one tab of two closed, Ada shows offline: %+v", row)
	}
	if row.Current.Session != newer || row.Current.Online {
		t.Errorf("her current session: %+v, want %s, closed", row.Current, newer)
	}
	if s := row.Sessions[1]; s.Session != older || !s.Online || s.Pages != 1 {
		t.Errorf("her other session: %+v, want %s with its page open", s, older)
	}
	tab1.Close()
	wait("every tab closed", func(snap class.Snapshot, row class.Learner) bool {
		return !row.Online && row.Pages == 0 && snap.Online == 0
	})
}

// Each goal keeps its place: a learner who met goals 1, 2 and 4 of a
// lesson, over two sessions, has the third one open, not the fourth.
func TestClassGoalPositions(t *testing.T) {
	srv := startClassroom(t)
	var l *lesson.Lesson
	for _, c := range srv.cfg.Lessons {
		if len(c.Goals) >= 4 {
			l = c
			break
		}
	}
	if l == nil {
		t.Fatal("no built-in lesson has four goals")
	}
	const ada = "learner-ada-0003"
	s1, s2 := openLesson(t, srv, l.Slug), openLesson(t, srv, l.Slug)
	putLearner(t, srv, s1, ada, "Ada")
	putLearner(t, srv, s2, ada, "Ada")
	srv.teach.mu.Lock()
	srv.teach.progressOf(s1).met[l.Goals[0].ID] = true
	srv.teach.progressOf(s1).met[l.Goals[3].ID] = true
	srv.teach.progressOf(s2).met[l.Goals[1].ID] = true
	srv.teach.mu.Unlock()

	p := learnerRow(t, classNow(t, srv), ada).Lessons[l.Slug]
	want := make([]bool, len(l.Goals))
	want[0], want[1], want[3] = true, true, true
	if !slices.Equal(p.Goals, want) || p.Total != len(l.Goals) {
		t.Errorf("%s: goals %v of %d, want %v", l.Slug, p.Goals, p.Total, want)
	}
	if wantMet := []string{l.Goals[0].ID, l.Goals[1].ID, l.Goals[3].ID}; !slices.Equal(p.Met, wantMet) {
		t.Errorf("met %v, want %v (in the lesson's order)", p.Met, wantMet)
	}
}

// The dashboard numbers lessons through the whole curriculum, across
// tracks, as the lesson index does: the built-in ones are 1 to 18.
func TestClassNumbersLessonsAcrossTracks(t *testing.T) {
	srv := startClassroom(t)
	snap := classNow(t, srv)
	if len(snap.Lessons) != 18 {
		t.Errorf("%d built-in lessons, want 18", len(snap.Lessons))
	}
	var tracks []string
	for i, l := range snap.Lessons {
		if l.Number != i+1 || l.Slug != srv.cfg.Lessons[i].Slug {
			t.Errorf("lesson %d: number %d, %s; want %d, %s", i, l.Number, l.Slug, i+1, srv.cfg.Lessons[i].Slug)
		}
		if len(tracks) == 0 || tracks[len(tracks)-1] != l.Track {
			tracks = append(tracks, l.Track)
		}
	}
	var order []string
	for _, tr := range lesson.Tracks() {
		order = append(order, tr.ID)
	}
	if !slices.Equal(tracks, order) {
		t.Errorf("tracks in the order %v, want %v: each track's lessons together, numbered on from the last", tracks, order)
	}
	// The "Ask everyone to open" list says the same numbers.
	_, page := send(t, srv, "GET", "/teach", "", bearer...)
	options := regexp.MustCompile(`<option value="([^"]+)">([^<]*)</option>`).FindAllStringSubmatch(page, -1)
	if len(options) != len(snap.Lessons) {
		t.Fatalf("%d lessons to ask for, want %d", len(options), len(snap.Lessons))
	}
	for i, o := range options {
		if want := fmt.Sprintf("%d. %s", i+1, snap.Lessons[i].Title); o[1] != snap.Lessons[i].Slug || html.UnescapeString(o[2]) != want {
			t.Errorf("option %d: %s %q, want %s %q", i, o[1], o[2], snap.Lessons[i].Slug, want)
		}
	}
}

// Learner pages ask for a name whenever an instructor could be looking:
// whenever the dashboard is on, with or without --public-host.
func TestLearnerPagesAskForANameWhenTheDashboardIsOn(t *testing.T) {
	curriculum, err := lesson.Load(lessons.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		desc     string
		workshop bool
		token    string
		asks     bool
	}{
		{"workshop mode (--public-host or --listen beyond loopback), which makes a token", true, testToken, true},
		{"--teach-token on a laptop", false, testToken, true},
		{"no dashboard", false, "", false},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			srv := startServerWith(t, Config{
				Listen: "127.0.0.1", MaxSessions: 5, SessionIdle: time.Hour,
				Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
				Lessons: curriculum, Workshop: tc.workshop, TeachToken: tc.token,
			})
			id := openLesson(t, srv, "origins")
			_, page := send(t, srv, "GET", "/lessons/origins/"+id, "")
			m := regexp.MustCompile(`(?s)<script id="lab-data" type="application/json">(.*?)</script>`).FindStringSubmatch(page)
			if m == nil {
				t.Fatal("no lab-data on the lesson page")
			}
			var d struct{ Workshop bool }
			if err := json.Unmarshal([]byte(m[1]), &d); err != nil {
				t.Fatal(err)
			}
			if d.Workshop != tc.asks {
				t.Errorf("lab-data's workshop is %v, want %v", d.Workshop, tc.asks)
			}
		})
	}
}
