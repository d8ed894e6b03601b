package origins

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/corslab/corslab/playground/s3err"
	"github.com/corslab/corslab/playground/scenario"
	"github.com/corslab/corslab/playground/session"
)

// noSuchKeyDoc is S3's answer to a GET of missing.txt, which does not exist.
const noSuchKeyDoc = `<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>` +
	`<Key>missing.txt</Key><RequestId>{id}</RequestId><HostId>{host}</HostId></Error>`

// xmlDecl starts every S3 error document, on a line of its own.
const xmlDecl = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

// checkRecorded checks that a is the answer Amazon S3 gave, byte for byte:
// the status, and the document doc, where {id} and {host} stand for the
// answer's own x-amz-request-id and x-amz-id-2, which must be a pair of
// corslab's. An empty doc is an answer without a body, as to a HEAD, which
// says no length either. No CORS header is expected: S3 puts none on these.
func checkRecorded(t *testing.T, desc string, a answer, status int, doc string) {
	t.Helper()
	id, host := a.header.Get("X-Amz-Request-Id"), a.header.Get("X-Amz-Id-2")
	if id == "" || host != s3err.HostID(id) {
		t.Errorf("%s: x-amz-request-id %q, x-amz-id-2 %q; want corslab's pair (x-amz-id-2 %q)", desc, id, host, s3err.HostID(id))
	}
	want := ""
	if doc != "" {
		want = xmlDecl + strings.NewReplacer("{id}", id, "{host}", host).Replace(doc)
	}
	if a.status != status || a.body != want {
		t.Errorf("%s: answered %d\n%s\nwant %d\n%s", desc, a.status, a.body, status, want)
	}
	if got := a.header.Get("Content-Type"); got != "application/xml" {
		t.Errorf("%s: Content-Type %q, want application/xml", desc, got)
	}
	wantLen := "" // an answer without a body says no length
	if doc != "" {
		wantLen = strconv.Itoa(len(want))
	}
	if got := a.header.Get("Content-Length"); got != wantLen {
		t.Errorf("%s: Content-Length %q, want %q", desc, got, wantLen)
	}
	if got := corsOf(a.header); len(got) != 0 {
		t.Errorf("%s: CORS headers %q, want none", desc, got)
	}
}

