package capture

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
)

// object is what gofakes3 hands io.Copy: a reader that hides bytes.Reader's
// WriteTo behind a Close.
type object struct{ io.Reader }

func (object) Close() error { return nil }

const smallObject = "hello from corslab's bucket\n" // 28 bytes, as in lessons

// serveObject copies a small object into w with io.Copy, as gofakes3 does.
func serveObject(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	io.Copy(w, object{strings.NewReader(smallObject)})
}

// A body copied in with io.Copy goes through the pooled buffer, reaches the
// client and is captured.
func TestReadFromCapturesTheBody(t *testing.T) {
	var ex *Exchange
	rec := httptest.NewRecorder()
	w, r, finish := Start(rec, httptest.NewRequest("GET", "/s/hello.txt", nil), "s3", func(e *Exchange) { ex = e })
	if _, ok := w.(io.ReaderFrom); !ok {
		t.Fatal("capture's writer is no io.ReaderFrom: io.Copy would allocate a buffer per response")
	}
	serveObject(w, r)
	finish()
	if rec.Body.String() != smallObject || ex == nil || ex.Response.Body != smallObject || ex.Response.BodySize != int64(len(smallObject)) {
		t.Errorf("client got %q; exchange %+v", rec.Body, ex)
	}
}

// Serving a 28-byte object costs a few KiB, less than io.Copy's 32 KiB
// buffer alone. (Under the race detector sync.Pool drops some buffers on
// purpose: still far less.)
func TestReadFromAllocatesNoCopyBuffer(t *testing.T) {
	const runs = 200
	serve := func() {
		w, r, finish := Start(httptest.NewRecorder(), httptest.NewRequest("GET", "/s/hello.txt", nil), "s3", func(*Exchange) {})
		serveObject(w, r)
		finish()
	}
	serve() // the pool's first buffer
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		serve()
	}
	runtime.ReadMemStats(&after)
	if perRun := (after.TotalAlloc - before.TotalAlloc) / runs; perRun >= 32<<10 {
		t.Errorf("serving a %d-byte object allocated %d bytes", len(smallObject), perRun)
	}
}

// BenchmarkCopyObject serves a small object with io.Copy through capture's
// writer, and through a wrapper that hides its ReadFrom (as the s3
// origin's corsWriter does, unless it passes ReadFrom on).
func BenchmarkCopyObject(b *testing.B) {
	for _, bb := range []struct {
		name string
		wrap func(http.ResponseWriter) http.ResponseWriter
	}{
		{"ReadFrom", func(w http.ResponseWriter) http.ResponseWriter { return w }},
		{"hidden", func(w http.ResponseWriter) http.ResponseWriter { return struct{ http.ResponseWriter }{w} }},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w, r, finish := Start(httptest.NewRecorder(), httptest.NewRequest("GET", "/s/hello.txt", nil), "s3", func(*Exchange) {})
				serveObject(bb.wrap(w), r)
				finish()
			}
		})
	}
}
