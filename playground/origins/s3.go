package origins

import (
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/corslab/corslab/playground/s3cors"
	"github.com/corslab/corslab/playground/s3err"
	"github.com/corslab/corslab/playground/session"
	"github.com/corslab/corslab/playground/sigv4"
)

// Limits of a session's bucket. Going over them gets an S3 error, as a real
// bucket's quota would.
const (
	MaxObjectBytes = 5 << 20  // one object
	MaxObjects     = 50       // objects in a bucket
	MaxBucketBytes = 10 << 20 // all of a bucket's objects together
	maxCORSBody    = 64 << 10

	// maxMetadataBytes bounds what an object keeps of the headers that
	// stored it: gofakes3's own limit for one request, applied here to what
	// the object ends up with, as gofakes3 adds an object's earlier metadata
	// to each PUT or copy that replaces it.
	maxMetadataBytes = gofakes3.DefaultMetadataSizeLimit

	// maxDeleteBody bounds a DeleteObjects request: S3 takes at most 1,000
	// keys of at most 1,024 bytes each.
	// docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html
	maxDeleteBody = 2 << 20

	// objectOverhead is what s3mem keeps for an object beside its body, key
	// and metadata: its records, the metadata map, an ETag and a version id.
	// Measured at about 900 bytes for an object with four metadata entries.
	objectOverhead = 1 << 10

	// streamingPayload is the x-amz-content-sha256 of a body signed in
	// chunks, whose object size is x-amz-decoded-content-length.
	// docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
	streamingPayload = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
)

// S3 is the s3 origin: gofakes3 over an in-memory backend, path style, behind
// corslab's own layer that makes it answer like Amazon S3 where gofakes3 does
// not:
//
//   - CORS: every OPTIONS is answered here from the bucket's CORS rules, the
//     Access-Control-* headers gofakes3 writes on its own are removed, and
//     the rules' headers are added to every other answer (package s3cors);
//   - GET, PUT and DELETE /{bucket}?cors keep each bucket's configuration;
//   - presigned URLs are checked, signature and expiry (package sigv4);
//     other requests are served as by a public bucket: a signature in the
//     Authorization header (corslab's own aws-sdk client) is not checked;
//   - a bucket holds at most MaxObjects objects of MaxObjectBytes each,
//     MaxBucketBytes in all, counted from what is stored: a copy counts its
//     source object, a body signed in chunks its decoded length;
//   - CopyObject is served here, from the same bucket only;
//   - versioning and the object subresources gofakes3 would take for a
//     plain PUT or DELETE of the object (?tagging, ?acl...) answer
//     NotImplemented;
//   - gofakes3's answers keep corslab's x-amz-request-id and x-amz-id-2,
//     and its error documents are written as S3's, ending with the two
//     (s3fake.go).
//
// A session may reach only its own bucket, named after the session id; the
// bucket is created and removed with the session, not by requests. Any
// other bucket is answered as S3 answers for one that does not exist.
//
// Usage tells what each bucket keeps in memory, and OnUsage reports every
// change of it, for corslab's memory budget.
type S3 struct {
	backend *s3mem.Backend
	fake    http.Handler
	creds   sigv4.Credentials
	now     func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	onUsage func(bucket string, bytes int64)
}

// bucket is what corslab keeps about a bucket beside gofakes3's objects.
type bucket struct {
	// writes is held while the bucket's objects or CORS rules change, so
	// that quotas and usage are counted against what is there.
	writes sync.Mutex

	mu        sync.Mutex
	cors      []s3cors.Rule // nil: no CORS configuration
	corsBytes int64         // the size of cors as XML
	usage     int64         // bytes kept, as Usage reports them
	deleted   bool          // DeleteBucket has removed the bucket
	reporting bool          // a goroutine is calling the OnUsage function for this bucket
	stale     bool          // usage changed while it was
}

