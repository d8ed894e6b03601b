package playground

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// Full buckets cannot fill the memory budget: past their share, object
// writes get S3's 503 SlowDown, the session's next run says corslab
// refused it, and new learners still get sessions.
func TestBucketsTakeOnlyTheirShareOfTheBudget(t *testing.T) {
	cfg := quietConfig(50)
	cfg.MemoryBudget = 32 << 20 // objects may hold 16 MiB
	srv := startServerWith(t, cfg)
	put := func(id, key string, size int) int {
		req, _ := http.NewRequest("PUT", srv.testURL(S3)+"/"+id+"/"+key, bytes.NewReader(make([]byte, size)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	var refused string
	for i := range 5 {
		id := createSession(t, srv, "{}").ID
		for _, key := range []string{"a", "b"} {
			switch status := put(id, key, 4<<20); status {
			case http.StatusOK:
			case http.StatusServiceUnavailable:
				refused = id
			default:
				t.Fatalf("session %d, PUT %s: %d", i, key, status)
			}
		}
	}
	if refused == "" {
		t.Fatalf("40 MiB of objects stored in a 32 MiB budget")
	}
	if stored, share := srv.sessions.Stored(), int64(16<<20); stored > share+4<<20 {
		t.Errorf("buckets hold %d bytes, share %d", stored, share)
	}
	run := `{"request": {"from":"app","target":"s3","method":"PUT","path":"/b","headers":{},"body":"","credentials":"omit","mode":"cors","redirect":"follow"}, "url": "x", "since": 0, "browser": {"ok": false, "error": "TypeError: Failed to fetch"}}`
	status, body := do(t, "POST", srv.testURL(UI)+"/api/sessions/"+refused+"/runs", run, nil)
	var got struct {
		Verdict json.RawMessage `json:"verdict"`
		Refused []struct {
			Status int    `json:"status"`
			Reason string `json:"reason"`
		} `json:"refused"`
	}
	json.Unmarshal([]byte(body), &got)
	if status != http.StatusCreated || len(got.Refused) == 0 || got.Refused[0].Status != 503 ||
		!strings.Contains(got.Refused[0].Reason, "--memory-budget") || string(got.Verdict) != "null" {
		t.Errorf("the run after the refused PUT: %d %s", status, body)
	}
	createSession(t, srv, "{}") // a new learner still gets in
}

// Building a HAR file decodes a whole ring: only harBuilders at once, so
// that a client asking in a loop cannot take the CPU from the class.
func TestHARFilesAreBuiltFewAtATime(t *testing.T) {
	srv := startServer(t, 5)
	id := createSession(t, srv, "{}").ID
	har := srv.testURL(UI) + "/api/sessions/" + id + "/har"
	for range harBuilders {
		srv.harSlots <- struct{}{} // others are being built
	}
	if status, body := do(t, "GET", har, "", nil); status != http.StatusServiceUnavailable || !strings.Contains(body, "try again") {
		t.Errorf("with every builder busy: %d %s", status, body)
	}
	<-srv.harSlots
	if status, _ := do(t, "GET", har, "", nil); status != http.StatusOK {
		t.Errorf("with a builder free: %d", status)
	}
}
