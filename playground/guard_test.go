package playground

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/corslab/corslab/playground/ratelimit"
	"github.com/corslab/corslab/playground/session"
)

func TestHostNamesCorslabAnswersTo(t *testing.T) {
	srv := startServerWith(t, Config{
		Listen: "127.0.0.1", MaxSessions: 5, SessionIdle: time.Hour,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), PublicHost: "corslab.lan",
	})
	for _, tc := range []struct {
		host string
		want int
	}{
		{"127.0.0.1", 200},
		{"localhost", 200},
		{"corslab.localhost", 200},
		{"promo.corslab.localhost.", 200},
		{"[::1]", 200},
		{"192.168.1.20", 200},
		{"corslab.lan", 200},
		{"CORSLAB.LAN", 200},
		// DNS rebinding: a name on the internet pointed at this machine.
		{"rebind.attacker.example", http.StatusMisdirectedRequest},
		{"corslab.lan.attacker.example", http.StatusMisdirectedRequest},
		{"localhost.attacker.example", http.StatusMisdirectedRequest},
	} {
		for _, role := range []Role{UI, API} {
			req, _ := http.NewRequest("GET", srv.testURL(role)+"/healthz", nil)
			if role == API {
				req, _ = http.NewRequest("GET", srv.testURL(role)+"/", nil)
			}
			req.Host = tc.host + ":" + strconv.Itoa(srv.Port(role))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("%s on %s: %d, want %d", tc.host, role, resp.StatusCode, tc.want)
			}
			if tc.want != 200 && !strings.Contains(string(body), "--public-host") {
				t.Errorf("%s: the refusal should say how to allow the name: %q", tc.host, body)
			}
		}
	}
}

func TestSessionRateLimit(t *testing.T) {
	srv := startServerWith(t, Config{
		Listen: "127.0.0.1", MaxSessions: 5, SessionIdle: time.Hour,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		SessionRate: ratelimit.Rate{PerSecond: 0.001, Burst: 4},
	})
	flooder := createSession(t, srv, `{}`)
	other := createSession(t, srv, `{}`)
	ws := dialWS(t, srv, flooder.ID, "") // takes one token
	get := func(id string) (*http.Response, string) {
		resp, err := http.Get(srv.testURL(API) + "/" + id + "/users")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	for i := range 3 {
		if resp, _ := get(flooder.ID); resp.StatusCode != 200 {
			t.Fatalf("request %d within the burst: %d", i+1, resp.StatusCode)
		}
	}
	resp, body := get(flooder.ID)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "this session") || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("past the burst: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	// The refused request was not recorded; the pages were told why.
	if seq := srv.sessions.Get(flooder.ID).LastSeq(); seq != 3 {
		t.Errorf("%d exchanges recorded, want the 3 allowed ones", seq)
	}
	var notice struct{ Type, Text string }
	for notice.Type != "notice" {
		ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		if err := ws.ReadJSON(&notice); err != nil {
			t.Fatalf("no notice frame: %v", err)
		}
	}
	if !strings.Contains(notice.Text, "--session-rate") {
		t.Errorf("notice: %q", notice.Text)
	}
	// The JSON API shares the session's budget, and answers in JSON.
	resp, err := http.Get(srv.testURL(UI) + "/api/sessions/" + flooder.ID)
	if err != nil {
		t.Fatal(err)
	}
	var e struct{ Error string }
	json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || e.Error == "" {
		t.Errorf("API past the budget: %d %q", resp.StatusCode, e.Error)
	}
	// Another learner is not affected.
	if resp, _ := get(other.ID); resp.StatusCode != 200 {
		t.Errorf("another session: %d", resp.StatusCode)
	}
}

func TestClientAddressRateLimit(t *testing.T) {
	srv := startServerWith(t, Config{
		Listen: "127.0.0.1", MaxSessions: 5, SessionIdle: time.Hour,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		IPRate: ratelimit.Rate{PerSecond: 0.001, Burst: 5},
	})
	codes := map[int]int{}
	for range 8 {
		resp, err := http.Get(srv.testURL(Evil) + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		codes[resp.StatusCode]++
		if resp.StatusCode == http.StatusTooManyRequests && !strings.Contains(string(body), "--ip-rate") {
			t.Errorf("429 body: %q", body)
		}
	}
	if codes[200] != 5 || codes[429] != 3 {
		t.Errorf("statuses %v: want 5×200 then 3×429", codes)
	}
	// The budget is per address, across every origin.
	resp, err := http.Get(srv.testURL(UI) + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the UI origin after the evil one used the budget: %d", resp.StatusCode)
	}
}

// randomID is a well-formed session id nobody was given.
func randomID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	var b [26]byte
	rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[b[i]%32]
	}
	return string(b[:])
}

