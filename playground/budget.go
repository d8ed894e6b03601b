package playground

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/corslab/corslab/playground/bytesize"
	"github.com/corslab/corslab/playground/s3err"
	"github.com/corslab/corslab/playground/session"
)

// bucketShare is the part of the memory budget that bucket objects may
// take, all buckets together. Objects cannot be shed as old traffic can,
// so without a share of their own a few full buckets could fill the budget
// and keep new learners out.
const bucketShare = 0.5

// admitObject refuses an object write on the s3 origin when the class's
// buckets already hold their share of the budget, as S3 answers when it
// must slow a client down (503 SlowDown), and notes the refusal in the
// session: the run that claims it says corslab refused it, not CORS.
func (s *Server) admitObject(w http.ResponseWriter, r *http.Request, sess *session.Session) bool {
	if r.Method != http.MethodPut && r.Method != http.MethodPost {
		return true
	}
	b := s.sessions.Budget()
	share := int64(float64(b.Limit()) * bucketShare)
	stored := s.sessions.Stored()
	if stored < share || isCORSConfig(r) {
		return true
	}
	msg := fmt.Sprintf("corslab: the buckets of this class hold %s, their share of corslab's memory budget (%s); "+
		"delete objects, or ask whoever runs corslab to raise --memory-budget.", bytesize.Format(stored), bytesize.Format(share))
	sess.Refuse(session.Refusal{Origin: S3.String(), Method: r.Method, Target: r.URL.RequestURI(),
		Status: http.StatusServiceUnavailable, Reason: msg})
	w.Header().Set("Retry-After", "10")
	w.Header().Set("Cache-Control", "no-store")
	id := s3err.NewRequestID()
	s3err.Identify(w.Header(), id)
	(&s3err.Error{Status: http.StatusServiceUnavailable, Code: "SlowDown", Message: msg}).Answer(w, r, id)
	return false
}

// isCORSConfig reports whether r is PutBucketCors, which the lab sends
// whenever the learner changes the bucket's rules: it stores a few
// hundred bytes and must never be refused for objects' sake.
func isCORSConfig(r *http.Request) bool {
	id, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	return id != "" && key == "" && r.URL.Query().Has("cors")
}
