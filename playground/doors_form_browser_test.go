package playground

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/corslab/corslab/internal/browsertest"
	"github.com/corslab/corslab/playground/scenario"
)

// The lab's form offers every door (request.via) and, for each, only the
// settings that door has: picking a door moves the path to its resource
// and the method to one it allows, puts what it does not have back to its
// default, and saves a scenario the server accepts. The preview shows the
// door's own code, and the form stays accessible whichever door is shown.
func TestDoorsForm(t *testing.T) {
	axe := browsertest.Axe(t)
	browser := browsertest.CDP(t)
	srv := startServer(t, 50)
	tab := newTab(t, browser)
	// The lab's uncaught exceptions, to say why a step failed. (The api's
	// script.js throws on purpose, in the runner's frame.)
	ui := srv.testURL(UI)
	var mu sync.Mutex
	var thrown []string
	err := chromedp.Listen(tab, func(ev any) {
		if e, ok := ev.(*runtime.EventExceptionThrown); ok && (e.ExceptionDetails.URL == "" || strings.HasPrefix(e.ExceptionDetails.URL, ui)) {
			text := e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				text = e.ExceptionDetails.Exception.Description
			}
			mu.Lock()
			thrown = append(thrown, text)
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, text := range thrown {
			t.Errorf("the page threw: %s", text)
		}
	})
	id := openLab(t, tab, ui+"/lab")

	// The controls of each setting a door may have, by what form.js's
	// data-setting calls it.
	controls := map[string]string{
		"fetch":           "#f-request-mode",
		"crossorigin":     "#f-request-crossOrigin",
		"withcredentials": "#f-request-withCredentials",
		"enctype":         "#f-request-enctype",
		"headers":         `[data-field="request.headers"] .header-rows`,
		"body":            "#f-request-body",
	}
	// Each door in turn, from fetch() GET /users: each path is a door's
	// resource, so each pick moves it to the next door's.
	cases := []struct {
		via, path, method string
		settings          []string // what the form shows; the rest is hidden
		methods           string   // the Method options left enabled
		preview           string   // in the code the preview shows
	}{
		{"xhr", "/users", "GET", []string{"withcredentials", "headers", "body"}, "GET HEAD POST PUT PATCH DELETE OPTIONS other", "new XMLHttpRequest()"},
		{"img", "/image.png", "GET", []string{"crossorigin"}, "GET", "new Image()"},
		{"img+canvas", "/image.png", "GET", []string{"crossorigin"}, "GET", "getImageData"},
		{"script", "/script.js", "GET", []string{"crossorigin"}, "GET", "<script src="},
		{"font", "/font.ttf", "GET", nil, "GET", "@font-face"},
		{"stylesheet", "/style.css", "GET", []string{"crossorigin"}, "GET", `<link rel="stylesheet"`},
		{"eventsource", "/events", "GET", []string{"withcredentials"}, "GET", "new EventSource("},
		{"websocket", "/socket", "GET", []string{"body"}, "GET", `new WebSocket("ws://`},
		{"form", "/users", "POST", []string{"enctype", "body"}, "GET POST", `<form method="post"`},
		{"beacon", "/collect", "POST", []string{"headers", "body"}, "POST", "navigator.sendBeacon("},
		{"fetch", "/users", "GET", []string{"fetch", "headers", "body"}, "GET HEAD POST PUT PATCH DELETE OPTIONS other", "await fetch("},
	}
	for _, c := range cases {
		t.Run(c.via, func(t *testing.T) {
			setField(t, tab, "#f-request-via", c.via)
			// The lab moves the path once door-view.js is loaded.
			var path string
			waitFor(t, "the path to move to "+c.path, func() bool {
				path = evaluate[string](t, tab, `document.querySelector("#f-request-path").value`)
				return path == c.path
			})
			// The fields change once door-view.js is loaded, which may be
			// after the path (xhr keeps fetch's /users): wait for them.
			wrong := func() (out []string) {
				for setting, sel := range controls {
					want := slices.Contains(c.settings, setting)
					if got := doorFieldShown(t, tab, sel); got != want {
						out = append(out, fmt.Sprintf("%s (%s) shown: %v, want %v", setting, sel, got, want))
					}
				}
				enabled := evaluate[string](t, tab, `[...document.querySelector("#f-request-method").options].filter((o) => !o.disabled).map((o) => o.value).join(" ")`)
				if enabled != c.methods {
					out = append(out, fmt.Sprintf("methods offered %q, want %q", enabled, c.methods))
				}
				if preview := evaluate[string](t, tab, `document.querySelector("#fetch-preview").textContent`); !strings.Contains(preview, c.preview) {
					out = append(out, fmt.Sprintf("the preview has no %q:\n%s", c.preview, preview))
				}
				return out
			}
			deadline := time.Now().Add(5 * time.Second)
			for len(wrong()) > 0 && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			for _, w := range wrong() {
				t.Error(w)
			}
			req := waitDoorSaved(t, tab, srv, id, func(r scenario.Request) bool { return r.Via == c.via })
			if req.Path != c.path || req.Method != c.method {
				t.Errorf("saved %s %s, want %s %s", req.Method, req.Path, c.method, c.path)
			}
			if c.via != "fetch" && (req.Mode != "cors" || req.Credentials != "same-origin" || req.Redirect != "follow") {
				t.Errorf("saved fetch()'s settings mode=%q credentials=%q redirect=%q for %s, want the defaults", req.Mode, req.Credentials, req.Redirect, c.via)
			}
		})
	}

	t.Run("a door's settings are saved, and reset by a door without them", func(t *testing.T) {
		setField(t, tab, "#f-request-via", "img")
		setField(t, tab, "#f-request-crossOrigin", "use-credentials")
		waitDoorSaved(t, tab, srv, id, func(r scenario.Request) bool { return r.Via == "img" && r.CrossOrigin == "use-credentials" })
		previewHas(t, tab, `img.crossOrigin = "use-credentials";`)
		// script has a crossorigin attribute too: it keeps it.
		setField(t, tab, "#f-request-via", "script")
		waitDoorSaved(t, tab, srv, id, func(r scenario.Request) bool { return r.Via == "script" && r.CrossOrigin == "use-credentials" })
		previewHas(t, tab, `crossorigin="use-credentials"></script>`)
		// EventSource has none: it goes back to none.
		setField(t, tab, "#f-request-via", "eventsource")
		waitDoorSaved(t, tab, srv, id, func(r scenario.Request) bool { return r.Via == "eventsource" && r.CrossOrigin == "none" })
		tick(t, tab, "#f-request-withCredentials")
		waitDoorSaved(t, tab, srv, id, func(r scenario.Request) bool { return r.WithCredentials })
		previewHas(t, tab, "{ withCredentials: true }")
		setField(t, tab, "#f-request-via", "form")
		req := waitDoorSaved(t, tab, srv, id, func(r scenario.Request) bool { return r.Via == "form" })
		if req.WithCredentials || req.Body != "name=Mallory" {
			t.Errorf("form: withCredentials %v, body %q: want false, a sample field", req.WithCredentials, req.Body)
		}
		setField(t, tab, "#f-request-enctype", "text/plain")
		waitDoorSaved(t, tab, srv, id, func(r scenario.Request) bool { return r.Enctype == "text/plain" })
		previewHas(t, tab, `enctype="text/plain"`)
		previewHas(t, tab, `<input type="hidden" name="name" value="Mallory">`)
		setField(t, tab, "#f-request-via", "fetch")
		req = waitDoorSaved(t, tab, srv, id, func(r scenario.Request) bool { return r.Via == "fetch" })
		if req.Enctype != "application/x-www-form-urlencoded" || req.Method != "POST" {
			t.Errorf("back on fetch(): %s with enctype %q, want POST (the path did not move) and the default enctype", req.Method, req.Enctype)
		}
	})

	t.Run("a path of the learner's own stays; a method the door cannot use does not", func(t *testing.T) {
		setField(t, tab, "#f-request-method", "PUT")
		setField(t, tab, "#f-request-path", "/users/1")
		setField(t, tab, "#f-request-body", `{"name":"ada"}`)
		setField(t, tab, "#f-request-via", "img")
		req := waitDoorSaved(t, tab, srv, id, func(r scenario.Request) bool { return r.Via == "img" })
		if req.Path != "/users/1" || req.Method != "GET" || req.Body != "" {
			t.Errorf("img after PUT /users/1: %s %s body %q, want GET /users/1 and no body", req.Method, req.Path, req.Body)
		}
		setField(t, tab, "#f-request-via", "fetch")
		waitDoorSaved(t, tab, srv, id, func(r scenario.Request) bool { return r.Via == "fetch" })
	})

	t.Run("the WebSocket handshake's check", func(t *testing.T) {
		if doorFieldShown(t, tab, "#f-api-allowlist") {
			t.Errorf("the allowlist is shown before anything uses it")
		}
		setField(t, tab, "#f-api-websocketOrigins", "allowlist")
		waitFor(t, "api.websocketOrigins to be saved", func() bool {
			return getScenarioField(t, srv, id, "websocketOrigins") == "allowlist"
		})
		if !doorFieldShown(t, tab, "#f-api-allowlist") {
			t.Errorf("the allowlist the handshake checks is hidden")
		}
	})

	// A run through each of a few doors: the log says what the page saw,
	// and shows the door's code. The api sends no CORS header, and its
	// WebSocket handshake now wants an allowlisted Origin (none is).
	t.Run("runs", func(t *testing.T) {
		runs := []struct{ via, verdict, source string }{
			{"img", "image 120×60 loaded without CORS", "new Image()"},
			{"img+canvas", "the canvas is tainted: getImageData threw SecurityError", "getImageData"},
			{"script", "\"Script error.\"", "<script src="},
			{"websocket", "WebSocket never opened: closed with code 1006", "new WebSocket("},
			{"form", "form submitted; the page cannot read the response", "document.forms[0].submit();"},
			{"beacon", "beacon queued; the page never sees the response", "navigator.sendBeacon("},
		}
		// Back on a door's resource: each door moves the path to its own.
		setField(t, tab, "#f-request-path", "/users")
		for i, r := range runs {
			setField(t, tab, "#f-request-via", r.via)
			waitDoorSaved(t, tab, srv, id, func(req scenario.Request) bool { return req.Via == r.via })
			run := clickRun(t, tab, srv, id, i+1)
			if run.Request.Via != r.via {
				t.Errorf("run %d recorded door %q, want %q", i+1, run.Request.Via, r.via)
			}
			key := fmt.Sprint(run.ID)
			waitFor(t, "the run in the log", func() bool {
				return evaluate[bool](t, tab, fmt.Sprintf(`document.querySelector('#log .run-group[data-key="%s"]') !== null`, key))
			})
			group := fmt.Sprintf(`document.querySelector('#log .run-group[data-key="%s"]')`, key)
			if got := evaluate[string](t, tab, group+`.querySelector(".verdict").textContent`); !strings.Contains(got, r.verdict) {
				t.Errorf("%s: the log says %q, want %q", r.via, got, r.verdict)
			}
			if got := evaluate[string](t, tab, group+`.querySelector(".js-saw code").textContent`); !strings.Contains(got, r.source) {
				t.Errorf("%s: what the page ran has no %q:\n%s", r.via, r.source, got)
			}
		}
	})

	// The form as a learner sees it with each kind of setting shown, and
	// the log with the runs of several doors.
	for _, via := range []string{"img", "xhr", "form", "beacon"} {
		t.Run("axe/"+via, func(t *testing.T) {
			setField(t, tab, "#f-request-via", via)
			waitDoorSaved(t, tab, srv, id, func(r scenario.Request) bool { return r.Via == via })
			for _, v := range axeRun(t, tab, axe) {
				t.Errorf("%s (%s): %s\n  at %s\n  %s", v.ID, v.Impact, v.Help, strings.Join(v.Targets, ", "), strings.ReplaceAll(v.Summary, "\n", "\n  "))
			}
		})
	}
}

