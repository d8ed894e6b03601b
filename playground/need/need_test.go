package need

import (
	"go/format"
	"slices"
	"strings"
	"testing"

	jub0bs "github.com/jub0bs/cors"

	"github.com/corslab/corslab/playground/s3cors"
	"github.com/corslab/corslab/playground/scenario"
)

func TestSolve(t *testing.T) {
	const app = "https://app.example.com"
	tests := []struct {
		desc string
		need Need
		// want checks the policy; "" fields are not checked.
		methods, headers, expose string
		preflight, credentials   bool
		bucketOrigins            string // "" for no bucket rule
		bucketMethods            string
	}{
		{desc: "a plain GET needs only the origin", need: Need{Origins: []string{app}},
			bucketOrigins: app, bucketMethods: "GET"},
		{desc: "a safelisted method needs no Allow-Methods", need: Need{Origins: []string{app}, Method: "post"},
			bucketOrigins: app, bucketMethods: "POST"},
		{desc: "PUT is listed, and triggers a preflight", need: Need{Origins: []string{app}, Method: "put"},
			methods: "PUT", preflight: true, bucketOrigins: app, bucketMethods: "PUT"},
		{desc: "patch stays lower case, as fetch() sends it, and S3 has no rule for it", need: Need{Origins: []string{app}, Method: "patch"},
			methods: "patch", preflight: true},
		{desc: "a safelisted Content-Type needs nothing", need: Need{Origins: []string{app}, Method: "POST", Headers: []string{"Content-Type: text/plain;charset=UTF-8"}},
			bucketOrigins: app, bucketMethods: "POST"},
		{desc: "a JSON Content-Type is listed", need: Need{Origins: []string{app}, Method: "POST", Headers: []string{"Content-Type: application/json"}},
			headers: "content-type", preflight: true, bucketOrigins: app, bucketMethods: "POST"},
		{desc: "Content-Type without a value is taken for JSON", need: Need{Origins: []string{app}, Headers: []string{"Content-Type"}},
			headers: "content-type", preflight: true, bucketOrigins: app, bucketMethods: "GET"},
		{desc: "Accept is safelisted; a custom header and a repeat are listed once", need: Need{Origins: []string{app}, Headers: []string{"Accept", "X-Api-Key", "x-api-key"}},
			headers: "x-api-key", preflight: true, bucketOrigins: app, bucketMethods: "GET"},
		{desc: "safelisted response headers need no exposing", need: Need{Origins: []string{app}, Expose: []string{"Content-Type", "ETag", "etag"}},
			expose: "ETag", bucketOrigins: app, bucketMethods: "GET"},
		{desc: "credentials", need: Need{Origins: []string{app, app}, Credentials: true},
			credentials: true, bucketOrigins: app, bucketMethods: "GET"},
		{desc: "a signed S3 redirect: the bucket sees null", need: Need{Origins: []string{app}, SignedS3Redirect: true},
			bucketOrigins: "null", bucketMethods: "GET"},
		{desc: "a POST redirected with 303 reaches the bucket as GET", need: Need{Origins: []string{app}, Method: "POST", SignedS3Redirect: true},
			bucketOrigins: "null", bucketMethods: "GET"},
	}
	for _, tt := range tests {
		p, err := Solve(tt.need)
		if err != nil {
			t.Errorf("%s: %v", tt.desc, err)
			continue
		}
		j := func(s []string) string { return strings.Join(s, ",") }
		if j(p.AllowMethods) != tt.methods || j(p.AllowHeaders) != tt.headers || j(p.Expose) != tt.expose || p.Preflight != tt.preflight || p.Credentials != tt.credentials {
			t.Errorf("%s: methods %q headers %q expose %q preflight %v credentials %v; want %q %q %q %v %v",
				tt.desc, p.AllowMethods, p.AllowHeaders, p.Expose, p.Preflight, p.Credentials, tt.methods, tt.headers, tt.expose, tt.preflight, tt.credentials)
		}
		if j(p.Origins) != app {
			t.Errorf("%s: origins %q, want %q", tt.desc, p.Origins, app)
		}
		if (p.MaxAge != 0) != p.Preflight {
			t.Errorf("%s: max-age %d with preflight %v", tt.desc, p.MaxAge, p.Preflight)
		}
		switch {
		case p.Bucket == nil && tt.bucketOrigins != "":
			t.Errorf("%s: no bucket rule, want one for %s", tt.desc, tt.bucketOrigins)
		case p.Bucket != nil && (j(p.Bucket.Origins) != tt.bucketOrigins || j(p.Bucket.Methods) != tt.bucketMethods):
			t.Errorf("%s: bucket rule %q %q, want %q %q", tt.desc, p.Bucket.Origins, p.Bucket.Methods, tt.bucketOrigins, tt.bucketMethods)
		}
		if i := slices.IndexFunc(p.Why, func(r Reason) bool { return r.Header == "Vary" }); i < 0 || p.Why[i].Value != "Origin" {
			t.Errorf("%s: no reason for Vary: Origin in %+v", tt.desc, p.Why)
		}
	}
}

