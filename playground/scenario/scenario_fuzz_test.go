package scenario

// Fuzz targets for the two ways a scenario enters corslab: a JSON document
// (Decode) and permalink query parameters (FromQuery, Patch), and for the
// way it leaves as a link (Query, QueryFrom). decode_test.go's FuzzDecode and
// query_test.go's FuzzFromQuery check the basic round trips; the targets here
// add the properties those leave out:
//
//   - FuzzScenarioJSON: Decode and Validate are deterministic, every error
//     locates its problem (a line and column inside the document, or a field
//     path that exists), the FieldErrors Decode returns are exactly what
//     Validate says of the scenario it returns, but for each null where a
//     value belongs, and a decoded scenario, valid or not, survives a trip
//     through JSON with the errors Validate gives it.
//   - FuzzPermalink: FromQuery and Patch are deterministic, leave their
//     inputs alone, name a field (or the query key itself) in every error,
//     and what they accept comes back from Query, QueryFrom and JSON.
//   - FuzzQueryRoundTrip: builds valid scenarios field by field, so that the
//     fuzzer reaches far more of them than through raw JSON or raw queries,
//     and checks that each survives Query, QueryFrom/Patch and JSON.
//
// Run one with, for example:
//
//	go test -run '^$' -fuzz '^FuzzPermalink$' -fuzztime 60s ./playground/scenario

import (
	"encoding/json"
	"errors"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/corslab/corslab/playground/s3cors"
)

// namesField reports whether key is the dotted path of a field of a
// Scenario, as FieldErrors keys are: "setup", "api.maxAge",
// "request.headers" (a map is named as a whole), "bucket.cors.2" or
// "bucket.cors.2.allowedMethods" (a bucket rule by its index).
func namesField(key string) bool {
	t := reflect.TypeFor[Scenario]()
	for part := range strings.SplitSeq(key, ".") {
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Struct:
			ft, _, ok := structField(t, part)
			if !ok || !hasJSONName(t, part) {
				return false
			}
			t = ft
		case reflect.Slice:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= s3cors.MaxRules || strconv.Itoa(i) != part {
				return false
			}
			t = t.Elem()
		default: // a string, number, bool or map has no fields below it
			return false
		}
	}
	return true
}

// hasJSONName reports whether struct type t has a field whose JSON name is
// exactly name (structField also accepts other cases, as encoding/json does
// when decoding; error keys must use the exact name).
func hasJSONName(t reflect.Type, name string) bool {
	for i := range t.NumField() {
		if n, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); n == name {
			return true
		}
	}
	return false
}

// checkFieldErrors fails unless every key of errs names a field (or is one of
// extra, the query keys a permalink error may be filed under) and every
// message says something.
func checkFieldErrors(t *testing.T, what string, errs FieldErrors, extra url.Values) {
	t.Helper()
	if errs != nil && len(errs) == 0 {
		t.Fatalf("%s: an empty, non-nil FieldErrors", what)
	}
	for key, msg := range errs {
		if _, inQuery := extra[key]; !inQuery && !namesField(key) {
			t.Fatalf("%s: error key %q names no scenario field (message %q)", what, key, msg)
		}
		if strings.TrimSpace(msg) == "" {
			t.Fatalf("%s: error for %q has no message", what, key)
		}
		if !strings.Contains(errs.Error(), key+": ") {
			t.Fatalf("%s: Error() %q leaves out %q", what, errs.Error(), key)
		}
	}
}

// asFieldErrors returns err as FieldErrors, or nil.
func asFieldErrors(err error) FieldErrors {
	var fe FieldErrors
	if errors.As(err, &fe) {
		return fe
	}
	return nil
}

// withNulls is what Decode reports for a scenario that Validate says
// errs of, whose document has nulls where values belong: each null's
// message, in place of errs' messages for that field and inside it.
func withNulls(errs, nulls FieldErrors) FieldErrors {
	if nulls == nil {
		return errs
	}
	out := FieldErrors{}
	for key, msg := range errs {
		covered := false
		for null := range nulls {
			covered = covered || key == null || strings.HasPrefix(key, null+".")
		}
		if !covered {
			out[key] = msg
		}
	}
	for key, msg := range nulls {
		out[key] = msg
	}
	return out
}

