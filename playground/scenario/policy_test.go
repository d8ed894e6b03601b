package scenario

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// api returns the default API changed by edit.
func api(edit func(*API)) API {
	a := Default().API
	edit(&a)
	return a
}

// allowlist returns the default API with an allowlist.
func allowlist(match string, entries ...string) API {
	return api(func(a *API) {
		a.AllowOrigin = "allowlist"
		a.Match = match
		a.Allowlist = entries
	})
}

// origin returns request headers with just an Origin.
func origin(o string) http.Header { return http.Header{"Origin": {o}} }

// preflightFrom returns the headers of a preflight from origin o.
func preflightFrom(o string, acrh ...string) http.Header {
	h := http.Header{"Origin": {o}, "Access-Control-Request-Method": {"PUT"}}
	if len(acrh) > 0 {
		h["Access-Control-Request-Headers"] = acrh
	}
	return h
}

func TestApply(t *testing.T) {
	vary := http.Header{"Vary": {"Origin"}}
	tests := []struct {
		desc      string
		api       API
		req       http.Header
		preflight bool
		dst       http.Header // the response headers before Apply; nil for none
		want      http.Header
	}{
		// Access-Control-Allow-Origin: none.
		{
			desc: "the default api sends no CORS header, only Vary",
			api:  Default().API,
			req:  origin("http://app.test"),
			want: vary,
		},
		{
			desc:      "the default api sends no CORS header on a preflight either",
			api:       Default().API,
			req:       preflightFrom("http://app.test"),
			preflight: true,
			want:      vary,
		},

		// Access-Control-Allow-Origin: *.
		{
			desc: "a wildcard is sent to any origin",
			api:  api(func(a *API) { a.AllowOrigin = "*" }),
			req:  origin("http://evil.test"),
			want: http.Header{"Access-Control-Allow-Origin": {"*"}, "Vary": {"Origin"}},
		},
		{
			desc: "a wildcard is sent even without an Origin",
			api:  api(func(a *API) { a.AllowOrigin = "*" }),
			req:  http.Header{},
			want: http.Header{"Access-Control-Allow-Origin": {"*"}, "Vary": {"Origin"}},
		},
		{
			desc:      "a wildcard is sent on preflights too",
			api:       api(func(a *API) { a.AllowOrigin = "*" }),
			req:       preflightFrom("http://app.test"),
			preflight: true,
			want:      http.Header{"Access-Control-Allow-Origin": {"*"}, "Vary": {"Origin"}},
		},
		{
			desc: "a wildcard with credentials is sent as asked, for the browser to refuse",
			api: api(func(a *API) {
				a.AllowOrigin = "*"
				a.AllowCredentials = true
			}),
			req:  origin("http://app.test"),
			want: http.Header{"Access-Control-Allow-Origin": {"*"}, "Access-Control-Allow-Credentials": {"true"}, "Vary": {"Origin"}},
		},

		// Access-Control-Allow-Origin: echo.
		{
			desc: "echo reflects any origin, evil included",
			api:  api(func(a *API) { a.AllowOrigin = "echo" }),
			req:  origin("http://evil.test"),
			want: http.Header{"Access-Control-Allow-Origin": {"http://evil.test"}, "Vary": {"Origin"}},
		},
		{
			desc: "echo reflects the origin verbatim, odd case and port included",
			api:  api(func(a *API) { a.AllowOrigin = "echo" }),
			req:  origin("HTTP://App.Test:8080"),
			want: http.Header{"Access-Control-Allow-Origin": {"HTTP://App.Test:8080"}, "Vary": {"Origin"}},
		},
		{
			desc: "echo reflects the null origin of a sandboxed page",
			api:  api(func(a *API) { a.AllowOrigin = "echo" }),
			req:  origin("null"),
			want: http.Header{"Access-Control-Allow-Origin": {"null"}, "Vary": {"Origin"}},
		},
		{
			desc: "echo sends nothing without an Origin",
			api:  api(func(a *API) { a.AllowOrigin = "echo" }),
			req:  http.Header{"Accept": {"*/*"}},
			want: vary,
		},
		{
			desc: "echo sends nothing for an empty Origin",
			api:  api(func(a *API) { a.AllowOrigin = "echo" }),
			req:  origin(""),
			want: vary,
		},
		{
			desc: "echo reflects only the first of several Origin headers",
			api:  api(func(a *API) { a.AllowOrigin = "echo" }),
			req:  http.Header{"Origin": {"http://a.test", "http://b.test"}},
			want: http.Header{"Access-Control-Allow-Origin": {"http://a.test"}, "Vary": {"Origin"}},
		},
		{
			desc:      "echo reflects the origin of a preflight",
			api:       api(func(a *API) { a.AllowOrigin = "echo" }),
			req:       preflightFrom("http://app.test"),
			preflight: true,
			want:      http.Header{"Access-Control-Allow-Origin": {"http://app.test"}, "Vary": {"Origin"}},
		},

		// Access-Control-Allow-Origin as written.
		{
			desc: "null is sent as written, whatever the origin",
			api:  api(func(a *API) { a.AllowOrigin = "null" }),
			req:  origin("http://evil.test"),
			want: http.Header{"Access-Control-Allow-Origin": {"null"}, "Vary": {"Origin"}},
		},
		{
			desc: "an origin is sent as written, even to another origin",
			api:  api(func(a *API) { a.AllowOrigin = "http://x:1" }),
			req:  origin("http://app.test"),
			want: http.Header{"Access-Control-Allow-Origin": {"http://x:1"}, "Vary": {"Origin"}},
		},
		{
			desc: "a list of origins is sent as written, for the browser to refuse",
			api:  api(func(a *API) { a.AllowOrigin = "http://a, http://b" }),
			req:  origin("http://a"),
			want: http.Header{"Access-Control-Allow-Origin": {"http://a, http://b"}, "Vary": {"Origin"}},
		},
		{
			desc: "an origin as written is sent without an Origin too",
			api:  api(func(a *API) { a.AllowOrigin = "http://app.test" }),
			req:  http.Header{},
			want: http.Header{"Access-Control-Allow-Origin": {"http://app.test"}, "Vary": {"Origin"}},
		},

		// Access-Control-Allow-Origin: allowlist, exact.
		{
			desc: "exact: a listed origin is reflected",
			api:  allowlist("exact", "http://sandbox.test", "http://app.test"),
			req:  origin("http://app.test"),
			want: http.Header{"Access-Control-Allow-Origin": {"http://app.test"}, "Vary": {"Origin"}},
		},
		{
			desc: "exact: another port is another origin",
			api:  allowlist("exact", "http://app.test"),
			req:  origin("http://app.test:8080"),
			want: vary,
		},
		{
			desc: "exact: the comparison is case-sensitive",
			api:  allowlist("exact", "http://app.test"),
			req:  origin("http://APP.test"),
			want: vary,
		},
		{
			desc: "exact: listing null lets every sandboxed page in",
			api:  allowlist("exact", "http://app.test", "null"),
			req:  origin("null"),
			want: http.Header{"Access-Control-Allow-Origin": {"null"}, "Vary": {"Origin"}},
		},
		{
			desc: "allowlist: no Origin, no header",
			api:  allowlist("exact", "http://app.test"),
			req:  http.Header{},
			want: vary,
		},
		{
			desc: "allowlist: an empty Origin matches nothing",
			api:  allowlist("exact", "http://app.test"),
			req:  origin(""),
			want: vary,
		},
		{
			desc: "allowlist: an empty list lets nobody in",
			api:  allowlist("exact"),
			req:  origin("http://app.test"),
			want: vary,
		},
		{
			desc: "an allowlist is ignored unless allowOrigin is allowlist",
			api:  api(func(a *API) { a.AllowOrigin = ""; a.Allowlist = []string{"http://app.test"} }),
			req:  origin("http://app.test"),
			want: vary,
		},
		{
			desc:      "allowlist: a listed origin is reflected on a preflight",
			api:       allowlist("exact", "http://app.test"),
			req:       preflightFrom("http://app.test"),
			preflight: true,
			want:      http.Header{"Access-Control-Allow-Origin": {"http://app.test"}, "Vary": {"Origin"}},
		},

		// Access-Control-Allow-Origin: allowlist, suffix.
		{
			desc: "suffix: a subdomain matches",
			api:  allowlist("suffix", "example.com"),
			req:  origin("https://www.example.com"),
			want: http.Header{"Access-Control-Allow-Origin": {"https://www.example.com"}, "Vary": {"Origin"}},
		},
		{
			desc: "suffix: the sloppy bypass, example.com accepts evilexample.com",
			api:  allowlist("suffix", "example.com"),
			req:  origin("http://evilexample.com"),
			want: http.Header{"Access-Control-Allow-Origin": {"http://evilexample.com"}, "Vary": {"Origin"}},
		},
		{
			desc: "suffix: a leading dot stops the bypass",
			api:  allowlist("suffix", ".example.com"),
			req:  origin("http://evilexample.com"),
			want: vary,
		},
		{
			desc: "suffix: a port defeats a suffix",
			api:  allowlist("suffix", ".example.com"),
			req:  origin("http://www.example.com:8080"),
			want: vary,
		},

		// Access-Control-Allow-Origin: allowlist, prefix.
		{
			desc: "prefix: the origin itself matches",
			api:  allowlist("prefix", "http://app.test"),
			req:  origin("http://app.test"),
			want: http.Header{"Access-Control-Allow-Origin": {"http://app.test"}, "Vary": {"Origin"}},
		},
		{
			desc: "prefix: the sloppy bypass, app.test accepts app.test.evil.com",
			api:  allowlist("prefix", "http://app.test"),
			req:  origin("http://app.test.evil.com"),
			want: http.Header{"Access-Control-Allow-Origin": {"http://app.test.evil.com"}, "Vary": {"Origin"}},
		},
		{
			desc: "prefix: another scheme does not match",
			api:  allowlist("prefix", "http://app.test"),
			req:  origin("https://app.test"),
			want: vary,
		},

		// Access-Control-Allow-Origin: allowlist, regex.
		{
			desc: "regex: the origin itself matches",
			api:  allowlist("regex", "http://app.test"),
			req:  origin("http://app.test"),
			want: http.Header{"Access-Control-Allow-Origin": {"http://app.test"}, "Vary": {"Origin"}},
		},
		{
			desc: "regex: the sloppy bypass, an unescaped dot matches any character",
			api:  allowlist("regex", "http://app.test"),
			req:  origin("http://appxtest.evil"),
			want: http.Header{"Access-Control-Allow-Origin": {"http://appxtest.evil"}, "Vary": {"Origin"}},
		},
		{
			desc: "regex: the sloppy bypass, an unanchored pattern matches inside a longer origin",
			api:  allowlist("regex", "http://app.test"),
			req:  origin("http://app.test.evil.com"),
			want: http.Header{"Access-Control-Allow-Origin": {"http://app.test.evil.com"}, "Vary": {"Origin"}},
		},
		{
			desc: "regex: an escaped, anchored pattern refuses the look-alike",
			api:  allowlist("regex", `^http://app\.test$`),
			req:  origin("http://appxtest"),
			want: vary,
		},
		{
			desc: "regex: an escaped, anchored pattern refuses a longer origin",
			api:  allowlist("regex", `^http://app\.test$`),
			req:  origin("http://app.test.evil.com"),
			want: vary,
		},
		{
			desc: "regex: any entry may match",
			api: api(func(a *API) {
				a.AllowOrigin = "allowlist"
				a.Match = "regex"
				a.Allowlist = []string{`^http://app\.test$`, `^http://(sandbox|api)\.test(:\d+)?$`}
			}),
			req:  origin("http://api.test:8443"),
			want: http.Header{"Access-Control-Allow-Origin": {"http://api.test:8443"}, "Vary": {"Origin"}},
		},

		// Access-Control-Allow-Credentials.
		{
			desc: "credentials on an actual response",
			api:  api(func(a *API) { a.AllowOrigin = "echo"; a.AllowCredentials = true }),
			req:  origin("http://app.test"),
			want: http.Header{"Access-Control-Allow-Origin": {"http://app.test"}, "Access-Control-Allow-Credentials": {"true"}, "Vary": {"Origin"}},
		},
		{
			desc:      "credentials on a preflight",
			api:       api(func(a *API) { a.AllowOrigin = "echo"; a.AllowCredentials = true }),
			req:       preflightFrom("http://app.test"),
			preflight: true,
			want:      http.Header{"Access-Control-Allow-Origin": {"http://app.test"}, "Access-Control-Allow-Credentials": {"true"}, "Vary": {"Origin"}},
		},
		{
			desc: "credentials are sent even when the origin is not allowed",
			api:  api(func(a *API) { a.AllowOrigin = "allowlist"; a.AllowCredentials = true }),
			req:  origin("http://evil.test"),
			want: http.Header{"Access-Control-Allow-Credentials": {"true"}, "Vary": {"Origin"}},
		},

		// Preflight-only and actual-only headers.
		{
			desc: "a preflight gets methods, headers and max age, not expose",
			api: api(func(a *API) {
				a.AllowOrigin = "*"
				a.AllowMethods = "PUT, DELETE"
				a.AllowHeaders = "X-Token, Content-Type"
				a.ExposeHeaders = "X-Total"
				a.MaxAge = intPtr(600)
			}),
			req:       preflightFrom("http://app.test"),
			preflight: true,
			want: http.Header{
				"Access-Control-Allow-Origin":  {"*"},
				"Access-Control-Allow-Methods": {"PUT, DELETE"},
				"Access-Control-Allow-Headers": {"X-Token, Content-Type"},
				"Access-Control-Max-Age":       {"600"},
				"Vary":                         {"Origin"},
			},
		},
		{
			desc: "an actual response gets expose, not methods, headers or max age",
			api: api(func(a *API) {
				a.AllowOrigin = "*"
				a.AllowMethods = "PUT, DELETE"
				a.AllowHeaders = "X-Token, Content-Type"
				a.ExposeHeaders = "X-Total"
				a.MaxAge = intPtr(600)
			}),
			req: origin("http://app.test"),
			want: http.Header{
				"Access-Control-Allow-Origin":   {"*"},
				"Access-Control-Expose-Headers": {"X-Total"},
				"Vary":                          {"Origin"},
			},
		},
		{
			desc:      "empty methods and headers send nothing on a preflight",
			api:       api(func(a *API) { a.AllowOrigin = "*"; a.AllowMethods = ""; a.AllowHeaders = "" }),
			req:       preflightFrom("http://app.test", "x-token"),
			preflight: true,
			want:      http.Header{"Access-Control-Allow-Origin": {"*"}, "Vary": {"Origin"}},
		},
		{
			desc: "methods and headers are sent as written, wildcard included",
			api:  api(func(a *API) { a.AllowOrigin = "*"; a.AllowMethods = "*"; a.AllowHeaders = "*" }),
			req:  preflightFrom("http://app.test", "x-token"), preflight: true,
			want: http.Header{
				"Access-Control-Allow-Origin":  {"*"},
				"Access-Control-Allow-Methods": {"*"},
				"Access-Control-Allow-Headers": {"*"},
				"Vary":                         {"Origin"},
			},
		},
		{
			desc:      "allowHeaders echo mirrors Access-Control-Request-Headers verbatim",
			api:       api(func(a *API) { a.AllowOrigin = "*"; a.AllowHeaders = "echo" }),
			req:       preflightFrom("http://app.test", "content-type,x-token"),
			preflight: true,
			want: http.Header{
				"Access-Control-Allow-Origin":  {"*"},
				"Access-Control-Allow-Headers": {"content-type,x-token"},
				"Vary":                         {"Origin"},
			},
		},
		{
			desc:      "allowHeaders echo sends nothing when the preflight asks for no headers",
			api:       api(func(a *API) { a.AllowOrigin = "*"; a.AllowHeaders = "echo" }),
			req:       preflightFrom("http://app.test"),
			preflight: true,
			want:      http.Header{"Access-Control-Allow-Origin": {"*"}, "Vary": {"Origin"}},
		},
		{
			desc: "allowHeaders echo sends nothing on an actual response",
			api:  api(func(a *API) { a.AllowOrigin = "*"; a.AllowHeaders = "echo" }),
			req:  http.Header{"Origin": {"http://app.test"}, "Access-Control-Request-Headers": {"x-token"}},
			want: http.Header{"Access-Control-Allow-Origin": {"*"}, "Vary": {"Origin"}},
		},
		{
			desc:      "max age 0 is sent, to disable the preflight cache",
			api:       api(func(a *API) { a.AllowOrigin = "*"; a.MaxAge = intPtr(0) }),
			req:       preflightFrom("http://app.test"),
			preflight: true,
			want:      http.Header{"Access-Control-Allow-Origin": {"*"}, "Access-Control-Max-Age": {"0"}, "Vary": {"Origin"}},
		},
		{
			desc:      "a null max age sends nothing",
			api:       api(func(a *API) { a.AllowOrigin = "*"; a.MaxAge = nil }),
			req:       preflightFrom("http://app.test"),
			preflight: true,
			want:      http.Header{"Access-Control-Allow-Origin": {"*"}, "Vary": {"Origin"}},
		},
		{
			desc:      "preflight is what the caller says, not what the headers look like",
			api:       api(func(a *API) { a.AllowOrigin = "*"; a.AllowMethods = "PUT"; a.ExposeHeaders = "X-A" }),
			req:       preflightFrom("http://app.test"),
			preflight: false,
			want:      http.Header{"Access-Control-Allow-Origin": {"*"}, "Access-Control-Expose-Headers": {"X-A"}, "Vary": {"Origin"}},
		},

		// Vary.
		{
			desc: "vary off sends no Vary",
			api:  api(func(a *API) { a.AllowOrigin = "echo"; a.Vary = false }),
			req:  origin("http://app.test"),
			want: http.Header{"Access-Control-Allow-Origin": {"http://app.test"}},
		},
		{
			desc: "vary on adds Origin to a Vary already set",
			api:  api(func(a *API) { a.AllowOrigin = "echo" }),
			req:  origin("http://app.test"),
			dst:  http.Header{"Vary": {"Accept-Encoding"}},
			want: http.Header{"Access-Control-Allow-Origin": {"http://app.test"}, "Vary": {"Accept-Encoding", "Origin"}},
		},
		{
			desc: "vary off leaves a Vary already set alone",
			api:  api(func(a *API) { a.Vary = false }),
			req:  origin("http://app.test"),
			dst:  http.Header{"Vary": {"Accept-Encoding"}},
			want: http.Header{"Vary": {"Accept-Encoding"}},
		},
		{
			desc: "vary is sent without an Origin too",
			api:  Default().API,
			req:  http.Header{},
			want: vary,
		},

		// Other headers in the response.
		{
			desc: "headers the policy does not send are left alone",
			api:  api(func(a *API) { a.AllowOrigin = "" }),
			req:  origin("http://app.test"),
			dst:  http.Header{"Content-Type": {"application/json"}, "Access-Control-Allow-Origin": {"set by the handler"}},
			want: http.Header{"Content-Type": {"application/json"}, "Access-Control-Allow-Origin": {"set by the handler"}, "Vary": {"Origin"}},
		},
		{
			desc: "headers the policy sends replace what was there",
			api:  api(func(a *API) { a.AllowOrigin = "*" }),
			req:  origin("http://app.test"),
			dst:  http.Header{"Access-Control-Allow-Origin": {"http://old.test"}},
			want: http.Header{"Access-Control-Allow-Origin": {"*"}, "Vary": {"Origin"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			p, err := NewPolicy(tc.api)
			if err != nil {
				t.Fatalf("NewPolicy: %v", err)
			}
			got := http.Header{}
			for k, v := range tc.dst {
				got[k] = append([]string(nil), v...)
			}
			p.Apply(got, tc.req, tc.preflight)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Apply(preflight=%v, req=%v):\ngot  %v\nwant %v", tc.preflight, tc.req, got, tc.want)
			}
		})
	}
}

