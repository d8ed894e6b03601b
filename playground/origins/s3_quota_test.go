package origins

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/johannesboyne/gofakes3"

	"github.com/corslab/corslab/playground/s3cors"
	"github.com/corslab/corslab/playground/s3err"
	"github.com/corslab/corslab/playground/session"
	"github.com/corslab/corslab/playground/sigv4"
)

// otherBucket is another learner's bucket on the same s3 origin.
const otherBucket = "otherlearnerbucket"

// objects is every object of bucket and its size, read from the backend.
func (l *s3Lab) objects(t *testing.T, bucket string) map[string]int64 {
	t.Helper()
	list, err := l.s3.backend.ListBucket(bucket, &gofakes3.Prefix{}, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, o := range list.Contents {
		got[o.Key] = o.Size
	}
	return got
}

// fill stores a.bin of MaxObjectBytes and b.bin of the room left, so that
// the bucket holds exactly MaxBucketBytes.
func (l *s3Lab) fill(t *testing.T) {
	t.Helper()
	var used int64
	for _, size := range l.objects(t, l.sess.ID) {
		used += size
	}
	room := MaxBucketBytes - MaxObjectBytes - int(used)
	for key, size := range map[string]int{"a.bin": MaxObjectBytes, "b.bin": room} {
		if a := l.do(l.request("PUT", "/"+key, strings.Repeat("x", size))); a.status != 200 {
			t.Fatalf("PUT %s: %d %s", key, a.status, a.body)
		}
	}
}

// withOtherBucket gives the origin another learner's bucket, with a secret.
func (l *s3Lab) withOtherBucket(t *testing.T) {
	t.Helper()
	if err := l.s3.CreateBucket(otherBucket); err != nil {
		t.Fatal(err)
	}
	if _, err := l.s3.backend.PutObject(otherBucket, "secret.txt", map[string]string{}, strings.NewReader("s3cret"), 6, nil); err != nil {
		t.Fatal(err)
	}
}

// sdk is an aws-sdk-go-v2 client of the lab's s3 origin and the context
// its requests need.
func (l *s3Lab) sdk() (context.Context, *s3.Client) {
	return session.NewContext(context.Background(), l.sess), NewS3Client(l.s3, sigv4.Corslab())
}

// rawExchange sends text, a request written by hand as an attacker would,
// over a connection to srv, and reads the answer.
func rawExchange(t *testing.T, srv *httptest.Server, text string) answer {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, text); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer (%v) to\n%s", err, text)
	}
	return answerOf(resp)
}

func quotaBytes() *s3err.Error {
	return &s3err.Error{Status: 403, Code: "QuotaExceeded",
		Message: "corslab: a session's bucket holds at most 10 MiB in all; delete an object first"}
}

