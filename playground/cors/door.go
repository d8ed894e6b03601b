package cors

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// A Door is a way a page makes a request to another origin: fetch(), and
// the older ones, each with its own defaults. What a door decides is the
// request's mode and credentials mode (and so whether CORS applies at
// all), which settings the page has, and what the page gets to observe of
// the answer. The engine runs every door through the same algorithm; the
// door only sets its inputs and reads its result (doorSeen).
type Door struct {
	Via string // as request.via says it: "img+canvas"
	// Name is how the page writes it: "<img>", "XMLHttpRequest".
	Name string
	// Attribute: the element has a crossorigin attribute (a CORS settings
	// attribute); WithCredentials: the API has a withCredentials flag.
	Attribute, WithCredentials bool
	// Methods the page may use; nil for any.
	Methods []string
	// Headers and Body: the page may set request headers, send a body.
	Headers, Body bool
	// CORS is false for the doors CORS does not cover at all: a WebSocket
	// handshake and a form's navigation reach the server whatever it
	// answers, and the server alone decides.
	CORS bool
	// Spec is the link to where the door's request is defined.
	Spec string
}

// Links to the standards outside Fetch that define the doors.
const (
	htmlSpec      = "https://html.spec.whatwg.org/multipage/"
	specCORSAttr  = htmlSpec + "urls-and-fetching.html#cors-settings-attributes"
	specImage     = htmlSpec + "images.html#update-the-image-data"
	specCanvas    = htmlSpec + "canvas.html#security-with-canvas-elements"
	specScript    = htmlSpec + "webappapis.html#muted-errors"
	specStyle     = htmlSpec + "semantics.html#the-link-element"
	specCSSOM     = "https://drafts.csswg.org/cssom/#dom-cssstylesheet-cssrules"
	specFont      = "https://drafts.csswg.org/css-fonts/#font-fetching-requirements"
	specXHR       = "https://xhr.spec.whatwg.org/#the-withcredentials-attribute"
	specEvents    = htmlSpec + "server-sent-events.html#dom-eventsource"
	specWebSocket = "https://websockets.spec.whatwg.org/#concept-websocket-establish"
	specForm      = htmlSpec + "form-control-infrastructure.html#form-submission-algorithm"
	specBeacon    = "https://w3c.github.io/beacon/#sec-processing-model"
	specORB       = Spec + "#orb-algorithm"
)

var doors = []Door{
	{Via: "fetch", Name: "fetch()", Headers: true, Body: true, CORS: true, Spec: Spec + "#dom-global-fetch"},
	{Via: "xhr", Name: "XMLHttpRequest", WithCredentials: true, Headers: true, Body: true, CORS: true, Spec: specXHR},
	{Via: "img", Name: "<img>", Attribute: true, Methods: []string{"GET"}, CORS: true, Spec: specImage},
	{Via: "img+canvas", Name: "<img>", Attribute: true, Methods: []string{"GET"}, CORS: true, Spec: specCanvas},
	{Via: "script", Name: "<script>", Attribute: true, Methods: []string{"GET"}, CORS: true, Spec: specScript},
	{Via: "font", Name: "@font-face", Methods: []string{"GET"}, CORS: true, Spec: specFont},
	{Via: "stylesheet", Name: "<link rel=stylesheet>", Attribute: true, Methods: []string{"GET"}, CORS: true, Spec: specStyle},
	{Via: "eventsource", Name: "EventSource", WithCredentials: true, Methods: []string{"GET"}, CORS: true, Spec: specEvents},
	{Via: "websocket", Name: "WebSocket", Methods: []string{"GET"}, Body: true, Spec: specWebSocket}, // the body: a message sent once open
	{Via: "form", Name: "<form>", Methods: []string{"GET", "POST"}, Body: true, Spec: specForm},
	{Via: "beacon", Name: "navigator.sendBeacon()", Methods: []string{"POST"}, Body: true, CORS: true, Spec: specBeacon},
}

// Doors lists every door's Via, fetch first. Each call returns a new slice.
func Doors() []string {
	out := make([]string, len(doors))
	for i, d := range doors {
		out[i] = d.Via
	}
	return out
}

// DoorOf is the door named via; "" is fetch.
func DoorOf(via string) (Door, bool) {
	if via == "" {
		via = "fetch"
	}
	for _, d := range doors {
		if d.Via == via {
			return d, true
		}
	}
	return Door{}, false
}

// Values of a crossorigin attribute: "none" is no attribute at all.
// html.spec.whatwg.org/#cors-settings-attributes
func CrossOriginValues() []string { return []string{"none", "anonymous", "use-credentials"} }

