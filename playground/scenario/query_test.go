package scenario

import (
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/corslab/corslab/playground/s3cors"
)

func TestQuery(t *testing.T) {
	tests := []struct {
		desc string
		edit func(*Scenario)
		want string // url.Values.Encode of the query
	}{
		{
			desc: "the default scenario is an empty query",
			edit: func(*Scenario) {},
			want: "",
		},
		{
			desc: "nil headers and allowlist are the same as the default's empty ones",
			edit: func(s *Scenario) {
				s.Request.Headers = nil
				s.API.Allowlist = nil
			},
			want: "",
		},
		{
			desc: "one changed field",
			edit: func(s *Scenario) { s.API.AllowOrigin = "echo" },
			want: "api.allowOrigin=echo",
		},
		{
			desc: "a page on a look-alike origin, and its host",
			edit: func(s *Scenario) {
				s.Request.From = "lookalike"
				s.Request.LookalikeHost = "promo.corslab.localhost"
			},
			want: "request.from=lookalike&request.lookalikeHost=promo.corslab.localhost",
		},
		{
			desc: "the look-alike page on the default host names only from",
			edit: func(s *Scenario) { s.Request.From = "lookalike" },
			want: "request.from=lookalike",
		},
		{
			desc: "a header has a key of its own",
			edit: func(s *Scenario) { s.Request.Headers = map[string]string{"X-Token": "a b", "X-Empty": ""} },
			want: "request.headers.X-Empty=&request.headers.X-Token=a+b",
		},
		{
			desc: "the allowlist is repeated in order",
			edit: func(s *Scenario) {
				s.API.AllowOrigin = "allowlist"
				s.API.Allowlist = []string{"http://b.test", "http://a.test"}
			},
			want: "api.allowOrigin=allowlist&api.allowlist=http%3A%2F%2Fb.test&api.allowlist=http%3A%2F%2Fa.test",
		},
		{
			desc: "booleans that differ from the default",
			edit: func(s *Scenario) {
				s.API.AllowCredentials = true
				s.API.Vary = false
			},
			want: "api.allowCredentials=true&api.vary=false",
		},
		{
			desc: "maxAge 0 is written, null is not",
			edit: func(s *Scenario) { s.API.MaxAge = intPtr(0) },
			want: "api.maxAge=0",
		},
		{
			desc: "numbers and the rest of the request",
			edit: func(s *Scenario) {
				s.Setup = "other"
				s.Request = Request{From: "evil", LookalikeHost: "evil.corslab.localhost", Target: "t", Method: "POST", Path: "/x?y=1", Body: "b",
					Credentials: "include", Mode: "no-cors", Redirect: "manual",
					Via: "img+canvas", CrossOrigin: "use-credentials", WithCredentials: true, Enctype: "text/plain"}
				s.API.Match = "regex"
				s.API.WebsocketOrigins = "allowlist"
				s.API.AllowMethods = "PUT"
				s.API.AllowHeaders = "echo"
				s.API.ExposeHeaders = "X-A"
				s.API.PreflightStatus = 200
			},
			want: "api.allowHeaders=echo&api.allowMethods=PUT&api.exposeHeaders=X-A&api.match=regex&api.preflightStatus=200&api.websocketOrigins=allowlist" +
				"&request.body=b&request.credentials=include&request.crossOrigin=use-credentials&request.enctype=text%2Fplain" +
				"&request.from=evil&request.lookalikeHost=evil.corslab.localhost&request.method=POST&request.mode=no-cors" +
				"&request.path=%2Fx%3Fy%3D1&request.redirect=manual&request.target=t&request.via=img%2Bcanvas&request.withCredentials=true&setup=other",
		},
		{
			desc: "the signed-URL settings",
			edit: func(s *Scenario) {
				s.API.Redirect = 0
				s.API.SignedURLExpires = 3600
				s.API.RequireLogin = true
			},
			want: "api.redirect=0&api.requireLogin=true&api.signedUrlExpires=3600",
		},
		{
			desc: "the login cookie's SameSite",
			edit: func(s *Scenario) { s.API.CookieSameSite = "none" },
			want: "api.cookieSameSite=none",
		},
		{
			desc: "setup, target and proxy",
			edit: func(s *Scenario) {
				s.Setup = "one-origin"
				s.Request.Target = "s3"
				s.Proxy.AddOrigin = "http://app.test"
			},
			want: "proxy.addOrigin=http%3A%2F%2Fapp.test&request.target=s3&setup=one-origin",
		},
		{
			desc: "bucket rules are numbered from 0, their lists repeated in order",
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{
					{
						ID:             "a b",
						AllowedOrigins: []string{"http://b.test", "http://a.test"},
						AllowedMethods: []string{"PUT", "GET"},
						AllowedHeaders: []string{"*"},
						ExposeHeaders:  []string{"x-amz-request-id", "ETag"},
						MaxAgeSeconds:  intPtr(0),
					},
					{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}},
				}
			},
			want: "bucket.cors.0.allowedHeaders=%2A&bucket.cors.0.allowedMethods=PUT&bucket.cors.0.allowedMethods=GET" +
				"&bucket.cors.0.allowedOrigins=http%3A%2F%2Fb.test&bucket.cors.0.allowedOrigins=http%3A%2F%2Fa.test" +
				"&bucket.cors.0.exposeHeaders=x-amz-request-id&bucket.cors.0.exposeHeaders=ETag" +
				"&bucket.cors.0.id=a+b&bucket.cors.0.maxAgeSeconds=0" +
				"&bucket.cors.1.allowedMethods=GET&bucket.cors.1.allowedOrigins=%2A",
		},
		{
			desc: "empty lists and a null maxAgeSeconds are not written",
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{{
					AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"},
					AllowedHeaders: []string{}, ExposeHeaders: nil,
				}}
			},
			want: "bucket.cors.0.allowedMethods=GET&bucket.cors.0.allowedOrigins=%2A",
		},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			s := Default()
			tc.edit(&s)
			if got := s.Query().Encode(); got != tc.want {
				t.Errorf("Query().Encode():\ngot  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// roundTripScenarios are valid scenarios that exercise every field.
func roundTripScenarios() map[string]Scenario {
	headers := Default()
	headers.Request.Method = "PUT"
	headers.Request.Headers = map[string]string{
		"X-Token": "abc=def&ghi", "Content-Type": "application/json; charset=utf-8",
		"X-Empty": "", "X-Tab": "a\tb", "X-Dot.Name": "é€😀", "request.headers.X": "nested",
	}

	allowlist := Default()
	allowlist.API = API{
		AllowOrigin:      "allowlist",
		Allowlist:        []string{`^https?://app\.test$`, "null", "http://a.test", "http://a.test"},
		Match:            "regex",
		AllowCredentials: true,
		AllowMethods:     "GET, PUT",
		AllowHeaders:     "echo",
		ExposeHeaders:    "X-Total, X-Page",
		MaxAge:           intPtr(0),
		Vary:             false,
		PreflightStatus:  500,
		ExtraHeaders:     map[string]string{},
		Redirect:         303,
		SignedURLExpires: 900,
		CookieSameSite:   "strict",
		WebsocketOrigins: "allowlist",
	}

	extra := Default()
	extra.API.MaxAge = intPtr(-1)
	extra.API.ExtraHeaders = map[string]string{"Access-Control-Allow-Credentials": "TRUE", "x-odd": "a, b"}

	body := Default()
	body.Request = Request{
		From:        "sandbox",
		Target:      "api",
		Method:      "post",
		Path:        "/users?q=a+b&r=%20&s=é",
		Headers:     map[string]string{},
		Body:        "line 1\nline 2\r\n\ttabbed; ünïcödé ✓ 😀 & = + % #\x00",
		Credentials: "include",
		Mode:        "no-cors",
		Redirect:    "error",
		Via:         "fetch", CrossOrigin: "none", Enctype: "application/x-www-form-urlencoded",
	}
	body.API.MaxAge = intPtr(31536000)

	literal := Default()
	literal.API.AllowOrigin = "http://a.test, http://b.test"
	literal.API.Match = "suffix"
	literal.API.Allowlist = []string{"example.com"}

	files := Default()
	files.Request.Target = "s3"
	files.API.Redirect = 0
	files.API.SignedURLExpires = 604800
	files.API.RequireLogin = true
	files.API.CookieSameSite = "none"

	twoOrigins := Default()
	twoOrigins.Setup = "two-origins"
	twoOrigins.Request.From = "api"
	twoOrigins.Request.Target = "s3"
	twoOrigins.API.Redirect = 307
	twoOrigins.API.SignedURLExpires = 1

	oneOrigin := Default()
	oneOrigin.Setup = "one-origin"
	oneOrigin.Proxy.AddOrigin = "http://app.test?a=b&c=%20 é"

	bucket := Default()
	bucket.Bucket.CORS = []s3cors.Rule{
		{
			ID:             "uploads & more = é",
			AllowedOrigins: []string{"http://b.test", "https://*.a.test", "http://b.test", "", "null"},
			AllowedMethods: []string{"PUT", "POST", "DELETE", "HEAD", "GET"},
			AllowedHeaders: []string{"x-amz-*", "", "Content-Type"},
			ExposeHeaders:  []string{"ETag", "a\tb", "**"},
			MaxAgeSeconds:  intPtr(0),
		},
		{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}, AllowedHeaders: []string{}, ExposeHeaders: []string{}},
		{
			AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}, AllowedHeaders: []string{}, ExposeHeaders: []string{},
			MaxAgeSeconds: intPtr(31536000), ID: "last",
		},
	}

	// More than ten rules, so that their keys do not sort in rule order.
	// manyRules gives their absent lists as empty, the way FromQuery does.
	everyRule := Default()
	everyRule.Bucket.CORS = manyRules(s3cors.MaxRules)
	everyRule.Bucket.CORS[99].MaxAgeSeconds = intPtr(99)

	return map[string]Scenario{
		"default":     Default(),
		"headers":     headers,
		"allowlist":   allowlist,
		"body":        body,
		"literal":     literal,
		"extra":       extra,
		"files":       files,
		"two-origins": twoOrigins,
		"one-origin":  oneOrigin,
		"bucket":      bucket,
		"every rule":  everyRule,
	}
}

