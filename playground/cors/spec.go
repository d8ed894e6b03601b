// Package cors is corslab's model of the CORS parts of the Fetch standard
// (https://fetch.spec.whatwg.org/): which requests need a preflight, how the
// browser checks the preflight and the response, what redirects do to a
// request, which headers JavaScript may read, and how the preflight cache
// behaves. Given the request a page asked for and the exchanges the servers
// actually recorded, Explain says whether JavaScript gets the response, and
// why, step by step.
//
// Browsers depart from the standard in places. Those departures are data,
// in one Browser table per browser (browser.go), never special cases in the
// algorithm, and every one of them was found by corslab's Chromium
// conformance suite.
//
// The package is pure: no network, no server code.
package cors

import (
	"slices"
	"strconv"
	"strings"
)

// Spec is the base of every link to the Fetch standard.
const Spec = "https://fetch.spec.whatwg.org/"

// SafelistedMethod reports whether m is a CORS-safelisted method.
// fetch.spec.whatwg.org/#cors-safelisted-method
func SafelistedMethod(m string) bool {
	return m == "GET" || m == "HEAD" || m == "POST"
}

// NormalizeMethod upper-cases the methods fetch() normalizes, and leaves
// every other method as written: "patch" stays "patch".
// fetch.spec.whatwg.org/#concept-method-normalize
func NormalizeMethod(m string) string {
	switch u := strings.ToUpper(m); u {
	case "DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT":
		return u
	}
	return m
}

// ForbiddenMethod reports whether fetch() refuses m outright.
// fetch.spec.whatwg.org/#forbidden-method
func ForbiddenMethod(m string) bool {
	switch strings.ToUpper(m) {
	case "CONNECT", "TRACE", "TRACK":
		return true
	}
	return false
}

var forbiddenRequestHeaders = []string{
	"accept-charset", "accept-encoding", "access-control-request-headers",
	"access-control-request-method", "connection", "content-length", "cookie",
	"cookie2", "date", "dnt", "expect", "host", "keep-alive", "origin", "referer",
	"set-cookie", "te", "trailer", "transfer-encoding", "upgrade", "via",
}

// ForbiddenRequestHeader reports whether a page may not set the header:
// the browser silently drops it, so it neither arrives nor triggers a
// preflight. fetch.spec.whatwg.org/#forbidden-request-header
func ForbiddenRequestHeader(name, value string) bool {
	n := strings.ToLower(name)
	if slices.Contains(forbiddenRequestHeaders, n) || strings.HasPrefix(n, "proxy-") || strings.HasPrefix(n, "sec-") {
		return true
	}
	switch n {
	case "x-http-method", "x-http-method-override", "x-method-override":
		for _, m := range splitList(value) {
			if ForbiddenMethod(m) {
				return true
			}
		}
	}
	return false
}

// unsafeHeaderByte is a CORS-unsafe request-header byte.
// fetch.spec.whatwg.org/#cors-unsafe-request-header-byte
func unsafeHeaderByte(b byte) bool {
	return b < 0x20 && b != '\t' || strings.IndexByte("\"():<>?@[\\]{}\x7f", b) >= 0
}

