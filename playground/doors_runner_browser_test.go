package playground

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/corslab/corslab/internal/browsertest"
	"github.com/corslab/corslab/playground/capture"
	"github.com/corslab/corslab/playground/origins"
	"github.com/corslab/corslab/playground/scenario"
	"github.com/corslab/corslab/playground/session"
)

// TestDoorsRunner drives the runner page (static/runner.js, doors.js)
// through every door other than fetch(), in each engine, from the lab's
// own RunnerFrame: the app's runner asks the api's doors, first under a
// policy that sends no CORS header at all, then under
// Access-Control-Allow-Origin: *. Each door must show what a real page
// would see: the <img> loads either way but taints a canvas without CORS,
// the <script> runs either way but its error is muted, the stylesheet
// applies either way but hides its rules, and the font, the EventSource
// and XMLHttpRequest need CORS. None may be refused by the runner's own
// Content-Security-Policy.
func TestDoorsRunner(t *testing.T) {
	browsertest.Each(t, func(t *testing.T, b browsertest.Browser) {
		srv := startServer(t, 5)
		tab := b.NewTab(t)
		id := openConfLab(t, tab, srv.testURL(UI)+"/lab")
		api := srv.testURL(API) + "/" + id + "/"
		startDoorRunners(t, tab, srv)

		type door = map[string]any
		get := map[string]any{"method": "GET"}
		table := engineTable(b.Engine())
		cases := []struct {
			desc, from, path string
			init, door       map[string]any
			// want is what the outcome must say: each field is checked
			// only when set (ok always).
			want doorWant
		}{
			// No CORS header at all.
			{"an <img> shows any image", "app", "image.png", get, door{"via": "img", "crossOrigin": "none"},
				doorWant{ok: true, event: "load", width: origins.ImageWidth, height: origins.ImageHeight}},
			{"…but a canvas it is drawn on is tainted", "app", "image.png", get, door{"via": "img+canvas", "crossOrigin": "none"},
				doorWant{ok: false, event: "load", width: origins.ImageWidth, height: origins.ImageHeight, canvas: "tainted", error: "SecurityError"}},
			{"<img crossorigin> without CORS: no image", "app", "image.png", get, door{"via": "img+canvas", "crossOrigin": "anonymous"},
				doorWant{ok: false, event: "error", canvas: "-", error: "error event"}},
			{"a <script> runs, its error muted", "app", "script.js", get, door{"via": "script", "crossOrigin": "none"},
				doorWant{ok: true, event: "load", scriptError: "Script error.",
					departure: "ScriptErrorsNotMuted", departed: &doorWant{ok: true, event: "load", scriptError: origins.ScriptErrorMessage}}},
			{"<script crossorigin> without CORS: not run", "app", "script.js", get, door{"via": "script", "crossOrigin": "anonymous"},
				doorWant{ok: false, event: "error", scriptError: "-"}},
			{"a stylesheet applies, its rules hidden", "app", "style.css", get, door{"via": "stylesheet", "crossOrigin": "none"},
				doorWant{ok: true, event: "load", rules: "blocked", applied: yes}},
			{"a font needs CORS", "app", "font.ttf", get, door{"via": "font"},
				doorWant{ok: false, event: "error", applied: no,
					departure: "FontsWithoutCORS", departed: &doorWant{ok: true, event: "load", applied: yes}}},
			{"EventSource needs CORS", "app", "events", get, door{"via": "eventsource", "withCredentials": false},
				doorWant{ok: false, event: "error", noMessages: true}},
			{"XMLHttpRequest needs CORS", "app", "users", get, door{"via": "xhr", "withCredentials": false},
				doorWant{ok: false, event: "error", error: "error event"}},
			{"a beacon is queued whatever CORS says", "app", "collect", map[string]any{"method": "POST", "body": "n=1"}, door{"via": "beacon"},
				doorWant{ok: true, event: "queued"}},
			{"a form needs no CORS", "app", "users", map[string]any{"method": "POST", "body": "username=eve&name=Eve"},
				door{"via": "form", "enctype": "application/x-www-form-urlencoded"}, doorWant{ok: true, event: "load"}},

			// Access-Control-Allow-Origin: *
			{"* : the canvas stays readable with crossorigin", "app", "image.png", get, door{"via": "img+canvas", "crossOrigin": "anonymous"},
				doorWant{ok: true, event: "load", width: origins.ImageWidth, height: origins.ImageHeight, canvas: "readable", allowAll: true}},
			{"* : but not with credentials", "app", "image.png", get, door{"via": "img+canvas", "crossOrigin": "use-credentials"},
				doorWant{ok: false, event: "error", allowAll: true}},
			{"* : <script crossorigin> shows its error", "app", "script.js", get, door{"via": "script", "crossOrigin": "anonymous"},
				doorWant{ok: true, event: "load", scriptError: origins.ScriptErrorMessage, allowAll: true}},
			{"* : <link crossorigin> shows its rules", "app", "style.css", get, door{"via": "stylesheet", "crossOrigin": "anonymous"},
				doorWant{ok: true, event: "load", rules: "readable", applied: yes, allowAll: true}},
			{"* : the font applies", "app", "font.ttf", get, door{"via": "font"},
				doorWant{ok: true, event: "load", applied: yes, allowAll: true}},
			{"* : EventSource gets its messages", "app", "events", get, door{"via": "eventsource", "withCredentials": false},
				doorWant{ok: true, event: "closed", messages: 3, allowAll: true}},
			{"* : XMLHttpRequest reads the answer", "app", "users", get, door{"via": "xhr", "withCredentials": false},
				doorWant{ok: true, event: "load", status: 200, body: "ada", allowAll: true}},
			{"* : through the data: frame's relay", "data", "image.png", get, door{"via": "img+canvas", "crossOrigin": "anonymous"},
				doorWant{ok: true, event: "load", width: origins.ImageWidth, height: origins.ImageHeight, canvas: "readable", allowAll: true}},
			{"a WebSocket: no CORS, the server decides", "app", "socket", map[string]any{"method": "GET", "body": "corslab echo"}, door{"via": "websocket"},
				doorWant{ok: true, event: "closed", closeCode: 1000, minMessages: 2, allowAll: true}},
		}
		allowAll := false
		for _, c := range cases {
			if c.want.allowAll != allowAll {
				allowAll = c.want.allowAll
				editScenario(t, srv, id, func(sc *scenario.Scenario) {
					sc.API.AllowOrigin = map[bool]string{true: "*", false: ""}[allowAll]
				})
			}
			want := c.want
			if want.departure != "" && departsIn(table, want.departure) {
				t.Logf("%s: %s departs from the standard here: %s", c.desc, b.Engine(), table.Note(want.departure))
				want = *want.departed
			}
			got := runDoor(t, tab, c.from, api+c.path, c.init, c.door)
			t.Logf("%s: %s", c.desc, doorSummary(got))
			for _, p := range want.check(got) {
				t.Errorf("%s: %s", c.desc, p)
			}
		}

		// A WebSocket handshake the server refuses (api.websocketOrigins
		// "allowlist" without evil's origin) is, to the page, a close
		// with code 1006 and no reason.
		editScenario(t, srv, id, func(sc *scenario.Scenario) {
			sc.API.WebsocketOrigins = "allowlist"
			sc.API.Allowlist = []string{srv.testURL(App)}
		})
		got := runDoor(t, tab, "evil", api+"socket", get, door{"via": "websocket"})
		t.Logf("a refused WebSocket: %s", doorSummary(got))
		for _, p := range (doorWant{ok: false, event: "closed", closeCode: 1006, noMessages: true, error: "1006"}).check(got) {
			t.Errorf("a refused WebSocket: %s", p)
		}

		// A sandboxed page without allow-forms submits no form: the
		// runner says so, and the api sees nothing.
		got = runDoor(t, tab, "sandbox", api+"login", map[string]any{"method": "POST", "body": "username=ada"}, door{"via": "form"})
		t.Logf("a form from the sandbox: %s", doorSummary(got))
		for _, p := range (doorWant{ok: false, event: "timeout", error: "allow-forms"}).check(got) {
			t.Errorf("a form from the sandbox: %s", p)
		}

		// The form went as a real form does: the api got its fields,
		// form-encoded, from the app's origin. (In WebKit too: the runner
		// states its Referrer-Policy, which WebKit would otherwise take
		// from the lab, no-referrer, and send Origin: null.)
		wantOrigin := srv.testURL(App)
		var all []capture.Exchange
		getJSON(t, srv.testURL(UI)+"/api/sessions/"+id+"/exchanges", &all)
		found := false
		for _, ex := range all {
			if ex.Request.Method != "POST" || !strings.HasSuffix(ex.Request.Target, "/users") {
				continue
			}
			found = true
			ct, _ := ex.Request.Header("Content-Type")
			origin, _ := ex.Request.Header("Origin")
			if ct != "application/x-www-form-urlencoded" || origin != wantOrigin || ex.Request.Body != "username=eve&name=Eve" {
				t.Errorf("the form's POST: Content-Type %q, Origin %q, body %q; headers %q", ct, origin, ex.Request.Body, ex.Request.Headers)
			}
		}
		if !found {
			t.Errorf("the api saw no POST /users from the form: %s", summarize(all))
		}
		for _, ex := range all {
			if strings.HasSuffix(ex.Request.Target, "/login") {
				t.Errorf("the sandboxed page's form was sent: %s", summarize([]capture.Exchange{ex}))
			}
		}
	})
}