// NewS3 returns the s3 origin over backend, accepting presigned URLs signed
// with creds. now tells the time for expiry; nil means time.Now.
func NewS3(backend *s3mem.Backend, creds sigv4.Credentials, now func() time.Time) *S3 {
	if now == nil {
		now = time.Now
	}
	return &S3{
		backend: backend,
		// Without versioning every object has one version, the one the
		// quotas count: a versioned bucket would keep every PUT.
		fake:    gofakes3.New(backend, gofakes3.WithAutoBucket(false), gofakes3.WithoutVersioning()).Server(),
		creds:   creds,
		now:     now,
		buckets: make(map[string]*bucket),
	}
}

// Sample objects every session's bucket starts with, so that documentation
// and scripts can rely on them.
const (
	HelloText = "Hello from corslab's fake S3.\n"
	dataJSON  = `{"project": "corslab", "about": "a sample object in your session's bucket", "objects": ["hello.txt", "data.json", "corslab.png"]}` + "\n"
)

// CreateBucket makes a session's bucket, with its sample objects and no CORS
// configuration. The samples are stored with Cache-Control: no-store, as
// S3 lets an object carry, so that the browser asks the bucket every time
// and every run shows its own exchange, never an answer from the cache.
func (s *S3) CreateBucket(name string) error {
	if err := s.backend.CreateBucket(name); err != nil {
		return err
	}
	samples := []struct{ key, contentType, body string }{
		{"hello.txt", "text/plain", HelloText},
		{"data.json", "application/json", dataJSON},
		{"corslab.png", "image/png", string(samplePNG())},
	}
	for _, o := range samples {
		meta := map[string]string{"Content-Type": o.contentType, "Cache-Control": "no-store"}
		_, err := s.backend.PutObject(name, o.key, meta,
			strings.NewReader(o.body), int64(len(o.body)), nil)
		if err != nil {
			return err
		}
	}
	b := &bucket{usage: s.objectBytes(name)}
	s.mu.Lock()
	s.buckets[name] = b
	s.mu.Unlock()
	s.report(b, name)
	return nil
}

// DeleteBucket removes a session's bucket and everything in it, and
// reports its usage as 0. It does not wait for a write in progress, which
// a slow client may hold for as long as its connection lasts: that write
// fails, or its object goes with the bucket.
func (s *S3) DeleteBucket(name string) error {
	s.mu.Lock()
	b := s.buckets[name]
	delete(s.buckets, name)
	s.mu.Unlock()
	err := s.backend.ForceDeleteBucket(name)
	if b != nil {
		b.mu.Lock()
		b.deleted, b.usage = true, 0
		b.mu.Unlock()
		s.report(b, name)
	}
	return err
}

// Usage is what a bucket keeps in memory, in bytes: each object's body,
// key and metadata plus objectOverhead, and its CORS configuration as XML.
// It is 0 for a bucket that does not exist.
func (s *S3) Usage(name string) int64 {
	b := s.bucket(name)
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.usage
}

// OnUsage has f called with a bucket's usage each time it changes: when the
// bucket is created, after each write or delete that changes it, and with 0
// when the bucket is deleted. f is called outside every lock of the origin,
// never twice at once for one bucket, and its last call for a bucket
// carries the bucket's latest usage; it may be called from a request's
// goroutine or from CreateBucket's and DeleteBucket's callers.
func (s *S3) OnUsage(f func(bucket string, bytes int64)) {
	s.mu.Lock()
	s.onUsage = f
	s.mu.Unlock()
}

// report hands the bucket's usage to the OnUsage function. A change made
// while f runs is reported again by the goroutine already reporting, with
// the figure of that moment, so that a writer never waits for f and a stale
// figure is never the last one delivered.
func (s *S3) report(b *bucket, name string) {
	s.mu.Lock()
	f := s.onUsage
	s.mu.Unlock()
	if f == nil {
		return
	}
	b.mu.Lock()
	if b.reporting {
		b.stale = true
		b.mu.Unlock()
		return
	}
	b.reporting = true
	for {
		usage := b.usage
		b.stale = false
		b.mu.Unlock()
		f(name, usage)
		b.mu.Lock()
		if !b.stale {
			break
		}
	}
	b.reporting = false
	b.mu.Unlock()
}