// TestS3NoSuchBucket pins what the s3 origin answers for a bucket that does
// not exist to what Amazon S3 answered (issue 14, item 16). An expired
// session's bucket is one: its stale links must read what S3 would say,
// not a permissions error. Another session's bucket, asked from a session,
// gets exactly the same answers, so that nothing tells it from no bucket.
func TestS3NoSuchBucket(t *testing.T) {
	// S3's answer to any request but a preflight.
	const noSuchBucketDoc = `<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message>` +
		`<BucketName>{bucket}</BucketName><RequestId>{id}</RequestId><HostId>{host}</HostId></Error>`
	recorded := []struct {
		desc   string
		method string
		path   string // under the bucket
		header http.Header
		body   string
		status int
		doc    string // {bucket} is the bucket's name; "": no body
	}{
		{desc: "a preflight without Origin is refused before the bucket is looked up",
			method: "OPTIONS", path: "/hello.txt", header: http.Header{"Access-Control-Request-Method": {"GET"}},
			status: 400, doc: `<Error><Code>BadRequest</Code><Message>Insufficient information. Origin request header needed.</Message>` +
				`<RequestId>{id}</RequestId><HostId>{host}</HostId></Error>`},
		{desc: "a preflight is refused: bucket not found, naming the requested method and the BUCKET",
			method: "OPTIONS", path: "/hello.txt", header: http.Header{"Origin": {appOrigin}, "Access-Control-Request-Method": {"PUT"}},
			status: 403, doc: `<Error><Code>AccessForbidden</Code><Message>CORSResponse: Bucket not found</Message>` +
				`<Method>PUT</Method><ResourceType>BUCKET</ResourceType><RequestId>{id}</RequestId><HostId>{host}</HostId></Error>`},
		{desc: "an OPTIONS with Origin but no Access-Control-Request-Method names OPTIONS, as for a bucket that exists",
			method: "OPTIONS", path: "/hello.txt", header: http.Header{"Origin": {appOrigin}},
			status: 403, doc: `<Error><Code>AccessForbidden</Code><Message>CORSResponse: Bucket not found</Message>` +
				`<Method>OPTIONS</Method><ResourceType>BUCKET</ResourceType><RequestId>{id}</RequestId><HostId>{host}</HostId></Error>`},
		{desc: "a GET is NoSuchBucket",
			method: "GET", path: "/hello.txt",
			status: 404, doc: noSuchBucketDoc},
		{desc: "a GET with Origin is NoSuchBucket, without CORS headers",
			method: "GET", path: "/hello.txt", header: http.Header{"Origin": {appOrigin}},
			status: 404, doc: noSuchBucketDoc},
		{desc: "a listing of the bucket is NoSuchBucket",
			method: "GET", path: "",
			status: 404, doc: noSuchBucketDoc},
		{desc: "a HEAD is 404 without a body",
			method: "HEAD", path: "/hello.txt", header: http.Header{"Origin": {appOrigin}},
			status: 404},
		{desc: "a PUT is NoSuchBucket",
			method: "PUT", path: "/new.txt", body: "new", header: http.Header{"Origin": {appOrigin}},
			status: 404, doc: noSuchBucketDoc},
		{desc: "a PutBucketCors is NoSuchBucket",
			method: "PUT", path: "?cors", body: "<CORSConfiguration/>",
			status: 404, doc: noSuchBucketDoc},
		// corslab's rule, not a recording: CreateBucket is refused as for
		// the session's own bucket, whatever the name.
		{desc: "a PUT of the bucket itself, CreateBucket, is refused: no request makes a bucket",
			method: "PUT", path: "",
			status: 403, doc: `<Error><Code>AccessDenied</Code><Message>corslab: a session's bucket is created and deleted with the session</Message>` +
				`<RequestId>{id}</RequestId><HostId>{host}</HostId></Error>`},
		{desc: "a DELETE is NoSuchBucket",
			method: "DELETE", path: "/hello.txt",
			status: 404, doc: noSuchBucketDoc},
		{desc: "a presigned GET is NoSuchBucket, the signature unchecked",
			method: "GET", path: "/hello.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00",
			status: 404, doc: noSuchBucketDoc},
	}

	// The buckets that do not exist, each with the handler that serves a
	// request for it.
	l := newS3Lab(t)
	expired := newS3Lab(t)
	if err := expired.s3.DeleteBucket(expired.sess.ID); err != nil {
		t.Fatal(err)
	}
	other, err := session.NewStore(session.Options{Max: 1, Idle: time.Hour}).Create(scenario.Default())
	if err != nil {
		t.Fatal(err)
	}
	if err := l.s3.CreateBucket(other.ID); err != nil {
		t.Fatal(err)
	}
	buckets := []struct {
		desc    string
		name    string
		handler http.Handler
	}{
		// The playground finds no session for the path and hands the
		// request over without one.
		{desc: "an expired session's bucket", name: expired.sess.ID, handler: expired.s3},
		{desc: "a bucket that never was", name: "nosuchbucket", handler: l.s3},
		// Not through the playground, which hands over a request only with
		// the session its path names; the origin holds to it on its own.
		{desc: "another session's bucket, asked from this session", name: other.ID, handler: withSession(l.sess, l.s3)},
	}

	for _, b := range buckets {
		for _, tt := range recorded {
			r := serverRequest(tt.method, s3Endpoint+"/"+b.name+tt.path, tt.body)
			for name, values := range tt.header {
				r.Header[name] = values
			}
			w := httptest.NewRecorder()
			b.handler.ServeHTTP(w, r)
			checkRecorded(t, b.desc+": "+tt.desc, answerOf(w.Result()), tt.status, strings.ReplaceAll(tt.doc, "{bucket}", b.name))
		}
	}
	if a := l.do(l.request("GET", "/hello.txt", "")); a.status != 200 || a.body != HelloText {
		t.Errorf("the session's own bucket: GET hello.txt %d %q", a.status, a.body)
	}
}

