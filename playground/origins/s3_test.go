package origins

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"image/png"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/corslab/corslab/playground/s3cors"
	"github.com/corslab/corslab/playground/s3err"
	"github.com/corslab/corslab/playground/scenario"
	"github.com/corslab/corslab/playground/session"
	"github.com/corslab/corslab/playground/sigv4"
)

// The virtual origins as a browser sees them.
const (
	appOrigin  = "http://127.0.0.1:8081"
	apiOrigin  = "http://127.0.0.1:8082"
	s3Endpoint = "http://127.0.0.1:8083"
	evilOrigin = "http://127.0.0.1:8084"
)

// The CORS headers S3 answers with.
const (
	acao = "Access-Control-Allow-Origin"
	acac = "Access-Control-Allow-Credentials"
	acam = "Access-Control-Allow-Methods"
	acah = "Access-Control-Allow-Headers"
	aceh = "Access-Control-Expose-Headers"
	acma = "Access-Control-Max-Age"

	// vary is S3's Vary on every CORS answer, written out rather than taken
	// from s3cors, so that a change there shows here.
	vary = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
)

// notAllowedMessage is S3's refusal of a preflight no rule allows, misspelling and all.
const notAllowedMessage = "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, " +
	"request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec."

// s3Lab is an s3 origin with one session and its bucket, and a clock the
// test can stop.
type s3Lab struct {
	s3   *S3
	sess *session.Session
	at   atomic.Pointer[time.Time] // nil: the real time
}

func newS3Lab(t *testing.T) *s3Lab {
	t.Helper()
	st := session.NewStore(session.Options{Max: 1, Idle: time.Hour})
	sess, err := st.Create(scenario.Default())
	if err != nil {
		t.Fatal(err)
	}
	l := &s3Lab{sess: sess}
	l.s3 = NewS3(s3mem.New(), sigv4.Corslab(), l.now)
	if err := l.s3.CreateBucket(sess.ID); err != nil {
		t.Fatal(err)
	}
	return l
}

func (l *s3Lab) now() time.Time {
	if at := l.at.Load(); at != nil {
		return *at
	}
	return time.Now()
}

func (l *s3Lab) setNow(t time.Time) { l.at.Store(&t) }

// url is the address of path in the session's bucket on the s3 origin.
func (l *s3Lab) url(path string) string { return s3Endpoint + "/" + l.sess.ID + path }

// request makes a request to path in the session's bucket.
func (l *s3Lab) request(method, path, body string) *http.Request {
	return serverRequest(method, l.url(path), body)
}

// serverRequest is a request as a server receives it: unlike
// httptest.NewRequest, it has the Content-Length header a client sends with
// a body, which gofakes3 reads.
func serverRequest(method, target, body string) *http.Request {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" || method == http.MethodPut || method == http.MethodPost {
		r.Header.Set("Content-Length", fmt.Sprint(len(body)))
	}
	return r
}

// do serves r as the playground does, with the session in its context.
func (l *s3Lab) do(r *http.Request) answer {
	w := httptest.NewRecorder()
	withSession(l.sess, l.s3).ServeHTTP(w, r)
	return answerOf(w.Result())
}

// putCORS gives the bucket rules with PutBucketCors, or removes its
// configuration when rules is nil, through the handler.
func (l *s3Lab) putCORS(t *testing.T, rules []s3cors.Rule) {
	t.Helper()
	r, want := l.request(http.MethodDelete, "?cors", ""), http.StatusNoContent
	if rules != nil {
		r, want = l.request(http.MethodPut, "?cors", string(s3cors.XML(rules))), http.StatusOK
	}
	if a := l.do(r); a.status != want {
		t.Fatalf("%s ?cors: %d %s, want %d", r.Method, a.status, a.body, want)
	}
}

// withSession is the playground's part in front of an origin: it hands the
// session down in the request's context.
func withSession(s *session.Session, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(session.NewContext(r.Context(), s)))
	})
}

// answer is a response, read.
type answer struct {
	status int
	header http.Header
	body   string
}

func answerOf(resp *http.Response) answer {
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(body)}
}

// corsOf returns every Access-Control-* header of h, and Vary, each with its
// values joined by " | " so that a header sent twice shows.
func corsOf(h http.Header) map[string]string {
	got := map[string]string{}
	for name, values := range h {
		if strings.HasPrefix(name, "Access-Control-") || name == "Vary" {
			got[name] = strings.Join(values, " | ")
		}
	}
	return got
}

// checkError checks that a is exactly the error document of want, as the
// s3 origin writes it under the request id it sent.
func checkError(t *testing.T, desc string, a answer, want *s3err.Error) {
	t.Helper()
	doc := string(want.XMLBody(a.header.Get("X-Amz-Request-Id")))
	if a.status != want.Status || a.body != doc {
		t.Errorf("%s: answered %d\n%s\nwant %d\n%s", desc, a.status, a.body, want.Status, doc)
	}
	if got := a.header.Get("Content-Type"); got != "application/xml" {
		t.Errorf("%s: Content-Type %q, want application/xml", desc, got)
	}
}

// s3Fault is the part of an S3 error document every code has, and what a
// signature mismatch adds.
type s3Fault struct {
	Code, Message     string
	AWSAccessKeyID    string `xml:"AWSAccessKeyId"`
	SignatureProvided string
}

func faultOf(body string) s3Fault {
	var f s3Fault
	xml.Unmarshal([]byte(body), &f)
	return f
}

