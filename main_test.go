package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	jub0bs "github.com/jub0bs/cors"
	rs "github.com/rs/cors"
)

func TestRunFlags(t *testing.T) {
	tests := []struct {
		desc    string
		args    []string
		wantErr string
	}{
		{"help", []string{"--help"}, "flag: help requested"},
		{"stray argument", []string{"serve"}, `unexpected argument "serve"`},
		{"port out of range", []string{"--port", "65534"}, "--port: must be from 1 to 65530"},
		{"listen not an address", []string{"--listen", "my laptop"}, "--listen: must be an IP address"},
		{"no sessions", []string{"--max-sessions", "0"}, "--max-sessions: must be at least 1"},
		{"idle too short", []string{"--session-idle", "1s"}, "--session-idle: must be from 10s to 168h"},
		{"budget without a size", []string{"--memory-budget", "lots"}, `invalid value "lots" for flag -memory-budget: must be a size such as 512MiB or 2GiB`},
		{"budget too small", []string{"--memory-budget", "1MiB"}, "--memory-budget: must be at least 32MiB, got 1MiB"},
		{"negative budget", []string{"--memory-budget", "-1GiB"}, "must be a size such as 512MiB"},
		{"negative session creation", []string{"--ip-sessions", "-1"}, "--ip-sessions: must be 0 (no limit) or more"},
		{"negative rate", []string{"--ip-rate", "-1"}, "--session-rate, --ip-rate: must be 0"},
		{"public host with a scheme", []string{"--listen", "0.0.0.0", "--public-host", "http://10.0.0.5"}, "--public-host: must be a bare host name"},
		{"public host with a port", []string{"--listen", "0.0.0.0", "--public-host", "corslab.lan:8080"}, "--public-host: must be a bare host name"},
		{"public host not a name", []string{"--listen", "0.0.0.0", "--public-host", "my_laptop"}, "--public-host: \"my_laptop\" is not a valid host name"},
		{"public host on loopback", []string{"--public-host", "192.168.1.20"}, "--public-host: learners cannot reach 192.168.1.20 while corslab listens on 127.0.0.1 only; add --listen 0.0.0.0"},
		{"replica out of range", []string{"--replica", "32"}, "--replica: must be from 0 to 31, got 32"},
		{"short token", []string{"--teach-token", "secret"}, "--teach-token: must be 16 to 128 characters"},
		{"token with a space", []string{"--teach-token", "a token with spaces"}, "--teach-token: may hold only"},
		{"allow-targets with a URL", []string{"--allow-targets", "https://api.example.com"}, `--allow-targets: "https://api.example.com" is not`},
		{"allow-targets with a bad network", []string{"--allow-targets", "api.example.com,10.0.0.0/40"}, `--allow-targets: "10.0.0.0/40" is not a network`},
		{"allow-targets empty", []string{"--allow-targets", ","}, "--allow-targets: names no host or network"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), tt.args, func(string) string { return "" }, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: got %v, want an error containing %q", tt.desc, err, tt.wantErr)
		}
	}
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"-h"}, nil, &bytes.Buffer{}, &stderr)
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(stderr.String(), "--port") && !strings.Contains(stderr.String(), "-port") {
		t.Errorf("--help printed %q", stderr.String())
	}
}

// freeBase finds six consecutive free loopback ports.
func freeBase(t *testing.T) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		base := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if base > 65530 {
			continue
		}
		ok := true
		for i := range 6 {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(base+i))
			if err != nil {
				ok = false
				break
			}
			l.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no six consecutive free ports")
	return 0
}

func TestPortTaken(t *testing.T) {
	base := freeBase(t)
	taken, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(base+2))
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	err = run(context.Background(), []string{"--port", strconv.Itoa(base)}, nil, &bytes.Buffer{}, &bytes.Buffer{})
	want := "port " + strconv.Itoa(base+2) + " (api) is already in use; move corslab with --port N"
	if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("got %v, want one line containing %q", err, want)
	}
}