func TestNewPolicyErrors(t *testing.T) {
	tests := []struct {
		desc string
		api  API
		want FieldErrors
	}{
		{
			desc: "a regexp that does not compile",
			api:  allowlist("regex", "("),
			want: FieldErrors{"api.allowlist": "entry 1: \"(\" is not a valid regexp: error parsing regexp: missing closing ): `(`"},
		},
		{
			desc: "a header value with CRLF, and a bad status",
			api:  api(func(a *API) { a.ExposeHeaders = "X-A\r\nX-B: 1"; a.PreflightStatus = 100 }),
			want: FieldErrors{
				"api.exposeHeaders":   `header values cannot contain CR, LF or NUL; got "X-A\r\nX-B: 1"`,
				"api.preflightStatus": "must be an HTTP status between 200 and 599; got 100",
			},
		},
		{
			desc: "a status that is no redirect, and a signed URL that outlives S3's limit",
			api:  api(func(a *API) { a.Redirect = 200; a.SignedURLExpires = 604801 }),
			want: FieldErrors{
				"api.redirect":         "must be 301, 302, 303, 307 or 308, or 0 for the signed URL in a 200 body; got 200",
				"api.signedUrlExpires": "must be between 1 and 604800 seconds (7 days, S3's limit); got 604801",
			},
		},
		{
			desc: "the zero API",
			api:  API{},
			want: FieldErrors{
				"api.match":            `must be one of exact, suffix, prefix, regex; got ""`,
				"api.preflightStatus":  "must be an HTTP status between 200 and 599; got 0",
				"api.signedUrlExpires": "must be between 1 and 604800 seconds (7 days, S3's limit); got 0",
				"api.cookieSameSite":   `must be one of lax, strict, none; got ""`,
				"api.websocketOrigins": `must be one of any, allowlist; got ""`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			p, err := NewPolicy(tc.api)
			if p != nil {
				t.Errorf("NewPolicy returned a policy along with its error")
			}
			errs, ok := errors.AsType[FieldErrors](err)
			if !ok {
				t.Fatalf("NewPolicy error = %v; want FieldErrors", err)
			}
			if !reflect.DeepEqual(errs, tc.want) {
				t.Errorf("NewPolicy errors:\ngot  %#v\nwant %#v", errs, tc.want)
			}
		})
	}
}

