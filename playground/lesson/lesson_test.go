package lesson

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/corslab/corslab/lessons"
	"github.com/corslab/corslab/playground/scenario"
)

// completeLesson uses every field of the format. The line numbers in
// TestParseErrors count from its first line, "---".
const completeLesson = `---
title: "Preflight: when the browser asks first"
track: basics
order: 3
summary: A PUT with a custom header makes the browser send OPTIONS first.
scenario:
  request.method: PUT
  request.headers.User-Id: "11"
  api.allowOrigin: "{app}"
  api.allowlist: ["{app}", "{evil}"]
show: [request, api, bucket]
lock: [request.from]
goals:
  - id: preflight-seen
    text: Make the browser send a preflight for PUT /users.
    exchange: {origin: api, kind: preflight, path: /users, status: 204, request: {Access-Control-Request-Method: PUT}}
  - id: put-works
    text: Get the PUT through.
    run: {from: app, target: api, method: PUT, path: /users, credentials: omit, mode: cors, setup: three-origins, ok: true, status: 200, body: grace, readable: [Content-Type]}
    exchange: {origin: api, response: {Access-Control-Allow-Origin: "!*"}}
    after: preflight-seen
hints:
  - The preflight asks with Access-Control-Request-Method.
  - A second hint.
links:
  - {title: "Fetch: CORS-preflight fetch", url: "https://fetch.spec.whatwg.org/#cors-preflight-fetch"}
solution:
  - set: {api.allowMethods: PUT, api.allowHeaders: user-id}
  - set: {api.allowOrigin: "{evil}", api.allowlist: ["{api}"]}
    run: false
  - set: {}
    curl: true
---
The lesson's **text**.

<script>alert(1)</script>
`

var testOrigins = map[string]string{
	"app": "http://localhost:9001", "api": "http://localhost:9002",
	"s3": "http://localhost:9003", "evil": "http://localhost:9004",
}

func TestParseCompleteLesson(t *testing.T) {
	l, err := Parse("lessons/03-x.md", []byte(completeLesson))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		desc      string
		got, want any
	}{
		{"slug from the file name", l.Slug, "x"},
		{"title", l.Title, "Preflight: when the browser asks first"},
		{"track", l.Track, "basics"},
		{"order", l.Order, 3},
		{"summary", l.Summary, "A PUT with a custom header makes the browser send OPTIONS first."},
		{"file", l.File, "lessons/03-x.md"},
		{"scenario keeps the placeholders", l.Scenario, url.Values{
			"request.method":          {"PUT"},
			"request.headers.User-Id": {"11"},
			"api.allowOrigin":         {"{app}"},
			"api.allowlist":           {"{app}", "{evil}"},
		}},
		{"show", l.Show, []string{"request", "api", "bucket"}},
		{"lock", l.Lock, []string{"request.from"}},
		{"hints", l.Hints, []string{"The preflight asks with Access-Control-Request-Method.", "A second hint."}},
		{"links", l.Links, []Link{{"Fetch: CORS-preflight fetch", "https://fetch.spec.whatwg.org/#cors-preflight-fetch"}}},
		{"goal ids", []string{l.Goals[0].ID, l.Goals[1].ID}, []string{"preflight-seen", "put-works"}},
		{"goal text", l.Goals[1].Text, "Get the PUT through."},
		{"goal after", l.Goals[1].After, "preflight-seen"},
		{"exchange-only goal has no run", l.Goals[0].Run, (*RunMatch)(nil)},
		{"exchange match", *l.Goals[0].Exchange, ExchangeMatch{
			Origin: "api", Kind: "preflight", Path: "/users", Status: 204,
			Request: map[string]string{"Access-Control-Request-Method": "PUT"},
		}},
		{"run match", *l.Goals[1].Run, RunMatch{
			From: "app", Target: "api", Method: "PUT", Path: "/users", Credentials: "omit", Mode: "cors",
			Setup: "three-origins", OK: yes(), Status: 200, Body: "grace", Readable: []string{"Content-Type"},
		}},
		{"run and exchange", *l.Goals[1].Exchange, ExchangeMatch{Origin: "api", Response: map[string]string{"Access-Control-Allow-Origin": "!*"}}},
		{"solution steps", l.Solution, []Step{
			{Set: url.Values{"api.allowMethods": {"PUT"}, "api.allowHeaders": {"user-id"}}, Run: true},
			{Set: url.Values{"api.allowOrigin": {"{evil}"}, "api.allowlist": {"{api}"}}, Run: false},
			{Set: url.Values{}, Run: false, Curl: true},
		}},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s: got %#v, want %#v", tt.desc, tt.got, tt.want)
		}
	}
	if !strings.Contains(l.HTML, "<p>The lesson's <strong>text</strong>.</p>") {
		t.Errorf("HTML %q lacks the rendered Markdown", l.HTML)
	}
	if strings.Contains(l.HTML, "<script") {
		t.Errorf("HTML %q renders raw HTML", l.HTML)
	}
}