// TestS3CORS pins every row of "What it answers" in s3-cors.md, end to end
// through the handler and gofakes3.
func TestS3CORS(t *testing.T) {
	anyOrigin := []s3cors.Rule{{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET", "HEAD"}}}
	named := []s3cors.Rule{{
		ID:             "app",
		AllowedOrigins: []string{appOrigin, "null", "http://*.example.com"},
		AllowedMethods: []string{"GET", "PUT", "DELETE", "HEAD"},
		AllowedHeaders: []string{"x-amz-*", "Content-Type"},
		ExposeHeaders:  []string{"ETag", "x-amz-request-id"},
		MaxAgeSeconds:  new(600),
	}}
	putOnly := []s3cors.Rule{{AllowedOrigins: []string{appOrigin}, AllowedMethods: []string{"PUT"}}}
	firstWins := []s3cors.Rule{
		{AllowedOrigins: []string{appOrigin}, AllowedMethods: []string{"GET"}},
		{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET", "PUT"}, MaxAgeSeconds: new(60)},
	}

	anyOriginCORS := map[string]string{acao: "*", acam: "GET, HEAD", "Vary": vary}
	namedCORS := func(origin string, more ...string) map[string]string {
		h := map[string]string{acao: origin, acac: "true", acam: "GET, PUT, DELETE, HEAD",
			aceh: "ETag, x-amz-request-id", acma: "600", "Vary": vary}
		for i := 0; i < len(more); i += 2 {
			h[more[i]] = more[i+1]
		}
		return h
	}
	none := map[string]string{}
	refused := func(method, resource string) *s3err.Error {
		return &s3err.Error{Status: 403, Code: "AccessForbidden", Message: notAllowedMessage,
			Extra: [][2]string{{"Method", method}, {"ResourceType", resource}}}
	}
	preflight := func(origin, method string, headers ...string) http.Header {
		h := http.Header{"Origin": {origin}, "Access-Control-Request-Method": {method}}
		if len(headers) > 0 {
			h["Access-Control-Request-Headers"] = headers
		}
		return h
	}
	from := func(origin string) http.Header { return http.Header{"Origin": {origin}} }

	tests := []struct {
		desc   string
		rules  []s3cors.Rule // the bucket's CORS configuration; nil: none
		method string
		path   string // {id} stands for the session's bucket
		header http.Header
		body   string // the request's
		status int
		cors   map[string]string // every Access-Control-* header and Vary, exactly
		err    *s3err.Error      // the s3 origin's own error document, exactly
		code   string            // or the code of gofakes3's
		want   string            // the body, when it matters
	}{
		// Preflights are answered by the layer, never by gofakes3.
		{desc: "a preflight without Origin is refused with BadRequest",
			rules: named, method: "OPTIONS", path: "/{id}/hello.txt",
			header: http.Header{"Access-Control-Request-Method": {"GET"}},
			status: 400, cors: none, err: &s3err.Error{Status: 400, Code: "BadRequest",
				Message: "Insufficient information. Origin request header needed."}},
		{desc: "a preflight to a bucket without CORS is refused, naming the requested method and the bucket",
			method: "OPTIONS", path: "/{id}/hello.txt", header: preflight(appOrigin, "PUT"),
			status: 403, cors: none, err: &s3err.Error{Status: 403, Code: "AccessForbidden",
				Message: "CORSResponse: CORS is not enabled for this bucket.",
				Extra:   [][2]string{{"Method", "PUT"}, {"ResourceType", "BUCKET"}}}},
		{desc: "an OPTIONS without Access-Control-Request-Method to a bucket without CORS names OPTIONS",
			method: "OPTIONS", path: "/{id}/hello.txt", header: from(appOrigin),
			status: 403, cors: none, err: &s3err.Error{Status: 403, Code: "AccessForbidden",
				Message: "CORSResponse: CORS is not enabled for this bucket.",
				Extra:   [][2]string{{"Method", "OPTIONS"}, {"ResourceType", "BUCKET"}}}},
		{desc: "a preflight to a bucket that does not exist is refused",
			method: "OPTIONS", path: "/nosuchbucket/hello.txt", header: preflight(appOrigin, "GET"),
			status: 403, cors: none, err: &s3err.Error{Status: 403, Code: "AccessForbidden",
				Message: "CORSResponse: Bucket not found",
				Extra:   [][2]string{{"Method", "GET"}, {"ResourceType", "BUCKET"}}}},
		{desc: "a preflight from an origin no rule lists is refused with AWS's message",
			rules: named, method: "OPTIONS", path: "/{id}/hello.txt", header: preflight(evilOrigin, "GET"),
			status: 403, cors: none, err: refused("GET", "OBJECT")},
		{desc: "a preflight for a method no rule allows is refused",
			rules: named, method: "OPTIONS", path: "/{id}/hello.txt", header: preflight(appOrigin, "POST"),
			status: 403, cors: none, err: refused("POST", "OBJECT")},
		{desc: "a refused preflight to the bucket itself names the BUCKET",
			rules: named, method: "OPTIONS", path: "/{id}", header: preflight(evilOrigin, "GET"),
			status: 403, cors: none, err: refused("GET", "BUCKET")},
		{desc: "a preflight asking for a header no rule allows is refused",
			rules: named, method: "OPTIONS", path: "/{id}/hello.txt", header: preflight(appOrigin, "GET", "authorization"),
			status: 403, cors: none, err: refused("GET", "OBJECT")},
		{desc: "a rule without AllowedHeaders refuses any requested header",
			rules: putOnly, method: "OPTIONS", path: "/{id}/new.txt", header: preflight(appOrigin, "PUT", "content-type"),
			status: 403, cors: none, err: refused("PUT", "OBJECT")},
		{desc: "a preflight matched by AllowedOrigin * gets * and no Allow-Credentials",
			rules: anyOrigin, method: "OPTIONS", path: "/{id}/hello.txt", header: preflight(evilOrigin, "GET"),
			status: 200, cors: anyOriginCORS},
		{desc: "a preflight from a listed origin gets it echoed with credentials, the whole method list, Max-Age and Expose-Headers",
			rules: named, method: "OPTIONS", path: "/{id}/hello.txt", header: preflight(appOrigin, "PUT"),
			status: 200, cors: namedCORS(appOrigin)},
		{desc: "the requested headers come back lower-cased, in the order asked",
			rules: named, method: "OPTIONS", path: "/{id}/hello.txt", header: preflight(appOrigin, "PUT", "X-Amz-Meta-From, Content-Type"),
			status: 200, cors: namedCORS(appOrigin, acah, "x-amz-meta-from, content-type")},
		{desc: "Access-Control-Request-Headers on two lines is one list",
			rules: named, method: "OPTIONS", path: "/{id}/hello.txt", header: preflight(appOrigin, "PUT", "X-Amz-Date", "Content-Type"),
			status: 200, cors: namedCORS(appOrigin, acah, "x-amz-date, content-type")},
		{desc: "the origin null is echoed, with credentials, when a rule names it",
			rules: named, method: "OPTIONS", path: "/{id}/hello.txt", header: preflight("null", "GET"),
			status: 200, cors: namedCORS("null")},
		{desc: "an origin matching a one-* pattern is echoed, with credentials",
			rules: named, method: "OPTIONS", path: "/{id}/hello.txt", header: preflight("http://photos.example.com", "GET"),
			status: 200, cors: namedCORS("http://photos.example.com")},
		{desc: "a preflight to a presigned URL is answered without checking the signature",
			rules: named, method: "OPTIONS", path: "/{id}/new.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00",
			header: preflight(appOrigin, "PUT", "content-type"),
			status: 200, cors: namedCORS(appOrigin, acah, "content-type")},
		{desc: "the first matching rule wins",
			rules: firstWins, method: "OPTIONS", path: "/{id}/hello.txt", header: preflight(appOrigin, "GET"),
			status: 200, cors: map[string]string{acao: appOrigin, acac: "true", acam: "GET", "Vary": vary}},
		{desc: "a later rule answers what the first does not allow",
			rules: firstWins, method: "OPTIONS", path: "/{id}/hello.txt", header: preflight(appOrigin, "PUT"),
			status: 200, cors: map[string]string{acao: "*", acam: "GET, PUT", acma: "60", "Vary": vary}},

		// Actual requests: gofakes3's answer, its own ACAO * replaced by
		// the matched rule's headers, or by none.
		{desc: "a GET matched by AllowedOrigin * gets * and no Allow-Credentials",
			rules: anyOrigin, method: "GET", path: "/{id}/hello.txt", header: from(evilOrigin),
			status: 200, cors: anyOriginCORS, want: HelloText},
		{desc: "a GET from a listed origin gets the rule's headers",
			rules: named, method: "GET", path: "/{id}/hello.txt", header: from(appOrigin),
			status: 200, cors: namedCORS(appOrigin), want: HelloText},
		{desc: "a GET from an origin no rule lists gets no CORS header at all, not even gofakes3's ACAO *",
			rules: named, method: "GET", path: "/{id}/hello.txt", header: from(evilOrigin),
			status: 200, cors: none, want: HelloText},
		{desc: "a GET to a bucket without CORS gets no CORS header",
			method: "GET", path: "/{id}/hello.txt", header: from(appOrigin),
			status: 200, cors: none, want: HelloText},
		{desc: "a GET without Origin gets no CORS header",
			rules: anyOrigin, method: "GET", path: "/{id}/hello.txt",
			status: 200, cors: none, want: HelloText},
		{desc: "a HEAD from an origin no rule lists gets no CORS header",
			rules: named, method: "HEAD", path: "/{id}/hello.txt", header: from(evilOrigin),
			status: 200, cors: none},
		{desc: "a HEAD from a listed origin gets the rule's headers",
			rules: named, method: "HEAD", path: "/{id}/hello.txt", header: from(appOrigin),
			status: 200, cors: namedCORS(appOrigin)},
		{desc: "a DELETE's empty 204 to an origin no rule lists has no CORS header",
			rules: named, method: "DELETE", path: "/{id}/hello.txt", header: from(evilOrigin),
			status: 204, cors: none},
		{desc: "a DELETE's empty 204 to a listed origin has the rule's headers",
			rules: named, method: "DELETE", path: "/{id}/hello.txt", header: from(appOrigin),
			status: 204, cors: namedCORS(appOrigin)},
		{desc: "a PUT from a listed origin gets the rule's headers",
			rules: named, method: "PUT", path: "/{id}/new.txt", header: from(appOrigin), body: "new",
			status: 200, cors: namedCORS(appOrigin)},
		{desc: "a listing of the bucket gets the rule's headers",
			rules: anyOrigin, method: "GET", path: "/{id}", header: from(evilOrigin),
			status: 200, cors: anyOriginCORS},
		{desc: "gofakes3's NoSuchKey carries the rule's headers",
			rules: named, method: "GET", path: "/{id}/missing.txt", header: from(appOrigin),
			status: 404, cors: namedCORS(appOrigin), code: "NoSuchKey"},
		{desc: "gofakes3's NoSuchKey to an origin no rule lists has no CORS header",
			rules: named, method: "GET", path: "/{id}/missing.txt", header: from(evilOrigin),
			status: 404, cors: none, code: "NoSuchKey"},
		{desc: "the layer's own refusals carry the rule's headers",
			rules: named, method: "PUT", path: "/{id}", header: from(appOrigin),
			status: 403, cors: namedCORS(appOrigin), err: accessDenied("corslab: a session's bucket is created and deleted with the session")},
		{desc: "a presigned URL's refusal carries the rule's headers",
			rules: named, method: "GET", path: "/{id}/hello.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256", header: from(appOrigin),
			status: 400, cors: namedCORS(appOrigin), err: &s3err.Error{Status: 400, Code: "AuthorizationQueryParametersError",
				Message: "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, " +
					"X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."}},
		{desc: "a GET to a bucket that does not exist is NoSuchBucket, without CORS headers",
			method: "GET", path: "/nosuchbucket/hello.txt", header: from(appOrigin),
			status: 404, cors: none, err: noSuchBucket("nosuchbucket")},

		// S3 evaluates Access-Control-Request-* on any request that carries them.
		{desc: "a GET carrying Access-Control-Request-Method is matched with it",
			rules: putOnly, method: "GET", path: "/{id}/hello.txt", header: preflight(appOrigin, "PUT"),
			status: 200, cors: map[string]string{acao: appOrigin, acac: "true", acam: "PUT", "Vary": vary}, want: HelloText},
		{desc: "the same GET without it matches no rule",
			rules: putOnly, method: "GET", path: "/{id}/hello.txt", header: from(appOrigin),
			status: 200, cors: none, want: HelloText},
		{desc: "a GET carrying Access-Control-Request-Method of a method no rule allows gets no CORS header, though GET is allowed",
			rules: anyOrigin, method: "GET", path: "/{id}/hello.txt", header: preflight(appOrigin, "DELETE"),
			status: 200, cors: none, want: HelloText},
		{desc: "a GET carrying Access-Control-Request-Headers no rule allows gets no CORS header",
			rules: named, method: "GET", path: "/{id}/hello.txt",
			header: http.Header{"Origin": {appOrigin}, "Access-Control-Request-Headers": {"authorization"}},
			status: 200, cors: none, want: HelloText},
		{desc: "a GET carrying allowed Access-Control-Request-Headers gets Allow-Headers too",
			rules: named, method: "GET", path: "/{id}/hello.txt",
			header: http.Header{"Origin": {appOrigin}, "Access-Control-Request-Headers": {"X-Amz-Date"}},
			status: 200, cors: namedCORS(appOrigin, acah, "x-amz-date"), want: HelloText},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			l := newS3Lab(t)
			if tt.rules != nil {
				l.putCORS(t, tt.rules)
			}
			r := serverRequest(tt.method, s3Endpoint+strings.ReplaceAll(tt.path, "{id}", l.sess.ID), tt.body)
			maps.Copy(r.Header, tt.header)

			a := l.do(r)

			if a.status != tt.status {
				t.Errorf("status %d, want %d (%s)", a.status, tt.status, a.body)
			}
			if got := corsOf(a.header); !maps.Equal(got, tt.cors) {
				t.Errorf("CORS headers\n%q\nwant\n%q", got, tt.cors)
			}
			switch {
			case tt.err != nil:
				checkError(t, "answer", a, tt.err)
			case tt.code != "":
				if got := faultOf(a.body).Code; got != tt.code {
					t.Errorf("error code %q, want %q (%s)", got, tt.code, a.body)
				}
			case tt.method == "OPTIONS":
				if a.body != "" || a.header.Get("Content-Length") != "0" {
					t.Errorf("preflight body %q, Content-Length %q; want empty, 0", a.body, a.header.Get("Content-Length"))
				}
			case tt.want != "":
				if a.body != tt.want {
					t.Errorf("body %q, want %q", a.body, tt.want)
				}
			}
		})
	}
}

// TestS3StripsGofakes3CORS shows what the layer is for: gofakes3 alone
// allows every origin, on every answer; the s3 origin, over a real
// connection, sends none of it to an origin no rule lists.
func TestS3StripsGofakes3CORS(t *testing.T) {
	l := newS3Lab(t)
	l.putCORS(t, []s3cors.Rule{{AllowedOrigins: []string{appOrigin}, AllowedMethods: []string{"GET"}}})
	path := "/" + l.sess.ID + "/hello.txt"

	r := httptest.NewRequest("GET", s3Endpoint+path, nil)
	r.Header.Set("Origin", evilOrigin)
	w := httptest.NewRecorder()
	gofakes3.New(l.s3.backend, gofakes3.WithAutoBucket(false)).Server().ServeHTTP(w, r)
	if got := w.Result().Header.Get(acao); got != "*" {
		t.Fatalf("gofakes3 alone: ACAO %q, want * (else this test proves nothing)", got)
	}

	srv := httptest.NewServer(withSession(l.sess, l.s3))
	defer srv.Close()
	for _, method := range []string{"GET", "HEAD", "DELETE"} {
		r, _ := http.NewRequest(method, srv.URL+path, nil)
		r.Header.Set("Origin", evilOrigin)
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		a := answerOf(resp)
		if got := corsOf(a.header); len(got) != 0 {
			t.Errorf("%s over the wire to an unlisted origin: %d with CORS headers %q, want none", method, a.status, got)
		}
	}
}

// TestS3CORSConfiguration drives GET, PUT and DELETE /{bucket}?cors through
// one bucket's life; each step sees what the steps before it left.
func TestS3CORSConfiguration(t *testing.T) {
	l := newS3Lab(t)
	// AWS's user-guide sample, without the namespace as AWS writes it.
	const sample = `<CORSConfiguration>
 <CORSRule>
   <AllowedOrigin>http://www.example1.com</AllowedOrigin>
   <AllowedMethod>PUT</AllowedMethod>
   <AllowedMethod>POST</AllowedMethod>
   <AllowedMethod>DELETE</AllowedMethod>
   <AllowedHeader>*</AllowedHeader>
 </CORSRule>
 <CORSRule>
   <ID>read</ID>
   <AllowedOrigin>*</AllowedOrigin>
   <AllowedMethod>GET</AllowedMethod>
   <ExposeHeader>x-amz-server-side-encryption</ExposeHeader>
   <MaxAgeSeconds>3000</MaxAgeSeconds>
 </CORSRule>
</CORSConfiguration>`
	sampleRules := []s3cors.Rule{
		{AllowedOrigins: []string{"http://www.example1.com"}, AllowedMethods: []string{"PUT", "POST", "DELETE"},
			AllowedHeaders: []string{"*"}},
		{ID: "read", AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"},
			ExposeHeaders: []string{"x-amz-server-side-encryption"}, MaxAgeSeconds: new(3000)},
	}
	stored := string(s3cors.XML(sampleRules))
	noConfig := &s3err.Error{Status: 404, Code: "NoSuchCORSConfiguration",
		Message: "The CORS configuration does not exist", Extra: [][2]string{{"BucketName", l.sess.ID}}}
	malformed := &s3err.Error{Status: 400, Code: "MalformedXML",
		Message: "The XML you provided was not well-formed or did not validate against our published schema"}

	steps := []struct {
		desc   string
		method string
		body   string
		status int
		err    *s3err.Error // the error document, exactly
		want   string       // the body of a GET that succeeds
	}{
		{desc: "a new bucket has no configuration",
			method: "GET", status: 404, err: noConfig},
		{desc: "PUT a valid configuration",
			method: "PUT", body: sample, status: 200},
		{desc: "GET gives back the rules as s3cors.XML renders them",
			method: "GET", status: 200, want: stored},
		{desc: "PUT XML that is not well-formed is refused",
			method: "PUT", body: "<CORSConfiguration><CORSRule>", status: 400, err: malformed},
		{desc: "a configuration without rules is refused",
			method: "PUT", body: "<CORSConfiguration/>", status: 400, err: malformed},
		{desc: "a rule with a method CORS rules cannot allow is refused",
			method: "PUT", body: `<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>` +
				`<AllowedMethod>PATCH</AllowedMethod></CORSRule></CORSConfiguration>`,
			status: 400, err: &s3err.Error{Status: 400, Code: "InvalidRequest",
				Message: "Found unsupported HTTP method in CORS config. Unsupported method is PATCH"}},
		{desc: "a body over 64 KiB is refused",
			method: "PUT", body: "<CORSConfiguration>" + strings.Repeat(" ", maxCORSBody) + "</CORSConfiguration>",
			status: 400, err: &s3err.Error{Status: 400, Code: "MaxMessageLengthExceeded", Message: "Your request was too big."}},
		{desc: "the refused PUTs left the configuration as it was",
			method: "GET", status: 200, want: stored},
		{desc: "POST is no CORS operation",
			method: "POST", status: 405, err: &s3err.Error{Status: 405, Code: "MethodNotAllowed",
				Message: "The specified method is not allowed against this resource.",
				Extra:   [][2]string{{"Method", "POST"}, {"ResourceType", "CORSCONFIGURATION"}}}},
		{desc: "DELETE removes the configuration",
			method: "DELETE", status: 204},
		{desc: "GET after DELETE finds none",
			method: "GET", status: 404, err: noConfig},
		{desc: "DELETE without a configuration is still 204",
			method: "DELETE", status: 204},
	}
	for _, st := range steps {
		a := l.do(l.request(st.method, "?cors", st.body))
		if a.status != st.status {
			t.Errorf("%s: status %d, want %d (%s)", st.desc, a.status, st.status, a.body)
		}
		switch {
		case st.err != nil:
			checkError(t, st.desc, a, st.err)
		case st.method == "GET":
			if a.body != st.want || a.header.Get("Content-Type") != "application/xml" {
				t.Errorf("%s: Content-Type %q, body\n%s\nwant application/xml,\n%s", st.desc, a.header.Get("Content-Type"), a.body, st.want)
			}
		}
	}
}

// presign signs method on key in the lab's bucket with the real
// aws-sdk-go-v2 presigner, as the api origin does, for the s3 origin at
// s3Endpoint.
func (l *s3Lab) presign(t *testing.T, creds sigv4.Credentials, method, key string, expires time.Duration) string {
	t.Helper()
	u, err := presignURL(context.Background(), NewS3Client(l.s3, creds), method, s3Endpoint, l.sess.ID, key, expires)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestS3PresignedURLs(t *testing.T) {
	corslab := sigv4.Corslab()
	wrongSecret := corslab
	wrongSecret.SecretAccessKey = "not-the-secret"
	stranger := corslab
	stranger.AccessKeyID = "stranger"
	const mismatch = "The request signature we calculated does not match the signature you provided. Check your key and signing method."
	query := func(name, value string) func(*url.URL) {
		return func(u *url.URL) {
			q := u.Query()
			if value == "" {
				q.Del(name)
			} else {
				q.Set(name, value)
			}
			u.RawQuery = q.Encode()
		}
	}

	tests := []struct {
		desc     string
		signer   sigv4.Credentials
		method   string // signed
		key      string
		unsigned bool           // send without a signature
		send     string         // the method sent, if not the signed one
		tamper   func(*url.URL) // what happens to the URL after signing
		status   int
		code     string
		message  string
		want     string // the body of a success
		stored   string // the key's content afterwards, when it matters
	}{
		{desc: "a presigned GET is served",
			signer: corslab, method: "GET", key: "hello.txt", status: 200, want: HelloText},
		{desc: "a presigned PUT stores its body",
			signer: corslab, method: "PUT", key: "new.txt", status: 200, stored: "uploaded"},
		{desc: "a key that needs escaping is signed and served as S3 does",
			signer: corslab, method: "PUT", key: "notes/a b+é.txt", status: 200, stored: "uploaded"},
		{desc: "a changed signature is refused",
			signer: corslab, method: "GET", key: "hello.txt", tamper: query("X-Amz-Signature", strings.Repeat("0", 64)),
			status: 403, code: "SignatureDoesNotMatch", message: mismatch},
		{desc: "a URL pointed at another key is refused",
			signer: corslab, method: "GET", key: "hello.txt",
			tamper: func(u *url.URL) { u.Path = strings.Replace(u.Path, "hello.txt", "data.json", 1) },
			status: 403, code: "SignatureDoesNotMatch", message: mismatch},
		{desc: "a URL signed with the wrong secret is refused",
			signer: wrongSecret, method: "GET", key: "hello.txt", status: 403, code: "SignatureDoesNotMatch", message: mismatch},
		{desc: "a presigned GET used for a DELETE is refused, and the key stays",
			signer: corslab, method: "GET", key: "hello.txt", send: "DELETE",
			status: 403, code: "SignatureDoesNotMatch", message: mismatch, stored: HelloText},
		{desc: "a URL signed with an unknown access key is refused",
			signer: stranger, method: "GET", key: "hello.txt", status: 403, code: "InvalidAccessKeyId",
			message: "The AWS Access Key Id you provided does not exist in our records."},
		{desc: "a URL without X-Amz-Credential is refused",
			signer: corslab, method: "GET", key: "hello.txt", tamper: query("X-Amz-Credential", ""),
			status: 400, code: "AuthorizationQueryParametersError",
			message: "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, " +
				"X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."},
		{desc: "an unsigned GET is served, as from a public bucket",
			method: "GET", key: "hello.txt", unsigned: true, status: 200, want: HelloText},
		{desc: "an unsigned PUT is served, as to a public bucket",
			method: "PUT", key: "new.txt", unsigned: true, status: 200, stored: "uploaded"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			l := newS3Lab(t)
			var u *url.URL
			if tt.unsigned {
				u = &url.URL{Scheme: "http", Host: strings.TrimPrefix(s3Endpoint, "http://"), Path: "/" + l.sess.ID + "/" + tt.key}
			} else {
				var err error
				if u, err = url.Parse(l.presign(t, tt.signer, tt.method, tt.key, 15*time.Minute)); err != nil {
					t.Fatal(err)
				}
			}
			if tt.tamper != nil {
				tt.tamper(u)
			}
			method := tt.method
			if tt.send != "" {
				method = tt.send
			}
			body := ""
			if method == "PUT" {
				body = "uploaded"
			}

			a := l.do(serverRequest(method, u.String(), body))

			f := faultOf(a.body)
			if a.status != tt.status || f.Code != tt.code || f.Message != tt.message {
				t.Errorf("%s %s: %d %q %q, want %d %q %q", method, u, a.status, f.Code, f.Message, tt.status, tt.code, tt.message)
			}
			if tt.code == "SignatureDoesNotMatch" && (f.AWSAccessKeyID != "corslab" || f.SignatureProvided != u.Query().Get("X-Amz-Signature")) {
				t.Errorf("SignatureDoesNotMatch names %q and %q, want corslab and the URL's signature", f.AWSAccessKeyID, f.SignatureProvided)
			}
			if tt.want != "" && a.body != tt.want {
				t.Errorf("body %q, want %q", a.body, tt.want)
			}
			if tt.stored != "" {
				key := &url.URL{Path: "/" + l.sess.ID + "/" + tt.key}
				got := l.do(httptest.NewRequest("GET", s3Endpoint+key.EscapedPath(), nil))
				if got.status != 200 || got.body != tt.stored {
					t.Errorf("afterwards %s is %d %q, want 200 %q", tt.key, got.status, got.body, tt.stored)
				}
			}
		})
	}
}

// TestS3PresignedURLExpiry moves the s3 origin's clock past X-Amz-Date +
// X-Amz-Expires.
func TestS3PresignedURLExpiry(t *testing.T) {
	const layout = "2006-01-02T15:04:05Z"
	tests := []struct {
		desc    string
		elapsed time.Duration
		expired bool
	}{
		{desc: "a URL used on its last valid second is served", elapsed: time.Minute},
		{desc: "a URL used a second later has expired", elapsed: time.Minute + time.Second, expired: true},
		{desc: "a URL used a day later has expired", elapsed: 24 * time.Hour, expired: true},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			l := newS3Lab(t)
			signed := l.presign(t, sigv4.Corslab(), "GET", "hello.txt", time.Minute)
			u, _ := url.Parse(signed)
			signedAt, err := time.Parse("20060102T150405Z", u.Query().Get("X-Amz-Date"))
			if err != nil {
				t.Fatal(err)
			}
			l.setNow(signedAt.Add(tt.elapsed))

			a := l.do(httptest.NewRequest("GET", signed, nil))

			if !tt.expired {
				if a.status != 200 || a.body != HelloText {
					t.Errorf("%d %q, want 200 %q", a.status, a.body, HelloText)
				}
				return
			}
			checkError(t, "expired", a, &s3err.Error{Status: 403, Code: "AccessDenied", Message: "Request has expired",
				Extra: [][2]string{
					{"X-Amz-Expires", "60"},
					{"Expires", signedAt.Add(time.Minute).Format(layout)},
					{"ServerTime", signedAt.Add(tt.elapsed).Format(layout)},
				}})
		})
	}
}