func TestNewPolicyNilError(t *testing.T) {
	// A nil FieldErrors in a non-nil error interface would be a bug.
	p, err := NewPolicy(Default().API)
	if err != nil || p == nil {
		t.Fatalf("NewPolicy(Default().API) = %v, %v; want a policy and a nil error", p, err)
	}
}

func TestPolicyCopiesAllowlist(t *testing.T) {
	a := allowlist("exact", "http://app.test")
	p, err := NewPolicy(a)
	if err != nil {
		t.Fatal(err)
	}
	a.Allowlist[0] = "http://evil.test"
	got := http.Header{}
	p.Apply(got, origin("http://app.test"), false)
	if want := "http://app.test"; got.Get("Access-Control-Allow-Origin") != want {
		t.Errorf("after the caller changed its allowlist, Access-Control-Allow-Origin = %q, want %q", got.Get("Access-Control-Allow-Origin"), want)
	}
}

func TestApplySharesNothingWritable(t *testing.T) {
	// Adding to a header Apply set must not change the next response, nor
	// the request.
	p, err := NewPolicy(api(func(a *API) { a.AllowOrigin = "echo"; a.AllowCredentials = true }))
	if err != nil {
		t.Fatal(err)
	}
	req := origin("http://app.test")
	first := http.Header{}
	p.Apply(first, req, false)
	for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Vary"} {
		first.Add(k, "extra")
	}
	second := http.Header{}
	p.Apply(second, req, false)
	want := http.Header{"Access-Control-Allow-Origin": {"http://app.test"}, "Access-Control-Allow-Credentials": {"true"}, "Vary": {"Origin"}}
	if !reflect.DeepEqual(second, want) {
		t.Errorf("second response:\ngot  %v\nwant %v", second, want)
	}
	if !reflect.DeepEqual(req, origin("http://app.test")) {
		t.Errorf("request headers changed: %v", req)
	}
}