func TestSolveErrors(t *testing.T) {
	tests := []struct {
		desc string
		need Need
		want []string // each in the joined error
	}{
		{"no origin", Need{}, []string{"origins: name at least one origin"}},
		{"*", Need{Origins: []string{"*"}}, []string{"origins: must be a serialized origin, scheme://host[:port], not *"}},
		{"null", Need{Origins: []string{"null"}}, []string{"not null", "--s3-redirect"}},
		{"a wildcard subdomain", Need{Origins: []string{"https://*.example.com"}}, []string{"without wildcards"}},
		{"a path", Need{Origins: []string{"https://a.example/app"}}, []string{"without path (not even /)"}},
		{"a trailing slash", Need{Origins: []string{"https://a.example/"}}, []string{"without path (not even /)"}},
		{"no scheme", Need{Origins: []string{"a.example:8080"}}, []string{`must be a serialized origin, scheme://host[:port]; got "a.example:8080"`}},
		{"ftp", Need{Origins: []string{"ftp://a.example"}}, []string{"with scheme http or https"}},
		{"a default port", Need{Origins: []string{"https://a.example:443"}}, []string{"without the scheme's default port"}},
		{"a numeric host the browser reads as IPv4", Need{Origins: []string{"http://0"}}, []string{"with an IPv4 address written as four decimal numbers"}},
		{"an IPv6 address not compressed", Need{Origins: []string{"http://[0:0:0:0:0:0:0:1]:8080"}}, []string{"with the address written as the browser does: ::1"}},
		{"a port with a leading zero", Need{Origins: []string{"http://a.example:0080"}}, []string{"with a port from 1 to 65535"}},
		{"an underscore in the host", Need{Origins: []string{"http://a_b.example"}}, []string{"whose host is a domain name"}},
		{"upper case", Need{Origins: []string{"https://App.example"}}, []string{"in lower case"}},
		{"a method with a space", Need{Origins: []string{"https://a.example"}, Method: "P T"}, []string{"method: must be an HTTP token"}},
		{"TRACE", Need{Origins: []string{"https://a.example"}, Method: "TRACE"}, []string{"method: fetch() refuses TRACE outright"}},
		{"a forbidden header", Need{Origins: []string{"https://a.example"}, Headers: []string{"Origin"}}, []string{"headers: Origin is a forbidden request header"}},
		{"a Sec- header", Need{Origins: []string{"https://a.example"}, Headers: []string{"Sec-Fetch-Mode"}}, []string{"headers: Sec-Fetch-Mode is a forbidden request header"}},
		{"a header with CR LF", Need{Origins: []string{"https://a.example"}, Headers: []string{"X-A\r\n"}}, []string{"headers: header names must be tokens"}},
		{"Set-Cookie", Need{Origins: []string{"https://a.example"}, Expose: []string{"set-cookie"}}, []string{"expose: JavaScript can never read set-cookie"}},
		{"every problem at once", Need{Origins: []string{"*"}, Method: "P T", Headers: []string{"Cookie"}, Expose: []string{"a b"}},
			[]string{"origins:", "method:", "headers:", "expose:"}},
	}
	for _, tt := range tests {
		_, err := Solve(tt.need)
		if err == nil {
			t.Errorf("%s: no error, want %q", tt.desc, tt.want)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q, want %q in it", tt.desc, err, w)
			}
		}
	}
}

// The snippets are valid in their own terms: the corslab scenario decodes
// and validates, S3 accepts the rules, and the Go snippets are gofmt'd.
func TestSnippetsValid(t *testing.T) {
	needs := []Need{
		{Origins: []string{"https://app.example.com"}},
		{Origins: []string{"https://app.example.com", "http://localhost:5173"}, Method: "PUT", Headers: []string{"X-Api-Key", "Content-Type: application/json"}, Credentials: true, Expose: []string{"X-Request-Id", "ETag"}},
		{Origins: []string{"http://app.test"}, Credentials: true, SignedS3Redirect: true},
		{Origins: []string{"https://app.example.com"}, Method: "PATCH"},
	}
	for _, n := range needs {
		p, err := Solve(n)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := scenario.Decode(Corslab(p)); err != nil {
			t.Errorf("%v: the corslab scenario: %v\n%s", n, err, Corslab(p))
		}
		if p.Bucket != nil {
			rules, err := s3cors.ParseXML(s3cors.XML(BucketRules(p)))
			if err == nil {
				err = s3cors.Validate(rules)
			}
			if err != nil {
				t.Errorf("%v: the bucket rules: %v", n, err)
			}
		}
		for _, src := range []string{RsCors(p), Jub0bs(p)} {
			// Wrapped in a function, the snippet must be gofmt's output.
			body := strings.ReplaceAll(strings.TrimPrefix(src[strings.Index(src, "\n\n")+2:], ""), "\n", "\n\t")
			file := "package p\n\nfunc f() {\n\t" + strings.TrimRight(body, "\t") + "}\n"
			got, err := format.Source([]byte(file))
			if err != nil || string(got) != file {
				t.Errorf("%v: not gofmt'd (%v):\n%s", n, err, file)
			}
		}
		if got := len(SnippetsFor(p, "s3")); (got == 2) != (p.Bucket != nil) {
			t.Errorf("%v: %d S3 snippets with bucket rule %v", n, got, p.Bucket)
		}
	}
}

// jub0bs/cors takes the configuration: it refuses insecure origins with
// credentials unless told, and the configuration tells it only then.
func TestJub0bsTolerance(t *testing.T) {
	for _, tt := range []struct {
		origin      string
		credentials bool
		want        bool
	}{
		{"http://app.test", true, true},
		{"http://app.test", false, false},
		{"https://app.test", true, false},
		{"http://localhost:5173", true, false},
		{"http://127.0.0.1:8080", true, false},
	} {
		p, err := Solve(Need{Origins: []string{tt.origin}, Credentials: tt.credentials})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := jub0bs.NewMiddleware(Jub0bsConfig(p)); err != nil {
			t.Errorf("%s, credentials %v: jub0bs/cors refuses the configuration: %v", tt.origin, tt.credentials, err)
		}
		if got := Jub0bsConfig(p).DangerouslyTolerateInsecureOrigins; got != tt.want {
			t.Errorf("%s, credentials %v: tolerate %v, want %v", tt.origin, tt.credentials, got, tt.want)
		}
	}
}
