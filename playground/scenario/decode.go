package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// DecodeError is a scenario document that is not JSON, or whose JSON does not
// fit the Scenario type: a byte that is not UTF-8 (CheckUTF8, which other
// JSON bodies share), a syntax error, a value of the wrong type, an unknown
// field or data after the document.
type DecodeError struct {
	// Line and Column locate the problem, both counting from 1. Column
	// counts characters (runes), not bytes.
	Line, Column int
	Msg          string
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// Decode reads a scenario document. Fields the document leaves out keep
// their value from Default, so `{"api":{"allowOrigin":"echo"}}` changes one
// setting, and an empty document or `null` is Default itself.
//
// A document that cannot be decoded gives a *DecodeError: one that is not
// UTF-8, not JSON, or does not fit the Scenario type. A decoded scenario
// that breaks a rule is returned along with its FieldErrors. null is such a
// mistake wherever the field has no null value (see nullErrors): only
// api.maxAge, bucket.cors and a bucket rule's maxAgeSeconds take null. After
// a successful decode, Request.Headers, API.Allowlist, API.ExtraHeaders and
// the lists of every bucket rule are never nil.
func Decode(data []byte) (Scenario, error) {
	s := Default()
	if len(data) == skipSpace(data, 0) {
		return s, nil
	}
	if err := CheckUTF8(data); err != nil {
		return Scenario{}, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Scenario{}, decodeError(data, err)
	}
	if off := skipSpace(data, int(dec.InputOffset())); off < len(data) {
		return Scenario{}, errorAt(data, off, "unexpected data after the end of the scenario")
	}
	if s.Request.Headers == nil {
		s.Request.Headers = map[string]string{}
	}
	if s.API.ExtraHeaders == nil {
		s.API.ExtraHeaders = map[string]string{}
	}
	if s.API.Allowlist == nil {
		s.API.Allowlist = []string{}
	}
	s.Bucket.normalize()
	errs := s.Validate()
	if nulls := nullErrors(data); nulls != nil {
		// encoding/json leaves a field that is null as it was, and puts a
		// zero value in a list or map: what Validate says of that value, or
		// of what is inside it, is not about the document.
		for key := range errs {
			for null := range nulls {
				if key == null || strings.HasPrefix(key, null+".") {
					delete(errs, key)
				}
			}
		}
		if errs == nil {
			errs = FieldErrors{}
		}
		maps.Copy(errs, nulls)
	}
	if len(errs) > 0 {
		return s, errs
	}
	return s, nil
}

// CheckUTF8 refuses JSON text that is not UTF-8 (RFC 8259, 8.1) with a
// *DecodeError at the first byte that is not. encoding/json would decode
// each such byte in a string as U+FFFD, so corslab would keep and show
// another text than the one it was sent.
func CheckUTF8(data []byte) error {
	for off := 0; off < len(data); {
		r, size := utf8.DecodeRune(data[off:])
		if r == utf8.RuneError && size == 1 {
			return errorAt(data, off, fmt.Sprintf("invalid UTF-8 (byte 0x%02X); JSON text must be UTF-8", data[off]))
		}
		off += size
	}
	return nil
}

// decodeError turns an error from json.Decoder.Decode into a *DecodeError.
func decodeError(data []byte, err error) *DecodeError {
	if syn, ok := errors.AsType[*json.SyntaxError](err); ok {
		// Offset is just past the byte that broke the syntax.
		return errorAt(data, int(syn.Offset)-1, syn.Error())
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return errorAt(data, len(data), "unexpected end of JSON input")
	}
	// The document is well-formed JSON. An UnmarshalTypeError's Offset
	// points past the value, or into it for objects and arrays, and an
	// unknown field has no position at all, so find the culprit ourselves.
	if m, ok := findMismatch(data); ok {
		return errorAt(data, m.off, m.msg)
	}
	if typ, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		return errorAt(data, int(typ.Offset), typeMessage(typ.Field, typ.Type, typ.Value))
	}
	return errorAt(data, 0, strings.TrimPrefix(err.Error(), "json: "))
}

// errorAt returns a *DecodeError for msg at byte offset off of data.
func errorAt(data []byte, off int, msg string) *DecodeError {
	off = max(0, min(off, len(data)))
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	start := bytes.LastIndexByte(data[:off], '\n') + 1
	return &DecodeError{Line: line, Column: 1 + utf8.RuneCount(data[start:off]), Msg: msg}
}

