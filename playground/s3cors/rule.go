// Package s3cors models how Amazon S3 answers CORS: a bucket's CORS
// configuration (PutBucketCors), its validation with S3's own errors, and the
// evaluation of a request against it, down to S3's quirks.
//
// The specification is corslab's shared/reference/s3-cors.md; S3's wire
// answers come from LocalStack's tests recorded against AWS
// (tests/aws/services/s3/test_s3_cors.snapshot.json) and from ceph s3-tests.
package s3cors

import "strings"

// Rule is one CORSRule of a bucket's CORS configuration. The JSON names are
// those of a corslab scenario.
type Rule struct {
	ID             string   `json:"id,omitempty"`
	AllowedOrigins []string `json:"allowedOrigins"`
	AllowedMethods []string `json:"allowedMethods"`
	AllowedHeaders []string `json:"allowedHeaders"`
	ExposeHeaders  []string `json:"exposeHeaders"`
	MaxAgeSeconds  *int     `json:"maxAgeSeconds"`
}

// MaxRules is how many CORSRules a configuration may hold
// (docs.aws.amazon.com/AmazonS3/latest/API/API_CORSConfiguration.html).
const MaxRules = 100

// Validate checks a configuration the way PutBucketCors does and returns
// the first problem as S3 reports it, a *Error. S3 answers one error, so
// problems are not joined. Schema problems (rule count, a rule without an
// origin or a method) come before the checks of values, as a schema
// validation would.
func Validate(rules []Rule) error {
	if err := checkShape(rules); err != nil {
		return err
	}
	for _, r := range rules {
		if err := checkRule(r); err != nil {
			return err
		}
	}
	return nil
}

// checkShape is the schema part: 1 to 100 rules, each naming at least one
// origin and one method (versity/versitygw#1863 records MalformedXML for a
// rule without either).
func checkShape(rules []Rule) *Error {
	if len(rules) == 0 || len(rules) > MaxRules {
		return errMalformedXML()
	}
	for _, r := range rules {
		if len(r.AllowedOrigins) == 0 || len(r.AllowedMethods) == 0 {
			return errMalformedXML()
		}
	}
	return nil
}

// checkRule checks one rule's values: methods, then origins, then headers.
func checkRule(r Rule) *Error {
	for _, m := range r.AllowedMethods {
		if !isCORSMethod(m) {
			return errUnsupportedMethod(m)
		}
	}
	for _, o := range r.AllowedOrigins {
		if strings.Count(o, "*") > 1 {
			return errOriginWildcards(o)
		}
	}
	for _, h := range r.AllowedHeaders {
		if strings.Count(h, "*") > 1 {
			return errHeaderWildcards(h)
		}
	}
	return nil
}

// isCORSMethod reports whether m is one of the five methods a CORSRule may
// allow: "Valid values are GET, PUT, HEAD, POST, and DELETE"
// (docs.aws.amazon.com/AmazonS3/latest/API/API_CORSRule.html). The
// comparison is case-sensitive, as HTTP methods are.
func isCORSMethod(m string) bool {
	switch m {
	case "GET", "PUT", "HEAD", "POST", "DELETE":
		return true
	}
	return false
}
