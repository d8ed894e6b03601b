package playground

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/cors"

	"github.com/corslab/corslab/playground/origins"
)

// postProbe posts body to the session's route (probe or scan) and
// decodes the JSON answer into a generic map.
func postProbe(t *testing.T, srv *Server, id, route, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", srv.testURL(UI)+"/api/sessions/"+id+"/"+route, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	// What the lab's page carries to corslab must never go upstream.
	req.Header.Set("Cookie", "corslab_secret=do-not-forward")
	req.Header.Set("Authorization", "Bearer do-not-forward")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("POST %s: %d, not JSON: %v\n%s", route, resp.StatusCode, err, data)
	}
	return resp.StatusCode, out
}

func probeBody(v map[string]any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// rsCORS is an API behind github.com/rs/cors that allows only
// http://localhost:5173, with credentials, and PUT.
func rsCORS(t *testing.T) *httptest.Server {
	c := cors.New(cors.Options{
		AllowedOrigins:   []string{"http://localhost:5173"},
		AllowedMethods:   []string{"GET", "PUT"},
		AllowedHeaders:   []string{"Content-Type"},
		AllowCredentials: true,
	})
	srv := httptest.NewServer(c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"items":[]}`)
	})))
	t.Cleanup(srv.Close)
	return srv
}

func workshopConfig(t *testing.T, targets string) Config {
	cfg := Config{Listen: "127.0.0.1", MaxSessions: 5, SessionIdle: time.Hour,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Workshop: true}
	if targets != "" {
		tg, err := origins.ParseTargets(targets)
		if err != nil {
			t.Fatal(err)
		}
		cfg.AllowTargets = tg
	}
	return cfg
}

// A probe against a real rs/cors API gives the engine's verdict on the
// real exchanges: the preflight and the PUT, raw, from the allowed origin;
// a refusal at the preflight from another one.
func TestProbeRSCors(t *testing.T) {
	api := rsCORS(t)
	srv := startServer(t, 5)
	sess := createSession(t, srv, "")
	in := map[string]any{
		"url": api.URL + "/api/items", "origin": "http://localhost:5173", "method": "PUT",
		"headers": []map[string]string{{"name": "Content-Type", "value": "application/json"}},
		"body":    `{"name":"x"}`, "credentials": "include", "browser": "firefox",
	}
	status, out := postProbe(t, srv, sess.ID, "probe", probeBody(in))
	if status != 200 {
		t.Fatalf("got %d %v, want 200", status, out)
	}
	if got, want := out["label"], "predicted by corslab's model of Firefox; no browser ran this"; got != want {
		t.Errorf("label %q, want %q", got, want)
	}
	v, _ := out["verdict"].(map[string]any)
	if v == nil || v["ok"] != true || v["browser"] != "firefox" {
		t.Errorf("verdict %v, want ok by Firefox's rules", out["verdict"])
	}
	if steps, _ := v["steps"].([]any); len(steps) == 0 {
		t.Errorf("no steps in the verdict")
	}
	exs, _ := out["exchanges"].([]any)
	if len(exs) != 2 {
		t.Fatalf("%d exchanges, want the preflight and the PUT: %v", len(exs), exs)
	}
	pre, put := exs[0].(map[string]any), exs[1].(map[string]any)
	if pre["preflight"] != true || !strings.HasPrefix(pre["rawRequest"].(string), "OPTIONS /api/items HTTP/1.1\r\n") ||
		!strings.Contains(pre["rawRequest"].(string), "Access-Control-Request-Method: PUT\r\n") ||
		!strings.Contains(pre["rawResponse"].(string), "Access-Control-Allow-Origin: http://localhost:5173\r\n") {
		t.Errorf("the preflight as recorded:\n%s\n%s", pre["rawRequest"], pre["rawResponse"])
	}
	if !strings.HasPrefix(put["rawRequest"].(string), "PUT /api/items HTTP/1.1\r\n") || put["requestBody"] != `{"name":"x"}` ||
		put["status"] != 200.0 || put["responseBody"] != `{"items":[]}` {
		t.Errorf("the PUT as recorded: %v", put)
	}
	for _, ex := range exs {
		if raw := ex.(map[string]any)["rawRequest"].(string); strings.Contains(strings.ToLower(raw), "cookie:") || strings.Contains(raw, "do-not-forward") {
			t.Errorf("a cookie or token went upstream:\n%s", raw)
		}
	}

	in["origin"] = "https://evil.example"
	status, out = postProbe(t, srv, sess.ID, "probe", probeBody(in))
	v, _ = out["verdict"].(map[string]any)
	if status != 200 || v == nil || v["ok"] != false || v["stage"] != "preflight" {
		t.Errorf("from another origin: %d, verdict %v; want blocked at the preflight", status, out["verdict"])
	}
}

// Every field the lab posts is checked, each error naming its field and
// the rule; nothing is sent then.
func TestProbeValidation(t *testing.T) {
	var hits sync.Map
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Store(r.URL.Path, true) }))
	t.Cleanup(upstream.Close)
	srv := startServer(t, 5)
	sess := createSession(t, srv, "")
	cases := []struct {
		route string
		in    map[string]any
		field string
		rule  string
	}{
		{"probe", map[string]any{"url": "ftp://x/a", "origin": "http://a.test"}, "url", "http or https"},
		{"probe", map[string]any{"url": upstream.URL + "/1", "origin": "http://a.test/path"}, "origin", "no path"},
		{"probe", map[string]any{"url": upstream.URL + "/2"}, "origin", "required"},
		{"probe", map[string]any{"url": upstream.URL + "/3", "origin": "null", "method": "GE T"}, "method", "token"},
		{"probe", map[string]any{"url": upstream.URL + "/4", "origin": "null", "headers": []map[string]string{{"name": "X Bad", "value": "1"}}}, "headers", "token"},
		{"probe", map[string]any{"url": upstream.URL + "/5", "origin": "null", "body": "x"}, "body", "GET"},
		{"probe", map[string]any{"url": upstream.URL + "/6", "origin": "null", "credentials": "always"}, "credentials", "omit, same-origin or include"},
		{"probe", map[string]any{"url": upstream.URL + "/7", "origin": "null", "redirect": "never"}, "redirect", "follow, error or manual"},
		{"probe", map[string]any{"url": upstream.URL + "/8", "origin": "null", "browser": "ie6"}, "browser", "chromium, firefox or webkit"},
		{"probe", map[string]any{"url": upstream.URL + "/9", "origin": "null", "method": "POST", "body": strings.Repeat("x", maxProbeBody+1)}, "body", "at most"},
		{"scan", map[string]any{"url": upstream.URL + "/10", "origin": "null"}, "origin", "not null"},
		{"scan", map[string]any{"url": "/relative", "origin": "http://a.test"}, "url", "absolute"},
	}
	for _, c := range cases {
		status, out := postProbe(t, srv, sess.ID, c.route, probeBody(c.in))
		errs, _ := out["errors"].(map[string]any)
		msg, _ := errs[c.field].(string)
		if status != 400 || !strings.Contains(msg, c.rule) {
			t.Errorf("%s %v: got %d %v, want 400 naming %s: %q", c.route, c.in, status, out, c.field, c.rule)
		}
	}
	// A field the route does not take, and malformed JSON.
	for _, body := range []string{`{"url": "http://a.test", "origin": "http://b.test", "credentials": "include"}`, `{"url": `} {
		status, out := postProbe(t, srv, sess.ID, "scan", body)
		if status != 400 || out["error"] == nil {
			t.Errorf("scan %s: got %d %v, want 400 with an error", body, status, out)
		}
	}
	hits.Range(func(k, _ any) bool {
		t.Errorf("an invalid probe sent %s upstream", k)
		return true
	})
}

// In workshop mode the probe and the scan are off without
// --allow-targets, and with it they reach only what it allows: not
// another address, and not through a redirect.
func TestProbeWorkshop(t *testing.T) {
	api := rsCORS(t)
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// To the rs/cors API under another name: localhost, not 127.0.0.1.
		// The redirect itself passes the CORS check, so the browser would
		// follow it.
		w.Header().Set("Access-Control-Allow-Origin", "*")
		http.Redirect(w, r, strings.Replace(api.URL, "127.0.0.1", "localhost", 1)+"/api/items", http.StatusFound)
	}))
	t.Cleanup(redirect.Close)
	probe := map[string]any{"url": api.URL + "/api/items", "origin": "http://localhost:5173"}

	t.Run("off without --allow-targets", func(t *testing.T) {
		srv := startServerWith(t, workshopConfig(t, ""))
		sess := createSession(t, srv, "")
		var st probeStatus
		getJSON(t, srv.testURL(UI)+"/api/sessions/"+sess.ID+"/probe", &st)
		if st.On || !strings.Contains(st.Off, "--allow-targets") {
			t.Errorf("status %+v, want off, saying how to turn it on", st)
		}
		for _, route := range []string{"probe", "scan"} {
			status, out := postProbe(t, srv, sess.ID, route, probeBody(probe))
			if status != 403 || out["refusedBy"] != "corslab" || !strings.Contains(out["error"].(string), "open proxy") {
				t.Errorf("%s: got %d %v, want corslab's 403", route, status, out)
			}
		}
	})
	t.Run("an address --allow-targets does not allow is refused", func(t *testing.T) {
		srv := startServerWith(t, workshopConfig(t, "192.0.2.0/24"))
		sess := createSession(t, srv, "")
		status, out := postProbe(t, srv, sess.ID, "probe", probeBody(probe))
		if status != 403 || out["refusedBy"] != "corslab" || !strings.Contains(out["error"].(string), "--allow-targets") || out["verdict"] != nil {
			t.Errorf("got %d %v, want corslab's 403 naming --allow-targets, no verdict", status, out)
		}
		status, out = postProbe(t, srv, sess.ID, "scan", probeBody(probe))
		if status != 403 || out["refusedBy"] != "corslab" {
			t.Errorf("scan: got %d %v, want corslab's 403", status, out)
		}
	})
	t.Run("allowed, and a redirect elsewhere is not followed", func(t *testing.T) {
		srv := startServerWith(t, workshopConfig(t, "127.0.0.1"))
		sess := createSession(t, srv, "")
		if status, out := postProbe(t, srv, sess.ID, "probe", probeBody(probe)); status != 200 || out["verdict"] == nil {
			t.Fatalf("an allowed target: got %d %v, want 200 with a verdict", status, out)
		}
		status, out := postProbe(t, srv, sess.ID, "probe", probeBody(map[string]any{"url": redirect.URL + "/go", "origin": "http://localhost:5173"}))
		exs, _ := out["exchanges"].([]any)
		if status != 403 || out["refusedBy"] != "corslab" || len(exs) != 1 {
			t.Errorf("a redirect to localhost: got %d %v, want corslab's 403 after the one exchange", status, out)
		}
	})
}

// At most Config.ProbeSlots probes run at once on the server: one more
// is refused with corslab's 503, not a verdict.
func TestProbeGlobalCap(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-release
	}))
	t.Cleanup(slow.Close)
	cfg := Config{Listen: "127.0.0.1", MaxSessions: 5, SessionIdle: time.Hour,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), ProbeSlots: 1}
	srv := startServerWith(t, cfg)
	a, b := createSession(t, srv, ""), createSession(t, srv, "")
	defer close(release) // before the server's clean-up waits for the probe
	body := probeBody(map[string]any{"url": slow.URL + "/", "origin": "http://localhost:5173"})
	go func() {
		req, _ := http.NewRequest("POST", srv.testURL(UI)+"/api/sessions/"+a.ID+"/probe", bytes.NewReader([]byte(body)))
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	<-started
	status, out := postProbe(t, srv, b.ID, "scan", body)
	if status != 503 || out["refusedBy"] != "corslab" || !strings.Contains(out["error"].(string), "busy") || out["verdict"] != nil {
		t.Errorf("with the one slot taken: got %d %v, want corslab's 503", status, out)
	}
}

// Each session may start probeRate.Burst probes in a row, then is told to
// wait, with Retry-After.
func TestProbeSessionRate(t *testing.T) {
	api := rsCORS(t)
	srv := startServer(t, 5)
	sess := createSession(t, srv, "")
	body := probeBody(map[string]any{"url": api.URL + "/", "origin": "http://localhost:5173"})
	for i := range probeRate.Burst {
		if status, out := postProbe(t, srv, sess.ID, "probe", body); status != 200 {
			t.Fatalf("probe %d: %d %v", i+1, status, out)
		}
	}
	status, out := postProbe(t, srv, sess.ID, "probe", body)
	if status != 429 || out["refusedBy"] != "corslab" {
		t.Errorf("one probe too many: got %d %v, want corslab's 429", status, out)
	}
	other := createSession(t, srv, "")
	if status, _ := postProbe(t, srv, other.ID, "probe", body); status != 200 {
		t.Errorf("another session was limited too: %d", status)
	}
}

// The lab's scan finds a planted misconfiguration: an rs/cors API that
// reflects any origin, with credentials.
func TestScanFindsReflection(t *testing.T) {
	c := cors.New(cors.Options{
		AllowOriginFunc:  func(string) bool { return true },
		AllowCredentials: true,
	})
	api := httptest.NewServer(c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "secret") })))
	t.Cleanup(api.Close)
	srv := startServer(t, 5)
	sess := createSession(t, srv, "")
	status, out := postProbe(t, srv, sess.ID, "scan", probeBody(map[string]any{"url": api.URL + "/me", "origin": "https://app.example.com"}))
	if status != 200 {
		t.Fatalf("got %d %v", status, out)
	}
	var found map[string]any
	for _, f := range out["findings"].([]any) {
		if f := f.(map[string]any); f["id"] == "reflects-any-origin-with-credentials" {
			found = f
		}
	}
	if found == nil || found["severity"] != "high" || found["fix"] == "" {
		t.Fatalf("findings %v, want reflects-any-origin-with-credentials, high, with a fix", out["findings"])
	}
	ev := found["evidence"].([]any)[0].(map[string]any)
	if !strings.Contains(ev["rawResponse"].(string), "Access-Control-Allow-Origin: https://corslab-scan.invalid") {
		t.Errorf("evidence:\n%s", ev["rawResponse"])
	}
	if !strings.Contains(out["label"].(string), "no browser ran this") {
		t.Errorf("label %q", out["label"])
	}
}
