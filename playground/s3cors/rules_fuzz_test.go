package s3cors

// FuzzBucketRules drives the whole path a bucket's CORS configuration takes
// in corslab's fake S3: a PutBucketCors body is parsed and validated
// (ParseXML), stored (as JSON, in a scenario's bucket.cors, and as XML, for
// the console view), and every request to the bucket is evaluated against
// it (Evaluate). fuzz_test.go's FuzzParseXML and FuzzEvaluate check each
// step alone; this target checks them together, on rules that came out of
// the parser, against an independent model of S3's documented matching.
//
// Run it with:
//
//	go test -run '^$' -fuzz '^FuzzBucketRules$' -fuzztime 60s ./playground/s3cors

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// refPattern compiles an AllowedOrigin or AllowedHeader the way S3's
// documentation describes it, as a regular expression: the whole string
// must match, and one * stands for any run of characters (ceph s3-tests:
// "start*end" matches "startend"). Validation allows one * at most; a rule
// with more never reaches Evaluate from ParseXML.
func refPattern(p string, ignoreCase bool) *regexp.Regexp {
	prefix, suffix, found := strings.Cut(p, "*")
	expr := regexp.QuoteMeta(p)
	if found {
		expr = regexp.QuoteMeta(prefix) + ".*" + regexp.QuoteMeta(suffix)
	}
	flags := "(?s)"
	if ignoreCase {
		flags = "(?is)"
	}
	return regexp.MustCompile(flags + `\A` + expr + `\z`)
}

// refMatch is the independent model of S3's rule matching
// (API_PutBucketCors): the Origin matches an AllowedOrigin, the method (the
// Access-Control-Request-Method when there is one) is an AllowedMethod, and
// every name in Access-Control-Request-Headers matches an AllowedHeader,
// ignoring case. It returns the index of the first matching rule, or -1.
func refMatch(rules []Rule, r Request) int {
	method := r.Method
	if r.RequestMethod != "" {
		method = r.RequestMethod
	}
	var requested []string
	for _, n := range strings.Split(r.RequestHeaders, ",") {
		if n = strings.Trim(n, " \t"); n != "" {
			requested = append(requested, n)
		}
	}
	anyMatches := func(patterns []string, s string, ignoreCase bool) bool {
		for _, p := range patterns {
			if refPattern(p, ignoreCase).MatchString(s) {
				return true
			}
		}
		return false
	}
	for i, rule := range rules {
		if !anyMatches(rule.AllowedOrigins, r.Origin, false) {
			continue
		}
		methodOK := false
		for _, m := range rule.AllowedMethods {
			methodOK = methodOK || m == method
		}
		if !methodOK {
			continue
		}
		headersOK := true
		for _, n := range requested {
			headersOK = headersOK && anyMatches(rule.AllowedHeaders, n, true)
		}
		if headersOK {
			return i
		}
	}
	return -1
}

// printableASCII reports whether every string is printable ASCII. The
// reference model compares with regexp, which reads invalid UTF-8 as U+FFFD
// and folds case by Unicode rules; S3's names and origins are ASCII, so the
// two models are compared only there.
func printableASCII(ss ...string) bool {
	for _, s := range ss {
		for i := range len(s) {
			if s[i] < 0x20 || s[i] > 0x7e {
				return false
			}
		}
	}
	return true
}

// ruleStrings lists every pattern of rules, for printableASCII.
func ruleStrings(rules []Rule) []string {
	var out []string
	for _, r := range rules {
		out = append(out, r.AllowedOrigins...)
		out = append(out, r.AllowedHeaders...)
	}
	return out
}

// headerValue returns the value of name in an answer's headers, and
// whether it is there; it fails the test if the name appears twice.
func headerValue(t *testing.T, hs [][2]string, name string) (string, bool) {
	t.Helper()
	value, found := "", false
	for _, h := range hs {
		if h[0] == name {
			if found {
				t.Fatalf("%s twice in %v", name, hs)
			}
			value, found = h[1], true
		}
	}
	return value, found
}