// TestS3CopyObject copies with the SDK's CopyObject: within the bucket's
// room it works, as on S3; past it, from a missing key or from another
// bucket, it is refused with S3's error and nothing changes.
func TestS3CopyObject(t *testing.T) {
	tests := []struct {
		desc     string
		setup    func(t *testing.T, l *s3Lab)
		source   func(l *s3Lab) string // x-amz-copy-source
		key      string
		wantCode string // "": the copy is stored
	}{
		{desc: "a copy within the quota is stored",
			source: func(l *s3Lab) string { return l.sess.ID + "/hello.txt" }, key: "copy.txt"},
		{desc: "a copy onto its own key in a full bucket is stored: the object is replaced",
			setup:  func(t *testing.T, l *s3Lab) { l.fill(t) },
			source: func(l *s3Lab) string { return l.sess.ID + "/a.bin" }, key: "a.bin"},
		{desc: "a copy past the byte quota is refused",
			setup:  func(t *testing.T, l *s3Lab) { l.fill(t) },
			source: func(l *s3Lab) string { return l.sess.ID + "/a.bin" }, key: "c.bin", wantCode: "QuotaExceeded"},
		{desc: "a copy past the object quota is refused",
			setup: func(t *testing.T, l *s3Lab) {
				for i := 4; i <= MaxObjects; i++ {
					if a := l.do(l.request("PUT", fmt.Sprintf("/object-%02d.txt", i), "x")); a.status != 200 {
						t.Fatalf("object %d: %d %s", i, a.status, a.body)
					}
				}
			},
			source: func(l *s3Lab) string { return l.sess.ID + "/hello.txt" }, key: "copy.txt", wantCode: "QuotaExceeded"},
		{desc: "a copy from a missing key is refused",
			source: func(l *s3Lab) string { return l.sess.ID + "/missing.txt" }, key: "copy.txt", wantCode: "NoSuchKey"},
		{desc: "a copy from another learner's bucket is refused",
			setup:  func(t *testing.T, l *s3Lab) { l.withOtherBucket(t) },
			source: func(l *s3Lab) string { return otherBucket + "/secret.txt" }, key: "stolen.txt", wantCode: "AccessDenied"},
		{desc: "a copy from a bucket that does not exist is refused",
			source: func(l *s3Lab) string { return "nosuchbucket/hello.txt" }, key: "copy.txt", wantCode: "AccessDenied"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			l := newS3Lab(t)
			if tt.setup != nil {
				tt.setup(t, l)
			}
			ctx, client := l.sdk()
			bucket := l.sess.ID
			before, usage := l.objects(t, bucket), l.s3.Usage(bucket)

			_, err := client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &bucket, Key: &tt.key, CopySource: aws.String(tt.source(l))})

			if tt.wantCode != "" {
				var api smithy.APIError
				if !errors.As(err, &api) || api.ErrorCode() != tt.wantCode {
					t.Fatalf("CopyObject: %v, want S3's %s", err, tt.wantCode)
				}
				if after := l.objects(t, bucket); !maps.Equal(after, before) {
					t.Errorf("the bucket changed:\n%v\nwas\n%v", after, before)
				}
				if got := l.s3.Usage(bucket); got != usage {
					t.Errorf("Usage %d, was %d", got, usage)
				}
				return
			}
			if err != nil {
				t.Fatalf("CopyObject: %v", err)
			}
			_, srcKey, _ := strings.Cut(tt.source(l), "/")
			src := l.do(l.request("GET", "/"+srcKey, ""))
			got := l.do(l.request("GET", "/"+tt.key, ""))
			if got.status != 200 || got.body != src.body || got.header.Get("Content-Type") != src.header.Get("Content-Type") {
				t.Errorf("GET the copy: %d %q, %d bytes, want 200 %q, the source's %d bytes",
					got.status, got.header.Get("Content-Type"), len(got.body), src.header.Get("Content-Type"), len(src.body))
			}
			var total int64
			for _, size := range l.objects(t, bucket) {
				total += size
			}
			if total > MaxBucketBytes {
				t.Errorf("the bucket holds %d bytes, past MaxBucketBytes", total)
			}
		})
	}
}

