package origins

import (
	"bytes"
	"context"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/corslab/corslab/playground/scenario"
)

// Every door answers through the session's CORS policy, with its own
// Content-Type, to GET and (but /events) HEAD.
func TestDoorsApplyPolicy(t *testing.T) {
	s, do := newAPI(t, func(a *scenario.API) {
		a.AllowOrigin = "echo"
		a.AllowCredentials = true
		a.ExposeHeaders = "X-Door"
		a.Vary = true
	})
	origin := "http://127.0.0.1:8081"
	tests := []struct {
		desc, method, path, body string
		wantStatus               int
		wantType                 string
	}{
		{"the image", "GET", "/image.png", "", 200, "image/png"},
		{"the image's head", "HEAD", "/image.png", "", 200, "image/png"},
		{"the script", "GET", "/script.js", "", 200, "text/javascript"},
		{"the script's head", "HEAD", "/script.js", "", 200, "text/javascript"},
		{"the stylesheet", "GET", "/style.css", "", 200, "text/css"},
		{"the stylesheet's head", "HEAD", "/style.css", "", 200, "text/css"},
		{"the font", "GET", "/font.ttf", "", 200, "font/ttf"},
		{"the font's head", "HEAD", "/font.ttf", "", 200, "font/ttf"},
		{"the event stream", "GET", "/events", "", 200, "text/event-stream"},
		{"a beacon", "POST", "/collect", `{"page":"/"}`, 204, ""},
		{"a POST to the image is refused", "POST", "/image.png", "", 405, "application/json"},
		{"a GET of /collect is refused", "GET", "/collect", "", 405, "application/json"},
		{"a POST to /events is refused", "POST", "/events", "", 405, "application/json"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, "http://127.0.0.1:8082/"+s.ID+tt.path, strings.NewReader(tt.body))
		r.Header.Set("Origin", origin)
		resp := do(r)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != tt.wantStatus {
			t.Errorf("%s: status %d, want %d (%s)", tt.desc, resp.StatusCode, tt.wantStatus, body)
		}
		if got := resp.Header.Get("Content-Type"); got != tt.wantType {
			t.Errorf("%s: Content-Type %q, want %q", tt.desc, got, tt.wantType)
		}
		for k, want := range map[string]string{
			"Access-Control-Allow-Origin":      origin,
			"Access-Control-Allow-Credentials": "true",
			"Access-Control-Expose-Headers":    "X-Door",
			"Vary":                             "Origin",
			"Cache-Control":                    "no-store",
		} {
			if got := resp.Header.Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", tt.desc, k, got, want)
			}
		}
		if tt.method == "HEAD" && len(body) != 0 {
			t.Errorf("%s: a HEAD answered with a %d-byte body", tt.desc, len(body))
		}
	}

	// A preflight to a door is answered by the policy too, as for any
	// api endpoint (a fetch() of the font with a custom header, say).
	r := httptest.NewRequest("OPTIONS", "http://127.0.0.1:8082/"+s.ID+"/font.ttf", nil)
	r.Header.Set("Origin", origin)
	r.Header.Set("Access-Control-Request-Method", "GET")
	if resp := do(r); resp.Header.Get("Access-Control-Allow-Origin") != origin {
		t.Errorf("a preflight to /font.ttf: ACAO %q, want %q", resp.Header.Get("Access-Control-Allow-Origin"), origin)
	}
}

// A policy that allows nothing sends no CORS headers on the doors either:
// the doors are not a way around it.
func TestDoorsWithoutCORS(t *testing.T) {
	s, do := newAPI(t, func(a *scenario.API) { a.AllowOrigin = "" })
	for _, path := range []string{"/image.png", "/script.js", "/style.css", "/font.ttf", "/events"} {
		r := httptest.NewRequest("GET", "http://127.0.0.1:8082/"+s.ID+path, nil)
		r.Header.Set("Origin", "http://127.0.0.1:8084")
		resp := do(r)
		if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s: %d, ACAO %q; want 200 and none", path, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}
	}
}

func getDoor(t *testing.T, do func(*http.Request) *http.Response, id, path string) []byte {
	t.Helper()
	resp := do(httptest.NewRequest("GET", "http://127.0.0.1:8082/"+id+path, nil))
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	if got := resp.Header.Get("Content-Length"); got != "" && got != strconv.Itoa(len(body)) {
		t.Errorf("GET %s: Content-Length %s, body %d bytes", path, got, len(body))
	}
	return body
}

func TestDoorImage(t *testing.T) {
	s, do := newAPI(t, func(*scenario.API) {})
	body := getDoor(t, do, s.ID, "/image.png")
	img, err := png.Decode(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != ImageWidth || b.Dy() != ImageHeight || ImageWidth != 120 || ImageHeight != 60 {
		t.Errorf("the image is %d×%d, want 120×60", b.Dx(), b.Dy())
	}
	top, bottom := img.At(0, 0), img.At(0, ImageHeight-1)
	if _, _, _, a := top.RGBA(); a != 0xFFFF {
		t.Errorf("the image is not opaque: alpha %#x", a)
	}
	if top == bottom {
		t.Errorf("the image's two bands are one colour, %v", top)
	}
	if len(body) > 1000 {
		t.Errorf("the image is %d bytes; a few hundred at most", len(body))
	}
}

func TestDoorScript(t *testing.T) {
	s, do := newAPI(t, func(*scenario.API) {})
	body := string(getDoor(t, do, s.ID, "/script.js"))
	// Its one statement is the throw: it sets nothing on window first.
	var code []string
	for _, line := range strings.Split(body, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "//") {
			code = append(code, line)
		}
	}
	if want := `throw new Error("` + ScriptErrorMessage + `");`; len(code) != 1 || code[0] != want {
		t.Errorf("the script's code is %q, want only %q", code, want)
	}
}

