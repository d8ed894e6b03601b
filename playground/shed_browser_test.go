package playground

import (
	"strings"
	"testing"
	"time"

	"github.com/corslab/corslab/internal/browsertest"
	"github.com/corslab/corslab/playground/capture"
	"github.com/corslab/corslab/playground/session"
)

// TestLabSaysOlderTrafficWasDropped fills a small memory budget with one
// learner's traffic: corslab sheds that session's old bodies, and the
// learner's lab page says so, instead of losing them silently.
func TestLabSaysOlderTrafficWasDropped(t *testing.T) {
	browser := browsertest.CDP(t)
	cfg := quietConfig(5)
	cfg.MemoryBudget = 4 << 20
	srv := startServerWith(t, cfg)
	tab := newTab(t, browser)
	id := openLab(t, tab, srv.testURL(UI)+"/lab")
	sess := srv.sessions.Peek(id)
	body := strings.Repeat("<", capture.MaxBody)
	for range 40 { // about 10 MiB of exchanges, as 40 large uploads would be
		sess.Record(&capture.Exchange{Origin: "api", Kind: capture.KindNoOrigin,
			Request:  capture.Message{Method: "POST", Target: "/" + id + "/users", Proto: "HTTP/1.1", Headers: [][2]string{}, Body: body, BodySize: int64(len(body))},
			Response: capture.Message{Proto: "HTTP/1.1", Status: 400, Headers: [][2]string{}, Body: body, BodySize: int64(len(body))},
			Raw:      capture.Raw{Request: "POST /" + id + "/users HTTP/1.1\r\n\r\n" + body, Response: "HTTP/1.1 400 Bad Request\r\n\r\n" + body}})
	}
	if sess.Shed() == 0 {
		t.Fatalf("10 MiB of traffic in a 4 MiB budget was not shed (%d bytes held)", srv.sessions.Budget().Used())
	}
	var status string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		status = evaluate[string](t, tab, `document.querySelector("#run-status").textContent`)
		if strings.Contains(status, "older traffic of this session was dropped") {
			return
		}
	}
	t.Errorf("the lab's status line says %q, want %q", status, session.ShedNotice)
}
