package playground

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/corslab/corslab/internal/browsertest"
	"github.com/corslab/corslab/lessons"
	"github.com/corslab/corslab/playground/lesson"
)

// A run's "Copy as curl" copies the run's actual request, as its script
// made it: for a preflighted PUT the PUT, not the OPTIONS (which the
// exchange's own "Copy exchange as curl" copies), and for a redirected GET
// the first request, to the api. Pasted into a terminal, lesson 13's
// command meets its goal "put-by-curl", as the lesson's step 3 says.
func TestLessonRunCopyAsCurl(t *testing.T) {
	curriculum, err := lesson.Load(lessons.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	browser := browsertest.CDP(t)
	srv := startLessonServer(t, curriculum)
	ui, api := srv.testURL(UI), srv.testURL(API)

	t.Run("a preflighted PUT: the run copies the PUT, which meets lesson 13's goal", func(t *testing.T) {
		tab := newTab(t, browser)
		const slug = "cors-is-not-authorization"
		id := openLab(t, tab, ui+"/lessons/"+slug)
		// Step 2 of the lesson: the PUT that the preflight stops.
		sc := getScenario(t, srv, id)
		sc.Request.Method, sc.Request.Path = "PUT", "/users/1"
		sc.Request.Body = `{"username": "ada", "name": "Ada, it's hacked"}` // a quote, for the shell
		putScenario(t, srv, id, sc)
		openLab(t, tab, ui+"/lessons/"+slug+"/"+id)
		catchCopies(t, tab)
		run := clickRun(t, tab, srv, id, 1)
		group := fmt.Sprintf(`.run-group[data-key="%d"]`, run.ID)
		waitFor(t, "the run's group", func() bool {
			return evaluate[bool](t, tab, `Boolean(document.querySelector('`+group+` .run-curl button'))`)
		})
		if got := evaluate[string](t, tab, `document.querySelector('`+group+` .run-curl button').textContent`); got != "Copy as curl" {
			t.Errorf("the run's button says %q", got)
		}

		clickOn(t, tab, group+" .run-curl button")
		command := lastCopy(t, tab, 1)
		t.Logf("the run's command:\n%s", command)
		req := parseCurl(t, command)
		if req.method != "PUT" || req.url != api+"/"+id+"/users/1" || req.body != sc.Request.Body {
			t.Errorf("the run's command sends %s %s with body %q; want PUT %s with %q", req.method, req.url, req.body, api+"/"+id+"/users/1", sc.Request.Body)
		}
		if !slices.Equal(req.headers, []string{"Content-Type: text/plain;charset=UTF-8"}) {
			t.Errorf("the run's command sends the headers %q; want only the Content-Type fetch() gives a text body", req.headers)
		}
		for _, no := range []string{"OPTIONS", "Origin", "Cookie", "Access-Control-Request"} {
			if strings.Contains(command, no) {
				t.Errorf("the run's command holds %q", no)
			}
		}

		// The preflight's own button says what it is, and copies the OPTIONS.
		pre := group + " details.exchange.kind-preflight .copy-button"
		if got := evaluate[string](t, tab, `document.querySelector('`+pre+`').textContent`); got != "Copy exchange as curl" {
			t.Errorf("the preflight's button says %q", got)
		}
		clickOn(t, tab, pre)
		if options := parseCurl(t, lastCopy(t, tab, 2)); options.method != "OPTIONS" {
			t.Errorf("the preflight's button copies %s, want OPTIONS", options.method)
		}

		// Without the clipboard, the same command waits in the run's box.
		evaluate[bool](t, tab, `(navigator.clipboard.writeText = async () => { throw new Error("denied"); }, true)`)
		clickOn(t, tab, group+" .run-curl button")
		// The refusal comes back asynchronously: wait for the box to fill.
		box := `document.querySelector('` + group + ` .run-curl .curl-text')`
		waitFor(t, "the fallback box", func() bool {
			return evaluate[string](t, tab, `(`+box+`?.value ?? "")`) != ""
		})
		if got := evaluate[string](t, tab, box+`.value`); got != command {
			t.Errorf("the fallback box holds\n%s\nwant\n%s", got, command)
		}

		// Run the command as the lesson says: from a terminal.
		sendCurl(t, command, req)
		var goals []lesson.Status
		waitFor(t, "goal put-by-curl", func() bool {
			getJSON(t, ui+"/api/sessions/"+id+"/goals", &goals)
			i := slices.IndexFunc(goals, func(g lesson.Status) bool { return g.ID == "put-by-curl" })
			return i >= 0 && goals[i].Met
		})
		for _, g := range goals {
			if g.ID == "put-stopped" && !g.Met {
				t.Errorf("goal put-stopped is not met by the run")
			}
		}
	})

	t.Run("a redirected GET: the run copies the first request, to the api", func(t *testing.T) {
		tab := newTab(t, browser)
		id := openLab(t, tab, ui+"/lessons/redirects-null-origin")
		catchCopies(t, tab)
		run := clickRun(t, tab, srv, id, 1)
		if len(run.Exchanges) < 2 {
			t.Fatalf("the run made %d exchanges; want the api's redirect and the bucket's answer", len(run.Exchanges))
		}
		group := fmt.Sprintf(`.run-group[data-key="%d"]`, run.ID)
		waitFor(t, "the run's group", func() bool {
			return evaluate[bool](t, tab, `Boolean(document.querySelector('`+group+` .run-curl button'))`)
		})
		clickOn(t, tab, group+" .run-curl button")
		command := lastCopy(t, tab, 1)
		req := parseCurl(t, command)
		// credentials: include, yet no cookie: curl is not the victim's browser.
		if req.method != "GET" || req.url != api+"/"+id+"/files/hello.txt" || len(req.headers) != 0 || req.body != "" {
			t.Errorf("the run's command is\n%s\nwant a plain GET of %s", command, api+"/"+id+"/files/hello.txt")
		}
	})
}

// catchCopies keeps what the page copies in window.copied, whatever the
// clipboard allows.
func catchCopies(t *testing.T, tab context.Context) {
	t.Helper()
	evaluate[bool](t, tab, `(window.copied = [], navigator.clipboard.writeText = async (text) => { window.copied.push(text); }, true)`)
}

// lastCopy waits for the n-th copy and returns it.
func lastCopy(t *testing.T, tab context.Context, n int) string {
	t.Helper()
	var copied []string
	waitFor(t, fmt.Sprintf("copy %d", n), func() bool {
		copied = evaluate[[]string](t, tab, "window.copied")
		return len(copied) >= n
	})
	return copied[n-1]
}

// curlRequest is what a copied curl command sends.
type curlRequest struct {
	method, url, body string
	headers           []string // "Name: value", in order
}

// parseCurl reads a command as curl.js writes it: curl, its flags, words
// in single quotes (a quote inside closes them, is escaped, and reopens
// them) and lines joined with " \".
func parseCurl(t *testing.T, command string) curlRequest {
	t.Helper()
	words, err := shellWords(command)
	if err != nil || len(words) == 0 || words[0] != "curl" {
		t.Fatalf("not a curl command (%v):\n%s", err, command)
	}
	var r curlRequest
	for i := 1; i < len(words); i++ {
		w := words[i]
		next := func() string {
			if i+1 >= len(words) {
				t.Fatalf("%s without a value:\n%s", w, command)
			}
			i++
			return words[i]
		}
		switch {
		case w == "-i":
		case w == "--head":
			r.method = "HEAD"
		case w == "-X":
			r.method = next()
		case w == "-H":
			r.headers = append(r.headers, next())
		case w == "--data-raw":
			r.body = next()
		case strings.HasPrefix(w, "-"):
			t.Fatalf("an unexpected flag %s:\n%s", w, command)
		default:
			r.url = w
		}
	}
	if r.method == "" { // curl's own choice
		r.method = "GET"
		if r.body != "" {
			r.method = "POST"
		}
	}
	return r
}

// shellWords splits a POSIX shell command of plain words, single-quoted
// strings and backslash-newline continuations.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, errors.New("an unclosed quote")
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case c == '\\' && i+1 < len(s) && s[i+1] == '\n':
			i++
		case c == '\\' && i+1 < len(s):
			cur.WriteByte(s[i+1])
			i++
			inWord = true
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case strings.IndexByte("|;&<>()$`\"", c) >= 0:
			return nil, fmt.Errorf("%q is more than a word", c)
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// sendCurl runs command in a shell with curl, as a learner would paste it
// into a terminal, or without curl installed, sends what it says with Go's
// client.
func sendCurl(t *testing.T, command string, r curlRequest) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := exec.LookPath("curl"); err == nil {
		var stderr strings.Builder
		cmd := exec.CommandContext(ctx, "sh", "-c", command)
		cmd.Stderr = &stderr // curl's progress meter, when not on a terminal
		out, err := cmd.Output()
		if err != nil || !strings.HasPrefix(string(out), "HTTP/1.1 200") {
			t.Fatalf("curl: %v\n%s%s", err, out, stderr.String())
		}
		return
	}
	t.Log("no curl here: sending the command's request with Go's client")
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range r.headers {
		name, value, _ := strings.Cut(h, ":")
		req.Header.Set(name, strings.TrimSpace(value))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %s", r.method, r.url, resp.Status)
	}
}
