package scenario

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Header names, in canonical form so that they can index an http.Header
// directly.
const (
	headerOrigin = "Origin"
	headerVary   = "Vary"
	headerACAO   = "Access-Control-Allow-Origin"
	headerACAC   = "Access-Control-Allow-Credentials"
	headerACAM   = "Access-Control-Allow-Methods"
	headerACAH   = "Access-Control-Allow-Headers"
	headerACMA   = "Access-Control-Max-Age"
	headerACEH   = "Access-Control-Expose-Headers"
	headerACRM   = "Access-Control-Request-Method"
	headerACRH   = "Access-Control-Request-Headers"
)

// originMode is what API.AllowOrigin asks for.
type originMode int

const (
	originNone    originMode = iota // send no Access-Control-Allow-Origin
	originFixed                     // send a fixed value: "*", "null", an origin...
	originEcho                      // reflect any Origin
	originAllowed                   // reflect an Origin the allowlist matches
)

// Policy is a validated API policy, ready to answer requests: its regexps are
// compiled and its header values built once, in NewPolicy.
//
// A Policy is immutable, so one can serve concurrent requests.
type Policy struct {
	origin    originMode
	allowlist []string
	match     string
	regexps   []*regexp.Regexp // for match regex, one per allowlist entry
	echoACAH  bool

	// Header values to send, nil when the header is not sent. Apply puts
	// these slices in responses as they are; each has len == cap, so that
	// appending to one copies it.
	acao []string
	acac []string
	acam []string
	acah []string
	acma []string
	aceh []string
	vary []string

	// extra are API.ExtraHeaders, canonical names to values.
	extra http.Header
}

// NewPolicy checks a, with the rules of Scenario.Validate, and prepares it.
// Its error is a FieldErrors, keyed by the fields' paths in a Scenario
// ("api.maxAge").
func NewPolicy(a API) (*Policy, error) {
	errs := FieldErrors{}
	a.validate(errs)
	if len(errs) > 0 {
		return nil, errs
	}
	p := &Policy{
		allowlist: slices.Clone(a.Allowlist),
		match:     a.Match,
		echoACAH:  a.AllowHeaders == "echo",
		acac:      valueIf(a.AllowCredentials, "true"),
		acam:      valueIf(a.AllowMethods != "", a.AllowMethods),
		acah:      valueIf(a.AllowHeaders != "" && a.AllowHeaders != "echo", a.AllowHeaders),
		aceh:      valueIf(a.ExposeHeaders != "", a.ExposeHeaders),
		vary:      valueIf(a.Vary, headerOrigin),
	}
	if a.MaxAge != nil {
		p.acma = []string{strconv.Itoa(*a.MaxAge)}
	}
	if len(a.ExtraHeaders) > 0 {
		p.extra = http.Header{}
		for name, v := range a.ExtraHeaders {
			p.extra[http.CanonicalHeaderKey(name)] = []string{v}
		}
	}
	switch a.AllowOrigin {
	case "":
		p.origin = originNone
	case "echo":
		p.origin = originEcho
	case "allowlist":
		p.origin = originAllowed
	default: // "*" and anything else are sent as written
		p.origin = originFixed
		p.acao = []string{a.AllowOrigin}
	}
	// The allowlist also decides WebSocket handshakes (AllowsOrigin),
	// whatever AllowOrigin says.
	if a.Match == "regex" {
		p.regexps = compileAll(a.Allowlist)
	}
	return p, nil
}

// compileAll compiles patterns that validation has already compiled once.
func compileAll(patterns []string) []*regexp.Regexp {
	res := make([]*regexp.Regexp, len(patterns))
	for i, pat := range patterns {
		res[i] = regexp.MustCompile(pat)
	}
	return res
}

// valueIf returns a header value holding v if cond, else nil.
func valueIf(cond bool, v string) []string {
	if !cond {
		return nil
	}
	return []string{v}
}