// Enctypes are a form's encodings.
// html.spec.whatwg.org/#attr-fs-enctype
func Enctypes() []string {
	return []string{"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"}
}

// Modes gives the request's mode and credentials mode, as the door sets
// them from the page's settings. For fetch they are the page's own.
func (d Door) Modes(r Request) (mode, credentials string) {
	switch {
	case d.Via == "fetch":
		return r.Mode, r.Credentials
	case d.Attribute:
		// No attribute: a no-cors request with cookies. anonymous: CORS,
		// cookies for the same origin only. use-credentials: CORS with
		// cookies.
		switch r.CrossOrigin {
		case "anonymous":
			return "cors", "same-origin"
		case "use-credentials":
			return "cors", "include"
		}
		return "no-cors", "include"
	case d.WithCredentials:
		if r.WithCredentials {
			return "cors", "include"
		}
		return "cors", "same-origin"
	case d.Via == "font":
		return "cors", "same-origin"
	case d.Via == "websocket":
		return "websocket", "include"
	case d.Via == "form":
		return "navigate", "include"
	case d.Via == "beacon":
		// A body whose type is not CORS-safelisted makes a CORS request;
		// any other a no-cors one. Either way with cookies.
		for _, h := range r.Headers {
			if strings.EqualFold(h[0], "Content-Type") {
				if ok, _ := safelistedRequestHeader(h[0], h[1]); !ok {
					return "cors", "include"
				}
			}
		}
		return "no-cors", "include"
	}
	return r.Mode, r.Credentials
}

// Setting is the door's settings as the page writes them, for a step:
// `crossorigin="anonymous"`, `withCredentials: true`, or "".
func (d Door) Setting(r Request) string {
	switch {
	case d.Attribute && r.CrossOrigin != "" && r.CrossOrigin != "none":
		return "`crossorigin=\"" + r.CrossOrigin + "\"`"
	case d.Attribute:
		return "no `crossorigin` attribute"
	case d.WithCredentials && r.WithCredentials:
		return "`withCredentials: true`"
	case d.WithCredentials:
		return "no `withCredentials`"
	}
	return ""
}

// openDoor sets the request's mode and credentials mode as the door does,
// and says so: the first step of every door but fetch().
func (e *explainer) openDoor() {
	d := e.door
	e.req.Mode, e.req.Credentials = d.Modes(e.req)
	e.req.Redirect = "follow"
	if d.Via == "font" && e.b.FontsWithoutCORS {
		e.req.Mode = "no-cors"
		st := e.step(true, StageRequest, specFont, 0, "%s fetches a font from `@font-face` in mode `no-cors`, credentials `%s`: CORS does not decide whether it is used.", e.b.Title, e.req.Credentials)
		st.Note = e.b.Note("FontsWithoutCORS")
		return
	}
	if !d.CORS {
		return // runUncovered explains it
	}
	setting := d.Setting(e.req)
	if setting != "" {
		setting = " with " + setting
	}
	modes := fmt.Sprintf("mode `%s`, credentials `%s`", e.req.Mode, e.req.Credentials)
	switch {
	case d.Attribute && e.req.Mode == "no-cors":
		e.step(true, StageRequest, specCORSAttr, 0, "The page's `%s`%s: the browser fetches it in %s. CORS does not decide whether it loads, only what the page may do with it.", d.Name, setting, modes)
	case d.Attribute:
		e.step(true, StageRequest, specCORSAttr, 0, "The page's `%s`%s: the browser fetches it in %s. From another origin it loads only if the server's CORS headers allow it.", d.Name, setting, modes)
	case d.Via == "font":
		e.step(true, StageRequest, specFont, 0, "A font from `@font-face` is always fetched in %s: from another origin it needs `Access-Control-Allow-Origin`, or the browser falls back to the next font in the list.", modes)
	case d.Via == "beacon":
		e.step(true, StageRequest, specBeacon, 0, "`%s` sends a `POST` in %s, kept alive past the page. The page learns only whether the request was queued, never the answer.", d.Name, modes)
	default:
		e.step(true, StageRequest, d.Spec, 0, "`%s`%s: the browser sends the request in %s.", d.Name, setting, modes)
	}
}

