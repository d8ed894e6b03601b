package origins

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"

	"github.com/corslab/corslab/playground/s3err"
)

// maxFakeError bounds the error document of gofakes3's that a fakeWriter
// holds to rewrite. gofakes3's documents are a few hundred bytes; the
// longest name the request's key, which the server's header limit keeps
// under 40 KiB, escaped to at most five bytes a byte. A longer body is
// not an error document of gofakes3's and is sent on as it is.
const maxFakeError = 256 << 10

// serveFake has gofakes3 serve r, through a fakeWriter: the answer keeps
// the ids ServeHTTP gave it, and an error document is S3's.
func (s *S3) serveFake(w http.ResponseWriter, r *http.Request, name, key string) {
	fw := &fakeWriter{ResponseWriter: w, r: r, id: w.Header().Get("x-amz-request-id")}
	s.fake.ServeHTTP(fw, r)
	fw.finish(func(e *s3err.Error) *s3err.Error { return s.asS3(e, r, name, key) })
}

// asS3 is the document S3 sends for one of gofakes3's errors, where the two
// differ: gofakes3 names the key of a NoSuchKey in a Resource element and
// gives no message, and writes neither the requested range nor the object's
// size into an InvalidRange.
func (s *S3) asS3(e *s3err.Error, r *http.Request, name, key string) *s3err.Error {
	switch e.Code {
	case "NoSuchKey":
		return noSuchKey(key)
	case "NoSuchBucket":
		return noSuchBucket(name)
	case "InvalidRange":
		o, err := s.backend.HeadObject(name, key)
		if err != nil {
			// gofakes3 refuses a Range it cannot parse before it looks
			// for the object; S3 ignores such a Range, and the object is
			// not there.
			return noSuchKey(key)
		}
		return invalidRange(r.Header.Get("Range"), o.Size)
	}
	return e
}

// fakeWriter is what gofakes3 writes its answer to. gofakes3 gives every
// answer ids of its own and its error documents none, indented, without
// the Content-Type it sets too late: fakeWriter puts back the ids the
// answer was given, and holds an error document until gofakes3 is done, to
// send it again as S3 writes it, ending with the same ids. Any other body
// streams through untouched.
type fakeWriter struct {
	http.ResponseWriter
	r      *http.Request
	id     string        // the answer's x-amz-request-id
	status int           // the status gofakes3 wrote; 0 until it does
	doc    *bytes.Buffer // an error document being held; nil when passing through
}

func (w *fakeWriter) WriteHeader(status int) {
	if w.status != 0 {
		return // superfluous
	}
	w.status = status
	s3err.Identify(w.Header(), w.id)
	switch {
	case status < 400:
		w.ResponseWriter.WriteHeader(status)
	case w.r.Method == http.MethodHead:
		// An error without a body, as S3 answers a HEAD.
		w.Header().Set("Content-Type", "application/xml")
		w.ResponseWriter.WriteHeader(status)
	default:
		w.doc = new(bytes.Buffer)
	}
}

func (w *fakeWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.doc == nil {
		return w.ResponseWriter.Write(p)
	}
	if w.doc.Len()+len(p) > maxFakeError {
		w.release(w.doc.Bytes())
		return w.ResponseWriter.Write(p)
	}
	return w.doc.Write(p)
}

// ReadFrom passes an object's body on to the writer underneath (see
// corsWriter.ReadFrom); an error document being held goes through Write.
func (w *fakeWriter) ReadFrom(src io.Reader) (int64, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok && w.doc == nil {
		return rf.ReadFrom(src)
	}
	return io.Copy(writerOnly{w}, src)
}

// release sends the held status line and body as gofakes3 wrote them, and
// passes the rest through.
func (w *fakeWriter) release(body []byte) {
	w.doc = nil
	w.ResponseWriter.WriteHeader(w.status)
	w.ResponseWriter.Write(body)
}

// finish sends the error document held, S3's for gofakes3's: its code,
// message and other elements, in gofakes3's order but for those asS3
// makes S3's, then the answer's ids. A body that is no error document is
// sent as it came.
func (w *fakeWriter) finish(asS3 func(*s3err.Error) *s3err.Error) {
	if w.status == 0 {
		// Nothing written: the ids still go out with whatever follows.
		s3err.Identify(w.Header(), w.id)
		return
	}
	if w.doc == nil {
		return
	}
	e, ok := parseError(w.doc.Bytes())
	if !ok {
		w.release(w.doc.Bytes())
		return
	}
	e.Status = w.status
	w.doc = nil
	asS3(e).Write(w.ResponseWriter, w.id)
}

// parseError reads an S3 error document: <Error> and the elements in it,
// each as its text. RequestId and HostId are left out, as they belong to
// the answer that sends the document.
func parseError(doc []byte) (*s3err.Error, bool) {
	var parsed struct {
		XMLName  xml.Name `xml:"Error"`
		Elements []struct {
			XMLName xml.Name
			Text    string `xml:",chardata"`
		} `xml:",any"`
	}
	if err := xml.Unmarshal(doc, &parsed); err != nil {
		return nil, false
	}
	e := &s3err.Error{}
	for _, el := range parsed.Elements {
		switch el.XMLName.Local {
		case "Code":
			e.Code = el.Text
		case "Message":
			e.Message = el.Text
		case "RequestId", "HostId":
		default:
			e.Extra = append(e.Extra, [2]string{el.XMLName.Local, el.Text})
		}
	}
	return e, e.Code != ""
}