// Apply sets the CORS headers the api origin sends in response to a request
// with the given request headers. preflight reports whether the request is
// a CORS preflight (see IsPreflight).
//
// On every response:
//   - Access-Control-Allow-Origin follows API.AllowOrigin: none for "", the
//     request's Origin for "echo" (when it has a non-empty one), the Origin
//     if an Allowlist entry matches it for "allowlist", and the value as
//     written for anything else, "*" included.
//   - Access-Control-Allow-Credentials: true when API.AllowCredentials.
//   - Vary gains Origin when API.Vary; a Vary already in dst is kept.
//
// On preflights only: Access-Control-Allow-Methods, Access-Control-Allow-Headers
// (as written, or the request's Access-Control-Request-Headers for "echo")
// and Access-Control-Max-Age. On other responses only:
// Access-Control-Expose-Headers.
//
// Last, API.ExtraHeaders are set on every response, replacing any header
// of the same name.
//
// Apply only sets headers: one the policy does not send is left as dst has
// it. To stay cheap, the values it sets share memory with p and req; replace
// them (Set, Del, Add) but do not modify them in place.
func (p *Policy) Apply(dst http.Header, req http.Header, preflight bool) {
	if acao := p.allowOrigin(req); acao != nil {
		dst[headerACAO] = acao
	}
	setIf(dst, headerACAC, p.acac)
	if preflight {
		setIf(dst, headerACAM, p.acam)
		if p.echoACAH {
			setIf(dst, headerACAH, first(req.Values(headerACRH)))
		} else {
			setIf(dst, headerACAH, p.acah)
		}
		setIf(dst, headerACMA, p.acma)
	} else {
		setIf(dst, headerACEH, p.aceh)
	}
	if p.vary != nil {
		if v := dst[headerVary]; v != nil {
			dst[headerVary] = append(v, headerOrigin)
		} else {
			dst[headerVary] = p.vary
		}
	}
	for name, v := range p.extra {
		dst[name] = v
	}
}

// allowOrigin returns the Access-Control-Allow-Origin value for a request,
// or nil for none.
func (p *Policy) allowOrigin(req http.Header) []string {
	switch p.origin {
	case originFixed:
		return p.acao
	case originEcho:
		return first(req.Values(headerOrigin))
	case originAllowed:
		origin := first(req.Values(headerOrigin))
		if origin != nil && p.allowed(origin[0]) {
			return origin
		}
	}
	return nil
}

// AllowsOrigin reports whether an Allowlist entry matches origin under
// Match: the test AllowOrigin "allowlist" makes for
// Access-Control-Allow-Origin, for a server check made elsewhere (the api
// origin's WebSocket handshake, which CORS does not cover).
func (p *Policy) AllowsOrigin(origin string) bool { return p.allowed(origin) }

// allowed reports whether an allowlist entry matches origin. The sloppy
// modes are deliberate: suffix "example.com" lets "http://evilexample.com"
// in, prefix "http://app.test" lets "http://app.test.evil.com" in, and the
// regexp "http://app.test" matches "http://appxtest.evil" ('.' is any
// character) and, being unanchored, "http://app.test.evil.com".
func (p *Policy) allowed(origin string) bool {
	for i, e := range p.allowlist {
		var ok bool
		switch p.match {
		case "exact":
			ok = origin == e
		case "suffix":
			ok = strings.HasSuffix(origin, e)
		case "prefix":
			ok = strings.HasPrefix(origin, e)
		case "regex":
			ok = p.regexps[i].MatchString(origin)
		}
		if ok {
			return true
		}
	}
	return false
}

// first returns the first of vs as a one-element header value that shares
// vs's memory, or nil if vs is empty or its first value is "".
func first(vs []string) []string {
	if len(vs) == 0 || vs[0] == "" {
		return nil
	}
	return vs[:1:1]
}

// setIf sets header key to v unless v is nil.
func setIf(dst http.Header, key string, v []string) {
	if v != nil {
		dst[key] = v
	}
}

// IsPreflight reports whether a request with this method and these headers
// is a CORS preflight: an OPTIONS request with an Origin header and an
// Access-Control-Request-Method header.
// fetch.spec.whatwg.org/#cors-preflight-fetch
func IsPreflight(method string, h http.Header) bool {
	return method == http.MethodOptions &&
		len(h.Values(headerOrigin)) > 0 &&
		len(h.Values(headerACRM)) > 0
}
