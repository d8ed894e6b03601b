package jsonw

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

// reference is what encoding/json writes for v without HTML escaping.
func reference(t testing.TB, v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func TestStringMatchesEncodingJSON(t *testing.T) {
	cases := []string{
		"", "a", `"`, `\`, "<b>&amp;</b>", "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"\b\f\n\r\t\x00\x01\x1f\x7f", "héllo wörld ✓", "\u2028\u2029", "bad \xff\xfe utf8",
		"truncated \xe2\x82", strings.Repeat("abcdefg\"", 9), strings.Repeat("plain ascii text ", 20) + "\x00",
		"12345678\n", "1234567\xc3\xa9", "\xed\xa0\x80 surrogate",
	}
	for _, s := range cases {
		if got, want := string(String(nil, s)), reference(t, s); got != want {
			t.Errorf("String(%q) = %s, want %s", s, got, want)
		}
	}
}

func FuzzString(f *testing.F) {
	f.Add("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	f.Add("\u2028 \xff \"\\")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(String(nil, s)), reference(t, s); got != want {
			t.Errorf("String(%q) = %s, want %s", s, got, want)
		}
	})
}

func TestNumbersAndTimesMatchEncodingJSON(t *testing.T) {
	for _, f := range []float64{0, 1, -1, 0.5, 12.345678, 1e-7, 1.5e-9, 1e21, 123456789012345678901234.0, 1e20, -2.5e-8, math.SmallestNonzeroFloat64, math.MaxFloat64} {
		if got, want := string(Float(nil, f)), reference(t, f); got != want {
			t.Errorf("Float(%v) = %s, want %s", f, got, want)
		}
	}
	for _, tm := range []time.Time{
		time.Date(2026, 12, 6, 1, 2, 3, 0, time.UTC),
		time.Date(2026, 12, 6, 1, 2, 3, 450_000_000, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.FixedZone("x", 3600)),
	} {
		if got, want := string(Time(nil, tm)), reference(t, tm); got != want {
			t.Errorf("Time(%v) = %s, want %s", tm, got, want)
		}
	}
	if got := string(Key(Key([]byte("{"), "a"), "b")); got != `{"a":,"b":` {
		t.Errorf("Key: %s", got)
	}
}

func BenchmarkString(b *testing.B) {
	s := strings.Repeat("Access-Control-Allow-Origin: http://127.0.0.1:8081\r\n", 20)
	b.Run("jsonw", func(b *testing.B) {
		buf := make([]byte, 0, 4096)
		b.SetBytes(int64(len(s)))
		for b.Loop() {
			buf = String(buf[:0], s)
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		b.SetBytes(int64(len(s)))
		for b.Loop() {
			buf.Reset()
			enc.Encode(s)
		}
	})
}
