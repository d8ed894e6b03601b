package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
)

// unsignedPayload is the payload hash of every presigned request: the body is not known when the
// URL is signed.
// docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html ("UNSIGNED-PAYLOAD")
const unsignedPayload = "UNSIGNED-PAYLOAD"

// canonicalRequest is the text both sides hash:
//
//	HTTPMethod \n CanonicalURI \n CanonicalQueryString \n CanonicalHeaders \n SignedHeaders \n HashedPayload
//
// docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
// docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#create-canonical-request
func canonicalRequest(r *http.Request, query url.Values, signedHeaders string) string {
	return joinCanonical(r.Method, canonicalURI(r.URL), canonicalQuery(query), canonicalHeaders(r, signedHeaders), signedHeaders)
}

// joinCanonical lays the parts of a canonical request out, one per line, the payload hash last.
// The verifier and the presigner both use it, so they cannot disagree on the layout.
func joinCanonical(method, uri, query, headers, signedHeaders string) string {
	return method + "\n" + uri + "\n" + query + "\n" + headers + "\n" + signedHeaders + "\n" + unsignedPayload
}

// canonicalURI is the path URI-encoded once, slashes kept: S3 does not double-encode.
// docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#create-canonical-request
// ("Each path segment must be URI-encoded twice, except for Amazon S3 which only gets URI-encoded once")
func canonicalURI(u *url.URL) string {
	if u.Path == "" {
		return "/"
	}
	return uriEncode(u.Path, false)
}

// canonicalQuery sorts the parameters by encoded name, then by encoded value, and joins them
// as name=value with &. X-Amz-Signature is left out: it cannot sign itself.
// docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
func canonicalQuery(query url.Values) string {
	pairs := make([][2]string, 0, len(query))
	for name, values := range query {
		if name == "X-Amz-Signature" {
			continue
		}
		for _, v := range values {
			pairs = append(pairs, [2]string{uriEncode(name, true), uriEncode(v, true)})
		}
	}
	slices.SortFunc(pairs, func(a, b [2]string) int {
		if c := strings.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return strings.Compare(a[1], b[1])
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p[0])
		b.WriteByte('=')
		b.WriteString(p[1])
	}
	return b.String()
}

// canonicalHeaders lists each signed header as name:value\n, in the order SignedHeaders gives.
// A header's values are joined with commas, each trimmed and with runs of spaces collapsed.
// docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#create-canonical-request
func canonicalHeaders(r *http.Request, signedHeaders string) string {
	var b strings.Builder
	for _, name := range strings.Split(signedHeaders, ";") {
		b.WriteString(name + ":" + headerValue(r, name) + "\n")
	}
	return b.String()
}

func headerValue(r *http.Request, name string) string {
	// net/http moves Host out of r.Header on the server side.
	if name == "host" {
		return trimAll(r.Host)
	}
	var values []string // a copy: r.Header.Values shares the request's slice
	for _, v := range r.Header.Values(name) {
		values = append(values, trimAll(v))
	}
	return strings.Join(values, ",")
}

func trimAll(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// uriEncode is AWS's UriEncode: every byte but the unreserved A-Z a-z 0-9 - . _ ~ becomes %XX in
// upper-case hex; the slash is kept in paths and encoded in query names and values.
// docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html ("UriEncode")
func uriEncode(s string, encodeSlash bool) string {
	const hexUpper = "0123456789ABCDEF"
	escapes := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i], encodeSlash) {
			escapes++
		}
	}
	if escapes == 0 {
		return s // most names and values: no copy
	}
	b := make([]byte, 0, len(s)+2*escapes)
	for i := 0; i < len(s); i++ {
		if c := s[i]; unreserved(c, encodeSlash) {
			b = append(b, c)
		} else {
			b = append(b, '%', hexUpper[c>>4], hexUpper[c&0x0f])
		}
	}
	return string(b)
}

func unreserved(c byte, encodeSlash bool) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~' || c == '/' && !encodeSlash
}

// stringToSign is the algorithm, the request time, the credential scope and the hash of the
// canonical request, one per line.
// docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#create-string-to-sign
func stringToSign(amzDate, scope, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return algorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
}

// signature derives the signing key from the secret through the scope's date, region and service,
// then signs the string to sign with it.
// docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#derive-signing-key
func signature(secret string, c credential, toSign string) string {
	return hex.EncodeToString(hmacSHA256(signingKey(secret, c), toSign))
}

// signingKey derives the key that signs for c's day, region and service:
// four HMACs, the same for every URL signed or checked that day, so the
// last one is kept (one entry: a request naming another day costs four
// HMACs and nothing more).
func signingKey(secret string, c credential) []byte {
	if k := lastKey.Load(); k != nil && k.secret == secret && k.scope == c {
		return k.key
	}
	key := hmacSHA256([]byte("AWS4"+secret), c.date)
	key = hmacSHA256(key, c.region)
	key = hmacSHA256(key, c.service)
	key = hmacSHA256(key, c.terminal)
	lastKey.Store(&derivedKey{secret: secret, scope: c, key: key})
	return key
}

type derivedKey struct {
	secret string
	scope  credential
	key    []byte
}

var lastKey atomic.Pointer[derivedKey]

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}