// syncBuffer is a bytes.Buffer safe to read while run writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestRunServesAndStops(t *testing.T) {
	base := freeBase(t)
	ctx, cancel := context.WithCancel(context.Background())
	var stdout syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"--port", strconv.Itoa(base)}, nil, &stdout, &bytes.Buffer{}) }()

	ui := "http://127.0.0.1:" + strconv.Itoa(base)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stdout.String(), "Ctrl-C") {
		if time.Now().After(deadline) {
			t.Fatalf("no start-up banner: %q", stdout.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	out := stdout.String()
	for i, role := range []string{"ui", "app", "api", "s3", "evil", "yours"} {
		line := regexp.MustCompile(`(?m)^  ` + role + ` +http://127\.0\.0\.1:` + strconv.Itoa(base+i) + ` `)
		if !line.MatchString(out) {
			t.Errorf("banner lacks the %s origin on port %d:\n%s", role, base+i, out)
		}
	}
	if !strings.Contains(out, "Open "+ui+"/lab") {
		t.Errorf("banner does not say what to open:\n%s", out)
	}
	resp, err := http.Get(ui + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run after Ctrl-C: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop")
	}
}

func TestRunWorkshopBanner(t *testing.T) {
	base := freeBase(t)
	ctx, cancel := context.WithCancel(context.Background())
	var stdout syncBuffer
	done := make(chan error, 1)
	args := []string{"--port", strconv.Itoa(base), "--listen", "127.0.0.1", "--public-host", "localhost", "--teach-token", "workshop-token-123456"}
	go func() { done <- run(ctx, args, nil, &stdout, &bytes.Buffer{}) }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stdout.String(), "Ctrl-C") {
		if time.Now().After(deadline) {
			t.Fatalf("no start-up banner: %q", stdout.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	out := stdout.String()
	ui := "http://localhost:" + strconv.Itoa(base)
	for _, want := range []string{
		"Learners open " + ui + "/lessons",
		"▀", // the QR code's half blocks
		ui + "/teach?token=workshop-token-123456",
		"--public-host <the address learners use>", // localhost reaches no one else
		"off in a workshop: --allow-targets",       // the yours origin
	} {
		if !strings.Contains(out, want) {
			t.Errorf("banner lacks %q:\n%s", want, out)
		}
	}
	// The printed dashboard link signs the instructor in.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get("http://127.0.0.1:" + strconv.Itoa(base) + "/teach?token=workshop-token-123456")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 {
		t.Errorf("the printed link: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
}

func TestWorkshopModeMakesAToken(t *testing.T) {
	base := freeBase(t)
	ctx, cancel := context.WithCancel(context.Background())
	var stdout syncBuffer
	done := make(chan error, 1)
	go func() {
		// --public-host makes a workshop; tests listen on loopback only.
		done <- run(ctx, []string{"--port", strconv.Itoa(base), "--public-host", "127.0.0.1"}, nil, &stdout, &bytes.Buffer{})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stdout.String(), "Ctrl-C") {
		if time.Now().After(deadline) {
			t.Fatalf("no start-up banner: %q", stdout.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	m := regexp.MustCompile(`/teach\?token=([A-Za-z0-9_-]{22})\n`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("workshop mode printed no dashboard token:\n%s", stdout.String())
	}
}

// instructorLesson is a valid lesson file with its own slug and title.
func instructorLesson(slug, title string) string {
	return `---
slug: ` + slug + `
title: "` + title + `"
track: basics
order: 1
summary: An instructor's lesson.
goals:
  - id: sent
    text: Send a request to the api.
    exchange: {origin: api}
hints: [Press Run.]
links:
  - {title: MDN, url: "https://developer.mozilla.org/"}
solution:
  - set: {}
---
Text.
`
}

func writeLessonFile(t *testing.T, dir, name, data string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRunLessonsFlags(t *testing.T) {
	malformed := t.TempDir()
	writeLessonFile(t, malformed, "01-ok.md", instructorLesson("ok", "OK"))
	writeLessonFile(t, malformed, "02-bad.md", strings.Replace(instructorLesson("bad", "Bad"), "order: 1", "order: 0", 1))
	twice := t.TempDir()
	writeLessonFile(t, twice, "01-a.md", instructorLesson("same", "A"))
	writeLessonFile(t, twice, "02-b.md", instructorLesson("same", "B"))
	empty := t.TempDir()
	writeLessonFile(t, empty, "README.md", "# My lessons\n")
	file := filepath.Join(empty, "README.md")
	missing := filepath.Join(empty, "nope")

	tests := []struct {
		desc    string
		args    []string
		wantErr string
	}{
		{"a malformed lesson", []string{"--lessons", malformed}, "--lessons: " + filepath.Join(malformed, "02-bad.md") + ":5: order: a whole number from 1"},
		{"a malformed lesson, without the built-in ones", []string{"--no-builtin-lessons", "--lessons", malformed}, filepath.Join(malformed, "02-bad.md") + ":5: order: "},
		{"one slug twice", []string{"--lessons", twice}, filepath.Join(twice, "02-b.md") + `: slug "same" is also ` + filepath.Join(twice, "01-a.md") + "'s"},
		{"no such directory", []string{"--lessons", missing}, `--lessons: "` + missing + `" is not a directory`},
		{"a file", []string{"--lessons", file}, `--lessons: "` + file + `" is not a directory`},
		{"no lessons in it", []string{"--lessons", empty}, "--lessons: no lesson files (*.md) in " + empty},
		{"no lessons at all", []string{"--no-builtin-lessons"}, "--no-builtin-lessons: needs --lessons DIR"},
	}
	for _, tt := range tests {
		// Port 0 and a finished context: should a case start the server
		// after all, it takes no fixed port and stops at once.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var stdout, stderr bytes.Buffer
		err := run(ctx, append([]string{"--port", "0"}, tt.args...), func(string) string { return "" }, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: got %v, want an error containing %q", tt.desc, err, tt.wantErr)
		}
		if stdout.Len() > 0 {
			t.Errorf("%s: printed %q before failing", tt.desc, stdout.String())
		}
	}
}

// An instructor's lesson with a built-in lesson's slug replaces it; one
// with a new slug joins the built-in ones.
func TestLoadLessonsReplacesBuiltin(t *testing.T) {
	builtin, err := loadLessons("", true)
	if err != nil {
		t.Fatal(err)
	}
	if len(builtin) == 0 {
		t.Fatal("no built-in lessons")
	}
	replaced := builtin[len(builtin)-1].Slug
	dir := t.TempDir()
	writeLessonFile(t, dir, "01-mine.md", instructorLesson(replaced, "The instructor's version"))
	writeLessonFile(t, dir, "02-extra.md", instructorLesson("instructors-extra", "An extra lesson"))

	got, err := loadLessons(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(builtin)+1 {
		t.Errorf("%d lessons, want the %d built-in ones and one more", len(got), len(builtin))
	}
	bySlug := map[string]int{}
	for _, l := range got {
		bySlug[l.Slug]++
		if l.Slug == replaced && (l.Title != "The instructor's version" || l.File != filepath.Join(dir, "01-mine.md")) {
			t.Errorf("%s is still the built-in lesson: %q from %s", replaced, l.Title, l.File)
		}
	}
	for slug, n := range bySlug {
		if n != 1 {
			t.Errorf("slug %s %d times", slug, n)
		}
	}
	if bySlug["instructors-extra"] != 1 {
		t.Error("the extra lesson is missing")
	}

	only, err := loadLessons(dir, false)
	if err != nil || len(only) != 2 || only[0].Slug != replaced && only[1].Slug != replaced {
		t.Errorf("without the built-in lessons: %v, %v", only, err)
	}
}

// With --no-builtin-lessons the server lists the instructor's lessons only.
func TestRunServesOnlyInstructorLessons(t *testing.T) {
	dir := t.TempDir()
	writeLessonFile(t, dir, "01-mine.md", instructorLesson("mine", "Mine"))
	ctx, cancel := context.WithCancel(context.Background())
	var stdout syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--port", "0", "--no-builtin-lessons", "--lessons", dir}, nil, &stdout, &bytes.Buffer{})
	}()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("run did not stop")
		}
	}()

	open := regexp.MustCompile(`Open (http://127\.0\.0\.1:\d+)/lab`)
	deadline := time.Now().Add(10 * time.Second)
	for open.FindStringSubmatch(stdout.String()) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("no start-up banner: %q", stdout.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	ui := open.FindStringSubmatch(stdout.String())[1]
	resp, err := http.Get(ui + "/api/lessons")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list []struct{ Slug string }
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Slug != "mine" {
		t.Errorf("lessons served: %+v", list)
	}
}

func TestDefaultMemoryBudget(t *testing.T) {
	if b := defaultMemoryBudget(); b < minMemoryBudget || b > 1<<30 {
		t.Errorf("default budget %d", b)
	}
}

// checkAPI is an httptest server on 127.0.0.1 behind a CORS middleware
// nobody here wrote. It records the preflight headers each request
// arrived with, as "METHOD ACRM ACRH Origin".
type checkAPI struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string
}

func (a *checkAPI) got() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.seen...)
}

func newCheckAPI(t *testing.T, mw func(http.Handler) http.Handler, h http.HandlerFunc) *checkAPI {
	t.Helper()
	if h == nil {
		h = func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"items":[]}`)
		}
	}
	a := &checkAPI{}
	inner := mw(h)
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.seen = append(a.seen, strings.Join([]string{r.Method, r.Header.Get("Access-Control-Request-Method"), r.Header.Get("Access-Control-Request-Headers"), r.Header.Get("Origin")}, " "))
		a.mu.Unlock()
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(a.Close)
	return a
}

func jub0bsMiddleware(t *testing.T, c jub0bs.Config, debug bool) func(http.Handler) http.Handler {
	t.Helper()
	m, err := jub0bs.NewMiddleware(c)
	if err != nil {
		t.Fatal(err)
	}
	m.SetDebug(debug)
	return m.Wrap
}

// exitCode is the exit status main gives for what run returned.
func exitCode(err error) int {
	var e *exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &e):
		return e.code
	}
	return 1
}

const devOrigin = "http://localhost:5173"

// issueArgs are the issue's own command line, against url.
func issueArgs(url string) []string {
	return []string{"check", url, "--origin", devOrigin, "--method", "PUT", "--header", "Content-Type: application/json", "--credentials", "include"}
}

func TestCheck(t *testing.T) {
	goodRS := rs.New(rs.Options{AllowedOrigins: []string{devOrigin}, AllowCredentials: true, AllowedMethods: []string{"GET", "PUT"}, AllowedHeaders: []string{"Content-Type"}}).Handler
	tests := []struct {
		desc     string
		mw       func(t *testing.T) func(http.Handler) http.Handler
		args     func(url string) []string
		wantCode int
		wantOut  []string // in stdout
		wantSeen []string // what the server got
	}{
		{
			desc: "the issue's command against rs/cors configured well: exit 0",
			mw:   func(*testing.T) func(http.Handler) http.Handler { return goodRS },
			args: issueArgs, wantCode: 0,
			wantOut: []string{
				"OPTIONS /api/items HTTP/1.1\n", "Access-Control-Request-Method: PUT\n", "Access-Control-Request-Headers: content-type\n",
				"PUT /api/items HTTP/1.1\n", "HTTP/1.1 200 OK\n", `{"items":[]}`,
				"Verdict: OK, JS reads the response.", "✓ preflight #1: `Access-Control-Allow-Methods: PUT` allows `PUT`.",
				"https://fetch.spec.whatwg.org/#cors-preflight-fetch", "the probe has none of them", "--cookie 'name=value'",
				"predicted by corslab's model of Chromium; no browser ran this.",
			},
			wantSeen: []string{"OPTIONS PUT content-type " + devOrigin, "PUT   " + devOrigin},
		},
		{
			desc: "the issue's command against jub0bs/cors configured well: exit 0",
			mw: func(t *testing.T) func(http.Handler) http.Handler {
				return jub0bsMiddleware(t, jub0bs.Config{Origins: []string{devOrigin}, Credentialed: true, Methods: []string{"PUT"}, RequestHeaders: []string{"Content-Type"}}, false)
			},
			args: issueArgs, wantCode: 0,
			wantOut:  []string{"Verdict: OK"},
			wantSeen: []string{"OPTIONS PUT content-type " + devOrigin, "PUT   " + devOrigin},
		},
		{
			desc: "an origin rs/cors does not allow: exit 1 at the preflight",
			mw: func(*testing.T) func(http.Handler) http.Handler {
				return rs.New(rs.Options{AllowedOrigins: []string{"https://app.example.com"}, AllowCredentials: true, AllowedMethods: []string{"PUT"}, AllowedHeaders: []string{"Content-Type"}}).Handler
			},
			args: issueArgs, wantCode: 1,
			wantOut:  []string{"Verdict: BLOCKED at the preflight stage, exchange 1", "Reason: Blocked at the preflight: the preflight's answer has no `Access-Control-Allow-Origin`"},
			wantSeen: []string{"OPTIONS PUT content-type " + devOrigin},
		},
		{
			desc: "a simple GET from an origin rs/cors does not allow: exit 1 at the response",
			mw: func(*testing.T) func(http.Handler) http.Handler {
				return rs.New(rs.Options{AllowedOrigins: []string{"https://app.example.com"}}).Handler
			},
			args:     func(u string) []string { return []string{"check", "--origin", devOrigin, u} },
			wantCode: 1,
			wantOut:  []string{"Verdict: BLOCKED at the response stage, exchange 1", "has no `Access-Control-Allow-Origin`"},
			wantSeen: []string{"GET   " + devOrigin},
		},
		{
			desc: "jub0bs/cors (debug) refuses the method: exit 1 at the preflight, and the PUT is never sent",
			mw: func(t *testing.T) func(http.Handler) http.Handler {
				return jub0bsMiddleware(t, jub0bs.Config{Origins: []string{devOrigin}, Credentialed: true, Methods: []string{"POST"}, RequestHeaders: []string{"Content-Type"}}, true)
			},
			args: issueArgs, wantCode: 1,
			wantOut:  []string{"Verdict: BLOCKED at the preflight stage", "the page asked to use `PUT`, but `Access-Control-Allow-Methods` was absent"},
			wantSeen: []string{"OPTIONS PUT content-type " + devOrigin},
		},
		{
			desc: "Firefox's rules, and the label says so",
			mw:   func(*testing.T) func(http.Handler) http.Handler { return goodRS },
			args: func(u string) []string { return append(issueArgs(u), "--browser", "firefox") },
			wantOut: []string{
				"User-Agent: corslab-probe (model of Firefox; no browser)", "predicted by corslab's model of Firefox; no browser ran this.",
			},
			wantSeen: []string{"OPTIONS PUT content-type " + devOrigin, "PUT   " + devOrigin},
		},
		{
			desc: "a cookie goes on the request, not the preflight",
			mw:   func(*testing.T) func(http.Handler) http.Handler { return goodRS },
			args: func(u string) []string {
				return append(issueArgs(u), "--cookie", "session=abc", "--cookie", "theme=dark")
			},
			wantOut: []string{
				"PUT /api/items HTTP/1.1\nHost: ", "\nCookie: session=abc; theme=dark\n",
			},
			wantSeen: []string{"OPTIONS PUT content-type " + devOrigin, "PUT   " + devOrigin},
		},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			api := newCheckAPI(t, tt.mw(t), nil)
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.args(api.URL+"/api/items"), nil, &stdout, &stderr)
			if got := exitCode(err); got != tt.wantCode {
				t.Errorf("exit %d (%v), want %d\n%s", got, err, tt.wantCode, stdout.String())
			}
			for _, want := range tt.wantOut {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
				}
			}
			if got := api.got(); strings.Join(got, "|") != strings.Join(tt.wantSeen, "|") {
				t.Errorf("the server got %q, want %q", got, tt.wantSeen)
			}
			if strings.Contains(stdout.String(), "\nCookie:") != slices.Contains(tt.args(""), "--cookie") {
				t.Errorf("a Cookie header went out unasked, or not when asked")
			}
		})
	}
}

func TestCheckJSON(t *testing.T) {
	api := newCheckAPI(t, rs.New(rs.Options{AllowedOrigins: []string{devOrigin}, AllowCredentials: true, AllowedMethods: []string{"PUT"}, AllowedHeaders: []string{"Content-Type"}}).Handler, nil)
	var stdout bytes.Buffer
	err := run(context.Background(), append(issueArgs(api.URL+"/api/items"), "--json"), nil, &stdout, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Label     string
		Browser   string
		Exchanges []struct {
			Seq         uint64
			Preflight   bool
			Status      int
			RawRequest  string
			RawResponse string
		}
		Verdict *struct {
			OK     bool
			Stage  string
			Reason string
		}
		Steps []struct{ Text, Spec string }
		Notes []string
	}
	dec := json.NewDecoder(&stdout)
	if err := dec.Decode(&out); err != nil || dec.More() {
		t.Fatalf("not one JSON object: %v", err)
	}
	if out.Label != "predicted by corslab's model of Chromium; no browser ran this" || out.Browser != "chromium" {
		t.Errorf("label %q, browser %q", out.Label, out.Browser)
	}
	if len(out.Exchanges) != 2 || !out.Exchanges[0].Preflight || out.Exchanges[1].Status != 200 ||
		!strings.Contains(out.Exchanges[0].RawRequest, "\r\nAccess-Control-Request-Headers: content-type\r\n") ||
		!strings.HasPrefix(out.Exchanges[1].RawResponse, "HTTP/1.1 200 OK\r\n") {
		t.Errorf("exchanges: %+v", out.Exchanges)
	}
	if out.Verdict == nil || !out.Verdict.OK || !strings.Contains(out.Verdict.Reason, "JS reads the `200` response") {
		t.Errorf("verdict: %+v", out.Verdict)
	}
	if len(out.Steps) == 0 || !strings.HasPrefix(out.Steps[0].Spec, "https://fetch.spec.whatwg.org/#") || len(out.Notes) != 2 {
		t.Errorf("steps %d, notes %q", len(out.Steps), out.Notes)
	}
}

func TestCheckRedirect(t *testing.T) {
	// The other API is on localhost, the first on 127.0.0.1: another host.
	other := newCheckAPI(t, rs.New(rs.Options{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"PUT"}, AllowedHeaders: []string{"*"}}).Handler, nil)
	otherURL := strings.Replace(other.URL, "127.0.0.1", "localhost", 1) + "/v2/items"
	api := newCheckAPI(t, rs.New(rs.Options{AllowedOrigins: []string{devOrigin}, AllowedMethods: []string{"PUT"}, AllowedHeaders: []string{"Content-Type"}}).Handler,
		func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, otherURL, http.StatusPermanentRedirect)
		})
	args := []string{"check", api.URL + "/api/items", "--origin", devOrigin, "--method", "PUT", "--header", "Content-Type: application/json"}

	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, nil, &stdout, &stderr)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "add --allow-redirect localhost") || len(other.got()) != 0 {
		t.Errorf("to a host not allowed: exit %d, %v; the other host got %q", exitCode(err), err, other.got())
	}

	stdout.Reset()
	err = run(context.Background(), append(args, "--allow-redirect", "localhost"), nil, &stdout, &stderr)
	if exitCode(err) != 0 {
		t.Errorf("exit %d (%v)\n%s", exitCode(err), err, stdout.String())
	}
	// A redirect to a third origin taints the request's origin: the
	// preflight and the request to it say null.
	if want := []string{"OPTIONS PUT content-type null", "PUT   null"}; strings.Join(other.got(), "|") != strings.Join(want, "|") {
		t.Errorf("the other host got %q, want %q", other.got(), want)
	}
	if !strings.Contains(stdout.String(), "taints the request's origin") {
		t.Errorf("no step explains the taint:\n%s", stdout.String())
	}
}

func TestCheckErrors(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/api/items"
	l.Close()
	tests := []struct {
		desc string
		args []string
		want string
	}{
		{"a closed port", []string{"check", closed, "--origin", devOrigin}, "connection refused"},
		{"no URL", []string{"check", "--origin", devOrigin}, "URL: which URL to check?"},
		{"two URLs", []string{"check", "http://a/", "http://b/", "--origin", devOrigin}, "URL: one URL at a time"},
		{"a relative URL", []string{"check", "/api/items", "--origin", devOrigin}, "URL: must be an absolute http or https URL"},
		{"no origin", []string{"check", "http://a/"}, "--origin: is required"},
		{"an origin without a scheme", []string{"check", "http://a/", "--origin", "localhost:5173"}, "--origin: must be an origin such as https://app.example.com"},
		{"an origin with a slash", []string{"check", "http://a/", "--origin", devOrigin + "/"}, `--origin: an origin has no path, not even /: use "http://localhost:5173"`},
		{"a method that is not a token", []string{"check", "http://a/", "--origin", devOrigin, "--method", "P T"}, "--method: must be an HTTP method"},
		{"a header without a colon", []string{"check", "http://a/", "--origin", devOrigin, "--header", "Content-Type application/json"}, "--header: must be 'Name: value'"},
		{"a header name with a space", []string{"check", "http://a/", "--origin", devOrigin, "--header", "X A: 1"}, "--header: the name must be a token"},
		{"credentials yes", []string{"check", "http://a/", "--origin", devOrigin, "--credentials", "yes"}, `--credentials: must be omit, same-origin or include, got "yes"`},
		{"an unknown browser", []string{"check", "http://a/", "--origin", devOrigin, "--browser", "safari"}, `--browser: must be chromium, firefox or webkit, got "safari"`},
		{"a body with GET", []string{"check", "http://a/", "--origin", devOrigin, "--body", "x"}, "--body: fetch() refuses a body with GET"},
		{"a cookie without =", []string{"check", "http://a/", "--origin", devOrigin, "--cookie", "abc"}, "--cookie: must be one 'name=value'"},
		{"an allowed host with a port", []string{"check", "http://a/", "--origin", devOrigin, "--allow-redirect", "a:80"}, "--allow-redirect: must be a bare host name"},
		{"an unknown flag", []string{"check", "http://a/", "--origin", devOrigin, "--verbose"}, "flag provided but not defined: -verbose"},
		{"a zero timeout", []string{"check", "http://a/", "--origin", devOrigin, "--timeout", "0s"}, "--timeout: must be more than 0"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), tt.args, nil, &stdout, &stderr)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: exit %d, %v; want 2 and %q", tt.desc, exitCode(err), err, tt.want)
		}
	}
	var stderr bytes.Buffer
	err = run(context.Background(), []string{"check", "--help"}, nil, &bytes.Buffer{}, &stderr)
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(stderr.String(), "Exit status: 0 when JS would read the response, 1 when the browser would") {
		t.Errorf("--help: %v, printed %q", err, stderr.String())
	}
}