func TestS3ObjectSize(t *testing.T) {
	tests := []struct {
		desc   string
		size   int
		length int64 // Content-Length, if not size
		status int
		err    *s3err.Error
	}{
		{desc: "an object of MaxObjectBytes is stored", size: MaxObjectBytes, status: 200},
		{desc: "an object a byte larger is refused", size: MaxObjectBytes + 1, status: 400,
			err: &s3err.Error{Status: 400, Code: "EntityTooLarge", Message: "Your proposed upload exceeds the maximum allowed size",
				Extra: [][2]string{{"ProposedSize", "5242881"}, {"MaxSizeAllowed", "5242880"}}}},
		{desc: "a PUT without Content-Length is refused", size: 10, length: -1, status: 411,
			err: &s3err.Error{Status: 411, Code: "MissingContentLength", Message: "You must provide the Content-Length HTTP header."}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			l := newS3Lab(t)
			r := l.request("PUT", "/big.bin", strings.Repeat("x", tt.size))
			if tt.length != 0 {
				r.ContentLength = tt.length
				r.TransferEncoding = []string{"chunked"}
				r.Header.Del("Content-Length")
			}

			a := l.do(r)

			if tt.err != nil {
				checkError(t, "PUT", a, tt.err)
				if got := l.do(l.request("HEAD", "/big.bin", "")); got.status != 404 {
					t.Errorf("the refused object is there: HEAD %d", got.status)
				}
				return
			}
			if a.status != tt.status {
				t.Errorf("PUT: %d %s, want %d", a.status, a.body, tt.status)
			}
			got := l.do(l.request("HEAD", "/big.bin", ""))
			if want := fmt.Sprint(tt.size); got.status != 200 || got.header.Get("Content-Length") != want {
				t.Errorf("HEAD: %d, Content-Length %q, want 200 %s", got.status, got.header.Get("Content-Length"), want)
			}
		})
	}
}