// write runs f, which may change the bucket's objects or CORS rules, with
// the bucket's writes held; then it counts what the bucket keeps and
// reports a change.
func (s *S3) write(b *bucket, name string, f func() *s3err.Error) *s3err.Error {
	b.writes.Lock()
	err := f()
	usage := s.objectBytes(name)
	b.mu.Lock()
	changed := false
	if !b.deleted {
		usage += b.corsBytes
		changed, b.usage = usage != b.usage, usage
	}
	b.mu.Unlock()
	b.writes.Unlock()
	if changed {
		s.report(b, name)
	}
	return err
}

// objectBytes is what a bucket's objects keep in memory (see Usage); 0 when
// the bucket is gone. A bucket holds at most MaxObjects objects, so
// counting them all after a write is cheap.
func (s *S3) objectBytes(name string) int64 {
	list, err := s.backend.ListBucket(name, &gofakes3.Prefix{}, gofakes3.ListBucketPage{})
	if err != nil {
		return 0
	}
	var n int64
	for _, o := range list.Contents {
		n += o.Size + int64(len(o.Key)) + objectOverhead
		if obj, err := s.backend.HeadObject(name, o.Key); err == nil {
			n += int64(metadataBytes(obj.Metadata))
		}
	}
	return n
}

func (s *S3) bucket(name string) *bucket {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buckets[name]
}

func (b *bucket) rules() []s3cors.Rule {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cors
}

func (b *bucket) setRules(rules []s3cors.Rule) {
	var size int64
	if rules != nil {
		size = int64(len(s3cors.XML(rules)))
	}
	b.mu.Lock()
	b.cors, b.corsBytes = rules, size
	b.mu.Unlock()
}

func (s *S3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := s3err.NewRequestID()
	s3err.Identify(w.Header(), id)
	name, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if name == "" {
		// ListBuckets, which S3 refuses to a caller without credentials.
		accessDenied("Access Denied").Answer(w, r, id)
		return
	}
	// The playground hands over with its session a request whose first
	// path segment is that session's id, also its bucket's name; any other
	// request comes without one. A request reaches only its own session's
	// bucket: every other name, an expired session's as well as one that
	// never was, is a bucket that does not exist, and gets S3's answers for
	// one, so that a stale link reads NoSuchBucket, not a permissions error.
	var b *bucket
	if sess := session.FromContext(r.Context()); sess != nil && sess.ID == name {
		b = s.bucket(name)
	}

	answer := s3cors.Evaluate(b.rulesOrNil(), b != nil, s3cors.Request{
		Method:         r.Method,
		Key:            key,
		Origin:         r.Header.Get("Origin"),
		HasOrigin:      len(r.Header.Values("Origin")) > 0,
		RequestMethod:  r.Header.Get("Access-Control-Request-Method"),
		RequestHeaders: strings.Join(r.Header.Values("Access-Control-Request-Headers"), ","),
	})
	if r.Method == http.MethodOptions {
		if answer.Err != nil {
			answer.Err.Answer(w, r, id)
			return
		}
		addHeaders(w.Header(), answer.Headers)
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return
	}
	// S3 puts the matched rule's headers on every answer, errors included.
	cw := &corsWriter{ResponseWriter: w, headers: answer.Headers}
	defer cw.finish()
	switch {
	case b == nil && createsBucket(r, key):
		// Whatever the name: no request makes a bucket.
		bucketKept().Answer(cw, r, id)
		return
	case b == nil:
		noSuchBucket(name).Answer(cw, r, id)
		return
	}
	if sigv4.IsPresigned(r) {
		if err := sigv4.Verify(r, s.creds, s.now()); err != nil {
			err.Answer(cw, r, id)
			return
		}
	}
	if err := s.serve(cw, r, b, name, key); err != nil {
		err.Answer(cw, r, id)
	}
}

func (b *bucket) rulesOrNil() []s3cors.Rule {
	if b == nil {
		return nil
	}
	return b.rules()
}