// TestS3WritesCountWhatIsStored sends, over a connection, the hand-written
// requests issue 12 found or that read gofakes3 suggests: each is refused
// with S3's error, before anything is stored or allocated.
func TestS3WritesCountWhatIsStored(t *testing.T) {
	tests := []struct {
		desc    string
		full    bool // the bucket holds MaxBucketBytes before the request
		request func(bucket string) string
		want    *s3err.Error
		absent  string // a key that must not be stored
	}{
		{desc: "a copy declaring Content-Length: 0 counts its 5 MiB source", full: true,
			request: func(bucket string) string {
				return "PUT /" + bucket + "/c.bin HTTP/1.1\r\nHost: s3\r\nx-amz-copy-source: /" + bucket + "/a.bin\r\nContent-Length: 0\r\n\r\n"
			},
			want: quotaBytes(), absent: "c.bin"},
		{desc: "a copy source URL-encoded whole counts its source too", full: true,
			request: func(bucket string) string {
				return "PUT /" + bucket + "/c.bin HTTP/1.1\r\nHost: s3\r\nx-amz-copy-source: %2F" + bucket + "%2Fa.bin\r\nContent-Length: 0\r\n\r\n"
			},
			want: quotaBytes(), absent: "c.bin"},
		{desc: "a copy from another learner's bucket is refused",
			request: func(string) string {
				return "PUT /{bucket}/stolen.txt HTTP/1.1\r\nHost: s3\r\nx-amz-copy-source: /" + otherBucket + "/secret.txt\r\nContent-Length: 0\r\n\r\n"
			},
			want: accessDenied("Access Denied"), absent: "stolen.txt"},
		{desc: "a copy from another learner's bucket, URL-encoded whole, is refused",
			request: func(string) string {
				return "PUT /{bucket}/stolen.txt HTTP/1.1\r\nHost: s3\r\nx-amz-copy-source: %2F" + otherBucket + "%2Fsecret.txt\r\nContent-Length: 0\r\n\r\n"
			},
			want: accessDenied("Access Denied"), absent: "stolen.txt"},
		{desc: "a chunk-signed body declaring a decoded length past MaxObjectBytes is refused",
			request: func(bucket string) string {
				return "PUT /" + bucket + "/s.bin HTTP/1.1\r\nHost: s3\r\nx-amz-content-sha256: " + streamingPayload +
					"\r\nx-amz-decoded-content-length: 67108864\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"
			},
			want: entityTooLarge(64 << 20), absent: "s.bin"},
		{desc: "a chunk-signed body declaring a negative decoded length is refused",
			request: func(bucket string) string {
				return "PUT /" + bucket + "/s.bin HTTP/1.1\r\nHost: s3\r\nx-amz-content-sha256: " + streamingPayload +
					"\r\nx-amz-decoded-content-length: -1\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"
			},
			want: &s3err.Error{Status: 400, Code: "InvalidArgument",
				Message: "x-amz-decoded-content-length must be the object's size in bytes, at most the Content-Length of its chunks",
				Extra:   [][2]string{{"ArgumentName", "x-amz-decoded-content-length"}, {"ArgumentValue", "-1"}}},
			absent: "s.bin"},
		{desc: "a chunk-signed body declaring more than it carries is refused", full: true,
			request: func(bucket string) string {
				return "PUT /" + bucket + "/s.bin HTTP/1.1\r\nHost: s3\r\nx-amz-content-sha256: " + streamingPayload +
					"\r\nx-amz-decoded-content-length: 1048576\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"
			},
			want: &s3err.Error{Status: 400, Code: "InvalidArgument",
				Message: "x-amz-decoded-content-length must be the object's size in bytes, at most the Content-Length of its chunks",
				Extra:   [][2]string{{"ArgumentName", "x-amz-decoded-content-length"}, {"ArgumentValue", "1048576"}}},
			absent: "s.bin"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			l := newS3Lab(t)
			l.withOtherBucket(t)
			if tt.full {
				l.fill(t)
			}
			srv := httptest.NewServer(withSession(l.sess, l.s3))
			defer srv.Close()
			bucket := l.sess.ID
			before, usage := l.objects(t, bucket), l.s3.Usage(bucket)

			a := rawExchange(t, srv, strings.ReplaceAll(tt.request(bucket), "{bucket}", bucket))

			checkError(t, "the request", a, tt.want)
			after := l.objects(t, bucket)
			if _, ok := after[tt.absent]; ok {
				t.Errorf("%s was stored", tt.absent)
			}
			if !maps.Equal(after, before) {
				t.Errorf("the bucket changed:\n%v\nwas\n%v", after, before)
			}
			if got := l.s3.Usage(bucket); got != usage {
				t.Errorf("Usage %d, was %d", got, usage)
			}
		})
	}
}

// TestS3MetadataBounded replaces an object again and again, each time with
// new x-amz-meta-* headers, which gofakes3 adds to the object's earlier
// ones: what the object keeps stays within maxMetadataBytes.
func TestS3MetadataBounded(t *testing.T) {
	l := newS3Lab(t)
	refused := 0
	for i := range 10 {
		r := l.request("PUT", "/m.txt", "m")
		if i%2 == 1 { // every other time by copy, onto itself
			r = l.request("PUT", "/m.txt", "")
			r.Header.Set("X-Amz-Copy-Source", "/"+l.sess.ID+"/m.txt")
		}
		for j := range 5 {
			r.Header.Set(fmt.Sprintf("X-Amz-Meta-K%d-%d", i, j), strings.Repeat("v", 150))
		}
		a := l.do(r)
		switch {
		case a.status == 400 && faultOf(a.body).Code == "MetadataTooLarge":
			refused++
		case a.status != 200:
			t.Fatalf("PUT %d: %d %s", i, a.status, a.body)
		}
		o, err := l.s3.backend.HeadObject(l.sess.ID, "m.txt")
		if err != nil {
			t.Fatal(err)
		}
		if n := metadataBytes(o.Metadata); n > maxMetadataBytes {
			t.Fatalf("after PUT %d the object keeps %d bytes of metadata, past %d", i, n, maxMetadataBytes)
		}
	}
	if refused == 0 {
		t.Errorf("no PUT was refused")
	}
	if a := l.do(l.request("DELETE", "/m.txt", "")); a.status != 204 {
		t.Fatalf("DELETE: %d", a.status)
	}
	if a := l.do(l.request("PUT", "/m.txt", "m")); a.status != 200 {
		t.Errorf("PUT after DELETE: %d %s, want 200: a new object starts with no metadata", a.status, a.body)
	}
}