// FuzzBucketRules parses a fuzzed PutBucketCors body and evaluates a fuzzed
// request against what it yields.
//
// Properties:
//   - ParseXML never panics, gives the same answer twice, and refuses with
//     a 400 *Error; what it accepts passes Validate.
//   - Accepted rules survive the trips they take in corslab: XML(rules)
//     and their JSON (a scenario's bucket.cors) parse back equal.
//   - Evaluate is deterministic, and gives the same answer for the rules
//     and for their XML round trip.
//   - The first rule that the reference model matches is the one Evaluate
//     reports (first match wins), and none when the request has no Origin
//     or the bucket does not exist.
//   - A match answers as S3 does: Access-Control-Allow-Origin is * exactly
//     when the rule lists *, and the Origin otherwise, with
//     Access-Control-Allow-Credentials: true, never beside *; the methods
//     are the rule's; Max-Age is there when the rule has one; Vary comes
//     last; the matched rule alone gives the same headers.
//   - No match: an actual request gets no CORS headers, a preflight an
//     error (400 without Origin, 403 otherwise) and no headers.
func FuzzBucketRules(f *testing.F) {
	// Bodies from xml_test.go and the README, with requests from
	// evaluate_test.go (LocalStack's and ceph's recorded cases).
	every := `<?xml version="1.0" encoding="UTF-8"?>
<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <CORSRule>
    <ID>uploads</ID>
    <AllowedHeader>x-amz-*</AllowedHeader>
    <AllowedHeader>Content-Type</AllowedHeader>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedMethod>POST</AllowedMethod>
    <AllowedOrigin>https://app.example</AllowedOrigin>
    <AllowedOrigin>http://*.example.com</AllowedOrigin>
    <ExposeHeader>ETag</ExposeHeader>
    <MaxAgeSeconds> 3000 </MaxAgeSeconds>
  </CORSRule>
  <!-- a comment -->
  <CORSRule>` + minimal + `</CORSRule>
</CORSConfiguration>
`
	type seed struct {
		body                            string
		method, key, origin, acrm, acrh string
		hasOrigin, exists               bool
	}
	seeds := []seed{
		{every, "OPTIONS", key, "http://a.example.com", "PUT", "X-Amz-Acl, content-type", true, true},
		{every, "OPTIONS", key, "https://app.example", "DELETE", "", true, true},
		{every, "GET", key, "https://other.example", "", "", true, true},
		{every, "OPTIONS", "", "http://.example.com", "POST", "x-amz-", true, true},
		{string(XML(exactOrigin)), "OPTIONS", key, localhost, "PUT", "", true, true},
		{string(XML(anyOrigin)), "PUT", key, "https://evil.example", "", "", true, true},
		{string(XML(partial)), "OPTIONS", key, "http://test.origin.com", "GET", "x-a", true, true},
		{string(XML(s3tests)), "GET", key, "startend", "", "", true, true},
		{string(XML(s3tests)), "PUT", key, "a.put", "", "", true, true},
		{string(XML(nullOrigin)), "GET", key, "null", "", "", true, true},
		{string(XML(amzHeaders)), "OPTIONS", key, localhost, "PUT", "x-amz-date,Content-Type", true, true},
		{string(XML(mixedOrigin)), "GET", key, localhost, "", "", true, true},
		{string(XML(twoRules)), "OPTIONS", key, localhost, "GET", "x-a", true, true},
		{string(XML(zeroMaxAge)), "OPTIONS", key, "null", "GET", "", true, false},
		{doc(minimal), "OPTIONS", key, "", "", "", false, true},
		{doc("<AllowedOrigin></AllowedOrigin><AllowedMethod>GET</AllowedMethod>"), "GET", key, "", "", "", true, true},
		{doc("<AllowedOrigin>https://a.example?x=1&amp;y</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"), "GET", "", "https://a.example?x=1&y", "", "", true, true},
		{doc(minimal + "<MaxAgeSeconds>-1</MaxAgeSeconds>"), "OPTIONS", key, "x", "GET", ",, ,", true, true},
		{doc("<AllowedOrigin>*a*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"), "GET", key, "a", "", "", true, true},
		{doc("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod>"), "OPTIONS", key, "a", "PATCH", "", true, true},
		{"<CORSConfiguration><CORSRule>" + minimal + "</CORSRule></CORSConfiguration>", "OPTIONS", key, "http://x", "GET", "", true, true},
		{"", "OPTIONS", key, "http://x", "GET", "", true, true},
	}
	for _, s := range seeds {
		f.Add(s.body, s.method, s.key, s.origin, s.hasOrigin, s.exists, s.acrm, s.acrh)
	}
	f.Fuzz(func(t *testing.T, body, method, key, origin string, hasOrigin, exists bool, acrm, acrh string) {
		rules, err := ParseXML([]byte(body))
		rules2, err2 := ParseXML([]byte(body))
		if !reflect.DeepEqual(rules, rules2) || !reflect.DeepEqual(err, err2) {
			t.Fatalf("ParseXML(%q) is not deterministic: %v %v / %v %v", body, rules, err, rules2, err2)
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status != http.StatusBadRequest {
				t.Fatalf("ParseXML(%q): %#v is not a 400 *Error", body, err)
			}
			rules = nil // evaluate as a bucket without CORS configuration
		} else {
			if err := Validate(rules); err != nil {
				t.Fatalf("ParseXML(%q) accepted rules Validate refuses: %v", body, err)
			}
			again, err := ParseXML(XML(rules))
			if err != nil || !reflect.DeepEqual(again, rules) {
				t.Fatalf("XML round trip of %#v:\n%s\ngives %#v, %v", rules, XML(rules), again, err)
			}
			js, err := json.Marshal(rules)
			if err != nil {
				t.Fatal(err)
			}
			var fromJSON []Rule
			if err := json.Unmarshal(js, &fromJSON); err != nil || !reflect.DeepEqual(fromJSON, rules) {
				t.Fatalf("JSON round trip of %#v: %s gives %#v, %v", rules, js, fromJSON, err)
			}
		}

		r := Request{Method: method, Key: key, Origin: origin, HasOrigin: hasOrigin, RequestMethod: acrm, RequestHeaders: acrh}
		a := Evaluate(rules, exists, r)
		if b := Evaluate(rules, exists, r); !reflect.DeepEqual(a, b) {
			t.Fatalf("Evaluate is not deterministic: %+v / %+v", a, b)
		}
		if rules != nil {
			reparsed, _ := ParseXML(XML(rules))
			if b := Evaluate(reparsed, exists, r); !reflect.DeepEqual(a, b) {
				t.Fatalf("Evaluate differs after an XML round trip: %+v / %+v", a, b)
			}
		}

		want := -1
		if hasOrigin && exists {
			want = refMatch(rules, r)
		}
		if printableASCII(append(ruleStrings(rules), origin, acrh)...) && a.Rule != want {
			t.Fatalf("Evaluate matched rule %d, the reference model %d\nrules %#v\nrequest %+v", a.Rule, want, rules, r)
		}

		preflight := method == "OPTIONS"
		if a.Rule < 0 {
			switch {
			case !preflight && (a.Err != nil || a.Headers != nil):
				t.Fatalf("an unmatched %s got %+v", method, a)
			case preflight && (a.Err == nil || a.Headers != nil):
				t.Fatalf("an unmatched preflight got %+v", a)
			case preflight && !hasOrigin && a.Err.Status != http.StatusBadRequest:
				t.Fatalf("a preflight without Origin got %d", a.Err.Status)
			case preflight && hasOrigin && a.Err.Status != http.StatusForbidden:
				t.Fatalf("a refused preflight got %d", a.Err.Status)
			}
			return
		}

		if a.Err != nil || !hasOrigin || !exists || a.Rule >= len(rules) {
			t.Fatalf("impossible match %+v for %+v", a, r)
		}
		rule := rules[a.Rule]
		acao, _ := headerValue(t, a.Headers, "Access-Control-Allow-Origin")
		acac, hasACAC := headerValue(t, a.Headers, "Access-Control-Allow-Credentials")
		listsStar := false
		for _, o := range rule.AllowedOrigins {
			listsStar = listsStar || o == "*"
		}
		switch {
		case listsStar && (acao != "*" || hasACAC):
			t.Fatalf("a rule listing * answers ACAO %q, ACAC %q", acao, acac)
		case !listsStar && (acao != origin || acac != "true"):
			t.Fatalf("a rule without * answers ACAO %q (origin %q), ACAC %q", acao, origin, acac)
		}
		if acam, _ := headerValue(t, a.Headers, "Access-Control-Allow-Methods"); acam != strings.Join(rule.AllowedMethods, ", ") {
			t.Fatalf("ACAM %q for methods %q", acam, rule.AllowedMethods)
		}
		maxAge, hasMaxAge := headerValue(t, a.Headers, "Access-Control-Max-Age")
		if hasMaxAge != (rule.MaxAgeSeconds != nil) || hasMaxAge && maxAge != strconv.Itoa(*rule.MaxAgeSeconds) {
			t.Fatalf("Max-Age %q for %v", maxAge, rule.MaxAgeSeconds)
		}
		if last := a.Headers[len(a.Headers)-1]; last != [2]string{"Vary", Vary} {
			t.Fatalf("a match that does not end with Vary: %v", a.Headers)
		}
		alone := Evaluate([]Rule{rule}, true, r)
		if alone.Rule != 0 || !reflect.DeepEqual(alone.Headers, a.Headers) {
			t.Fatalf("rule %d alone answers %+v, among the others %+v", a.Rule, alone, a)
		}
	})
}