// TestS3Quota fills a bucket, whose three sample objects count, to
// MaxObjects.
func TestS3Quota(t *testing.T) {
	l := newS3Lab(t)
	put := func(key, body string) answer { return l.do(l.request("PUT", "/"+key, body)) }
	for i := 4; i <= MaxObjects; i++ {
		if a := put(fmt.Sprintf("object-%02d.txt", i), "x"); a.status != 200 {
			t.Fatalf("object %d: %d %s", i, a.status, a.body)
		}
	}
	quota := &s3err.Error{Status: 403, Code: "QuotaExceeded",
		Message: "corslab: a session's bucket holds at most 50 objects; delete one first"}

	checkError(t, "the 51st object", put("one-too-many.txt", "x"), quota)
	if a := put("hello.txt", "replaced"); a.status != 200 {
		t.Errorf("overwriting a key of a full bucket: %d %s, want 200", a.status, a.body)
	}
	if a := l.do(l.request("GET", "/hello.txt", "")); a.body != "replaced" {
		t.Errorf("hello.txt after overwriting: %q", a.body)
	}
	if a := l.do(l.request("DELETE", "/data.json", "")); a.status != 204 {
		t.Fatalf("DELETE: %d", a.status)
	}
	if a := put("one-too-many.txt", "x"); a.status != 200 {
		t.Errorf("a new object after a DELETE: %d %s, want 200", a.status, a.body)
	}
	checkError(t, "the 51st object again", put("two-too-many.txt", "x"), quota)
}