func TestLessonParseFileNamesAndSlugs(t *testing.T) {
	tests := []struct {
		desc, file, slugLine, want string
	}{
		{"a numbered file", "03-x.md", "", "x"},
		{"a path", "dir/sub/12-cors-basics.md", "", "cors-basics"},
		{"no number", "preflight.md", "", "preflight"},
		{"only the first number goes", "01-2-step.md", "", "2-step"},
		{"a name that starts with letters keeps them", "a1-b.md", "", "a1-b"},
		{"slug: wins over the file name", "03-x.md", "slug: own-slug\n", "own-slug"},
	}
	for _, tt := range tests {
		data := strings.Replace(completeLesson, "track: basics\n", "track: basics\n"+tt.slugLine, 1)
		l, err := Parse(tt.file, []byte(data))
		if err != nil {
			t.Errorf("%s: %v", tt.desc, err)
			continue
		}
		if l.Slug != tt.want {
			t.Errorf("%s: slug %q, want %q", tt.desc, l.Slug, tt.want)
		}
	}
}

func TestLessonParseLineEndings(t *testing.T) {
	front := completeLesson[:strings.Index(completeLesson, "\n---\n")+5]
	tests := []struct{ desc, data string }{
		{"CRLF", strings.ReplaceAll(completeLesson, "\n", "\r\n")},
		{"no body", front},
		{"no body, no final newline", strings.TrimSuffix(front, "\n")},
	}
	for _, tt := range tests {
		l, err := Parse("03-x.md", []byte(tt.data))
		if err != nil {
			t.Errorf("%s: %v", tt.desc, err)
			continue
		}
		if len(l.Goals) != 2 || len(l.Solution) != 3 || l.Title != "Preflight: when the browser asks first" {
			t.Errorf("%s: %q, %d goals, %d steps", tt.desc, l.Title, len(l.Goals), len(l.Solution))
		}
	}
}

// fieldMessage is what the scenario package says about key=value.
func fieldMessage(t *testing.T, key, value string) string {
	t.Helper()
	_, errs := scenario.FromQuery(url.Values{key: {value}})
	for _, msg := range errs {
		return msg
	}
	t.Fatalf("%s=%q is valid", key, value)
	return ""
}

