package playground

import (
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
)

// Security headers, and where corslab sends them.
//
// corslab serves two kinds of responses, and they must be treated
// differently:
//
//   - corslab's own pages: everything on the UI origin (the lab, lessons,
//     the embed view, the matrix, the JSON API, the websocket, /static/),
//     and the runner page that the lab frames on app, api and evil. These
//     are ordinary web pages, and get the headers a careful site sends.
//   - the virtual origins' answers (the api's /users, the bucket, the app's
//     proxy, evil's pages under a session): what the learner configured,
//     byte for byte, recorded in the exchange log. corslab never adds a
//     header to them: any header there would be one more thing the browser
//     reacts to, and the lab would no longer show CORS alone.
//
// The UI origin sends no Access-Control-Allow-* header at all: its API is
// for its own pages, and no other origin may read it (security_test.go
// checks this).

// uiSecurity wraps the UI origin's handler: every response it gives, of
// every kind, carries these headers, except a static file that is only
// ever a part of a page (staticSubresource: a script, a stylesheet), which
// carries nosniff alone (see below).
//
//	Content-Security-Policy     what the page may load, connect to and frame
//	                            (uiCSP); an injected <script> or
//	                            on*="" attribute would not run
//	X-Content-Type-Options      nosniff: a response is only ever what its
//	                            Content-Type says (no JSON run as a script)
//	Referrer-Policy             no-referrer: lab URLs hold the session id,
//	                            which must not leak to the sites the lessons
//	                            link to
//	Cross-Origin-Opener-Policy  same-origin: a page that opened the lab (or
//	                            one it opens) gets no handle on its window
//	X-Frame-Options             DENY, for browsers that predate CSP's
//	                            frame-ancestors; not on the embed view
//
// The embed view, /embed/…, is made to be framed by any site, so it gets
// neither X-Frame-Options nor frame-ancestors (README "Lessons").
//
// All but nosniff are about a document: what it may load, the Referer of
// its requests, its window, who may frame it. A script or a stylesheet is
// never a document: the page that loads it is, and that page's headers
// rule (its policy, for one, covers every script it runs and each request
// those scripts make). On a static file they would be some 430 bytes
// that do nothing, on each of the twenty files the lab loads (HTTP/1.1
// does not compress headers): a tenth of its first load
// (TestStaticTransferInBrowser). nosniff stays: it is what makes the
// browser refuse such a file served as another type.
func (s *Server) uiSecurity(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		if staticSubresource(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		embed := isEmbedPath(r.URL.Path)
		h.Set("Content-Security-Policy", s.lastCSP.get(s.originsFor(r).host, embed, func() string { return s.uiCSP(r, embed) }))
		h.Set("Referrer-Policy", "no-referrer")
		// The lab opens no window it talks to: every link it opens in a
		// new tab is rel="noopener", and its runners are iframes, which
		// this header does not touch.
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if !embed {
			h.Set("X-Frame-Options", "DENY")
		}
		next.ServeHTTP(w, r)
	})
}

// isEmbedPath reports whether a UI path is the embed view (or its
// redirect, or an error shown in its place), which other sites frame.
func isEmbedPath(path string) bool { return strings.HasPrefix(path, "/embed/") }

