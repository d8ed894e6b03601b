package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// DecodeError is a scenario document that is not JSON, or whose JSON does not
// fit the Scenario type: a syntax error, a value of the wrong type, an unknown
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
// A document that cannot be decoded gives a *DecodeError. A decoded scenario
// that breaks a rule is returned along with its FieldErrors. After a
// successful decode, Request.Headers, API.Allowlist, API.ExtraHeaders and the
// lists of every bucket rule are never nil.
func Decode(data []byte) (Scenario, error) {
	s := Default()
	if len(data) == skipSpace(data, 0) {
		return s, nil
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
	if errs := s.Validate(); errs != nil {
		return s, errs
	}
	return s, nil
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
	w := walker{dec: json.NewDecoder(bytes.NewReader(data)), data: data}
	w.dec.UseNumber()
	m, err := w.value(reflect.TypeFor[Scenario](), "")
	if err != nil || m == nil {
		return mismatch{}, false
	}
	return *m, true
}

// A walker reads a JSON document token by token, checking it against Go
// types the way encoding/json would decode it.
type walker struct {
	dec  *json.Decoder
	data []byte
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

// value checks the next value against t. It returns the first mismatch, or
// nil if the whole value fits.
func (w *walker) value(t reflect.Type, path string) (*mismatch, error) {
	tok, off, err := w.next()
	if err != nil || tok == nil { // null fits any field
		return nil, err
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
		return w.object(path, func(key string) (reflect.Type, string, bool) { return structField(t, key) })
	case reflect.Map:
		if tok != json.Delim('{') {
			return wrong, nil
		}
		return w.object(path, func(key string) (reflect.Type, string, bool) { return t.Elem(), key, true })
	case reflect.Slice:
		if tok != json.Delim('[') {
			return wrong, nil
		}
		return w.array(t.Elem(), path)
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
// returns the type of the value for key, and the name of key in paths.
func (w *walker) object(path string, field func(key string) (reflect.Type, string, bool)) (*mismatch, error) {
	for w.dec.More() {
		tok, off, err := w.next()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		t, name, ok := field(key)
		if !ok {
			return &mismatch{off: off, msg: fmt.Sprintf("unknown field %q", key)}, nil
		}
		if path != "" {
			name = path + "." + name
		}
		if m, err := w.value(t, name); m != nil || err != nil {
			return m, err
		}
	}
	_, err := w.dec.Token() // '}'
	return nil, err
}

// array checks the elements of an array whose '[' has been read.
func (w *walker) array(elem reflect.Type, path string) (*mismatch, error) {
	for i := 0; w.dec.More(); i++ {
		if m, err := w.value(elem, fmt.Sprintf("%s[%d]", path, i)); m != nil || err != nil {
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
