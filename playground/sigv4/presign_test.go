package sigv4

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestPresignVerifies signs with Presign and checks the URL with Verify, as
// the api origin and the s3 origin do. (origins' TestPresignMatchesTheSDK
// holds Presign to the SDK's URLs, byte for byte.)
func TestPresignVerifies(t *testing.T) {
	at := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		desc, method, url, host string
		used                    time.Duration // after signing
		want                    outcome
	}{
		{desc: "a GET, used at once", method: http.MethodGet, url: "http://127.0.0.1:8083/lab/hello.txt?x-id=GetObject",
			host: "127.0.0.1:8083"},
		{desc: "a PUT of a key that needs escaping", method: http.MethodPut, url: "http://127.0.0.1:8083/lab/a b/ü+%25.txt",
			host: "127.0.0.1:8083"},
		{desc: "an https URL on the default port, sent without it", method: http.MethodGet, url: "https://s3.lab.test:443/lab/a",
			host: "s3.lab.test"},
		{desc: "an IPv6 literal on http's default port keeps its brackets", method: http.MethodGet, url: "http://[::1]:80/lab/a",
			host: "[::1]"},
		{desc: "a URL used after it expired", method: http.MethodGet, url: "http://127.0.0.1:8083/lab/a", host: "127.0.0.1:8083",
			used: time.Minute + time.Second, want: outcome{403, "AccessDenied", "Request has expired"}},
		{desc: "a URL sent to another host", method: http.MethodGet, url: "http://127.0.0.1:8083/lab/a", host: "127.0.0.1:8084",
			want: outcome{403, "SignatureDoesNotMatch", "The request signature we calculated does not match"}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			u, err := url.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			signed, err := Presign(Corslab(), tt.method, u, at, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest(tt.method, signed, nil)
			r.Host = tt.host

			got := outcomeOf(Verify(r, Corslab(), at.Add(tt.used)))

			if got.status != tt.want.status || got.code != tt.want.code || !strings.HasPrefix(got.message, tt.want.message) {
				t.Errorf("Verify(%s %s, Host %s) = %+v, want %+v", tt.method, signed, tt.host, got, tt.want)
			}
		})
	}
}

func TestPresignRefuses(t *testing.T) {
	tests := []struct {
		desc, url string
		expires   time.Duration
		want      string
	}{
		{desc: "a negative expiry", url: "http://h/b/k", expires: -time.Second, want: "cannot expire before it is signed"},
		{desc: "a URL without a host", url: "/b/k", expires: time.Second, want: "needs an absolute URL"},
		{desc: "a query that does not parse", url: "http://h/b/k?a=%zz", expires: time.Second, want: "query does not parse"},
	}
	for _, tt := range tests {
		u, _ := url.Parse(tt.url)
		if _, err := Presign(Corslab(), http.MethodGet, u, time.Now(), tt.expires); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Presign error %v, want one containing %q", tt.desc, err, tt.want)
		}
	}
}
