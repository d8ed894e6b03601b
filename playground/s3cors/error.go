package s3cors

import (
	"net/http"

	"github.com/corslab/corslab/playground/s3err"
)

// Error is S3's error answer.
type Error = s3err.Error

func errorOf(status int, code, msg string, extra ...[2]string) *Error {
	return &Error{Status: status, Code: code, Message: msg, Extra: extra}
}

// The messages below are S3's, as recorded against AWS by LocalStack's
// validated tests (tests/aws/services/s3/test_s3_cors.snapshot.json) unless
// said otherwise.

func errMalformedXML() *Error {
	return errorOf(http.StatusBadRequest, "MalformedXML",
		"The XML you provided was not well-formed or did not validate against our published schema")
}

func errUnsupportedMethod(m string) *Error {
	return errorOf(http.StatusBadRequest, "InvalidRequest",
		"Found unsupported HTTP method in CORS config. Unsupported method is "+m)
}

// errOriginWildcards is S3's answer captured in versity/versitygw#1870.
func errOriginWildcards(o string) *Error {
	return errorOf(http.StatusBadRequest, "InvalidRequest",
		`AllowedOrigin "`+o+`" can not have more than one wildcard.`)
}

// errHeaderWildcards mirrors errOriginWildcards. No capture from AWS was
// found; S3 emulators (s3rver, Scality) use this wording.
func errHeaderWildcards(h string) *Error {
	return errorOf(http.StatusBadRequest, "InvalidRequest",
		`AllowedHeader "`+h+`" can not have more than one wildcard.`)
}

func errOriginNeeded() *Error {
	return errorOf(http.StatusBadRequest, "BadRequest",
		"Insufficient information. Origin request header needed.")
}

// Resource types of a refused preflight.
const (
	resourceBucket = "BUCKET"
	resourceObject = "OBJECT"
)

func errForbidden(msg, method, resource string) *Error {
	return errorOf(http.StatusForbidden, "AccessForbidden", "CORSResponse: "+msg,
		[2]string{"Method", method}, [2]string{"ResourceType", resource})
}

func errBucketNotFound(method string) *Error {
	return errForbidden("Bucket not found", method, resourceBucket)
}

func errCORSNotEnabled(method string) *Error {
	return errForbidden("CORS is not enabled for this bucket.", method, resourceBucket)
}

// errNotAllowed keeps AWS's misspelling "evalution".
func errNotAllowed(method, resource string) *Error {
	return errForbidden("This CORS request is not allowed. This is usually because the evalution of Origin, "+
		"request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted "+
		"by the resource's CORS spec.", method, resource)
}
