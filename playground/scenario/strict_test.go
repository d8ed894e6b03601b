package scenario

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// nullMeans lists the fields where null is a value of its own (README, "The
// scenario"): no Access-Control-Max-Age, no bucket CORS configuration.
var nullMeans = map[string]bool{
	"api.maxAge":                  true,
	"bucket.cors":                 true,
	"bucket.cors.0.maxAgeSeconds": true,
}

// fieldPaths lists the dotted JSON path of every field of t and of the
// structs inside it; the fields of a list's element are under index 0.
func fieldPaths(t reflect.Type, prefix string) []string {
	var paths []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		path := prefix + name
		paths = append(paths, path)
		switch ft := t.Field(i).Type; {
		case ft.Kind() == reflect.Struct:
			paths = append(paths, fieldPaths(ft, path+".")...)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			paths = append(paths, fieldPaths(ft.Elem(), path+".0.")...)
		}
	}
	return paths
}

// nullDocument is a scenario document with null at path, a field path
// from fieldPaths. A bucket rule around it is otherwise valid.
func nullDocument(t *testing.T, path string) []byte {
	t.Helper()
	doc := map[string]any{}
	obj := doc
	parts := strings.Split(path, ".")
	for i, part := range parts {
		switch {
		case i == len(parts)-1:
			obj[part] = nil
		case i+1 < len(parts) && parts[i+1] == "0": // into a bucket rule
			rule := map[string]any{"allowedOrigins": []string{"*"}, "allowedMethods": []string{"GET"}}
			obj[part] = []any{rule}
			obj = rule
		case part == "0":
		default:
			next := map[string]any{}
			obj[part] = next
			obj = next
		}
	}
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestDecodeRefusesNullInEveryField puts null in each field of the
// Scenario type in turn, nested ones too: only the fields where null means
// something take it, every other one is a field error on that field alone.
func TestDecodeRefusesNullInEveryField(t *testing.T) {
	paths := fieldPaths(reflect.TypeFor[Scenario](), "")
	if len(paths) < 30 {
		t.Fatalf("found only %d fields: %v", len(paths), paths)
	}
	for _, path := range paths {
		doc := nullDocument(t, path)
		_, err := Decode(doc)
		if nullMeans[path] {
			if err != nil {
				t.Errorf("%s: null means something here, but Decode(%s) says %v", path, doc, err)
			}
			continue
		}
		errs, ok := errors.AsType[FieldErrors](err)
		if !ok {
			t.Errorf("%s: Decode(%s) = %v, want a field error", path, doc, err)
			continue
		}
		if len(errs) != 1 || !strings.Contains(errs[path], "not null") {
			t.Errorf("%s: Decode(%s) says %v, want one error, on %s, about null", path, doc, errs, path)
		}
	}
}

func TestDecodeRefusesNull(t *testing.T) {
	tests := []struct {
		desc string
		in   string
		want FieldErrors
	}{
		{
			desc: "a null setup",
			in:   `{"setup": null}`,
			want: FieldErrors{"setup": "must be a string, not null; leave the field out to keep its default"},
		},
		{
			desc: "a null bool",
			in:   `{"api": {"requireLogin": null}}`,
			want: FieldErrors{"api.requireLogin": "must be true or false, not null; leave the field out to keep its default"},
		},
		{
			desc: "every null is reported, next to the other errors",
			in:   `{"setup": null, "request": {"mode": null}, "api": {"match": "glob", "preflightStatus": null}}`,
			want: FieldErrors{
				"setup":               "must be a string, not null; leave the field out to keep its default",
				"request.mode":        "must be a string, not null; leave the field out to keep its default",
				"api.preflightStatus": "must be a number, not null; leave the field out to keep its default",
				"api.match":           `must be one of exact, suffix, prefix, regex; got "glob"`,
			},
		},
		{
			desc: "a null object",
			in:   `{"api": null}`,
			want: FieldErrors{"api": "must be an object, not null; leave the field out to keep its default"},
		},
		{
			desc: "keys are the fields' names, whatever the case written",
			in:   `{"API": {"RequireLogin": null}}`,
			want: FieldErrors{"api.requireLogin": "must be true or false, not null; leave the field out to keep its default"},
		},
		{
			desc: "a null header value",
			in:   `{"request": {"headers": {"X-A": "1", "X-B": null}}}`,
			want: FieldErrors{"request.headers": `entry "X-B" must be a string, not null`},
		},
		{
			desc: "a null extra header",
			in:   `{"api": {"extraHeaders": {"X-A": null}}}`,
			want: FieldErrors{"api.extraHeaders": `entry "X-A" must be a string, not null`},
		},
		{
			desc: "a null allowlist entry, not taken for an empty one",
			in:   `{"api": {"allowOrigin": "allowlist", "allowlist": ["http://a.test", null]}}`,
			want: FieldErrors{"api.allowlist": "entry 2 must be a string, not null"},
		},
		{
			desc: "a null bucket rule, not taken for an empty one",
			in:   `{"bucket": {"cors": [null]}}`,
			want: FieldErrors{"bucket.cors.0": "must be an object, not null"},
		},
		{
			desc: "a null entry of a bucket rule's list",
			in:   `{"bucket": {"cors": [{"allowedOrigins": ["*", null], "allowedMethods": ["GET"]}]}}`,
			want: FieldErrors{"bucket.cors.0.allowedOrigins": "entry 2 must be a string, not null"},
		},
		{
			desc: "a null list of a bucket rule",
			in:   `{"bucket": {"cors": [{"allowedOrigins": ["*"], "allowedMethods": ["GET"], "allowedHeaders": null}]}}`,
			want: FieldErrors{"bucket.cors.0.allowedHeaders": "must be an array, not null; leave the field out to keep its default"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) { wantFieldErrors(t, tc.in, tc.want) })
	}
}

func TestDecodeKeepsMeaningfulNull(t *testing.T) {
	for _, in := range []string{
		`null`,
		`{"api": {"maxAge": null}}`,
		`{"bucket": {"cors": null}}`,
		`{"bucket": {"cors": [{"allowedOrigins": ["*"], "allowedMethods": ["GET"], "maxAgeSeconds": null}]}}`,
	} {
		if _, err := Decode([]byte(in)); err != nil {
			t.Errorf("Decode(%s): %v", in, err)
		}
	}
}

func TestDecodeRefusesInvalidUTF8(t *testing.T) {
	tests := []struct {
		desc string
		in   string
		want string // the *DecodeError's text
	}{
		{
			desc: "a byte that is never UTF-8, in a string",
			in:   "{\"request\":{\"body\":\"é\xff\"}}",
			want: "line 1, column 22: invalid UTF-8 (byte 0xFF); JSON text must be UTF-8",
		},
		{
			desc: "on a later line",
			in:   "{\n  \"api\": {\n    \"allowOrigin\": \"h\xe9llo\"\n  }\n}",
			want: "line 3, column 22: invalid UTF-8 (byte 0xE9); JSON text must be UTF-8",
		},
		{
			desc: "a sequence cut short at the end",
			in:   "{\"setup\":\"\xe2\x82",
			want: "line 1, column 11: invalid UTF-8 (byte 0xE2); JSON text must be UTF-8",
		},
		{
			desc: "a surrogate encoded as UTF-8",
			in:   "{\"setup\":\"\xed\xa0\x80\"}",
			want: "line 1, column 11: invalid UTF-8 (byte 0xED); JSON text must be UTF-8",
		},
		{
			desc: "outside a string",
			in:   "{\"setup\":\x80}",
			want: "line 1, column 10: invalid UTF-8 (byte 0x80); JSON text must be UTF-8",
		},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			s, err := Decode([]byte(tc.in))
			derr, ok := errors.AsType[*DecodeError](err)
			if !ok || derr.Error() != tc.want {
				t.Errorf("Decode(%q) = %v, want %q", tc.in, err, tc.want)
			}
			if !reflect.DeepEqual(s, Scenario{}) {
				t.Errorf("Decode(%q) failed but returned a scenario", tc.in)
			}
		})
	}
	// U+FFFD written as itself is text like any other.
	s, err := Decode([]byte("{\"request\":{\"method\":\"POST\",\"body\":\"\xef\xbf\xbd\"}}"))
	if err != nil || s.Request.Body != "\uFFFD" {
		t.Errorf("a written U+FFFD: %q, %v", s.Request.Body, err)
	}
}