// FuzzScenarioJSON decodes arbitrary bytes as a scenario document.
//
// Properties:
//   - Decode never panics, and gives the same answer twice.
//   - A *DecodeError points inside the document: 1 <= line <= lines, and
//     the scenario returned with it is the zero value.
//   - FieldErrors name real field paths, and are exactly s.Validate() for
//     the scenario s returned with them (the form shows s next to them),
//     except that a null where a value belongs is reported in place of
//     what Validate says of that field and what is inside it;
//     Validate is deterministic, down to Error()'s text.
//   - Round trip: json.Marshal of the decoded scenario decodes to an equal
//     scenario, with s.Validate()'s errors (the re-encoding holds no null
//     where a value belongs). This holds for invalid scenarios too:
//     Decode returns them "as far as they could be read", and saving one
//     must not change it.
//   - A valid scenario's permalink (Query) reads back as the same scenario.
func FuzzScenarioJSON(f *testing.F) {
	seeds := []string{
		// The README's "The scenario" document, every field at its default.
		`{"version": 1, "setup": "three-origins",
  "request": {"from": "app", "lookalikeHost": "app-corslab.localhost", "target": "api", "method": "GET", "path": "/users",
              "headers": {}, "body": "", "credentials": "same-origin", "mode": "cors", "redirect": "follow"},
  "api": {"allowOrigin": "", "allowlist": [], "match": "exact", "allowCredentials": false, "allowMethods": "",
          "allowHeaders": "", "exposeHeaders": "", "maxAge": null, "vary": true, "preflightStatus": 204,
          "extraHeaders": {}, "redirect": 303, "signedUrlExpires": 900, "requireLogin": false, "cookieSameSite": "lax"},
  "bucket": {"cors": null}, "proxy": {"addOrigin": ""}}`,
		// README walkthrough steps and field examples.
		`{"api":{"allowOrigin":"echo"}}`,
		`{"request":{"method":"PUT","headers":{"X-User-Id":"11"}},"api":{"allowOrigin":"echo","allowMethods":"PUT","allowHeaders":"x-user-id"}}`,
		`{"request":{"from":"sandbox","credentials":"include"},"api":{"allowOrigin":"null","allowCredentials":true}}`,
		`{"api":{"extraHeaders":{"Access-Control-Allow-Credentials":"TRUE"}}}`,
		`{"api":{"allowHeaders":"a\r\nb"}}`,
		`{"bucket":{"cors":[{"allowedOrigins":["null"],"allowedMethods":["GET"],"allowedHeaders":[],"exposeHeaders":[],"maxAgeSeconds":null,"id":"optional"}]}}`,
		`{"bucket":{"cors":[{"allowedOrigins":["*"],"allowedMethods":["PATCH"]}]}}`,
		`{"request":{"from":"lookalike","lookalikeHost":"promo.corslab.localhost"},"api":{"allowOrigin":"allowlist","allowlist":["corslab.localhost"],"match":"suffix"}}`,
		`{"api":{"allowOrigin":"allowlist","allowlist":["http://app.test","("],"match":"regex"}}`,
		`{"setup":"two-origins","request":{"from":"api","target":"s3","path":"/hello.txt"},"api":{"redirect":0,"signedUrlExpires":1}}`,
		`{"setup":"one-origin","proxy":{"addOrigin":"http://127.0.0.1:8081"}}`,
		`{"request":{"method":"GET","body":"x"}}`,
		`{"api":{"maxAge":-1,"preflightStatus":600}}`,
		// Broken documents: each kind of DecodeError.
		"", "null", "{}", "{\n  \"api\": {\n    \"maxAge\": \"x\"\n  }\n}", `{"api":`, "{}\n{}", `{"nope":1}`,
		`{"request":{"headers":{"X-A":1}}}`, `{"api":{"allowlist":[1]}}`, `{"api":{"preflightStatus":1.5}}`,
		"{\"request\":{\"body\":\"é\xff\"}}", `{"API":{"MaxAge":0}}`, `{"version":2}`,
		// Regression: valid until empty allowlist entries were refused, yet
		// its permalink read back as the empty list.
		`{"api":{"allowOrigin":"allowlist","allowlist":[""],"match":"suffix"}}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	for _, s := range roundTripScenarios() {
		b, err := json.Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Decode(data)
		s2, err2 := Decode(data)
		if !reflect.DeepEqual(s, s2) || !reflect.DeepEqual(err, err2) {
			t.Fatalf("Decode(%q) is not deterministic:\n%#v %v\n%#v %v", data, s, err, s2, err2)
		}

		var derr *DecodeError
		if errors.As(err, &derr) {
			lines := 1 + strings.Count(string(data), "\n")
			if derr.Line < 1 || derr.Line > lines || derr.Column < 1 || derr.Msg == "" {
				t.Fatalf("Decode(%q): error %q at line %d column %d, outside the document's %d lines", data, derr.Msg, derr.Line, derr.Column, lines)
			}
			if !reflect.DeepEqual(s, Scenario{}) {
				t.Fatalf("Decode(%q) failed but returned a scenario: %#v", data, s)
			}
			return
		}
		errs := asFieldErrors(err)
		if err != nil && errs == nil {
			t.Fatalf("Decode(%q): error %T %v is neither *DecodeError nor FieldErrors", data, err, err)
		}
		checkFieldErrors(t, "Decode", errs, nil)
		v1, v2 := s.Validate(), s.Validate()
		if !reflect.DeepEqual(v1, v2) || v1.Error() != v2.Error() {
			t.Fatalf("Validate is not deterministic on %#v:\n%v\n%v", s, v1, v2)
		}
		if !reflect.DeepEqual(withNulls(v1, nullErrors(data)), errs) {
			t.Fatalf("Decode(%q) reports %v, but Validate of the scenario it returned says %v, and its nulls %v", data, errs, v1, nullErrors(data))
		}

		// Round trip through JSON, errors included.
		again, merr := json.Marshal(s)
		if merr != nil {
			t.Fatalf("Marshal(%#v): %v", s, merr)
		}
		back, berr := Decode(again)
		if !reflect.DeepEqual(back, s) {
			t.Fatalf("Decode(%q) = %#v\nbut its re-encoding %s decodes to %#v", data, s, again, back)
		}
		if !reflect.DeepEqual(asFieldErrors(berr), v1) {
			t.Fatalf("Decode(%q) = %#v, which Validate says %v of, but its re-encoding %v", data, s, v1, berr)
		}

		if errs != nil {
			return
		}
		fromLink, lerrs := FromQuery(s.Query())
		if lerrs != nil || !reflect.DeepEqual(fromLink, s) {
			t.Fatalf("Decode(%q) = %#v is valid, but FromQuery(%s) = %#v, %v", data, s, s.Query().Encode(), fromLink, lerrs)
		}
	})
}

// patchBase is the base TestPatchAndQueryFrom uses: a lesson's start, with a
// header, an allowlist, a max age and a bucket rule, so that QueryFrom has
// something to differ from.
const patchBase = "api.allowOrigin=echo&api.maxAge=600&api.allowlist=http://a.test" +
	"&request.headers.X-User-Id=11&bucket.cors.0.allowedOrigins=null&bucket.cors.0.allowedMethods=GET"

// cloneValues is a deep copy of q, to check that nobody wrote to it.
func cloneValues(q url.Values) url.Values {
	c := url.Values{}
	for k, vs := range q {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// FuzzPermalink reads arbitrary query strings as permalinks: raw on top of
// the default scenario, and raw on top of base, the start of a lesson.
//
// Properties:
//   - FromQuery and Patch never panic, give the same answer twice, and
//     change neither the query nor the base.
//   - Every error is filed under a scenario field path or under the query
//     key it is about (an unknown key is reported as itself), with a
//     message.
//   - What FromQuery accepts is valid, and comes back equal from its own
//     Query(), from the text of that query (Encode, ParseQuery) and from
//     its JSON; QueryFrom(Default()) is Query().
//   - What Patch(base, q) accepts comes back equal from
//     Patch(base, QueryFrom(base)), and QueryFrom of a scenario against
//     itself is empty.
func FuzzPermalink(f *testing.F) {
	queries := []string{
		// README: Permalinks, lessons and the walkthrough.
		"request.method=PUT&request.headers.X-User-Id=11&api.allowOrigin=echo",
		"bucket.cors.0.allowedOrigins=null&bucket.cors.0.allowedMethods=GET&bucket.cors.0.allowedMethods=HEAD",
		"api.allowOrigin=echo&run=1", "api.maxAge=", "api.maxAge=600", "api.allowlist=", "bucket.cors=null",
		"request.from=sandbox", "request.from=lookalike&request.lookalikeHost=promo.corslab.localhost",
		"api.allowOrigin=allowlist&api.allowlist=http://a.test&api.allowlist=null&api.match=suffix",
		"setup=one-origin&proxy.addOrigin=null&request.target=s3",
		"setup=two-origins&request.from=api&request.target=s3&request.path=/hello.txt&api.redirect=0",
		"api.extraHeaders.Access-Control-Allow-Credentials=TRUE&api.allowCredentials=true",
		"bucket.cors.0.allowedMethods=PUT&bucket.cors.0.allowedOrigins=*",
		"request.headers.X-Other=1", "api.vary=false&request.method=PUT&setup=two-origins&request.from=api",
		// Broken links: each kind of error.
		"nope=1", "api.vary=yes", "api.maxAge=1.5", "request.headers.=1", "a=1&a=2", "api.match=exact&api.match=regex",
		"bucket.cors.1.allowedOrigins=*&bucket.cors.1.allowedMethods=GET", "bucket.cors.01.id=x", "bucket.cors.x.id=1",
		"bucket.cors=rules", "bucket.cors.0.nope=1", "bucket.cors.100.id=x", "request.body=%00", "%zz",
		"api.allowlist=(&api.match=regex&api.allowOrigin=allowlist",
	}
	bases := []string{"", patchBase, "setup=two-origins&request.from=api", "bucket.cors=null&api.allowlist=&request.headers.X-A=%20"}
	for i, q := range queries {
		f.Add(q, bases[i%len(bases)])
	}
	for _, s := range roundTripScenarios() {
		f.Add(s.Query().Encode(), patchBase)
	}
	f.Fuzz(func(t *testing.T, raw, rawBase string) {
		q, _ := url.ParseQuery(raw) // keep what parsed, even on error
		q0 := cloneValues(q)
		s, errs := FromQuery(q)
		s2, errs2 := FromQuery(q)
		if !reflect.DeepEqual(s, s2) || !reflect.DeepEqual(errs, errs2) {
			t.Fatalf("FromQuery(%q) is not deterministic:\n%#v %v\n%#v %v", raw, s, errs, s2, errs2)
		}
		if !reflect.DeepEqual(q, q0) {
			t.Fatalf("FromQuery(%q) changed its query to %v", raw, q)
		}
		checkFieldErrors(t, "FromQuery("+raw+")", errs, q)
		if errs == nil {
			checkValidLink(t, raw, s)
		}

		base, berrs := FromQuery(mustParse(rawBase))
		if berrs != nil {
			return
		}
		base0 := base.clone()
		p, perrs := Patch(base, q)
		if !reflect.DeepEqual(base, base0) || !reflect.DeepEqual(q, q0) {
			t.Fatalf("Patch(%q, %q) changed its base or its query", rawBase, raw)
		}
		checkFieldErrors(t, "Patch("+rawBase+", "+raw+")", perrs, q)
		if perrs != nil {
			return
		}
		if len(p.QueryFrom(p)) != 0 {
			t.Fatalf("Patch(%q, %q): QueryFrom of itself is %v", rawBase, raw, p.QueryFrom(p))
		}
		rel := p.QueryFrom(base)
		back, errs := Patch(base, rel)
		if errs != nil || !reflect.DeepEqual(back, p) {
			t.Fatalf("Patch(%q, %q) = %#v\nbut Patch(base, QueryFrom(base) = %s) = %#v, %v", rawBase, raw, p, rel.Encode(), back, errs)
		}
	})
}

// mustParse parses a query, keeping what parsed.
func mustParse(raw string) url.Values {
	q, _ := url.ParseQuery(raw)
	return q
}

// checkValidLink checks the round trips of a valid scenario s that came
// from the permalink raw: through Query, the text of the query, and JSON.
func checkValidLink(t *testing.T, raw string, s Scenario) {
	t.Helper()
	if errs := s.Validate(); errs != nil {
		t.Fatalf("%q was accepted, but Validate says %v", raw, errs)
	}
	if !reflect.DeepEqual(s.QueryFrom(Default()), s.Query()) {
		t.Fatalf("%q: QueryFrom(Default()) = %v, Query() = %v", raw, s.QueryFrom(Default()), s.Query())
	}
	got, errs := FromQuery(s.Query())
	if errs != nil || !reflect.DeepEqual(got, s) {
		t.Fatalf("%q gives %#v\nbut FromQuery(Query() = %s) = %#v, %v", raw, s, s.Query().Encode(), got, errs)
	}
	got, errs = FromQuery(mustParse(s.Query().Encode()))
	if errs != nil || !reflect.DeepEqual(got, s) {
		t.Fatalf("%q gives %#v\nbut through the text %s: %#v, %v", raw, s, s.Query().Encode(), got, errs)
	}
	doc, err := json.Marshal(s)
	if err != nil {
		t.Fatalf("Marshal(%#v): %v", s, err)
	}
	got, err = Decode(doc)
	if err != nil || !reflect.DeepEqual(got, s) {
		t.Fatalf("%q gives %#v\nbut its JSON %s decodes to %#v, %v", raw, s, doc, got, err)
	}
}

// pick returns the choice of options that bits selects.
func pick(bits uint64, options ...string) string { return options[bits%uint64(len(options))] }

// FuzzQueryRoundTrip builds a scenario from fuzzed field values, on top of
// the default scenario or a lesson's start, and checks every valid one:
// FromQuery(Query()) and Patch(base, QueryFrom(base)) give it back, and so
// do its query's text and its JSON. Raw JSON and raw queries rarely make a
// valid scenario with headers, allowlist entries and bucket rules at once;
// this target does.
func FuzzQueryRoundTrip(f *testing.F) {
	// The fields, in the order f.Fuzz takes them: choices, request method,
	// path, body, one request header, allowlist entries, allowOrigin,
	// maxAge, one extra header, one bucket rule (id, origin, method,
	// header, expose, max age), proxy.addOrigin and lookalikeHost.
	f.Add(uint64(0), "GET", "/users", "", "X-User-Id", "11", "http://127.0.0.1:8081", "", "echo", 600, "", "", "", "null", "GET", "", "", 0, "", "")
	f.Add(uint64(0xffff_ffff), "PUT", "/users?limit=2", "{}", "Content-Type", "application/json", "corslab.localhost", "null", "allowlist", -1,
		"Access-Control-Allow-Credentials", "TRUE", "uploads", "http://*.a.test", "PUT", "x-amz-*", "ETag", 3000, "http://127.0.0.1:8081", "promo.corslab.localhost")
	f.Add(uint64(0x1234_5678_9abc_def0), "patch", "/files/hello.txt", "a\tb", "X-Tab", "a\tb", "", "", "allowlist", 31536000,
		"X-Odd", "a, b", "", "*", "HEAD", "", "", 0, "null", "app-corslab.localhost")
	// Regression: an allowlist of one empty entry was valid, but its
	// permalink, api.allowlist=, reads back as the empty list. Validate now
	// refuses empty entries (choices: the allowlist's case 1).
	f.Add(uint64(2*3*5*2*2*3*3*3), "GET", "/users", "", "", "", "", "", "allowlist", 0, "", "", "", "", "", "", "", 0, "", "")
	f.Add(uint64(42), "DELETE", "/users/1", "", "Accept", "*/*", `^https?://app\.test$`, "x", "*", 0, "Vary", "Origin", "a b", "null", "DELETE", "*", "x", 1, "", "")
	f.Fuzz(func(t *testing.T, bits uint64, method, path, body, hName, hValue, entry1, entry2, allowOrigin string, maxAge int,
		xName, xValue, ruleID, ruleOrigin, ruleMethod, ruleHeader, ruleExpose string, ruleMaxAge int, addOrigin, lookalike string) {
		next := func(n uint64) uint64 { // a choice from 0 to n-1, taken from bits
			v := bits % n
			bits /= n
			return v
		}
		base, useBase := Default(), next(2) == 1
		if useBase {
			base = mustFromQuery(t, patchBase)
		}
		base0 := base.clone()
		s := base.clone()
		s.Setup = pick(next(3), Setups()...)
		s.Request.From = pick(next(uint64(len(froms()))), froms()...)
		if lookalike != "" {
			s.Request.LookalikeHost = lookalike
		}
		s.Request.Target = pick(next(2), targets()...)
		s.Request.Method, s.Request.Path, s.Request.Body = method, path, body
		if next(2) == 1 {
			s.Request.Headers[hName] = hValue
		}
		s.Request.Credentials = pick(next(3), credentials()...)
		s.Request.Mode = pick(next(3), modes()...)
		s.Request.Redirect = pick(next(3), redirects()...)

		s.API.AllowOrigin = allowOrigin
		switch next(4) { // the allowlist: empty, one, two or the two reversed
		case 0:
			s.API.Allowlist = []string{}
		case 1:
			s.API.Allowlist = []string{entry1}
		case 2:
			s.API.Allowlist = []string{entry1, entry2}
		case 3:
			s.API.Allowlist = []string{entry2, entry1}
		}
		s.API.Match = pick(next(4), matches()...)
		s.API.AllowCredentials = next(2) == 1
		s.API.Vary = next(2) == 1
		if next(2) == 1 {
			s.API.MaxAge = &maxAge
		} else {
			s.API.MaxAge = nil
		}
		if next(2) == 1 {
			s.API.ExtraHeaders[xName] = xValue
		}
		s.API.Redirect = []int{0, 301, 302, 303, 307, 308}[next(6)]
		s.API.RequireLogin = next(2) == 1
		s.API.CookieSameSite = pick(next(3), sameSites()...)
		s.Proxy.AddOrigin = addOrigin

		switch next(3) { // the bucket: as base has it, none, or one or two rules
		case 1:
			s.Bucket.CORS = nil
		case 2:
			r := s3cors.Rule{ID: ruleID, AllowedOrigins: []string{ruleOrigin}, AllowedMethods: []string{ruleMethod},
				AllowedHeaders: []string{}, ExposeHeaders: []string{}}
			if ruleHeader != "" {
				r.AllowedHeaders = []string{ruleHeader}
			}
			if ruleExpose != "" {
				r.ExposeHeaders = []string{ruleExpose, ruleExpose}
			}
			if next(2) == 1 {
				r.MaxAgeSeconds = &ruleMaxAge
			}
			s.Bucket.CORS = []s3cors.Rule{r}
			if next(2) == 1 {
				s.Bucket.CORS = append(s.Bucket.CORS, s3cors.Rule{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET", "HEAD"},
					AllowedHeaders: []string{}, ExposeHeaders: []string{}})
			}
		}
		if s.Validate() != nil {
			return // only valid scenarios have links
		}
		checkValidLink(t, "the scenario built", s)
		rel := s.QueryFrom(base)
		back, errs := Patch(base, rel)
		if errs != nil || !reflect.DeepEqual(back, s) {
			t.Fatalf("scenario %#v\nbut Patch(base, QueryFrom(base) = %s) = %#v, %v", s, rel.Encode(), back, errs)
		}
		// Patch works on the query's text as well as on url.Values.
		back, errs = Patch(base, mustParse(rel.Encode()))
		if errs != nil || !reflect.DeepEqual(back, s) {
			t.Fatalf("scenario %#v\nbut Patch(base, %s) from its text = %#v, %v", s, rel.Encode(), back, errs)
		}
		if !reflect.DeepEqual(base, base0) {
			t.Fatalf("QueryFrom or Patch changed their base: %#v", base)
		}
	})
}

// mustFromQuery reads a permalink that must be valid.
func mustFromQuery(t *testing.T, raw string) Scenario {
	t.Helper()
	s, errs := FromQuery(mustParse(raw))
	if errs != nil {
		t.Fatalf("FromQuery(%q): %v", raw, errs)
	}
	return s
}