// startDoorRunners makes, in the lab's page, a RunnerFrame of the lab's
// own (static/runner-frame.js) for each page a door case runs from.
func startDoorRunners(t *testing.T, tab browsertest.Tab, srv *Server) {
	t.Helper()
	origins, _ := json.Marshal(map[string]string{"app": srv.testURL(App), "api": srv.testURL(API), "evil": srv.testURL(Evil)})
	js := fmt.Sprintf(`(async () => {
		const { RunnerFrame } = await import("/static/runner-frame.js");
		window.doorRunners = {};
		for (const from of ["app", "data", "evil", "sandbox"]) {
			const host = document.createElement("div");
			host.className = "runner-host";
			document.body.append(host);
			const runner = new RunnerFrame(host, %s);
			runner.use(from);
			await runner.whenReady();
			window.doorRunners[from] = runner;
		}
		return true;
	})()`, origins)
	jsValue[bool](t, tab, js)
}

// runDoor asks the runner for from to go through door to u.
func runDoor(t *testing.T, tab browsertest.Tab, from, u string, init, door map[string]any) doorOutcome {
	t.Helper()
	args, _ := json.Marshal([]any{u, init, door})
	return jsValue[doorOutcome](t, tab, fmt.Sprintf(`window.doorRunners[%q].run(...%s)`, from, args))
}