// unimplementedWrites are subresources of S3's API that gofakes3 does not
// implement for a write but would serve as something else: PUT
// /{key}?tagging would store the tag set as the object's body, DELETE
// /{key}?tagging delete the object, and PUT /{key}?versioning turn on the
// bucket's versioning, which keeps every PUT outside the quotas.
var unimplementedWrites = []string{"acl", "legal-hold", "restore", "retention", "select", "tagging", "torrent", "versioning"}

// serve answers a request that passed the checks above, or returns the S3
// error to answer with.
func (s *S3) serve(w http.ResponseWriter, r *http.Request, b *bucket, name, key string) *s3err.Error {
	query := r.URL.Query()
	switch {
	case key == "" && query.Has("cors"):
		return s.serveCORSConfig(w, r, b, name)
	case query.Has("uploads") || query.Has("uploadId"):
		return notImplemented("corslab's fake S3 takes uploads in one PUT (a presigned PUT works); multipart uploads are not implemented")
	case r.Method != http.MethodGet && r.Method != http.MethodHead && unimplementedWrite(query) != "":
		return notImplemented("corslab's fake S3 does not implement ?" + unimplementedWrite(query) + " for " + r.Method)
	case key == "" && (r.Method == http.MethodPut || r.Method == http.MethodDelete):
		return bucketKept()
	case key == "" && r.Method == http.MethodPost && !query.Has("delete"):
		return notImplemented("corslab's fake S3 takes uploads as PUT (a presigned PUT works); POST policy uploads are not implemented")
	case key != "" && r.Method == http.MethodPut && r.Header[copySourceHeader] != nil:
		return s.copyObject(w, r, b, name, key)
	case key != "" && r.Method == http.MethodPut:
		return s.putObject(w, r, b, name, key)
	case r.Method == http.MethodDelete || r.Method == http.MethodPost:
		// DeleteObject and DeleteObjects: gofakes3 serves them, and the
		// bucket's usage is counted after.
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxDeleteBody)
		}
		return s.write(b, name, func() *s3err.Error {
			s.serveFake(w, r, name, key)
			return nil
		})
	}
	s.serveFake(w, r, name, key)
	return nil
}

// createsBucket reports whether r is CreateBucket: a PUT of the bucket
// itself, without a subresource (a presigned URL's X-Amz-* parameters and
// the SDK's x-id are none).
func createsBucket(r *http.Request, key string) bool {
	if r.Method != http.MethodPut || key != "" {
		return false
	}
	for name := range r.URL.Query() {
		if !strings.HasPrefix(strings.ToLower(name), "x-amz-") && name != "x-id" {
			return false
		}
	}
	return true
}

func unimplementedWrite(query url.Values) string {
	for _, sub := range unimplementedWrites {
		if query.Has(sub) {
			return sub
		}
	}
	return ""
}

// putObject adds or replaces an object within the bucket's limits.
func (s *S3) putObject(w http.ResponseWriter, r *http.Request, b *bucket, name, key string) *s3err.Error {
	size, err := objectSize(r)
	if err != nil {
		return err
	}
	// gofakes3 reads the header, the limits were checked on the field: in
	// a request from a connection they agree, and now in any request.
	r.Header.Set("Content-Length", strconv.FormatInt(r.ContentLength, 10))
	if r.Header.Get("Content-Type") == "" {
		// What S3 stores, and later serves, for an object sent without a
		// type; Go's server would otherwise sniff one when serving it.
		r.Header.Set("Content-Type", "binary/octet-stream")
	}
	meta := requestMetadata(r.Header, s.now())
	return s.write(b, name, func() *s3err.Error {
		if err := s.checkRoom(name, key, size, meta); err != nil {
			return err
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxObjectBytes)
		s.serveFake(w, r, name, key)
		return nil
	})
}

