package cors

import (
	"strings"
	"testing"
)

// door is a request through a door other than fetch(): the door sets the
// mode and credentials, whatever the request says.
func door(via string, mod ...func(*Request)) Request {
	r := get(mod...)
	r.Via, r.URL = via, api+"/sess/thing"
	return r
}

func crossOrigin(v string) func(*Request) { return func(r *Request) { r.CrossOrigin = v } }
func withXHRCreds(r *Request)             { r.WithCredentials = true }

func TestDoorModes(t *testing.T) {
	tests := []struct {
		req               Request
		mode, credentials string
	}{
		{door("img"), "no-cors", "include"},
		{door("img", crossOrigin("none")), "no-cors", "include"},
		{door("img+canvas", crossOrigin("anonymous")), "cors", "same-origin"},
		{door("script", crossOrigin("use-credentials")), "cors", "include"},
		{door("stylesheet"), "no-cors", "include"},
		{door("font", crossOrigin("use-credentials")), "cors", "same-origin"}, // a font has no attribute
		{door("xhr"), "cors", "same-origin"},
		{door("xhr", withXHRCreds), "cors", "include"},
		{door("eventsource", withXHRCreds), "cors", "include"},
		{door("websocket"), "websocket", "include"},
		{door("form"), "navigate", "include"},
		{door("beacon"), "no-cors", "include"},
		{door("beacon", withHeaders("Content-Type", "text/plain")), "no-cors", "include"},
		{door("beacon", withHeaders("content-type", "application/json")), "cors", "include"},
		{get(withMode("no-cors"), withCreds), "no-cors", "include"},
	}
	for _, tc := range tests {
		d, ok := DoorOf(tc.req.Via)
		if !ok {
			t.Fatalf("no door %q", tc.req.Via)
		}
		if mode, creds := d.Modes(tc.req); mode != tc.mode || creds != tc.credentials {
			t.Errorf("%s %+v: mode %s, credentials %s; want %s, %s", d.Name, tc.req, mode, creds, tc.mode, tc.credentials)
		}
	}
	if _, ok := DoorOf("iframe"); ok {
		t.Error("DoorOf(iframe) found a door")
	}
}

