package s3cors

import (
	"reflect"
	"testing"

	"github.com/corslab/corslab/playground/s3err"
)

const (
	localhost = "https://localhost:4200"
	key       = "test-cors"
)

func intp(n int) *int { return &n }

// Bucket configurations, most of them those of LocalStack's AWS-validated
// tests (tests/aws/services/s3/test_s3_cors.py).
var (
	// test_cors_match_origins.
	exactOrigin = []Rule{{AllowedOrigins: []string{localhost}, AllowedMethods: []string{"GET", "PUT"}, MaxAgeSeconds: intp(3000), AllowedHeaders: []string{"*"}}}
	anyOrigin   = []Rule{{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET", "PUT"}, MaxAgeSeconds: intp(3000), AllowedHeaders: []string{"*"}}}
	// test_cors_match_methods.
	getOnly = []Rule{{AllowedOrigins: []string{localhost}, AllowedMethods: []string{"GET"}, MaxAgeSeconds: intp(3000), AllowedHeaders: []string{"*"}}}
	// test_cors_match_headers, second configuration.
	namedHeaders = []Rule{{AllowedOrigins: []string{localhost}, AllowedMethods: []string{"GET"}, MaxAgeSeconds: intp(3000),
		AllowedHeaders: []string{"x-amz-expected-bucket-owner", "x-amz-server-side-encryption-customer-algorithm", "x-AMZ-server-SIDE-encryption"}}}
	// test_put_cors_default_values.
	defaults = []Rule{{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}}}
	// test_cors_expose_headers.
	exposing = []Rule{{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}, ExposeHeaders: []string{"x-amz-id-2", "x-amz-request-id", "x-amz-request-payer"}}}
	// test_cors_options_match_partial_origin.
	partial = []Rule{{AllowedOrigins: []string{"http://*.origin.com"}, AllowedMethods: []string{"GET", "PUT"}, MaxAgeSeconds: intp(3000), AllowedHeaders: []string{"*"}}}
	// ceph s3-tests, test_cors_origin_response.
	s3tests = []Rule{
		{AllowedOrigins: []string{"*suffix"}, AllowedMethods: []string{"GET"}},
		{AllowedOrigins: []string{"start*end"}, AllowedMethods: []string{"GET"}},
		{AllowedOrigins: []string{"prefix*"}, AllowedMethods: []string{"GET"}},
		{AllowedOrigins: []string{"*.put"}, AllowedMethods: []string{"PUT"}},
	}
	nullOrigin  = []Rule{{AllowedOrigins: []string{"null"}, AllowedMethods: []string{"GET"}}}
	amzHeaders  = []Rule{{AllowedOrigins: []string{localhost}, AllowedMethods: []string{"PUT"}, AllowedHeaders: []string{"x-amz-*", "Content-Type"}}}
	zeroMaxAge  = []Rule{{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}, MaxAgeSeconds: intp(0)}}
	mixedOrigin = []Rule{{AllowedOrigins: []string{localhost, "*"}, AllowedMethods: []string{"GET"}}}
	// Two rules that both allow localhost's GET; the second also allows
	// a requested header.
	twoRules = []Rule{
		{ID: "reads", AllowedOrigins: []string{localhost}, AllowedMethods: []string{"GET"}},
		{ID: "writes", AllowedOrigins: []string{"https://*"}, AllowedMethods: []string{"GET", "PUT", "DELETE"}, AllowedHeaders: []string{"*"}, MaxAgeSeconds: intp(600)},
	}
)

// opt is a preflight for key from origin; acrm and acrh are sent when not
// empty.
func opt(origin, acrm, acrh string) Request {
	return Request{Method: "OPTIONS", Key: key, Origin: origin, HasOrigin: true, RequestMethod: acrm, RequestHeaders: acrh}
}

// actual is a request with method m for key from origin.
func actual(m, origin string) Request {
	return Request{Method: m, Key: key, Origin: origin, HasOrigin: true}
}

func onBucket(r Request) Request { r.Key = ""; return r }
func noOrigin(r Request) Request { r.Origin, r.HasOrigin = "", false; return r }
func withACRM(m string) func(Request) Request {
	return func(r Request) Request { r.RequestMethod = m; return r }
}
func withACRH(h string) func(Request) Request {
	return func(r Request) Request { r.RequestHeaders = h; return r }
}

