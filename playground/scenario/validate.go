package scenario

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/corslab/corslab/playground/cors"
	"github.com/corslab/corslab/playground/s3cors"
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
	maxSignedURLExpires  = 7 * 24 * 60 * 60   // 604800: S3's longest presigned URL
	maxRuleList          = 32                 // entries in one list of a bucket CORS rule
	maxRuleEntryLen      = 512
	maxRuleIDLen         = 255 // S3's limit on a CORSRule ID
)

// Setups lists the values Scenario.Setup accepts. Each call returns a new
// slice.
func Setups() []string { return []string{"three-origins", "two-origins", "one-origin"} }

// The other enumerations are functions, not variables, so that nobody can
// change them at run time.

func froms() []string {
	return []string{"app", "sandbox", "sandbox-same-origin", "data", "srcdoc", "evil", "api", "lookalike"}
}
func targets() []string     { return []string{"api", "s3", "yours"} }
func credentials() []string { return []string{"omit", "same-origin", "include"} }
func modes() []string       { return []string{"cors", "no-cors", "same-origin"} }
func redirects() []string   { return []string{"follow", "error", "manual"} }
func matches() []string     { return []string{"exact", "suffix", "prefix", "regex"} }
func sameSites() []string   { return []string{"lax", "strict", "none"} }
func websocketOrigins() []string {
	return []string{"any", "allowlist"}
}

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
	if page := SetupPage(s.Setup); page != "" && s.Request.From != page {
		errs.add("request.from", fmt.Sprintf("the %s setup runs the page on the %s origin: must be %q; got %q", s.Setup, page, page, s.Request.From))
	}
	s.API.validate(errs)
	s.Bucket.validate(errs)
	if msg := checkHeaderValue(s.Proxy.AddOrigin, maxAllowlistEntryLen); msg != "" {
		errs.add("proxy.addOrigin", msg)
	}
	if msg := CheckBaseURL(s.Yours.BaseURL); msg != "" {
		errs.add("yours.baseUrl", msg)
	}
	if s.Request.Target == "yours" && s.Setup == "one-origin" {
		errs.add("request.target", `the one-origin setup's proxy reaches only api and s3; use three-origins or two-origins for "yours"`)
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

func (r Request) validate(errs FieldErrors) {
	checkEnum(errs, "request.from", r.From, froms())
	if msg := checkLookalikeHost(r.LookalikeHost, r.From == "lookalike"); msg != "" {
		errs.add("request.lookalikeHost", msg)
	}
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
	method := r.Method
	if r.Via == "form" || r.Via == "websocket" {
		method = "" // a GET form's fields go in the query; a socket's body is a message
	}
	if msg := checkBody(method, r.Body); msg != "" {
		errs.add("request.body", msg)
	}
	checkEnum(errs, "request.credentials", r.Credentials, credentials())
	checkEnum(errs, "request.mode", r.Mode, modes())
	checkEnum(errs, "request.redirect", r.Redirect, redirects())
	r.validateDoor(errs)
}

// validateDoor checks request.via and the settings that go with each door:
// a door takes only the settings, methods, headers and body the page can
// give it.
func (r Request) validateDoor(errs FieldErrors) {
	checkEnum(errs, "request.via", r.Via, cors.Doors())
	checkEnum(errs, "request.crossOrigin", r.CrossOrigin, cors.CrossOriginValues())
	checkEnum(errs, "request.enctype", r.Enctype, cors.Enctypes())
	door, ok := cors.DoorOf(r.Via)
	if !ok || r.Via == "" {
		return
	}
	var d Request // the defaults of the fields that depend on the door
	FetchDoor(&d)
	d.Mode, d.Credentials, d.Redirect = "cors", "same-origin", "follow"
	if r.CrossOrigin != d.CrossOrigin && !door.Attribute {
		errs.add("request.crossOrigin", fmt.Sprintf("only <img>, <script> and <link rel=stylesheet> have a crossorigin attribute; %s has none: leave it %q", door.Name, d.CrossOrigin))
	}
	if r.WithCredentials && !door.WithCredentials {
		errs.add("request.withCredentials", fmt.Sprintf("only XMLHttpRequest and EventSource have withCredentials; %s has not: leave it false", door.Name))
	}
	if r.Enctype != d.Enctype && door.Via != "form" {
		errs.add("request.enctype", fmt.Sprintf("only a form has an enctype; %s has none: leave it %q", door.Name, d.Enctype))
	}
	if door.Via != "fetch" {
		for _, f := range []struct{ key, v, def, instead string }{
			{"request.mode", r.Mode, d.Mode, "the door sets the mode itself"},
			{"request.credentials", r.Credentials, d.Credentials, "the door sets it: see request.crossOrigin and request.withCredentials"},
			{"request.redirect", r.Redirect, d.Redirect, "the door follows redirects itself"},
		} {
			if f.v != f.def {
				errs.add(f.key, fmt.Sprintf("only fetch() takes this option, and %s is not fetch(): leave it %q; %s", door.Name, f.def, f.instead))
			}
		}
	}
	if door.Methods != nil && !slices.Contains(door.Methods, r.Method) {
		errs.add("request.method", fmt.Sprintf("%s sends only %s; got %q", door.Name, strings.Join(door.Methods, " or "), r.Method))
	}
	if !door.Headers {
		for _, name := range slices.Sorted(maps.Keys(r.Headers)) {
			switch {
			case door.Via != "beacon":
				errs.add("request.headers", fmt.Sprintf("%s cannot set request headers (%s)", door.Name, name))
			case !strings.EqualFold(name, "Content-Type"): // a beacon's: the type of the Blob it sends
				errs.add("request.headers", fmt.Sprintf("%s cannot set request headers (%s); a beacon takes only Content-Type, its body's type", door.Name, name))
			}
		}
	}
	if !door.Body && r.Body != "" {
		errs.add("request.body", fmt.Sprintf("%s sends no body: leave it empty", door.Name))
	}
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
	checkEnum(errs, "api.websocketOrigins", a.WebsocketOrigins, websocketOrigins())
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
	switch a.Redirect {
	case 0, 301, 302, 303, 307, 308:
	default:
		errs.add("api.redirect", fmt.Sprintf("must be 301, 302, 303, 307 or 308, or 0 for the signed URL in a 200 body; got %d", a.Redirect))
	}
	if a.SignedURLExpires < 1 || a.SignedURLExpires > maxSignedURLExpires {
		errs.add("api.signedUrlExpires", fmt.Sprintf("must be between 1 and %d seconds (7 days, S3's limit); got %d", maxSignedURLExpires, a.SignedURLExpires))
	}
	checkEnum(errs, "api.cookieSameSite", a.CookieSameSite, sameSites())
}

// SetupPage is the origin a setup runs the page on, or "" when the setup
// leaves it to request.from.
func SetupPage(setup string) string {
	switch setup {
	case "two-origins":
		return "api"
	case "one-origin":
		return "app"
	}
	return ""
}

// validate checks the bucket's CORS rules with corslab's size limits and
// then S3's own PutBucketCors checks, so the learner reads S3's error on the
// field it is about. The key of a rule's field is bucket.cors.<i>.<field>.
func (b Bucket) validate(errs FieldErrors) {
	if b.CORS == nil {
		return
	}
	if len(b.CORS) == 0 {
		errs.add("bucket.cors", s3Says(s3cors.Validate(nil))+"; a bucket without CORS rules is null")
		return
	}
	if len(b.CORS) > s3cors.MaxRules {
		errs.add("bucket.cors", fmt.Sprintf("at most %d rules; got %d", s3cors.MaxRules, len(b.CORS)))
		return
	}
	for i, r := range b.CORS {
		key := func(field string) string { return fmt.Sprintf("bucket.cors.%d.%s", i, field) }
		if msg := checkHeaderValue(r.ID, maxRuleIDLen); msg != "" {
			errs.add(key("id"), msg)
		}
		lists := []struct {
			field   string
			entries []string
			s3      s3cors.Rule // the list alone in an otherwise valid rule
		}{
			{"allowedOrigins", r.AllowedOrigins, s3cors.Rule{AllowedOrigins: r.AllowedOrigins, AllowedMethods: []string{"GET"}}},
			{"allowedMethods", r.AllowedMethods, s3cors.Rule{AllowedOrigins: []string{"*"}, AllowedMethods: r.AllowedMethods}},
			{"allowedHeaders", r.AllowedHeaders, s3cors.Rule{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}, AllowedHeaders: r.AllowedHeaders}},
			{"exposeHeaders", r.ExposeHeaders, s3cors.Rule{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}}},
		}
		for _, l := range lists {
			if msgs := checkRuleList(l.entries); msgs != nil {
				for _, msg := range msgs {
					errs.add(key(l.field), msg)
				}
				continue
			}
			if err := s3cors.Validate([]s3cors.Rule{l.s3}); err != nil {
				msg := s3Says(err)
				if len(l.entries) == 0 { // no origin or no method: MalformedXML
					msg += "; a rule needs at least one"
				}
				errs.add(key(l.field), msg)
			}
		}
		if m := r.MaxAgeSeconds; m != nil && (*m < 0 || *m > maxMaxAge) {
			errs.add(key("maxAgeSeconds"), fmt.Sprintf("must be between 0 and %d seconds (a year), or null for no header; got %d", maxMaxAge, *m))
		}
	}
}

