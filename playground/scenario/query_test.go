package scenario

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
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
				s.Request = Request{From: "evil", Target: "t", Method: "POST", Path: "/x?y=1", Body: "b",
					Credentials: "include", Mode: "no-cors", Redirect: "manual"}
				s.API.Match = "regex"
				s.API.AllowMethods = "PUT"
				s.API.AllowHeaders = "echo"
				s.API.ExposeHeaders = "X-A"
				s.API.PreflightStatus = 200
			},
			want: "api.allowHeaders=echo&api.allowMethods=PUT&api.exposeHeaders=X-A&api.match=regex&api.preflightStatus=200" +
				"&request.body=b&request.credentials=include&request.from=evil&request.method=POST&request.mode=no-cors" +
				"&request.path=%2Fx%3Fy%3D1&request.redirect=manual&request.target=t&setup=other",
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
		Allowlist:        []string{`^https?://app\.test$`, "null", "", "http://a.test", "http://a.test"},
		Match:            "regex",
		AllowCredentials: true,
		AllowMethods:     "GET, PUT",
		AllowHeaders:     "echo",
		ExposeHeaders:    "X-Total, X-Page",
		MaxAge:           intPtr(0),
		Vary:             false,
		PreflightStatus:  500,
		ExtraHeaders:     map[string]string{},
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
	}
	body.API.MaxAge = intPtr(31536000)

	literal := Default()
	literal.API.AllowOrigin = "http://a.test, http://b.test"
	literal.API.Match = "suffix"
	literal.API.Allowlist = []string{"example.com"}

	return map[string]Scenario{
		"default":   Default(),
		"headers":   headers,
		"allowlist": allowlist,
		"body":      body,
		"literal":   literal,
		"extra":     extra,
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
	q := url.Values{"request.method": {}, "api.allowlist": {}, "request.headers.X-A": {}}
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

func FuzzFromQuery(f *testing.F) {
	for _, s := range roundTripScenarios() {
		f.Add(s.Query().Encode())
	}
	for _, s := range []string{
		"", "api.maxAge=", "api.maxAge=0", "request.headers.=1", "a=1&a=2", "api.vary=true",
		"request.headers.X-A=1&request.headers.x-a=2", "api.allowlist=&api.allowlist=x",
		"request.body=%00", "api.preflightStatus=+204", strings.Repeat("api.allowlist=x&", 40),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, _ := url.ParseQuery(raw) // keep what parsed, even on error
		s, errs := FromQuery(q)
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