// objectSize is the size of the object a PUT stores: its Content-Length,
// or for a body signed in chunks its x-amz-decoded-content-length, which
// gofakes3 allocates before it reads the body.
func objectSize(r *http.Request) (int64, *s3err.Error) {
	switch {
	case r.ContentLength < 0:
		return 0, &s3err.Error{Status: http.StatusLengthRequired, Code: "MissingContentLength",
			Message: "You must provide the Content-Length HTTP header."}
	case r.ContentLength > MaxObjectBytes:
		return 0, entityTooLarge(r.ContentLength)
	case r.Header.Get("X-Amz-Content-Sha256") != streamingPayload:
		return r.ContentLength, nil
	}
	decoded := r.Header.Get("X-Amz-Decoded-Content-Length")
	size, err := strconv.ParseInt(decoded, 10, 64)
	switch {
	case err == nil && size > MaxObjectBytes:
		return 0, entityTooLarge(size)
	case err != nil || size < 0 || size > r.ContentLength:
		// The chunks carry the object and more: it cannot be larger than
		// the body.
		return 0, &s3err.Error{Status: http.StatusBadRequest, Code: "InvalidArgument",
			Message: "x-amz-decoded-content-length must be the object's size in bytes, at most the Content-Length of its chunks",
			Extra:   [][2]string{{"ArgumentName", "x-amz-decoded-content-length"}, {"ArgumentValue", decoded}}}
	}
	return size, nil
}

// checkRoom refuses an object of size bytes and metadata meta stored
// under key when the bucket has no room for it. An object of the same key
// is replaced: its bytes and its place are freed, but gofakes3 keeps its
// metadata entries that meta does not have.
func (s *S3) checkRoom(name, key string, size int64, meta map[string]string) *s3err.Error {
	list, err := s.backend.ListBucket(name, &gofakes3.Prefix{}, gofakes3.ListBucketPage{})
	if err != nil {
		return internalError()
	}
	objects, total := 0, size
	for _, o := range list.Contents {
		if o.Key != key {
			objects++
			total += o.Size
		}
	}
	switch {
	case objects >= MaxObjects:
		return &s3err.Error{Status: http.StatusForbidden, Code: "QuotaExceeded",
			Message: "corslab: a session's bucket holds at most " + strconv.Itoa(MaxObjects) + " objects; delete one first"}
	case total > MaxBucketBytes:
		return &s3err.Error{Status: http.StatusForbidden, Code: "QuotaExceeded",
			Message: "corslab: a session's bucket holds at most " + strconv.Itoa(MaxBucketBytes>>20) + " MiB in all; delete an object first"}
	}
	var old map[string]string
	if o, err := s.backend.HeadObject(name, key); err == nil {
		old = o.Metadata
	}
	if metadataBytes(merged(meta, old, "")) > maxMetadataBytes {
		return &s3err.Error{Status: http.StatusBadRequest, Code: "MetadataTooLarge",
			Message: "Your metadata headers exceed the maximum allowed metadata size. (corslab: an object keeps the x-amz-* headers " +
				"of every request that stored it under its key, " + strconv.Itoa(maxMetadataBytes) + " bytes at most; delete the object first)",
			Extra: [][2]string{{"MaxSizeAllowed", strconv.Itoa(maxMetadataBytes)}}}
	}
	return nil
}

// copySourceHeader names the object CopyObject copies, as gofakes3 finds it.
const copySourceHeader = "X-Amz-Copy-Source"

// copyObject is CopyObject within the session's bucket, the source counted
// against the bucket's quotas. It is served here rather than by gofakes3,
// so that the source that is checked is the source that is read: a copy
// from another bucket, another learner's, is refused as S3 refuses a
// source the caller may not read.
// docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html
func (s *S3) copyObject(w http.ResponseWriter, r *http.Request, b *bucket, name, key string) *s3err.Error {
	source := r.Header.Get(copySourceHeader)
	srcBucket, srcKey, ok := copySource(source)
	switch {
	case !ok:
		return &s3err.Error{Status: http.StatusBadRequest, Code: "InvalidArgument",
			Message: "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
			Extra:   [][2]string{{"ArgumentName", "x-amz-copy-source"}, {"ArgumentValue", source}}}
	case srcBucket != name:
		return accessDenied("Access Denied")
	case len(key) > gofakes3.KeySizeLimit:
		return &s3err.Error{Status: http.StatusBadRequest, Code: "KeyTooLongError", Message: "Your key is too long",
			Extra: [][2]string{{"Size", strconv.Itoa(len(key))}, {"MaxSizeAllowed", strconv.Itoa(gofakes3.KeySizeLimit)}}}
	}
	meta := requestMetadata(r.Header, s.now())
	return s.write(b, name, func() *s3err.Error {
		src, err := s.backend.HeadObject(name, srcKey)
		if err != nil {
			return noSuchKey(srcKey)
		}
		// As gofakes3 does: the request's metadata, then the source's but
		// its ACL.
		meta = merged(meta, src.Metadata, "X-Amz-Acl")
		if err := s.checkRoom(name, key, src.Size, meta); err != nil {
			return err
		}
		result, err := s.backend.CopyObject(name, srcKey, name, key, meta)
		if err != nil {
			return internalError()
		}
		body, err := xml.MarshalIndent(result, "", "  ")
		if err != nil {
			return internalError()
		}
		body = append([]byte(xml.Header), body...)
		w.Header().Set("Content-Type", "application/xml")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		w.Write(body)
		return nil
	})
}