func TestApplyConcurrently(t *testing.T) {
	p, err := NewPolicy(api(func(a *API) {
		a.AllowOrigin = "allowlist"
		a.Match = "regex"
		a.Allowlist = []string{`^http://app\.test$`}
		a.AllowHeaders = "echo"
	}))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				h := http.Header{}
				p.Apply(h, preflightFrom("http://app.test", "x-token"), true)
				if h.Get("Access-Control-Allow-Origin") != "http://app.test" {
					t.Errorf("got %v", h)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestIsPreflight(t *testing.T) {
	tests := []struct {
		desc   string
		method string
		h      http.Header
		want   bool
	}{
		{
			desc:   "OPTIONS with Origin and Access-Control-Request-Method",
			method: "OPTIONS",
			h:      preflightFrom("http://app.test"),
			want:   true,
		},
		{
			desc:   "OPTIONS from a sandboxed page",
			method: "OPTIONS",
			h:      preflightFrom("null"),
			want:   true,
		},
		{
			desc:   "header names in any case",
			method: "OPTIONS",
			h: func() http.Header {
				h := http.Header{}
				h.Set("origin", "http://a")
				h.Set("access-control-request-method", "PUT")
				return h
			}(),
			want: true,
		},
		{
			desc:   "a plain OPTIONS request, without Access-Control-Request-Method",
			method: "OPTIONS",
			h:      origin("http://app.test"),
			want:   false,
		},
		{
			desc:   "OPTIONS without Origin",
			method: "OPTIONS",
			h:      http.Header{"Access-Control-Request-Method": {"PUT"}},
			want:   false,
		},
		{
			desc:   "a GET with preflight headers",
			method: "GET",
			h:      preflightFrom("http://app.test"),
			want:   false,
		},
		{
			desc:   "methods are case-sensitive; a browser always sends OPTIONS",
			method: "options",
			h:      preflightFrom("http://app.test"),
			want:   false,
		},
		{
			desc:   "no headers at all",
			method: "OPTIONS",
			h:      nil,
			want:   false,
		},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			if got := IsPreflight(tc.method, tc.h); got != tc.want {
				t.Errorf("IsPreflight(%q, %v) = %v, want %v", tc.method, tc.h, got, tc.want)
			}
		})
	}
}

