package s3cors

import (
	"strconv"
	"strings"
)

// Request is what S3's CORS evaluation reads from an incoming request.
type Request struct {
	Method         string // the HTTP method
	Key            string // the object key; empty when the request names the bucket
	Origin         string // the Origin header's value, compared as a literal string
	HasOrigin      bool   // whether the request carried an Origin header
	RequestMethod  string // Access-Control-Request-Method; empty when absent
	RequestHeaders string // Access-Control-Request-Headers as received; empty when absent
}

// Answer says how the s3 origin answers a request.
//
// For OPTIONS, a non-nil Err means answering with Err's status and
// Err.XMLBody; otherwise the answer is 200 with Headers and an empty body.
// For any other method, Headers (possibly none) are added to the normal
// answer, and Err is always nil.
type Answer struct {
	Headers [][2]string
	Err     *Error
	Rule    int // the index of the matched rule, or -1
}

// Vary is the Vary value S3 sends with every CORS answer.
const Vary = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"

// Evaluate applies a bucket's CORS rules to a request. Rules that are nil or
// empty mean the bucket has no CORS configuration; bucketExists false means
// there is no such bucket.
//
// S3 uses the first rule that matches (API_PutBucketCors: "uses the first
// CORSRule rule that matches the incoming browser request").
func Evaluate(rules []Rule, bucketExists bool, r Request) Answer {
	preflight := r.Method == "OPTIONS"
	if !r.HasOrigin {
		// "If the header is missing, Amazon S3 doesn't treat the request
		// as a cross-origin request" (repost.aws, s3-configure-cors); an
		// OPTIONS without it is refused before the bucket is looked up.
		if preflight {
			return refuse(errOriginNeeded())
		}
		return Answer{Rule: -1}
	}
	if !bucketExists || len(rules) == 0 {
		if !preflight {
			return Answer{Rule: -1}
		}
		// Both answers name the bucket, even when the URL names a key.
		if !bucketExists {
			return refuse(errBucketNotFound(errorMethod(r)))
		}
		return refuse(errCORSNotEnabled(errorMethod(r)))
	}
	method, requested := evaluatedMethod(r), requestedHeaders(r.RequestHeaders)
	for i, rule := range rules {
		if ruleMatches(rule, r.Origin, method, requested) {
			return Answer{Headers: corsHeaders(rule, r.Origin, requested), Rule: i}
		}
	}
	if preflight {
		resource := resourceObject
		if r.Key == "" {
			resource = resourceBucket
		}
		return refuse(errNotAllowed(errorMethod(r), resource))
	}
	// An actual request that no rule allows is served as usual, without
	// CORS headers or Vary.
	return Answer{Rule: -1}
}

func refuse(err *Error) Answer { return Answer{Err: err, Rule: -1} }

// evaluatedMethod is the method a rule must allow. S3 reads
// Access-Control-Request-Method whenever it is present, on any method: a GET
// that carries one is matched with its value (LocalStack's
// test_cors_match_methods, "get-wrong-op"). A preflight without it is
// matched as OPTIONS, which no rule can allow.
func evaluatedMethod(r Request) string {
	if r.RequestMethod != "" {
		return r.RequestMethod
	}
	return r.Method
}

// errorMethod is the Method element of a refused preflight: the requested
// method, or OPTIONS when none was requested (LocalStack's
// test_cors_http_options_no_config).
func errorMethod(r Request) string {
	if r.RequestMethod != "" {
		return r.RequestMethod
	}
	return "OPTIONS"
}

// requestedHeaders splits Access-Control-Request-Headers into lower-cased
// names. As RFC 9110 §5.6.1 asks of a list, white space around an element
// and empty elements are ignored. Like the method, the header counts on any
// request that carries it.
func requestedHeaders(acrh string) []string {
	var names []string
	for _, n := range strings.Split(acrh, ",") {
		if n = strings.Trim(n, " \t"); n != "" {
			names = append(names, strings.ToLower(n))
		}
	}
	return names
}