// copySource splits x-amz-copy-source into bucket and key as gofakes3 did:
// "/bucket/key" or "bucket/key" with the key URL-encoded, or all of it
// URL-encoded; a ?versionId is ignored, as there is one version.
func copySource(source string) (bucket, key string, ok bool) {
	parts := strings.SplitN(strings.TrimPrefix(source, "/"), "/", 2)
	decoded := false
	if len(parts) < 2 {
		all, err := url.QueryUnescape(source)
		if err != nil {
			return "", "", false
		}
		parts = strings.SplitN(strings.TrimPrefix(all, "/"), "/", 2)
		decoded = true
	}
	if len(parts) < 2 {
		return "", "", false
	}
	key, _, _ = strings.Cut(parts[1], "?")
	if !decoded {
		var err error
		if key, err = url.QueryUnescape(key); err != nil {
			return "", "", false
		}
	}
	return parts[0], key, true
}

// requestMetadata is the metadata gofakes3 stores from a request's
// headers: the first value of each x-amz-* header and of three others,
// and the time.
func requestMetadata(h http.Header, at time.Time) map[string]string {
	meta := map[string]string{}
	for name, values := range h {
		if strings.HasPrefix(name, "X-Amz-") || name == "Content-Type" || name == "Content-Disposition" || name == "Content-Encoding" {
			meta[name] = values[0]
		}
	}
	meta["Last-Modified"] = at.UTC().Format(http.TimeFormat)
	return meta
}

// merged is meta with the entries of older that meta does not have, but
// the one named except, as gofakes3 merges metadata.
func merged(meta, older map[string]string, except string) map[string]string {
	out := make(map[string]string, len(meta)+len(older))
	for k, v := range older {
		if k != except {
			out[k] = v
		}
	}
	for k, v := range meta {
		out[k] = v
	}
	return out
}

// metadataBytes is the size of metadata as gofakes3 limits it.
func metadataBytes(meta map[string]string) int {
	n := 0
	for k, v := range meta {
		n += len(k) + len(v)
	}
	return n
}

// serveCORSConfig is GetBucketCors, PutBucketCors and DeleteBucketCors.
func (s *S3) serveCORSConfig(w http.ResponseWriter, r *http.Request, b *bucket, name string) *s3err.Error {
	switch r.Method {
	case http.MethodGet:
		rules := b.rules()
		if rules == nil {
			return &s3err.Error{Status: http.StatusNotFound, Code: "NoSuchCORSConfiguration",
				Message: "The CORS configuration does not exist", Extra: [][2]string{{"BucketName", name}}}
		}
		body := s3cors.XML(rules)
		w.Header().Set("Content-Type", "application/xml")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		w.Write(body)
	case http.MethodPut:
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCORSBody))
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			return &s3err.Error{Status: http.StatusBadRequest, Code: "MaxMessageLengthExceeded",
				Message: "Your request was too big."}
		case err != nil:
			return &s3err.Error{Status: http.StatusBadRequest, Code: "IncompleteBody",
				Message: "You did not provide the number of bytes specified by the Content-Length HTTP header"}
		}
		rules, err := s3cors.ParseXML(body)
		if err != nil {
			return err.(*s3cors.Error)
		}
		s.write(b, name, func() *s3err.Error {
			b.setRules(rules)
			return nil
		})
		w.WriteHeader(http.StatusOK)
	case http.MethodDelete:
		s.write(b, name, func() *s3err.Error {
			b.setRules(nil)
			return nil
		})
		w.WriteHeader(http.StatusNoContent)
	default:
		return &s3err.Error{Status: http.StatusMethodNotAllowed, Code: "MethodNotAllowed",
			Message: "The specified method is not allowed against this resource.",
			Extra:   [][2]string{{"Method", r.Method}, {"ResourceType", "CORSCONFIGURATION"}}}
	}
	return nil
}