// TestS3ByteQuota fills a bucket to MaxBucketBytes, which replacing an
// object counts once.
func TestS3ByteQuota(t *testing.T) {
	l := newS3Lab(t)
	put := func(key string, size int) answer { return l.do(l.request("PUT", "/"+key, strings.Repeat("x", size))) }
	samples := 0
	for _, key := range []string{"hello.txt", "data.json", "corslab.png"} {
		a := l.do(l.request("HEAD", "/"+key, ""))
		n, _ := strconv.Atoi(a.header.Get("Content-Length"))
		samples += n
	}
	if a := put("a.bin", MaxObjectBytes); a.status != 200 {
		t.Fatalf("first 5 MiB: %d %s", a.status, a.body)
	}
	room := MaxBucketBytes - MaxObjectBytes - samples
	quota := &s3err.Error{Status: 403, Code: "QuotaExceeded",
		Message: "corslab: a session's bucket holds at most 10 MiB in all; delete an object first"}
	checkError(t, "one byte past the room", put("b.bin", room+1), quota)
	if a := l.do(l.request("HEAD", "/b.bin", "")); a.status != 404 {
		t.Errorf("the refused object is there: HEAD %d", a.status)
	}
	if a := put("b.bin", room); a.status != 200 {
		t.Fatalf("exactly the room: %d %s", a.status, a.body)
	}
	// Replacing a.bin with an object of the same size fits: the old one goes.
	if a := put("a.bin", MaxObjectBytes); a.status != 200 {
		t.Errorf("replacing a.bin in a full bucket: %d %s", a.status, a.body)
	}
	checkError(t, "a new byte in a full bucket", put("c.bin", 1), quota)
}

