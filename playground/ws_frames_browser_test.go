package playground

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/corslab/corslab/internal/browsertest"
)

// A run through the WebSocket door: the log lists the socket's frames
// under its handshake (static/frames.js), the handshake and the run copy
// as websocat commands, and the diagram draws the messages after the 101.
// A reload, which replays the stream with since=, shows each frame once.
func TestWebSocketFramesInLab(t *testing.T) {
	browser := browsertest.CDP(t)
	srv := startServer(t, 10)
	ui, api := srv.testURL(UI), srv.testURL(API)
	tab := newTab(t, browser)
	id := openLab(t, tab, ui+"/lab")

	// The runner sends request.body as the page's message. A corslab
	// whose scenario refuses a WebSocket body gets a socket without one:
	// the greeting and the closes are still frames both ways.
	message := "hello from the page"
	sc := getScenario(t, srv, id)
	sc.Request.Via, sc.Request.Method, sc.Request.Path, sc.Request.Body = "websocket", "GET", "/socket", message
	if errs := sc.Validate(); len(errs) > 0 {
		t.Logf("the scenario refuses a WebSocket body, so the page sends no message: %v", errs)
		message, sc.Request.Body = "", ""
	}
	putScenario(t, srv, id, sc)
	openLab(t, tab, ui+"/lab/"+id)
	catchCopies(t, tab)
	run := clickRun(t, tab, srv, id, 1)
	group := fmt.Sprintf(`.run-group[data-key="%d"]`, run.ID)
	handshake := group + ` details.exchange:has(.socket-frames)`

	// The frames as the log lists them: "direction|opcode|payload|close".
	framesJS := `[...document.querySelectorAll('` + handshake + ` .frame')].map((f) =>
		[f.classList.contains("to-server") ? "to-server" : "to-page",
		 f.querySelector(".frame-op").textContent,
		 f.querySelector(".frame-payload")?.textContent ?? "",
		 f.querySelector(".frame-close")?.textContent ?? ""].join("|"))`
	var frames []string
	waitFor(t, "the socket's frames, closes both ways included", func() bool {
		frames = evaluate[[]string](t, tab, framesJS)
		closes := 0
		for _, f := range frames {
			if strings.Contains(f, "|close|") {
				closes++
			}
		}
		return closes >= 2
	})
	t.Logf("frames: %q", frames)
	if got := evaluate[string](t, tab, `document.querySelector('`+handshake+` .status').textContent`); !strings.HasPrefix(got, "101") {
		t.Errorf("the frames are under an exchange answered %q, want 101", got)
	}
	has := func(what string, ok func(dir, op, payload string) bool) {
		t.Helper()
		for _, f := range frames {
			p := strings.SplitN(f, "|", 4)
			if ok(p[0], p[1], p[2]) {
				return
			}
		}
		t.Errorf("no frame in the log is %s", what)
	}
	has("the server's greeting", func(dir, op, payload string) bool {
		return dir == "to-page" && op == "text" && strings.Contains(payload, "hello")
	})
	if message != "" {
		has("the page's message", func(dir, op, payload string) bool {
			return dir == "to-server" && op == "text" && payload == message
		})
		has("the echo", func(dir, op, payload string) bool {
			return dir == "to-page" && op == "text" && strings.Contains(payload, message)
		})
	}
	has("the page's close", func(dir, op, _ string) bool { return dir == "to-server" && op == "close" })
	has("the server's close", func(dir, op, _ string) bool { return dir == "to-page" && op == "close" })
	if n := evaluate[int](t, tab, `document.querySelectorAll('`+handshake+` .frame-raw code').length`); n != len(frames) {
		t.Errorf("%d frames have their head in hex, want all %d", n, len(frames))
	}

	// The handshake copies as websocat, with the Origin the browser sent.
	button := handshake + ` .copy-button`
	if got := evaluate[string](t, tab, `document.querySelector('`+button+`').textContent`); got != "Copy as websocat" {
		t.Errorf("the handshake's button says %q", got)
	}
	clickOn(t, tab, button)
	command := lastCopy(t, tab, 1)
	t.Logf("the handshake's command:\n%s", command)
	wsAPI := "ws" + strings.TrimPrefix(api, "http")
	for _, want := range []string{"websocat", "-H 'Origin: " + srv.testURL(App) + "'", "'" + wsAPI + "/" + id + "/socket'"} {
		if !strings.Contains(command, want) {
			t.Errorf("the handshake's command lacks %q", want)
		}
	}
	for _, no := range []string{"curl", "Sec-WebSocket-Key", "Upgrade"} {
		if strings.Contains(command, no) {
			t.Errorf("the handshake's command holds %q", no)
		}
	}
	// The run's own: the socket from a terminal, no Origin.
	if got := evaluate[string](t, tab, `document.querySelector('`+group+` .run-curl button').textContent`); got != "Copy as websocat" {
		t.Errorf("the run's button says %q", got)
	}
	clickOn(t, tab, group+" .run-curl button")
	runCommand := lastCopy(t, tab, 2)
	t.Logf("the run's command:\n%s", runCommand)
	want := "websocat '" + wsAPI + "/" + id + "/socket'"
	if message != "" {
		want = "printf '%s\\n' '" + message + "' | " + want
	}
	if runCommand != want {
		t.Errorf("the run's command is\n%s\nwant\n%s", runCommand, want)
	}

	// The diagram: the messages after the 101, between page and api.
	waitFor(t, "the diagram's message arrows", func() bool {
		return evaluate[int](t, tab, `document.querySelectorAll('#diagram .arrow-group.socket').length`) == min(len(frames), 12)
	})
	labels := evaluate[[]string](t, tab, `[...document.querySelectorAll('#diagram .arrow-group.socket .arrow-label')].map((l) => l.textContent)`)
	t.Logf("arrows: %q", labels)
	if !strings.Contains(strings.Join(labels, "\n"), "close 1000") {
		t.Errorf("no arrow is a close 1000 frame: %q", labels)
	}

	// While the scenario refuses the page a message, a socket from outside
	// the browser sends one: its frames go under its handshake in "Other
	// traffic", the message and its echo included.
	if message == "" {
		const outside = "hello from outside"
		conn, _, err := websocket.DefaultDialer.Dial(wsAPI+"/"+id+"/socket", http.Header{"Origin": {srv.testURL(App)}})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if err := conn.WriteMessage(websocket.TextMessage, []byte(outside)); err != nil {
			t.Fatal(err)
		}
		if err := conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")); err != nil {
			t.Fatal(err)
		}
		// The greeting, the echo, then the server's close answers ours.
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				break
			}
		}
		other := `.other-group details.exchange:has(.socket-frames) .frame`
		waitFor(t, "the outside socket's message and its echo in Other traffic", func() bool {
			return evaluate[int](t, tab, `[...document.querySelectorAll('`+other+` .frame-payload')].filter((p) => p.textContent.includes("`+outside+`")).length`) == 2
		})
		if got := evaluate[string](t, tab, `document.querySelector('`+other+`.to-server .frame-close')?.textContent ?? ""`); got != "code 1000 “bye”" {
			t.Errorf("the outside socket's close says %q, want code 1000 “bye”", got)
		}
		frames = append(frames, evaluate[[]string](t, tab, `[...document.querySelectorAll('`+other+`')].map((f) => f.dataset.seq)`)...)
	}

	// A reload replays exchanges and frames (since=0): each frame once.
	openLab(t, tab, ui+"/lab/"+id)
	seqsJS := `[...document.querySelectorAll('.frame')].map((f) => f.dataset.seq)`
	waitFor(t, "the frames after the reload", func() bool {
		return len(evaluate[[]string](t, tab, seqsJS)) >= len(frames)
	})
	time.Sleep(300 * time.Millisecond) // for a second copy, were there one
	if seqs := evaluate[[]string](t, tab, seqsJS); len(seqs) != len(frames) {
		t.Errorf("after a reload the log lists %d frames, want %d: %q", len(seqs), len(frames), seqs)
	}
}
