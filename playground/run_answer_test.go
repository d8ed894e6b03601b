package playground

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// The answer to POST /runs is the run as the session keeps it (and as its
// pages receive it), with the score added: one encoding for both.
func TestRunAnswerIsTheKeptRun(t *testing.T) {
	srv := startServer(t, 5)
	sess := createSession(t, srv, `{"api": {"allowOrigin": "echo"}}`)
	base := srv.testURL(UI) + "/api/sessions/" + sess.ID
	run := `{"request": {"from": "app", "target": "api", "method": "GET", "path": "/users", "headers": {}, "body": "",
		"credentials": "omit", "mode": "cors", "redirect": "follow"}, "url": "x", "since": 0,
		"browser": {"ok": false, "error": "TypeError: Failed to fetch", "body": "<b>&</b>"}, "prediction": {"ok": false}}`
	resp, err := http.Post(base+"/runs", "application/json", strings.NewReader(run))
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Content-Type") != "application/json" ||
		resp.Header.Get("Content-Length") != strconv.Itoa(len(answer)) {
		t.Fatalf("POST /runs: %d %q, Content-Length %q for %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"),
			resp.Header.Get("Content-Length"), len(answer))
	}
	var kept []json.RawMessage
	getJSON(t, base+"/runs", &kept)
	if len(kept) != 1 {
		t.Fatalf("GET /runs: %d runs, want 1", len(kept))
	}
	want := string(kept[0][:len(kept[0])-1]) + `,"score":{"right":1,"total":1}}` + "\n"
	if string(answer) != want {
		t.Errorf("POST /runs answered\n%s\nwant the kept run with the score\n%s", answer, want)
	}
	var decoded struct {
		ID      int
		Browser struct{ Body string }
		Score   struct{ Right, Total int }
	}
	if err := json.Unmarshal(answer, &decoded); err != nil || decoded.ID != 1 || decoded.Browser.Body != "<b>&</b>" || decoded.Score.Total != 1 {
		t.Errorf("the answer reads as %+v, %v", decoded, err)
	}
}