// doorFieldShown reports whether the element sel selects is in the page and no
// ancestor of it is hidden.
func doorFieldShown(t *testing.T, tab context.Context, sel string) bool {
	t.Helper()
	return evaluate[bool](t, tab, fmt.Sprintf(`(() => {
		const el = document.querySelector(%q);
		return el !== null && el.closest("[hidden]") === null && el.checkVisibility();
	})()`, sel))
}

// tick ticks a checkbox as a click would.
func tick(t *testing.T, tab context.Context, sel string) {
	t.Helper()
	evaluate[bool](t, tab, fmt.Sprintf(`(() => {
		const el = document.querySelector(%q);
		el.checked = true;
		el.dispatchEvent(new Event("input", {bubbles: true}));
		el.dispatchEvent(new Event("change", {bubbles: true}));
		return el.checked;
	})()`, sel))
}

// previewHas checks that the code the preview shows has want.
func previewHas(t *testing.T, tab context.Context, want string) {
	t.Helper()
	if preview := evaluate[string](t, tab, `document.querySelector("#fetch-preview").textContent`); !strings.Contains(preview, want) {
		t.Errorf("the preview has no %q:\n%s", want, preview)
	}
}

// waitDoorSaved waits until the session's saved request satisfies ok, and
// returns it. If the server refuses the form's scenario instead, it fails
// with the errors the form shows.
func waitDoorSaved(t *testing.T, tab context.Context, srv *Server, id string, ok func(scenario.Request) bool) scenario.Request {
	t.Helper()
	var s struct{ Scenario scenario.Scenario }
	waitFor(t, "the scenario to be saved", func() bool {
		if refused := evaluate[string](t, tab, `[...document.querySelectorAll("#scenario .field-error:not([hidden]), #form-error:not([hidden])")].map((e) => e.textContent).join("; ")`); refused != "" {
			t.Fatalf("the server refused the form's scenario: %s", refused)
		}
		getJSON(t, srv.testURL(UI)+"/api/sessions/"+id, &s)
		return ok(s.Scenario.Request)
	})
	return s.Scenario.Request
}