func TestQueryRoundTrip(t *testing.T) {
	for desc, s := range roundTripScenarios() {
		t.Run(desc, func(t *testing.T) {
			if errs := s.Validate(); errs != nil {
				t.Fatalf("test scenario is invalid: %v", errs)
			}
			got, errs := FromQuery(s.Query())
			if errs != nil {
				t.Fatalf("FromQuery(%s): %v", s.Query().Encode(), errs)
			}
			if !reflect.DeepEqual(got, s) {
				t.Errorf("FromQuery(Query()):\ngot  %#v\nwant %#v", got, s)
			}
			// And through the text of a URL.
			q, err := url.ParseQuery(s.Query().Encode())
			if err != nil {
				t.Fatal(err)
			}
			got, errs = FromQuery(q)
			if errs != nil || !reflect.DeepEqual(got, s) {
				t.Errorf("FromQuery(ParseQuery(Query().Encode())):\ngot  %#v, %v\nwant %#v", got, errs, s)
			}
		})
	}
}

func TestFromQuery(t *testing.T) {
	tests := []struct {
		desc     string
		query    string
		edit     func(*Scenario) // applied to Default() to get the wanted scenario
		wantErrs FieldErrors
	}{
		{
			desc:  "an empty query is the default",
			query: "",
			edit:  func(*Scenario) {},
		},
		{
			desc:  "a few settings",
			query: "api.allowOrigin=*&api.maxAge=600&api.vary=false&request.headers.X-A=1&request.method=DELETE",
			edit: func(s *Scenario) {
				s.API.AllowOrigin = "*"
				s.API.MaxAge = intPtr(600)
				s.API.Vary = false
				s.Request.Headers["X-A"] = "1"
				s.Request.Method = "DELETE"
			},
		},
		{
			desc:  "an empty maxAge is null",
			query: "api.maxAge=",
			edit:  func(*Scenario) {},
		},
		{
			desc:  "a look-alike page and its host",
			query: "request.from=lookalike&request.lookalikeHost=127.0.0.1.attacker.localhost",
			edit: func(s *Scenario) {
				s.Request.From = "lookalike"
				s.Request.LookalikeHost = "127.0.0.1.attacker.localhost"
			},
		},
		{
			desc:  "a look-alike page with an empty host",
			query: "request.from=lookalike&request.lookalikeHost=",
			edit: func(s *Scenario) {
				s.Request.From = "lookalike"
				s.Request.LookalikeHost = ""
			},
			wantErrs: FieldErrors{"request.lookalikeHost": "the look-alike page needs a host: a host name under .localhost, such as app-corslab.localhost: lower-case letters, digits and '-' in dot-separated labels of 1 to 63 characters that neither start nor end with '-'"},
		},
		{
			desc:  "a look-alike host with a port",
			query: "request.lookalikeHost=evil.localhost:8081",
			edit:  func(s *Scenario) { s.Request.LookalikeHost = "evil.localhost:8081" },
			wantErrs: FieldErrors{"request.lookalikeHost": "must be a host name under .localhost, such as app-corslab.localhost: lower-case letters, digits and '-' in dot-separated labels of 1 to 63 characters that neither start nor end with '-' " +
				`(browsers send every *.localhost name to this machine, RFC 6761; other names would need DNS); got "evil.localhost:8081"`},
		},
		{
			desc:  "a setting equal to its default is accepted",
			query: "setup=three-origins&api.vary=true",
			edit:  func(*Scenario) {},
		},
		{
			desc:     "an unknown key",
			query:    "api.allowOrgin=*",
			edit:     func(*Scenario) {},
			wantErrs: FieldErrors{"api.allowOrgin": "unknown setting; see the README's permalink section"},
		},
		{
			desc:     "the version is not a setting",
			query:    "version=1",
			edit:     func(*Scenario) {},
			wantErrs: FieldErrors{"version": "unknown setting; see the README's permalink section"},
		},
		{
			desc:     "a key without its header name",
			query:    "request.headers=X-A",
			edit:     func(*Scenario) {},
			wantErrs: FieldErrors{"request.headers": "unknown setting; see the README's permalink section"},
		},
		{
			desc:     "a single setting given twice",
			query:    "request.method=PUT&request.method=POST",
			edit:     func(*Scenario) {},
			wantErrs: FieldErrors{"request.method": "given more than once"},
		},
		{
			desc:     "a header given twice",
			query:    "request.headers.X-A=1&request.headers.X-A=2",
			edit:     func(*Scenario) {},
			wantErrs: FieldErrors{"request.headers": `header "X-A" given more than once`},
		},
		{
			desc:     "a header without a name",
			query:    "request.headers.=1",
			edit:     func(*Scenario) {},
			wantErrs: FieldErrors{"request.headers": "a header needs a name: request.headers.<Name>=value"},
		},
		{
			desc:  "header problems from parsing and validation share one key",
			query: "request.headers.=1&request.headers.X%20A=2",
			edit:  func(s *Scenario) { s.Request.Headers["X A"] = "2" },
			wantErrs: FieldErrors{"request.headers": "a header needs a name: request.headers.<Name>=value; " +
				`header name "X A" must be an HTTP token (letters, digits and !#$%&'*+-.^_` + "`" + `|~)`},
		},
		{
			desc:     "a bool must be spelt true or false",
			query:    "api.allowCredentials=1",
			edit:     func(*Scenario) {},
			wantErrs: FieldErrors{"api.allowCredentials": `must be true or false; got "1"`},
		},
		{
			desc:     "bools are case-sensitive",
			query:    "api.vary=False",
			edit:     func(*Scenario) {},
			wantErrs: FieldErrors{"api.vary": `must be true or false; got "False"`},
		},
		{
			desc:     "a status that is not a number",
			query:    "api.preflightStatus=ok",
			edit:     func(*Scenario) {},
			wantErrs: FieldErrors{"api.preflightStatus": `must be a whole number; got "ok"`},
		},
		{
			desc:     "a maxAge that is not a whole number",
			query:    "api.maxAge=1.5",
			edit:     func(*Scenario) {},
			wantErrs: FieldErrors{"api.maxAge": `must be a whole number, or empty for no header; got "1.5"`},
		},
		{
			desc:     "a maxAge that parses but breaks a rule",
			query:    "api.maxAge=-31536001",
			edit:     func(s *Scenario) { s.API.MaxAge = intPtr(-31536001) },
			wantErrs: FieldErrors{"api.maxAge": "must be between -31536000 and 31536000 seconds (a year), or null for no header; got -31536001"},
		},
		{
			desc:  "validation errors come with the scenario as read",
			query: "request.body=x&api.match=glob&api.allowOrigin=echo",
			edit: func(s *Scenario) {
				s.Request.Body = "x"
				s.API.Match = "glob"
				s.API.AllowOrigin = "echo"
			},
			wantErrs: FieldErrors{
				"request.body": "GET and HEAD requests cannot have a body (fetch() throws a TypeError)",
				"api.match":    `must be one of exact, suffix, prefix, regex; got "glob"`,
			},
		},
		{
			desc:  "every kind of error at once",
			query: "nope=1&nope=2&api.vary=yes&api.vary=no&request.path=users&api.allowlist=(&api.match=regex",
			edit: func(s *Scenario) {
				s.Request.Path = "users"
				s.API.Allowlist = []string{"("}
				s.API.Match = "regex"
			},
			wantErrs: FieldErrors{
				"nope":          "unknown setting; see the README's permalink section",
				"api.vary":      "given more than once",
				"request.path":  `must be a path such as /users, optionally with ?query, without spaces, control characters or #; got "users"`,
				"api.allowlist": "entry 1: \"(\" is not a valid regexp: error parsing regexp: missing closing ): `(`",
			},
		},
		{
			desc:  "the settings of the S3 lab",
			query: "api.redirect=0&api.signedUrlExpires=60&api.requireLogin=true&proxy.addOrigin=null&setup=one-origin&request.target=s3",
			edit: func(s *Scenario) {
				s.API.Redirect = 0
				s.API.SignedURLExpires = 60
				s.API.RequireLogin = true
				s.Proxy.AddOrigin = "null"
				s.Setup = "one-origin"
				s.Request.Target = "s3"
			},
		},
		{
			desc:     "a redirect that is not a number",
			query:    "api.redirect=see-other",
			edit:     func(*Scenario) {},
			wantErrs: FieldErrors{"api.redirect": `must be a whole number; got "see-other"`},
		},
		{
			desc:     "a redirect that parses but breaks a rule",
			query:    "api.redirect=304",
			edit:     func(s *Scenario) { s.API.Redirect = 304 },
			wantErrs: FieldErrors{"api.redirect": "must be 301, 302, 303, 307 or 308, or 0 for the signed URL in a 200 body; got 304"},
		},
		{
			desc:     "a signedUrlExpires that is not a whole number",
			query:    "api.signedUrlExpires=1h",
			edit:     func(*Scenario) {},
			wantErrs: FieldErrors{"api.signedUrlExpires": `must be a whole number; got "1h"`},
		},
		{
			desc:     "a signedUrlExpires that parses but breaks a rule",
			query:    "api.signedUrlExpires=0",
			edit:     func(s *Scenario) { s.API.SignedURLExpires = 0 },
			wantErrs: FieldErrors{"api.signedUrlExpires": "must be between 1 and 604800 seconds (7 days, S3's limit); got 0"},
		},
		{
			desc:     "requireLogin must be spelt true or false",
			query:    "api.requireLogin=yes",
			edit:     func(*Scenario) {},
			wantErrs: FieldErrors{"api.requireLogin": `must be true or false; got "yes"`},
		},
		{
			desc:  "the login cookie's SameSite",
			query: "api.cookieSameSite=strict",
			edit:  func(s *Scenario) { s.API.CookieSameSite = "strict" },
		},
		{
			desc:     "a SameSite the api does not offer",
			query:    "api.cookieSameSite=None",
			edit:     func(s *Scenario) { s.API.CookieSameSite = "None" },
			wantErrs: FieldErrors{"api.cookieSameSite": `must be one of lax, strict, none; got "None"`},
		},
		{
			desc:     "cookieSameSite given twice",
			query:    "api.cookieSameSite=lax&api.cookieSameSite=none",
			edit:     func(*Scenario) {},
			wantErrs: FieldErrors{"api.cookieSameSite": "given more than once"},
		},
		{
			desc:     "proxy.addOrigin given twice",
			query:    "proxy.addOrigin=http://a.test&proxy.addOrigin=http://b.test",
			edit:     func(*Scenario) {},
			wantErrs: FieldErrors{"proxy.addOrigin": "given more than once"},
		},
		{
			desc:     "a setup whose page is not request.from",
			query:    "setup=two-origins",
			edit:     func(s *Scenario) { s.Setup = "two-origins" },
			wantErrs: FieldErrors{"request.from": `the two-origins setup runs the page on the api origin: must be "api"; got "app"`},
		},
		{
			desc:  "a setup with its page",
			query: "setup=two-origins&request.from=api",
			edit: func(s *Scenario) {
				s.Setup = "two-origins"
				s.Request.From = "api"
			},
		},
		{
			desc: "bucket rules, keys in any order, lists in order",
			query: "bucket.cors.1.allowedOrigins=*&bucket.cors.0.allowedMethods=PUT&bucket.cors.1.allowedMethods=GET" +
				"&bucket.cors.0.allowedOrigins=http://b.test&bucket.cors.0.allowedOrigins=http://a.test" +
				"&bucket.cors.0.maxAgeSeconds=0&bucket.cors.0.id=uploads&bucket.cors.0.allowedMethods=POST" +
				"&bucket.cors.0.exposeHeaders=ETag&bucket.cors.0.allowedHeaders=*&bucket.cors.0.allowedHeaders=",
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{
					{
						ID:             "uploads",
						AllowedOrigins: []string{"http://b.test", "http://a.test"},
						AllowedMethods: []string{"PUT", "POST"},
						AllowedHeaders: []string{"*", ""},
						ExposeHeaders:  []string{"ETag"},
						MaxAgeSeconds:  intPtr(0),
					},
					{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}, AllowedHeaders: []string{}, ExposeHeaders: []string{}},
				}
			},
		},
		{
			desc:  "an empty maxAgeSeconds is null",
			query: "bucket.cors.0.allowedOrigins=*&bucket.cors.0.allowedMethods=GET&bucket.cors.0.maxAgeSeconds=",
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{{
					AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"},
					AllowedHeaders: []string{}, ExposeHeaders: []string{},
				}}
			},
		},
		{
			desc:     "bucket.cors takes only null",
			query:    "bucket.cors=",
			edit:     func(*Scenario) {},
			wantErrs: FieldErrors{"bucket.cors": "only bucket.cors=null (no CORS configuration); rules are bucket.cors.<number>.<field>"},
		},
		{
			desc:     "a rule index that is not a number",
			query:    "bucket.cors.x.allowedOrigins=*",
			edit:     func(*Scenario) {},
			wantErrs: FieldErrors{"bucket.cors.x.allowedOrigins": "rules are numbered 0 to 99: bucket.cors.<number>.<field>"},
		},
		{
			desc:     "a rule index past S3's 100 rules",
			query:    "bucket.cors.100.allowedOrigins=*",
			edit:     func(*Scenario) {},
			wantErrs: FieldErrors{"bucket.cors.100.allowedOrigins": "rules are numbered 0 to 99: bucket.cors.<number>.<field>"},
		},
		{
			desc:     "a rule index with a leading zero",
			query:    "bucket.cors.01.allowedOrigins=*",
			edit:     func(*Scenario) {},
			wantErrs: FieldErrors{"bucket.cors.01.allowedOrigins": "rules are numbered 0 to 99: bucket.cors.<number>.<field>"},
		},
		{
			desc:  "rule indexes with a sign",
			query: "bucket.cors.%2B0.allowedOrigins=*&bucket.cors.-0.allowedMethods=GET&bucket.cors.-1.id=x",
			edit:  func(*Scenario) {},
			wantErrs: FieldErrors{
				"bucket.cors.+0.allowedOrigins": "rules are numbered 0 to 99: bucket.cors.<number>.<field>",
				"bucket.cors.-0.allowedMethods": "rules are numbered 0 to 99: bucket.cors.<number>.<field>",
				"bucket.cors.-1.id":             "rules are numbered 0 to 99: bucket.cors.<number>.<field>",
			},
		},
		{
			desc:  "the last rule S3 allows",
			query: "bucket.cors.99.allowedOrigins=*&bucket.cors.99.allowedMethods=GET",
			edit: func(s *Scenario) {
				s.Bucket.CORS = make([]s3cors.Rule, 100)
				for i := range 99 {
					s.Bucket.CORS[i] = s3cors.Rule{
						AllowedOrigins: []string{}, AllowedMethods: []string{},
						AllowedHeaders: []string{}, ExposeHeaders: []string{},
					}
				}
				s.Bucket.CORS[99] = s3cors.Rule{
					AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"},
					AllowedHeaders: []string{}, ExposeHeaders: []string{},
				}
			},
			wantErrs: func() FieldErrors {
				errs := FieldErrors{}
				for i := range 99 {
					p := "bucket.cors." + strconv.Itoa(i)
					errs[p] = "missing: rules are numbered from 0 without gaps"
					errs[p+".allowedOrigins"] = malformedXML + "; a rule needs at least one"
					errs[p+".allowedMethods"] = malformedXML + "; a rule needs at least one"
				}
				return errs
			}(),
		},
		{
			desc:  "a gap: only rule 1 is given",
			query: "bucket.cors.1.allowedOrigins=*&bucket.cors.1.allowedMethods=GET",
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{
					{AllowedOrigins: []string{}, AllowedMethods: []string{}, AllowedHeaders: []string{}, ExposeHeaders: []string{}},
					{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}, AllowedHeaders: []string{}, ExposeHeaders: []string{}},
				}
			},
			wantErrs: FieldErrors{
				"bucket.cors.0":                "missing: rules are numbered from 0 without gaps",
				"bucket.cors.0.allowedOrigins": malformedXML + "; a rule needs at least one",
				"bucket.cors.0.allowedMethods": malformedXML + "; a rule needs at least one",
			},
		},
		{
			desc:  "a rule without methods",
			query: "bucket.cors.0.allowedOrigins=*",
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{{
					AllowedOrigins: []string{"*"}, AllowedMethods: []string{},
					AllowedHeaders: []string{}, ExposeHeaders: []string{},
				}}
			},
			wantErrs: FieldErrors{"bucket.cors.0.allowedMethods": malformedXML + "; a rule needs at least one"},
		},
		{
			desc:  "an unknown rule field",
			query: "bucket.cors.0.allowedOrigins=*&bucket.cors.0.allowedMethods=GET&bucket.cors.0.allowedOrigin=x&bucket.cors.0.AllowedHeaders=y",
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{{
					AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"},
					AllowedHeaders: []string{}, ExposeHeaders: []string{},
				}}
			},
			wantErrs: FieldErrors{
				"bucket.cors.0.allowedOrigin":  "unknown rule field; a rule has id, allowedOrigins, allowedMethods, allowedHeaders, exposeHeaders and maxAgeSeconds",
				"bucket.cors.0.AllowedHeaders": "unknown rule field; a rule has id, allowedOrigins, allowedMethods, allowedHeaders, exposeHeaders and maxAgeSeconds",
			},
		},
		{
			desc:  "maxAgeSeconds and id given twice",
			query: "bucket.cors.0.allowedOrigins=*&bucket.cors.0.allowedMethods=GET&bucket.cors.0.maxAgeSeconds=1&bucket.cors.0.maxAgeSeconds=2&bucket.cors.0.id=a&bucket.cors.0.id=a",
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{{
					AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"},
					AllowedHeaders: []string{}, ExposeHeaders: []string{},
				}}
			},
			wantErrs: FieldErrors{
				"bucket.cors.0.maxAgeSeconds": "given more than once",
				"bucket.cors.0.id":            "given more than once",
			},
		},
		{
			desc:  "a maxAgeSeconds that is not a whole number",
			query: "bucket.cors.0.allowedOrigins=*&bucket.cors.0.allowedMethods=GET&bucket.cors.0.maxAgeSeconds=1.5",
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{{
					AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"},
					AllowedHeaders: []string{}, ExposeHeaders: []string{},
				}}
			},
			wantErrs: FieldErrors{"bucket.cors.0.maxAgeSeconds": `must be a whole number, or empty for no header; got "1.5"`},
		},
		{
			desc:  "a negative maxAgeSeconds parses but breaks a rule",
			query: "bucket.cors.0.allowedOrigins=*&bucket.cors.0.allowedMethods=GET&bucket.cors.0.maxAgeSeconds=-1",
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{{
					AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"},
					AllowedHeaders: []string{}, ExposeHeaders: []string{}, MaxAgeSeconds: intPtr(-1),
				}}
			},
			wantErrs: FieldErrors{"bucket.cors.0.maxAgeSeconds": "must be between 0 and 31536000 seconds (a year), or null for no header; got -1"},
		},
		{
			desc:  "S3's errors land on the rule's field",
			query: "bucket.cors.0.allowedOrigins=*&bucket.cors.0.allowedMethods=GET&bucket.cors.1.allowedOrigins=http://*.*.test&bucket.cors.1.allowedMethods=PATCH",
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{
					{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}, AllowedHeaders: []string{}, ExposeHeaders: []string{}},
					{AllowedOrigins: []string{"http://*.*.test"}, AllowedMethods: []string{"PATCH"}, AllowedHeaders: []string{}, ExposeHeaders: []string{}},
				}
			},
			wantErrs: FieldErrors{
				"bucket.cors.1.allowedOrigins": `S3 refuses this with 400 InvalidRequest: AllowedOrigin "http://*.*.test" can not have more than one wildcard.`,
				"bucket.cors.1.allowedMethods": "S3 refuses this with 400 InvalidRequest: Found unsupported HTTP method in CORS config. Unsupported method is PATCH",
			},
		},
		{
			desc:     "an unknown rule field alone adds no rule, so nothing is missing",
			query:    "bucket.cors.5.nope=1",
			edit:     func(*Scenario) {},
			wantErrs: FieldErrors{"bucket.cors.5.nope": "unknown rule field; a rule has id, allowedOrigins, allowedMethods, allowedHeaders, exposeHeaders and maxAgeSeconds"},
		},
		{
			desc:  "unknown fields and bad indexes add no rules after the ones named",
			query: "bucket.cors.0.allowedOrigins=*&bucket.cors.0.allowedMethods=GET&bucket.cors.3.nope=1&bucket.cors.100.id=x&bucket.cors.02.id=y",
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{{
					AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"},
					AllowedHeaders: []string{}, ExposeHeaders: []string{},
				}}
			},
			wantErrs: FieldErrors{
				"bucket.cors.3.nope": "unknown rule field; a rule has id, allowedOrigins, allowedMethods, allowedHeaders, exposeHeaders and maxAgeSeconds",
				"bucket.cors.100.id": "rules are numbered 0 to 99: bucket.cors.<number>.<field>",
				"bucket.cors.02.id":  "rules are numbered 0 to 99: bucket.cors.<number>.<field>",
			},
		},
		{
			desc:  "an empty maxAgeSeconds alone names its rule, which S3 then refuses",
			query: "bucket.cors.0.maxAgeSeconds=",
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{{
					AllowedOrigins: []string{}, AllowedMethods: []string{},
					AllowedHeaders: []string{}, ExposeHeaders: []string{},
				}}
			},
			wantErrs: FieldErrors{
				"bucket.cors.0.allowedOrigins": malformedXML + "; a rule needs at least one",
				"bucket.cors.0.allowedMethods": malformedXML + "; a rule needs at least one",
			},
		},
		{
			desc:  "a key whose value does not parse still names its rule",
			query: "bucket.cors.0.maxAgeSeconds=soon&bucket.cors.1.allowedOrigins=*&bucket.cors.1.allowedMethods=GET",
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{
					{AllowedOrigins: []string{}, AllowedMethods: []string{}, AllowedHeaders: []string{}, ExposeHeaders: []string{}},
					{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}, AllowedHeaders: []string{}, ExposeHeaders: []string{}},
				}
			},
			wantErrs: FieldErrors{
				"bucket.cors.0.maxAgeSeconds":  `must be a whole number, or empty for no header; got "soon"`,
				"bucket.cors.0.allowedOrigins": malformedXML + "; a rule needs at least one",
				"bucket.cors.0.allowedMethods": malformedXML + "; a rule needs at least one",
			},
		},
		{
			desc:  "an id with a control character",
			query: "bucket.cors.0.allowedOrigins=*&bucket.cors.0.allowedMethods=GET&bucket.cors.0.id=up%01loads",
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{{
					ID: "up\x01loads", AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"},
					AllowedHeaders: []string{}, ExposeHeaders: []string{},
				}}
			},
			wantErrs: FieldErrors{"bucket.cors.0.id": `header values cannot contain control characters other than tab; got "up\x01loads"`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			q, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			want := Default()
			tc.edit(&want)
			got, errs := FromQuery(q)
			if !reflect.DeepEqual(errs, tc.wantErrs) {
				t.Errorf("FromQuery(%s) errors:\ngot  %#v\nwant %#v", tc.query, errs, tc.wantErrs)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("FromQuery(%s) scenario:\ngot  %#v\nwant %#v", tc.query, got, want)
			}
		})
	}
}

