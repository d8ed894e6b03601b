package s3err

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"testing"
)

func TestAnswer(t *testing.T) {
	e := &Error{Status: http.StatusNotFound, Code: "NoSuchBucket", Message: "The specified bucket does not exist",
		Extra: [][2]string{{"BucketName", "b"}}}
	doc := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message>` +
		`<BucketName>b</BucketName><RequestId>R1</RequestId><HostId>` + HostID("R1") + `</HostId></Error>`
	tests := []struct {
		desc, method, body, length string
	}{
		{desc: "a GET gets the document", method: "GET", body: doc, length: strconv.Itoa(len(doc))},
		{desc: "a HEAD gets the status alone, as S3 answers it", method: "HEAD"},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		e.Answer(w, httptest.NewRequest(tt.method, "/b/k", nil), "R1")
		got := w.Result()
		if got.StatusCode != 404 || w.Body.String() != tt.body {
			t.Errorf("%s: %d %q, want 404 %q", tt.desc, got.StatusCode, w.Body.String(), tt.body)
		}
		if ct, cl := got.Header.Get("Content-Type"), got.Header.Get("Content-Length"); ct != "application/xml" || cl != tt.length {
			t.Errorf("%s: Content-Type %q, Content-Length %q; want application/xml, %q", tt.desc, ct, cl, tt.length)
		}
	}
}

func TestIdentify(t *testing.T) {
	id := NewRequestID()
	if !regexp.MustCompile(`^[0-9A-F]{16}$`).MatchString(id) {
		t.Errorf("request id %q, want 16 upper-case hex digits as S3's", id)
	}
	if other := NewRequestID(); other == id {
		t.Errorf("two answers got the same request id %q", id)
	}
	h := http.Header{}
	Identify(h, id)
	if h.Get("x-amz-request-id") != id || h.Get("x-amz-id-2") != HostID(id) {
		t.Errorf("headers %v, want the request id and its HostID", h)
	}
}
