package playground

import (
	"html"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/corslab/corslab/lessons"
	"github.com/corslab/corslab/playground/lesson"
	"github.com/corslab/corslab/playground/scenario"
)

// getAs sends GET u with a Host header of host (the browser's name for the
// server), without following redirects.
func getAs(t *testing.T, u, host string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// The runner page takes orders from the lab's origin only. A look-alike
// page lives on another host name than the lab, so the lab names itself
// with ?ui=, and the runner accepts only origins that corslab's lab serves.
func TestRunnerUI(t *testing.T) {
	srv := startServer(t, 1)
	ui, app := strconv.Itoa(srv.Port(UI)), strconv.Itoa(srv.Port(App))
	runner := srv.testURL(App) + "/_corslab/runner"
	tests := []struct {
		desc   string
		host   string // the runner's Host
		query  string
		status int
		want   string // data-ui-origin, when 200
		role   string
	}{
		{"no ui: the lab on the runner's own host", "127.0.0.1:" + app, "", 200, "http://127.0.0.1:" + ui, "app"},
		{"the lab's own origin, named", "127.0.0.1:" + app, "ui=http://127.0.0.1:" + ui, 200, "http://127.0.0.1:" + ui, "app"},
		{"a look-alike host, the lab on 127.0.0.1", "app-corslab.localhost:" + app, "ui=http%3A%2F%2F127.0.0.1%3A" + ui, 200, "http://127.0.0.1:" + ui, "lookalike"},
		{"a look-alike host, the lab on corslab.localhost", "promo.corslab.localhost:" + app, "ui=http://corslab.localhost:" + ui, 200, "http://corslab.localhost:" + ui, "lookalike"},
		{"a look-alike host, the lab on [::1]", "x.localhost:" + app, "ui=http://[::1]:" + ui, 200, "http://[::1]:" + ui, "lookalike"},
		{"another port than the lab's", "app-corslab.localhost:" + app, "ui=http://127.0.0.1:" + app, 400, "", ""},
		{"a host that is not loopback", "app-corslab.localhost:" + app, "ui=http://attacker.example:" + ui, 400, "", ""},
		{"a loopback lab for a runner on a LAN address", "192.168.1.5:" + app, "ui=http://127.0.0.1:" + ui, 400, "", ""},
		{"the LAN address's own lab", "192.168.1.5:" + app, "ui=http://192.168.1.5:" + ui, 200, "http://192.168.1.5:" + ui, "app"},
		{"a path after the origin", "127.0.0.1:" + app, "ui=http://127.0.0.1:" + ui + "/lab", 400, "", ""},
		{"https", "127.0.0.1:" + app, "ui=https://127.0.0.1:" + ui, 400, "", ""},
		{"a user name", "127.0.0.1:" + app, "ui=http://a@127.0.0.1:" + ui, 400, "", ""},
		{"upper case, which no browser serializes", "localhost:" + app, "ui=http://LOCALHOST:" + ui, 400, "", ""},
		{"no port", "127.0.0.1:" + app, "ui=http://127.0.0.1", 400, "", ""},
		{"given twice", "127.0.0.1:" + app, "ui=http://127.0.0.1:" + ui + "&ui=http://127.0.0.1:" + ui, 400, "", ""},
		{"not a URL", "127.0.0.1:" + app, "ui=%25", 400, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			u := runner
			if tt.query != "" {
				u += "?" + tt.query
			}
			resp, body := getAs(t, u, tt.host)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.status != 200 {
				return
			}
			if got := `data-ui-origin="` + tt.want + `"`; !strings.Contains(html.UnescapeString(body), got) {
				t.Errorf("the page does not carry %s:\n%s", got, body)
			}
			if got := `data-role="` + tt.role + `"`; !strings.Contains(body, got) {
				t.Errorf("the page does not carry %s", got)
			}
		})
	}
}

// The engine judges a look-alike run by the look-alike's origin: its host,
// on the app's port.
func TestPageOrigin(t *testing.T) {
	o := originSet{host: "127.0.0.1", ports: &[numRoles]int{8080, 8081, 8082, 8083, 8084}}
	tests := []struct {
		req  scenario.Request
		want string
	}{
		{scenario.Request{From: "app"}, "http://127.0.0.1:8081"},
		{scenario.Request{From: "evil"}, "http://127.0.0.1:8084"},
		{scenario.Request{From: "api"}, "http://127.0.0.1:8082"},
		{scenario.Request{From: "sandbox"}, "null"},
		// app's other frames: data: is opaque; srcdoc and a sandbox with
		// allow-same-origin keep app's origin.
		{scenario.Request{From: "data"}, "null"},
		{scenario.Request{From: "srcdoc"}, "http://127.0.0.1:8081"},
		{scenario.Request{From: "sandbox-same-origin"}, "http://127.0.0.1:8081"},
		{scenario.Request{From: "lookalike", LookalikeHost: "app-corslab.localhost"}, "http://app-corslab.localhost:8081"},
	}
	for _, tt := range tests {
		if got := o.pageOrigin(tt.req); got != tt.want {
			t.Errorf("pageOrigin(%+v) = %q, want %q", tt.req, got, tt.want)
		}
	}
	for h, want := range map[string]bool{
		"localhost": true, "corslab.localhost": true, "LOCALHOST.": true, "127.0.0.1": true, "127.1.2.3": true,
		"::1": true, "[::1]": true, "192.168.1.5": false, "localhost.example": false, "notlocalhost": false,
	} {
		if got := isLoopbackHost(h); got != want {
			t.Errorf("isLoopbackHost(%q) = %v, want %v", h, got, want)
		}
	}
}

// A lesson with a host moves a browser on another loopback host there, and
// leaves one on a LAN address where it is.
func TestLessonMovesToItsHost(t *testing.T) {
	curriculum, err := lesson.Load(lessons.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	srv := startLessonServer(t, curriculum)
	ui := strconv.Itoa(srv.Port(UI))
	base := srv.testURL(UI)
	tests := []struct {
		host, path, want string // want: the Location, "" for no move
	}{
		{"127.0.0.1:" + ui, "/lessons/allowlist-bypass?run=1", "http://corslab.localhost:" + ui + "/lessons/allowlist-bypass?run=1#home=http://127.0.0.1:" + ui},
		{"localhost:" + ui, "/embed/allowlist-bypass", "http://corslab.localhost:" + ui + "/embed/allowlist-bypass#home=http://localhost:" + ui},
		{"127.0.0.1:" + ui, "/lessons/allowlist-bypass/abc", "http://corslab.localhost:" + ui + "/lessons/allowlist-bypass/abc#home=http://127.0.0.1:" + ui},
		{"corslab.localhost:" + ui, "/lessons/allowlist-bypass", ""},
		{"192.168.1.5:" + ui, "/lessons/allowlist-bypass", ""},
		{"127.0.0.1:" + ui, "/lessons/simple-requests", ""},
	}
	for _, tt := range tests {
		resp, _ := getAs(t, base+tt.path, tt.host)
		loc := resp.Header.Get("Location")
		if tt.want != "" && (resp.StatusCode != http.StatusFound || loc != tt.want) {
			t.Errorf("%s on %s: %d to %q, want 302 to %q", tt.path, tt.host, resp.StatusCode, loc, tt.want)
		}
		if tt.want == "" {
			if u, err := url.Parse(loc); err != nil || u.Host != "" {
				t.Errorf("%s on %s: %d to %q, want no move to another host", tt.path, tt.host, resp.StatusCode, loc)
			}
		}
	}
}