func TestFromQueryHandMadeValues(t *testing.T) {
	// A url.Values built in code can hold a key with no values.
	q := url.Values{"request.method": {}, "api.allowlist": {}, "request.headers.X-A": {}, "bucket.cors.0.allowedOrigins": {}, "bucket.cors.0.id": {}}
	got, errs := FromQuery(q)
	if errs != nil {
		t.Fatalf("FromQuery(%v): %v", q, errs)
	}
	if !reflect.DeepEqual(got, Default()) {
		t.Errorf("FromQuery(%v) = %#v, want Default()", q, got)
	}
}

func TestFromQueryDoesNotAlias(t *testing.T) {
	q := url.Values{"api.allowlist": {"http://a.test"}}
	s, errs := FromQuery(q)
	if errs != nil {
		t.Fatal(errs)
	}
	q["api.allowlist"][0] = "changed"
	if s.API.Allowlist[0] != "http://a.test" {
		t.Errorf("FromQuery shares the allowlist with its query: %q", s.API.Allowlist)
	}
	out := s.Query()
	out["api.allowlist"][0] = "changed"
	if s.API.Allowlist[0] != "http://a.test" {
		t.Errorf("Query shares the allowlist with its scenario: %q", s.API.Allowlist)
	}
}

func TestFromQueryDoesNotAliasRules(t *testing.T) {
	fields := []string{"allowedOrigins", "allowedMethods", "allowedHeaders", "exposeHeaders"}
	q := url.Values{}
	for _, f := range fields {
		q["bucket.cors.0."+f] = []string{"GET"}
	}
	s, errs := FromQuery(q)
	if errs != nil {
		t.Fatal(errs)
	}
	lists := func(r s3cors.Rule) [][]string {
		return [][]string{r.AllowedOrigins, r.AllowedMethods, r.AllowedHeaders, r.ExposeHeaders}
	}
	for _, f := range fields {
		q["bucket.cors.0."+f][0] = "changed"
	}
	for i, l := range lists(s.Bucket.CORS[0]) {
		if l[0] != "GET" {
			t.Errorf("FromQuery shares %s with its query: %q", fields[i], l)
		}
	}
	out := s.Query()
	for _, f := range fields {
		out["bucket.cors.0."+f][0] = "changed"
	}
	for i, l := range lists(s.Bucket.CORS[0]) {
		if l[0] != "GET" {
			t.Errorf("Query shares %s with its scenario: %q", fields[i], l)
		}
	}
}