func TestLearnersCannotSeeEachOther(t *testing.T) {
	srv := startClassroom(t)
	alice := createSession(t, srv, `{"api":{"allowOrigin":"echo"}}`)
	bob := createSession(t, srv, `{"api":{"allowOrigin":"echo"}}`)
	wsBob := dialWS(t, srv, bob.ID, "since=0")

	// Alice's traffic carries a secret; Bob must never see it.
	req, _ := http.NewRequest("GET", srv.testURL(API)+"/"+alice.ID+"/users", nil)
	req.Header.Set("X-Secret", "alice-only-7f3a")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	// Guesses: random ids, and Alice's id one letter off, cased
	// differently, cut short or padded.
	flip := func(id string) string {
		c := byte('a')
		if id[25] == 'a' {
			c = 'b'
		}
		return id[:25] + string(c)
	}
	guesses := []string{
		randomID(), randomID(), flip(alice.ID), strings.ToUpper(alice.ID),
		alice.ID[:25], alice.ID + "a", "%2e%2e%2f" + alice.ID[:25],
	}
	for _, g := range guesses {
		for _, path := range []string{"/api/sessions/" + g, "/api/sessions/" + g + "/exchanges", "/api/sessions/" + g + "/har", "/api/sessions/" + g + "/runs"} {
			resp, err := http.Get(srv.testURL(UI) + path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 || strings.Contains(string(body), "alice-only") {
				t.Errorf("GET %s: %d %q", path, resp.StatusCode, body)
			}
		}
		u := "ws://127.0.0.1:" + strconv.Itoa(srv.Port(UI)) + "/api/sessions/" + g + "/ws"
		if c, _, err := websocket.DefaultDialer.Dial(u, http.Header{"Origin": {srv.testURL(UI)}}); err == nil {
			c.Close()
			t.Errorf("websocket for guessed id %q opened", g)
		}
		// A request on a virtual origin under a guessed id is nobody's.
		resp, err := http.Get(srv.testURL(API) + "/" + g + "/users")
		if err == nil {
			resp.Body.Close()
		}
	}
	// Bob's stream and exchanges hold none of Alice's traffic.
	resp, err = http.Get(srv.testURL(UI) + "/api/sessions/" + bob.ID + "/exchanges")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "[]\n" {
		t.Errorf("Bob's exchanges: %s", body)
	}
	wsBob.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, msg, err := wsBob.ReadMessage(); err == nil {
		t.Errorf("Bob's websocket got %s", msg)
	}
	if n := srv.sessions.Get(alice.ID).LastSeq(); n != 1 {
		t.Errorf("Alice has %d exchanges, want her 1", n)
	}
	// Sessions are never listed, and the dashboard is the instructor's.
	for _, path := range []string{"/api/sessions", "/teach/api/class", "/teach/learners/" + alice.ID} {
		resp, err := http.Get(srv.testURL(UI) + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 || strings.Contains(string(body), alice.ID) {
			t.Errorf("GET %s: %d, leaks %v", path, resp.StatusCode, strings.Contains(string(body), alice.ID))
		}
	}
}

func TestWatchersPerSessionAreCapped(t *testing.T) {
	srv := startServer(t, 5)
	sess := createSession(t, srv, `{}`)
	for range session.MaxSubscribers {
		dialWS(t, srv, sess.ID, "")
	}
	u := "ws://127.0.0.1:" + strconv.Itoa(srv.Port(UI)) + "/api/sessions/" + sess.ID + "/ws"
	_, resp, err := websocket.DefaultDialer.Dial(u, http.Header{"Origin": {srv.testURL(UI)}})
	if err == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("watcher %d: %v, want 429", session.MaxSubscribers+1, err)
	}
}

func TestShutdownSaysGoodbyeToWebsockets(t *testing.T) {
	srv, err := Listen(Config{
		Listen: "127.0.0.1", MaxSessions: 5, SessionIdle: time.Hour,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), TeachToken: testToken,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()

	var conns []*websocket.Conn
	for range 3 {
		conns = append(conns, dialWS(t, srv, createSession(t, srv, `{}`).ID, ""))
	}
	teach, _, err := websocket.DefaultDialer.Dial("ws://127.0.0.1:"+strconv.Itoa(srv.Port(UI))+"/teach/ws",
		http.Header{"Origin": {srv.testURL(UI)}, "Authorization": {"Bearer " + testToken}})
	if err != nil {
		t.Fatal(err)
	}
	teach.ReadMessage() // the first snapshot
	conns = append(conns, teach)

	start := time.Now()
	cancel()
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Go(func() {
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			for {
				_, _, err := c.ReadMessage()
				if err == nil {
					continue
				}
				var ce *websocket.CloseError
				if !errors.As(err, &ce) || ce.Code != websocket.CloseTryAgainLater && ce.Code != websocket.CloseGoingAway {
					t.Errorf("websocket %d ended with %v, want a close frame", i, err)
				}
				return
			}
		})
	}
	wg.Wait()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("shutting down took %v", d)
	}
}

func TestPanicInAHandlerIsContained(t *testing.T) {
	var logs strings.Builder
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), nil))
	h := recoverer(log, API, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic("boom")
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, path := range []string{"/x", "/y"} { // the second: it still serves
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 500 {
			t.Errorf("GET %s: %d, want 500", path, resp.StatusCode)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "handler panicked") || !strings.Contains(logs.String(), "boom") {
		t.Errorf("log: %q", logs.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