// editScenario changes the session's scenario through the JSON API.
func editScenario(t *testing.T, srv *Server, id string, edit func(sc *scenario.Scenario)) {
	t.Helper()
	sc := getScenario(t, srv, id)
	edit(&sc)
	putScenario(t, srv, id, sc)
}

// doorOutcome is the runner's outcome, as runner.js posts it: the
// "browser" object of a run, its door included.
type doorOutcome = session.Browser

func doorSummary(o doorOutcome) string {
	d, _ := json.Marshal(o.Door)
	return fmt.Sprintf("ok=%v status=%d error=%q body=%.60q door=%s", o.OK, o.Status, o.Error, o.Body, d)
}

// doorBool is a boolean a case may leave unchecked.
type doorBool int

const (
	unchecked doorBool = iota
	yes
	no
)

// doorWant is what a case checks of an outcome. Zero values are not
// checked, except ok; "-" wants an empty string.
type doorWant struct {
	ok                                bool
	event, canvas, scriptError, rules string
	error, body                       string // contained in it
	width, height, status, closeCode  int
	applied                           doorBool
	noMessages                        bool
	messages, minMessages             int  // exactly, at least
	allowAll                          bool // under Access-Control-Allow-Origin: *
	// In an engine whose table (cors.Browser) sets the field departure,
	// departed is what the outcome must say instead.
	departure string
	departed  *doorWant
}

func (w doorWant) check(o doorOutcome) []string {
	var bad []string
	if o.Door == nil {
		return []string{"no door in the outcome"}
	}
	d := o.Door
	str := func(name, got, want string) {
		if want == "-" && got != "" || want != "-" && want != "" && got != want {
			bad = append(bad, fmt.Sprintf("%s %q, want %q", name, got, want))
		}
	}
	num := func(name string, got, want int) {
		if want != 0 && got != want {
			bad = append(bad, fmt.Sprintf("%s %d, want %d", name, got, want))
		}
	}
	if o.OK != w.ok {
		bad = append(bad, fmt.Sprintf("ok %v, want %v", o.OK, w.ok))
	}
	str("event", d.Event, w.event)
	str("canvas", d.Canvas, w.canvas)
	// Engines word an error differently: "Uncaught Error: …" in
	// Chromium, "Error: …" in Firefox and WebKit.
	if w.scriptError == "-" && d.ScriptError != "" || w.scriptError != "-" && !strings.Contains(d.ScriptError, w.scriptError) {
		bad = append(bad, fmt.Sprintf("scriptError %q, want it to say %q", d.ScriptError, w.scriptError))
	}
	str("rules", d.Rules, w.rules)
	num("width", d.Width, w.width)
	num("height", d.Height, w.height)
	num("status", o.Status, w.status)
	num("closeCode", d.CloseCode, w.closeCode)
	if w.error != "" && !strings.Contains(o.Error, w.error) {
		bad = append(bad, fmt.Sprintf("error %q, want it to say %q", o.Error, w.error))
	}
	if w.body != "" && !strings.Contains(o.Body, w.body) {
		bad = append(bad, fmt.Sprintf("body %.80q, want it to say %q", o.Body, w.body))
	}
	if w.applied != unchecked && d.Applied != (w.applied == yes) {
		bad = append(bad, fmt.Sprintf("applied %v, want %v", d.Applied, w.applied == yes))
	}
	if (w.noMessages || w.messages > 0) && len(d.Messages) != w.messages {
		bad = append(bad, fmt.Sprintf("%d messages %q, want %d", len(d.Messages), d.Messages, w.messages))
	}
	if len(d.Messages) < w.minMessages {
		bad = append(bad, fmt.Sprintf("%d messages %q, want at least %d", len(d.Messages), d.Messages, w.minMessages))
	}
	return bad
}
