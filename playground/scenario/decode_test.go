package scenario

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/corslab/corslab/playground/s3cors"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		desc string
		in   string
		edit func(*Scenario) // applied to Default() to get the wanted scenario
	}{
		{
			desc: "an empty document is the default",
			in:   "",
			edit: func(*Scenario) {},
		},
		{
			desc: "a document of whitespace is the default",
			in:   " \n\t\r\n",
			edit: func(*Scenario) {},
		},
		{
			desc: "null is the default",
			in:   "null",
			edit: func(*Scenario) {},
		},
		{
			desc: "an empty object is the default",
			in:   "{}",
			edit: func(*Scenario) {},
		},
		{
			desc: "a partial document keeps the other defaults",
			in:   `{"api":{"allowOrigin":"echo"}}`,
			edit: func(s *Scenario) { s.API.AllowOrigin = "echo" },
		},
		{
			desc: "a partial request keeps the other request defaults",
			in:   `{"request":{"method":"PUT","headers":{"X-A":"1"}}}`,
			edit: func(s *Scenario) {
				s.Request.Method = "PUT"
				s.Request.Headers = map[string]string{"X-A": "1"}
			},
		},
		{
			desc: "null maxAge stays null",
			in:   `{"api":{"maxAge":null}}`,
			edit: func(*Scenario) {},
		},
		{
			desc: "maxAge 0 is not null",
			in:   `{"api":{"maxAge":0}}`,
			edit: func(s *Scenario) { s.API.MaxAge = intPtr(0) },
		},
		{
			desc: "false overrides a true default",
			in:   `{"api":{"vary":false}}`,
			edit: func(s *Scenario) { s.API.Vary = false },
		},
		{
			desc: "an allowlist replaces the default, in order",
			in:   `{"api":{"allowOrigin":"allowlist","allowlist":["http://b.test","http://a.test"]}}`,
			edit: func(s *Scenario) {
				s.API.AllowOrigin = "allowlist"
				s.API.Allowlist = []string{"http://b.test", "http://a.test"}
			},
		},
		{
			desc: "field names match case-insensitively, as in encoding/json",
			in:   `{"API":{"AllowOrigin":"*"}}`,
			edit: func(s *Scenario) { s.API.AllowOrigin = "*" },
		},
		{
			desc: "a complete document",
			in: `{
  "version": 1,
  "setup": "three-origins",
  "request": {
    "from": "sandbox", "lookalikeHost": "promo.corslab.localhost", "target": "s3", "method": "POST", "path": "/users?x=1",
    "headers": {"Content-Type": "application/json"},
    "body": "{\"name\":\"ada\"}\n",
    "credentials": "include", "mode": "cors", "redirect": "error"
  },
  "api": {
    "allowOrigin": "null", "allowlist": [], "match": "exact",
    "allowCredentials": true, "allowMethods": "POST", "allowHeaders": "echo",
    "exposeHeaders": "", "maxAge": 600, "vary": true, "preflightStatus": 200,
    "extraHeaders": {"X-A": "1"}, "redirect": 0, "signedUrlExpires": 3600, "requireLogin": true,
    "cookieSameSite": "strict"
  },
  "bucket": {
    "cors": [
      {"id": "uploads", "allowedOrigins": ["http://app.test", "http://*.app.test"], "allowedMethods": ["PUT", "GET"],
       "allowedHeaders": ["*"], "exposeHeaders": ["ETag"], "maxAgeSeconds": 0},
      {"allowedOrigins": ["*"], "allowedMethods": ["GET"], "maxAgeSeconds": null}
    ]
  },
  "proxy": {"addOrigin": "http://app.test"}
}`,
			edit: func(s *Scenario) {
				s.Request = Request{
					From: "sandbox", LookalikeHost: "promo.corslab.localhost", Target: "s3", Method: "POST", Path: "/users?x=1",
					Headers:     map[string]string{"Content-Type": "application/json"},
					Body:        "{\"name\":\"ada\"}\n",
					Credentials: "include", Mode: "cors", Redirect: "error",
					Via: "fetch", CrossOrigin: "none", Enctype: "application/x-www-form-urlencoded",
				}
				s.API = API{
					AllowOrigin: "null", Allowlist: []string{}, Match: "exact",
					AllowCredentials: true, AllowMethods: "POST", AllowHeaders: "echo",
					MaxAge: intPtr(600), Vary: true, PreflightStatus: 200,
					ExtraHeaders: map[string]string{"X-A": "1"},
					Redirect:     0, SignedURLExpires: 3600, RequireLogin: true,
					CookieSameSite: "strict", WebsocketOrigins: "any",
				}
				s.Bucket.CORS = []s3cors.Rule{
					{
						ID: "uploads", AllowedOrigins: []string{"http://app.test", "http://*.app.test"}, AllowedMethods: []string{"PUT", "GET"},
						AllowedHeaders: []string{"*"}, ExposeHeaders: []string{"ETag"}, MaxAgeSeconds: intPtr(0),
					},
					{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}, AllowedHeaders: []string{}, ExposeHeaders: []string{}},
				}
				s.Proxy.AddOrigin = "http://app.test"
			},
		},
		{
			desc: "a null bucket CORS configuration stays null",
			in:   `{"bucket":{"cors":null}}`,
			edit: func(*Scenario) {},
		},
		{
			desc: "an empty bucket keeps its default",
			in:   `{"bucket":{},"proxy":{}}`,
			edit: func(*Scenario) {},
		},
		{
			desc: "a bucket rule with just origins and methods gets empty lists, not nil",
			in:   `{"bucket":{"cors":[{"allowedOrigins":["*"],"allowedMethods":["GET"]}]}}`,
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{{
					AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"},
					AllowedHeaders: []string{}, ExposeHeaders: []string{},
				}}
			},
		},
		{
			desc: "a rule without exposeHeaders, which a permalink carries exactly",
			in:   `{"bucket":{"cors":[{"id":"uploads","allowedOrigins":["http://app.test"],"allowedMethods":["PUT","GET"],"allowedHeaders":["*"],"maxAgeSeconds":60}]}}`,
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{{
					ID: "uploads", AllowedOrigins: []string{"http://app.test"}, AllowedMethods: []string{"PUT", "GET"},
					AllowedHeaders: []string{"*"}, ExposeHeaders: []string{}, MaxAgeSeconds: intPtr(60),
				}}
			},
		},
		{
			desc: "an empty list in a rule stays empty, and maxAgeSeconds 0 is not null",
			in:   `{"bucket":{"cors":[{"allowedOrigins":["*"],"allowedMethods":["GET"],"exposeHeaders":[],"maxAgeSeconds":0}]}}`,
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{{
					AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"},
					AllowedHeaders: []string{}, ExposeHeaders: []string{}, MaxAgeSeconds: intPtr(0),
				}}
			},
		},
		{
			desc: "rule field names match case-insensitively too",
			in:   `{"Bucket":{"CORS":[{"ID":"a","AllowedOrigins":["*"],"ALLOWEDMETHODS":["GET"]}]}}`,
			edit: func(s *Scenario) {
				s.Bucket.CORS = []s3cors.Rule{{
					ID: "a", AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"},
					AllowedHeaders: []string{}, ExposeHeaders: []string{},
				}}
			},
		},
		{
			desc: "redirect 0 overrides the default 303",
			in:   `{"api":{"redirect":0}}`,
			edit: func(s *Scenario) { s.API.Redirect = 0 },
		},
		{
			desc: "a setup with its page",
			in:   `{"setup":"two-origins","request":{"from":"api"}}`,
			edit: func(s *Scenario) {
				s.Setup = "two-origins"
				s.Request.From = "api"
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			want := Default()
			tc.edit(&want)
			got, err := Decode([]byte(tc.in))
			if err != nil {
				t.Fatalf("Decode(%q): unexpected error %v", tc.in, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Decode(%q):\ngot  %#v\nwant %#v", tc.in, got, want)
			}
			// A decoded scenario reads the same from its permalink.
			again, errs := FromQuery(got.Query())
			if errs != nil {
				t.Fatalf("FromQuery(Query()) of Decode(%q): %v", tc.in, errs)
			}
			if !reflect.DeepEqual(again, got) {
				t.Errorf("FromQuery(Query()) of Decode(%q):\ngot  %#v\nwant %#v", tc.in, again, got)
			}
		})
	}
}

