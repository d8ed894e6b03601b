package s3cors

import (
	"bytes"
	"encoding/xml"
	"net/http"
)

// Error is one of S3's error answers: an HTTP status, a code, a message and
// the extra elements S3 puts between Message and RequestId (Method and
// ResourceType for a refused preflight).
type Error struct {
	Status        int
	Code, Message string
	Extra         [][2]string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// XMLBody renders S3's error document, with its elements in the wire's
// order: Code, Message, the extra elements, RequestId. HostId, which S3 sends
// last, is left out: there is no host to name.
func (e *Error) XMLBody(requestID string) []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString("<Error>")
	element(&b, "Code", e.Code)
	element(&b, "Message", e.Message)
	for _, kv := range e.Extra {
		element(&b, kv[0], kv[1])
	}
	element(&b, "RequestId", requestID)
	b.WriteString("</Error>")
	return b.Bytes()
}

// element writes <name>text</name>, the text escaped.
func element(b *bytes.Buffer, name, text string) {
	b.WriteString("<" + name + ">")
	escapeText(b, text)
	b.WriteString("</" + name + ">")
}

// escapeText writes s as XML text. Unlike xml.EscapeText it leaves quotes
// alone, as S3 does ("the resource's CORS spec"): only &, <, > and a
// carriage return, which a parser would otherwise normalize, are escaped.
// A character XML cannot hold becomes U+FFFD, as with xml.EscapeText.
func escapeText(b *bytes.Buffer, s string) {
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '\r':
			b.WriteString("&#xD;")
		case !isXMLChar(r):
			b.WriteRune('\uFFFD')
		default:
			b.WriteRune(r)
		}
	}
}

// isXMLChar reports whether r is a Char of XML 1.0 (www.w3.org/TR/xml/#charsets).
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// The messages below are S3's, as recorded against AWS by LocalStack's
// validated tests (tests/aws/services/s3/test_s3_cors.snapshot.json) unless
// said otherwise.

func errMalformedXML() *Error {
	return &Error{http.StatusBadRequest, "MalformedXML",
		"The XML you provided was not well-formed or did not validate against our published schema", nil}
}

func errUnsupportedMethod(m string) *Error {
	return &Error{http.StatusBadRequest, "InvalidRequest",
		"Found unsupported HTTP method in CORS config. Unsupported method is " + m, nil}
}

// errOriginWildcards is S3's answer captured in versity/versitygw#1870.
func errOriginWildcards(o string) *Error {
	return &Error{http.StatusBadRequest, "InvalidRequest",
		`AllowedOrigin "` + o + `" can not have more than one wildcard.`, nil}
}

// errHeaderWildcards mirrors errOriginWildcards. No capture from AWS was
// found; S3 emulators (s3rver, Scality) use this wording.
func errHeaderWildcards(h string) *Error {
	return &Error{http.StatusBadRequest, "InvalidRequest",
		`AllowedHeader "` + h + `" can not have more than one wildcard.`, nil}
}

func errOriginNeeded() *Error {
	return &Error{http.StatusBadRequest, "BadRequest",
		"Insufficient information. Origin request header needed.", nil}
}

// Resource types of a refused preflight.
const (
	resourceBucket = "BUCKET"
	resourceObject = "OBJECT"
)

func errForbidden(msg, method, resource string) *Error {
	return &Error{http.StatusForbidden, "AccessForbidden", "CORSResponse: " + msg,
		[][2]string{{"Method", method}, {"ResourceType", resource}}}
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