// uiCSP is the Content-Security-Policy of the UI origin's responses. The
// origins it names are those of the browser that sent r, built the same
// way as the page's own (originsFor), so that a lab opened on localhost,
// 127.0.0.1, corslab.localhost or a LAN address allows its own runners.
// requestHost lets only letters, digits, '-', '.' and IP addresses
// through, so the Host header cannot add a directive of its own.
//
//	default-src 'self'        anything not named below: this origin only
//	script-src 'self'         the ES modules in /static/; no inline script,
//	                          no eval (the page data is a JSON <script>,
//	                          which is data, not script, and CSP lets it be)
//	style-src 'self'          lab.css and matrix.css; no style="" attribute
//	img-src 'self' data:      the page icon is "data:," (an empty icon, so
//	                          that no browser asks the virtual origins for
//	                          /favicon.ico); the lab shows no other image,
//	                          not even the bucket's. (An image in a lesson's
//	                          Markdown must be a data: URL: one from another
//	                          site would be blocked.)
//	connect-src 'self' ws:…   the JSON API, and the websocket. CSP Level 3
//	                          lets 'self' match ws: on the same host and
//	                          port, and Chromium does, but browsers from
//	                          before that rule need the ws: origin spelt out
//	frame-src …               the runner pages: app (also the sandboxed
//	                          runners, whose URL is the app's), api and evil,
//	                          and look-alike hosts, any name under
//	                          .localhost on the app's port. The data: and
//	                          srcdoc frames are not the lab's: app's runner
//	                          makes them, under its own policy (runnerCSP)
//	object-src 'none'         no plugins
//	base-uri 'none'           no <base> to move the page's relative URLs
//	form-action 'self'        forms post only here (the lab's are never
//	                          submitted; JavaScript reads them)
//	frame-ancestors 'none'    no site may frame the lab (clickjacking);
//	                          left out on the embed view
//
// The lab never fetches another origin itself: the runner frames do, under
// their own policy (runnerCSP).
func (s *Server) uiCSP(r *http.Request, embed bool) string {
	o := s.originsFor(r)
	connect := "'self'"
	frames := "http:"
	if cspNamesHost(o.host) {
		connect += " ws://" + strings.TrimPrefix(o.url(UI), "http://")
		frames = o.url(App) + " " + o.url(API) + " " + o.url(Evil)
	}
	// A look-alike page is the app's server on another host name under
	// .localhost (lookalikeOrigin).
	frames += " http://*.localhost:" + strconv.Itoa(s.ports[App])
	directives := []string{
		"default-src 'self'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src 'self' data:",
		"connect-src " + connect,
		"frame-src " + frames,
		"object-src 'none'",
		"base-uri 'none'",
		"form-action 'self'",
	}
	if !embed {
		directives = append(directives, "frame-ancestors 'none'")
	}
	return strings.Join(directives, "; ")
}

// cspNamesHost reports whether a CSP source expression can name the host.
// CSP's grammar has no IPv6 literals: Chromium ignores
// "http://[::1]:8081" and says so in the console. On such a host the
// policy falls back to what it can say: 'self' for the websocket, and the
// scheme "http:" for frames.
func cspNamesHost(host string) bool { return !strings.Contains(host, ":") }

// runnerPage wraps the runner page, /_corslab/runner, on app, api and
// evil. The page is corslab's own, not the learner's: the lab loads it in
// a hidden iframe and asks it to call fetch(). So it may carry headers of
// its own, but only those that cannot change what that fetch() does or
// what the browser lets the page see:
//
//	X-Content-Type-Options: nosniff, as on the UI.
//	Content-Security-Policy (runnerCSP), without frame-ancestors.
//	Referrer-Policy: strict-origin-when-cross-origin, every engine's
//	  default, said out loud: the page's policy decides the Referer of the
//	  learner's request, and the Origin of a no-cors POST or a form's
//	  (null under no-referrer). A frame of another origin should get the
//	  default, but WebKit hands it its parent's policy, the lab's
//	  no-referrer, and so sent Origin: null where a real page sends its
//	  origin.
//
// And deliberately not:
//
//   - frame-ancestors or X-Frame-Options: the runner must be frameable by
//     the lab, and both are checked against EVERY ancestor. The embed view
//     frames runners while some documentation site frames the embed view;
//     any list would refuse that site, and the lesson would never run.
//   - Cross-Origin-Opener-Policy: the runner is always in a frame, where it
//     does nothing.
func (s *Server) runnerPage(role Role, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", runnerCSP(r, role))
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		next.ServeHTTP(w, r)
	})
}