func TestDecodeError(t *testing.T) {
	tests := []struct {
		desc string
		in   string
		want string // the *DecodeError's text
	}{
		{
			desc: "a syntax error points at the offending character",
			in:   "{\n  \"api\": {\n    \"maxAge\": }\n}",
			want: "line 3, column 15: invalid character '}' looking for beginning of value",
		},
		{
			desc: "a missing colon",
			in:   `{"api" 1}`,
			want: "line 1, column 8: invalid character '1' after object key",
		},
		{
			desc: "a trailing comma",
			in:   `{"setup":"three-origins",}`,
			want: "line 1, column 26: invalid character '}' looking for beginning of object key string",
		},
		{
			desc: "columns count characters, not bytes",
			in:   `{"request":{"body":"é€😀"x}}`,
			want: "line 1, column 25: invalid character 'x' after object key:value pair",
		},
		{
			desc: "a control character in a string",
			in:   "{\"setup\":\"a\x01\"}",
			want: `line 1, column 12: invalid character '\x01' in string literal`,
		},
		{
			desc: "a truncated document points past its end",
			in:   "{\"api\":\n  {",
			want: "line 2, column 4: unexpected end of JSON input",
		},
		{
			desc: "a truncated string",
			in:   `{"setup":"thr`,
			want: "line 1, column 14: unexpected end of JSON input",
		},
		{
			desc: "a string where a number belongs points at the value",
			in:   `{"api":{"allowOrigin":"echo","maxAge":"600"}}`,
			want: "line 1, column 39: api.maxAge: expected a number, got string",
		},
		{
			desc: "a fraction where a whole number belongs",
			in:   `{"api":{"preflightStatus":204.5}}`,
			want: "line 1, column 27: api.preflightStatus: expected a whole number, got number 204.5",
		},
		{
			desc: "a number too big for an int",
			in:   `{"version":1e400}`,
			want: "line 1, column 12: version: expected a whole number, got number 1e400",
		},
		{
			desc: "a string where a bool belongs",
			in:   `{"api":{"vary":"true"}}`,
			want: "line 1, column 16: api.vary: expected true or false, got string",
		},
		{
			desc: "a bool where a string belongs",
			in:   `{"request":{"method":true}}`,
			want: "line 1, column 22: request.method: expected a string, got bool",
		},
		{
			desc: "an array where an object belongs",
			in:   `{"request":{"headers":["X-A: 1"]}}`,
			want: "line 1, column 23: request.headers: expected an object, got array",
		},
		{
			desc: "a header value that is not a string names the header",
			in:   `{"request":{"headers":{"X-A":"1","X-B":2}}}`,
			want: "line 1, column 40: request.headers.X-B: expected a string, got number 2",
		},
		{
			desc: "an allowlist entry that is not a string names its index",
			in:   `{"api":{"allowlist":["http://a.test",{"origin":"x"}]}}`,
			want: "line 1, column 38: api.allowlist[1]: expected a string, got object",
		},
		{
			desc: "an object where the allowlist belongs",
			in:   `{"api":{"allowlist":{}}}`,
			want: "line 1, column 21: api.allowlist: expected an array, got object",
		},
		{
			desc: "a wrong type inside a bucket rule names the rule's index",
			in:   `{"bucket":{"cors":[{"allowedOrigins":["*"],"allowedMethods":"GET"}]}}`,
			want: "line 1, column 61: bucket.cors[0].allowedMethods: expected an array, got string",
		},
		{
			desc: "a wrong entry of a later rule, on a later line",
			in: "{\"bucket\": {\"cors\": [\n" +
				"  {\"allowedOrigins\": [\"*\"], \"allowedMethods\": [\"GET\"]},\n" +
				"  {\"allowedOrigins\": [\"*\"], \"allowedMethods\": [\"GET\", 1]}\n" +
				"]}}",
			want: "line 3, column 55: bucket.cors[1].allowedMethods[1]: expected a string, got number 1",
		},
		{
			desc: "a string where maxAgeSeconds belongs",
			in:   `{"bucket":{"cors":[{"maxAgeSeconds":"600"}]}}`,
			want: "line 1, column 37: bucket.cors[0].maxAgeSeconds: expected a number, got string",
		},
		{
			desc: "a fraction where maxAgeSeconds belongs",
			in:   `{"bucket":{"cors":[{"maxAgeSeconds":0.5}]}}`,
			want: "line 1, column 37: bucket.cors[0].maxAgeSeconds: expected a whole number, got number 0.5",
		},
		{
			desc: "a number where a rule's id belongs",
			in:   `{"bucket":{"cors":[{"id":1}]}}`,
			want: "line 1, column 26: bucket.cors[0].id: expected a string, got number 1",
		},
		{
			desc: "a rule that is not an object",
			in:   `{"bucket":{"cors":["*"]}}`,
			want: "line 1, column 20: bucket.cors[0]: expected an object, got string",
		},
		{
			desc: "an object where the rules belong",
			in:   `{"bucket":{"cors":{"allowedOrigins":["*"]}}}`,
			want: "line 1, column 19: bucket.cors: expected an array, got object",
		},
		{
			desc: "an unknown field in a rule",
			in:   `{"bucket":{"cors":[{"allowedOrigins":["*"],"maxAge":600}]}}`,
			want: `line 1, column 44: unknown field "maxAge"`,
		},
		{
			desc: "a string where redirect belongs",
			in:   `{"api":{"redirect":"303"}}`,
			want: "line 1, column 20: api.redirect: expected a number, got string",
		},
		{
			desc: "a string where requireLogin belongs",
			in:   `{"api":{"requireLogin":"true"}}`,
			want: "line 1, column 24: api.requireLogin: expected true or false, got string",
		},
		{
			desc: "a boolean where cookieSameSite belongs",
			in:   `{"api":{"cookieSameSite":true}}`,
			want: "line 1, column 26: api.cookieSameSite: expected a string, got bool",
		},
		{
			desc: "a string where the proxy belongs",
			in:   `{"proxy":"http://app.test"}`,
			want: "line 1, column 10: proxy: expected an object, got string",
		},
		{
			desc: "a document that is not an object",
			in:   `[1]`,
			want: "line 1, column 1: expected an object, got array",
		},
		{
			desc: "a document that is a string",
			in:   ` "three-origins"`,
			want: "line 1, column 2: expected an object, got string",
		},
		{
			desc: "an unknown field points at its name",
			in:   "{\n  \"api\": {\n    \"allowOrgin\": \"echo\"\n  }\n}",
			want: `line 3, column 5: unknown field "allowOrgin"`,
		},
		{
			desc: "an unknown top-level field",
			in:   `{"version":1, "from":"evil"}`,
			want: `line 1, column 15: unknown field "from"`,
		},
		{
			desc: "the first problem in the document wins",
			in:   `{"api":{"maxAge":"x"},"nope":1}`,
			want: "line 1, column 18: api.maxAge: expected a number, got string",
		},
		{
			desc: "an unknown field before a type error wins",
			in:   `{"nope":1,"api":{"maxAge":"x"}}`,
			want: `line 1, column 2: unknown field "nope"`,
		},
		{
			desc: "data after the document",
			in:   "{}\n{}",
			want: "line 2, column 1: unexpected data after the end of the scenario",
		},
		{
			desc: "garbage after the document",
			in:   `{"setup":"three-origins"} x`,
			want: "line 1, column 27: unexpected data after the end of the scenario",
		},
		{
			desc: "null then more",
			in:   `null null`,
			want: "line 1, column 6: unexpected data after the end of the scenario",
		},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			got, err := Decode([]byte(tc.in))
			derr, ok := errors.AsType[*DecodeError](err)
			if !ok {
				t.Fatalf("Decode(%q) = %#v, %v; want a *DecodeError", tc.in, got, err)
			}
			if derr.Error() != tc.want {
				t.Errorf("Decode(%q) error:\ngot  %s\nwant %s", tc.in, derr, tc.want)
			}
		})
	}
}