// TestS3QuotaConcurrent sends more new objects at once than the bucket has
// room for: exactly the room is taken.
func TestS3QuotaConcurrent(t *testing.T) {
	l := newS3Lab(t)
	const sent = 60
	room := MaxObjects - 3 // the sample objects
	statuses := make(chan int, sent)
	var wg sync.WaitGroup
	for i := range sent {
		wg.Go(func() { statuses <- l.do(l.request("PUT", fmt.Sprintf("/object-%02d.txt", i), "x")).status })
	}
	wg.Wait()
	close(statuses)
	counts := map[int]int{}
	for s := range statuses {
		counts[s]++
	}
	if want := map[int]int{200: room, 403: sent - room}; !maps.Equal(counts, want) {
		t.Errorf("statuses %v, want %v", counts, want)
	}
}

func TestS3RefusedOperations(t *testing.T) {
	tests := []struct {
		desc       string
		method     string
		path       string
		err        *s3err.Error
		bucketKept bool
	}{
		{desc: "a multipart upload is not implemented",
			method: "POST", path: "/big.bin?uploads",
			err: notImplemented("corslab's fake S3 takes uploads in one PUT (a presigned PUT works); multipart uploads are not implemented")},
		{desc: "a part upload is not implemented",
			method: "PUT", path: "/big.bin?partNumber=1&uploadId=abc",
			err: notImplemented("corslab's fake S3 takes uploads in one PUT (a presigned PUT works); multipart uploads are not implemented")},
		{desc: "a POST policy upload is not implemented",
			method: "POST", path: "",
			err: notImplemented("corslab's fake S3 takes uploads as PUT (a presigned PUT works); POST policy uploads are not implemented")},
		{desc: "the session's bucket cannot be created by a request",
			method: "PUT", path: "", bucketKept: true,
			err: accessDenied("corslab: a session's bucket is created and deleted with the session")},
		{desc: "the session's bucket cannot be deleted by a request",
			method: "DELETE", path: "", bucketKept: true,
			err: accessDenied("corslab: a session's bucket is created and deleted with the session")},
		{desc: "PutObjectTagging is not implemented, rather than storing the tags as the object",
			method: "PUT", path: "/hello.txt?tagging", bucketKept: true,
			err: notImplemented("corslab's fake S3 does not implement ?tagging for PUT")},
		{desc: "DeleteObjectTagging is not implemented, rather than deleting the object",
			method: "DELETE", path: "/hello.txt?tagging", bucketKept: true,
			err: notImplemented("corslab's fake S3 does not implement ?tagging for DELETE")},
		{desc: "PutObjectAcl is not implemented, rather than emptying the object",
			method: "PUT", path: "/hello.txt?acl", bucketKept: true,
			err: notImplemented("corslab's fake S3 does not implement ?acl for PUT")},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			l := newS3Lab(t)
			r := l.request(tt.method, tt.path, "")
			r.Header.Set("Origin", appOrigin)
			r.Header.Set("Access-Control-Request-Method", "GET")
			a := l.do(r)
			checkError(t, tt.method+" "+tt.path, a, tt.err)
			if tt.bucketKept {
				if got := l.do(l.request("GET", "/hello.txt", "")); got.status != 200 || got.body != HelloText {
					t.Errorf("the bucket or hello.txt changed: GET hello.txt %d %q", got.status, got.body)
				}
			}
		})
	}
}