func FuzzFromQuery(f *testing.F) {
	for _, s := range roundTripScenarios() {
		f.Add(s.Query().Encode())
	}
	for _, s := range []string{
		"", "api.maxAge=", "api.maxAge=0", "request.headers.=1", "a=1&a=2", "api.vary=true",
		"request.headers.X-A=1&request.headers.x-a=2", "api.allowlist=&api.allowlist=x",
		"request.body=%00", "api.preflightStatus=+204", strings.Repeat("api.allowlist=x&", 40),
		"api.redirect=0&api.signedUrlExpires=1&api.requireLogin=true", "setup=two-origins&request.from=api",
		"api.cookieSameSite=none", "api.cookieSameSite=",
		"setup=one-origin&proxy.addOrigin=null&request.target=s3",
		"bucket.cors.0.allowedOrigins=*&bucket.cors.0.allowedMethods=GET",
		"bucket.cors.0.allowedOrigins=*&bucket.cors.0.allowedMethods=GET&bucket.cors.0.maxAgeSeconds=",
		"bucket.cors.0.allowedOrigins=*&bucket.cors.0.allowedMethods=GET&bucket.cors.0.id=&bucket.cors.0.allowedHeaders=",
		"bucket.cors.1.allowedOrigins=*&bucket.cors.1.allowedMethods=GET", "bucket.cors.01.id=x", "bucket.cors.0",
		"bucket.cors.0.allowedOrigins=*&bucket.cors.0.allowedMethods=GET&bucket.cors.0.maxAgeSeconds=%2B0",
		"bucket.cors.5.nope=1", "bucket.cors.0.maxAgeSeconds=", "bucket.cors.0.allowedOrigins=*&bucket.cors.0.allowedMethods=GET&bucket.cors.0.id=%01",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, _ := url.ParseQuery(raw) // keep what parsed, even on error
		s, errs := FromQuery(q)
		for i, r := range s.Bucket.CORS {
			if r.AllowedOrigins == nil || r.AllowedMethods == nil || r.AllowedHeaders == nil || r.ExposeHeaders == nil {
				t.Fatalf("FromQuery(%q): rule %d has a nil list: %#v", raw, i, r)
			}
		}
		if errs != nil {
			return
		}
		got, errs := FromQuery(s.Query())
		if errs != nil {
			t.Fatalf("FromQuery(%q) is valid, but FromQuery(Query()) reports %v", raw, errs)
		}
		if !reflect.DeepEqual(got, s) {
			t.Fatalf("FromQuery(%q) = %#v\nbut FromQuery(Query()) = %#v", raw, s, got)
		}
		q2, err := url.ParseQuery(s.Query().Encode())
		if err != nil {
			t.Fatalf("ParseQuery(Query().Encode()) of %q: %v", raw, err)
		}
		if got, errs := FromQuery(q2); errs != nil || !reflect.DeepEqual(got, s) {
			t.Fatalf("FromQuery(%q) = %#v\nbut through Encode and ParseQuery: %#v, %v", raw, s, got, errs)
		}
	})
}