func TestDecodeValidates(t *testing.T) {
	tests := []struct {
		desc string
		in   string
		want FieldErrors
	}{
		{
			desc: "an unsupported version",
			in:   `{"version":2}`,
			want: FieldErrors{"version": "unsupported version 2; this server reads version 1"},
		},
		{
			desc: "an empty list of bucket rules",
			in:   `{"bucket":{"cors":[]}}`,
			want: FieldErrors{"bucket.cors": malformedXML + "; a bucket without CORS rules is null"},
		},
		{
			desc: "a bucket rule S3 refuses",
			in:   `{"bucket":{"cors":[{"allowedOrigins":["*"],"allowedMethods":["PATCH"],"maxAgeSeconds":-1}]}}`,
			want: FieldErrors{
				"bucket.cors.0.allowedMethods": "S3 refuses this with 400 InvalidRequest: Found unsupported HTTP method in CORS config. Unsupported method is PATCH",
				"bucket.cors.0.maxAgeSeconds":  "must be between 0 and 31536000 seconds (a year), or null for no header; got -1",
			},
		},
		{
			desc: "a rule id with a control character",
			in:   `{"bucket":{"cors":[{"id":"a\u0001b","allowedOrigins":["*"],"allowedMethods":["GET"]}]}}`,
			want: FieldErrors{"bucket.cors.0.id": `header values cannot contain control characters other than tab; got "a\x01b"`},
		},
		{
			desc: "a setup whose page is not request.from",
			in:   `{"setup":"one-origin","request":{"from":"sandbox"}}`,
			want: FieldErrors{"request.from": `the one-origin setup runs the page on the app origin: must be "app"; got "sandbox"`},
		},
		{
			desc: "a signed URL that never lives",
			in:   `{"api":{"signedUrlExpires":0}}`,
			want: FieldErrors{"api.signedUrlExpires": "must be between 1 and 604800 seconds (7 days, S3's limit); got 0"},
		},
		{
			desc: "a GET with a body, and a bad match",
			in:   `{"request":{"body":"x"},"api":{"match":"glob"}}`,
			want: FieldErrors{
				"request.body": "GET and HEAD requests cannot have a body (fetch() throws a TypeError)",
				"api.match":    `must be one of exact, suffix, prefix, regex; got "glob"`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) { wantFieldErrors(t, tc.in, tc.want) })
	}
}

