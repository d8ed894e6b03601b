package lesson

// FuzzLessonParse feeds Parse arbitrary lesson files. Instructors write
// lessons by hand (go run . --lessons DIR), so every mistake must come back
// as a message that points at a line of their file, and whatever Parse
// accepts must be a lesson the lab can start and solve.
//
// Run it with:
//
//	go test -run '^$' -fuzz '^FuzzLessonParse$' -fuzztime 60s ./playground/lesson

import (
	"bytes"
	"errors"
	"io/fs"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/corslab/corslab/lessons"
	"github.com/corslab/corslab/playground/scenario"
)

// fuzzFile is the name the fuzzed lessons are parsed under.
const fuzzFile = "lessons/07-fuzz.md"

// placeholderOrigins are the origins Parse checks a lesson with (see
// withPlaceholders).
var placeholderOrigins = map[string]string{
	"app": "http://127.0.0.1:8081", "api": "http://127.0.0.1:8082",
	"s3": "http://127.0.0.1:8083", "evil": "http://127.0.0.1:8084",
}

// lineBreaks counts line breaks the way the YAML library does (CR LF, CR,
// LF, NEL, LS and PS each end a line), so that a position it reports is
// compared with the lines it saw.
func lineBreaks(s string) int {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	n := 0
	for _, r := range s {
		switch r {
		case '\n', '\r', '\u0085', '\u2028', '\u2029':
			n++
		}
	}
	return n
}

// frontMatterEnd is the line of the closing "---", counted as lineBreaks
// counts, or 1 when the file has no front matter: the last line a problem
// with the front matter may point at.
func frontMatterEnd(data []byte) int {
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	rest, ok := bytes.CutPrefix(data, []byte("---\n"))
	if !ok {
		return 1
	}
	end := bytes.Index(rest, []byte("\n---\n"))
	if end < 0 {
		if !bytes.HasSuffix(rest, []byte("\n---")) {
			return 1
		}
		end = len(rest) - 4
	}
	return 2 + lineBreaks(string(rest[:end+1])) // the "---" line, the front matter, then the closing line
}

// FuzzLessonParse checks, for any file:
//   - Parse never panics and gives the same answer twice.
//   - An error is a *Error for this file, with a message, and its line is
//     where the problem can be: line 1 when the file has no front matter,
//     otherwise between the opening and the closing "---" (the Markdown
//     body, which always renders, has no errors of its own). Its text is
//     "file:line: message".
//   - A lesson Parse accepts keeps its promises: a slug, a title, an order
//     from 1, a known track, a summary, goals and a solution; its start is
//     a valid scenario; every solution step applies on top of the previous
//     ones, changing only settings the lesson shows and does not lock;
//     and its HTML carries neither a script nor a javascript: link,
//     whatever the Markdown says.
func FuzzLessonParse(f *testing.F) {
	// The built-in curriculum, the test suite's complete lesson, and some
	// of TestLessonParseErrors' mistakes.
	builtin, err := fs.Glob(lessons.FS, "*.md")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range builtin {
		data, err := fs.ReadFile(lessons.FS, name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		completeLesson,
		strings.ReplaceAll(completeLesson, "\n", "\r\n"),
		strings.TrimPrefix(completeLesson, "---\n"),
		completeLesson[:strings.Index(completeLesson, "---\nThe lesson")],
		strings.Replace(completeLesson, "summary: A PUT", "summary: 'A PUT", 1),
		strings.Replace(completeLesson, "order: 3", "order: three", 1),
		strings.Replace(completeLesson, "hints:\n", "order: 4\nhints:\n", 1),
		strings.Replace(completeLesson, "  api.allowOrigin: \"{app}\"", "  api.allowOrign: \"{app}\"", 1),
		strings.Replace(completeLesson, "  request.method: PUT", "  request.method: \"PU T\"", 1),
		strings.Replace(completeLesson, "  - set: {}\n", "  - set: {setup: two-origins}\n", 1),
		strings.Replace(completeLesson, "after: preflight-seen", "after: preflight", 1),
		strings.Replace(completeLesson, "The lesson's **text**.", "[x](javascript:alert(1)) <img src=x onerror=alert(1)> <SCRIPT>a</SCRIPT>", 1),
		"---\n---\n", "---\n", "", "---\ntitle: x\n---",
		// Regression: a key repeated thousands of times made the YAML
		// library's duplicate check quadratic (seconds to minutes per
		// file); Parse now finds duplicates itself, in linear time.
		"---\n" + strings.Repeat("order: 1\n", 2000) + "---\n",
		strings.Replace(completeLesson, "  - id: put-works\n", "  - id: put-works\n    id: again\n", 1),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := Parse(fuzzFile, data)
		l2, err2 := Parse(fuzzFile, data)
		if !reflect.DeepEqual(l, l2) || !reflect.DeepEqual(err, err2) {
			t.Fatalf("Parse is not deterministic on %q:\n%v\n%v", data, err, err2)
		}
		if err != nil {
			var le *Error
			if !errors.As(err, &le) {
				t.Fatalf("Parse(%q): %T %v is not a *lesson.Error", data, err, err)
			}
			last := frontMatterEnd(data)
			if le.File != fuzzFile || le.Msg == "" || le.Line < 1 || le.Line > last {
				t.Fatalf("Parse(%q): error %q at %s:%d; the front matter ends on line %d", data, le.Msg, le.File, le.Line, last)
			}
			if want := fuzzFile + ":" + strconv.Itoa(le.Line) + ": "; !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("Parse(%q): %q does not start with %q", data, err.Error(), want)
			}
			return
		}

		switch {
		case !slugPattern.MatchString(l.Slug), strings.TrimSpace(l.Title) == "", l.Order < 1,
			strings.TrimSpace(l.Summary) == "", len(l.Goals) == 0, len(l.Solution) == 0, l.File != fuzzFile:
			t.Fatalf("Parse(%q) accepted an incomplete lesson: %+v", data, l)
		}
		if trackOK := func() bool {
			for _, tr := range Tracks() {
				if tr.ID == l.Track {
					return true
				}
			}
			return false
		}(); !trackOK {
			t.Fatalf("Parse(%q) accepted track %q", data, l.Track)
		}
		s := l.Start(placeholderOrigins)
		if errs := s.Validate(); errs != nil {
			t.Fatalf("Parse(%q) accepted a lesson whose start is invalid: %v", data, errs)
		}
		for i, step := range l.Solution {
			next, errs := scenario.Patch(s, step.Query(placeholderOrigins))
			if errs != nil {
				t.Fatalf("Parse(%q): solution step %d does not apply: %v", data, i+1, errs)
			}
			s = next
			for key := range step.Set {
				if (len(l.Show) > 0 && !covers(l.Show, key)) || covers(l.Lock, key) {
					t.Fatalf("Parse(%q): solution step %d changes %s, hidden or locked (show %v, lock %v)", data, i+1, key, l.Show, l.Lock)
				}
			}
		}
		// Text is escaped (a "<script" in it becomes "&lt;script"), raw
		// HTML is left out and dangerous link targets are dropped.
		html := strings.ToLower(l.HTML)
		if strings.Contains(html, "<script") || strings.Contains(html, `href="javascript:`) {
			t.Fatalf("Parse(%q) let active content into the page: %s", data, l.HTML)
		}
	})
}