// doorSeen says what the door lets the page observe of the fetch that ran,
// and sets the verdict to that: OK when the door did what the page wanted.
func (e *explainer) doorSeen() {
	d := e.door
	if d.Via == "xhr" {
		if !e.v.OK {
			e.step(false, e.v.Stage, specXHR, e.v.FailedSeq, "`XMLHttpRequest` fires its `error` event, and `status` reads 0: the page learns no more than `fetch()` would.")
		}
		return
	}
	e.v.Exposed = []string{}
	if d.Via == "beacon" {
		e.beaconSeen()
		return
	}
	if !e.finished {
		// A network error: every element and EventSource gets an error event.
		e.step(false, e.v.Stage, d.Spec, e.v.FailedSeq, "The request failed, so the page sees an `error` event on the `%s`, and no more.", d.Name)
		return
	}
	ex := e.final
	fail := func(anchor, format string, args ...any) {
		e.v.OK, e.v.Stage, e.v.FailedSeq = false, StageResponse, ex.Seq
		e.step(false, StageResponse, anchor, ex.Seq, format, args...)
	}
	succeed := func(anchor, format string, args ...any) {
		e.v.OK, e.v.Stage, e.v.FailedSeq = true, "", 0
		e.step(true, StageResponse, anchor, ex.Seq, format, args...)
	}
	opaque := e.tainting == "opaque"
	ctype := strings.ToLower(header(ex.ResponseHeaders, "Content-Type"))
	if ex.Status < 200 || ex.Status > 299 {
		fail(d.Spec, "The answer's status is `%d`, not a 2xx: the `%s` fires its `error` event.", ex.Status, d.Name)
		return
	}
	switch d.Via {
	case "img", "img+canvas":
		if !strings.HasPrefix(ctype, "image/") {
			fail(specImage, "The answer is `%s`, not an image: the `<img>` fires its `error` event.", ctype)
			return
		}
		if d.Via == "img" {
			succeed(specImage, "The image loads: the page sees it and its size (`naturalWidth`, `naturalHeight`), whatever CORS said.")
			return
		}
		if opaque {
			fail(specCanvas, "The image loads, but it came without CORS, so drawing it taints the canvas: `getImageData()` throws a `SecurityError`.")
			return
		}
		succeed(specCanvas, "The image loads with CORS, so the canvas stays clean: `getImageData()` reads its pixels.")
	case "script":
		if opaque && orbBlocks(ctype) {
			if e.b.ORBEmptyBody {
				succeed(specORB, "The answer is `%s`, which opaque-response blocking keeps from a no-cors request: %s hands the `<script>` an empty body instead, so it fires `load` and runs nothing.", ctype, e.b.Title)
				e.v.Steps[len(e.v.Steps)-1].Note = e.b.Note("ORBEmptyBody")
				return
			}
			fail(specORB, "The answer is `%s`, which opaque-response blocking keeps from a no-cors request: a network error, and the `<script>` fires `error`.", ctype)
			return
		}
		if opaque && e.b.ScriptErrorsNotMuted {
			succeed(specScript, "The script runs. It came without CORS, yet %s does not mute its errors: `window.onerror` gets the message, file and line.", e.b.Title)
			e.v.Steps[len(e.v.Steps)-1].Note = e.b.Note("ScriptErrorsNotMuted")
			return
		}
		if opaque {
			succeed(specScript, "The script runs. It came without CORS, so its errors are muted: `window.onerror` gets only `Script error.`, no message, file or line.")
			return
		}
		succeed(specScript, "The script runs, and since it came with CORS its errors reach `window.onerror` in full: message, file and line.")
	case "stylesheet":
		if !strings.HasPrefix(ctype, "text/css") {
			fail(specStyle, "The answer is `%s`, not `text/css`: the browser ignores a cross-origin stylesheet of another type, and the `<link>` fires its `error` event.", ctype)
			return
		}
		if opaque {
			succeed(specCSSOM, "The stylesheet applies. It came without CORS, so reading its rules (`sheet.cssRules`) throws a `SecurityError`.")
			return
		}
		succeed(specCSSOM, "The stylesheet applies, and since it came with CORS the page may read its rules (`sheet.cssRules`).")
	case "font":
		if opaque {
			succeed(specFont, "%s uses the font, though it came without CORS.", e.b.Title)
			e.v.Steps[len(e.v.Steps)-1].Note = e.b.Note("FontsWithoutCORS")
			return
		}
		succeed(specFont, "The font passed the CORS check: the browser uses it.")
	case "eventsource":
		if !strings.HasPrefix(ctype, "text/event-stream") || ex.Status != 200 {
			fail(specEvents, "The answer is `%d` `%s`, not `200` `text/event-stream`: the `EventSource` fails the connection and fires `error`.", ex.Status, ctype)
			return
		}
		succeed(specEvents, "The stream passed the CORS check: the `EventSource` opens and the page reads every event.")
	}
}