// skipSpace returns the offset of the first byte at or after off that is not
// JSON whitespace.
func skipSpace(data []byte, off int) int {
	for off < len(data) && strings.IndexByte(" \t\r\n", data[off]) >= 0 {
		off++
	}
	return off
}

// typeMessage says that the value at path is not of type t. got describes
// the JSON value, as in json.UnmarshalTypeError.Value: "string",
// "number 1.5", "object"...
func typeMessage(path string, t reflect.Type, got string) string {
	msg := fmt.Sprintf("expected %s, got %s", describe(t, got), got)
	if path == "" {
		return msg
	}
	return path + ": " + msg
}

// describe names the JSON values that fit t.
func describe(t reflect.Type, got string) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if strings.HasPrefix(got, "number") {
			return "a whole number"
		}
		return "a number"
	case reflect.Slice:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return t.String()
}

// A mismatch is an unknown field or a value of the wrong type, at byte
// offset off.
type mismatch struct {
	off int
	msg string
}

// findMismatch walks data, a well-formed JSON document, along the Scenario
// type, and reports the first unknown field or value of the wrong type in
// document order: the one json.Decoder reports, since it keeps the first.
// Paths in messages name map keys and array indexes too:
// "request.headers.X-A", "api.allowlist[2]".
func findMismatch(data []byte) (mismatch, bool) {
	w := newWalker(data)
	m, err := w.value(reflect.TypeFor[Scenario](), "", slot{nullable: true})
	if err != nil || m == nil {
		return mismatch{}, false
	}
	return *m, true
}

// nullErrors walks data, a document that decodes into a Scenario, and
// reports every null where a value belongs, or nil if there is none.
// encoding/json takes null for "leave the field as it is" (a zero value in
// a list or map), which would hide a mistake: `{"setup": null}` is not the
// default setup. null is allowed where it has a meaning: in a pointer field
// (api.maxAge, a bucket rule's maxAgeSeconds: no header), for bucket.cors
// (no configuration), and as the whole document (Default).
func nullErrors(data []byte) FieldErrors {
	if !bytes.Contains(data, []byte("null")) {
		return nil // no null token can hide in it: skip the walk
	}
	w := newWalker(data)
	if m, err := w.value(reflect.TypeFor[Scenario](), "", slot{nullable: true}); m != nil || err != nil {
		return nil // Decode has already refused the document
	}
	if len(w.nulls) == 0 {
		return nil
	}
	return w.nulls
}

// nullable reports whether the field of struct type t named name (its JSON
// name) takes null: see nullErrors.
func nullable(t reflect.Type, name string, ft reflect.Type) bool {
	return ft.Kind() == reflect.Pointer || t == reflect.TypeFor[Bucket]() && name == "cors"
}

// A slot is where a value sits in the document, for what a null there
// means.
type slot struct {
	// key is the FieldErrors key of the field: its dotted JSON path, with a
	// bucket rule's index ("bucket.cors.0.allowedOrigins"). An entry of a
	// list of strings or of a map belongs to the list's or the map's key,
	// as in Validate.
	key string
	// entry names the entry within key, or is "" for the field itself.
	entry string
	// nullable says null is a value here.
	nullable bool
	// isField says the slot is a field of an object, which the document
	// may leave out.
	isField bool
}

// nullMessage says that the slot, of type t, cannot be null.
func (sl slot) nullMessage(t reflect.Type) string {
	msg := fmt.Sprintf("must be %s, not null", describe(t, "null"))
	switch {
	case sl.entry != "":
		return sl.entry + " " + msg
	case sl.isField:
		return msg + "; leave the field out to keep its default"
	}
	return msg
}

// field is the slot of the field name of a struct in slot sl.
func (sl slot) field(t reflect.Type, name string, ft reflect.Type) slot {
	key := name
	if sl.key != "" {
		key = sl.key + "." + name
	}
	return slot{key: key, nullable: nullable(t, name, ft), isField: true}
}

// elem is the slot of an element, of type et, of the list or map in slot
// sl: index is its index or key, entry how a message names it.
func (sl slot) elem(et reflect.Type, index, entry string) slot {
	if et.Kind() == reflect.Struct { // a bucket rule: a field of its own
		return slot{key: sl.key + "." + index}
	}
	return slot{key: sl.key, entry: entry, nullable: et.Kind() == reflect.Pointer}
}

// A walker reads a JSON document token by token, checking it against Go
// types the way encoding/json would decode it.
type walker struct {
	dec  *json.Decoder
	data []byte
	// nulls collects a message for each null in a slot that is not
	// nullable.
	nulls FieldErrors
}