// TestS3VersioningStaysOff: gofakes3 would turn versioning on for PUT
// /{key}?versioning, and a versioned bucket keeps every PUT of a key
// while the quotas count the latest.
func TestS3VersioningStaysOff(t *testing.T) {
	l := newS3Lab(t)
	enable := `<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>`
	for _, path := range []string{"/any.txt?versioning", "?versioning"} {
		a := l.do(l.request("PUT", path, enable))
		checkError(t, "PUT "+path, a, notImplemented("corslab's fake S3 does not implement ?versioning for PUT"))
	}
	cfg, err := l.s3.backend.VersioningConfiguration(l.sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Status == gofakes3.VersioningEnabled {
		t.Errorf("versioning is %s", cfg.Status)
	}
}

// TestS3DeleteObjectsBody: a DeleteObjects body is read whole by gofakes3;
// past maxDeleteBody it is refused and nothing is deleted.
func TestS3DeleteObjectsBody(t *testing.T) {
	l := newS3Lab(t)
	body := "<Delete><Object><Key>hello.txt</Key></Object>" + strings.Repeat(" ", maxDeleteBody) + "</Delete>"
	a := l.do(l.request("POST", "?delete", body))
	if a.status != 400 || faultOf(a.body).Code != "MalformedXML" {
		t.Errorf("POST ?delete of %d bytes: %d %s, want 400 MalformedXML", len(body), a.status, a.body)
	}
	if a := l.do(l.request("GET", "/hello.txt", "")); a.status != 200 {
		t.Errorf("hello.txt was deleted: GET %d", a.status)
	}
}

// usageLog records what OnUsage reports.
type usageLog struct {
	mu      sync.Mutex
	reports []string // "bucket=bytes"
	last    map[string]int64
}

func (u *usageLog) record(bucket string, bytes int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.reports = append(u.reports, fmt.Sprintf("%s=%d", bucket, bytes))
	if u.last == nil {
		u.last = map[string]int64{}
	}
	u.last[bucket] = bytes
}

func (u *usageLog) lastOf(bucket string) (int64, int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.last[bucket], len(u.reports)
}

// sampleUsage is what CreateBucket's sample objects keep: bodies, keys,
// the two metadata entries CreateBucket gives them, and objectOverhead.
func sampleUsage() int64 {
	meta := int64(len("Content-Type") + len("Cache-Control") + len("no-store"))
	n := 3*(meta+objectOverhead) + int64(len(HelloText)+len(dataJSON)+len(samplePNG()))
	for _, s := range []string{"hello.txt", "text/plain", "data.json", "application/json", "corslab.png", "image/png"} {
		n += int64(len(s))
	}
	return n
}

// TestS3Usage follows a bucket's usage through every kind of write, with
// the SDK as a learner's script would, and checks OnUsage reports each
// change, and only changes.
func TestS3Usage(t *testing.T) {
	l := newS3Lab(t)
	var log usageLog
	l.s3.OnUsage(log.record)
	ctx, client := l.sdk()
	bucket := l.sess.ID

	if got, want := l.s3.Usage(bucket), sampleUsage(); got != want {
		t.Errorf("a new bucket: Usage %d, want %d", got, want)
	}
	if err := l.s3.CreateBucket(otherBucket); err != nil {
		t.Fatal(err)
	}
	if got, n := log.lastOf(otherBucket); got != sampleUsage() || n != 1 {
		t.Errorf("CreateBucket reported %d (%d reports), want %d once", got, n, sampleUsage())
	}

	// step checks that a step changed the usage by want, give or take the
	// metadata of the objects it stores or deletes, at most slack bytes,
	// and that a change was reported once.
	step := func(desc string, slack, want int64, do func() error) {
		t.Helper()
		before := l.s3.Usage(bucket)
		_, reports := log.lastOf(bucket)
		if err := do(); err != nil {
			t.Fatalf("%s: %v", desc, err)
		}
		got := l.s3.Usage(bucket)
		if delta := got - before; want >= 0 && (delta < want || delta > want+slack) || want < 0 && (delta > want || delta < want-slack) {
			t.Errorf("%s: Usage changed by %d, want %d and at most %d bytes of metadata", desc, delta, want, slack)
		}
		last, n := log.lastOf(bucket)
		switch {
		case want == 0 && n != reports:
			t.Errorf("%s: %d reports for no change", desc, n-reports)
		case want != 0 && (n != reports+1 || last != got):
			t.Errorf("%s: %d reports, the last %d; want one, %d", desc, n-reports, last, got)
		}
	}
	put := func(key string, size int) func() error {
		return func() error {
			_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(key),
				Body: strings.NewReader(strings.Repeat("x", size)), ContentType: aws.String("application/octet-stream")})
			return err
		}
	}
	const mib = 1 << 20

	// A PUT without Content-Type is stored with S3's default type.
	const byHandMeta = 42 + int64(len("Content-Type")+len("binary/octet-stream"))
	step("a PUT by hand, whose metadata is Last-Modified and the default Content-Type", 0, 5+int64(len("raw.txt"))+byHandMeta+objectOverhead, func() error {
		if a := l.do(l.request("PUT", "/raw.txt", "hello")); a.status != 200 {
			return fmt.Errorf("%d %s", a.status, a.body)
		}
		return nil
	})
	step("PutObject of 1 MiB", maxMetadataBytes, mib+int64(len("one.bin"))+objectOverhead, put("one.bin", mib))
	step("CopyObject of it", maxMetadataBytes, mib+int64(len("two.bin"))+objectOverhead, func() error {
		_, err := client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &bucket, Key: aws.String("two.bin"),
			CopySource: aws.String(bucket + "/one.bin")})
		return err
	})
	step("a GET", 0, 0, func() error {
		_, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("two.bin")})
		return err
	})
	step("a PUT past MaxObjectBytes, refused", 0, 0, func() error {
		if put("big.bin", MaxObjectBytes+1)() == nil {
			return errors.New("it was stored")
		}
		return nil
	})
	step("DELETE of the PUT by hand", 0, -(5 + int64(len("raw.txt")) + byHandMeta + objectOverhead), func() error {
		if a := l.do(l.request("DELETE", "/raw.txt", "")); a.status != 204 {
			return fmt.Errorf("%d %s", a.status, a.body)
		}
		return nil
	})
	rules := []s3cors.Rule{{AllowedOrigins: []string{appOrigin}, AllowedMethods: []string{"GET"}}}
	step("PutBucketCors", 0, int64(len(s3cors.XML(rules))), func() error { return PutBucketCORS(ctx, client, bucket, rules) })
	step("DeleteBucketCors", 0, -int64(len(s3cors.XML(rules))), func() error { return PutBucketCORS(ctx, client, bucket, nil) })
	step("DeleteObjects of both", 2*maxMetadataBytes, -2*(mib+7+objectOverhead), func() error {
		_, err := client.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &bucket, Delete: &types.Delete{
			Objects: []types.ObjectIdentifier{{Key: aws.String("one.bin")}, {Key: aws.String("two.bin")}}}})
		return err
	})
	if got := l.s3.Usage(bucket); got != sampleUsage() {
		t.Errorf("back to the samples: Usage %d, want %d", got, sampleUsage())
	}

	if err := l.s3.DeleteBucket(bucket); err != nil {
		t.Fatal(err)
	}
	if got, _ := log.lastOf(bucket); got != 0 || l.s3.Usage(bucket) != 0 {
		t.Errorf("after DeleteBucket: reported %d, Usage %d, want 0", got, l.s3.Usage(bucket))
	}
}

// TestS3UsageConcurrent writes and deletes from many goroutines while the
// OnUsage function is slow: the last figure reported is the bucket's.
func TestS3UsageConcurrent(t *testing.T) {
	l := newS3Lab(t)
	var log usageLog
	l.s3.OnUsage(func(bucket string, bytes int64) {
		time.Sleep(time.Millisecond)
		log.record(bucket, bytes)
	})
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			key := fmt.Sprintf("/object-%02d.txt", i)
			for j := range 5 {
				l.do(l.request("PUT", key, strings.Repeat("x", 100*(i+j))))
			}
			if i%2 == 0 {
				l.do(l.request("DELETE", key, ""))
			}
		})
	}
	wg.Wait()
	got, _ := log.lastOf(l.sess.ID)
	b := l.s3.bucket(l.sess.ID)
	b.writes.Lock()
	want := l.s3.objectBytes(l.sess.ID)
	b.writes.Unlock()
	if got != want || l.s3.Usage(l.sess.ID) != want || want < sampleUsage() {
		t.Errorf("last report %d, Usage %d, want %d, at least the samples' %d", got, l.s3.Usage(l.sess.ID), want, sampleUsage())
	}
}