// Every mistake is reported as file:line: message, with the line of the
// key or list item at fault.
func TestLessonParseErrors(t *testing.T) {
	with := func(old, new string) string {
		t.Helper()
		if !strings.Contains(completeLesson, old) {
			t.Fatalf("the complete lesson lacks %q", old)
		}
		return strings.Replace(completeLesson, old, new, 1)
	}
	const (
		goal1Exchange = "    exchange: {origin: api, kind: preflight, path: /users, status: 204, request: {Access-Control-Request-Method: PUT}}\n"
		goal2Run      = "    run: {from: app, target: api, method: PUT, path: /users, credentials: omit, mode: cors, setup: three-origins, ok: true, status: 200, body: grace, readable: [Content-Type]}\n"
	)
	goals := completeLesson[strings.Index(completeLesson, "goals:\n"):strings.Index(completeLesson, "hints:\n")]
	solution := completeLesson[strings.Index(completeLesson, "solution:\n"):strings.Index(completeLesson, "---\nThe lesson")]
	// enum is the start of a message about a bad enum value: the list may
	// grow as the scenario does.
	enum := func(field, allowed, _ string) string {
		return field + ": must be one of " + allowed
	}

	tests := []struct {
		desc, data, want string
	}{
		// The file's shape.
		{"no opening ---", strings.TrimPrefix(completeLesson, "---\n"),
			`03-x.md:1: a lesson starts with a line "---", then its YAML front matter, then "---"`},
		{"a blank line before ---", "\n" + completeLesson,
			`03-x.md:1: a lesson starts with a line "---", then its YAML front matter, then "---"`},
		{"no closing ---", completeLesson[:strings.Index(completeLesson, "---\nThe lesson")],
			`03-x.md:1: the front matter has no closing "---" line`},

		// YAML the library cannot read.
		{"a colon in a plain value", with("summary: A PUT", "summary: Note: a PUT"),
			"03-x.md:5: mapping values are not allowed in this context"},
		{"an unclosed quote", with("summary: A PUT", "summary: 'A PUT"),
			"03-x.md:5: found unexpected end of stream"},
		{"an unclosed list", with("show: [request, api, bucket]", "show: [request, api, bucket"),
			"03-x.md:11: did not find expected ',' or ']'"},
		{"an unclosed map", with("lock: [request.from]", "lock: {request.from"),
			"03-x.md:12: did not find expected ',' or '}'"},
		{"a list item where a key belongs", with("hints:\n", "- hints\n"),
			"03-x.md:22: did not find expected key"},
		{"a wrong type", with("order: 3", "order: three"),
			"03-x.md:4: cannot unmarshal !!str `three` into int"},
		{"a wrong type in a goal", with("status: 200,", "status: OK,"),
			"03-x.md:19: cannot unmarshal !!str `OK` into int"},
		{"a key twice", with("hints:\n", "order: 4\nhints:\n"),
			`03-x.md:22: mapping key "order" already defined at line `},

		// Keys the format does not have (KnownFields).
		{"an unknown front-matter key", with("summary:", "dificulty: 2\nsummary:"),
			"03-x.md:5: field dificulty not found in type lesson.frontMatter"},
		{"an unknown key in a goal", with("    after: preflight-seen\n", "    afterwards: preflight-seen\n"),
			"03-x.md:21: field afterwards not found in type lesson.Goal"},
		{"an unknown key in run", with("run: {from: app,", "run: {form: app,"),
			"03-x.md:19: field form not found in type lesson.RunMatch"},
		{"an unknown key in exchange", with("exchange: {origin: api, kind:", "exchange: {orign: api, kind:"),
			"03-x.md:16: field orign not found in type lesson.ExchangeMatch"},
		{"an unknown key in a link", with(`{title: "Fetch`, `{titel: "Fetch`),
			"03-x.md:26: field titel not found in type lesson.Link"},
		{"an unknown key in a solution step", with("  - set: {}\n    curl: true\n", "  - set: {}\n    crul: true\n"),
			"03-x.md:32: field crul not found in type struct"},

		// The lesson's own fields.
		{"a bad slug", with("track: basics\n", "track: basics\nslug: Pre_flight\n"),
			`03-x.md:4: slug "Pre_flight": use lower-case letters, digits and single dashes`},
		{"no title", with("title: \"Preflight: when the browser asks first\"\n", ""),
			"03-x.md:1: title: every lesson needs one"},
		{"a blank title", with(`title: "Preflight: when the browser asks first"`, `title: "  "`),
			"03-x.md:1: title: every lesson needs one"},
		{"order 0", with("order: 3", "order: 0"),
			"03-x.md:4: order: a whole number from 1, the lesson's place in its track"},
		{"a negative order", with("order: 3", "order: -1"),
			"03-x.md:4: order: a whole number from 1, the lesson's place in its track"},
		{"an unknown track", with("track: basics", "track: advanced"),
			`03-x.md:3: track "advanced": must be one of basics, credentials, s3, attacks, doors`},
		{"no track", with("track: basics\n", "track: \"\"\n"),
			`03-x.md:3: track "": must be one of basics, credentials, s3, attacks, doors`},
		{"no summary", with("summary: A PUT with a custom header makes the browser send OPTIONS first.\n", ""),
			"03-x.md:1: summary: every lesson needs one line for the index"},

		// The scenario.
		{"an unknown scenario key", with("  api.allowOrigin: \"{app}\"", "  api.allowOrign: \"{app}\""),
			"03-x.md:9: scenario: api.allowOrign: unknown setting; see the README's permalink section"},
		{"an invalid scenario value", with("  request.method: PUT", "  request.method: \"PU T\""),
			"03-x.md:7: scenario: request.method: " + fieldMessage(t, "request.method", "PU T")},
		{"an invalid header in the scenario", with("  request.headers.User-Id: \"11\"", "  request.headers.User Id: \"11\""),
			"03-x.md:8: scenario: request.headers: " + fieldMessage(t, "request.headers.User Id", "11")},
		{"a scenario value that is a map", with("  api.allowOrigin: \"{app}\"", "  api.allowOrigin: {a: b}"),
			"03-x.md:9: a setting is a value or a list of values"},
		{"an invalid list entry", with(`api.allowlist: ["{app}", "{evil}"]`, `api.allowlist: ["{app}", "a\nb"]`),
			"03-x.md:10: scenario: api.allowlist: entry 2: "},
		{"show naming a non-field", with("show: [request, api, bucket]", "show: [request, api.allowOrign]"),
			`03-x.md:11: show/lock: "api.allowOrign" is not a scenario field (e.g. request.method, api, bucket.cors)`},
		{"lock naming a non-field", with("lock: [request.from]", "lock: [request.frm]"),
			`03-x.md:12: show/lock: "request.frm" is not a scenario field (e.g. request.method, api, bucket.cors)`},
		{"a permalink key is not a field path", with("show: [request, api, bucket]", "show: [request.headers.User-Id]"),
			`03-x.md:11: show/lock: "request.headers.User-Id" is not a scenario field (e.g. request.method, api, bucket.cors)`},

		// Goals.
		{"no goals", with(goals, "goals: []\n"),
			"03-x.md:13: goals: a lesson needs at least one"},
		{"a goal id with capitals", with("  - id: preflight-seen", "  - id: Preflight_Seen"),
			`03-x.md:14: goal 1: id "Preflight_Seen": use lower-case letters, digits and single dashes`},
		{"a goal without an id", with("  - id: preflight-seen\n    text:", "  - text:"),
			`03-x.md:14: goal 1: id "": use lower-case letters, digits and single dashes`},
		{"a goal id twice", with("  - id: put-works", "  - id: preflight-seen"),
			`03-x.md:17: goal 2: id "preflight-seen" is used twice`},
		{"a goal without text", with("    text: Get the PUT through.\n", ""),
			"03-x.md:17: goal 2: text: say what the learner should do"},
		{"a goal without run or exchange", with(goal1Exchange, ""),
			"03-x.md:14: goal 1: needs run:, exchange: or both"},
		{"after a later goal", with(goal1Exchange, goal1Exchange+"    after: put-works\n"),
			`03-x.md:14: goal 1: after: "put-works" is not a goal defined before this one`},
		{"after an unknown goal", with("after: preflight-seen", "after: preflight"),
			`03-x.md:17: goal 2: after: "preflight" is not a goal defined before this one`},
		{"after itself", with("after: preflight-seen", "after: put-works"),
			`03-x.md:17: goal 2: after: "put-works" is not a goal defined before this one`},
		{"run.from", with(goal2Run, "    run: {from: attacker}\n"),
			"03-x.md:17: goal 2: " + enum("run.from", "app, sandbox, sandbox-same-origin, data, srcdoc, evil, api, lookalike", "attacker")},
		{"run.target", with(goal2Run, "    run: {target: app}\n"),
			"03-x.md:17: goal 2: " + enum("run.target", "api, s3", "app")},
		{"run.credentials", with(goal2Run, "    run: {credentials: true}\n"),
			"03-x.md:17: goal 2: " + enum("run.credentials", "omit, same-origin, include", "true")},
		{"run.mode", with(goal2Run, "    run: {mode: navigate}\n"),
			"03-x.md:17: goal 2: " + enum("run.mode", "cors, no-cors, same-origin", "navigate")},
		{"run.setup", with(goal2Run, "    run: {setup: three}\n"),
			"03-x.md:17: goal 2: " + enum("run.setup", "three-origins, two-origins, one-origin", "three")},
		{"run.stage", with(goal2Run, "    run: {stage: fetch}\n"),
			"03-x.md:17: goal 2: " + enum("run.stage", "request, cache, preflight, response, redirect", "fetch")},
		{"run.path", with(goal2Run, "    run: {path: users}\n"),
			"03-x.md:17: goal 2: run.path: starts with /"},
		{"exchange.origin", with(goal1Exchange, "    exchange: {origin: ui}\n"),
			"03-x.md:14: goal 1: " + enum("exchange.origin", "app, api, s3, evil", "ui")},
		{"exchange.kind", with(goal1Exchange, "    exchange: {kind: simple}\n"),
			"03-x.md:14: goal 1: " + enum("exchange.kind", "preflight, cors, same-origin, no-origin, redirect", "simple")},
		{"exchange.path", with(goal1Exchange, "    exchange: {path: \"*\"}\n"),
			"03-x.md:14: goal 1: exchange.path: starts with /"},

		// Links.
		{"a link without a title", with(`{title: "Fetch: CORS-preflight fetch", url:`, `{url:`),
			"03-x.md:26: link 1: needs a title and an http(s) url"},
		{"a link without a url", with(`, url: "https://fetch.spec.whatwg.org/#cors-preflight-fetch"}`, `}`),
			"03-x.md:26: link 1: needs a title and an http(s) url"},
		{"a javascript: link", with("https://fetch.spec.whatwg.org/#cors-preflight-fetch", "javascript:alert(1)"),
			"03-x.md:26: link 1: needs a title and an http(s) url"},
		{"a relative link", with("https://fetch.spec.whatwg.org/#cors-preflight-fetch", "/lessons/y"),
			"03-x.md:26: link 1: needs a title and an http(s) url"},
		{"the second link", with("solution:\n", "  - {title: MDN, url: \"ftp://example.com\"}\nsolution:\n"),
			"03-x.md:27: link 2: needs a title and an http(s) url"},

		// The solution.
		{"an empty solution", with(solution, "solution: []\n"),
			"03-x.md:27: solution: every lesson needs one, so a test can prove it can be done"},
		{"a solution step with an invalid value", with(`  - set: {api.allowOrigin: "{evil}", api.allowlist: ["{api}"]}`, "  - set: {api.maxAge: soon}"),
			"03-x.md:29: solution step 2: api.maxAge: " + fieldMessage(t, "api.maxAge", "soon")},
		{"a solution step with an unknown key", with("  - set: {}\n", "  - set: {api.nope: 1}\n"),
			"03-x.md:31: solution step 3: api.nope: unknown setting; see the README's permalink section"},
		{"a solution step that breaks what earlier steps set", with("  - set: {}\n", "  - set: {setup: two-origins}\n"),
			"03-x.md:31: solution step 3: request.from: "},
		{"a solution step that changes a hidden setting", with("  - set: {}\n", "  - set: {proxy.addOrigin: \"{app}\"}\n"),
			"03-x.md:31: solution step 3: proxy.addOrigin: the lesson does not show it (add it to show:), so a learner could not change it"},
		{"a solution step that changes a locked setting", with("  - set: {}\n", "  - set: {request.from: evil}\n"),
			"03-x.md:31: solution step 3: request.from: the lesson locks it (lock:), so a learner could not change it"},
		{"the line of a hidden setting in a step of many lines", with("  - set: {}\n", "  - set:\n      request.method: GET\n      proxy.addOrigin: \"{app}\"\n"),
			"03-x.md:33: solution step 3: proxy.addOrigin: the lesson does not show it"},
		{"a header, when the lesson shows other request fields", strings.Replace(with("  - set: {}\n", "  - set: {request.headers.X-A: b}\n"), "show: [request,", "show: [request.method,", 1),
			"03-x.md:31: solution step 3: request.headers.X-A: the lesson does not show it"},
		{"a host outside .localhost", with("order: 3\n", "order: 3\nhost: corslab.example\n"),
			"03-x.md:5: host: must be a host name under .localhost"},
		{"a host in upper case", with("order: 3\n", "order: 3\nhost: Corslab.localhost\n"),
			"03-x.md:5: host: must be a host name under .localhost"},
	}
	for _, tt := range tests {
		_, err := Parse("03-x.md", []byte(tt.data))
		if err == nil {
			t.Errorf("%s: no error, want %q", tt.desc, tt.want)
			continue
		}
		// want is the whole message, or its start where the rest is the
		// YAML library's or the scenario package's wording.
		if got := err.Error(); !strings.HasPrefix(got, tt.want) {
			t.Errorf("%s:\n got %q\nwant %q", tt.desc, got, tt.want)
		}
		var le *Error
		if !errors.As(err, &le) || le.File != "03-x.md" {
			t.Errorf("%s: %T is not a *lesson.Error naming the file", tt.desc, err)
		}
	}
}

