package scenario

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/corslab/corslab/playground/cors"
)

// Limits on a scenario. They keep a session small, and every value short
// enough to show in the lab UI.
const (
	maxMethodLen         = 32
	maxPathLen           = 2048
	maxHeaders           = 32
	maxHeaderValueLen    = 4096
	maxBodyLen           = 64 << 10 // 65536
	maxAllowlist         = 32
	maxAllowlistEntryLen = 512
	maxMaxAge            = 365 * 24 * 60 * 60 // 31536000, a year
)

// Setups lists the values Scenario.Setup accepts. Each call returns a new
// slice.
func Setups() []string { return []string{"three-origins"} }

// The other enumerations are functions, not variables, so that nobody can
// change them at run time.

func froms() []string       { return []string{"app", "sandbox", "evil", "api"} }
func targets() []string     { return []string{"api"} }
func credentials() []string { return []string{"omit", "same-origin", "include"} }
func modes() []string       { return []string{"cors", "no-cors", "same-origin"} }
func redirects() []string   { return []string{"follow", "error", "manual"} }
func matches() []string     { return []string{"exact", "suffix", "prefix", "regex"} }

// FieldErrors says what is wrong with a scenario. A key is the dotted JSON
// path of a field ("version", "request.headers", "api.maxAge"); its value
// says which rule the field breaks. When one field breaks several rules, the
// messages are joined with "; ".
type FieldErrors map[string]string

// Error lists every field with its message, in key order, so that the same
// errors always give the same text.
func (e FieldErrors) Error() string {
	var b strings.Builder
	for i, k := range slices.Sorted(maps.Keys(e)) {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(k)
		b.WriteString(": ")
		b.WriteString(e[k])
	}
	return b.String()
}

// add records msg for key, after any message key already has.
func (e FieldErrors) add(key, msg string) {
	if old, ok := e[key]; ok {
		msg = old + "; " + msg
	}
	e[key] = msg
}

// Validate checks every field of s and reports the ones that break a rule.
// It returns nil when s is valid. Nil maps and slices count as empty.
func (s Scenario) Validate() FieldErrors {
	errs := FieldErrors{}
	if s.Version != Version {
		errs.add("version", fmt.Sprintf("unsupported version %d; this server reads version %d", s.Version, Version))
	}
	checkEnum(errs, "setup", s.Setup, Setups())
	s.Request.validate(errs)
	s.API.validate(errs)
	if len(errs) == 0 {
		return nil
	}
	return errs
}

func (r Request) validate(errs FieldErrors) {
	checkEnum(errs, "request.from", r.From, froms())
	checkEnum(errs, "request.target", r.Target, targets())
	if msg := checkMethod(r.Method); msg != "" {
		errs.add("request.method", msg)
	}
	if msg := checkPath(r.Path); msg != "" {
		errs.add("request.path", msg)
	}
	for _, msg := range checkHeaders(r.Headers) {
		errs.add("request.headers", msg)
	}
	if msg := checkBody(r.Method, r.Body); msg != "" {
		errs.add("request.body", msg)
	}
	checkEnum(errs, "request.credentials", r.Credentials, credentials())
	checkEnum(errs, "request.mode", r.Mode, modes())
	checkEnum(errs, "request.redirect", r.Redirect, redirects())
}

func (a API) validate(errs FieldErrors) {
	headers := []struct{ key, value string }{
		{"api.allowOrigin", a.AllowOrigin},
		{"api.allowMethods", a.AllowMethods},
		{"api.allowHeaders", a.AllowHeaders},
		{"api.exposeHeaders", a.ExposeHeaders},
	}
	for _, h := range headers {
		if msg := checkHeaderValue(h.value, maxHeaderValueLen); msg != "" {
			errs.add(h.key, msg)
		}
	}
	for _, msg := range checkAllowlist(a.Allowlist, a.Match) {
		errs.add("api.allowlist", msg)
	}
	checkEnum(errs, "api.match", a.Match, matches())
	// Negative values are allowed: how browsers treat them is a lesson.
	if a.MaxAge != nil && (*a.MaxAge < -maxMaxAge || *a.MaxAge > maxMaxAge) {
		errs.add("api.maxAge", fmt.Sprintf("must be between -%d and %d seconds (a year), or null for no header; got %d", maxMaxAge, maxMaxAge, *a.MaxAge))
	}
	for _, msg := range checkHeaders(a.ExtraHeaders) {
		errs.add("api.extraHeaders", msg)
	}
	for name := range a.ExtraHeaders {
		if framingHeader(name) {
			errs.add("api.extraHeaders", fmt.Sprintf("header %q frames the HTTP message itself; the server sets it", name))
		}
	}
	if a.PreflightStatus < 200 || a.PreflightStatus > 599 {
		errs.add("api.preflightStatus", fmt.Sprintf("must be an HTTP status between 200 and 599; got %d", a.PreflightStatus))
	}
}

