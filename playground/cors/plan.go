package cors

import (
	"net/url"
	"strings"
	"time"
)

// OriginOf serializes a URL's origin, as the Origin header carries it:
// "http://localhost:3000", without a default port.
// html.spec.whatwg.org/#ascii-serialisation-of-an-origin
func OriginOf(u *url.URL) string { return originOf(u) }

// Send is a request the browser sends, as the model predicts it: what a
// probe puts on the wire to stand in for the browser.
type Send struct {
	// Preflight says this is the CORS preflight, the OPTIONS request the
	// browser makes on its own, rather than the page's request.
	Preflight bool
	Method    string
	URL       string // absolute
	// Origin is the value of the Origin header, "" when the browser sends
	// none (a same-origin GET or HEAD).
	// fetch.spec.whatwg.org/#append-a-request-origin-header
	Origin string
	// Headers are the page's headers as fetch() kept them, or, on a
	// preflight, Access-Control-Request-Method and, when there is
	// anything to ask, Access-Control-Request-Headers. The headers any
	// request carries (Accept, User-Agent, Sec-Fetch-*) are the sender's.
	Headers [][2]string
	// Body says the request carries the page's body.
	Body bool
	// Credentials says the browser attaches the cookies it has for the
	// URL. fetch.spec.whatwg.org/#concept-request-credentials-mode
	Credentials bool
}

// Next says what the browser sends next for req, given the exchanges of
// this fetch so far (each one a request the browser sent and the answer
// it got), and false when it sends nothing more: the fetch is over, and
// Explain over the same exchanges says how it ended. The browser starts
// with an empty preflight cache.
//
// Next is the engine run forwards: it explains the exchanges so far and
// reports the request the explanation looked for when they ran out, so a
// probe that sends what Next says, one request at a time, sends what the
// model says the browser would.
func Next(b *Browser, req Request, exchanges []Exchange, now time.Time) (Send, bool) {
	e := &explainer{b: b, req: req, exchanges: exchanges, cache: &Cache{}, now: now}
	e.v = Verdict{Browser: b.Name, Steps: make([]Step, 0, 16), Exposed: []string{}}
	e.run()
	if e.missing == "" {
		return Send{}, false
	}
	// The preflight's OPTIONS is the one looked for at the preflight
	// stage: a page's own OPTIONS request is looked for at the response
	// or redirect stage.
	if e.missing == "OPTIONS" && e.v.Stage == StagePreflight {
		return e.preflightSend(), true
	}
	return e.requestSend(), true
}

// preflightSend is the preflight for the current hop.
// fetch.spec.whatwg.org/#cors-preflight-fetch
func (e *explainer) preflightSend() Send {
	headers := [][2]string{{"Access-Control-Request-Method", e.method}}
	// Lower case, sorted, comma-joined, without spaces; absent when the
	// list is empty.
	if unsafe := e.unsafeNames(); len(unsafe) > 0 {
		headers = append(headers, [2]string{"Access-Control-Request-Headers", strings.Join(unsafe, ",")})
	}
	return Send{Preflight: true, Method: "OPTIONS", URL: e.url.String(), Origin: e.preflightOrigin(), Headers: headers}
}

// requestSend is the page's request for the current hop.
func (e *explainer) requestSend() Send {
	s := Send{Method: e.method, URL: e.url.String(), Headers: append([][2]string(nil), e.headers...), Body: e.body}
	// fetch.spec.whatwg.org/#append-a-request-origin-header: a CORS
	// request always carries Origin; any other only when its method is
	// neither GET nor HEAD.
	if e.tainting == "cors" || e.method != "GET" && e.method != "HEAD" {
		s.Origin = e.serializedOrigin()
	}
	switch e.req.Credentials {
	case "include":
		s.Credentials = true
	case "same-origin":
		s.Credentials = e.tainting == "basic"
	}
	return s
}