// Messages about a lesson as a whole, where no line is at fault.
func TestLessonParseErrorsWithoutAKey(t *testing.T) {
	cut := func(from, to string) string {
		i, j := strings.Index(completeLesson, from), strings.Index(completeLesson, to)
		return completeLesson[:i] + completeLesson[j:]
	}
	tests := []struct{ desc, file, data, want string }{
		{"a bad slug from the file name", "lessons/03-Big_One.md", completeLesson, `slug "Big_One": use lower-case letters`},
		{"no order", "03-x.md", strings.Replace(completeLesson, "order: 3\n", "", 1), "order: a whole number from 1"},
		{"no goals", "03-x.md", cut("goals:\n", "hints:\n"), "goals: a lesson needs at least one"},
		{"no solution", "03-x.md", cut("solution:\n", "---\nThe lesson"), "solution: every lesson needs one"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.file, []byte(tt.data))
		if err == nil || !strings.HasPrefix(err.Error(), tt.file+":") || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want %s:<line>: …%s…", tt.desc, err, tt.file, tt.want)
		}
	}
}

func TestLessonErrorFormat(t *testing.T) {
	if got := (&Error{File: "a/b.md", Line: 7, Msg: "m"}).Error(); got != "a/b.md:7: m" {
		t.Errorf("with a line: %q", got)
	}
	if got := (&Error{File: "a/b.md", Msg: "m"}).Error(); got != "a/b.md: m" {
		t.Errorf("without: %q", got)
	}
}