func newWalker(data []byte) *walker {
	w := &walker{dec: json.NewDecoder(bytes.NewReader(data)), data: data, nulls: FieldErrors{}}
	w.dec.UseNumber()
	return w
}

// next returns the next token and the offset where it starts.
func (w *walker) next() (json.Token, int, error) {
	// InputOffset is past the previous token; json.Decoder.Token consumes
	// the ',' or ':' that comes before the next one.
	off := int(w.dec.InputOffset())
	for off < len(w.data) && strings.IndexByte(" \t\r\n,:", w.data[off]) >= 0 {
		off++
	}
	tok, err := w.dec.Token()
	return tok, off, err
}

// value checks the next value, in slot sl, against t. It returns the first
// mismatch, or nil if the whole value fits.
func (w *walker) value(t reflect.Type, path string, sl slot) (*mismatch, error) {
	tok, off, err := w.next()
	if err != nil {
		return nil, err
	}
	if tok == nil { // null fits any field for encoding/json
		if !sl.nullable {
			w.nulls.add(sl.key, sl.nullMessage(t))
		}
		return nil, nil
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	wrong := &mismatch{off: off, msg: typeMessage(path, t, tokenKind(tok))}
	switch t.Kind() {
	case reflect.Struct:
		if tok != json.Delim('{') {
			return wrong, nil
		}
		return w.object(path, func(key string) (reflect.Type, string, slot, bool) {
			ft, name, ok := structField(t, key)
			if !ok {
				return nil, "", slot{}, false
			}
			return ft, name, sl.field(t, name, ft), true
		})
	case reflect.Map:
		if tok != json.Delim('{') {
			return wrong, nil
		}
		return w.object(path, func(key string) (reflect.Type, string, slot, bool) {
			return t.Elem(), key, sl.elem(t.Elem(), key, fmt.Sprintf("entry %q", key)), true
		})
	case reflect.Slice:
		if tok != json.Delim('[') {
			return wrong, nil
		}
		return w.array(t.Elem(), path, sl)
	case reflect.String:
		if _, ok := tok.(string); !ok {
			return wrong, nil
		}
	case reflect.Bool:
		if _, ok := tok.(bool); !ok {
			return wrong, nil
		}
	case reflect.Int:
		n, ok := tok.(json.Number)
		if !ok {
			return wrong, nil
		}
		if _, err := strconv.ParseInt(string(n), 10, strconv.IntSize); err != nil {
			return wrong, nil
		}
	}
	return nil, nil
}

// object checks the members of an object whose '{' has been read. field
// returns the type of the value for key, the name of key in paths, and its
// slot.
func (w *walker) object(path string, field func(key string) (reflect.Type, string, slot, bool)) (*mismatch, error) {
	for w.dec.More() {
		tok, off, err := w.next()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		t, name, sl, ok := field(key)
		if !ok {
			return &mismatch{off: off, msg: fmt.Sprintf("unknown field %q", key)}, nil
		}
		if path != "" {
			name = path + "." + name
		}
		if m, err := w.value(t, name, sl); m != nil || err != nil {
			return m, err
		}
	}
	_, err := w.dec.Token() // '}'
	return nil, err
}

// array checks the elements of an array, in slot sl, whose '[' has been
// read.
func (w *walker) array(elem reflect.Type, path string, sl slot) (*mismatch, error) {
	for i := 0; w.dec.More(); i++ {
		if m, err := w.value(elem, fmt.Sprintf("%s[%d]", path, i), sl.elem(elem, strconv.Itoa(i), fmt.Sprintf("entry %d", i+1))); m != nil || err != nil {
			return m, err
		}
	}
	_, err := w.dec.Token() // ']'
	return nil, err
}

// structField finds the field of struct type t that encoding/json would
// decode key into: an exact match of its JSON name first, then a
// case-insensitive one.
func structField(t reflect.Type, key string) (reflect.Type, string, bool) {
	for _, exact := range []bool{true, false} {
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == key || !exact && strings.EqualFold(name, key) {
				return f.Type, name, true
			}
		}
	}
	return nil, "", false
}

// tokenKind describes a JSON token the way json.UnmarshalTypeError.Value
// does.
func tokenKind(tok json.Token) string {
	switch tok := tok.(type) {
	case json.Delim:
		if tok == '[' {
			return "array"
		}
		return "object"
	case string:
		return "string"
	case bool:
		return "bool"
	case json.Number:
		return "number " + string(tok)
	}
	return "null"
}
