// Package sigv4 checks AWS Signature Version 4 query-string authentication (presigned URLs) on
// requests to corslab's fake S3, and words its refusals as S3 does.
//
// docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
package sigv4

import (
	"crypto/hmac"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Credentials are the one key pair and region the fake S3 accepts.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	Region          string
}

// Corslab returns corslab's fixed, documented credentials. They guard nothing: they exist so that
// a presigned URL can be made, tampered with and refused, exactly as with real S3.
func Corslab() Credentials {
	return Credentials{AccessKeyID: "corslab", SecretAccessKey: "corslab-secret", Region: "us-east-1"}
}

const (
	algorithm = "AWS4-HMAC-SHA256"
	// amzDateLayout is ISO 8601 basic format, as X-Amz-Date carries it.
	amzDateLayout = "20060102T150405Z"
	// maxExpires is seven days: the longest a presigned URL may live.
	// docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html (X-Amz-Expires)
	maxExpires = 7 * 24 * 60 * 60
)

// IsPresigned reports whether r carries SigV4 query authentication.
func IsPresigned(r *http.Request) bool {
	q := r.URL.Query()
	return q.Has("X-Amz-Algorithm") || q.Has("X-Amz-Signature")
}

// Verify checks r's query signature against creds at time now, in the order S3 does: the
// parameters and their formats, the access key, the signed headers, the signature, then expiry.
// It returns nil when r may proceed.
func Verify(r *http.Request, creds Credentials, now time.Time) *Error {
	// Errors are dropped as r.URL.Query does: a stray bad escape still leaves a query to check,
	// and it can only fail to match the signature.
	query, _ := url.ParseQuery(r.URL.RawQuery)
	p, err := parseParams(query, creds.Region)
	if err != nil {
		return err
	}
	if p.credential.accessKeyID != creds.AccessKeyID {
		return errInvalidAccessKeyID(p.credential.accessKeyID)
	}
	if err := checkSignedHeaders(r, p.signedHeaders); err != nil {
		return err
	}
	if err := checkSignature(r, query, p, creds.SecretAccessKey); err != nil {
		return err
	}
	return checkExpiry(p, now)
}

// params are the six query parameters, parsed.
type params struct {
	credential    credential
	amzDate       string
	date          time.Time
	expiresText   string
	expires       time.Duration
	signedHeaders string
	signature     string
}

// parseParams validates the six parameters one after another, as S3 does, and stops at the first
// problem.
// docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html#query-string-auth-v4-signing
func parseParams(query url.Values, region string) (params, *Error) {
	required := []string{
		"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date",
		"X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature",
	}
	for _, name := range required {
		if query.Get(name) == "" {
			return params{}, errMissingParameters()
		}
	}
	if query.Get("X-Amz-Algorithm") != algorithm {
		return params{}, errUnsupportedAlgorithm()
	}
	c, err := parseCredential(query.Get("X-Amz-Credential"), region)
	if err != nil {
		return params{}, err
	}
	p := params{
		credential:    c,
		amzDate:       query.Get("X-Amz-Date"),
		expiresText:   query.Get("X-Amz-Expires"),
		signedHeaders: query.Get("X-Amz-SignedHeaders"),
		signature:     query.Get("X-Amz-Signature"),
	}
	if p.date, err = parseAmzDate(p.amzDate, c.date); err != nil {
		return params{}, err
	}
	if p.expires, err = parseExpires(p.expiresText); err != nil {
		return params{}, err
	}
	return p, nil
}

// credential is X-Amz-Credential: <access key id>/<yyyyMMdd>/<region>/s3/aws4_request.
// The four parts after the key are the credential scope.
// docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html (X-Amz-Credential)
type credential struct {
	accessKeyID, date, region, service, terminal string
}

func (c credential) scope() string {
	return c.date + "/" + c.region + "/" + c.service + "/" + c.terminal
}

func parseCredential(s, region string) (credential, *Error) {
	parts := strings.Split(s, "/")
	if len(parts) != 5 || parts[0] == "" {
		return credential{}, errMalformedCredential()
	}
	c := credential{parts[0], parts[1], parts[2], parts[3], parts[4]}
	if _, err := time.Parse("20060102", c.date); err != nil {
		return credential{}, errCredentialDateFormat(c.date)
	}
	if c.region != region {
		return credential{}, errCredentialRegion(c.region, region)
	}
	if c.service != "s3" {
		return credential{}, errCredentialService(c.service)
	}
	if c.terminal != "aws4_request" {
		return credential{}, errCredentialTerminal(c.terminal)
	}
	return c, nil
}

// parseAmzDate reads X-Amz-Date, whose day must be the credential scope's day.
// docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html (X-Amz-Date)
func parseAmzDate(amzDate, credentialDate string) (time.Time, *Error) {
	// The length check keeps out what time.Parse tolerates, such as a one-digit hour.
	t, err := time.Parse(amzDateLayout, amzDate)
	if err != nil || len(amzDate) != len(amzDateLayout) {
		return time.Time{}, errDateFormat()
	}
	if amzDate[:8] != credentialDate {
		return time.Time{}, errDateMismatch(credentialDate, amzDate[:8])
	}
	return t, nil
}

// parseExpires reads X-Amz-Expires: whole seconds, from 0 to seven days. S3 calls a negative value
// "non-negative" and so accepts 0, a URL good only within the second it was signed.
// docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html (X-Amz-Expires)
func parseExpires(s string) (time.Duration, *Error) {
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case err != nil:
		return 0, errExpiresNumber()
	case n < 0:
		return 0, errExpiresNegative()
	case n > maxExpires:
		return 0, errExpiresTooLarge()
	}
	return time.Duration(n) * time.Second, nil
}

// checkSignedHeaders requires host to be signed, and every x-amz-* header the request carries:
// a header added after signing was never agreed to by the signer.
// docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html (X-Amz-SignedHeaders: "The
// HTTP host header" and "Any x-amz-* headers that you plan to add to the request" are required)
func checkSignedHeaders(r *http.Request, signedHeaders string) *Error {
	signed := strings.Split(signedHeaders, ";")
	var unsigned []string
	if !slices.Contains(signed, "host") {
		unsigned = append(unsigned, "host")
	}
	for name := range r.Header {
		lower := strings.ToLower(name)
		if strings.HasPrefix(lower, "x-amz-") && !slices.Contains(signed, lower) {
			unsigned = append(unsigned, lower)
		}
	}
	if len(unsigned) == 0 {
		return nil
	}
	slices.Sort(unsigned)
	return errHeadersNotSigned(strings.Join(unsigned, ", "))
}

// checkSignature recomputes the signature from r and compares it in constant time.
// docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
func checkSignature(r *http.Request, query url.Values, p params, secret string) *Error {
	canonical := canonicalRequest(r, query, p.signedHeaders)
	toSign := stringToSign(p.amzDate, p.credential.scope(), canonical)
	want := signature(secret, p.credential, toSign)
	if !hmac.Equal([]byte(want), []byte(p.signature)) {
		return errSignatureDoesNotMatch(p.credential.accessKeyID, toSign, p.signature, canonical)
	}
	return nil
}

// checkExpiry refuses a URL used after X-Amz-Date + X-Amz-Expires.
// docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html (X-Amz-Expires)
func checkExpiry(p params, now time.Time) *Error {
	expiresAt := p.date.Add(p.expires)
	if now.After(expiresAt) {
		return errExpired(p.expiresText, expiresAt, now)
	}
	return nil
}