// ruleMatches applies S3's three conditions (API_PutBucketCors): the Origin
// matches an AllowedOrigin, the method is an AllowedMethod, and every
// requested header matches an AllowedHeader.
func ruleMatches(rule Rule, origin, method string, requested []string) bool {
	return originAllowed(rule, origin) && methodAllowed(rule, method) && headersAllowed(rule, requested)
}

// originAllowed compares the Origin with each AllowedOrigin as a literal,
// case-sensitive string ("null" is just a string), where one * stands for
// any run of characters, the empty one included (ceph s3-tests,
// test_cors_origin_response: "start*end" matches "startend").
func originAllowed(rule Rule, origin string) bool {
	for _, o := range rule.AllowedOrigins {
		if wildcardMatch(o, origin) {
			return true
		}
	}
	return false
}

func methodAllowed(rule Rule, method string) bool {
	for _, m := range rule.AllowedMethods {
		if m == method {
			return true
		}
	}
	return false
}

// headersAllowed requires every requested name to match an AllowedHeader,
// ignoring case; x-amz-* allows every name that starts with x-amz-. A rule
// without AllowedHeaders allows no requested header (LocalStack's
// test_put_cors_default_values).
func headersAllowed(rule Rule, requested []string) bool {
	for _, name := range requested {
		if !headerAllowed(rule, name) {
			return false
		}
	}
	return true
}

func headerAllowed(rule Rule, name string) bool {
	for _, h := range rule.AllowedHeaders {
		if wildcardMatch(strings.ToLower(h), name) {
			return true
		}
	}
	return false
}

// wildcardMatch reports whether s matches pattern, where the pattern's first
// * matches any run of characters and the match is anchored at both ends.
// Validation allows one * at most; any later * is taken literally.
func wildcardMatch(pattern, s string) bool {
	prefix, suffix, found := strings.Cut(pattern, "*")
	if !found {
		return pattern == s
	}
	return len(s) >= len(prefix)+len(suffix) && strings.HasPrefix(s, prefix) && strings.HasSuffix(s, suffix)
}

// corsHeaders are the headers of a matched rule, in the order of the user
// guide's sample answer (docs.aws.amazon.com/AmazonS3/latest/userguide/testing-cors.html).
func corsHeaders(rule Rule, origin string, requested []string) [][2]string {
	var h [][2]string
	add := func(name, value string) { h = append(h, [2]string{name, value}) }
	// S3 answers * for a rule that allows every origin, and otherwise
	// echoes the Origin and allows credentials, even for null and for a
	// pattern — the Fetch standard would let a browser send cookies.
	if allowsAnyOrigin(rule) {
		add("Access-Control-Allow-Origin", "*")
	} else {
		add("Access-Control-Allow-Origin", origin)
	}
	// The rule's whole list, not the requested method.
	add("Access-Control-Allow-Methods", strings.Join(rule.AllowedMethods, ", "))
	if len(requested) > 0 {
		add("Access-Control-Allow-Headers", strings.Join(requested, ", "))
	}
	if len(rule.ExposeHeaders) > 0 {
		add("Access-Control-Expose-Headers", strings.Join(rule.ExposeHeaders, ", "))
	}
	if !allowsAnyOrigin(rule) {
		add("Access-Control-Allow-Credentials", "true")
	}
	if rule.MaxAgeSeconds != nil {
		add("Access-Control-Max-Age", strconv.Itoa(*rule.MaxAgeSeconds))
	}
	add("Vary", Vary)
	return h
}

// allowsAnyOrigin reports whether the rule lists the origin *. Like
// LocalStack, a rule that lists * beside specific origins answers * even to
// one of them; AWS's behaviour there is unrecorded.
func allowsAnyOrigin(rule Rule) bool {
	for _, o := range rule.AllowedOrigins {
		if o == "*" {
			return true
		}
	}
	return false
}
