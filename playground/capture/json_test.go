package capture

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// encodingJSON is ex as encoding/json writes it without HTML escaping:
// what AppendJSON must write, byte for byte.
func encodingJSON(t testing.TB, ex *Exchange) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ex); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	full := Exchange{
		Seq: 42, Origin: "api", Kind: KindPreflight, Client: "127.0.0.1:5555",
		Start: time.Date(2026, 12, 6, 1, 2, 3, 456789000, time.UTC), DurationMs: 0.125,
		Request: Message{Method: "OPTIONS", Target: "/s/users?x=<1>&y=\"2\"", Proto: "HTTP/1.1",
			Headers: [][2]string{{"Host", "127.0.0.1:8082"}, {"Origin", "null"}, {"X-Odd", "tab\there \xff \u2028"}},
			Body:    "", BodySize: 0},
		Response: Message{Proto: "HTTP/1.1", Status: 204, Reason: "No Content",
			Headers: [][2]string{}, Body: "AAEC", BodySize: 3, BodyTruncated: true, BodyEncoding: "base64", BodyDropped: true},
		Raw: Raw{Request: "OPTIONS / HTTP/1.1\r\nHost: x\r\n\r\n", Response: "HTTP/1.1 204 No Content\r\n\r\n"},
	}
	for name, ex := range map[string]Exchange{"full": full, "zero": {}, "no response": {Request: full.Request, Raw: Raw{Request: full.Raw.Request, Response: noResponse}}} {
		if got, want := string(ex.AppendJSON(nil)), encodingJSON(t, &ex); got != want {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
}

func FuzzAppendJSON(f *testing.F) {
	f.Add("GET", "/a?b=c", "Origin", "http://x", "body <&>", int64(7), 200, 1.5, "GET / HTTP/1.1\r\n\r\n")
	f.Add("", "", "", "\x00\xff", "", int64(0), 0, 1e-9, "")
	f.Fuzz(func(t *testing.T, method, target, name, value, body string, size int64, status int, ms float64, raw string) {
		ex := Exchange{Seq: uint64(size), Origin: name, Kind: value, Client: target, Start: time.Unix(size%1e10, int64(status)).UTC(), DurationMs: ms,
			Request:  Message{Method: method, Target: target, Proto: "HTTP/1.1", Headers: [][2]string{{name, value}}, Body: body, BodySize: size},
			Response: Message{Status: status, Reason: value, Body: body, BodyTruncated: size%2 == 0, BodyDropped: size%3 == 0},
			Raw:      Raw{Request: raw, Response: body}}
		var want string
		{
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false)
			if enc.Encode(&ex) != nil {
				return // NaN or ±Inf: encoding/json refuses them; durations are finite
			}
			want = strings.TrimSuffix(b.String(), "\n")
		}
		if got := string(ex.AppendJSON(nil)); got != want {
			t.Errorf("\n got %s\nwant %s", got, want)
		}
	})
}

func BenchmarkExchangeJSON(b *testing.B) {
	head := strings.Repeat("X-Header: some value, another value\r\n", 12)
	ex := Exchange{Seq: 1, Origin: "api", Kind: KindCORS, Client: "127.0.0.1:1", Start: time.Now(), DurationMs: 0.3,
		Request:  Message{Method: "GET", Target: "/s/users", Proto: "HTTP/1.1", Headers: make([][2]string, 12), Body: ""},
		Response: Message{Proto: "HTTP/1.1", Status: 200, Reason: "OK", Headers: make([][2]string, 12), Body: `[{"id":1,"name":"Ada"}]`, BodySize: 23},
		Raw:      Raw{Request: "GET /s/users HTTP/1.1\r\n" + head, Response: "HTTP/1.1 200 OK\r\n" + head}}
	for i := range ex.Request.Headers {
		ex.Request.Headers[i] = [2]string{"X-Header", "some value, another value"}
		ex.Response.Headers[i] = ex.Request.Headers[i]
	}
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 8192)
		for b.Loop() {
			buf = ex.AppendJSON(buf[:0])
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		for b.Loop() {
			buf.Reset()
			enc.Encode(&ex)
		}
	})
}