// wantFieldErrors decodes in and wants exactly the field errors want,
// beside the decoded scenario.
func wantFieldErrors(t *testing.T, in string, want FieldErrors) {
	t.Helper()
	got, err := Decode([]byte(in))
	errs, ok := errors.AsType[FieldErrors](err)
	if !ok {
		t.Fatalf("Decode(%q) error = %v; want FieldErrors", in, err)
	}
	if !reflect.DeepEqual(errs, want) {
		t.Errorf("Decode(%q) errors:\ngot  %#v\nwant %#v", in, errs, want)
	}
	if got.Version == 0 {
		t.Errorf("Decode(%q) returned the zero Scenario; want the decoded one alongside its errors", in)
	}
}

// TestDecodeDefault checks that the default scenario survives a JSON round
// trip, and that Decode does not share the maps of an earlier result.
func TestDecodeDefault(t *testing.T) {
	data, err := json.Marshal(Default())
	if err != nil {
		t.Fatal(err)
	}
	a, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, Default()) {
		t.Errorf("Decode(Marshal(Default())) = %#v, want Default()", a)
	}
	a.Request.Headers["X-A"] = "1"
	b, err := Decode([]byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Request.Headers) != 0 {
		t.Errorf("Decode shares headers between calls: %v", b.Request.Headers)
	}
}