func TestS3SampleObjects(t *testing.T) {
	tests := []struct {
		key, contentType string
		check            func(body string) error
	}{
		{"hello.txt", "text/plain", func(body string) error {
			if body != HelloText {
				return fmt.Errorf("body %q, want %q", body, HelloText)
			}
			return nil
		}},
		{"data.json", "application/json", func(body string) error {
			var v map[string]any
			return json.Unmarshal([]byte(body), &v)
		}},
		{"corslab.png", "image/png", func(body string) error {
			img, err := png.Decode(strings.NewReader(body))
			if err != nil {
				return err
			}
			if b := img.Bounds(); b.Dx() != 64 || b.Dy() != 64 {
				return fmt.Errorf("%d×%d, want 64×64", b.Dx(), b.Dy())
			}
			return nil
		}},
	}
	l := newS3Lab(t)
	for _, tt := range tests {
		a := l.do(l.request("GET", "/"+tt.key, ""))
		if a.status != 200 || a.header.Get("Content-Type") != tt.contentType {
			t.Errorf("%s: %d, Content-Type %q, want 200 %q", tt.key, a.status, a.header.Get("Content-Type"), tt.contentType)
		}
		if got := a.header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store, so every run reaches the bucket", tt.key, got)
		}
		if err := tt.check(a.body); err != nil {
			t.Errorf("%s: %v", tt.key, err)
		}
	}
}

// TestS3ClientRoundTrip drives the s3 origin with aws-sdk-go-v2, in process
// through NewS3Client, and over a connection with a presigned URL.
func TestS3ClientRoundTrip(t *testing.T) {
	l := newS3Lab(t)
	ctx := session.NewContext(context.Background(), l.sess)
	client := NewS3Client(l.s3, sigv4.Corslab())
	bucket := l.sess.ID
	rules := []s3cors.Rule{
		{ID: "app", AllowedOrigins: []string{appOrigin, "http://*.example.com"}, AllowedMethods: []string{"GET", "PUT"},
			AllowedHeaders: []string{"content-type", "x-amz-*"}, ExposeHeaders: []string{"ETag"}, MaxAgeSeconds: new(600)},
		{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}},
	}

	if err := PutBucketCORS(ctx, client, bucket, rules); err != nil {
		t.Fatalf("PutBucketCors: %v", err)
	}
	out, err := client.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: &bucket})
	if err != nil {
		t.Fatalf("GetBucketCors: %v", err)
	}
	var got []s3cors.Rule
	for _, r := range out.CORSRules {
		rule := s3cors.Rule{ID: aws.ToString(r.ID), AllowedOrigins: r.AllowedOrigins, AllowedMethods: r.AllowedMethods,
			AllowedHeaders: r.AllowedHeaders, ExposeHeaders: r.ExposeHeaders}
		if r.MaxAgeSeconds != nil {
			rule.MaxAgeSeconds = new(int(*r.MaxAgeSeconds))
		}
		got = append(got, rule)
	}
	if !reflect.DeepEqual(got, rules) {
		t.Errorf("GetBucketCors parsed\n%+v\nwant\n%+v", got, rules)
	}

	// A presigned GET, fetched over a connection.
	srv := httptest.NewServer(withSession(l.sess, l.s3))
	defer srv.Close()
	signed, err := presignURL(ctx, client, "GET", srv.URL, bucket, "hello.txt", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if a := fetch(t, "GET", signed, ""); a.status != 200 || a.body != HelloText {
		t.Errorf("GET %s: %d %q, want 200 %q", signed, a.status, a.body, HelloText)
	}

	if err := PutBucketCORS(ctx, client, bucket, nil); err != nil {
		t.Fatalf("DeleteBucketCors: %v", err)
	}
	_, err = client.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: &bucket})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "NoSuchCORSConfiguration" {
		t.Errorf("GetBucketCors after DeleteBucketCors: %v, want an APIError NoSuchCORSConfiguration", err)
	}

	refusals := []struct {
		desc  string
		rules []s3cors.Rule
		want  BucketError
	}{
		{desc: "a method CORS cannot allow",
			rules: []s3cors.Rule{{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"PATCH"}}},
			want: BucketError{Code: "InvalidRequest",
				Message: "Found unsupported HTTP method in CORS config. Unsupported method is PATCH"}},
		{desc: "an origin with two wildcards",
			rules: []s3cors.Rule{{AllowedOrigins: []string{"http://*.*.example.com"}, AllowedMethods: []string{"GET"}}},
			want: BucketError{Code: "InvalidRequest",
				Message: `AllowedOrigin "http://*.*.example.com" can not have more than one wildcard.`}},
		{desc: "a rule with an empty origin list",
			rules: []s3cors.Rule{{AllowedOrigins: []string{}, AllowedMethods: []string{"GET"}}},
			want: BucketError{Code: "MalformedXML",
				Message: "The XML you provided was not well-formed or did not validate against our published schema"}},
	}
	for _, tt := range refusals {
		err := PutBucketCORS(ctx, client, bucket, tt.rules)
		var be *BucketError
		if !errors.As(err, &be) || *be != tt.want {
			t.Errorf("%s: PutBucketCORS = %v, want %+v", tt.desc, err, tt.want)
		}
	}
	if _, err := client.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: &bucket}); !errors.As(err, &apiErr) ||
		apiErr.ErrorCode() != "NoSuchCORSConfiguration" {
		t.Errorf("after the refusals, GetBucketCors: %v, want still no configuration", err)
	}
}

