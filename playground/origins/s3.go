package origins

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
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
//     MaxBucketBytes in all.
//
// A session may reach only its own bucket, named after the session id; the
// bucket is created and removed with the session, not by requests.
type S3 struct {
	backend *s3mem.Backend
	fake    http.Handler
	creds   sigv4.Credentials
	now     func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

// bucket is what corslab keeps about a bucket beside gofakes3's objects.
type bucket struct {
	writes sync.Mutex // held while an object is added, so the count stays honest

	mu   sync.Mutex
	cors []s3cors.Rule // nil: no CORS configuration
}

// NewS3 returns the s3 origin over backend, accepting presigned URLs signed
// with creds. now tells the time for expiry; nil means time.Now.
func NewS3(backend *s3mem.Backend, creds sigv4.Credentials, now func() time.Time) *S3 {
	if now == nil {
		now = time.Now
	}
	return &S3{
		backend: backend,
		fake:    gofakes3.New(backend, gofakes3.WithAutoBucket(false)).Server(),
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
		{"corslab.png", "image/png", string(samplePNG)},
	}
	for _, o := range samples {
		meta := map[string]string{"Content-Type": o.contentType, "Cache-Control": "no-store"}
		_, err := s.backend.PutObject(name, o.key, meta,
			strings.NewReader(o.body), int64(len(o.body)), nil)
		if err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.buckets[name] = &bucket{}
	s.mu.Unlock()
	return nil
}

// DeleteBucket removes a session's bucket and everything in it.
func (s *S3) DeleteBucket(name string) error {
	s.mu.Lock()
	delete(s.buckets, name)
	s.mu.Unlock()
	return s.backend.ForceDeleteBucket(name)
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
	b.mu.Lock()
	b.cors = rules
	b.mu.Unlock()
}

func (s *S3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := requestID()
	w.Header().Set("x-amz-request-id", id)
	sess := session.FromContext(r.Context())
	if sess == nil {
		accessDenied("Access Denied").Write(w, id)
		return
	}
	// The playground only hands over requests whose first path segment is
	// this session's id, which is also its bucket's name.
	name, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	b := s.bucket(name)

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
			answer.Err.Write(w, id)
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
	if b == nil {
		noSuchBucket(name).Write(cw, id)
		return
	}
	if sigv4.IsPresigned(r) {
		if err := sigv4.Verify(r, s.creds, s.now()); err != nil {
			err.Write(cw, id)
			return
		}
	}
	if err := s.serve(cw, r, b, name, key); err != nil {
		err.Write(cw, id)
	}
}

func (b *bucket) rulesOrNil() []s3cors.Rule {
	if b == nil {
		return nil
	}
	return b.rules()
}

// serve answers a request that passed the checks above, or returns the S3
// error to answer with.
func (s *S3) serve(w http.ResponseWriter, r *http.Request, b *bucket, name, key string) *s3err.Error {
	query := r.URL.Query()
	switch {
	case key == "" && query.Has("cors"):
		return s.serveCORSConfig(w, r, b, name)
	case query.Has("uploads") || query.Has("uploadId"):
		return notImplemented("corslab's fake S3 takes uploads in one PUT (a presigned PUT works); multipart uploads are not implemented")
	case key == "" && (r.Method == http.MethodPut || r.Method == http.MethodDelete):
		return accessDenied("corslab: a session's bucket is created and deleted with the session")
	case key == "" && r.Method == http.MethodPost && !query.Has("delete"):
		return notImplemented("corslab's fake S3 takes uploads as PUT (a presigned PUT works); POST policy uploads are not implemented")
	case key != "" && r.Method == http.MethodPut:
		return s.putObject(w, r, b, name, key)
	}
	s.fake.ServeHTTP(w, r)
	return nil
}

// putObject adds or replaces an object within the bucket's limits.
func (s *S3) putObject(w http.ResponseWriter, r *http.Request, b *bucket, name, key string) *s3err.Error {
	switch {
	case r.ContentLength < 0:
		return &s3err.Error{Status: http.StatusLengthRequired, Code: "MissingContentLength",
			Message: "You must provide the Content-Length HTTP header."}
	case r.ContentLength > MaxObjectBytes:
		return &s3err.Error{Status: http.StatusBadRequest, Code: "EntityTooLarge",
			Message: "Your proposed upload exceeds the maximum allowed size",
			Extra: [][2]string{
				{"ProposedSize", strconv.FormatInt(r.ContentLength, 10)},
				{"MaxSizeAllowed", strconv.Itoa(MaxObjectBytes)},
			}}
	}
	b.writes.Lock()
	defer b.writes.Unlock()
	list, err := s.backend.ListBucket(name, &gofakes3.Prefix{}, gofakes3.ListBucketPage{})
	if err != nil {
		return internalError()
	}
	objects, size := 0, r.ContentLength
	for _, o := range list.Contents {
		if o.Key != key { // a PUT replaces an object of the same key
			objects++
			size += o.Size
		}
	}
	switch {
	case objects >= MaxObjects:
		return &s3err.Error{Status: http.StatusForbidden, Code: "QuotaExceeded",
			Message: "corslab: a session's bucket holds at most " + strconv.Itoa(MaxObjects) + " objects; delete one first"}
	case size > MaxBucketBytes:
		return &s3err.Error{Status: http.StatusForbidden, Code: "QuotaExceeded",
			Message: "corslab: a session's bucket holds at most " + strconv.Itoa(MaxBucketBytes>>20) + " MiB in all; delete an object first"}
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxObjectBytes)
	s.fake.ServeHTTP(w, r)
	return nil
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
		b.setRules(rules)
		w.WriteHeader(http.StatusOK)
	case http.MethodDelete:
		b.setRules(nil)
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

func noSuchBucket(name string) *s3err.Error {
	return &s3err.Error{Status: http.StatusNotFound, Code: "NoSuchBucket",
		Message: "The specified bucket does not exist", Extra: [][2]string{{"BucketName", name}}}
}

func notImplemented(msg string) *s3err.Error {
	return &s3err.Error{Status: http.StatusNotImplemented, Code: "NotImplemented", Message: msg}
}

func internalError() *s3err.Error {
	return &s3err.Error{Status: http.StatusInternalServerError, Code: "InternalError",
		Message: "We encountered an internal error. Please try again."}
}

// requestID names one answer, as S3's x-amz-request-id does.
func requestID() string {
	var b [8]byte
	rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}
