package origins

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/corslab/corslab/playground/s3err"
	"github.com/corslab/corslab/playground/session"
)

// MaxObjectBytes bounds an object upload to the fake S3.
const MaxObjectBytes = 5 << 20

// S3 returns the s3 origin: gofakes3 over backend, path style, where each
// session may reach only its own bucket (named after the session id). The
// bucket itself is created and removed with the session, not by requests.
func S3(backend gofakes3.Backend) http.Handler {
	fake := gofakes3.New(backend, gofakes3.WithAutoBucket(false)).Server()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		if s == nil {
			accessDenied("Access Denied").Write(w, requestID())
			return
		}
		// The playground only hands over requests whose first path segment
		// is this session's id, which is also its bucket's name.
		_, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if key == "" && r.URL.RawQuery == "" && (r.Method == http.MethodPut || r.Method == http.MethodDelete) {
			accessDenied("corslab: a session's bucket is created and deleted with the session").Write(w, requestID())
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, MaxObjectBytes)
		}
		fake.ServeHTTP(w, r)
	})
}

// HelloText is the body of hello.txt, which every session's bucket starts
// with, so that documentation and scripts can rely on it.
const HelloText = "Hello from corslab's fake S3.\n"

// CreateBucket makes a session's bucket, with its sample objects.
func CreateBucket(backend *s3mem.Backend, name string) error {
	if err := backend.CreateBucket(name); err != nil {
		return err
	}
	_, err := backend.PutObject(name, "hello.txt", map[string]string{"Content-Type": "text/plain"},
		strings.NewReader(HelloText), int64(len(HelloText)), nil)
	return err
}

func accessDenied(msg string) *s3err.Error {
	return &s3err.Error{Status: http.StatusForbidden, Code: "AccessDenied", Message: msg}
}

// requestID names one answer, as S3's x-amz-request-id does.
func requestID() string {
	var b [8]byte
	rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}
