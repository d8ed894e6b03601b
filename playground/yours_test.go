package playground

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/corslab/corslab/playground/origins"
)

// The yours origin as corslab wires it: on loopback it forwards and
// captures; in workshop mode it is off unless --allow-targets names the
// upstream, and a refusal is noted in the session for its run.
func TestYoursOrigin(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		io.WriteString(w, "upstream saw "+r.Host+" "+r.URL.RequestURI())
	}))
	t.Cleanup(upstream.Close)
	upHost := strings.TrimPrefix(upstream.URL, "http://")
	scenarioJSON := `{"request": {"target": "yours"}, "yours": {"baseUrl": "` + upstream.URL + `/v1"}}`

	get := func(t *testing.T, u string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Origin", "http://127.0.0.1:1")
		req.Header.Set("Cookie", "login=corslab")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	workshop := func(targets string) Config {
		cfg := Config{Listen: "127.0.0.1", MaxSessions: 5, SessionIdle: time.Hour, Logger: logger, Workshop: true}
		if targets != "" {
			tg, err := origins.ParseTargets(targets)
			if err != nil {
				t.Fatal(err)
			}
			cfg.AllowTargets = tg
		}
		return cfg
	}

	t.Run("on loopback it forwards, and the exchange is captured", func(t *testing.T) {
		srv := startServer(t, 5)
		sess := createSession(t, srv, scenarioJSON)
		if got, want := sess.Origins["yours"], srv.testURL(Yours)+"/"+sess.ID; got != want {
			t.Errorf("the session's yours base is %q, want %q", got, want)
		}
		status, body := get(t, srv.testURL(Yours)+"/"+sess.ID+"/users?limit=2")
		if want := "upstream saw " + upHost + " /v1/users?limit=2"; status != 200 || body != want {
			t.Errorf("got %d %q, want 200 %q", status, body, want)
		}
		var exs []struct {
			Origin string `json:"origin"`
		}
		waitFor(t, "the exchange", func() bool {
			getJSON(t, srv.testURL(UI)+"/api/sessions/"+sess.ID+"/exchanges", &exs)
			return len(exs) == 1
		})
		if exs[0].Origin != "yours" {
			t.Errorf("captured on %q, want yours", exs[0].Origin)
		}
	})
	t.Run("in a workshop without --allow-targets it is off", func(t *testing.T) {
		srv := startServerWith(t, workshop(""))
		sess := createSession(t, srv, scenarioJSON)
		status, body := get(t, srv.testURL(Yours)+"/"+sess.ID+"/users")
		if status != 403 || !strings.Contains(body, "--allow-targets") || !strings.Contains(body, "open proxy") {
			t.Errorf("got %d %q, want 403 saying why and how to turn it on", status, body)
		}
		// The run that made the request is told corslab refused it.
		run := postYoursRun(t, srv, sess.ID)
		if len(run.Refused) != 1 || run.Refused[0].Status != 403 || run.Refused[0].Origin != "yours" || run.Verdict != nil {
			t.Errorf("the run: refused %+v, verdict %v; want corslab's 403 and no verdict", run.Refused, run.Verdict)
		}
	})
	t.Run("in a workshop it reaches what --allow-targets names", func(t *testing.T) {
		srv := startServerWith(t, workshop("127.0.0.1"))
		sess := createSession(t, srv, scenarioJSON)
		if status, body := get(t, srv.testURL(Yours)+"/"+sess.ID+"/users"); status != 200 || !strings.HasPrefix(body, "upstream saw") {
			t.Errorf("got %d %q, want the upstream's answer", status, body)
		}
	})
	t.Run("in a workshop it refuses what --allow-targets does not name", func(t *testing.T) {
		srv := startServerWith(t, workshop("api.example.com,10.0.0.0/8"))
		sess := createSession(t, srv, scenarioJSON)
		if status, body := get(t, srv.testURL(Yours)+"/"+sess.ID+"/users"); status != 403 || !strings.Contains(body, "127.0.0.1 is not among") {
			t.Errorf("got %d %q, want 403 naming the address", status, body)
		}
	})
}

// postedRun is what POST /runs answers, as far as these tests read it.
type postedRun struct {
	Refused []struct {
		Origin string `json:"origin"`
		Status int    `json:"status"`
	} `json:"refused"`
	Verdict *json.RawMessage `json:"verdict"`
}

// postYoursRun posts a run of a GET to yours that started before any
// exchange, as the lab page would after the browser's fetch failed.
func postYoursRun(t *testing.T, srv *Server, id string) postedRun {
	t.Helper()
	body := `{"request": {"from":"app","target":"yours","method":"GET","path":"/users","headers":{},"body":"","credentials":"omit","mode":"cors","redirect":"follow"},` +
		`"url": "` + srv.testURL(Yours) + "/" + id + `/users", "since": 0, "browser": {"ok": false, "error": "TypeError: Failed to fetch"}}`
	resp, err := http.Post(srv.testURL(UI)+"/api/sessions/"+id+"/runs", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var run postedRun
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("POST runs: %d %s", resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(&run); err != nil {
		t.Fatal(err)
	}
	return run
}