// Every field path of the scenario can be shown or locked: a lesson
// author reads the field names off the README's permalink table.
func TestLessonEveryScenarioFieldCanBeShown(t *testing.T) {
	st := reflect.TypeFor[scenario.Scenario]()
	for i := range st.NumField() {
		f := st.Field(i)
		group, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if group == "version" || group == "" || group == "-" {
			continue
		}
		if !knownField(group) {
			t.Errorf("show/lock does not know %q", group)
		}
		if f.Type.Kind() != reflect.Struct {
			continue
		}
		for j := range f.Type.NumField() {
			name, _, _ := strings.Cut(f.Type.Field(j).Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			if p := group + "." + name; !knownField(p) {
				t.Errorf("show/lock does not know the scenario field %q", p)
			}
		}
	}
}

func TestLessonStartFillsPlaceholders(t *testing.T) {
	l, err := Parse("03-x.md", []byte(completeLesson))
	if err != nil {
		t.Fatal(err)
	}
	s := l.Start(testOrigins)
	if s.API.AllowOrigin != "http://localhost:9001" {
		t.Errorf("api.allowOrigin %q", s.API.AllowOrigin)
	}
	if !slices.Equal(s.API.Allowlist, []string{"http://localhost:9001", "http://localhost:9004"}) {
		t.Errorf("api.allowlist %q", s.API.Allowlist)
	}
	if s.Request.Method != "PUT" || s.Request.Headers["User-Id"] != "11" {
		t.Errorf("request %+v", s.Request)
	}
	// What the lesson does not set is the default.
	def := scenario.Default()
	if s.Request.From != def.Request.From || s.API.Vary != def.API.Vary || s.Setup != def.Setup {
		t.Errorf("the rest is not the default: %+v", s)
	}
	// Start does not change the lesson.
	if l.Scenario.Get("api.allowOrigin") != "{app}" {
		t.Errorf("the lesson's scenario became %v", l.Scenario)
	}
	if again := l.Start(map[string]string{"app": "http://127.0.0.1:1", "api": "x", "s3": "x", "evil": "x"}); again.API.AllowOrigin != "http://127.0.0.1:1" {
		t.Errorf("a second start for another host: %q", again.API.AllowOrigin)
	}
}

func TestLessonStepQueryFillsPlaceholders(t *testing.T) {
	l, err := Parse("03-x.md", []byte(completeLesson))
	if err != nil {
		t.Fatal(err)
	}
	got := l.Solution[1].Query(testOrigins)
	want := url.Values{"api.allowOrigin": {"http://localhost:9004"}, "api.allowlist": {"http://localhost:9002"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if l.Solution[1].Set.Get("api.allowOrigin") != "{evil}" {
		t.Errorf("Query changed the step: %v", l.Solution[1].Set)
	}
	if got := l.Solution[2].Query(testOrigins); len(got) != 0 {
		t.Errorf("an empty step: %v", got)
	}
}

func TestLessonSolutionRunAndCurl(t *testing.T) {
	tests := []struct {
		step          string
		wantRun, curl bool
	}{
		{"  - set: {}\n", true, false},
		{"  - set: {}\n    run: true\n", true, false},
		{"  - set: {}\n    run: false\n", false, false},
		{"  - set: {}\n    curl: true\n", false, true},
		{"  - set: {}\n    curl: true\n    run: true\n", false, true},
		{"  - set: {}\n    curl: false\n", true, false},
	}
	for _, tt := range tests {
		i := strings.Index(completeLesson, "solution:\n") + len("solution:\n")
		j := strings.Index(completeLesson, "---\nThe lesson")
		l, err := Parse("03-x.md", []byte(completeLesson[:i]+tt.step+completeLesson[j:]))
		if err != nil {
			t.Errorf("%q: %v", tt.step, err)
			continue
		}
		if s := l.Solution[0]; s.Run != tt.wantRun || s.Curl != tt.curl {
			t.Errorf("%q: Run %v Curl %v, want %v %v", tt.step, s.Run, s.Curl, tt.wantRun, tt.curl)
		}
	}
}

// A show or lock list takes in a permalink key by its field or group, as
// static/form.js's covers() does for the form.
func TestLessonCovers(t *testing.T) {
	tests := []struct {
		desc  string
		paths []string
		key   string
		want  bool
	}{
		{"the field itself", []string{"api.allowOrigin"}, "api.allowOrigin", true},
		{"its group", []string{"api"}, "api.allowOrigin", true},
		{"a header under request.headers", []string{"request.headers"}, "request.headers.User-Id", true},
		{"a header under request", []string{"request"}, "request.headers.User-Id", true},
		{"a bucket rule's list under bucket.cors", []string{"bucket.cors"}, "bucket.cors.0.allowedOrigins", true},
		{"a bucket rule's list under bucket", []string{"bucket"}, "bucket.cors.0.allowedOrigins", true},
		{"another field of the group", []string{"api.allowOrigin"}, "api.allowCredentials", false},
		{"a name that only starts the same", []string{"api.allow"}, "api.allowOrigin", false},
		{"another group", []string{"request"}, "api.allowOrigin", false},
		{"nothing", nil, "setup", false},
	}
	for _, tt := range tests {
		if got := covers(tt.paths, tt.key); got != tt.want {
			t.Errorf("%s: covers(%q, %q) = %v, want %v", tt.desc, tt.paths, tt.key, got, tt.want)
		}
	}
}

// Every goal of every built-in lesson can be met with the settings its
// page shows: the solution, which a browser test proves meets them all,
// changes only fields the lesson shows (all of them, when show is empty)
// and does not lock. Parse refuses a lesson that breaks this; the test
// says it again for the curriculum, field by field.
func TestBuiltinSolutionsUseOnlyShownSettings(t *testing.T) {
	all, err := Load(lessons.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range all {
		for i, step := range l.Solution {
			for key := range step.Set {
				if len(l.Show) > 0 && !covers(l.Show, key) {
					t.Errorf("%s: solution step %d changes %s, which the lesson does not show (show: %v)", l.File, i+1, key, l.Show)
				}
				if covers(l.Lock, key) {
					t.Errorf("%s: solution step %d changes %s, which the lesson locks (lock: %v)", l.File, i+1, key, l.Lock)
				}
			}
		}
	}
}

// lessonFile is completeLesson under another title and slug.
func lessonFile(slug, title, track string, order int) string {
	s := strings.Replace(completeLesson, "Preflight: when the browser asks first", title, 1)
	s = strings.Replace(s, "track: basics\n", "track: "+track+"\nslug: "+slug+"\n", 1)
	return strings.Replace(s, "order: 3\n", "order: "+strconv.Itoa(order)+"\n", 1)
}

func TestLessonLoad(t *testing.T) {
	fsys := fstest.MapFS{
		"lessons/README.md":   {Data: []byte("# Not a lesson\n")},
		"lessons/02-b.md":     {Data: []byte(lessonFile("b", "B", "basics", 2))},
		"lessons/01-a.md":     {Data: []byte(lessonFile("a", "A", "basics", 1))},
		"lessons/notes.txt":   {Data: []byte("not markdown")},
		"lessons/sub/09-z.md": {Data: []byte("broken")},
		"other/01-c.md":       {Data: []byte(lessonFile("c", "C", "basics", 1))},
	}
	got, err := Load(fsys, "lessons")
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, l := range got {
		files = append(files, l.File)
	}
	if !slices.Equal(files, []string{"lessons/01-a.md", "lessons/02-b.md"}) {
		t.Errorf("loaded %q", files)
	}

	root := fstest.MapFS{"01-a.md": {Data: []byte(lessonFile("a", "A", "basics", 1))}, "README.md": {Data: []byte("x")}}
	if got, err := Load(root, "."); err != nil || len(got) != 1 || got[0].File != "01-a.md" {
		t.Errorf("Load(., fs root): %v, %v", got, err)
	}
	if got, err := Load(fstest.MapFS{}, "."); err != nil || len(got) != 0 {
		t.Errorf("no lessons: %v, %v", got, err)
	}
}

func TestLessonLoadJoinsErrors(t *testing.T) {
	fsys := fstest.MapFS{
		"l/01-a.md": {Data: []byte(lessonFile("a", "A", "basics", 1))},
		"l/02-b.md": {Data: []byte(strings.Replace(lessonFile("b", "B", "basics", 2), "track: basics", "track: nope", 1))},
		"l/03-c.md": {Data: []byte("no front matter")},
	}
	got, err := Load(fsys, "l")
	if err == nil {
		t.Fatalf("loaded %d lessons", len(got))
	}
	if got != nil {
		t.Errorf("lessons with an error: %v", got)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], `l/02-b.md:3: track "nope"`) || !strings.HasPrefix(lines[1], "l/03-c.md:1: a lesson starts with") {
		t.Errorf("got %q", lines)
	}
	var le *Error
	if !errors.As(err, &le) || le.File != "l/02-b.md" {
		t.Errorf("errors.As: %v", le)
	}
}

func TestLessonLoadDir(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("01-a.md", lessonFile("a", "A", "credentials", 1))
	write("README.md", "# mine\n")
	got, err := LoadDir(dir)
	if err != nil || len(got) != 1 {
		t.Fatalf("got %v, %v", got, err)
	}
	if want := filepath.Join(dir, "01-a.md"); got[0].File != want {
		t.Errorf("file %q, want %q", got[0].File, want)
	}

	write("02-b.md", strings.Replace(lessonFile("b", "B", "basics", 2), "order: 2", "order: 0", 1))
	_, err = LoadDir(dir)
	if want := filepath.Join(dir, "02-b.md") + ":5: order: "; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v, want %q…", err, want)
	}
}

func TestLessonMerge(t *testing.T) {
	mk := func(slug, track string, order int, file string) *Lesson {
		return &Lesson{Slug: slug, Track: track, Order: order, File: file}
	}
	builtin := []*Lesson{
		mk("steal", "attacks", 1, "builtin/steal.md"),
		mk("preflight", "basics", 3, "builtin/preflight.md"),
		mk("cookies", "credentials", 1, "builtin/cookies.md"),
		mk("simple", "basics", 2, "builtin/simple.md"),
		mk("bucket", "s3", 1, "builtin/bucket.md"),
		mk("b-tie", "basics", 5, "builtin/b-tie.md"),
		mk("a-tie", "basics", 5, "builtin/a-tie.md"),
	}
	mine := []*Lesson{
		mk("preflight", "basics", 9, "mine/preflight.md"),
		mk("intro", "basics", 1, "mine/intro.md"),
	}
	got, err := Merge(builtin, mine)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, l := range got {
		files = append(files, l.File)
	}
	want := []string{
		"mine/intro.md", "builtin/simple.md", "builtin/a-tie.md", "builtin/b-tie.md", "mine/preflight.md",
		"builtin/cookies.md", "builtin/bucket.md", "builtin/steal.md",
	}
	if !slices.Equal(files, want) {
		t.Errorf("got  %q\nwant %q", files, want)
	}
	// The later set wins whatever the order of its lesson.
	if got, _ := Merge(mine, builtin); got[slices.IndexFunc(got, func(l *Lesson) bool { return l.Slug == "preflight" })].File != "builtin/preflight.md" {
		t.Error("the later set did not replace the earlier one")
	}

	if got, err := Merge(); err != nil || len(got) != 0 {
		t.Errorf("Merge(): %v, %v", got, err)
	}

	dup := []*Lesson{mk("x", "basics", 1, "d/01-x.md"), mk("y", "basics", 2, "d/02-y.md"), mk("x", "basics", 3, "d/03-x.md")}
	_, err = Merge(builtin, dup)
	if err == nil || err.Error() != `d/03-x.md: slug "x" is also d/01-x.md's` {
		t.Errorf("a slug twice in one set: %v", err)
	}
}

// Every built-in lesson loads and has what a learner needs. This keeps
// holding as lessons are added: it counts nothing but "at least one".
func TestBuiltinLessons(t *testing.T) {
	all, err := Load(lessons.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 {
		t.Fatal("no built-in lessons")
	}
	if _, err := Merge(all); err != nil {
		t.Fatal(err)
	}
	for _, l := range all {
		switch {
		case len(l.Goals) == 0:
			t.Errorf("%s: no goals", l.File)
		case len(l.Solution) == 0:
			t.Errorf("%s: no solution", l.File)
		case len(l.Hints) == 0:
			t.Errorf("%s: no hints", l.File)
		case len(l.Links) == 0:
			t.Errorf("%s: no links", l.File)
		case strings.TrimSpace(l.HTML) == "":
			t.Errorf("%s: no text", l.File)
		}
		for _, h := range l.Hints {
			if strings.TrimSpace(h) == "" {
				t.Errorf("%s: an empty hint", l.File)
			}
		}
		// The start is valid for any host, not only the placeholders'.
		if _, errs := scenario.FromQuery(fill(l.Scenario, testOrigins)); errs != nil {
			t.Errorf("%s: the start is invalid on localhost: %v", l.File, errs)
		}
	}
}

// One numbering everywhere: a lesson's number is its place in the whole
// curriculum, 1 to N in the index's order (by track, then order), as the
// index, the lesson pages and the instructor's dashboard count. The
// built-in files carry that number in their names, and a text that says
// "lesson 7" means that lesson and links to it.
func TestBuiltinLessonNumbers(t *testing.T) {
	loaded, err := Load(lessons.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	all, err := Merge(loaded)
	if err != nil {
		t.Fatal(err)
	}
	number := map[string]int{} // slug → number
	for i, l := range all {
		number[l.Slug] = i + 1
		if want := fmt.Sprintf("%02d-", i+1); !strings.HasPrefix(filepath.Base(l.File), want) {
			t.Errorf("%s is lesson %d of the index: name it %s…", l.File, i+1, want)
		}
	}
	slugOf := func(n int) string {
		if n < 1 || n > len(all) {
			return ""
		}
		return all[n-1].Slug
	}

	links := regexp.MustCompile(`<a href="/lessons/([^"#?/]*)">(.*?)</a>`)
	mention := regexp.MustCompile(`(?i)\blessons?\s+(\d+)\b`)
	for _, l := range all {
		linked := map[string]bool{}
		for _, m := range links.FindAllStringSubmatch(l.HTML, -1) {
			slug, text := m[1], m[2]
			n, ok := number[slug]
			if !ok {
				t.Errorf("%s links to /lessons/%s, which is no lesson", l.File, slug)
				continue
			}
			linked[slug] = true
			if ref := mention.FindStringSubmatch(text); ref != nil && ref[1] != strconv.Itoa(n) {
				t.Errorf("%s: the link %q goes to /lessons/%s, which is lesson %d", l.File, text, slug, n)
			}
		}
		for _, m := range mention.FindAllStringSubmatch(l.HTML, -1) {
			n, _ := strconv.Atoi(m[1])
			switch slug := slugOf(n); {
			case slug == "":
				t.Errorf("%s: %q names no lesson: there are %d", l.File, m[0], len(all))
			case !linked[slug]:
				t.Errorf("%s: %q: link it, [%s](/lessons/%s), so the reader can go there", l.File, m[0], m[0], slug)
			}
		}
		// Summaries, goals and hints are plain text, without links.
		plain := slices.Concat([]string{l.Summary}, l.Hints)
		for _, g := range l.Goals {
			plain = append(plain, g.Text)
		}
		for _, s := range plain {
			for _, m := range mention.FindAllStringSubmatch(s, -1) {
				if n, _ := strconv.Atoi(m[1]); slugOf(n) == "" {
					t.Errorf("%s: %q names no lesson: there are %d", l.File, m[0], len(all))
				}
			}
		}
	}
}
