package scenario

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/corslab/corslab/playground/s3cors"
)

func intPtr(n int) *int { return &n }

// manyHeaders returns n distinct, valid headers.
func manyHeaders(n int) map[string]string {
	h := make(map[string]string, n)
	for i := range n {
		h[fmt.Sprintf("X-H%02d", i)] = "v"
	}
	return h
}

// malformedXML is how S3 refuses a configuration that does not fit its
// schema, as Validate words it.
const malformedXML = "S3 refuses this with 400 MalformedXML: The XML you provided was not well-formed or did not validate against our published schema"

// rule returns a valid bucket CORS rule, changed by edit.
func rule(edit func(*s3cors.Rule)) s3cors.Rule {
	r := s3cors.Rule{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}}
	edit(&r)
	return r
}

// manyRules returns n distinct, valid bucket CORS rules. Their absent lists
// are empty, not nil, as Decode and FromQuery give them.
func manyRules(n int) []s3cors.Rule {
	rules := make([]s3cors.Rule, n)
	for i := range rules {
		rules[i] = s3cors.Rule{
			AllowedOrigins: []string{fmt.Sprintf("http://o%d.test", i)}, AllowedMethods: []string{"GET"},
			AllowedHeaders: []string{}, ExposeHeaders: []string{},
		}
	}
	return rules
}

// manyEntries returns n distinct, valid allowlist entries.
func manyEntries(n int) []string {
	l := make([]string, n)
	for i := range l {
		l[i] = fmt.Sprintf("http://o%d.test", i)
	}
	return l
}

