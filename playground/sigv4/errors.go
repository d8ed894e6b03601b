package sigv4

import (
	"fmt"
	"net/http"
	"time"

	"github.com/corslab/corslab/playground/s3err"
)

// Error is S3's error answer.
type Error = s3err.Error

// The wording below is S3's. Where a message was taken from:
//   - LocalStack, localstack-core/localstack/services/s3/presigned_url.py, whose S3 tests are
//     validated against AWS (missing parameters, the mal-formed credential, the expiry elements);
//   - versity/versitygw, s3err/presigned-urls.go, whose integration tests run against AWS (the
//     other X-Amz-Credential, X-Amz-Date and X-Amz-Expires messages);
//   - bodies of real S3 answers quoted in public code (SignatureDoesNotMatch's elements,
//     InvalidAccessKeyId, and "Request has expired" with X-Amz-Expires, Expires and ServerTime).

func queryParametersError(format string, args ...any) *Error {
	return &Error{
		Status:  http.StatusBadRequest,
		Code:    "AuthorizationQueryParametersError",
		Message: fmt.Sprintf(format, args...),
	}
}

func errMissingParameters() *Error {
	return queryParametersError("Query-string authentication version 4 requires the X-Amz-Algorithm, " +
		"X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.")
}

func errUnsupportedAlgorithm() *Error {
	return queryParametersError(`X-Amz-Algorithm only supports "AWS4-HMAC-SHA256 and AWS4-ECDSA-P256-SHA256"`)
}

func errMalformedCredential() *Error {
	return queryParametersError("Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; " +
		`expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`)
}

func errCredentialDateFormat(date string) *Error {
	return queryParametersError("Error parsing the X-Amz-Credential parameter; incorrect date format %q. "+
		`This date in the credential must be in the format "yyyyMMdd".`, date)
}

func errCredentialRegion(got, want string) *Error {
	return queryParametersError("Error parsing the X-Amz-Credential parameter; the region %q is wrong; expecting %q", got, want)
}

func errCredentialService(got string) *Error {
	return queryParametersError(`Error parsing the X-Amz-Credential parameter; incorrect service %q. This endpoint belongs to "s3".`, got)
}

func errCredentialTerminal(got string) *Error {
	return queryParametersError(`Error parsing the X-Amz-Credential parameter; incorrect terminal %q. This endpoint uses "aws4_request".`, got)
}

func errDateFormat() *Error {
	return queryParametersError(`X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`)
}

func errDateMismatch(credentialDate, amzDate string) *Error {
	return queryParametersError("Invalid credential date %q. This date is not the same as X-Amz-Date: %q.", credentialDate, amzDate)
}

func errExpiresNumber() *Error { return queryParametersError("X-Amz-Expires should be a number") }

func errExpiresNegative() *Error { return queryParametersError("X-Amz-Expires must be non-negative") }

func errExpiresTooLarge() *Error {
	return queryParametersError("X-Amz-Expires must be less than a week (in seconds); " +
		"that is, the given X-Amz-Expires must be less than 604800 seconds")
}

func errInvalidAccessKeyID(accessKeyID string) *Error {
	return &Error{
		Status:  http.StatusForbidden,
		Code:    "InvalidAccessKeyId",
		Message: "The AWS Access Key Id you provided does not exist in our records.",
		Extra:   [][2]string{{"AWSAccessKeyId", accessKeyID}},
	}
}

// errHeadersNotSigned answers a request that carries a header its URL did not sign, so that
// whoever holds the URL cannot add, say, an x-amz-acl the signer never agreed to.
func errHeadersNotSigned(names string) *Error {
	return &Error{
		Status:  http.StatusForbidden,
		Code:    "AccessDenied",
		Message: "There were headers present in the request which were not signed",
		Extra:   [][2]string{{"HeadersNotSigned", names}},
	}
}

// errSignatureDoesNotMatch carries what S3 echoes back so a client can diff its own signing:
// the string to sign and the canonical request, each also as space-separated hex bytes.
func errSignatureDoesNotMatch(accessKeyID, stringToSign, provided, canonicalRequest string) *Error {
	return &Error{
		Status:  http.StatusForbidden,
		Code:    "SignatureDoesNotMatch",
		Message: "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
		Extra: [][2]string{
			{"AWSAccessKeyId", accessKeyID},
			{"StringToSign", stringToSign},
			{"SignatureProvided", provided},
			{"StringToSignBytes", spacedHex(stringToSign)},
			{"CanonicalRequest", canonicalRequest},
			{"CanonicalRequestBytes", spacedHex(canonicalRequest)},
		},
	}
}

// errExpired is S3's answer to a URL used after X-Amz-Date + X-Amz-Expires. Times are UTC, to the
// second, as S3 writes them ("2020-04-25T03:48:04Z").
func errExpired(expires string, expiredAt, now time.Time) *Error {
	const serverTime = "2006-01-02T15:04:05Z"
	return &Error{
		Status:  http.StatusForbidden,
		Code:    "AccessDenied",
		Message: "Request has expired",
		Extra: [][2]string{
			{"X-Amz-Expires", expires},
			{"Expires", expiredAt.UTC().Format(serverTime)},
			{"ServerTime", now.UTC().Format(serverTime)},
		},
	}
}

func spacedHex(s string) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 0, 3*len(s))
	for i := 0; i < len(s); i++ {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, digits[s[i]>>4], digits[s[i]&0x0f])
	}
	return string(b)
}