// TestS3ClientPutObject stores objects with the SDK in process, then
// fetches them over a connection with a presigned URL, as a browser would.
func TestS3ClientPutObject(t *testing.T) {
	l := newS3Lab(t)
	ctx := session.NewContext(context.Background(), l.sess)
	client := NewS3Client(l.s3, sigv4.Corslab())
	bucket := l.sess.ID
	srv := httptest.NewServer(withSession(l.sess, l.s3))
	defer srv.Close()

	tests := []struct{ desc, key, body string }{
		{desc: "a text object", key: "sdk.txt", body: "put with the SDK, fetched with a presigned URL\n"},
		{desc: "an empty object", key: "empty.txt", body: ""},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			// A panic in the SDK's own goroutine is this test's failure, not
			// the end of the test binary.
			defer func() {
				if v := recover(); v != nil {
					t.Fatalf("PutObject panicked: %v", v)
				}
			}()
			_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(tt.key),
				Body: strings.NewReader(tt.body), ContentType: aws.String("text/plain")})
			if err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			signed, err := presignURL(ctx, client, "GET", srv.URL, bucket, tt.key, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			a := fetch(t, "GET", signed, "")
			if a.status != 200 || a.body != tt.body || a.header.Get("Content-Type") != "text/plain" {
				t.Errorf("GET %s: %d %q %q, want 200 text/plain %q", signed, a.status, a.header.Get("Content-Type"), a.body, tt.body)
			}
		})
	}
}

// An object stored without a Content-Type is served as S3 serves it,
// binary/octet-stream (not a type Go's server sniffs from the bytes); one
// stored with a type keeps it.
func TestS3DefaultContentType(t *testing.T) {
	l := newS3Lab(t)
	for key, sent := range map[string]string{"/plain.txt": "", "/typed.txt": "text/markdown"} {
		r := l.request("PUT", key, "hello, a text anyone would sniff as text/plain")
		r.Header.Del("Content-Type")
		if sent != "" {
			r.Header.Set("Content-Type", sent)
		}
		if a := l.do(r); a.status != 200 {
			t.Fatalf("PUT %s: %d %s", key, a.status, a.body)
		}
		want := sent
		if want == "" {
			want = "binary/octet-stream"
		}
		for _, method := range []string{"GET", "HEAD"} {
			if got := l.do(l.request(method, key, "")).header.Get("Content-Type"); got != want {
				t.Errorf("%s %s: Content-Type %q, want %q", method, key, got, want)
			}
		}
	}
}

// Every S3 error document the s3 origin serves ends with RequestId and
// HostId, the values of the answer's x-amz-request-id and x-amz-id-2, as
// Amazon's do: corslab's own (from the layer, s3cors, sigv4) and
// gofakes3's alike, and the ids are corslab's, not gofakes3's.
func TestS3ErrorHostID(t *testing.T) {
	tests := []struct {
		desc, method, path string // path: {id} is the session's bucket
		status             int
	}{
		{desc: "s3cors: a preflight without Origin", method: "OPTIONS", path: "/{id}/hello.txt", status: 400},
		{desc: "sigv4: a presigned URL without its parameters", method: "GET", path: "/{id}/hello.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256", status: 400},
		{desc: "the layer: a PUT of the bucket", method: "PUT", path: "/{id}", status: 403},
		{desc: "the layer: a bucket that does not exist", method: "GET", path: "/nosuchbucket/hello.txt", status: 404},
		{desc: "gofakes3: NoSuchKey", method: "GET", path: "/{id}/missing.txt", status: 404},
		{desc: "gofakes3: a listing's InvalidArgument", method: "GET", path: "/{id}?list-type=2&max-keys=abc", status: 400},
		{desc: "gofakes3: DeleteObjects' MalformedXML", method: "POST", path: "/{id}?delete", status: 400},
	}
	l := newS3Lab(t)
	for _, tt := range tests {
		a := l.do(serverRequest(tt.method, s3Endpoint+strings.ReplaceAll(tt.path, "{id}", l.sess.ID), ""))
		id, host := a.header.Get("X-Amz-Request-Id"), a.header.Get("X-Amz-Id-2")
		if a.status != tt.status || id == "" || host != s3err.HostID(id) {
			t.Errorf("%s: %d, x-amz-request-id %q, x-amz-id-2 %q; want %d and corslab's ids (x-amz-id-2 %q)",
				tt.desc, a.status, id, host, tt.status, s3err.HostID(id))
		}
		if want := "<RequestId>" + id + "</RequestId><HostId>" + host + "</HostId></Error>"; !strings.HasSuffix(a.body, want) {
			t.Errorf("%s: the error document ends %q, want %q", tt.desc, a.body[max(0, len(a.body)-160):], want)
		}
	}
}