func TestValidate(t *testing.T) {
	tests := []struct {
		desc string
		edit func(*Scenario)
		want FieldErrors
	}{
		{
			desc: "the default scenario is valid",
			edit: func(*Scenario) {},
		},
		{
			desc: "nil headers and allowlist count as empty",
			edit: func(s *Scenario) {
				s.Request.Headers = nil
				s.API.Allowlist = nil
			},
		},
		{
			desc: "a busy but valid scenario",
			edit: func(s *Scenario) {
				s.Request = Request{
					From:        "evil",
					Target:      "api",
					Method:      "patch",
					Path:        "/users/1?fields=name&x=%20",
					Headers:     map[string]string{"X-Token": "a\tb", "Content-Type": "application/json; charset=utf-8", "X-Empty": "", "X-Unicode": "héllo"},
					Body:        `{"name":"ada"}`,
					Credentials: "include",
					Mode:        "no-cors",
					Redirect:    "manual",
					Via:         "fetch", CrossOrigin: "none", Enctype: "application/x-www-form-urlencoded",
				}
				s.API = API{
					AllowOrigin:      "allowlist",
					Allowlist:        []string{`^https?://(app|sandbox)\.test(:\d+)?$`, "null"},
					Match:            "regex",
					AllowCredentials: true,
					AllowMethods:     "GET, PATCH",
					AllowHeaders:     "echo",
					ExposeHeaders:    "X-Total",
					MaxAge:           intPtr(0),
					PreflightStatus:  599,
					Redirect:         0,
					SignedURLExpires: 1,
					RequireLogin:     true,
					CookieSameSite:   "none",
					WebsocketOrigins: "allowlist",
				}
				s.Bucket.CORS = []s3cors.Rule{
					{
						ID:             "uploads",
						AllowedOrigins: []string{"http://app.test", "https://*.app.test", "null", ""},
						AllowedMethods: []string{"PUT", "POST", "DELETE", "HEAD", "GET"},
						AllowedHeaders: []string{"*", "x-amz-*", "content-type", ""},
						ExposeHeaders:  []string{"ETag", "x-amz-*-*", "a\tb", ""},
						MaxAgeSeconds:  intPtr(0),
					},
					rule(func(r *s3cors.Rule) { r.AllowedHeaders = []string{} }),
				}
				s.Proxy.AddOrigin = "http://app.test"
			},
		},
		{
			desc: "limits are inclusive",
			edit: func(s *Scenario) {
				s.Request.Method = "POST" + strings.Repeat("X", maxMethodLen-4)
				s.Request.Path = "/" + strings.Repeat("p", maxPathLen-1)
				s.Request.Headers = manyHeaders(maxHeaders)
				s.Request.Headers["X-Long"] = strings.Repeat("v", maxHeaderValueLen)
				delete(s.Request.Headers, "X-H00")
				s.Request.Body = strings.Repeat("b", maxBodyLen)
				s.API.AllowOrigin = strings.Repeat("o", maxHeaderValueLen)
				s.API.Allowlist = manyEntries(maxAllowlist)
				s.API.Allowlist[0] = strings.Repeat("e", maxAllowlistEntryLen)
				s.API.MaxAge = intPtr(maxMaxAge)
				s.API.PreflightStatus = 200
				s.API.SignedURLExpires = maxSignedURLExpires
				s.Proxy.AddOrigin = strings.Repeat("o", maxAllowlistEntryLen)
			},
		},
		{
			desc: "bucket limits are inclusive",
			edit: func(s *Scenario) {
				s.Bucket.CORS = manyRules(s3cors.MaxRules)
				s.Bucket.CORS[0] = s3cors.Rule{
					ID:             strings.Repeat("i", maxRuleIDLen),
					AllowedOrigins: manyEntries(maxRuleList),
					AllowedMethods: []string{"GET"},
					AllowedHeaders: manyEntries(maxRuleList),
					ExposeHeaders:  manyEntries(maxRuleList),
					MaxAgeSeconds:  intPtr(maxMaxAge),
				}
				s.Bucket.CORS[0].AllowedOrigins[0] = strings.Repeat("o", maxRuleEntryLen)
				s.Bucket.CORS[0].AllowedHeaders[0] = strings.Repeat("h", maxRuleEntryLen)
				s.Bucket.CORS[0].ExposeHeaders[0] = strings.Repeat("e", maxRuleEntryLen)
			},
		},
		{
			desc: "a version from the future",
			edit: func(s *Scenario) { s.Version = 2 },
			want: FieldErrors{"version": "unsupported version 2; this server reads version 1"},
		},
		{
			desc: "version 0, the zero value",
			edit: func(s *Scenario) { s.Version = 0 },
			want: FieldErrors{"version": "unsupported version 0; this server reads version 1"},
		},
		{
			desc: "unknown setup",
			edit: func(s *Scenario) { s.Setup = "four-origins" },
			want: FieldErrors{"setup": `must be one of three-origins, two-origins, one-origin; got "four-origins"`},
		},
		{
			desc: "setups are case-sensitive",
			edit: func(s *Scenario) { s.Setup = "Three-Origins" },
			want: FieldErrors{"setup": `must be one of three-origins, two-origins, one-origin; got "Three-Origins"`},
		},
		{
			desc: "three-origins leaves the page to request.from",
			edit: func(s *Scenario) { s.Request.From = "evil" },
		},
		{
			desc: "two-origins runs the page on the api origin",
			edit: func(s *Scenario) {
				s.Setup = "two-origins"
				s.Request.From = "api"
				s.Request.Target = "s3"
			},
		},
		{
			desc: "two-origins with the page on app",
			edit: func(s *Scenario) { s.Setup = "two-origins" },
			want: FieldErrors{"request.from": `the two-origins setup runs the page on the api origin: must be "api"; got "app"`},
		},
		{
			desc: "two-origins with the page in the sandbox",
			edit: func(s *Scenario) {
				s.Setup = "two-origins"
				s.Request.From = "sandbox"
			},
			want: FieldErrors{"request.from": `the two-origins setup runs the page on the api origin: must be "api"; got "sandbox"`},
		},
		{
			desc: "one-origin runs the page on the app origin",
			edit: func(s *Scenario) {
				s.Setup = "one-origin"
				s.Request.Target = "s3"
				s.Proxy.AddOrigin = "http://app.test"
			},
		},
		{
			desc: "one-origin with the page on api",
			edit: func(s *Scenario) {
				s.Setup = "one-origin"
				s.Request.From = "api"
			},
			want: FieldErrors{"request.from": `the one-origin setup runs the page on the app origin: must be "app"; got "api"`},
		},
		{
			desc: "one-origin with the page on evil",
			edit: func(s *Scenario) {
				s.Setup = "one-origin"
				s.Request.From = "evil"
			},
			want: FieldErrors{"request.from": `the one-origin setup runs the page on the app origin: must be "app"; got "evil"`},
		},
		{
			desc: "an unknown from breaks both rules of request.from",
			edit: func(s *Scenario) {
				s.Setup = "two-origins"
				s.Request.From = "API"
			},
			want: FieldErrors{"request.from": `must be one of app, sandbox, sandbox-same-origin, data, srcdoc, evil, api, lookalike; got "API"; ` +
				`the two-origins setup runs the page on the api origin: must be "api"; got "API"`},
		},
		{
			desc: "an unknown setup asks nothing of request.from",
			edit: func(s *Scenario) {
				s.Setup = "One-Origin"
				s.Request.From = "evil"
			},
			want: FieldErrors{"setup": `must be one of three-origins, two-origins, one-origin; got "One-Origin"`},
		},
		{
			desc: "every origin the page can run on",
			edit: func(s *Scenario) { s.Request.From = "sandbox" },
		},
		{
			desc: "a sandboxed iframe with allow-same-origin",
			edit: func(s *Scenario) { s.Request.From = "sandbox-same-origin" },
		},
		{
			desc: "a frame whose document is a data: URL",
			edit: func(s *Scenario) { s.Request.From = "data" },
		},
		{
			desc: "an <iframe srcdoc> document",
			edit: func(s *Scenario) { s.Request.From = "srcdoc" },
		},
		{
			desc: "from names a kind of page, not a URL scheme",
			edit: func(s *Scenario) { s.Request.From = "data:" },
			want: FieldErrors{"request.from": `must be one of app, sandbox, sandbox-same-origin, data, srcdoc, evil, api, lookalike; got "data:"`},
		},
		{
			desc: "one-origin with the page in a data: frame",
			edit: func(s *Scenario) {
				s.Setup = "one-origin"
				s.Request.From = "data"
			},
			want: FieldErrors{"request.from": `the one-origin setup runs the page on the app origin: must be "app"; got "data"`},
		},
		{
			desc: "two-origins with the page in an <iframe srcdoc>",
			edit: func(s *Scenario) {
				s.Setup = "two-origins"
				s.Request.From = "srcdoc"
			},
			want: FieldErrors{"request.from": `the two-origins setup runs the page on the api origin: must be "api"; got "srcdoc"`},
		},
		{
			desc: "unknown from",
			edit: func(s *Scenario) { s.Request.From = "App" },
			want: FieldErrors{"request.from": `must be one of app, sandbox, sandbox-same-origin, data, srcdoc, evil, api, lookalike; got "App"`},
		},
		{
			desc: "the api origin can fetch from itself",
			edit: func(s *Scenario) { s.Request.From = "api" },
		},
		{
			desc: "the look-alike origin, on the default host",
			edit: func(s *Scenario) { s.Request.From = "lookalike" },
		},
		{
			desc: "a look-alike host may be a subdomain, start with digits, and look like an IP address before .localhost",
			edit: func(s *Scenario) {
				s.Request.From = "lookalike"
				s.Request.LookalikeHost = "127.0.0.1.x-1.corslab.localhost"
			},
		},
		{
			desc: "a look-alike host of one label under .localhost, 63 bytes long",
			edit: func(s *Scenario) { s.Request.LookalikeHost = strings.Repeat("a", 63) + ".localhost" },
		},
		{
			desc: "no look-alike host is fine while the page runs elsewhere",
			edit: func(s *Scenario) { s.Request.LookalikeHost = "" },
		},
		{
			desc: "the look-alike page needs a host",
			edit: func(s *Scenario) {
				s.Request.From = "lookalike"
				s.Request.LookalikeHost = ""
			},
			want: FieldErrors{"request.lookalikeHost": `the look-alike page needs a host: a host name under .localhost, such as app-corslab.localhost: lower-case letters, digits and '-' in dot-separated labels of 1 to 63 characters that neither start nor end with '-'`},
		},
		{
			desc: "a look-alike host outside .localhost would need DNS",
			edit: func(s *Scenario) { s.Request.LookalikeHost = "evil.example" },
			want: FieldErrors{"request.lookalikeHost": `must be a host name under .localhost, such as app-corslab.localhost: lower-case letters, digits and '-' in dot-separated labels of 1 to 63 characters that neither start nor end with '-' (browsers send every *.localhost name to this machine, RFC 6761; other names would need DNS); got "evil.example"`},
		},
		{
			desc: "localhost itself, or .localhost alone, is no look-alike host",
			edit: func(s *Scenario) { s.Request.LookalikeHost = ".localhost" },
			want: FieldErrors{"request.lookalikeHost": `must be a host name under .localhost, such as app-corslab.localhost: lower-case letters, digits and '-' in dot-separated labels of 1 to 63 characters that neither start nor end with '-' (browsers send every *.localhost name to this machine, RFC 6761; other names would need DNS); got ".localhost"`},
		},
		{
			desc: "a look-alike host is lower-case, as browsers send it in Origin",
			edit: func(s *Scenario) { s.Request.LookalikeHost = "App-Corslab.localhost" },
			want: FieldErrors{"request.lookalikeHost": `must be a host name under .localhost, such as app-corslab.localhost: lower-case letters, digits and '-' in dot-separated labels of 1 to 63 characters that neither start nor end with '-'; got "App-Corslab.localhost"`},
		},
		{
			desc: "a look-alike host's labels neither start nor end with a dash, nor are empty",
			edit: func(s *Scenario) { s.Request.LookalikeHost = "-evil..corslab-.localhost" },
			want: FieldErrors{"request.lookalikeHost": `must be a host name under .localhost, such as app-corslab.localhost: lower-case letters, digits and '-' in dot-separated labels of 1 to 63 characters that neither start nor end with '-'; got "-evil..corslab-.localhost"`},
		},
		{
			desc: "a look-alike host has no port, path, user or underscore",
			edit: func(s *Scenario) { s.Request.LookalikeHost = "user@evil_x.localhost:8081/x" },
			want: FieldErrors{"request.lookalikeHost": `must be a host name under .localhost, such as app-corslab.localhost: lower-case letters, digits and '-' in dot-separated labels of 1 to 63 characters that neither start nor end with '-' (browsers send every *.localhost name to this machine, RFC 6761; other names would need DNS); got "user@evil_x.localhost:8081/x"`},
		},
		{
			desc: "a look-alike host label is at most 63 bytes",
			edit: func(s *Scenario) { s.Request.LookalikeHost = strings.Repeat("a", 64) + ".localhost" },
			want: FieldErrors{"request.lookalikeHost": `must be a host name under .localhost, such as app-corslab.localhost: lower-case letters, digits and '-' in dot-separated labels of 1 to 63 characters that neither start nor end with '-'; got "` + strings.Repeat("a", 64) + `.localhost"`},
		},
		{
			desc: "a look-alike host of 253 bytes, the longest DNS name",
			edit: func(s *Scenario) { s.Request.LookalikeHost = strings.Repeat("a.", 122) + "localhost" },
		},
		{
			desc: "a look-alike host is at most 253 bytes",
			edit: func(s *Scenario) { s.Request.LookalikeHost = strings.Repeat("a.", 121) + "aa.localhost" },
			want: FieldErrors{"request.lookalikeHost": "must be at most 253 bytes; got 254"},
		},
		{
			desc: "unknown target",
			edit: func(s *Scenario) { s.Request.Target = "evil" },
			want: FieldErrors{"request.target": `must be one of api, s3, yours; got "evil"`},
		},
		{
			desc: "the bucket is a target",
			edit: func(s *Scenario) { s.Request.Target = "s3" },
		},
		{
			desc: "targets are case-sensitive",
			edit: func(s *Scenario) { s.Request.Target = "S3" },
			want: FieldErrors{"request.target": `must be one of api, s3, yours; got "S3"`},
		},
		{
			desc: "empty method",
			edit: func(s *Scenario) { s.Request.Method = "" },
			want: FieldErrors{"request.method": "must not be empty; fetch() needs a method such as GET"},
		},
		{
			desc: "a custom method is a token",
			edit: func(s *Scenario) { s.Request.Method = "PROPFIND" },
		},
		{
			desc: "a method with a space is not a token",
			edit: func(s *Scenario) { s.Request.Method = "GE T" },
			want: FieldErrors{"request.method": `must be an HTTP token (letters, digits and !#$%&'*+-.^_` + "`" + `|~); got "GE T"`},
		},
		{
			desc: "a method with non-ASCII letters is not a token",
			edit: func(s *Scenario) { s.Request.Method = "GÉT" },
			want: FieldErrors{"request.method": `must be an HTTP token (letters, digits and !#$%&'*+-.^_` + "`" + `|~); got "GÉT"`},
		},
		{
			desc: "a method longer than 32 bytes",
			edit: func(s *Scenario) { s.Request.Method = strings.Repeat("X", 33) },
			want: FieldErrors{"request.method": "must be at most 32 bytes; got 33"},
		},
		{
			desc: "CONNECT is forbidden",
			edit: func(s *Scenario) { s.Request.Method = "CONNECT" },
			want: FieldErrors{"request.method": `fetch() refuses the forbidden method "CONNECT" (CONNECT, TRACE and TRACK, in any case)`},
		},
		{
			desc: "forbidden methods are compared case-insensitively",
			edit: func(s *Scenario) { s.Request.Method = "trace" },
			want: FieldErrors{"request.method": `fetch() refuses the forbidden method "trace" (CONNECT, TRACE and TRACK, in any case)`},
		},
		{
			desc: "TRACK is forbidden too",
			edit: func(s *Scenario) { s.Request.Method = "Track" },
			want: FieldErrors{"request.method": `fetch() refuses the forbidden method "Track" (CONNECT, TRACE and TRACK, in any case)`},
		},
		{
			desc: "a relative path",
			edit: func(s *Scenario) { s.Request.Path = "users" },
			want: FieldErrors{"request.path": `must be a path such as /users, optionally with ?query, without spaces, control characters or #; got "users"`},
		},
		{
			desc: "an empty path",
			edit: func(s *Scenario) { s.Request.Path = "" },
			want: FieldErrors{"request.path": `must be a path such as /users, optionally with ?query, without spaces, control characters or #; got ""`},
		},
		{
			desc: "an absolute URL is not a path",
			edit: func(s *Scenario) { s.Request.Path = "http://api.test/users" },
			want: FieldErrors{"request.path": `must be a path such as /users, optionally with ?query, without spaces, control characters or #; got "http://api.test/users"`},
		},
		{
			desc: "a path with a space",
			edit: func(s *Scenario) { s.Request.Path = "/a b" },
			want: FieldErrors{"request.path": `must be a path such as /users, optionally with ?query, without spaces, control characters or #; got "/a b"`},
		},
		{
			desc: "a path with a fragment",
			edit: func(s *Scenario) { s.Request.Path = "/users#top" },
			want: FieldErrors{"request.path": `must be a path such as /users, optionally with ?query, without spaces, control characters or #; got "/users#top"`},
		},
		{
			desc: "a path with a newline",
			edit: func(s *Scenario) { s.Request.Path = "/users\n" },
			want: FieldErrors{"request.path": `must be a path such as /users, optionally with ?query, without spaces, control characters or #; got "/users\n"`},
		},
		{
			desc: "a path with DEL",
			edit: func(s *Scenario) { s.Request.Path = "/users\x7f" },
			want: FieldErrors{"request.path": `must be a path such as /users, optionally with ?query, without spaces, control characters or #; got "/users\x7f"`},
		},
		{
			desc: "a path with non-ASCII characters, which the browser percent-encodes",
			edit: func(s *Scenario) { s.Request.Path = "/café?q=ü" },
		},
		{
			desc: "a path longer than 2048 bytes",
			edit: func(s *Scenario) { s.Request.Path = "/" + strings.Repeat("p", 2048) },
			want: FieldErrors{"request.path": "must be at most 2048 bytes; got 2049"},
		},
		{
			desc: "too many headers",
			edit: func(s *Scenario) { s.Request.Headers = manyHeaders(33) },
			want: FieldErrors{"request.headers": "at most 32 headers; got 33"},
		},
		{
			desc: "a header name that is not a token",
			edit: func(s *Scenario) { s.Request.Headers = map[string]string{"X Token": "1"} },
			want: FieldErrors{"request.headers": `header name "X Token" must be an HTTP token (letters, digits and !#$%&'*+-.^_` + "`" + `|~)`},
		},
		{
			desc: "an empty header name",
			edit: func(s *Scenario) { s.Request.Headers = map[string]string{"": "1"} },
			want: FieldErrors{"request.headers": `header name "" must be an HTTP token (letters, digits and !#$%&'*+-.^_` + "`" + `|~)`},
		},
		{
			desc: "a header value with CRLF, the header-injection classic",
			edit: func(s *Scenario) { s.Request.Headers = map[string]string{"X-A": "x-a\r\n"} },
			want: FieldErrors{"request.headers": `header "X-A": header values cannot contain CR, LF or NUL; got "x-a\r\n"`},
		},
		{
			desc: "a header value with NUL",
			edit: func(s *Scenario) { s.Request.Headers = map[string]string{"X-A": "a\x00b"} },
			want: FieldErrors{"request.headers": `header "X-A": header values cannot contain CR, LF or NUL; got "a\x00b"`},
		},
		{
			desc: "a header value with another control character",
			edit: func(s *Scenario) { s.Request.Headers = map[string]string{"X-A": "a\x01b"} },
			want: FieldErrors{"request.headers": `header "X-A": header values cannot contain control characters other than tab; got "a\x01b"`},
		},
		{
			desc: "a header value longer than 4096 bytes",
			edit: func(s *Scenario) { s.Request.Headers = map[string]string{"X-A": strings.Repeat("v", 4097)} },
			want: FieldErrors{"request.headers": `header "X-A": must be at most 4096 bytes; got 4097`},
		},
		{
			desc: "several header problems share one key, in name order",
			edit: func(s *Scenario) {
				s.Request.Headers = manyHeaders(33)
				s.Request.Headers["Bad Name"] = "ok"
				s.Request.Headers["X-Z"] = "\n"
			},
			want: FieldErrors{"request.headers": `at most 32 headers; got 35; ` +
				`header name "Bad Name" must be an HTTP token (letters, digits and !#$%&'*+-.^_` + "`" + `|~); ` +
				`header "X-Z": header values cannot contain CR, LF or NUL; got "\n"`},
		},
		{
			desc: "a body larger than 64 KiB",
			edit: func(s *Scenario) {
				s.Request.Method = "POST"
				s.Request.Body = strings.Repeat("b", 65537)
			},
			want: FieldErrors{"request.body": "must be at most 65536 bytes (64 KiB); got 65537"},
		},
		{
			desc: "a GET with a body",
			edit: func(s *Scenario) { s.Request.Body = "x" },
			want: FieldErrors{"request.body": "GET and HEAD requests cannot have a body (fetch() throws a TypeError)"},
		},
		{
			desc: "a lower-case head with a body, since fetch() normalises the method",
			edit: func(s *Scenario) {
				s.Request.Method = "head"
				s.Request.Body = "x"
			},
			want: FieldErrors{"request.body": "GET and HEAD requests cannot have a body (fetch() throws a TypeError)"},
		},
		{
			desc: "a DELETE can have a body",
			edit: func(s *Scenario) {
				s.Request.Method = "DELETE"
				s.Request.Body = "x"
			},
		},
		{
			desc: "unknown credentials",
			edit: func(s *Scenario) { s.Request.Credentials = "true" },
			want: FieldErrors{"request.credentials": `must be one of omit, same-origin, include; got "true"`},
		},
		{
			desc: "unknown mode",
			edit: func(s *Scenario) { s.Request.Mode = "navigate" },
			want: FieldErrors{"request.mode": `must be one of cors, no-cors, same-origin; got "navigate"`},
		},
		{
			desc: "unknown redirect",
			edit: func(s *Scenario) { s.Request.Redirect = "" },
			want: FieldErrors{"request.redirect": `must be one of follow, error, manual; got ""`},
		},
		{
			desc: "allowOrigin with a CRLF",
			edit: func(s *Scenario) { s.API.AllowOrigin = "*\r\nSet-Cookie: a=b" },
			want: FieldErrors{"api.allowOrigin": `header values cannot contain CR, LF or NUL; got "*\r\nSet-Cookie: a=b"`},
		},
		{
			desc: "allowOrigin as a list is sent as written, so it is valid",
			edit: func(s *Scenario) { s.API.AllowOrigin = "http://a.test, http://b.test" },
		},
		{
			desc: "allowMethods with a control character",
			edit: func(s *Scenario) { s.API.AllowMethods = "GET\x1b" },
			want: FieldErrors{"api.allowMethods": `header values cannot contain control characters other than tab; got "GET\x1b"`},
		},
		{
			desc: "allowHeaders too long",
			edit: func(s *Scenario) { s.API.AllowHeaders = strings.Repeat("h", 4097) },
			want: FieldErrors{"api.allowHeaders": "must be at most 4096 bytes; got 4097"},
		},
		{
			desc: "exposeHeaders with LF",
			edit: func(s *Scenario) { s.API.ExposeHeaders = "X-A\nX-B" },
			want: FieldErrors{"api.exposeHeaders": `header values cannot contain CR, LF or NUL; got "X-A\nX-B"`},
		},
		{
			desc: "an allowlist with too many entries",
			edit: func(s *Scenario) { s.API.Allowlist = manyEntries(33) },
			want: FieldErrors{"api.allowlist": "at most 32 entries; got 33"},
		},
		{
			desc: "an allowlist entry too long",
			edit: func(s *Scenario) { s.API.Allowlist = []string{"ok", strings.Repeat("e", 513)} },
			want: FieldErrors{"api.allowlist": "entry 2: must be at most 512 bytes; got 513"},
		},
		{
			desc: "an allowlist entry with CR",
			edit: func(s *Scenario) { s.API.Allowlist = []string{"http://a.test\r"} },
			want: FieldErrors{"api.allowlist": `entry 1: header values cannot contain CR, LF or NUL; got "http://a.test\r"`},
		},
		{
			desc: "an entry that is not a regexp is fine unless match is regex",
			edit: func(s *Scenario) { s.API.Allowlist = []string{"http://(a.test"} },
		},
		{
			desc: "regex entries must compile",
			edit: func(s *Scenario) {
				s.API.Match = "regex"
				s.API.Allowlist = []string{`^http://a\.test$`, "http://(a.test", "*"}
			},
			want: FieldErrors{"api.allowlist": "entry 2: \"http://(a.test\" is not a valid regexp: error parsing regexp: missing closing ): `http://(a.test`; " +
				"entry 3: \"*\" is not a valid regexp: error parsing regexp: missing argument to repetition operator: `*`"},
		},
		{
			desc: "unknown match",
			edit: func(s *Scenario) { s.API.Match = "glob" },
			want: FieldErrors{"api.match": `must be one of exact, suffix, prefix, regex; got "glob"`},
		},
		{
			desc: "maxAge 0 is valid and different from null",
			edit: func(s *Scenario) { s.API.MaxAge = intPtr(0) },
		},
		{
			desc: "maxAge under minus a year",
			edit: func(s *Scenario) { s.API.MaxAge = intPtr(-31536001) },
			want: FieldErrors{"api.maxAge": "must be between -31536000 and 31536000 seconds (a year), or null for no header; got -31536001"},
		},
		{
			desc: "maxAge over a year",
			edit: func(s *Scenario) { s.API.MaxAge = intPtr(31536001) },
			want: FieldErrors{"api.maxAge": "must be between -31536000 and 31536000 seconds (a year), or null for no header; got 31536001"},
		},
		{
			desc: "preflightStatus below 200",
			edit: func(s *Scenario) { s.API.PreflightStatus = 199 },
			want: FieldErrors{"api.preflightStatus": "must be an HTTP status between 200 and 599; got 199"},
		},
		{
			desc: "preflightStatus 0, the zero value",
			edit: func(s *Scenario) { s.API.PreflightStatus = 0 },
			want: FieldErrors{"api.preflightStatus": "must be an HTTP status between 200 and 599; got 0"},
		},
		{
			desc: "preflightStatus above 599",
			edit: func(s *Scenario) { s.API.PreflightStatus = 600 },
			want: FieldErrors{"api.preflightStatus": "must be an HTTP status between 200 and 599; got 600"},
		},
		{
			desc: "redirect 0 hands out the signed URL in a 200 body",
			edit: func(s *Scenario) { s.API.Redirect = 0 },
		},
		{
			desc: "redirect 301",
			edit: func(s *Scenario) { s.API.Redirect = 301 },
		},
		{
			desc: "redirect 302",
			edit: func(s *Scenario) { s.API.Redirect = 302 },
		},
		{
			desc: "redirect 307",
			edit: func(s *Scenario) { s.API.Redirect = 307 },
		},
		{
			desc: "redirect 308",
			edit: func(s *Scenario) { s.API.Redirect = 308 },
		},
		{
			desc: "redirect 304 is a 3xx but not a redirect",
			edit: func(s *Scenario) { s.API.Redirect = 304 },
			want: FieldErrors{"api.redirect": "must be 301, 302, 303, 307 or 308, or 0 for the signed URL in a 200 body; got 304"},
		},
		{
			desc: "redirect 200",
			edit: func(s *Scenario) { s.API.Redirect = 200 },
			want: FieldErrors{"api.redirect": "must be 301, 302, 303, 307 or 308, or 0 for the signed URL in a 200 body; got 200"},
		},
		{
			desc: "a negative redirect",
			edit: func(s *Scenario) { s.API.Redirect = -303 },
			want: FieldErrors{"api.redirect": "must be 301, 302, 303, 307 or 308, or 0 for the signed URL in a 200 body; got -303"},
		},
		{
			desc: "signedUrlExpires 0, the zero value",
			edit: func(s *Scenario) { s.API.SignedURLExpires = 0 },
			want: FieldErrors{"api.signedUrlExpires": "must be between 1 and 604800 seconds (7 days, S3's limit); got 0"},
		},
		{
			desc: "a negative signedUrlExpires",
			edit: func(s *Scenario) { s.API.SignedURLExpires = -1 },
			want: FieldErrors{"api.signedUrlExpires": "must be between 1 and 604800 seconds (7 days, S3's limit); got -1"},
		},
		{
			desc: "signedUrlExpires over 7 days",
			edit: func(s *Scenario) { s.API.SignedURLExpires = 604801 },
			want: FieldErrors{"api.signedUrlExpires": "must be between 1 and 604800 seconds (7 days, S3's limit); got 604801"},
		},
		{
			desc: "requireLogin",
			edit: func(s *Scenario) { s.API.RequireLogin = true },
		},
		{
			desc: "cookieSameSite strict",
			edit: func(s *Scenario) { s.API.CookieSameSite = "strict" },
		},
		{
			desc: "cookieSameSite none",
			edit: func(s *Scenario) { s.API.CookieSameSite = "none" },
		},
		{
			desc: "cookieSameSite is spelt in lower case",
			edit: func(s *Scenario) { s.API.CookieSameSite = "Lax" },
			want: FieldErrors{"api.cookieSameSite": `must be one of lax, strict, none; got "Lax"`},
		},
		{
			desc: "cookieSameSite is one value, not the attribute",
			edit: func(s *Scenario) { s.API.CookieSameSite = "None; Secure" },
			want: FieldErrors{"api.cookieSameSite": `must be one of lax, strict, none; got "None; Secure"`},
		},
		{
			desc: "cookieSameSite empty",
			edit: func(s *Scenario) { s.API.CookieSameSite = "" },
			want: FieldErrors{"api.cookieSameSite": `must be one of lax, strict, none; got ""`},
		},
		{
			desc: "proxy.addOrigin can be any header value, even null",
			edit: func(s *Scenario) { s.Proxy.AddOrigin = "null" },
		},
		{
			desc: "proxy.addOrigin longer than 512 bytes",
			edit: func(s *Scenario) { s.Proxy.AddOrigin = strings.Repeat("o", 513) },
			want: FieldErrors{"proxy.addOrigin": "must be at most 512 bytes; got 513"},
		},
		{
			desc: "proxy.addOrigin with CRLF",
			edit: func(s *Scenario) { s.Proxy.AddOrigin = "http://app.test\r\nX-A: 1" },
			want: FieldErrors{"proxy.addOrigin": `header values cannot contain CR, LF or NUL; got "http://app.test\r\nX-A: 1"`},
		},
		{
			desc: "proxy.addOrigin with a control character",
			edit: func(s *Scenario) { s.Proxy.AddOrigin = "http://app.test\x7f" },
			want: FieldErrors{"proxy.addOrigin": `header values cannot contain control characters other than tab; got "http://app.test\x7f"`},
		},
		{
			desc: "a bucket without CORS is null",
			edit: func(s *Scenario) { s.Bucket.CORS = nil },
		},
		{
			desc: "an empty list of bucket rules",
			edit: func(s *Scenario) { s.Bucket.CORS = []s3cors.Rule{} },
			want: FieldErrors{"bucket.cors": malformedXML + "; a bucket without CORS rules is null"},
		},
		{
			desc: "more than 100 bucket rules",
			edit: func(s *Scenario) { s.Bucket.CORS = manyRules(101) },
			want: FieldErrors{"bucket.cors": "at most 100 rules; got 101"},
		},
		{
			desc: "more than 100 rules are not checked one by one",
			edit: func(s *Scenario) {
				s.Bucket.CORS = manyRules(101)
				s.Bucket.CORS[3].AllowedMethods = []string{"PATCH"}
			},
			want: FieldErrors{"bucket.cors": "at most 100 rules; got 101"},
		},
		{
			desc: "an unsupported method",
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{rule(func(r *s3cors.Rule) { r.AllowedMethods = []string{"GET", "PATCH"} })}
			},
			want: FieldErrors{"bucket.cors.0.allowedMethods": "S3 refuses this with 400 InvalidRequest: Found unsupported HTTP method in CORS config. Unsupported method is PATCH"},
		},
		{
			desc: "methods are case-sensitive",
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{rule(func(r *s3cors.Rule) { r.AllowedMethods = []string{"get"} })}
			},
			want: FieldErrors{"bucket.cors.0.allowedMethods": "S3 refuses this with 400 InvalidRequest: Found unsupported HTTP method in CORS config. Unsupported method is get"},
		},
		{
			desc: "S3 reports the first unsupported method only",
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{rule(func(r *s3cors.Rule) { r.AllowedMethods = []string{"OPTIONS", "PATCH"} })}
			},
			want: FieldErrors{"bucket.cors.0.allowedMethods": "S3 refuses this with 400 InvalidRequest: Found unsupported HTTP method in CORS config. Unsupported method is OPTIONS"},
		},
		{
			desc: "two wildcards in an origin",
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{rule(func(r *s3cors.Rule) { r.AllowedOrigins = []string{"http://app.test", "https://*.*.app.test"} })}
			},
			want: FieldErrors{"bucket.cors.0.allowedOrigins": `S3 refuses this with 400 InvalidRequest: AllowedOrigin "https://*.*.app.test" can not have more than one wildcard.`},
		},
		{
			desc: "two wildcards in an allowed header",
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{rule(func(r *s3cors.Rule) { r.AllowedHeaders = []string{"x-*-*"} })}
			},
			want: FieldErrors{"bucket.cors.0.allowedHeaders": `S3 refuses this with 400 InvalidRequest: AllowedHeader "x-*-*" can not have more than one wildcard.`},
		},
		{
			desc: "S3 does not check expose headers",
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{rule(func(r *s3cors.Rule) { r.ExposeHeaders = []string{"**", "x y"} })}
			},
		},
		{
			desc: "a rule without origins",
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{rule(func(r *s3cors.Rule) { r.AllowedOrigins = nil })}
			},
			want: FieldErrors{"bucket.cors.0.allowedOrigins": malformedXML + "; a rule needs at least one"},
		},
		{
			desc: "a rule with an empty list of methods",
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{rule(func(r *s3cors.Rule) { r.AllowedMethods = []string{} })}
			},
			want: FieldErrors{"bucket.cors.0.allowedMethods": malformedXML + "; a rule needs at least one"},
		},
		{
			desc: "an empty rule",
			edit: func(s *Scenario) { s.Bucket.CORS = []s3cors.Rule{{}} },
			want: FieldErrors{
				"bucket.cors.0.allowedOrigins": malformedXML + "; a rule needs at least one",
				"bucket.cors.0.allowedMethods": malformedXML + "; a rule needs at least one",
			},
		},
		{
			desc: "each rule's errors land on its own index",
			edit: func(s *Scenario) {
				s.Bucket.CORS = manyRules(12)
				s.Bucket.CORS[2].AllowedMethods = []string{"PATCH"}
				s.Bucket.CORS[10].AllowedOrigins = []string{"*.*"}
			},
			want: FieldErrors{
				"bucket.cors.2.allowedMethods":  "S3 refuses this with 400 InvalidRequest: Found unsupported HTTP method in CORS config. Unsupported method is PATCH",
				"bucket.cors.10.allowedOrigins": `S3 refuses this with 400 InvalidRequest: AllowedOrigin "*.*" can not have more than one wildcard.`,
			},
		},
		{
			desc: "an id longer than 255 bytes",
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{rule(func(r *s3cors.Rule) { r.ID = strings.Repeat("i", 256) })}
			},
			want: FieldErrors{"bucket.cors.0.id": "must be at most 255 bytes; got 256"},
		},
		{
			desc: "an id with a control character",
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{rule(func(r *s3cors.Rule) { r.ID = "up\x01loads" })}
			},
			want: FieldErrors{"bucket.cors.0.id": `header values cannot contain control characters other than tab; got "up\x01loads"`},
		},
		{
			desc: "an id with DEL",
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{rule(func(r *s3cors.Rule) { r.ID = "uploads\x7f" })}
			},
			want: FieldErrors{"bucket.cors.0.id": `header values cannot contain control characters other than tab; got "uploads\x7f"`},
		},
		{
			desc: "an id with CRLF",
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{rule(func(r *s3cors.Rule) { r.ID = "a\r\nX-A: 1" })}
			},
			want: FieldErrors{"bucket.cors.0.id": `header values cannot contain CR, LF or NUL; got "a\r\nX-A: 1"`},
		},
		{
			desc: "an id may hold a tab and non-ASCII letters",
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{rule(func(r *s3cors.Rule) { r.ID = "up\tloads é" })}
			},
		},
		{
			desc: "an id that is too long and holds a control character gets the length message",
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{rule(func(r *s3cors.Rule) { r.ID = strings.Repeat("i", 255) + "\x01" })}
			},
			want: FieldErrors{"bucket.cors.0.id": "must be at most 255 bytes; got 256"},
		},
		{
			desc: "an origin longer than 512 bytes",
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{rule(func(r *s3cors.Rule) { r.AllowedOrigins = []string{"*", strings.Repeat("o", 513)} })}
			},
			want: FieldErrors{"bucket.cors.0.allowedOrigins": "entry 2: must be at most 512 bytes; got 513"},
		},
		{
			desc: "corslab's limits come before S3's checks",
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{rule(func(r *s3cors.Rule) { r.AllowedMethods = []string{"PATCH", strings.Repeat("M", 513)} })}
			},
			want: FieldErrors{"bucket.cors.0.allowedMethods": "entry 2: must be at most 512 bytes; got 513"},
		},
		{
			desc: "too many allowed headers",
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{rule(func(r *s3cors.Rule) { r.AllowedHeaders = manyEntries(33) })}
			},
			want: FieldErrors{"bucket.cors.0.allowedHeaders": "at most 32 entries; got 33"},
		},
		{
			desc: "list problems share one key, in entry order",
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{rule(func(r *s3cors.Rule) {
					r.ExposeHeaders = manyEntries(33)
					r.ExposeHeaders[1] = "X-A\r\n"
					r.ExposeHeaders[4] = "X\x01"
				})}
			},
			want: FieldErrors{"bucket.cors.0.exposeHeaders": "at most 32 entries; got 33; " +
				`entry 2: header values cannot contain CR, LF or NUL; got "X-A\r\n"; ` +
				`entry 5: header values cannot contain control characters other than tab; got "X\x01"`},
		},
		{
			desc: "maxAgeSeconds 0 is valid and different from null",
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{rule(func(r *s3cors.Rule) { r.MaxAgeSeconds = intPtr(0) })}
			},
		},
		{
			desc: "a negative maxAgeSeconds",
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{rule(func(r *s3cors.Rule) { r.MaxAgeSeconds = intPtr(-1) })}
			},
			want: FieldErrors{"bucket.cors.0.maxAgeSeconds": "must be between 0 and 31536000 seconds (a year), or null for no header; got -1"},
		},
		{
			desc: "maxAgeSeconds over a year",
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{rule(func(r *s3cors.Rule) { r.MaxAgeSeconds = intPtr(31536001) })}
			},
			want: FieldErrors{"bucket.cors.0.maxAgeSeconds": "must be between 0 and 31536000 seconds (a year), or null for no header; got 31536001"},
		},
		{
			desc: "every field of a rule can be wrong at once",
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{{
					ID:             strings.Repeat("i", 300),
					AllowedOrigins: []string{"a*b*c"},
					AllowedMethods: []string{"TRACE"},
					AllowedHeaders: []string{"**"},
					ExposeHeaders:  []string{"\n"},
					MaxAgeSeconds:  intPtr(-5),
				}}
			},
			want: FieldErrors{
				"bucket.cors.0.id":             "must be at most 255 bytes; got 300",
				"bucket.cors.0.allowedOrigins": `S3 refuses this with 400 InvalidRequest: AllowedOrigin "a*b*c" can not have more than one wildcard.`,
				"bucket.cors.0.allowedMethods": "S3 refuses this with 400 InvalidRequest: Found unsupported HTTP method in CORS config. Unsupported method is TRACE",
				"bucket.cors.0.allowedHeaders": `S3 refuses this with 400 InvalidRequest: AllowedHeader "**" can not have more than one wildcard.`,
				"bucket.cors.0.exposeHeaders":  `entry 1: header values cannot contain CR, LF or NUL; got "\n"`,
				"bucket.cors.0.maxAgeSeconds":  "must be between 0 and 31536000 seconds (a year), or null for no header; got -5",
			},
		},
		{
			desc: "the zero Scenario breaks many rules at once",
			edit: func(s *Scenario) { *s = Scenario{} },
			want: FieldErrors{
				"version":              "unsupported version 0; this server reads version 1",
				"setup":                `must be one of three-origins, two-origins, one-origin; got ""`,
				"request.from":         `must be one of app, sandbox, sandbox-same-origin, data, srcdoc, evil, api, lookalike; got ""`,
				"request.target":       `must be one of api, s3, yours; got ""`,
				"request.method":       "must not be empty; fetch() needs a method such as GET",
				"request.path":         `must be a path such as /users, optionally with ?query, without spaces, control characters or #; got ""`,
				"request.credentials":  `must be one of omit, same-origin, include; got ""`,
				"request.mode":         `must be one of cors, no-cors, same-origin; got ""`,
				"request.redirect":     `must be one of follow, error, manual; got ""`,
				"api.match":            `must be one of exact, suffix, prefix, regex; got ""`,
				"api.preflightStatus":  "must be an HTTP status between 200 and 599; got 0",
				"api.signedUrlExpires": "must be between 1 and 604800 seconds (7 days, S3's limit); got 0",
				"api.cookieSameSite":   `must be one of lax, strict, none; got ""`,
				"api.websocketOrigins": `must be one of any, allowlist; got ""`,
				"request.via":          `must be one of fetch, xhr, img, img+canvas, script, font, stylesheet, eventsource, websocket, form, beacon; got ""`,
				"request.crossOrigin":  `must be one of none, anonymous, use-credentials; got ""`,
				"request.enctype":      `must be one of application/x-www-form-urlencoded, multipart/form-data, text/plain; got ""`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			s := Default()
			tc.edit(&s)
			got := s.Validate()
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Validate():\ngot  %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

func TestFieldErrorsError(t *testing.T) {
	tests := []struct {
		desc string
		errs FieldErrors
		want string
	}{
		{
			desc: "no errors",
			errs: FieldErrors{},
			want: "",
		},
		{
			desc: "one field",
			errs: FieldErrors{"version": "unsupported version 2; this server reads version 1"},
			want: "version: unsupported version 2; this server reads version 1",
		},
		{
			desc: "fields in key order",
			errs: FieldErrors{"version": "v", "api.maxAge": "m", "request.path": "p"},
			want: "api.maxAge: m; request.path: p; version: v",
		},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			for range 10 { // map order must not show
				if got := tc.errs.Error(); got != tc.want {
					t.Fatalf("Error() = %q, want %q", got, tc.want)
				}
			}
		})
	}
}

