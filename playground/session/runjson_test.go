package session

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fill sets every field reachable from v, exported or not, to a value
// that is not its zero, with seed varying the strings: so that a field
// added to Run, its request, browser or verdict, and missing from
// appendJSON, shows as a difference from encoding/json.
func fill(v reflect.Value, seed int) {
	switch v.Kind() {
	case reflect.String:
		v.SetString([]string{"a<b>&\"c\"\n", "\u2028\xff", "plain text", "GET / HTTP/1.1\r\n"}[seed%4])
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		if v.Type() == reflect.TypeFor[time.Duration]() {
			v.SetInt(int64(time.Second))
			return
		}
		v.SetInt(int64(-7 - seed))
	case reflect.Uint64:
		v.SetUint(uint64(9 + seed))
	case reflect.Float64:
		v.SetFloat(12.5 + float64(seed))
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), seed+1)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(v.Index(i), seed+i)
		}
	case reflect.Array:
		for i := range v.Len() {
			fill(v.Index(i), seed+i)
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for i, k := range []string{"X-B", "x-a\"", "Content-Type"} {
			val := reflect.New(v.Type().Elem()).Elem()
			fill(val, seed+i)
			m.SetMapIndex(reflect.ValueOf(k), val)
		}
		v.Set(m)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 12, 6, 1, 2, 3, 4000*(seed+1), time.UTC)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), seed+i)
			}
		}
	default:
		panic("fill: no case for " + v.Type().String())
	}
}

func TestRunJSONMatchesEncodingJSON(t *testing.T) {
	var full Run
	fill(reflect.ValueOf(&full).Elem(), 0)
	someFalse := full
	someFalse.Verdict = &Verdict{Verdict: full.Verdict.Verdict}
	someFalse.Verdict.Steps = append(someFalse.Verdict.Steps[:1:1], someFalse.Verdict.Steps[0])
	someFalse.Verdict.Steps[1].Note, someFalse.Verdict.Steps[1].Unexpected, someFalse.Verdict.Steps[1].OK = "", false, false
	someFalse.Browser.HeadersTruncated = false
	someFalse.Refused = nil
	someFalse.Request.Headers = map[string]string{}
	for name, r := range map[string]Run{"every field set": full, "some unset": someFalse, "zero": {}} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(&r); err != nil {
			t.Fatal(err)
		}
		if got, want := string(r.appendJSON(nil)), strings.TrimSuffix(want.String(), "\n"); got != want {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
}