func TestDoorStyle(t *testing.T) {
	s, do := newAPI(t, func(*scenario.API) {})
	body := string(getDoor(t, do, s.ID, "/style.css"))
	if want := ".corslab-door-probe { width: 123px; }"; !strings.Contains(body, want) || StyleProbeClass != "corslab-door-probe" || StyleProbeWidth != 123 {
		t.Errorf("the stylesheet lacks %q:\n%s", want, body)
	}
}

func TestDoorFont(t *testing.T) {
	s, do := newAPI(t, func(*scenario.API) {})
	if body := getDoor(t, do, s.ID, "/font.ttf"); !bytes.Equal(body, fontTTF()) {
		t.Error("GET /font.ttf is not the font")
	} else if _, err := parseSFNT(body); err != nil {
		t.Error(err)
	}
}

// sseEvents splits an event stream into its events' data lines.
func sseEvents(stream string) (retry string, data []string) {
	for _, block := range strings.Split(strings.TrimSuffix(stream, "\n\n"), "\n\n") {
		for _, line := range strings.Split(block, "\n") {
			if v, ok := strings.CutPrefix(line, "retry: "); ok {
				retry = v
			}
			if v, ok := strings.CutPrefix(line, "data: "); ok {
				data = append(data, v)
			}
		}
	}
	return retry, data
}

func TestDoorEvents(t *testing.T) {
	s, do := newAPI(t, func(*scenario.API) {})
	base := "http://127.0.0.1:8082/" + s.ID

	start := time.Now()
	resp := do(httptest.NewRequest("GET", base+"/events", nil))
	took := time.Since(start)
	body, _ := io.ReadAll(resp.Body)
	retry, data := sseEvents(string(body))
	if resp.StatusCode != 200 || retry != "60000" {
		t.Errorf("status %d, retry %q; want 200 and 60000:\n%s", resp.StatusCode, retry, body)
	}
	want := []string{`{"n":1,"user":null}`, `{"n":2,"user":null}`, `{"n":3,"user":null}`}
	if strings.Join(data, "|") != strings.Join(want, "|") {
		t.Errorf("events %q, want %q", data, want)
	}
	if took < 2*eventGap || took > 2*time.Second {
		t.Errorf("the stream took %v; want about %v", took, 2*eventGap)
	}

	// With the login cookie, the events name the user.
	login := do(httptest.NewRequest("POST", base+"/login", strings.NewReader(`{"username":"grace"}`)))
	r := httptest.NewRequest("GET", base+"/events", nil)
	for _, c := range login.Cookies() {
		r.AddCookie(c)
	}
	body, _ = io.ReadAll(do(r).Body)
	if _, data := sseEvents(string(body)); len(data) != 3 || data[0] != `{"n":1,"user":"grace"}` {
		t.Errorf("logged in, events %q", data)
	}
}

// The stream stops when its client goes.
func TestDoorEventsStopsWithClient(t *testing.T) {
	s, do := newAPI(t, func(*scenario.API) {})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(eventGap/2, cancel)
	start := time.Now()
	resp := do(httptest.NewRequestWithContext(ctx, "GET", "http://127.0.0.1:8082/"+s.ID+"/events", nil))
	body, _ := io.ReadAll(resp.Body)
	if _, data := sseEvents(string(body)); len(data) != 1 {
		t.Errorf("after the client went: %d events, want 1 (sent before it went)", len(data))
	}
	if took := time.Since(start); took >= eventGap {
		t.Errorf("the stream took %v after its client went", took)
	}
}

func TestDoorCollect(t *testing.T) {
	s, do := newAPI(t, func(*scenario.API) {})
	url := "http://127.0.0.1:8082/" + s.ID + "/collect"
	tests := []struct {
		desc       string
		size       int
		wantStatus int
	}{
		{"an empty beacon", 0, 204},
		{"a beacon of exactly 64 KiB", 64 << 10, 204},
		{"a beacon one byte over", 64<<10 + 1, 413},
	}
	for _, tt := range tests {
		resp := do(httptest.NewRequest("POST", url, strings.NewReader(strings.Repeat("a", tt.size))))
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != tt.wantStatus {
			t.Errorf("%s: %d, want %d", tt.desc, resp.StatusCode, tt.wantStatus)
		}
		if tt.wantStatus == 413 && !strings.Contains(string(body), `"error"`) {
			t.Errorf("%s: body %q, want a JSON error", tt.desc, body)
		}
	}
}

// The catch-all names the doors.
func TestDoorsInNotFound(t *testing.T) {
	s, do := newAPI(t, func(*scenario.API) {})
	body, _ := io.ReadAll(do(httptest.NewRequest("GET", "http://127.0.0.1:8082/"+s.ID+"/nope", nil)).Body)
	for _, p := range []string{"/image.png", "/script.js", "/style.css", "/font.ttf", "/events", "/collect"} {
		if !strings.Contains(string(body), p) {
			t.Errorf("the 404 does not mention %s: %s", p, body)
		}
	}
}
