package playground

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/corslab/corslab/playground/scenario"
	"github.com/corslab/corslab/playground/session"
)

// pageRun is a run as the lab page posts it.
const pageRun = `{"request": {"from": "app", "lookalikeHost": "app-corslab.localhost", "target": "api", "method": "PUT", "path": "/users/1",
	"headers": {"X-Trace": "1", "Content-Type": "application/json"}, "body": "{\"name\":\"Ada\"}", "credentials": "include", "mode": "cors", "redirect": "follow"},
	"url": "http://127.0.0.1:8082/q3x7c2hzq6yo4bmwl5u2xlbfwa/users/1", "since": 12,
	"browser": {"ok": false, "status": 0, "error": "TypeError: Failed to fetch", "type": "", "redirected": false, "url": "",
		"headers": [], "body": "", "bodyTruncated": false, "durationMs": 3.25},
	"userAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"prediction": {"ok": false, "stage": "preflight"}, "documentId": "d1k2"}`

// TestDecodeRunMatchesEncodingJSON decodes documents the fast path reads
// and documents it leaves to encoding/json: either way, the run and the
// error are encoding/json's.
func TestDecodeRunMatchesEncodingJSON(t *testing.T) {
	tests := []struct {
		desc string
		doc  string
		fast bool // read by runDecoder, not encoding/json
	}{
		{desc: "a run as the lab page posts it", doc: pageRun, fast: true},
		{desc: "an empty object", doc: `{}`, fast: true},
		{desc: "white space everywhere JSON allows it", doc: " \t\r\n{ \"url\" : \"x\" , \"since\" :0 }\n", fast: true},
		{desc: "escapes, a surrogate pair and UTF-8",
			doc: `{"url": "a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00 é😀", "request": {"headers": {"X-A": "\u2028"}}}`, fast: true},
		{desc: "a key with an escape", doc: `{"ur\u006c": "x", "request": {"headers": {"X-\u0041": "1"}}}`},
		{desc: "a lone surrogate, which encoding/json turns into U+FFFD", doc: `{"url": "\ud800x"}`, fast: true},
		{desc: "a response's headers and body", fast: true,
			doc: `{"browser": {"ok": true, "status": 200, "type": "cors", "redirected": true, "url": "http://x/",
				"headers": [["content-type", "text/plain"], ["x-a", ""]], "body": "<b>&</b>", "bodyTruncated": true, "headersTruncated": true}}`},
		{desc: "numbers in every form JSON has", fast: true,
			doc: `{"since": 18446744073709551615, "browser": {"status": -0, "durationMs": -12.5e-3}}`},
		{desc: "a header named twice", doc: `{"request": {"headers": {"X-A": "1", "X-A": "2"}}}`},
		{desc: "a prediction the server will score", doc: `{"prediction": {"ok": true, "stage": "", "correct": true}}`, fast: true},

		{desc: "null for a string", doc: `{"url": null}`},
		{desc: "null for the prediction", doc: `{"prediction": null}`},
		{desc: "null for the headers", doc: `{"request": {"headers": null}, "browser": {"headers": null}}`},
		{desc: "a key in another case", doc: `{"URL": "x"}`},
		{desc: "an unknown field", doc: `{"url": "x", "verdict": {}}`},
		{desc: "an unknown field inside browser", doc: `{"browser": {"okay": true}}`},
		{desc: "a field given twice", doc: `{"url": "a", "url": "b"}`},
		{desc: "since below zero", doc: `{"since": -1}`},
		{desc: "since past uint64", doc: `{"since": 18446744073709551616}`},
		{desc: "since as a fraction", doc: `{"since": 1.5}`},
		{desc: "since as a string", doc: `{"since": "1"}`},
		{desc: "a status with an exponent", doc: `{"browser": {"status": 2e2}}`},
		{desc: "a duration out of float64's range", doc: `{"browser": {"durationMs": 1e400}}`},
		{desc: "a number with a leading zero", doc: `{"since": 01}`},
		{desc: "a number without digits", doc: `{"since": -}`},
		{desc: "a header pair of three", doc: `{"browser": {"headers": [["a", "b", "c"]]}}`},
		{desc: "a header pair of one", doc: `{"browser": {"headers": [["a"]]}}`},
		{desc: "a header value that is a number", doc: `{"request": {"headers": {"X-A": 1}}}`},
		{desc: "a bool as a string", doc: `{"browser": {"ok": "true"}}`},
		{desc: "a bool cut short", doc: `{"browser": {"ok": tru}}`},
		{desc: "a raw tab in a string", doc: "{\"url\": \"a\tb\"}"},
		{desc: "a bad escape", doc: `{"url": "\x"}`},
		{desc: "invalid UTF-8", doc: "{\"url\": \"\xff\"}"},
		{desc: "data after the run", doc: `{} {}`},
		{desc: "a brace after the run, which encoding/json's More lets pass", doc: `{} }`},
		{desc: "a trailing comma", doc: `{"url": "x",}`},
		{desc: "an array", doc: `[]`},
		{desc: "nothing", doc: ``},
		{desc: "a run cut short", doc: pageRun[:len(pageRun)/2]},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			var fast newRun
			d := runDecoder{data: tt.doc}
			if got := d.run(&fast); got != tt.fast {
				t.Errorf("runDecoder read it: %v, want %v", got, tt.fast)
			}
			var got, want newRun
			want.reset() // a run without request.via ran fetch()
			gotErr, wantErr := decodeRun([]byte(tt.doc), &got), decodeJSON([]byte(tt.doc), &want)
			if errText(gotErr) != errText(wantErr) || !reflect.DeepEqual(got, want) {
				t.Errorf("decodeRun = %+v, %v\nencoding/json: %+v, %v", got, gotErr, want, wantErr)
			}
		})
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestRunDecoderKnowsEveryField posts a run with every field of newRun set:
// the fast path must read it all. A field added to newRun (or to the
// request, browser or prediction it holds) must be added to sampleRun,
// which fails this test until runDecoder reads it too.
func TestRunDecoderKnowsEveryField(t *testing.T) {
	sample := newRun{
		Request: scenario.Request{From: "sandbox", LookalikeHost: "l.localhost", Target: "s3", Method: "PATCH", Path: "/p?q=1",
			Headers: map[string]string{"X-A": "1"}, Body: "b", Credentials: "include", Mode: "no-cors", Redirect: "manual",
			Via: "img", CrossOrigin: "anonymous", WithCredentials: true, Enctype: "text/plain"},
		URL: "http://u", Since: 7,
		Browser: session.Browser{OK: true, Status: 204, Error: "e", Type: "opaque", Redirected: true, URL: "http://r",
			Headers: [][2]string{{"a", "b"}}, Body: "body", BodyTruncated: true, HeadersTruncated: true, DurationMs: 1.5,
			Door: &session.Door{Via: "img", Event: "load", Width: 120, Height: 60, Canvas: "tainted", ScriptError: "Script error.",
				Rules: "blocked", Applied: true, Messages: []string{"m"}, CloseCode: 1000}},
		UserAgent: "ua", Prediction: &session.Prediction{OK: true, Stage: "response", Correct: true}, DocumentID: "d",
	}
	if zero := zeroFields(reflect.ValueOf(sample), "newRun"); len(zero) > 0 {
		t.Fatalf("the sample leaves %s unset: set them, and teach runDecoder to read them", strings.Join(zero, ", "))
	}
	doc, err := json.Marshal(sample)
	if err != nil {
		t.Fatal(err)
	}
	var got newRun
	if d := (runDecoder{data: string(doc)}); !d.run(&got) {
		t.Fatalf("runDecoder gave up on %s", doc)
	}
	if !reflect.DeepEqual(got, sample) {
		t.Errorf("runDecoder read\n%+v\nwant\n%+v", got, sample)
	}
}

