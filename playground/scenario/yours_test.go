package scenario

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestCheckBaseURL(t *testing.T) {
	tests := []struct {
		desc, url string
		want      string // a part of the message; "" for none
	}{
		{"empty: the origin is off", "", ""},
		{"http with a port", "http://localhost:3000", ""},
		{"https with a base path", "https://api.example.com/v1", ""},
		{"an IPv6 address", "http://[::1]:3000/", ""},
		{"another scheme", "ftp://example.com", "the scheme must be http or https"},
		{"upper-case scheme", "HTTP://example.com", "the scheme must be http or https"},
		{"no scheme", "example.com", "the scheme must be http or https"},
		{"no host", "http:///path", "needs a host"},
		{"opaque", "http:example.com", "the scheme must be http or https"},
		{"a port without a host", "http://:80", "needs a host"},
		{"user info", "https://me:secret@example.com", "without a user name or password"},
		{"a query", "https://example.com/?a=1", "without a ?query"},
		{"an empty query", "https://example.com/?", "without a ?query"},
		{"a fragment", "https://example.com/#x", "without a #fragment"},
		{"a space", "https://example.com/a b", "without spaces"},
		{"a CR LF", "https://example.com/\r\nX: y", "without spaces or control characters"},
		{"port out of range", "http://example.com:70000", "the port must be from 1 to 65535"},
		{"port 0", "http://example.com:0", "the port must be from 1 to 65535"},
		{"not UTF-8", "http://example.com/\xff", "must be UTF-8"},
		{"too long", "https://example.com/" + strings.Repeat("a", maxBaseURLLen), "at most 2048 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			got := CheckBaseURL(tt.url)
			if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Errorf("CheckBaseURL(%q) = %q, want a message with %q", tt.url, got, tt.want)
			}
		})
	}
}

func TestYoursInScenario(t *testing.T) {
	sc := Default()
	sc.Request.Target = "yours"
	sc.Yours.BaseURL = "https://api.example.com/v1"
	if errs := sc.Validate(); errs != nil {
		t.Fatalf("Validate() = %v, want none", errs)
	}

	// The field's key names it, the rule is in the message.
	bad := sc.clone()
	bad.Yours.BaseURL = "https://me@example.com"
	if errs := bad.Validate(); !strings.Contains(errs["yours.baseUrl"], "user name") {
		t.Errorf("Validate() = %v, want an error on yours.baseUrl", errs)
	}
	one := sc.clone()
	one.Setup, one.Request.From = "one-origin", "app"
	if errs := one.Validate(); !strings.Contains(errs["request.target"], "one-origin") {
		t.Errorf("one-origin with yours: Validate() = %v, want an error on request.target", errs)
	}

	// Permalinks carry it like every field.
	q := sc.Query()
	if got, want := q.Encode(), "request.target=yours&yours.baseUrl=https%3A%2F%2Fapi.example.com%2Fv1"; got != want {
		t.Errorf("Query() = %s, want %s", got, want)
	}
	back, errs := FromQuery(q)
	if errs != nil || !reflect.DeepEqual(back, sc) {
		t.Errorf("FromQuery(Query()) = %+v, %v; want %+v", back, errs, sc)
	}
	if _, errs := FromQuery(url.Values{"yours.baseUrl": {"gopher://x"}}); !strings.Contains(errs["yours.baseUrl"], "http or https") {
		t.Errorf("FromQuery(gopher) = %v, want an error on yours.baseUrl", errs)
	}

	// And JSON.
	got, err := Decode([]byte(`{"request":{"target":"yours"},"yours":{"baseUrl":"http://localhost:3000"}}`))
	if err != nil || got.Yours.BaseURL != "http://localhost:3000" || got.Request.Target != "yours" {
		t.Errorf("Decode() = %+v, %v", got.Yours, err)
	}
	if _, err := Decode([]byte(`{"yours":{"baseUrl":null}}`)); err == nil || !strings.Contains(err.Error(), "yours.baseUrl") {
		t.Errorf("Decode(null) = %v, want an error naming yours.baseUrl", err)
	}
}