func BenchmarkApply(b *testing.B) {
	benchmarks := []struct {
		desc      string
		api       API
		req       http.Header
		preflight bool
	}{
		{
			desc: "default",
			api:  Default().API,
			req:  origin("http://app.test"),
		},
		{
			desc: "echo with credentials",
			api:  api(func(a *API) { a.AllowOrigin = "echo"; a.AllowCredentials = true; a.ExposeHeaders = "X-Total" }),
			req:  origin("http://app.test"),
		},
		{
			desc: "regex allowlist preflight",
			api: api(func(a *API) {
				a.AllowOrigin = "allowlist"
				a.Match = "regex"
				a.Allowlist = []string{`^http://sandbox\.test$`, `^http://app\.test$`}
				a.AllowMethods = "PUT"
				a.AllowHeaders = "echo"
				a.MaxAge = intPtr(600)
			}),
			req:       preflightFrom("http://app.test", "x-token"),
			preflight: true,
		},
	}
	for _, bm := range benchmarks {
		b.Run(bm.desc, func(b *testing.B) {
			p, err := NewPolicy(bm.api)
			if err != nil {
				b.Fatal(err)
			}
			dst := http.Header{}
			b.ReportAllocs()
			for b.Loop() {
				clear(dst)
				p.Apply(dst, bm.req, bm.preflight)
			}
		})
	}
}

