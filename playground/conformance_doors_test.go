package playground

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/corslab/corslab/playground/origins"
	"github.com/corslab/corslab/playground/session"
)

// doorCases are the doors other than fetch(): each element, API and form,
// with and without the CORS headers and attributes that change what the
// page sees. The runner performs the door for real (static/runner.js) and
// reports what the page could observe; the engine must predict it.
func doorCases() []confCase {
	const (
		acao     = "&api.allowOrigin=*"
		withCred = "&api.allowOrigin=echo&api.allowCredentials=true"
	)
	img := func(extra string) string { return "request.via=img&request.path=/image.png" + extra }
	canvas := func(extra string) string { return "request.via=img+canvas&request.path=/image.png" + extra }
	script := func(extra string) string { return "request.via=script&request.path=/script.js" + extra }
	style := func(extra string) string { return "request.via=stylesheet&request.path=/style.css" + extra }
	font := func(extra string) string { return "request.via=font&request.path=/font.ttf" + extra }
	events := func(extra string) string { return "request.via=eventsource&request.path=/events" + extra }
	xhr := func(extra string) string { return "request.via=xhr" + extra }
	size := map[string]string{"event": "load", "width": strconv.Itoa(origins.ImageWidth), "height": strconv.Itoa(origins.ImageHeight)}
	with := func(m map[string]string, kv ...string) map[string]string {
		m = maps.Clone(m)
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	muted := func(c *confCase) { c.door = with(c.door, "scriptError", origins.ScriptErrorMessage) }
	return []confCase{
		// Images: CORS decides what the page may do with the pixels, not
		// whether the image shows.
		{name: "door: an <img> loads without CORS", q: img(""), ok: true, wire: "GET", origins: "-", door: size},
		{name: "door: a no-cors <img> taints the canvas", q: canvas(""), ok: false, wire: "GET", origins: "-",
			door: with(size, "canvas", "tainted")},
		{name: "door: a no-cors <img> taints the canvas even with ACAO *", q: canvas(acao), ok: false, wire: "GET", origins: "-",
			door: with(size, "canvas", "tainted")},
		{name: "door: crossorigin=anonymous and ACAO * keep the canvas readable", q: canvas("&request.crossOrigin=anonymous" + acao),
			ok: true, wire: "GET", origins: "{app}", door: with(size, "canvas", "readable")},
		{name: "door: crossorigin=anonymous without ACAO: no image at all", q: canvas("&request.crossOrigin=anonymous"),
			ok: false, wire: "GET", origins: "{app}", door: map[string]string{"event": "error", "width": "0"}},
		{name: "door: crossorigin=use-credentials is refused ACAO *", q: img("&request.crossOrigin=use-credentials" + acao),
			ok: false, wire: "GET", origins: "{app}", door: map[string]string{"event": "error"}},
		{name: "door: crossorigin=use-credentials with the origin echoed and credentials allowed", q: canvas("&request.crossOrigin=use-credentials" + withCred),
			ok: true, wire: "GET", origins: "{app}", door: with(size, "canvas", "readable")},

		// Scripts run either way; CORS decides what their errors say.
		confCase{name: "door: a no-cors <script> runs, its error muted", q: script(""), ok: true, wire: "GET", origins: "-",
			door: map[string]string{"event": "load", "scriptError": "Script error."}}.
			departs("ScriptErrorsNotMuted", muted, "firefox"),
		{name: "door: a <script crossorigin> with ACAO * reports its error", q: script("&request.crossOrigin=anonymous" + acao),
			ok: true, wire: "GET", origins: "{app}", door: map[string]string{"event": "load", "scriptError": origins.ScriptErrorMessage}},
		{name: "door: a <script crossorigin> without ACAO does not run", q: script("&request.crossOrigin=anonymous"),
			ok: false, wire: "GET", origins: "{app}", door: map[string]string{"event": "error"}},
		confCase{name: "door: opaque-response blocking keeps JSON from a <script>", q: "request.via=script&request.path=/users",
			ok: false, wire: "GET", origins: "-", door: map[string]string{"event": "error"}}.
			departs("ORBEmptyBody", func(c *confCase) { c.ok, c.door = true, map[string]string{"event": "load"} }, "chromium", "webkit"),

		// Stylesheets apply either way; CORS decides whether the page reads
		// their rules.
		{name: "door: a no-cors stylesheet applies, its rules hidden", q: style(""), ok: true, wire: "GET", origins: "-",
			door: map[string]string{"event": "load", "applied": "true", "rules": "blocked"}},
		{name: "door: a stylesheet with crossorigin and no ACAO does not apply", q: style("&request.crossOrigin=anonymous"),
			ok: false, wire: "GET", origins: "{app}", door: map[string]string{"event": "error", "applied": "false"}},
		{name: "door: a stylesheet with crossorigin and ACAO * shows its rules", q: style("&request.crossOrigin=anonymous" + acao),
			ok: true, wire: "GET", origins: "{app}", door: map[string]string{"event": "load", "applied": "true", "rules": "readable"}},

		// Fonts are always fetched with CORS.
		confCase{name: "door: a font without ACAO falls back", q: font(""), ok: false, wire: "GET", origins: "{app}",
			door: map[string]string{"applied": "false"}}.
			departs("FontsWithoutCORS", func(c *confCase) {
				c.ok, c.origins, c.door = true, "-", map[string]string{"applied": "true"}
			}, "webkit"),
		confCase{name: "door: a font with ACAO * applies", q: font(acao), ok: true, wire: "GET", origins: "{app}",
			door: map[string]string{"applied": "true"}}.
			departs("FontsWithoutCORS", func(c *confCase) { c.origins = "-" }, "webkit"),

		// EventSource: CORS, with or without credentials.
		{name: "door: an EventSource without ACAO fails", q: events(""), ok: false, wire: "GET", origins: "{app}",
			door: map[string]string{"messages": "0"}},
		{name: "door: an EventSource with ACAO * gets the events", q: events(acao), ok: true, wire: "GET", origins: "{app}",
			door: map[string]string{"messages": "3", "message": `"n":1`}},
		{name: "door: an EventSource withCredentials is refused ACAO *", q: events("&request.withCredentials=true" + acao),
			ok: false, wire: "GET", origins: "{app}"},

		// XMLHttpRequest is fetch() underneath.
		{name: "door: XMLHttpRequest without ACAO", q: xhr(""), ok: false, stage: "response", wire: "GET", origins: "{app}"},
		{name: "door: XMLHttpRequest with ACAO * reads the users", q: xhr(acao), ok: true, status: 200, body: `"ada"`, wire: "GET", origins: "{app}"},
		{name: "door: XMLHttpRequest withCredentials, the origin echoed", q: xhr("&request.withCredentials=true" + withCred),
			ok: true, status: 200, wire: "GET", origins: "{app}"},
		{name: "door: an XMLHttpRequest PUT is preflighted", q: xhr("&request.method=PUT&request.path=/users/1&request.body=" + newUser + acao),
			ok: false, stage: "preflight", wire: "OPTIONS", origins: "{app}", acrm: "PUT"},

		// WebSocket: no CORS; the server's own Origin check, or none.
		{name: "door: a WebSocket opens from the app", q: "request.via=websocket&request.path=/socket",
			ok: true, wire: "GET", origins: "{app}", door: map[string]string{"message": `"type":"hello"`}},
		{name: "door: a WebSocket opens from evil, whatever CORS says", q: "request.from=evil&request.via=websocket&request.path=/socket&api.allowOrigin={app}",
			ok: true, wire: "GET", origins: "{evil}", door: map[string]string{"message": `"type":"hello"`}},
		{name: "door: the api's allowlist refuses evil's handshake", q: "request.from=evil&request.via=websocket&request.path=/socket&api.websocketOrigins=allowlist&api.allowlist={app}",
			ok: false, wire: "GET", origins: "{evil}", door: map[string]string{"closeCode": "1006", "messages": "0"}},
		{name: "door: the api's allowlist lets the app's handshake in", q: "request.via=websocket&request.path=/socket&api.websocketOrigins=allowlist&api.allowlist={app}",
			ok: true, wire: "GET", origins: "{app}"},

		// Forms: navigations, never preflighted, never CORS-checked.
		{name: "door: a form POST of text/plain JSON creates a user, no preflight", q: "request.via=form&request.method=POST&request.enctype=text/plain&request.body={\"username\":\"neo\",\"x\":\"=1\"}",
			ok: true, wire: "POST", origins: "{app}", sent: map[string]string{"Content-Type": "text/plain"}, lastBody: "{\"username\":\"neo\",\"x\":\"=1\"}\r\n"},
		{name: "door: a urlencoded form POST", q: "request.via=form&request.method=POST&request.body=username=neo",
			ok: true, wire: "POST", origins: "{app}", sent: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, lastBody: "username=neo"},
		{name: "door: a form GET carries no Origin", q: "request.via=form&request.body=limit=2",
			ok: true, wire: "GET", origins: "-"},

		// sendBeacon: queued, whatever happens next.
		{name: "door: a text beacon is a no-cors POST", q: "request.via=beacon&request.method=POST&request.path=/collect&request.body=hello",
			ok: true, wire: "POST", door: map[string]string{"event": "queued"}, lastBody: "hello"},
		{name: "door: a JSON beacon is preflighted, and never sent when the preflight fails", q: "request.via=beacon&request.method=POST&request.path=/collect&request.headers.Content-Type=application/json&request.body={}",
			ok: true, wire: "OPTIONS", origins: "{app}", acrm: "POST", acrh: "content-type", door: map[string]string{"event": "queued"}},
	}
}

// checkDoor compares what the door let the page see with a case's door
// expectation.
func checkDoor(want map[string]string, d *session.Door, r *strings.Replacer) []string {
	if d == nil {
		return []string{"browser: the run has no door record"}
	}
	var p []string
	bad := func(format string, args ...any) { p = append(p, "browser: door "+fmt.Sprintf(format, args...)) }
	for _, k := range slices.Sorted(maps.Keys(want)) {
		w := r.Replace(want[k])
		var got string
		switch k {
		case "event":
			got = d.Event
		case "width":
			got = strconv.Itoa(d.Width)
		case "height":
			got = strconv.Itoa(d.Height)
		case "canvas":
			got = d.Canvas
		case "rules":
			got = d.Rules
		case "applied":
			got = strconv.FormatBool(d.Applied)
		case "closeCode":
			got = strconv.Itoa(d.CloseCode)
		case "messages":
			got = strconv.Itoa(len(d.Messages))
		case "scriptError":
			if !strings.Contains(d.ScriptError, w) {
				bad("scriptError %q does not contain %q", d.ScriptError, w)
			}
			continue
		case "message":
			if !slices.ContainsFunc(d.Messages, func(m string) bool { return strings.Contains(m, w) }) {
				bad("no message contains %q: %q", w, d.Messages)
			}
			continue
		default:
			bad("expectation %q is not a door field", k)
			continue
		}
		if got != w {
			bad("%s %q, want %q", k, got, w)
		}
	}
	return p
}