// runnerCSP is the runner page's policy. The page runs its own scripts
// (runner.js, and doors.js once the lab asks for a door other than
// fetch()) and stylesheet, and then goes wherever the learner says, by
// whichever door the lab asks for: fetch() or XMLHttpRequest, an <img>, a
// <script>, a <link rel=stylesheet>, an @font-face, an EventSource, a
// WebSocket, a <form> or navigator.sendBeacon(). Each door's URL may be
// on any origin (and be redirected anywhere), so each directive that
// rules a door allows any URL: CSP must never be the reason a run fails.
// What it still refuses is what no door needs: inline script and style,
// eval, plugins, <base>.
//
//	default-src 'none'        nothing that is not named below: no workers,
//	                          media, manifests…
//	script-src *              runner.js and doors.js, from /_corslab/static/
//	                          on this origin, and the <script> door's URL
//	style-src *               runner.css, and the <link rel=stylesheet>
//	                          door's URL. The font door's @font-face rule is
//	                          in a constructed stylesheet
//	                          (document.adoptedStyleSheets), which CSP does
//	                          not count as inline style
//	img-src * data:           the <img> doors' URL, and the page icon, "data:,"
//	font-src *                the @font-face door's URL
//	connect-src *             fetch(), XMLHttpRequest, EventSource,
//	                          sendBeacon() and WebSocket
//	frame-src * [data:]       the form door's target: a hidden frame the
//	                          form navigates to its action's answer. data:
//	                          only on the app's runner asked for a data:
//	                          frame (?frame=data, runnerFrame): the frame
//	                          the learner's run happens in. An <iframe
//	                          srcdoc> needs none: its document comes from
//	                          the attribute, not from a request, so
//	                          frame-src never sees it
//	form-action *             the form door's action
//	object-src 'none', base-uri 'none'
//
// * matches any http: or https: URL whatever the page's own origin (CSP
// Level 3, "does url match expression"), and Chromium, Firefox and WebKit
// let it match a WebSocket's ws: and wss: URLs too (TestDoorsRunner). So
// it also covers the sandboxed runner, whose origin is opaque and for
// which 'self' may match nothing, and a host CSP's grammar cannot name (an
// IPv6 address): the policy names no host, and is the same on every one.
//
// The frames the app's runner makes (?frame=data or srcdoc) hold a page of
// corslab's too, which loads runner.js from this origin, and goes through
// the same doors. An <iframe srcdoc> document inherits this policy. A
// data: document should too (HTML gives a local-scheme document its
// initiator's policy container), but browsers have differed here, and one
// that gives it no policy leaves it unrestricted. Either way the script
// loads, and no door is refused. Nothing in either page is inline.
func runnerCSP(r *http.Request, role Role) string {
	frames := "frame-src *"
	if frame, _ := runnerFrame(r.URL.Query(), role); frame == "data" {
		frames += " data:"
	}
	return strings.Join([]string{
		"default-src 'none'",
		"script-src *",
		"style-src *",
		"img-src * data:",
		"font-src *",
		"connect-src *",
		frames,
		"form-action *",
		"object-src 'none'",
		"base-uri 'none'",
	}, "; ")
}

// noSniff wraps the runner's static files (/_corslab/static/ on app, api
// and evil): they are served with their real types, text/javascript and
// text/css, so nosniff costs nothing and stops a response being taken for
// another type.
func noSniff(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

// cspCache keeps the last policy made for each of the two kinds of page
// (embed or not), with the host it was made for: nearly every request to
// a corslab names the same host, and its policy is a dozen strings joined.
// One entry each, so a stream of odd hosts costs nothing but the making.
type cspCache [2]atomic.Pointer[cspEntry]

type cspEntry struct{ host, policy string }

func (c *cspCache) get(host string, embed bool, build func() string) string {
	slot := &c[0]
	if embed {
		slot = &c[1]
	}
	if e := slot.Load(); e != nil && e.host == host {
		return e.policy
	}
	policy := build()
	slot.Store(&cspEntry{host: host, policy: policy})
	return policy
}