// orbBlocks says whether opaque-response blocking stops a no-cors answer
// of this type from reaching the page: the types that can never be an
// image, media, script or stylesheet a page may use without CORS (JSON,
// HTML, XML). fetch.spec.whatwg.org/#orb-algorithm
func orbBlocks(ctype string) bool {
	t, _, _ := strings.Cut(ctype, ";")
	t = strings.TrimSpace(t)
	return t == "application/json" || t == "text/json" || strings.HasSuffix(t, "+json") ||
		t == "text/html" || t == "text/xml" || t == "application/xml" || strings.HasSuffix(t, "+xml")
}

// beaconSeen: sendBeacon() only queues the request, so the page sees the
// same whatever happens; what happened is in the traffic.
func (e *explainer) beaconSeen() {
	delivered := e.finished || slices.ContainsFunc(e.exchanges[:e.next], func(x Exchange) bool {
		return x.Method == "POST" && x.Status != 0
	})
	text := "The browser never sent the `POST`: the server got nothing."
	if delivered {
		text = "The server got the `POST`."
	}
	e.v.OK, e.v.Stage, e.v.FailedSeq = true, "", 0
	e.step(true, StageResponse, specBeacon, 0, "`sendBeacon()` returned `true`: the request was queued, and that is all the page ever learns. %s", text)
}

// runUncovered explains the doors CORS does not cover: a WebSocket
// handshake and a form's navigation reach the server, with cookies, and
// only the server decides.
func (e *explainer) runUncovered() {
	u, err := url.Parse(e.req.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		e.fail(StageRequest, e.door.Spec, 0, "%q is not an http(s) URL.", e.req.URL)
		return
	}
	e.url, e.method = u, NormalizeMethod(e.req.Method)
	e.tainting = "navigate"
	if target := originOf(u); e.req.Origin != "null" && target == e.req.Origin {
		e.tainting = "basic"
	}
	ws := e.door.Via == "websocket"
	if ws {
		e.step(true, StageRequest, specWebSocket, 0, "`new WebSocket()` opens with a `GET` carrying `Upgrade: websocket`, `Origin: %s` and the cookies the browser has for the host. CORS does not apply: no preflight, no `Access-Control-*` check. The server alone decides whether to accept.", e.req.Origin)
	} else {
		enctype := e.req.Enctype
		if e.method == "GET" {
			enctype = "the fields in the URL's query"
		} else {
			enctype = "`Content-Type: " + enctype + "`"
		}
		e.step(true, StageRequest, specForm, 0, "A form submission is a navigation: the browser sends a `%s` with %s and cookies, never preflighted (forms could always do this), and loads the answer in the form's target frame. CORS does not apply, and the page cannot read the answer: the frame is another origin's.", e.method, enctype)
	}
	for {
		if !ws && e.method == "GET" && e.redirects == 0 {
			// A GET form puts its fields in the URL's query, in place
			// of any query the action had.
			if next := e.peek(); next != nil && next.Method == "GET" {
				if p, err := url.Parse(next.URL); err == nil && p.Path == e.url.Path && originOf(p) == originOf(e.url) {
					e.url = p
				}
			}
		}
		ex, ok := e.take(e.method)
		if !ok {
			e.fail(StageResponse, e.door.Spec, 0, "No `%s %s` reached a server: the browser stopped before sending it.", e.method, e.url.Path)
			return
		}
		if _, sent := headerOK(ex.RequestHeaders, "Origin"); sent {
			e.checkOrigin(ex, e.serializedOrigin())
		}
		e.explainCookies(ex)
		switch {
		case ex.Status == 0:
			e.fail(StageResponse, e.door.Spec, ex.Seq, "The server closed the connection without answering.")
			return
		case ws && ex.Status == 101:
			e.v.OK = true
			e.step(true, StageResponse, specWebSocket, ex.Seq, "The server accepted the handshake (`101`): the socket opens, and the page sends and reads messages. Nothing CORS would check was checked: only the server's own test of `Origin` could have refused a page it does not trust.")
			return
		case ws:
			e.fail(StageResponse, specWebSocket, ex.Seq, "The server refused the handshake with `%d`: the page gets an `error` event and a `close` event with code 1006, and never learns why.", ex.Status)
			return
		}
		switch e.redirect(ex) {
		case final:
			e.v.OK = true
			e.step(true, StageResponse, specForm, ex.Seq, "The target frame loads the `%d` answer. The page cannot read it (another origin's document), but the server acted on the request: a form needs no CORS to change things.", ex.Status)
			return
		case stopped:
			return
		}
	}
}
