// Package need answers "what CORS configuration does my page need?": from
// what a page does (its origins, method, headers, credentials, the response
// headers it reads, a redirect to a signed S3 URL), it derives the narrowest
// policy that lets the request through, explains every header of it with the
// Fetch standard's rules (playground/cors), and writes that policy as
// ready-to-paste configuration for the servers corslab can start and test:
// corslab's own api, an S3 bucket, nginx, Express with the cors package, and
// Go's rs/cors and jub0bs/cors. Every snippet is proven by a browser test
// (proof_browser_test.go) that runs the real server with it.
//
// The package is pure: no network, no server code.
package need

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/corslab/corslab/playground/cors"
)

// Need is what a page does, as the learner describes it.
type Need struct {
	// Origins are the serialized origins of the pages that make the
	// request, scheme://host[:port].
	Origins []string `json:"origins"`
	// Method is the request's method; "" means GET.
	Method string `json:"method"`
	// Headers are the request headers the page sets, as names ("X-Api-Key")
	// or with the value it sends ("Content-Type: application/json"): a few
	// headers are safelisted only for some values.
	Headers []string `json:"headers"`
	// Credentials is fetch's credentials: "include" (cookies, HTTP auth).
	Credentials bool `json:"credentials"`
	// Expose are the response headers JavaScript must read.
	Expose []string `json:"expose"`
	// SignedS3Redirect says the server answers with a redirect to a
	// presigned S3 URL, which the browser follows.
	SignedS3Redirect bool `json:"signedS3Redirect"`
}

// MaxAge is the preflight cache lifetime the policy asks for, in seconds:
// ten minutes spares most preflights and stays below every browser's cap
// (Chromium's is two hours), so a change to the policy reaches browsers
// soon.
const MaxAge = 600

// Policy is the narrowest CORS policy that serves a Need.
type Policy struct {
	// Origins is the exact allowlist: each is answered with itself in
	// Access-Control-Allow-Origin, any other with no CORS headers.
	Origins []string `json:"origins"`
	// Method is the request's method, normalized as fetch() does.
	Method string `json:"method"`
	// Preflight says the browser sends a preflight first.
	Preflight bool `json:"preflight"`
	// AllowMethods is Access-Control-Allow-Methods: the method if it is not
	// safelisted, else empty.
	AllowMethods []string `json:"allowMethods"`
	// AllowHeaders is Access-Control-Allow-Headers: the request headers
	// that are not safelisted, lower-case.
	AllowHeaders []string `json:"allowHeaders"`
	// Credentials is Access-Control-Allow-Credentials: true.
	Credentials bool `json:"credentials"`
	// Expose is Access-Control-Expose-Headers: the response headers asked
	// for that JavaScript could not read without it.
	Expose []string `json:"expose"`
	// MaxAge is Access-Control-Max-Age on preflights, 0 without preflight.
	MaxAge int `json:"maxAge"`
	// Vary is always Origin: the answer depends on the request's Origin.
	Vary string `json:"vary"`
	// Bucket is the S3 bucket rule, nil when S3 cannot serve the method
	// (S3 allows only GET, PUT, HEAD, POST and DELETE).
	Bucket *BucketRule `json:"bucket,omitempty"`
	// Why explains each header, in the order they are listed.
	Why []Reason `json:"why"`
	// Notes are warnings and caveats for the learner.
	Notes []string `json:"notes,omitempty"`
}

// BucketRule is the S3 CORSRule that serves the request at the bucket.
type BucketRule struct {
	Origins []string `json:"allowedOrigins"`
	Methods []string `json:"allowedMethods"`
	Headers []string `json:"allowedHeaders"`
	Expose  []string `json:"exposeHeaders"`
	MaxAge  int      `json:"maxAgeSeconds"`
	// Why says why the rule names these origins.
	Why string `json:"why"`
}

// Reason says why the policy sends a header.
type Reason struct {
	Header string `json:"header"`
	Value  string `json:"value"`
	Why    string `json:"why"`
}

// s3Methods are the methods a CORSRule may allow.
var s3Methods = []string{"GET", "PUT", "HEAD", "POST", "DELETE"}