// TestS3Gofakes3Errors shows gofakes3's own errors as S3 writes them (issue
// 14, item 18): under the answer's ids, which gofakes3 would replace with
// its own, and ending with them; NoSuchKey and InvalidRange as AWS
// answered them (versity/versitygw#2069 for the range), the others with
// gofakes3's code and message.
func TestS3Gofakes3Errors(t *testing.T) {
	tests := []struct {
		desc   string
		method string
		path   string // under the session's bucket
		header http.Header
		body   string
		status int
		doc    string // the document, exactly, when it is S3's
		code   string // or gofakes3's code, when it is gofakes3's
	}{
		{desc: "a GET of a missing object is NoSuchKey, naming the Key",
			method: "GET", path: "/missing.txt",
			status: 404, doc: noSuchKeyDoc},
		{desc: "a key is named as the path spells it, decoded",
			method: "GET", path: "/dir/a%20%26%20b.txt",
			status: 404, doc: `<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>` +
				`<Key>dir/a &amp; b.txt</Key><RequestId>{id}</RequestId><HostId>{host}</HostId></Error>`},
		{desc: "a HEAD of a missing object is 404 without a body",
			method: "HEAD", path: "/missing.txt",
			status: 404},
		{desc: "a Range past the object's end is InvalidRange, with the range and the object's size",
			method: "GET", path: "/hello.txt", header: http.Header{"Range": {"bytes=1000-2000"}},
			status: 416, doc: `<Error><Code>InvalidRange</Code><Message>The requested range is not satisfiable</Message>` +
				`<RangeRequested>bytes=1000-2000</RangeRequested><ActualObjectSize>` + strconv.Itoa(len(HelloText)) +
				`</ActualObjectSize><RequestId>{id}</RequestId><HostId>{host}</HostId></Error>`},
		{desc: "a Range gofakes3 cannot parse, of a missing object, is NoSuchKey: S3 ignores such a Range",
			method: "GET", path: "/missing.txt", header: http.Header{"Range": {"bytes=z"}},
			status: 404, doc: noSuchKeyDoc},
		{desc: "a listing's bad max-keys", method: "GET", path: "?list-type=2&max-keys=abc",
			status: 400, code: "InvalidArgument"},
		{desc: "a version of an object", method: "GET", path: "/hello.txt?versionId=v1",
			status: 501, code: "NotImplemented"},
		{desc: "DeleteObjects without its XML", method: "POST", path: "?delete",
			status: 400, code: "MalformedXML"},
	}
	l := newS3Lab(t)
	for _, tt := range tests {
		r := l.request(tt.method, tt.path, tt.body)
		for name, values := range tt.header {
			r.Header[name] = values
		}
		a := l.do(r)
		if tt.code == "" {
			checkRecorded(t, tt.desc, a, tt.status, tt.doc)
			continue
		}
		f := faultOf(a.body)
		checkRecorded(t, tt.desc, a, tt.status, `<Error><Code>`+tt.code+`</Code><Message>`+f.Message+`</Message>`+
			`<RequestId>{id}</RequestId><HostId>{host}</HostId></Error>`)
	}
}