// checkEnum records an error for key unless got is one of allowed.
func checkEnum(errs FieldErrors, key, got string, allowed []string) {
	if !slices.Contains(allowed, got) {
		errs.add(key, fmt.Sprintf("must be one of %s; got %q", strings.Join(allowed, ", "), got))
	}
}

// tokenRule describes an HTTP token for messages.
const tokenRule = "an HTTP token (letters, digits and !#$%&'*+-.^_`|~)"

func checkMethod(m string) string {
	switch {
	case m == "":
		return "must not be empty; fetch() needs a method such as GET"
	case len(m) > maxMethodLen:
		return fmt.Sprintf("must be at most %d bytes; got %d", maxMethodLen, len(m))
	case !cors.IsToken(m):
		return fmt.Sprintf("must be %s; got %q", tokenRule, m)
	case cors.ForbiddenMethod(m):
		return fmt.Sprintf("fetch() refuses the forbidden method %q (CONNECT, TRACE and TRACK, in any case)", m)
	}
	return ""
}

func checkPath(p string) string {
	if len(p) > maxPathLen {
		return fmt.Sprintf("must be at most %d bytes; got %d", maxPathLen, len(p))
	}
	if !isPath(p) {
		return fmt.Sprintf("must be a path such as /users, optionally with ?query, without spaces, control characters or #; got %q", p)
	}
	return ""
}

// isPath reports whether p is a path and optional query: it starts with "/"
// and holds no space, ASCII control character or '#' (a fragment is never
// sent to the server).
func isPath(p string) bool {
	if !strings.HasPrefix(p, "/") {
		return false
	}
	for i := range len(p) {
		if c := p[i]; isCTL(c) || c == ' ' || c == '#' {
			return false
		}
	}
	return true
}

// checkHeaders returns one message per problem with h, in header-name order.
func checkHeaders(h map[string]string) []string {
	var msgs []string
	if len(h) > maxHeaders {
		msgs = append(msgs, fmt.Sprintf("at most %d headers; got %d", maxHeaders, len(h)))
	}
	for _, name := range slices.Sorted(maps.Keys(h)) {
		if !cors.IsToken(name) {
			msgs = append(msgs, fmt.Sprintf("header name %q must be %s", name, tokenRule))
		}
		if msg := checkHeaderValue(h[name], maxHeaderValueLen); msg != "" {
			msgs = append(msgs, fmt.Sprintf("header %q: %s", name, msg))
		}
	}
	return msgs
}

// framingHeader is a header the server must control for the response to
// be valid HTTP/1.1 at all.
func framingHeader(name string) bool {
	switch strings.ToLower(name) {
	case "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "trailer", "te":
		return true
	}
	return false
}

// checkHeaderValue checks that v can be sent as a header value: at most max
// bytes, and no control character but HTAB. Fetch itself only rejects NUL, CR
// and LF (fetch.spec.whatwg.org/#header-value), but net/http refuses to send
// the other control characters (RFC 9110 field-value), so the api could not
// answer with them.
func checkHeaderValue(v string, max int) string {
	if len(v) > max {
		return fmt.Sprintf("must be at most %d bytes; got %d", max, len(v))
	}
	if strings.ContainsAny(v, "\r\n\x00") {
		return fmt.Sprintf("header values cannot contain CR, LF or NUL; got %q", v)
	}
	for i := range len(v) {
		if c := v[i]; isCTL(c) && c != '\t' {
			return fmt.Sprintf("header values cannot contain control characters other than tab; got %q", v)
		}
	}
	return ""
}

// isCTL reports whether c is an ASCII control character.
func isCTL(c byte) bool { return c < ' ' || c == 0x7f }

func checkBody(method, body string) string {
	if len(body) > maxBodyLen {
		return fmt.Sprintf("must be at most %d bytes (64 KiB); got %d", maxBodyLen, len(body))
	}
	// fetch() upper-cases GET and HEAD before this check, so "get" counts.
	// fetch.spec.whatwg.org/#concept-method-normalize
	// fetch.spec.whatwg.org/#dom-request
	if body != "" && (strings.EqualFold(method, "GET") || strings.EqualFold(method, "HEAD")) {
		return "GET and HEAD requests cannot have a body (fetch() throws a TypeError)"
	}
	return ""
}

// checkAllowlist returns one message per problem with the allowlist.
func checkAllowlist(entries []string, match string) []string {
	var msgs []string
	if len(entries) > maxAllowlist {
		msgs = append(msgs, fmt.Sprintf("at most %d entries; got %d", maxAllowlist, len(entries)))
	}
	for i, e := range entries {
		if msg := checkHeaderValue(e, maxAllowlistEntryLen); msg != "" {
			msgs = append(msgs, fmt.Sprintf("entry %d: %s", i+1, msg))
			continue
		}
		if match != "regex" {
			continue
		}
		if _, err := regexp.Compile(e); err != nil {
			msgs = append(msgs, fmt.Sprintf("entry %d: %q is not a valid regexp: %v", i+1, e, err))
		}
	}
	return msgs
}