func TestSetupsIsACopy(t *testing.T) {
	Setups()[0] = "changed"
	if got := Setups()[0]; got != "three-origins" {
		t.Errorf("Setups()[0] = %q after a caller changed its copy, want %q", got, "three-origins")
	}
}

// Each door takes only the settings, methods, headers and body a page can
// give it, and every refusal names the field.
func TestValidateDoors(t *testing.T) {
	tests := []struct {
		desc string
		edit func(r *Request)
		want FieldErrors
	}{
		{"an <img> with crossorigin=anonymous", func(r *Request) {
			r.Via, r.Path, r.CrossOrigin = "img+canvas", "/image.png", "anonymous"
		}, nil},
		{"an XMLHttpRequest with credentials and headers", func(r *Request) {
			r.Via, r.Method, r.WithCredentials = "xhr", "PUT", true
			r.Headers = map[string]string{"X-A": "1"}
		}, nil},
		{"a form posting text/plain", func(r *Request) {
			r.Via, r.Method, r.Enctype, r.Body = "form", "POST", "text/plain", "a=1&b=2"
		}, nil},
		{"a beacon with its body's type", func(r *Request) {
			r.Via, r.Method, r.Body = "beacon", "POST", "{}"
			r.Headers = map[string]string{"content-type": "application/json"}
		}, nil},
		{"an unknown door", func(r *Request) { r.Via = "iframe" }, FieldErrors{
			"request.via": `must be one of fetch, xhr, img, img+canvas, script, font, stylesheet, eventsource, websocket, form, beacon; got "iframe"`,
		}},
		{"settings of another door", func(r *Request) {
			r.CrossOrigin, r.WithCredentials, r.Enctype = "anonymous", true, "text/plain"
		}, FieldErrors{
			"request.crossOrigin":     `only <img>, <script> and <link rel=stylesheet> have a crossorigin attribute; fetch() has none: leave it "none"`,
			"request.withCredentials": "only XMLHttpRequest and EventSource have withCredentials; fetch() has not: leave it false",
			"request.enctype":         `only a form has an enctype; fetch() has none: leave it "application/x-www-form-urlencoded"`,
		}},
		{"fetch()'s own options on a script", func(r *Request) {
			r.Via, r.Mode, r.Credentials, r.Redirect = "script", "no-cors", "include", "manual"
		}, FieldErrors{
			"request.mode":        `only fetch() takes this option, and <script> is not fetch(): leave it "cors"; the door sets the mode itself`,
			"request.credentials": `only fetch() takes this option, and <script> is not fetch(): leave it "same-origin"; the door sets it: see request.crossOrigin and request.withCredentials`,
			"request.redirect":    `only fetch() takes this option, and <script> is not fetch(): leave it "follow"; the door follows redirects itself`,
		}},
		{"a method, headers and a body an <img> cannot send", func(r *Request) {
			r.Via, r.Method, r.Body = "img", "POST", "x"
			r.Headers = map[string]string{"X-A": "1"}
		}, FieldErrors{
			"request.method":  `<img> sends only GET; got "POST"`,
			"request.headers": "<img> cannot set request headers (X-A)",
			"request.body":    "<img> sends no body: leave it empty",
		}},
		{"a beacon with another header", func(r *Request) {
			r.Via, r.Method = "beacon", "POST"
			r.Headers = map[string]string{"X-A": "1"}
		}, FieldErrors{
			"request.headers": "navigator.sendBeacon() cannot set request headers (X-A); a beacon takes only Content-Type, its body's type",
		}},
		{"a form that PUTs", func(r *Request) { r.Via, r.Method = "form", "PUT" }, FieldErrors{
			"request.method": `<form> sends only GET or POST; got "PUT"`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			s := Default()
			tc.edit(&s.Request)
			if got := s.Validate(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Validate():\ngot  %#v\nwant %#v", got, tc.want)
			}
		})
	}
	s := Default()
	s.API.WebsocketOrigins = "some"
	if got, want := s.Validate()["api.websocketOrigins"], `must be one of any, allowlist; got "some"`; got != want {
		t.Errorf("api.websocketOrigins: %q, want %q", got, want)
	}
}
