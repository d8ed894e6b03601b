package s3cors

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/corslab/corslab/playground/s3err"
)

// doc wraps rule bodies in a CORSConfiguration in S3's namespace.
func doc(rules ...string) string {
	var b strings.Builder
	b.WriteString(`<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`)
	for _, r := range rules {
		b.WriteString("<CORSRule>" + r + "</CORSRule>")
	}
	b.WriteString("</CORSConfiguration>")
	return b.String()
}

const minimal = "<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"

func TestParseXML(t *testing.T) {
	tests := []struct {
		desc    string
		body    string
		want    []Rule
		wantErr *Error
	}{
		{"a minimal rule", doc(minimal), []Rule{{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}}}, nil},
		{"every element, lists in document order", `<?xml version="1.0" encoding="UTF-8"?>
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
`, []Rule{
			{ID: "uploads", AllowedHeaders: []string{"x-amz-*", "Content-Type"}, AllowedMethods: []string{"PUT", "POST"},
				AllowedOrigins: []string{"https://app.example", "http://*.example.com"}, ExposeHeaders: []string{"ETag"}, MaxAgeSeconds: intp(3000)},
			{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}},
		}, nil},
		{"a root without a namespace, as in AWS's samples", "<CORSConfiguration><CORSRule>" + minimal + "</CORSRule></CORSConfiguration>",
			[]Rule{{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}}}, nil},
		{"an empty AllowedOrigin is accepted", doc("<AllowedOrigin></AllowedOrigin><AllowedMethod>GET</AllowedMethod>"),
			[]Rule{{AllowedOrigins: []string{""}, AllowedMethods: []string{"GET"}}}, nil},
		{"text is kept as written, entities decoded", doc("<AllowedOrigin>https://a.example?x=1&amp;y</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"),
			[]Rule{{AllowedOrigins: []string{"https://a.example?x=1&y"}, AllowedMethods: []string{"GET"}}}, nil},
		{"a negative MaxAgeSeconds is an integer", doc(minimal + "<MaxAgeSeconds>-1</MaxAgeSeconds>"),
			[]Rule{{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}, MaxAgeSeconds: intp(-1)}}, nil},
		{"100 rules are allowed", doc(slicesRepeat(minimal, 100)...), rulesRepeat(100), nil},

		{"an empty body is MalformedXML", "", nil, errMalformedXML()},
		{"text that is not XML is MalformedXML", "cors please", nil, errMalformedXML()},
		{"an unclosed element is MalformedXML", "<CORSConfiguration><CORSRule>" + minimal, nil, errMalformedXML()},
		{"mismatched tags are MalformedXML", "<CORSConfiguration><CORSRule></CORSConfiguration>", nil, errMalformedXML()},
		{"no rules is MalformedXML", doc(), nil, errMalformedXML()},
		{"an empty root element is MalformedXML", "<CORSConfiguration/>", nil, errMalformedXML()},
		{"101 rules are MalformedXML", doc(slicesRepeat(minimal, 101)...), nil, errMalformedXML()},
		{"another root is MalformedXML", "<LifecycleConfiguration><CORSRule>" + minimal + "</CORSRule></LifecycleConfiguration>", nil, errMalformedXML()},
		{"another namespace is MalformedXML", `<CORSConfiguration xmlns="urn:x"><CORSRule>` + minimal + `</CORSRule></CORSConfiguration>`, nil, errMalformedXML()},
		{"S3's namespace over https is accepted, as S3 accepts it", `<CORSConfiguration xmlns="https://s3.amazonaws.com/doc/2006-03-01/"><CORSRule>` + minimal + `</CORSRule></CORSConfiguration>`, rulesRepeat(1), nil},
		{"an unknown element is MalformedXML", doc(minimal + "<AllowedOrigins>x</AllowedOrigins>"), nil, errMalformedXML()},
		{"an element under the root other than CORSRule is MalformedXML", "<CORSConfiguration><Rule/><CORSRule>" + minimal + "</CORSRule></CORSConfiguration>", nil, errMalformedXML()},
		{"text between elements is MalformedXML", doc("hello" + minimal), nil, errMalformedXML()},
		{"an element inside a value is MalformedXML", doc("<AllowedOrigin><b>x</b></AllowedOrigin><AllowedMethod>GET</AllowedMethod>"), nil, errMalformedXML()},
		{"a second root is MalformedXML", doc(minimal) + doc(minimal), nil, errMalformedXML()},
		{"a DOCTYPE is MalformedXML", "<!DOCTYPE x>" + doc(minimal), nil, errMalformedXML()},
		{"an empty CORSRule is MalformedXML", doc(""), nil, errMalformedXML()},
		{"a rule without AllowedOrigin is MalformedXML", doc("<AllowedMethod>GET</AllowedMethod>"), nil, errMalformedXML()},
		{"a rule without AllowedMethod is MalformedXML", doc("<AllowedOrigin>*</AllowedOrigin>"), nil, errMalformedXML()},
		{"a MaxAgeSeconds that is no integer is MalformedXML", doc(minimal + "<MaxAgeSeconds>soon</MaxAgeSeconds>"), nil, errMalformedXML()},
		{"two MaxAgeSeconds are MalformedXML", doc(minimal + "<MaxAgeSeconds>1</MaxAgeSeconds><MaxAgeSeconds>2</MaxAgeSeconds>"), nil, errMalformedXML()},
		{"two IDs are MalformedXML", doc(minimal + "<ID>a</ID><ID>b</ID>"), nil, errMalformedXML()},
		{"an unknown entity is MalformedXML", doc("<AllowedOrigin>&nbsp;</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"), nil, errMalformedXML()},

		{"an unsupported method is InvalidRequest naming it", doc("<AllowedOrigin>*</AllowedOrigin><AllowedOrigin>https://test.com</AllowedOrigin>" +
			"<AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedMethod>HEAD</AllowedMethod><AllowedMethod>MYMETHOD</AllowedMethod>"),
			nil, errUnsupportedMethod("MYMETHOD")},
		{"OPTIONS is no CORS method", doc("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>OPTIONS</AllowedMethod>"), nil, errUnsupportedMethod("OPTIONS")},
		{"an empty AllowedMethod is an unsupported method", doc("<AllowedOrigin>*</AllowedOrigin><AllowedMethod></AllowedMethod>"), nil, errUnsupportedMethod("")},
		{"two * in an AllowedOrigin are InvalidRequest", doc("<AllowedOrigin>*example*.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"), nil, errOriginWildcards("*example*.com")},
		{"two * in an AllowedHeader are InvalidRequest", doc(minimal + "<AllowedHeader>x-*-*</AllowedHeader>"), nil, errHeaderWildcards("x-*-*")},
		{"a schema problem in a later rule comes before a value problem in an earlier one",
			doc("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod>", "<AllowedOrigin>*</AllowedOrigin>"), nil, errMalformedXML()},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			got, err := ParseXML([]byte(tt.body))
			if tt.wantErr != nil {
				var e *Error
				if !errors.As(err, &e) || !reflect.DeepEqual(e, tt.wantErr) {
					t.Fatalf("ParseXML error\n got: %#v\nwant: %#v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseXML: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseXML\n got: %+v\nwant: %+v", got, tt.want)
			}
		})
	}
}

func slicesRepeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func rulesRepeat(n int) []Rule {
	out := make([]Rule, n)
	for i := range out {
		out[i] = Rule{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}}
	}
	return out
}

func TestValidate(t *testing.T) {
	ok := Rule{AllowedOrigins: []string{"https://app.example"}, AllowedMethods: []string{"GET"}}
	with := func(f func(*Rule)) []Rule { r := ok; f(&r); return []Rule{r} }
	tests := []struct {
		desc  string
		rules []Rule
		want  error
	}{
		{"a plain rule is valid", []Rule{ok}, nil},
		{"one * in an origin and a header is valid", with(func(r *Rule) {
			r.AllowedOrigins = []string{"http://*.example.com", "*"}
			r.AllowedHeaders = []string{"x-amz-*", "*"}
		}), nil},
		{"null and an empty origin are valid", with(func(r *Rule) { r.AllowedOrigins = []string{"null", ""} }), nil},
		{"all five methods are valid", with(func(r *Rule) { r.AllowedMethods = []string{"GET", "PUT", "POST", "DELETE", "HEAD"} }), nil},
		{"no rules is MalformedXML", nil, errMalformedXML()},
		{"101 rules are MalformedXML", rulesRepeat(101), errMalformedXML()},
		{"no origins is MalformedXML", with(func(r *Rule) { r.AllowedOrigins = nil }), errMalformedXML()},
		{"no methods is MalformedXML", with(func(r *Rule) { r.AllowedMethods = []string{} }), errMalformedXML()},
		{"a lower-case method is unsupported", with(func(r *Rule) { r.AllowedMethods = []string{"GET", "get"} }), errUnsupportedMethod("get")},
		{"PATCH is unsupported", with(func(r *Rule) { r.AllowedMethods = []string{"PATCH"} }), errUnsupportedMethod("PATCH")},
		{"** is two wildcards", with(func(r *Rule) { r.AllowedOrigins = []string{"**"} }), errOriginWildcards("**")},
		{"a header with two wildcards", with(func(r *Rule) { r.AllowedHeaders = []string{"*-*"} }), errHeaderWildcards("*-*")},
		{"methods are checked before origins", with(func(r *Rule) {
			r.AllowedOrigins = []string{"*.*"}
			r.AllowedMethods = []string{"TRACE"}
		}), errUnsupportedMethod("TRACE")},
		{"the first bad rule is reported", []Rule{ok, with(func(r *Rule) { r.AllowedOrigins = []string{"*a*"} })[0],
			with(func(r *Rule) { r.AllowedMethods = []string{"X"} })[0]}, errOriginWildcards("*a*")},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			got := Validate(tt.rules)
			if tt.want == nil {
				if got != nil {
					t.Errorf("Validate: %v, want nil", got)
				}
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Validate\n got: %#v\nwant: %#v", got, tt.want)
			}
		})
	}
}