// allowed is the answer of rule i with the given headers.
func allowed(i int, kv ...string) Answer { return Answer{Headers: h(kv...), Rule: i} }

// h builds a header list from name, value pairs.
func h(kv ...string) [][2]string {
	var out [][2]string
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, [2]string{kv[i], kv[i+1]})
	}
	return out
}

var (
	none = Answer{Rule: -1}
	// LocalStack's recordings of a 200 preflight and GET from localhost.
	localhostGetPut = allowed(0, "Access-Control-Allow-Origin", localhost, "Access-Control-Allow-Methods", "GET, PUT",
		"Access-Control-Allow-Credentials", "true", "Access-Control-Max-Age", "3000", "Vary", Vary)
	localhostGet = allowed(0, "Access-Control-Allow-Origin", localhost, "Access-Control-Allow-Methods", "GET",
		"Access-Control-Allow-Credentials", "true", "Access-Control-Max-Age", "3000", "Vary", Vary)
)

func refused(e *Error) Answer { return Answer{Err: e, Rule: -1} }

func TestEvaluate(t *testing.T) {
	tests := []struct {
		desc   string
		rules  []Rule
		exists bool // the bucket exists
		req    Request
		want   Answer
	}{
		// OPTIONS without Origin.
		{"OPTIONS without Origin is 400 BadRequest", exactOrigin, true, noOrigin(opt("", "", "")), refused(errOriginNeeded())},
		{"OPTIONS with a request method but no Origin is 400 too", exactOrigin, true, noOrigin(opt("", "PUT", "")), refused(errOriginNeeded())},
		{"OPTIONS without Origin on a bucket without CORS is 400", nil, true, noOrigin(opt("", "PUT", "")), refused(errOriginNeeded())},
		{"OPTIONS without Origin on a missing bucket is 400, before the bucket is looked up", nil, false, noOrigin(opt("", "", "")), refused(errOriginNeeded())},
		{"an empty Origin header is an Origin all the same", []Rule{{AllowedOrigins: []string{""}, AllowedMethods: []string{"GET"}}}, true, opt("", "GET", ""),
			allowed(0, "Access-Control-Allow-Origin", "", "Access-Control-Allow-Methods", "GET", "Access-Control-Allow-Credentials", "true", "Vary", Vary)},

		// A bucket without CORS, or without a bucket.
		{"OPTIONS on a bucket without CORS is 403 with the requested method and BUCKET", nil, true, opt("whatever", "PUT", ""),
			refused(errCORSNotEnabled("PUT"))},
		{"the 403 names OPTIONS when no method was requested", nil, true, opt("whatever", "", ""), refused(errCORSNotEnabled("OPTIONS"))},
		{"an empty rule list is no configuration", []Rule{}, true, opt("whatever", "GET", ""), refused(errCORSNotEnabled("GET"))},
		{"OPTIONS on a missing bucket is 403 Bucket not found", nil, false, opt("whatever", "", ""), refused(errBucketNotFound("OPTIONS"))},
		{"a missing bucket wins over its rules", anyOrigin, false, opt(localhost, "GET", ""), refused(errBucketNotFound("GET"))},
		{"GET on a bucket without CORS has no CORS headers", nil, true, actual("GET", "whatever"), none},
		{"GET on a missing bucket has no CORS headers", nil, false, actual("GET", "whatever"), none},

		// Origins.
		{"a preflight from the rule's origin gets it echoed with credentials", exactOrigin, true, opt(localhost, "PUT", ""), localhostGetPut},
		{"a GET from the rule's origin gets the same headers", exactOrigin, true, actual("GET", localhost), localhostGetPut},
		{"GET without Origin has no CORS headers", exactOrigin, true, noOrigin(actual("GET", "")), none},
		{"another scheme is another origin: the preflight is 403 for the OBJECT", exactOrigin, true, opt("http://localhost:4200", "PUT", ""),
			refused(errNotAllowed("PUT", "OBJECT"))},
		{"a refused preflight on the bucket names BUCKET", exactOrigin, true, onBucket(opt("http://localhost:4200", "GET", "")),
			refused(errNotAllowed("GET", "BUCKET"))},
		{"a GET from another origin is served without CORS headers or Vary", exactOrigin, true, actual("GET", "http://localhost:4200"), none},
		{"origins are compared case-sensitively", exactOrigin, true, opt("https://LOCALHOST:4200", "GET", ""), refused(errNotAllowed("GET", "OBJECT"))},
		{"a trailing slash does not match", exactOrigin, true, opt(localhost+"/", "GET", ""), refused(errNotAllowed("GET", "OBJECT"))},
		{"origin * answers * without credentials", anyOrigin, true, opt("http://random:1234", "PUT", ""),
			allowed(0, "Access-Control-Allow-Origin", "*", "Access-Control-Allow-Methods", "GET, PUT", "Access-Control-Max-Age", "3000", "Vary", Vary)},
		{"origin * answers * to a GET too", anyOrigin, true, actual("GET", "http://random:1234"),
			allowed(0, "Access-Control-Allow-Origin", "*", "Access-Control-Allow-Methods", "GET, PUT", "Access-Control-Max-Age", "3000", "Vary", Vary)},
		{"origin * allows null", anyOrigin, true, opt("null", "GET", ""),
			allowed(0, "Access-Control-Allow-Origin", "*", "Access-Control-Allow-Methods", "GET, PUT", "Access-Control-Max-Age", "3000", "Vary", Vary)},
		{"origin * allows a string that is no origin", exposing, true, opt("localhost:4566", "GET", ""),
			allowed(0, "Access-Control-Allow-Origin", "*", "Access-Control-Allow-Methods", "GET",
				"Access-Control-Expose-Headers", "x-amz-id-2, x-amz-request-id, x-amz-request-payer", "Vary", Vary)},
		{"a rule listing * beside an origin answers * even to that origin", mixedOrigin, true, opt(localhost, "GET", ""),
			allowed(0, "Access-Control-Allow-Origin", "*", "Access-Control-Allow-Methods", "GET", "Vary", Vary)},
		{"null is only a string, which a specific rule does not allow", exactOrigin, true, opt("null", "GET", ""), refused(errNotAllowed("GET", "OBJECT"))},
		{"a rule naming null echoes null with credentials", nullOrigin, true, opt("null", "GET", ""),
			allowed(0, "Access-Control-Allow-Origin", "null", "Access-Control-Allow-Methods", "GET", "Access-Control-Allow-Credentials", "true", "Vary", Vary)},
		{"a GET from null gets the same", nullOrigin, true, actual("GET", "null"),
			allowed(0, "Access-Control-Allow-Origin", "null", "Access-Control-Allow-Methods", "GET", "Access-Control-Allow-Credentials", "true", "Vary", Vary)},

		// Origin patterns with one *.
		{"a one-* pattern echoes the origin with credentials", partial, true, opt("http://test.origin.com", "GET", ""),
			allowed(0, "Access-Control-Allow-Origin", "http://test.origin.com", "Access-Control-Allow-Methods", "GET, PUT",
				"Access-Control-Allow-Credentials", "true", "Access-Control-Max-Age", "3000", "Vary", Vary)},
		{"a pattern is anchored at the end: a trailing slash fails", partial, true, onBucket(opt("http://test.origin.com/", "GET", "")),
			refused(errNotAllowed("GET", "BUCKET"))},
		{"* spans dots", partial, true, opt("http://a.b.origin.com", "GET", ""),
			allowed(0, "Access-Control-Allow-Origin", "http://a.b.origin.com", "Access-Control-Allow-Methods", "GET, PUT",
				"Access-Control-Allow-Credentials", "true", "Access-Control-Max-Age", "3000", "Vary", Vary)},
		{"the pattern's dot is literal", partial, true, opt("http://origin.com", "GET", ""), refused(errNotAllowed("GET", "OBJECT"))},
		{"the pattern's scheme must match", partial, true, opt("https://test.origin.com", "GET", ""), refused(errNotAllowed("GET", "OBJECT"))},
		{"*suffix matches foo.suffix", s3tests, true, opt("foo.suffix", "GET", ""),
			allowed(0, "Access-Control-Allow-Origin", "foo.suffix", "Access-Control-Allow-Methods", "GET", "Access-Control-Allow-Credentials", "true", "Vary", Vary)},
		{"start*end matches startend: * may match nothing", s3tests, true, opt("startend", "GET", ""),
			allowed(1, "Access-Control-Allow-Origin", "startend", "Access-Control-Allow-Methods", "GET", "Access-Control-Allow-Credentials", "true", "Vary", Vary)},
		{"start*end matches start12end", s3tests, true, actual("GET", "start12end"),
			allowed(1, "Access-Control-Allow-Origin", "start12end", "Access-Control-Allow-Methods", "GET", "Access-Control-Allow-Credentials", "true", "Vary", Vary)},
		{"prefix* matches prefix itself", s3tests, true, opt("prefix", "GET", ""),
			allowed(2, "Access-Control-Allow-Origin", "prefix", "Access-Control-Allow-Methods", "GET", "Access-Control-Allow-Credentials", "true", "Vary", Vary)},
		{"prefix.suffix is taken by the first rule that matches", s3tests, true, opt("prefix.suffix", "GET", ""),
			allowed(0, "Access-Control-Allow-Origin", "prefix.suffix", "Access-Control-Allow-Methods", "GET", "Access-Control-Allow-Credentials", "true", "Vary", Vary)},
		{"foo.suffix.get matches no pattern", s3tests, true, opt("foo.suffix.get", "GET", ""), refused(errNotAllowed("GET", "OBJECT"))},
		{"0start12end matches no pattern: anchored at the start", s3tests, true, opt("0start12end", "GET", ""), refused(errNotAllowed("GET", "OBJECT"))},
		{"bla.prefix matches no pattern", s3tests, true, actual("GET", "bla.prefix"), none},
		{"foo.put may PUT", s3tests, true, opt("foo.put", "PUT", ""),
			allowed(3, "Access-Control-Allow-Origin", "foo.put", "Access-Control-Allow-Methods", "PUT", "Access-Control-Allow-Credentials", "true", "Vary", Vary)},
		{"foo.put may not GET", s3tests, true, opt("foo.put", "GET", ""), refused(errNotAllowed("GET", "OBJECT"))},
		{"the pattern's prefix and suffix may not overlap", []Rule{{AllowedOrigins: []string{"ab*ba"}, AllowedMethods: []string{"GET"}}}, true, opt("aba", "GET", ""),
			refused(errNotAllowed("GET", "OBJECT"))},

		// Methods.
		{"an allowed requested method lists the rule's methods", getOnly, true, opt(localhost, "GET", ""), localhostGet},
		{"Allow-Methods is the rule's whole list, not the requested method", exactOrigin, true, opt(localhost, "GET", ""), localhostGetPut},
		{"a method the rule does not allow is 403", getOnly, true, opt(localhost, "PUT", ""), refused(errNotAllowed("PUT", "OBJECT"))},
		{"methods are case-sensitive", getOnly, true, opt(localhost, "get", ""), refused(errNotAllowed("get", "OBJECT"))},
		{"a preflight without a requested method is matched as OPTIONS and refused", getOnly, true, opt(localhost, "", ""),
			refused(errNotAllowed("OPTIONS", "OBJECT"))},
		{"a PUT the rule does not allow is served without CORS headers", getOnly, true, actual("PUT", localhost), none},
		{"a GET carrying a request method is matched with it: PUT is not allowed", getOnly, true, withACRM("PUT")(actual("GET", localhost)), none},
		{"a PUT carrying a request method GET is matched with GET", getOnly, true, withACRM("GET")(actual("PUT", localhost)), localhostGet},
		{"a HEAD the rule does not list gets nothing", getOnly, true, actual("HEAD", localhost), none},

		// Requested headers.
		{"AllowedHeader * allows a requested header, echoed", getOnly, true, opt(localhost, "GET", "x-amz-request-payer"),
			allowed(0, "Access-Control-Allow-Origin", localhost, "Access-Control-Allow-Methods", "GET", "Access-Control-Allow-Headers", "x-amz-request-payer",
				"Access-Control-Allow-Credentials", "true", "Access-Control-Max-Age", "3000", "Vary", Vary)},
		{"two requested headers come back in the order requested", getOnly, true, opt(localhost, "GET", "x-amz-request-payer, x-amz-expected-bucket-owner"),
			allowed(0, "Access-Control-Allow-Origin", localhost, "Access-Control-Allow-Methods", "GET",
				"Access-Control-Allow-Headers", "x-amz-request-payer, x-amz-expected-bucket-owner",
				"Access-Control-Allow-Credentials", "true", "Access-Control-Max-Age", "3000", "Vary", Vary)},
		{"a GET's own headers are not checked", namedHeaders, true, actual("GET", localhost), localhostGet},
		{"a requested header the rule does not name is 403", namedHeaders, true, opt(localhost, "GET", "x-amz-request-payer"),
			refused(errNotAllowed("GET", "OBJECT"))},
		{"a named header is allowed", namedHeaders, true, opt(localhost, "GET", "x-amz-expected-bucket-owner"),
			allowed(0, "Access-Control-Allow-Origin", localhost, "Access-Control-Allow-Methods", "GET", "Access-Control-Allow-Headers", "x-amz-expected-bucket-owner",
				"Access-Control-Allow-Credentials", "true", "Access-Control-Max-Age", "3000", "Vary", Vary)},
		{"names match without regard to case and come back lower-cased", namedHeaders, true, opt(localhost, "GET", "x-AMZ-expected-BUCKET-owner,x-amz-server-side-encryption"),
			allowed(0, "Access-Control-Allow-Origin", localhost, "Access-Control-Allow-Methods", "GET",
				"Access-Control-Allow-Headers", "x-amz-expected-bucket-owner, x-amz-server-side-encryption",
				"Access-Control-Allow-Credentials", "true", "Access-Control-Max-Age", "3000", "Vary", Vary)},
		{"one refused name refuses them all", namedHeaders, true, opt(localhost, "GET", "x-amz-expected-bucket-owner, x-amz-request-payer"),
			refused(errNotAllowed("GET", "OBJECT"))},
		{"a GET carrying a refused requested header is served without CORS headers", namedHeaders, true, withACRH("x-amz-request-payer")(actual("GET", localhost)), none},
		{"a GET carrying an allowed requested header gets Allow-Headers too", namedHeaders, true, withACRH("X-Amz-Expected-Bucket-Owner")(actual("GET", localhost)),
			allowed(0, "Access-Control-Allow-Origin", localhost, "Access-Control-Allow-Methods", "GET", "Access-Control-Allow-Headers", "x-amz-expected-bucket-owner",
				"Access-Control-Allow-Credentials", "true", "Access-Control-Max-Age", "3000", "Vary", Vary)},
		{"a rule without AllowedHeaders refuses any requested header", defaults, true, opt("localhost:4566", "GET", "x-amz-request-payer"),
			refused(errNotAllowed("GET", "OBJECT"))},
		{"a rule without AllowedHeaders still allows a preflight that requests none", defaults, true, opt("localhost:4566", "GET", ""),
			allowed(0, "Access-Control-Allow-Origin", "*", "Access-Control-Allow-Methods", "GET", "Vary", Vary)},
		{"empty list elements are ignored", defaults, true, opt("localhost:4566", "GET", " , ,"),
			allowed(0, "Access-Control-Allow-Origin", "*", "Access-Control-Allow-Methods", "GET", "Vary", Vary)},
		{"x-amz-* allows an x-amz- header", amzHeaders, true, opt(localhost, "PUT", "x-amz-meta-owner,content-type"),
			allowed(0, "Access-Control-Allow-Origin", localhost, "Access-Control-Allow-Methods", "PUT", "Access-Control-Allow-Headers", "x-amz-meta-owner, content-type",
				"Access-Control-Allow-Credentials", "true", "Vary", Vary)},
		{"x-amz-* ignores case", amzHeaders, true, opt(localhost, "PUT", "X-AMZ-ACL"),
			allowed(0, "Access-Control-Allow-Origin", localhost, "Access-Control-Allow-Methods", "PUT", "Access-Control-Allow-Headers", "x-amz-acl",
				"Access-Control-Allow-Credentials", "true", "Vary", Vary)},
		{"x-amz-* does not allow another header", amzHeaders, true, opt(localhost, "PUT", "x-amz-acl, authorization"), refused(errNotAllowed("PUT", "OBJECT"))},
		{"x-amz-* is anchored at the start", amzHeaders, true, opt(localhost, "PUT", "my-x-amz-acl"), refused(errNotAllowed("PUT", "OBJECT"))},

		// Max-Age and Expose-Headers.
		{"Expose-Headers are joined with a comma and a space", exposing, true, actual("GET", "https://a.example"),
			allowed(0, "Access-Control-Allow-Origin", "*", "Access-Control-Allow-Methods", "GET",
				"Access-Control-Expose-Headers", "x-amz-id-2, x-amz-request-id, x-amz-request-payer", "Vary", Vary)},
		{"no MaxAgeSeconds, no Max-Age", defaults, true, actual("GET", "https://a.example"),
			allowed(0, "Access-Control-Allow-Origin", "*", "Access-Control-Allow-Methods", "GET", "Vary", Vary)},
		{"MaxAgeSeconds 0 is sent", zeroMaxAge, true, opt("https://a.example", "GET", ""),
			allowed(0, "Access-Control-Allow-Origin", "*", "Access-Control-Allow-Methods", "GET", "Access-Control-Max-Age", "0", "Vary", Vary)},

		// The first rule that matches wins.
		{"the first matching rule answers", twoRules, true, opt(localhost, "GET", ""),
			allowed(0, "Access-Control-Allow-Origin", localhost, "Access-Control-Allow-Methods", "GET", "Access-Control-Allow-Credentials", "true", "Vary", Vary)},
		{"a rule that fails on the method passes to the next", twoRules, true, opt(localhost, "DELETE", ""),
			allowed(1, "Access-Control-Allow-Origin", localhost, "Access-Control-Allow-Methods", "GET, PUT, DELETE",
				"Access-Control-Allow-Credentials", "true", "Access-Control-Max-Age", "600", "Vary", Vary)},
		{"a rule that fails on a header passes to the next", twoRules, true, opt(localhost, "GET", "content-type"),
			allowed(1, "Access-Control-Allow-Origin", localhost, "Access-Control-Allow-Methods", "GET, PUT, DELETE", "Access-Control-Allow-Headers", "content-type",
				"Access-Control-Allow-Credentials", "true", "Access-Control-Max-Age", "600", "Vary", Vary)},
		{"a GET is answered by the first rule too", twoRules, true, actual("GET", localhost),
			allowed(0, "Access-Control-Allow-Origin", localhost, "Access-Control-Allow-Methods", "GET", "Access-Control-Allow-Credentials", "true", "Vary", Vary)},
		{"an insecure origin matches neither", twoRules, true, opt("http://localhost:4200", "GET", ""), refused(errNotAllowed("GET", "OBJECT"))},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			got := Evaluate(tt.rules, tt.exists, tt.req)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Evaluate(%+v)\n got: %+v\nwant: %+v", tt.req, got, tt.want)
			}
			if got.Err != nil && tt.req.Method != "OPTIONS" {
				t.Errorf("an actual request got an error: %v", got.Err)
			}
		})
	}
}