func TestFindMismatchAgreesWithEncodingJSON(t *testing.T) {
	// Every document findMismatch flags must be one encoding/json refuses,
	// and the other way round, or Decode would point at the wrong place.
	docs := []string{
		`{}`, `null`, `{"version":1}`, `{"version":"1"}`, `{"version":1.0}`, `{"version":-0}`,
		`{"api":{"maxAge":null}}`, `{"api":{"maxAge":[]}}`, `{"request":{"headers":{"a":null}}}`,
		`{"api":{"allowlist":[null,"x"]}}`, `{"api":{"allowlist":[1]}}`, `{"Request":{"Method":"x"}}`,
		`{"request":{"Nope":1}}`, `{"api":{"vary":null}}`, `{"api":{"vary":0}}`, `[]`, `"x"`, `1`, `true`,
		`{"request":{"headers":{"X":{}}}}`, `{"setup":null,"api":{"preflightStatus":9223372036854775807}}`,
		`{"setup":null,"api":{"preflightStatus":9223372036854775808}}`,
		`{"bucket":null}`, `{"bucket":{"cors":null}}`, `{"bucket":{"cors":[]}}`, `{"bucket":{"cors":[null]}}`,
		`{"bucket":{"cors":{}}}`, `{"bucket":{"cors":[{"allowedOrigins":"*"}]}}`, `{"bucket":{"cors":[{"allowedOrigins":[null,1]}]}}`,
		`{"bucket":{"cors":[{"maxAgeSeconds":null}]}}`, `{"bucket":{"cors":[{"maxAgeSeconds":1.0}]}}`,
		`{"bucket":{"cors":[{"maxAgeSeconds":1e2}]}}`, `{"bucket":{"cors":[{"nope":1}]}}`,
		`{"bucket":{"cors":[{"ID":"x","AllowedOrigins":["*"]}]}}`, `{"bucket":{"cors":[{"id":"x","Id":1}]}}`,
		`{"proxy":{"addOrigin":null}}`, `{"proxy":[]}`, `{"proxy":{"origin":"x"}}`, `{"api":{"redirect":"303"}}`,
		`{"api":{"requireLogin":1}}`, `{"api":{"signedUrlExpires":-1}}`, `{"api":{"cookieSameSite":null}}`,
		`{"api":{"cookieSameSite":0}}`,
	}
	for _, doc := range docs {
		dec := json.NewDecoder(strings.NewReader(doc))
		dec.DisallowUnknownFields()
		s := Default()
		jsonErr := dec.Decode(&s)
		m, found := findMismatch([]byte(doc))
		if found != (jsonErr != nil) {
			t.Errorf("%s: findMismatch = %v, %v; encoding/json says %v", doc, m, found, jsonErr)
		}
	}
}