// Patch and QueryFrom work relative to a base scenario, as lessons do: a
// lesson starts from its own scenario and its links carry only the changes.
func TestPatchAndQueryFrom(t *testing.T) {
	base, errs := FromQuery(mustQuery(t, "api.allowOrigin=echo&api.maxAge=600&api.allowlist=http://a.test"+
		"&request.headers.X-User-Id=11&bucket.cors.0.allowedOrigins=null&bucket.cors.0.allowedMethods=GET"))
	if errs != nil {
		t.Fatal(errs)
	}
	tests := []struct {
		desc  string
		query string // QueryFrom(base) of the scenario Patch(base, query) makes
		want  string // "" when it is query itself
	}{
		{desc: "no change", query: ""},
		{desc: "a field back to its default", query: "api.allowOrigin="},
		{desc: "max age back to null", query: "api.maxAge="},
		{desc: "an empty allowlist", query: "api.allowlist="},
		{desc: "no bucket configuration", query: "bucket.cors=null"},
		{desc: "other bucket rules replace base's", query: "bucket.cors.0.allowedMethods=PUT&bucket.cors.0.allowedOrigins=*"},
		{desc: "a changed header", query: "request.headers.X-User-Id=12"},
		{desc: "a new header beside base's", query: "request.headers.X-Other=1"},
		{desc: "several changes", query: "api.vary=false&request.method=PUT&setup=two-origins&request.from=api"},
		{desc: "a look-alike page on another host", query: "request.from=lookalike&request.lookalikeHost=promo.corslab.localhost"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			s, errs := Patch(base, mustQuery(t, tt.query))
			if errs != nil {
				t.Fatalf("Patch(%q): %v", tt.query, errs)
			}
			if got := s.QueryFrom(base).Encode(); got != mustQuery(t, tt.query).Encode() {
				t.Errorf("QueryFrom(base) = %q, want %q", got, tt.query)
			}
			again, errs := Patch(base, s.QueryFrom(base))
			if errs != nil || !reflect.DeepEqual(again, s) {
				t.Errorf("Patch(base, QueryFrom(base)) = %+v, %v; want %+v", again, errs, s)
			}
		})
	}
	if _, ok := base.Request.Headers["X-Other"]; ok || len(base.Bucket.CORS) != 1 || base.Bucket.CORS[0].AllowedOrigins[0] != "null" {
		t.Errorf("Patch changed its base: %+v", base)
	}
}

func mustQuery(t *testing.T, q string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