// safelistedRequestHeader reports whether a header is CORS-safelisted by
// the standard's rules alone, and if not, why not.
// fetch.spec.whatwg.org/#cors-safelisted-request-header
func safelistedRequestHeader(name, value string) (bool, string) {
	if len(value) > 128 {
		return false, "its value is longer than 128 bytes"
	}
	switch strings.ToLower(name) {
	case "accept":
		if i := strings.IndexFunc(value, func(r rune) bool { return r < 0x80 && unsafeHeaderByte(byte(r)) }); i >= 0 {
			return false, "its value contains " + strconv.QuoteRune(rune(value[i])) + ", a CORS-unsafe byte"
		}
	case "accept-language", "content-language":
		for i := 0; i < len(value); i++ {
			c := value[i]
			if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || strings.IndexByte(" *,-.;=", c) >= 0) {
				return false, "its value contains " + strconv.QuoteRune(rune(c)) + ", which this header may not hold"
			}
		}
	case "content-type":
		for i := 0; i < len(value); i++ {
			if unsafeHeaderByte(value[i]) {
				return false, "its value contains " + strconv.QuoteRune(rune(value[i])) + ", a CORS-unsafe byte"
			}
		}
		essence, ok := mimeEssence(value)
		if !ok {
			return false, "its value is not a valid MIME type"
		}
		switch essence {
		case "application/x-www-form-urlencoded", "multipart/form-data", "text/plain":
		default:
			return false, "its type is " + essence + ", not one of application/x-www-form-urlencoded, multipart/form-data or text/plain"
		}
	case "range":
		start, ok := parseSingleRange(value)
		if !ok {
			return false, "its value is not a single byte range such as bytes=0-99"
		}
		if !start {
			return false, "its range has no start (bytes=-500)"
		}
	default:
		return false, "it is not one of the safelisted headers (Accept, Accept-Language, Content-Language, Content-Type, Range)"
	}
	return true, ""
}

// mimeEssence parses a MIME type the way the standard's MIME type parser
// accepts it, and returns its lower-case essence ("type/subtype").
// mimesniff.spec.whatwg.org/#parse-a-mime-type
func mimeEssence(v string) (string, bool) {
	essence, _, _ := strings.Cut(v, ";")
	essence = strings.ToLower(strings.Trim(essence, " \t\r\n"))
	typ, sub, ok := strings.Cut(essence, "/")
	if !ok || !IsToken(typ) || !IsToken(sub) {
		return "", false
	}
	return essence, true
}

// parseSingleRange parses a Range value without whitespace, and reports
// whether it has a start. fetch.spec.whatwg.org/#simple-range-header-value
func parseSingleRange(v string) (hasStart, ok bool) {
	rest, found := strings.CutPrefix(v, "bytes=")
	if !found {
		return false, false
	}
	start, end, found := strings.Cut(rest, "-")
	if !found || !allDigits(start) || !allDigits(end) || start == "" && end == "" {
		return false, false
	}
	if start != "" && end != "" {
		s, err1 := strconv.ParseUint(start, 10, 64)
		e, err2 := strconv.ParseUint(end, 10, 64)
		if err1 != nil || err2 != nil || s > e {
			return false, false
		}
	}
	return start != "", true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// IsToken reports whether s is an HTTP token: methods and header names
// are tokens. www.rfc-editor.org/rfc/rfc9110#name-tokens
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// splitList splits a comma-separated header value, trimming spaces and
// tabs around each item. fetch.spec.whatwg.org/#header-value-get-decode-and-split
// (corslab's headers never quote commas).
func splitList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		out = append(out, strings.Trim(item, " \t"))
	}
	return out
}

// SafelistedResponseHeader reports whether JavaScript may read a response
// header without Access-Control-Expose-Headers.
// fetch.spec.whatwg.org/#cors-safelisted-response-header-name
func SafelistedResponseHeader(name string) bool {
	switch strings.ToLower(name) {
	case "cache-control", "content-language", "content-length", "content-type", "expires", "last-modified", "pragma":
		return true
	}
	return false
}

// forbiddenResponseHeader is never readable by JavaScript.
// fetch.spec.whatwg.org/#forbidden-response-header-name
func forbiddenResponseHeader(name string) bool {
	n := strings.ToLower(name)
	return n == "set-cookie" || n == "set-cookie2"
}

// RedirectStatus reports whether a status is a redirect status.
// fetch.spec.whatwg.org/#redirect-status
func RedirectStatus(s int) bool {
	switch s {
	case 301, 302, 303, 307, 308:
		return true
	}
	return false
}

// okStatus is fetch.spec.whatwg.org/#ok-status.
func okStatus(s int) bool { return s >= 200 && s <= 299 }

// requestBodyHeader is dropped when a redirect turns a request into a
// body-less GET. fetch.spec.whatwg.org/#request-body-header-name
func requestBodyHeader(name string) bool {
	switch strings.ToLower(name) {
	case "content-encoding", "content-language", "content-location", "content-type":
		return true
	}
	return false
}
