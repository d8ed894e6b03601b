package playground

import (
	"net/http"
	"strings"
	"testing"

	"github.com/corslab/corslab/lessons"
	"github.com/corslab/corslab/playground/lesson"
)

// Polling a lesson's goals costs what is new, not the whole exchange ring
// (issue 12: each GET /goals decoded up to 1000 exchanges, 40 ms of CPU, and
// one client polling it held most of two cores). On a session with a full
// ring, a poll with nothing new allocates about what any small JSON answer
// does; decoding the ring allocates tens of thousands of times. Allocations
// are counted process-wide, so they include the client's and the server's.
func TestGoalsPollCostsWhatIsNew(t *testing.T) {
	curriculum, err := lesson.Load(lessons.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	cfg := quietConfig(10)
	cfg.Lessons = curriculum
	srv := startServerWith(t, cfg)

	// A lesson with a goal met by an exchange alone, so that every poll
	// must look at the exchanges.
	const slug = "cors-is-not-authorization"
	resp, err := noRedirects.Get(srv.testURL(UI) + "/lessons/" + slug)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id, ok := strings.CutPrefix(resp.Header.Get("Location"), "/lessons/"+slug+"/")
	if resp.StatusCode != http.StatusSeeOther || !ok {
		t.Fatalf("GET /lessons/%s: %d to %q", slug, resp.StatusCode, resp.Header.Get("Location"))
	}
	for range 1000 {
		if status, body := do(t, "GET", srv.testURL(API)+"/"+id+"/users", "", map[string]string{"Origin": srv.testURL(App)}); status != http.StatusOK {
			t.Fatalf("GET /users: %d %s", status, body)
		}
	}
	goals := srv.testURL(UI) + "/api/sessions/" + id + "/goals"
	if status, body := do(t, "GET", goals, "", nil); status != http.StatusOK || strings.Contains(body, `"met":true`) {
		t.Fatalf("GET /goals: %d %s, want every goal unmet", status, body)
	}
	allocs := testing.AllocsPerRun(10, func() { do(t, "GET", goals, "", nil) })
	t.Logf("a poll with nothing new: %.0f allocations", allocs)
	if allocs > 1000 {
		t.Errorf("a poll with nothing new allocates %.0f times: it reads the whole ring again", allocs)
	}
}
