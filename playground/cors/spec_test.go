package cors

import (
	"strings"
	"testing"
)

func TestParseList(t *testing.T) {
	tests := []struct {
		desc   string
		values []string
		want   string
		ok     bool
	}{
		{"absent is empty", nil, "", true},
		{"spaces and empty items", []string{" PUT ,, DELETE "}, "PUT DELETE", true},
		{"several headers combine", []string{"PUT", "x-a"}, "PUT x-a", true},
		{"a wildcard is a token", []string{"*"}, "*", true},
		{"a semicolon is not", []string{"PUT;"}, "", false},
		{"a space inside an item is not", []string{"X A"}, "", false},
	}
	for _, tt := range tests {
		var hs [][2]string
		for _, v := range tt.values {
			hs = append(hs, [2]string{"Access-Control-Allow-Methods", v})
		}
		got, ok := parseList(hs, "access-control-allow-methods")
		if strings.Join(got, " ") != tt.want || ok != tt.ok {
			t.Errorf("%s: got %q %v, want %q %v", tt.desc, got, ok, tt.want, tt.ok)
		}
	}
}

func TestMethods(t *testing.T) {
	for in, want := range map[string]string{"put": "PUT", "Delete": "DELETE", "patch": "patch", "PATCH": "PATCH", "get": "GET", "Options": "OPTIONS", "chicken": "chicken"} {
		if got := NormalizeMethod(in); got != want {
			t.Errorf("NormalizeMethod(%q) = %q, want %q", in, got, want)
		}
	}
	for m, want := range map[string]bool{"GET": true, "HEAD": true, "POST": true, "post": false, "PUT": false} {
		if SafelistedMethod(m) != want {
			t.Errorf("SafelistedMethod(%q) != %v", m, want)
		}
	}
	for h, want := range map[string]bool{"Cookie": true, "sec-fetch-mode": true, "Proxy-Authorization": true, "X-User-Id": false, "Authorization": false} {
		if ForbiddenRequestHeader(h, "") != want {
			t.Errorf("ForbiddenRequestHeader(%q) != %v", h, want)
		}
	}
	if !ForbiddenRequestHeader("X-HTTP-Method-Override", "GET, TRACE") || ForbiddenRequestHeader("X-HTTP-Method-Override", "PUT") {
		t.Error("X-HTTP-Method-Override is forbidden only with a forbidden method")
	}
}

// FuzzHeaderParsers runs the header value parsers on arbitrary bytes:
// they must never panic, and what they accept must hold their own rules.
func FuzzHeaderParsers(f *testing.F) {
	for _, seed := range []string{"bytes=0-10", "text/plain;charset=UTF-8", "PUT, x-a,,*", "en-US,en;q=0.9", "\x00\xff", "bytes=-5"} {
		f.Add("Content-Type", seed)
		f.Add("Range", seed)
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		if ok, why := safelistedRequestHeader(name, value); ok && (len(value) > 128 || why != "") {
			t.Fatalf("accepted %q: %q", name, value)
		} else if !ok && why == "" {
			t.Fatalf("refused %q: %q without saying why", name, value)
		}
		if list, ok := parseList([][2]string{{name, value}}, name); ok {
			for _, item := range list {
				if !IsToken(item) {
					t.Fatalf("parseList(%q) kept %q", value, item)
				}
			}
		}
		if essence, ok := mimeEssence(value); ok && !strings.Contains(essence, "/") {
			t.Fatalf("mimeEssence(%q) = %q", value, essence)
		}
		parseSingleRange(value)
	})
}