// corsWriter replaces whatever Access-Control-* headers gofakes3 set with
// the bucket's own, just before the status line goes out.
type corsWriter struct {
	http.ResponseWriter
	headers     [][2]string
	wroteHeader bool
}

func (w *corsWriter) WriteHeader(status int) {
	if !w.wroteHeader {
		w.wroteHeader = true
		h := w.Header()
		for name := range h {
			if strings.HasPrefix(name, "Access-Control-") {
				delete(h, name)
			}
		}
		addHeaders(h, w.headers)
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *corsWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// ReadFrom lets gofakes3's io.Copy of an object reach the capturing writer
// underneath, which copies with a pooled buffer, instead of allocating
// io.Copy's own 32 KB for every GET.
func (w *corsWriter) ReadFrom(src io.Reader) (int64, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(writerOnly{w}, src)
}

// writerOnly hides a writer's ReadFrom from io.Copy, which would call it
// back.
type writerOnly struct{ io.Writer }

// finish sends the status line of an answer nobody wrote, so that its
// headers are cleaned as well.
func (w *corsWriter) finish() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
}

func addHeaders(h http.Header, headers [][2]string) {
	for _, kv := range headers {
		h.Add(kv[0], kv[1])
	}
}

func accessDenied(msg string) *s3err.Error {
	return &s3err.Error{Status: http.StatusForbidden, Code: "AccessDenied", Message: msg}
}

// bucketKept refuses CreateBucket and DeleteBucket: a session's bucket
// comes and goes with the session.
func bucketKept() *s3err.Error {
	return accessDenied("corslab: a session's bucket is created and deleted with the session")
}

func noSuchBucket(name string) *s3err.Error {
	return &s3err.Error{Status: http.StatusNotFound, Code: "NoSuchBucket",
		Message: "The specified bucket does not exist", Extra: [][2]string{{"BucketName", name}}}
}

func noSuchKey(key string) *s3err.Error {
	return &s3err.Error{Status: http.StatusNotFound, Code: "NoSuchKey",
		Message: "The specified key does not exist.", Extra: [][2]string{{"Key", key}}}
}

// invalidRange is S3's refusal of a Range the object cannot satisfy, as
// captured from AWS in versity/versitygw#2069.
func invalidRange(requested string, size int64) *s3err.Error {
	return &s3err.Error{Status: http.StatusRequestedRangeNotSatisfiable, Code: "InvalidRange",
		Message: "The requested range is not satisfiable",
		Extra:   [][2]string{{"RangeRequested", requested}, {"ActualObjectSize", strconv.FormatInt(size, 10)}}}
}

func entityTooLarge(size int64) *s3err.Error {
	return &s3err.Error{Status: http.StatusBadRequest, Code: "EntityTooLarge",
		Message: "Your proposed upload exceeds the maximum allowed size",
		Extra: [][2]string{
			{"ProposedSize", strconv.FormatInt(size, 10)},
			{"MaxSizeAllowed", strconv.Itoa(MaxObjectBytes)},
		}}
}

func notImplemented(msg string) *s3err.Error {
	return &s3err.Error{Status: http.StatusNotImplemented, Code: "NotImplemented", Message: msg}
}

func internalError() *s3err.Error {
	return &s3err.Error{Status: http.StatusInternalServerError, Code: "InternalError",
		Message: "We encountered an internal error. Please try again."}
}