func TestExtraHeadersReplacePolicyHeaders(t *testing.T) {
	a := Default().API
	a.AllowOrigin = "*"
	a.AllowCredentials = true
	a.ExtraHeaders = map[string]string{"access-control-allow-credentials": "TRUE", "X-Extra": "1"}
	p, err := NewPolicy(a)
	if err != nil {
		t.Fatal(err)
	}
	for _, preflight := range []bool{false, true} {
		dst := http.Header{}
		p.Apply(dst, http.Header{"Origin": {"http://a.test"}}, preflight)
		if got := dst.Values("Access-Control-Allow-Credentials"); len(got) != 1 || got[0] != "TRUE" {
			t.Errorf("preflight %v: ACAC %q, want the extra header's TRUE only", preflight, got)
		}
		if dst.Get("X-Extra") != "1" || dst.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("preflight %v: headers %v", preflight, dst)
		}
	}
	a.ExtraHeaders = map[string]string{"Content-Length": "5"}
	if _, err := NewPolicy(a); err == nil || !strings.Contains(err.Error(), "api.extraHeaders") {
		t.Errorf("a framing header was accepted: %v", err)
	}
}

// BenchmarkDecode is PUT /scenario's decoding of a whole scenario, as the
// lab sends it on every change: strict, with every field named in errors.
func BenchmarkDecode(b *testing.B) {
	doc, err := json.Marshal(Default())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(doc); err != nil {
			b.Fatal(err)
		}
	}
}