// Solve validates n and derives its policy. All problems are joined into
// one error, each naming its field and the rule it breaks.
func Solve(n Need) (*Policy, error) {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	p := &Policy{Vary: "Origin"}

	// Origins.
	if len(n.Origins) == 0 {
		bad("origins", "name at least one origin, the scheme://host[:port] of the page that makes the request")
	}
	for _, o := range n.Origins {
		if msg := checkOrigin(o); msg != "" {
			bad("origins", "%s; got %q", msg, o)
			continue
		}
		if !slices.Contains(p.Origins, o) {
			p.Origins = append(p.Origins, o)
		}
	}

	// Method. fetch.spec.whatwg.org/#concept-method-normalize
	p.Method = "GET"
	switch {
	case n.Method == "":
	case !cors.IsToken(n.Method):
		bad("method", "must be an HTTP token (letters, digits and !#$%%&'*+-.^_`|~); got %q", n.Method)
	case cors.ForbiddenMethod(n.Method):
		bad("method", "fetch() refuses %s outright (a forbidden method), so no policy helps", n.Method)
	default:
		p.Method = cors.NormalizeMethod(n.Method)
	}

	// Request headers. fetch.spec.whatwg.org/#cors-safelisted-request-header
	var headerWhy []string
	for _, h := range n.Headers {
		name, value, hasValue := strings.Cut(h, ":")
		name, value = strings.Trim(name, " \t"), strings.Trim(value, " \t")
		switch {
		case !cors.IsToken(name):
			bad("headers", "header names must be tokens (letters, digits and !#$%%&'*+-.^_`|~), optionally followed by \": value\"; got %q", h)
			continue
		case cors.ForbiddenRequestHeader(name, value):
			bad("headers", "%s is a forbidden request header: the browser sets it or drops it, a page cannot; got %q", name, h)
			continue
		}
		lower := strings.ToLower(name)
		if ok, why := cors.SafelistedRequestHeader(name, value); ok {
			p.Notes = append(p.Notes, fmt.Sprintf("%s needs no permission: it is CORS-safelisted with this value (fetch.spec.whatwg.org/#cors-safelisted-request-header).", name))
			continue
		} else if !slices.Contains(p.AllowHeaders, lower) {
			if !hasValue && lower == "content-type" {
				why = "a page that sets it usually sends application/json, which is not safelisted (only application/x-www-form-urlencoded, multipart/form-data and text/plain are); give the value, \"Content-Type: text/plain\", if yours is one of those"
			}
			p.AllowHeaders = append(p.AllowHeaders, lower)
			headerWhy = append(headerWhy, fmt.Sprintf("%s: %s", name, why))
		}
	}

	// Response headers. fetch.spec.whatwg.org/#cors-safelisted-response-header-name
	for _, h := range n.Expose {
		switch {
		case !cors.IsToken(h):
			bad("expose", "header names must be tokens (letters, digits and !#$%%&'*+-.^_`|~); got %q", h)
		case strings.EqualFold(h, "set-cookie") || strings.EqualFold(h, "set-cookie2"):
			bad("expose", "JavaScript can never read %s (a forbidden response header), whatever the server sends", h)
		case cors.SafelistedResponseHeader(h):
			p.Notes = append(p.Notes, fmt.Sprintf("%s needs no exposing: JavaScript reads it anyway (a CORS-safelisted response header).", h))
		case !slices.ContainsFunc(p.Expose, func(e string) bool { return strings.EqualFold(e, h) }):
			p.Expose = append(p.Expose, h)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	p.Credentials = n.Credentials
	if !cors.SafelistedMethod(p.Method) {
		p.AllowMethods = []string{p.Method}
	}
	p.Preflight = len(p.AllowMethods) > 0 || len(p.AllowHeaders) > 0
	if p.Preflight {
		p.MaxAge = MaxAge
	}
	p.explain(headerWhy)
	p.bucket(n.SignedS3Redirect)
	if n.Credentials {
		for _, o := range p.Origins {
			if strings.HasPrefix(o, "http://") && !loopback(o) {
				p.Notes = append(p.Notes, fmt.Sprintf("%s is not https: with credentials, a network attacker who can spoof it reads the answer. jub0bs/cors refuses it unless told DangerouslyTolerateInsecureOrigins.", o))
			}
		}
	}
	return p, nil
}

// checkOrigin returns what is wrong with a serialized origin, or "".
// html.spec.whatwg.org/multipage/browsers.html#ascii-serialisation-of-an-origin
func checkOrigin(o string) string {
	const rule = "must be a serialized origin, scheme://host[:port]"
	switch {
	case o == "*":
		return rule + ", not *: the policy lists exact origins (and * never works with credentials)"
	case o == "null":
		return rule + ", not null: any sandboxed iframe or data: page sends null, so allowing it allows everyone (lesson \"Trusting null\"); for a redirect to S3 use --s3-redirect"
	case strings.Contains(o, "*"):
		return rule + ", without wildcards: list each origin"
	}
	u, err := url.Parse(o)
	switch {
	case err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "":
		return rule
	case u.Scheme != "http" && u.Scheme != "https":
		return rule + " with scheme http or https"
	case u.User != nil:
		return rule + ", without user name or password"
	case u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(o, "?") || strings.HasSuffix(o, "#"):
		return rule + ", without path (not even /), query or fragment: the browser's Origin header has none"
	case u.Port() == "80" && u.Scheme == "http" || u.Port() == "443" && u.Scheme == "https":
		return rule + ", without the scheme's default port: the browser's Origin header leaves it out"
	case o != strings.ToLower(o):
		return rule + " in lower case: the browser's Origin header is, and the match is exact"
	case !validPort(u.Port()):
		return rule + ", with a port from 1 to 65535 written without leading zeros"
	}
	if msg := checkHost(u.Hostname()); msg != "" {
		return rule + ", " + msg
	}
	return ""
}

// checkHost returns what is wrong with an origin's host as the browser
// serializes it, or "": a domain name, an IPv4 address in dotted-quad
// notation, or an IPv6 address in brackets in its compressed form.
// url.spec.whatwg.org/#host-serializing
func checkHost(h string) string {
	if ip := net.ParseIP(h); ip != nil {
		if ip.String() != h {
			return "with the address written as the browser does: " + ip.String()
		}
		return ""
	}
	labels := strings.Split(h, ".")
	for _, l := range labels {
		if !hostLabel.MatchString(l) {
			return "whose host is a domain name (letters, digits and hyphens between dots) or an IP address"
		}
	}
	if last := labels[len(labels)-1]; strings.Trim(last, "0123456789") == "" || strings.HasPrefix(last, "0x") {
		// The URL parser reads a numeric last label as IPv4: http://0 is http://0.0.0.0.
		return "with an IPv4 address written as four decimal numbers, the way the browser writes it"
	}
	return ""
}

var hostLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// validPort reports whether p is "" or a port as the browser writes it.
func validPort(p string) bool {
	if p == "" {
		return true
	}
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535 && strconv.Itoa(n) == p
}

// loopback reports whether an origin's host is localhost or a loopback
// address, which browsers treat as potentially trustworthy.
func loopback(o string) bool {
	u, _ := url.Parse(o)
	h := u.Hostname()
	return h == "localhost" || strings.HasSuffix(h, ".localhost") || strings.HasPrefix(h, "127.") || h == "::1"
}

// explain fills Why, header by header.
func (p *Policy) explain(headerWhy []string) {
	add := func(h, v, why string) { p.Why = append(p.Why, Reason{h, v, why}) }
	many := ""
	if len(p.Origins) > 1 {
		many = " A header holds one origin, so the server compares the request's Origin with its list, exactly, and answers with that one."
	}
	add("Access-Control-Allow-Origin", "the request's Origin, if it is "+strings.Join(p.Origins, " or "),
		"The browser hands the response to JavaScript only if this header equals the page's origin (fetch.spec.whatwg.org/#cors-check). Any other origin gets no such header, so its pages cannot read the answer."+many)
	add("Vary", "Origin", "The answer depends on the request's Origin: an allowed origin gets its name back, any other nothing. Vary: Origin tells caches (the browser's, a CDN's) not to hand one origin's answer to another. It is sent always, even with a single origin, because the refusal differs from the acceptance too.")
	if p.Credentials {
		add("Access-Control-Allow-Credentials", "true", "The page sends credentials (cookies, HTTP auth), and the browser then requires this header, exactly true, on the preflight and on the response (fetch.spec.whatwg.org/#cors-check). It also rules out * in Access-Control-Allow-Origin.")
	}
	if len(p.AllowMethods) > 0 {
		add("Access-Control-Allow-Methods", strings.Join(p.AllowMethods, ", "), fmt.Sprintf("%s is not a CORS-safelisted method (GET, HEAD, POST), so the browser first sends a preflight, OPTIONS with Access-Control-Request-Method: %s, and goes on only if the answer lists it (fetch.spec.whatwg.org/#cors-preflight-fetch). Method names are case-sensitive.", p.Method, p.Method))
	}
	if len(p.AllowHeaders) > 0 {
		add("Access-Control-Allow-Headers", strings.Join(p.AllowHeaders, ", "), "These request headers are not CORS-safelisted, so they trigger a preflight and must be listed in its answer: "+strings.Join(headerWhy, "; ")+".")
	}
	if p.Preflight {
		add("Access-Control-Max-Age", fmt.Sprint(p.MaxAge), "The browser may reuse the preflight's answer for this many seconds instead of asking again. Ten minutes is modest: a change to the policy reaches every browser soon, and every browser's cap is higher (Chromium: 2 hours).")
	} else {
		p.Notes = append(p.Notes, fmt.Sprintf("No preflight: %s with only safelisted headers is a simple request, so the server needs no Access-Control-Allow-Methods, -Headers or -Max-Age.", p.Method))
	}
	if len(p.Expose) > 0 {
		add("Access-Control-Expose-Headers", strings.Join(p.Expose, ", "), "JavaScript reads only the CORS-safelisted response headers (Cache-Control, Content-Language, Content-Length, Content-Type, Expires, Last-Modified, Pragma) unless the response names the others here (fetch.spec.whatwg.org/#cors-safelisted-response-header-name).")
	}
}

// bucket derives the S3 bucket's rule. After a redirect from one origin to
// another, itself cross-origin to the page, the request's origin is
// redirect-tainted and the browser sends Origin: null to the bucket
// (fetch.spec.whatwg.org/#concept-request-tainted-origin): the rule must
// name null, which S3 compares as four letters.
func (p *Policy) bucket(redirect bool) {
	method := p.Method
	if redirect && method == "POST" {
		// A 303 (or 301, 302) turns POST into GET; 307 and 308 keep it.
		method = "GET"
	}
	if !slices.Contains(s3Methods, method) {
		p.Notes = append(p.Notes, fmt.Sprintf("No S3 bucket rule: a CORSRule allows only GET, PUT, HEAD, POST and DELETE, not %s.", method))
		return
	}
	r := &BucketRule{
		Origins: slices.Clone(p.Origins),
		Methods: []string{method},
		Headers: slices.Clone(p.AllowHeaders),
		Expose:  slices.Clone(p.Expose),
		MaxAge:  p.MaxAge,
		Why:     "The page fetches the bucket directly (say, a signed URL it got first), so the bucket sees the page's own Origin. S3 answers with the matching origin and, for any rule that is not *, Access-Control-Allow-Credentials: true and Vary: Origin.",
	}
	if redirect {
		r.Origins = []string{"null"}
		r.Why = "The api's redirect sends the browser from the api's origin to the bucket's, a third origin: the request's origin is now redirect-tainted and the browser sends Origin: null (fetch.spec.whatwg.org/#concept-request-tainted-origin; lesson \"Signed URLs, redirects and Origin: null\"). S3 compares Origin with AllowedOrigin as plain text, so the rule must name null; the page's real origin would never match. null checks nothing, since any sandboxed page sends it: the signature in the URL guards the file. If the page also fetches signed URLs directly (two-phase, no redirect), add its own origins to the rule."
		if p.Method == "POST" {
			r.Why += " The api must answer with 303 See Other, which turns the POST into a GET at the bucket."
		}
	}
	p.Bucket = r
}
