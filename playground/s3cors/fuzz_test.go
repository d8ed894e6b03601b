package s3cors

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseXML checks that ParseXML never panics, that every error is a 400
// *Error, and that what it accepts survives a trip through XML.
func FuzzParseXML(f *testing.F) {
	f.Add(doc(minimal))
	f.Add(string(XML([]Rule{{ID: "a", AllowedOrigins: []string{"http://*.a.example"}, AllowedMethods: []string{"GET", "PUT"},
		AllowedHeaders: []string{"x-amz-*"}, ExposeHeaders: []string{"ETag"}, MaxAgeSeconds: intp(10)}})))
	f.Add(doc("<AllowedOrigin>*a*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"))
	f.Add(doc(minimal + "<MaxAgeSeconds>x</MaxAgeSeconds>"))
	f.Add("<CORSConfiguration><CORSRule><AllowedOrigin>&#xD;</AllowedOrigin></CORSRule>")
	f.Add("")
	f.Fuzz(func(t *testing.T, body string) {
		rules, err := ParseXML([]byte(body))
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status != http.StatusBadRequest || e.Code == "" || e.Message == "" {
				t.Fatalf("ParseXML error %#v is not a 400 *Error", err)
			}
			return
		}
		if err := Validate(rules); err != nil {
			t.Fatalf("ParseXML accepted rules that Validate refuses: %v", err)
		}
		again, err := ParseXML(XML(rules))
		if err != nil {
			t.Fatalf("ParseXML(XML(rules)): %v\n%s", err, XML(rules))
		}
		if !reflect.DeepEqual(again, rules) {
			t.Fatalf("round trip\n got: %#v\nwant: %#v", again, rules)
		}
	})
}

// FuzzEvaluate checks that Evaluate never panics and keeps its promises:
// only a preflight is refused, a refusal has no headers, and a match names
// a rule and carries Vary.
func FuzzEvaluate(f *testing.F) {
	f.Add("https://*.example", "GET,PUT", "x-amz-*", "OPTIONS", "https://a.example", "PUT", "X-Amz-Acl, content-type", "k", true, true)
	f.Add("*", "GET", "", "GET", "null", "", "", "", true, true)
	f.Add("null", "HEAD", "*", "OPTIONS", "", "", "", "", false, true)
	f.Add("a**b", "DELETE", "**", "POST", "ab", "DELETE", ",,", "k", true, false)
	f.Fuzz(func(t *testing.T, origins, methods, headers, method, origin, acrm, acrh, key string, hasOrigin, exists bool) {
		var rules []Rule
		if origins != "" {
			// Two rules, the second allowing anything, so that both
			// the first-match and the fall-through paths run.
			rules = []Rule{
				{AllowedOrigins: strings.Split(origins, ","), AllowedMethods: strings.Split(methods, ","), AllowedHeaders: strings.Split(headers, ",")},
				{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"PUT"}, MaxAgeSeconds: intp(1)},
			}
		}
		r := Request{Method: method, Key: key, Origin: origin, HasOrigin: hasOrigin, RequestMethod: acrm, RequestHeaders: acrh}
		a := Evaluate(rules, exists, r)
		switch {
		case a.Err != nil:
			if method != "OPTIONS" {
				t.Fatalf("%s request refused: %v", method, a.Err)
			}
			if a.Headers != nil || a.Rule != -1 {
				t.Fatalf("a refusal carries headers or a rule: %+v", a)
			}
			if len(a.Err.XMLBody("id")) == 0 {
				t.Fatal("empty error body")
			}
		case a.Rule >= 0:
			if a.Rule >= len(rules) || !hasOrigin || !exists {
				t.Fatalf("impossible match %d: %+v", a.Rule, a)
			}
			if last := a.Headers[len(a.Headers)-1]; last != [2]string{"Vary", Vary} {
				t.Fatalf("a match without Vary: %+v", a.Headers)
			}
		default:
			if a.Headers != nil || a.Rule != -1 {
				t.Fatalf("no match but headers: %+v", a)
			}
			if method == "OPTIONS" {
				t.Fatalf("a preflight neither allowed nor refused: %+v", a)
			}
		}
	})
}