func TestExplainDoors(t *testing.T) {
	png := []string{"Content-Type", "image/png"}
	acao := func(v string, more ...string) []string {
		return append([]string{"Access-Control-Allow-Origin", v}, more...)
	}
	thing := api + "/sess/thing"
	tests := []struct {
		desc      string
		req       Request
		exchanges []Exchange
		wantOK    bool
		wantStage string
		wantText  string // in some step, or the failing one when !wantOK
	}{
		{"an <img> loads without CORS", door("img"),
			[]Exchange{ex("GET", thing, nil, 200, png...)}, true, "", "whatever CORS said"},
		{"an <img> of JSON fails to load", door("img"),
			[]Exchange{ex("GET", thing, nil, 200, "Content-Type", "application/json")}, false, StageResponse, "not an image"},
		{"an <img> answered 404 fails", door("img"),
			[]Exchange{ex("GET", thing, nil, 404, png...)}, false, StageResponse, "not a 2xx"},
		{"a no-cors image taints the canvas", door("img+canvas"),
			[]Exchange{ex("GET", thing, nil, 200, png...)}, false, StageResponse, "taints the canvas"},
		{"a CORS image keeps the canvas clean", door("img+canvas", crossOrigin("anonymous")),
			[]Exchange{ex("GET", thing, origin(app), 200, acao("*", png...)...)}, true, "", "`getImageData()` reads its pixels"},
		{"crossorigin without ACAO: the image does not load at all", door("img+canvas", crossOrigin("anonymous")),
			[]Exchange{ex("GET", thing, origin(app), 200, png...)}, false, StageResponse, "`error` event"},
		{"use-credentials needs more than *", door("img", crossOrigin("use-credentials")),
			[]Exchange{ex("GET", thing, origin(app), 200, acao("*", png...)...)}, false, StageResponse, "credentials"},
		{"a no-cors script runs muted", door("script"),
			[]Exchange{ex("GET", thing, nil, 200, "Content-Type", "text/javascript")}, true, "", "`Script error.`"},
		{"a CORS script reports its errors", door("script", crossOrigin("anonymous")),
			[]Exchange{ex("GET", thing, origin(app), 200, acao("*", "Content-Type", "text/javascript")...)}, true, "", "in full"},
		{"a no-cors script of JSON is blocked", door("script"),
			[]Exchange{ex("GET", thing, nil, 200, "Content-Type", "application/json; charset=utf-8")}, false, StageResponse, "opaque-response blocking"},
		{"a no-cors script of plain text runs", door("script"),
			[]Exchange{ex("GET", thing, nil, 200, "Content-Type", "text/plain")}, true, "", "`Script error.`"},
		{"a no-cors stylesheet applies, its rules hidden", door("stylesheet"),
			[]Exchange{ex("GET", thing, nil, 200, "Content-Type", "text/css")}, true, "", "throws a `SecurityError`"},
		{"a font without ACAO falls back", door("font"),
			[]Exchange{ex("GET", thing, origin(app), 200, "Content-Type", "font/ttf")}, false, StageResponse, "`Access-Control-Allow-Origin`"},
		{"a font with ACAO applies", door("font"),
			[]Exchange{ex("GET", thing, origin(app), 200, acao("*", "Content-Type", "font/ttf")...)}, true, "", "uses it"},
		{"an EventSource with ACAO opens", door("eventsource"),
			[]Exchange{ex("GET", thing, origin(app), 200, acao("*", "Content-Type", "text/event-stream")...)}, true, "", "reads every event"},
		{"an EventSource of JSON fails", door("eventsource"),
			[]Exchange{ex("GET", thing, origin(app), 200, acao("*", "Content-Type", "application/json")...)}, false, StageResponse, "fails the connection"},
		{"an XMLHttpRequest is fetch() underneath", door("xhr"),
			[]Exchange{ex("GET", thing, origin(app), 200)}, false, StageResponse, "`status` reads 0"},
		{"a WebSocket opens whatever CORS would say", door("websocket"),
			[]Exchange{ex("GET", thing, h("Origin", app, "Cookie", "login=ada"), 101, "Upgrade", "websocket")}, true, "", "Nothing CORS would check"},
		{"a WebSocket refused by the server's Origin check", door("websocket"),
			[]Exchange{ex("GET", thing, origin(app), 403)}, false, StageResponse, "code 1006"},
		{"a form POST needs no CORS to change things", door("form", withMethod("POST"), func(r *Request) { r.Enctype = "text/plain" }),
			[]Exchange{ex("POST", thing, origin(app), 200)}, true, "", "a form needs no CORS"},
		{"a form follows a redirect", door("form", withMethod("POST")),
			[]Exchange{ex("POST", thing, origin(app), 303, "Location", api+"/sess/done"), ex("GET", api+"/sess/done", nil, 200)}, true, "", "`303` redirect"},
		{"a GET form puts its fields in the query", door("form"),
			[]Exchange{ex("GET", thing+"?limit=2", nil, 200)}, true, "", "The target frame loads"},
		{"a beacon is queued, and delivered", door("beacon", withMethod("POST"), withBody),
			[]Exchange{ex("POST", thing, origin(app), 204)}, true, "", "The server got the `POST`"},
		{"a JSON beacon is preflighted, and never sent when refused", door("beacon", withMethod("POST"), withBody, withHeaders("Content-Type", "application/json")),
			[]Exchange{preflight(thing, app, "POST", "content-type", 204)}, true, "", "never sent the `POST`"},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			for i := range tc.exchanges {
				tc.exchanges[i].Seq = uint64(i + 1)
			}
			v := Explain(Standard, tc.req, tc.exchanges, nil, t0)
			var texts []string
			for _, s := range v.Steps {
				texts = append(texts, s.Text)
			}
			all := strings.Join(texts, "\n")
			if v.OK != tc.wantOK || v.Stage != tc.wantStage {
				t.Errorf("OK %v at %q; want %v at %q\n%s", v.OK, v.Stage, tc.wantOK, tc.wantStage, all)
			}
			if !strings.Contains(all, tc.wantText) {
				t.Errorf("no step says %q:\n%s", tc.wantText, all)
			}
			if !tc.wantOK && v.Steps[len(v.Steps)-1].OK {
				t.Errorf("the last step of a failure is OK")
			}
		})
	}
}

// The departures the suite found in the doors: WebKit uses a font without
// CORS, Firefox does not mute a script's errors.
func TestDoorDepartures(t *testing.T) {
	thing := api + "/sess/thing"
	font := Explain(WebKit, door("font"), []Exchange{{Seq: 1, Method: "GET", URL: thing, Status: 200, ResponseHeaders: h("Content-Type", "font/ttf")}}, nil, t0)
	if !font.OK || font.Steps[0].Note == "" || !strings.Contains(font.Steps[0].Text, "mode `no-cors`") {
		t.Errorf("WebKit's font without CORS: OK %v, steps %+v", font.OK, font.Steps)
	}
	if std := Explain(Standard, door("font"), []Exchange{{Seq: 1, Method: "GET", URL: thing, Status: 200, RequestHeaders: origin(app), ResponseHeaders: h("Content-Type", "font/ttf")}}, nil, t0); std.OK {
		t.Errorf("the standard's font without CORS is used")
	}
	js := []Exchange{{Seq: 1, Method: "GET", URL: thing, Status: 200, ResponseHeaders: h("Content-Type", "text/javascript")}}
	ff := Explain(Firefox, door("script"), js, nil, t0)
	last := ff.Steps[len(ff.Steps)-1]
	if !ff.OK || last.Note == "" || !strings.Contains(last.Text, "does not mute") {
		t.Errorf("Firefox's script without CORS: %+v", last)
	}
	if c := Explain(Chromium, door("script"), js, nil, t0); !strings.Contains(c.Steps[len(c.Steps)-1].Text, "`Script error.`") {
		t.Errorf("Chromium's script without CORS is not muted: %+v", c.Steps)
	}
}