// TestRefusalBodies pins the error documents of the table against
// LocalStack's recordings of S3.
func TestRefusalBodies(t *testing.T) {
	tests := []struct {
		desc   string
		rules  []Rule
		exists bool
		req    Request
		want   string
	}{
		{"no Origin", exactOrigin, true, noOrigin(opt("", "", "")),
			`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Error><Code>BadRequest</Code><Message>Insufficient information. Origin request header needed.</Message><RequestId>R1</RequestId><HostId>` + s3err.HostID("R1") + `</HostId></Error>`},
		{"no configuration", nil, true, opt("whatever", "PUT", ""),
			`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Error><Code>AccessForbidden</Code><Message>CORSResponse: CORS is not enabled for this bucket.</Message><Method>PUT</Method><ResourceType>BUCKET</ResourceType><RequestId>R1</RequestId><HostId>` + s3err.HostID("R1") + `</HostId></Error>`},
		{"no bucket", nil, false, opt("whatever", "", ""),
			`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Error><Code>AccessForbidden</Code><Message>CORSResponse: Bucket not found</Message><Method>OPTIONS</Method><ResourceType>BUCKET</ResourceType><RequestId>R1</RequestId><HostId>` + s3err.HostID("R1") + `</HostId></Error>`},
		{"no rule matches", exactOrigin, true, opt("http://localhost:4200", "PUT", ""),
			`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Error><Code>AccessForbidden</Code><Message>CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.</Message><Method>PUT</Method><ResourceType>OBJECT</ResourceType><RequestId>R1</RequestId><HostId>` + s3err.HostID("R1") + `</HostId></Error>`},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			a := Evaluate(tt.rules, tt.exists, tt.req)
			if a.Err == nil {
				t.Fatalf("Evaluate(%+v) = %+v, want an error", tt.req, a)
			}
			if got := string(a.Err.XMLBody("R1")); got != tt.want {
				t.Errorf("body\n got: %s\nwant: %s", got, tt.want)
			}
		})
	}
}