func FuzzDecode(f *testing.F) {
	seeds := []string{
		"", "null", "{}", `{"api":{"allowOrigin":"echo"}}`, `{"api":{"maxAge":"x"}}`,
		`{"request":{"headers":{"X-A":"1"},"body":"é\n"},"api":{"allowlist":["a","b"],"match":"regex"}}`,
		`{"nope":1}`, `{"api":`, "{}\n{}", `{"version":2}`, `{"API":{"MaxAge":0}}`,
		`{"bucket":{"cors":null}}`, `{"bucket":{"cors":[]}}`,
		`{"bucket":{"cors":[{"allowedOrigins":["*"],"allowedMethods":["GET"]}]}}`,
		`{"bucket":{"cors":[{"id":"a","allowedOrigins":["*"],"allowedMethods":["GET"],"allowedHeaders":[],"exposeHeaders":["ETag"],"maxAgeSeconds":0}]}}`,
		`{"setup":"two-origins","request":{"from":"api","target":"s3"},"api":{"redirect":0,"signedUrlExpires":1,"requireLogin":true}}`,
		`{"setup":"one-origin","proxy":{"addOrigin":"null"}}`,
		`{"bucket":{"cors":[{"allowedOrigins":["*"],"allowedMethods":["GET"],"allowedHeaders":null}]}}`,
		`{"bucket":{"cors":[{"id":"a\u0001","allowedOrigins":["*"],"allowedMethods":["GET"]}]}}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Decode(data)
		for i, r := range s.Bucket.CORS {
			if r.AllowedOrigins == nil || r.AllowedMethods == nil || r.AllowedHeaders == nil || r.ExposeHeaders == nil {
				t.Fatalf("Decode(%q): rule %d has a nil list: %#v", data, i, r)
			}
		}
		if err != nil {
			var derr *DecodeError
			var ferrs FieldErrors
			if !errors.As(err, &derr) && !errors.As(err, &ferrs) {
				t.Fatalf("Decode(%q): error %T %v is neither *DecodeError nor FieldErrors", data, err, err)
			}
			if derr != nil && (derr.Line < 1 || derr.Column < 1) {
				t.Fatalf("Decode(%q): position %d:%d", data, derr.Line, derr.Column)
			}
			return
		}
		again, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("Marshal(%#v): %v", s, err)
		}
		s2, err := Decode(again)
		if err != nil {
			t.Fatalf("Decode(%s), the re-encoding of %q: %v", again, data, err)
		}
		if !reflect.DeepEqual(s, s2) {
			t.Fatalf("Decode(%q) = %#v\nbut its re-encoding decodes to %#v", data, s, s2)
		}
		s3, errs := FromQuery(s.Query())
		if errs != nil {
			t.Fatalf("Decode(%q) is valid, but FromQuery(Query()) reports %v", data, errs)
		}
		if !reflect.DeepEqual(s, s3) {
			t.Fatalf("Decode(%q) = %#v\nbut FromQuery(Query()) = %#v", data, s, s3)
		}
	})
}