func TestXML(t *testing.T) {
	rules := []Rule{
		{ID: "uploads", AllowedOrigins: []string{"https://app.example"}, AllowedMethods: []string{"PUT", "POST"},
			AllowedHeaders: []string{"x-amz-*"}, ExposeHeaders: []string{"ETag", "x-amz-request-id"}, MaxAgeSeconds: intp(3000)},
		{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}},
	}
	want := `<?xml version="1.0" encoding="UTF-8"?>
<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <CORSRule>
    <ID>uploads</ID>
    <AllowedOrigin>https://app.example</AllowedOrigin>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedMethod>POST</AllowedMethod>
    <AllowedHeader>x-amz-*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <ExposeHeader>x-amz-request-id</ExposeHeader>
    <MaxAgeSeconds>3000</MaxAgeSeconds>
  </CORSRule>
  <CORSRule>
    <AllowedOrigin>*</AllowedOrigin>
    <AllowedMethod>GET</AllowedMethod>
  </CORSRule>
</CORSConfiguration>
`
	if got := string(XML(rules)); got != want {
		t.Errorf("XML\n got: %s\nwant: %s", got, want)
	}
}

func TestXMLRoundTrip(t *testing.T) {
	tests := []struct {
		desc  string
		rules []Rule
	}{
		{"one minimal rule", []Rule{{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}}}},
		{"every field", []Rule{{ID: "r1", AllowedOrigins: []string{"https://a.example", "http://*.b.example"}, AllowedMethods: []string{"GET", "PUT", "POST", "DELETE", "HEAD"},
			AllowedHeaders: []string{"*", "x-amz-*"}, ExposeHeaders: []string{"ETag"}, MaxAgeSeconds: intp(86400)}}},
		{"characters XML must escape", []Rule{{ID: `<a & "b">`, AllowedOrigins: []string{"https://a.example/?q=1&r=<2>", "it's"}, AllowedMethods: []string{"GET"}}}},
		{"white space and line breaks are kept", []Rule{{ID: " x\r\ny\t", AllowedOrigins: []string{" https://a.example "}, AllowedMethods: []string{"GET"}}}},
		{"empty strings and a zero max age", []Rule{{AllowedOrigins: []string{""}, AllowedMethods: []string{"GET"}, AllowedHeaders: []string{""}, ExposeHeaders: []string{""}, MaxAgeSeconds: intp(0)}}},
		{"a negative max age", []Rule{{AllowedOrigins: []string{"null"}, AllowedMethods: []string{"PUT"}, MaxAgeSeconds: intp(-5)}}},
		{"unicode", []Rule{{ID: "règle 🚀", AllowedOrigins: []string{"https://bücher.example"}, AllowedMethods: []string{"GET"}}}},
		{"100 rules", rulesRepeat(100)},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			got, err := ParseXML(XML(tt.rules))
			if err != nil {
				t.Fatalf("ParseXML(XML(rules)): %v\n%s", err, XML(tt.rules))
			}
			if !reflect.DeepEqual(got, tt.rules) {
				t.Errorf("ParseXML(XML(rules))\n got: %+v\nwant: %+v", got, tt.rules)
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	e := errUnsupportedMethod("MYMETHOD")
	if got, want := e.Error(), "InvalidRequest: Found unsupported HTTP method in CORS config. Unsupported method is MYMETHOD"; got != want {
		t.Errorf("Error()\n got: %s\nwant: %s", got, want)
	}
	if got, want := string(errOriginWildcards(`*a<*`).XMLBody("R2")), `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<Error><Code>InvalidRequest</Code><Message>AllowedOrigin "*a&lt;*" can not have more than one wildcard.</Message><RequestId>R2</RequestId><HostId>`+s3err.HostID("R2")+`</HostId></Error>`; got != want {
		t.Errorf("XMLBody\n got: %s\nwant: %s", got, want)
	}
}