// TestS3FakeWriter drives the writer gofakes3 writes to by hand: a body
// that is no error document streams through as it is written, and only
// the ids change.
func TestS3FakeWriter(t *testing.T) {
	const id = "CORSLABID"
	// gofakes3 sets its own ids first, as it does on every answer.
	start := func(method string) (*httptest.ResponseRecorder, *fakeWriter) {
		rec := httptest.NewRecorder()
		fw := &fakeWriter{ResponseWriter: rec, r: httptest.NewRequest(method, "/b/k", nil), id: id}
		fw.Header().Set("x-amz-request-id", "GOFAKES3")
		fw.Header().Set("x-amz-id-2", "R09GQUtFUzM=")
		return rec, fw
	}
	checkIDs := func(desc string, h http.Header) {
		t.Helper()
		if h.Get("X-Amz-Request-Id") != id || h.Get("X-Amz-Id-2") != s3err.HostID(id) {
			t.Errorf("%s: ids %q %q, want corslab's", desc, h.Get("X-Amz-Request-Id"), h.Get("X-Amz-Id-2"))
		}
	}
	keep := func(e *s3err.Error) *s3err.Error { return e }

	t.Run("an object's body streams through", func(t *testing.T) {
		rec, fw := start("GET")
		fw.Write([]byte("first chunk,"))
		if got := rec.Body.String(); got != "first chunk," {
			t.Errorf("after the first write the client has %q, want the chunk", got)
		}
		fw.Write([]byte(" second"))
		fw.finish(keep)
		if rec.Body.String() != "first chunk, second" {
			t.Errorf("body %q", rec.Body.String())
		}
		checkIDs("200", rec.Header())
	})
	t.Run("an error body longer than any of gofakes3's documents is sent as written", func(t *testing.T) {
		rec, fw := start("GET")
		long := strings.Repeat("x", maxFakeError+1)
		fw.WriteHeader(500)
		fw.Write([]byte(long[:10]))
		if rec.Body.Len() != 0 {
			t.Errorf("the start of an error body went out before it was known not to be a document")
		}
		fw.Write([]byte(long[10:]))
		fw.finish(keep)
		if rec.Code != 500 || rec.Body.String() != long {
			t.Errorf("%d, %d bytes; want 500 and the %d bytes written", rec.Code, rec.Body.Len(), len(long))
		}
		checkIDs("a long error", rec.Header())
	})
	t.Run("an error body that is no XML is sent as written", func(t *testing.T) {
		rec, fw := start("GET")
		fw.WriteHeader(400)
		fw.Write([]byte("not xml"))
		fw.finish(keep)
		if rec.Code != 400 || rec.Body.String() != "not xml" {
			t.Errorf("%d %q, want 400 %q", rec.Code, rec.Body.String(), "not xml")
		}
		checkIDs("not xml", rec.Header())
	})
	t.Run("an error document is rewritten, its elements in order", func(t *testing.T) {
		rec, fw := start("GET")
		fw.WriteHeader(400)
		fw.Write([]byte(xmlDecl + "<Error>\n  <Code>InvalidArgument</Code>\n  <Message>m &amp; n</Message>\n" +
			"  <ArgumentName>a</ArgumentName>\n  <ArgumentValue>v</ArgumentValue>\n  <RequestId>GOFAKES3</RequestId>\n</Error>"))
		fw.finish(keep)
		want := xmlDecl + `<Error><Code>InvalidArgument</Code><Message>m &amp; n</Message><ArgumentName>a</ArgumentName>` +
			`<ArgumentValue>v</ArgumentValue><RequestId>` + id + `</RequestId><HostId>` + s3err.HostID(id) + `</HostId></Error>`
		if rec.Code != 400 || rec.Body.String() != want {
			t.Errorf("%d\n%s\nwant 400\n%s", rec.Code, rec.Body.String(), want)
		}
		checkIDs("a document", rec.Header())
	})
	t.Run("an answer gofakes3 wrote nothing of still has corslab's ids", func(t *testing.T) {
		rec, fw := start("DELETE")
		fw.finish(keep)
		checkIDs("nothing written", rec.Header())
	})
}

// The same over a connection, where net/http would otherwise sniff the
// type of gofakes3's document, which it sets after the status line.
func TestS3Gofakes3ErrorOverTheWire(t *testing.T) {
	l := newS3Lab(t)
	srv := httptest.NewServer(withSession(l.sess, l.s3))
	defer srv.Close()
	a := fetch(t, "GET", srv.URL+"/"+l.sess.ID+"/missing.txt", "")
	checkRecorded(t, "NoSuchKey over the wire", a, 404, noSuchKeyDoc)
	a = fetch(t, "HEAD", srv.URL+"/nosuchbucket/hello.txt", "")
	checkRecorded(t, "a HEAD to no bucket over the wire", a, 404, "")
}