// checkRuleList applies corslab's limits to one list of a CORS rule. Its
// entries end up in XML and in response headers, so they follow the rules
// of header values.
func checkRuleList(entries []string) []string {
	var msgs []string
	if len(entries) > maxRuleList {
		msgs = append(msgs, fmt.Sprintf("at most %d entries; got %d", maxRuleList, len(entries)))
	}
	for i, e := range entries {
		if msg := checkHeaderValue(e, maxRuleEntryLen); msg != "" {
			msgs = append(msgs, fmt.Sprintf("entry %d: %s", i+1, msg))
		}
	}
	return msgs
}

// s3Says words an error of PutBucketCors as the learner would meet it.
func s3Says(err error) string {
	if e, ok := err.(*s3cors.Error); ok {
		return fmt.Sprintf("S3 refuses this with %d %s: %s", e.Status, e.Code, e.Message)
	}
	return err.Error()
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
	if msg := checkText(p); msg != "" {
		return msg
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
	if msg := checkText(v); msg != "" {
		return msg
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

// checkText refuses bytes that are not UTF-8. The lab page receives the
// scenario as JSON, which turns them into U+FFFD, so the browser would run
// another scenario than the one the server keeps and explains. JSON text is
// always UTF-8; only a permalink (request.body=%FF) can carry such bytes.
func checkText(v string) string {
	if !utf8.ValidString(v) {
		return fmt.Sprintf("must be UTF-8 text; got %q", v)
	}
	return ""
}

// isCTL reports whether c is an ASCII control character.
func isCTL(c byte) bool { return c < ' ' || c == 0x7f }

func checkBody(method, body string) string {
	if len(body) > maxBodyLen {
		return fmt.Sprintf("must be at most %d bytes (64 KiB); got %d", maxBodyLen, len(body))
	}
	if msg := checkText(body); msg != "" {
		return msg
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
		// An empty entry is never meant: it matches no Origin under exact
		// and every Origin under the other modes. A permalink could not
		// carry it either: api.allowlist= (one empty value) is the empty
		// list.
		if e == "" {
			msgs = append(msgs, fmt.Sprintf("entry %d is empty; write an origin such as http://127.0.0.1:8081, or leave the entry out", i+1))
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

// maxHostLen is the longest DNS name (RFC 1035, 2.3.4), written without its
// final dot.
const maxHostLen = 253

// localhostNameRule says what CheckLocalhostName accepts.
const localhostNameRule = "a host name under .localhost, such as app-corslab.localhost: lower-case letters, digits and '-' in dot-separated labels of 1 to 63 characters that neither start nor end with '-'"

// checkLookalikeHost checks the look-alike origin's host name (see
// CheckLocalhostName). needed says the page runs there, so it cannot be
// empty.
func checkLookalikeHost(h string, needed bool) string {
	switch {
	case h == "" && needed:
		return "the look-alike page needs a host: " + localhostNameRule
	case h == "":
		return ""
	}
	return CheckLocalhostName(h)
}

// CheckLocalhostName checks a host name that a browser must reach on this
// machine without DNS: a DNS name under .localhost (RFC 6761, 6.3), in
// lower case, so that it is the host the browser puts in Origin as written
// (browsers lower-case host names). It returns "" when h is one, and what
// is wrong otherwise.
func CheckLocalhostName(h string) string {
	const rule = localhostNameRule
	switch {
	case len(h) > maxHostLen:
		return fmt.Sprintf("must be at most %d bytes; got %d", maxHostLen, len(h))
	case !strings.HasSuffix(h, ".localhost") || h == ".localhost":
		return fmt.Sprintf("must be %s (browsers send every *.localhost name to this machine, RFC 6761; other names would need DNS); got %q", rule, h)
	}
	for label := range strings.SplitSeq(h, ".") {
		if !dnsLabel(label) {
			return fmt.Sprintf("must be %s; got %q", rule, h)
		}
	}
	return ""
}

// dnsLabel reports whether l is a lower-case LDH label (RFC 1123, 2.1).
func dnsLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for _, c := range []byte(l) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// maxBaseURLLen bounds yours.baseUrl; a request's path is added to it.
const maxBaseURLLen = 2048

// CheckBaseURL checks the yours origin's upstream, yours.baseUrl: empty, or
// an absolute http or https URL with a host, and no user name or password
// (the yours origin would send them upstream on every request), query or
// fragment (the request's path, which may carry a query, is appended to
// it). It returns "" when u is one, and what is wrong otherwise.
func CheckBaseURL(u string) string {
	const rule = "must be an http or https URL such as https://api.example.com or http://localhost:3000/v1"
	if u == "" {
		return ""
	}
	if len(u) > maxBaseURLLen {
		return fmt.Sprintf("must be at most %d bytes; got %d", maxBaseURLLen, len(u))
	}
	if msg := checkText(u); msg != "" {
		return msg
	}
	for i := range len(u) {
		if c := u[i]; isCTL(c) || c == ' ' {
			return fmt.Sprintf("%s, without spaces or control characters; got %q", rule, u)
		}
	}
	p, err := url.Parse(u)
	switch {
	case err != nil:
		return fmt.Sprintf("%s; got %q", rule, u)
	case !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://"):
		return fmt.Sprintf("%s: the scheme must be http or https, in lower case; got %q", rule, u)
	case p.Opaque != "" || p.Host == "" || p.Hostname() == "":
		return fmt.Sprintf("%s: it needs a host after the //; got %q", rule, u)
	case p.User != nil:
		return fmt.Sprintf("%s, without a user name or password (they would go upstream on every request); got %q", rule, u)
	case p.RawQuery != "" || p.ForceQuery:
		return fmt.Sprintf("%s, without a ?query: put the query in request.path; got %q", rule, u)
	case p.Fragment != "" || strings.Contains(u, "#"):
		return fmt.Sprintf("%s, without a #fragment (a fragment is never sent to a server); got %q", rule, u)
	}
	if port := p.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Sprintf("%s: the port must be from 1 to 65535; got %q", rule, u)
		}
	}
	return ""
}
