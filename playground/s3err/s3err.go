// Package s3err is Amazon S3's error answer, shared by the parts of
// corslab's fake S3: the CORS layer (s3cors), presigned URL checks (sigv4)
// and the s3 origin itself.
// docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#RESTErrorResponses
package s3err

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
)

// Error is one of S3's error answers: an HTTP status, a code, a message and
// the extra elements S3 puts between Message and RequestId for that code
// (Method and ResourceType for a refused preflight, Expires and ServerTime
// for an expired URL), in the order S3 writes them.
type Error struct {
	Status        int
	Code, Message string
	Extra         [][2]string // element name, text
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// XMLBody renders S3's error document: the XML declaration on its own line,
// then Code, Message, the extra elements, RequestId and HostId.
func (e *Error) XMLBody(requestID string) []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString("<Error>")
	Element(&b, "Code", e.Code)
	Element(&b, "Message", e.Message)
	for _, kv := range e.Extra {
		Element(&b, kv[0], kv[1])
	}
	Element(&b, "RequestId", requestID)
	Element(&b, "HostId", HostID(requestID))
	b.WriteString("</Error>")
	return b.Bytes()
}

// HostID is the x-amz-id-2 of an answer: S3's names the host that served
// it, in base64. corslab has one host, so it derives the value from the
// request id, and the two always go together.
func HostID(requestID string) string {
	sum := sha256.Sum256([]byte("corslab host " + requestID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// NewRequestID names one answer, as S3's x-amz-request-id does.
func NewRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// Identify gives an answer S3's two ids, which S3 puts on every answer and
// repeats at the end of an error document: x-amz-request-id, and
// x-amz-id-2, its HostID.
func Identify(h http.Header, requestID string) {
	h.Set("x-amz-request-id", requestID)
	h.Set("x-amz-id-2", HostID(requestID))
}

// Write answers with the error document.
func (e *Error) Write(w http.ResponseWriter, requestID string) {
	body := e.XMLBody(requestID)
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Status)
	w.Write(body)
}

// Answer answers r with the error: the document, or for a HEAD, whose
// answer has no body, the status and Content-Type alone, as S3 answers a
// HEAD ("A message body is not included", API_HeadBucket).
func (e *Error) Answer(w http.ResponseWriter, r *http.Request, requestID string) {
	if r.Method == http.MethodHead {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(e.Status)
		return
	}
	e.Write(w, requestID)
}

// Element writes <name>text</name>, the text escaped as S3 escapes it.
func Element(b *bytes.Buffer, name, text string) {
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