// zeroFields lists the struct fields under v left at their zero value.
func zeroFields(v reflect.Value, path string) []string {
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		if v.IsZero() {
			return []string{path}
		}
		return nil
	}
	var zero []string
	for i := range v.NumField() {
		zero = append(zero, zeroFields(v.Field(i), path+"."+v.Type().Field(i).Name)...)
	}
	return zero
}

// FuzzDecodeRun: whatever runDecoder reads, encoding/json reads the same.
func FuzzDecodeRun(f *testing.F) {
	for _, seed := range []string{pageRun, `{}`, `{"url": "\u00e9"}`, `{"since": 1e2}`, `{"browser": {"headers": [["a", "b"]]}}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		var fast newRun
		if d := (runDecoder{data: string(doc)}); !d.run(&fast) {
			return
		}
		var want newRun
		if err := decodeJSON(doc, &want); err != nil || !reflect.DeepEqual(fast, want) {
			t.Errorf("runDecoder read %q as %+v; encoding/json: %+v, %v", doc, fast, want, err)
		}
	})
}

// BenchmarkDecodeRun decodes and validates the run a page posts, with
// encoding/json (as POST /runs did) and with decodeRun.
func BenchmarkDecodeRun(b *testing.B) {
	doc := []byte(pageRun)
	for _, bb := range []struct {
		name   string
		decode func([]byte, *newRun) error
	}{
		{"encoding-json", func(data []byte, n *newRun) error { n.reset(); return decodeJSON(data, n) }},
		{"decodeRun", decodeRun},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var n newRun
				if err := bb.decode(doc, &n); err != nil {
					b.Fatal(err)
				}
				if errs := n.validate(); errs != nil {
					b.Fatal(errs)
				}
			}
		})
	}
}
