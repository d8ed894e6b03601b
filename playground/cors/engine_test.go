package cors

import (
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	app  = "http://127.0.0.1:8081"
	api  = "http://127.0.0.1:8082"
	s3   = "http://127.0.0.1:8083"
	path = "/sess/users"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// h builds a header list from name, value pairs.
func h(kv ...string) [][2]string {
	var out [][2]string
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, [2]string{kv[i], kv[i+1]})
	}
	return out
}

// get is a simple GET from app to api's /users.
func get(mod ...func(*Request)) Request {
	r := Request{Origin: app, URL: api + path, Method: "GET", Mode: "cors", Credentials: "same-origin", Redirect: "follow"}
	for _, m := range mod {
		m(&r)
	}
	return r
}

func withMethod(m string) func(*Request) { return func(r *Request) { r.Method = m } }
func withHeaders(kv ...string) func(*Request) {
	return func(r *Request) { r.Headers = append(r.Headers, h(kv...)...) }
}
func withCreds(r *Request)             { r.Credentials = "include" }
func withBody(r *Request)              { r.Body = true }
func fromNull(r *Request)              { r.Origin = "null" }
func withMode(m string) func(*Request) { return func(r *Request) { r.Mode = m } }
func withRedirect(m string) func(*Request) {
	return func(r *Request) { r.Redirect = m }
}
func withURL(u string) func(*Request) { return func(r *Request) { r.URL = u } }

// ex builds an exchange; seq numbers are assigned by the test.
func ex(method, url string, reqHeaders [][2]string, status int, respHeaders ...string) Exchange {
	return Exchange{Method: method, URL: url, RequestHeaders: reqHeaders, Status: status, ResponseHeaders: h(respHeaders...), At: t0}
}

func origin(o string) [][2]string { return h("Origin", o) }

func preflight(url, o, method, headers string, status int, resp ...string) Exchange {
	req := h("Origin", o, "Access-Control-Request-Method", method)
	if headers != "" {
		req = append(req, [2]string{"Access-Control-Request-Headers", headers})
	}
	return ex("OPTIONS", url, req, status, resp...)
}

func TestExplain(t *testing.T) {
	tests := []struct {
		desc      string
		req       Request
		exchanges []Exchange
		wantOK    bool
		wantStage string
		wantText  string // a substring of some step, or of the failing step when !wantOK
		browser   *Browser
	}{
		// Simple requests and the CORS check.
		{"no ACAO blocks a simple GET", get(), []Exchange{ex("GET", api+path, origin(app), 200)}, false, StageResponse, "has no `Access-Control-Allow-Origin`", nil},
		{"ACAO * allows a simple GET", get(), []Exchange{ex("GET", api+path, origin(app), 200, "Access-Control-Allow-Origin", "*")}, true, "", "`Access-Control-Allow-Origin: *`", nil},
		{"an exact ACAO allows it", get(), []Exchange{ex("GET", api+path, origin(app), 200, "Access-Control-Allow-Origin", app)}, true, "", "matches the request's origin exactly", nil},
		{"a trailing slash does not match", get(), []Exchange{ex("GET", api+path, origin(app), 200, "Access-Control-Allow-Origin", app+"/")}, false, StageResponse, "no trailing slash", nil},
		{"two origins in one header do not match", get(), []Exchange{ex("GET", api+path, origin(app), 200, "Access-Control-Allow-Origin", app+", "+s3)}, false, StageResponse, "only one origin", nil},
		{"two ACAO headers combine and do not match", get(), []Exchange{ex("GET", api+path, origin(app), 200, "Access-Control-Allow-Origin", app, "Access-Control-Allow-Origin", app)}, false, StageResponse, "only one origin", nil},
		{"null does not match a real origin", get(), []Exchange{ex("GET", api+path, origin(app), 200, "Access-Control-Allow-Origin", "null")}, false, StageResponse, "not exactly", nil},
		{"null matches an opaque origin", get(fromNull), []Exchange{ex("GET", api+path, origin("null"), 200, "Access-Control-Allow-Origin", "null")}, true, "", "`Access-Control-Allow-Origin: null`", nil},
		{"the origin comparison is case-sensitive", get(), []Exchange{ex("GET", api+path, origin(app), 200, "Access-Control-Allow-Origin", strings.ToUpper(app))}, false, StageResponse, "case-sensitive", nil},
		{"* with credentials fails", get(withCreds), []Exchange{ex("GET", api+path, origin(app), 200, "Access-Control-Allow-Origin", "*", "Access-Control-Allow-Credentials", "true")}, false, StageResponse, "then `*` is not a wildcard", nil},
		{"credentials need ACAC", get(withCreds), []Exchange{ex("GET", api+path, origin(app), 200, "Access-Control-Allow-Origin", app)}, false, StageResponse, "it was absent", nil},
		{"ACAC must be exactly true", get(withCreds), []Exchange{ex("GET", api+path, origin(app), 200, "Access-Control-Allow-Origin", app, "Access-Control-Allow-Credentials", "True")}, false, StageResponse, "it was `True`", nil},
		{"credentials with exact ACAO and ACAC pass", get(withCreds), []Exchange{ex("GET", api+path, origin(app), 200, "Access-Control-Allow-Origin", app, "Access-Control-Allow-Credentials", "true")}, true, "", "`Access-Control-Allow-Credentials: true`", nil},
		{"ACAC does not matter without credentials", get(), []Exchange{ex("GET", api+path, origin(app), 200, "Access-Control-Allow-Origin", app, "Access-Control-Allow-Credentials", "nope")}, true, "", "", nil},
		{"an error status is still readable", get(), []Exchange{ex("GET", api+path, origin(app), 404, "Access-Control-Allow-Origin", "*")}, true, "", "JS reads the `404` response", nil},
		{"no request reached the server", get(), nil, false, StageResponse, "No `GET /sess/users` reached a server", nil},
		{"a closed connection is a network error", get(), []Exchange{ex("GET", api+path, origin(app), 0)}, false, StageResponse, "closed the connection", nil},

		// Cookies.
		{"include sends cookies", get(withCreds), []Exchange{ex("GET", api+path, h("Origin", app, "Cookie", "login=1"), 200, "Access-Control-Allow-Origin", app, "Access-Control-Allow-Credentials", "true")}, true, "", "It carried `Cookie: login=1`", nil},
		{"same-origin credentials send none cross-origin", get(), []Exchange{ex("GET", api+path, origin(app), 200, "Access-Control-Allow-Origin", "*")}, true, "", "Credentials `same-origin` on a cross-origin request", nil},
		{"an opaque origin keeps Lax cookies back", get(withCreds, fromNull), []Exchange{ex("GET", api+path, origin("null"), 200, "Access-Control-Allow-Origin", "null", "Access-Control-Allow-Credentials", "true")}, true, "", "counts as cross-site", nil},

		// Same-origin, modes.
		{"same-origin needs nothing", get(func(r *Request) { r.Origin = api }), []Exchange{ex("GET", api+path, nil, 200)}, true, "", "a same-origin request", nil},
		{"mode same-origin refuses a cross-origin URL", get(withMode("same-origin")), nil, false, StageRequest, "mode `same-origin` forbids", nil},
		{"no-cors gives an opaque response", get(withMode("no-cors")), []Exchange{ex("GET", api+path, nil, 200)}, false, StageResponse, "opaque response", nil},
		{"no-cors refuses PUT at the call", get(withMode("no-cors"), withMethod("PUT")), nil, false, StageRequest, "allows only GET, HEAD and POST", nil},
		{"no-cors drops a custom header and sends no preflight", get(withMode("no-cors"), withHeaders("X-User-Id", "1")), []Exchange{ex("GET", api+path, nil, 200)}, false, StageResponse, "the browser dropped `X-User-Id`", nil},
		{"no-cors with redirect manual is a network error", get(withMode("no-cors"), withRedirect("manual")), nil, false, StageRequest, "requires redirect `follow`", nil},

		// Classification and the preflight.
		{"put is upper-cased", get(withMethod("put")), []Exchange{preflight(api+path, app, "PUT", "", 204, "Access-Control-Allow-Origin", "*", "Access-Control-Allow-Methods", "PUT"), ex("PUT", api+path, origin(app), 200, "Access-Control-Allow-Origin", "*")}, true, "", "upper-cases `put` to `PUT`", nil},
		{"PUT needs a preflight that allows it", get(withMethod("PUT")), []Exchange{preflight(api+path, app, "PUT", "", 204, "Access-Control-Allow-Origin", app)}, false, StagePreflight, "asked to use `PUT`, but `Access-Control-Allow-Methods` was absent", nil},
		{"ACAM is case-sensitive", get(withMethod("PATCH")), []Exchange{preflight(api+path, app, "PATCH", "", 204, "Access-Control-Allow-Origin", app, "Access-Control-Allow-Methods", "patch")}, false, StagePreflight, "Methods compare case-sensitively", nil},
		{"patch stays lower case and must be listed so", get(withMethod("patch")), []Exchange{preflight(api+path, app, "patch", "", 204, "Access-Control-Allow-Origin", app, "Access-Control-Allow-Methods", "patch"), ex("patch", api+path, origin(app), 200, "Access-Control-Allow-Origin", app)}, true, "", "allows `patch`", nil},
		{"ACAM * covers PUT without credentials", get(withMethod("PUT")), []Exchange{preflight(api+path, app, "PUT", "", 204, "Access-Control-Allow-Origin", "*", "Access-Control-Allow-Methods", "*"), ex("PUT", api+path, origin(app), 200, "Access-Control-Allow-Origin", "*")}, true, "", "", nil},
		{"ACAM * is literal with credentials", get(withMethod("PUT"), withCreds), []Exchange{preflight(api+path, app, "PUT", "", 204, "Access-Control-Allow-Origin", app, "Access-Control-Allow-Credentials", "true", "Access-Control-Allow-Methods", "*")}, false, StagePreflight, "`*` is a wildcard only when credentials", nil},
		{"a custom header needs ACAH", get(withHeaders("X-User-Id", "11")), []Exchange{preflight(api+path, app, "GET", "x-user-id", 204, "Access-Control-Allow-Origin", app, "Access-Control-Allow-Headers", "content-type")}, false, StagePreflight, "the page asked to send `x-user-id`, but `Access-Control-Allow-Headers` was `content-type`", nil},
		{"ACAH is case-insensitive", get(withHeaders("X-User-Id", "11")), []Exchange{preflight(api+path, app, "GET", "x-user-id", 204, "Access-Control-Allow-Origin", app, "Access-Control-Allow-Headers", "X-USER-ID"), ex("GET", api+path, origin(app), 200, "Access-Control-Allow-Origin", app)}, true, "", "without regard to case", nil},
		{"ACAH * covers headers without credentials", get(withHeaders("X-A", "1")), []Exchange{preflight(api+path, app, "GET", "x-a", 204, "Access-Control-Allow-Origin", "*", "Access-Control-Allow-Headers", "*"), ex("GET", api+path, origin(app), 200, "Access-Control-Allow-Origin", "*")}, true, "", "", nil},
		{"ACAH * is literal with credentials", get(withHeaders("X-A", "1"), withCreds), []Exchange{preflight(api+path, app, "GET", "x-a", 204, "Access-Control-Allow-Origin", app, "Access-Control-Allow-Credentials", "true", "Access-Control-Allow-Headers", "*")}, false, StagePreflight, "`*` is a wildcard only when credentials", nil},
		{"ACAH * never covers Authorization", get(withHeaders("Authorization", "Bearer x")), []Exchange{preflight(api+path, app, "GET", "authorization", 204, "Access-Control-Allow-Origin", "*", "Access-Control-Allow-Headers", "*")}, false, StagePreflight, "`*` never covers it", nil},
		{"Authorization named explicitly passes", get(withHeaders("Authorization", "Bearer x")), []Exchange{preflight(api+path, app, "GET", "authorization", 204, "Access-Control-Allow-Origin", "*", "Access-Control-Allow-Headers", "*, Authorization"), ex("GET", api+path, origin(app), 200, "Access-Control-Allow-Origin", "*")}, true, "", "", nil},
		{"ACAH that is not a list fails", get(withHeaders("X-A", "1")), []Exchange{preflight(api+path, app, "GET", "x-a", 204, "Access-Control-Allow-Origin", "*", "Access-Control-Allow-Headers", "x-a; x-b")}, false, StagePreflight, "is not a list of header names", nil},
		{"the preflight needs ACAO too", get(withMethod("DELETE")), []Exchange{preflight(api+path, app, "DELETE", "", 204, "Access-Control-Allow-Methods", "DELETE")}, false, StagePreflight, "Blocked at the preflight: the preflight's answer has no `Access-Control-Allow-Origin`", nil},
		{"the preflight needs ACAC with credentials", get(withMethod("DELETE"), withCreds), []Exchange{preflight(api+path, app, "DELETE", "", 204, "Access-Control-Allow-Origin", app, "Access-Control-Allow-Methods", "DELETE")}, false, StagePreflight, "needs `Access-Control-Allow-Credentials: true`", nil},
		{"a 404 preflight fails", get(withMethod("PUT")), []Exchange{preflight(api+path, app, "PUT", "", 404, "Access-Control-Allow-Origin", "*", "Access-Control-Allow-Methods", "PUT")}, false, StagePreflight, "needs an ok status", nil},
		{"a redirected preflight fails", get(withMethod("PUT")), []Exchange{preflight(api+path, app, "PUT", "", 307, "Access-Control-Allow-Origin", "*", "Access-Control-Allow-Methods", "PUT", "Location", api+"/x")}, false, StagePreflight, "never follows a redirect for a preflight", nil},
		{"the actual response needs ACAO too", get(withMethod("PUT")), []Exchange{preflight(api+path, app, "PUT", "", 204, "Access-Control-Allow-Origin", app, "Access-Control-Allow-Methods", "PUT"), ex("PUT", api+path, origin(app), 200)}, false, StageResponse, "Blocked: the response has no", nil},
		{"a preflight the browser never sent", get(withMethod("PUT")), nil, false, StagePreflight, "no OPTIONS reached a server", nil},
		{"application/json is not safelisted", get(withMethod("POST"), withBody, withHeaders("Content-Type", "application/json")), []Exchange{preflight(api+path, app, "POST", "content-type", 204)}, false, StagePreflight, "its type is application/json", nil},
		{"a string body's text/plain is safelisted", get(withMethod("POST"), withBody), []Exchange{ex("POST", api+path, origin(app), 201, "Access-Control-Allow-Origin", "*")}, true, "", "`Content-Type: text/plain;charset=UTF-8`, which is safelisted", nil},
		{"a forbidden header is dropped, no preflight", get(withHeaders("Cookie", "a=b")), []Exchange{ex("GET", api+path, origin(app), 200, "Access-Control-Allow-Origin", "*")}, true, "", "the browser dropped it", nil},
		{"a long Accept needs a preflight", get(withHeaders("Accept", strings.Repeat("a", 129))), []Exchange{preflight(api+path, app, "GET", "accept", 204)}, false, StagePreflight, "longer than 128 bytes", nil},
		{"an unsafe byte in Accept-Language", get(withHeaders("Accept-Language", "en(")), []Exchange{preflight(api+path, app, "GET", "accept-language", 204)}, false, StagePreflight, `'('`, nil},
		{"safelisted values over 1024 bytes in total", get(withHeaders("Accept", strings.Repeat("a", 128), "Accept-Language", strings.Repeat("b", 128), "Content-Language", strings.Repeat("c", 128), "X-Pad", "1"), func(r *Request) {
			for i := 0; i < 7; i++ {
				r.Headers = append(r.Headers, [2]string{"Accept", strings.Repeat("d", 128)})
			}
		}), []Exchange{preflight(api+path, app, "GET", "accept,accept-language,content-language,x-pad", 204)}, false, StagePreflight, "over the 1,024 allowed", nil},
		{"a single Range is safelisted", get(withHeaders("Range", "bytes=0-10")), []Exchange{ex("GET", api+path, origin(app), 206, "Access-Control-Allow-Origin", "*")}, true, "", "", nil},
		{"a Range without a start is not", get(withHeaders("Range", "bytes=-500")), []Exchange{preflight(api+path, app, "GET", "range", 204)}, false, StagePreflight, "has no start", nil},

		// The preflight's own questions.
		{"ACRH lists the unsafe names sorted and lower case", get(withHeaders("X-B", "1", "X-A", "2")), []Exchange{preflight(api+path, app, "GET", "x-a,x-b", 204, "Access-Control-Allow-Origin", "*", "Access-Control-Allow-Headers", "x-a, x-b"), ex("GET", api+path, origin(app), 200, "Access-Control-Allow-Origin", "*")}, true, "", "`Access-Control-Request-Headers: x-a,x-b`", nil},

		// Expose-Headers.
		{"only safelisted headers without ACEH", get(), []Exchange{ex("GET", api+path, origin(app), 200, "Access-Control-Allow-Origin", "*", "Content-Type", "application/json", "X-Total-Count", "3", "Date", "x")}, true, "", "`content-type`", nil},
		{"ACEH * exposes everything without credentials", get(), []Exchange{ex("GET", api+path, origin(app), 200, "Access-Control-Allow-Origin", "*", "Access-Control-Expose-Headers", "*", "X-Total-Count", "3", "Set-Cookie", "a=b")}, true, "", "lets JS read every header", nil},
		{"ACEH * is literal with credentials", get(withCreds), []Exchange{ex("GET", api+path, origin(app), 200, "Access-Control-Allow-Origin", app, "Access-Control-Allow-Credentials", "true", "Access-Control-Expose-Headers", "*", "X-Total-Count", "3")}, true, "", "only names a header called `*`", nil},

		// Redirects.
		{"a same-origin redirect on the api keeps the origin", get(withURL(api + "/sess/redirect/302/api/users")), []Exchange{
			ex("GET", api+"/sess/redirect/302/api/users", origin(app), 302, "Access-Control-Allow-Origin", app, "Location", api+path),
			ex("GET", api+path, origin(app), 200, "Access-Control-Allow-Origin", app)}, true, "", "`302` redirect to", nil},
		{"the redirect itself needs CORS", get(withURL(api + "/sess/redirect/302/api/users")), []Exchange{
			ex("GET", api+"/sess/redirect/302/api/users", origin(app), 302, "Location", api+path)}, false, StageRedirect, "the `302` redirect has no `Access-Control-Allow-Origin`", nil},
		{"a redirect to another origin taints the origin", get(withURL(api + "/sess/redirect/302/s3/hello.txt")), []Exchange{
			ex("GET", api+"/sess/redirect/302/s3/hello.txt", origin(app), 302, "Access-Control-Allow-Origin", "*", "Location", s3+"/sess/hello.txt"),
			ex("GET", s3+"/sess/hello.txt", origin("null"), 200, "Access-Control-Allow-Origin", "*")}, true, "", "taints the request's origin", nil},
		{"a tainted origin with credentials needs ACAO null", get(withCreds, withURL(api+"/sess/redirect/302/s3/hello.txt")), []Exchange{
			ex("GET", api+"/sess/redirect/302/s3/hello.txt", origin(app), 302, "Access-Control-Allow-Origin", app, "Access-Control-Allow-Credentials", "true", "Location", s3+"/sess/hello.txt"),
			ex("GET", s3+"/sess/hello.txt", origin("null"), 200, "Access-Control-Allow-Origin", "*")}, false, StageResponse, "the header must be exactly `null`", nil},
		{"303 turns POST into GET", get(withMethod("POST"), withBody, withURL(api+"/sess/redirect/303/api/users")), []Exchange{
			ex("POST", api+"/sess/redirect/303/api/users", origin(app), 303, "Access-Control-Allow-Origin", "*", "Location", api+path),
			ex("GET", api+path, origin(app), 200, "Access-Control-Allow-Origin", "*")}, true, "", "turns `POST` into a `GET` without a body", nil},
		{"307 keeps POST", get(withMethod("POST"), withBody, withURL(api+"/sess/redirect/307/api/users")), []Exchange{
			ex("POST", api+"/sess/redirect/307/api/users", origin(app), 307, "Access-Control-Allow-Origin", "*", "Location", api+path),
			ex("POST", api+path, origin(app), 201, "Access-Control-Allow-Origin", "*")}, true, "", "keeps the method `POST`", nil},
		{"a 307 to another origin preflights again with Origin null", get(withMethod("PUT"), withURL(api+"/sess/redirect/307/s3/x")), []Exchange{
			preflight(api+"/sess/redirect/307/s3/x", app, "PUT", "", 204, "Access-Control-Allow-Origin", "*", "Access-Control-Allow-Methods", "PUT"),
			ex("PUT", api+"/sess/redirect/307/s3/x", origin(app), 307, "Access-Control-Allow-Origin", "*", "Location", s3+"/sess/x"),
			preflight(s3+"/sess/x", "null", "PUT", "", 200, "Access-Control-Allow-Origin", "*", "Access-Control-Allow-Methods", "PUT"),
			ex("PUT", s3+"/sess/x", origin("null"), 200, "Access-Control-Allow-Origin", "*")}, true, "", "sends `Origin: null`", nil},
		{"redirect error", get(withRedirect("error"), withURL(api+"/sess/redirect/302/api/users")), []Exchange{
			ex("GET", api+"/sess/redirect/302/api/users", origin(app), 302, "Access-Control-Allow-Origin", "*", "Location", api+path)}, false, StageRedirect, "redirect mode `error`", nil},
		{"redirect manual", get(withRedirect("manual"), withURL(api+"/sess/redirect/302/api/users")), []Exchange{
			ex("GET", api+"/sess/redirect/302/api/users", origin(app), 302, "Access-Control-Allow-Origin", "*", "Location", api+path)}, false, StageRedirect, "opaque redirect", nil},
		{"a redirect without Location is the response", get(withURL(api + "/sess/x")), []Exchange{
			ex("GET", api+"/sess/x", origin(app), 302, "Access-Control-Allow-Origin", "*")}, true, "", "JS reads the `302` response", nil},

		// The browser table.
		{"Chromium caps Max-Age at 7200", get(withMethod("PUT")), []Exchange{preflight(api+path, app, "PUT", "", 204, "Access-Control-Allow-Origin", "*", "Access-Control-Allow-Methods", "PUT", "Access-Control-Max-Age", "86400"), ex("PUT", api+path, origin(app), 200, "Access-Control-Allow-Origin", "*")}, true, "", "over Chromium's limit: it caches the preflight for 7200 s", Chromium},
		{"Chromium lets ACAH * cover Authorization", get(withHeaders("Authorization", "Bearer x")), []Exchange{preflight(api+path, app, "GET", "authorization", 204, "Access-Control-Allow-Origin", "*", "Access-Control-Allow-Headers", "*"), ex("GET", api+path, origin(app), 200, "Access-Control-Allow-Origin", "*")}, true, "", "covers `Authorization` in Chromium", Chromium},
		{"but not with credentials", get(withHeaders("Authorization", "Bearer x"), withCreds), []Exchange{preflight(api+path, app, "GET", "authorization", 204, "Access-Control-Allow-Origin", app, "Access-Control-Allow-Credentials", "true", "Access-Control-Allow-Headers", "*")}, false, StagePreflight, "must name explicitly", Chromium},
		{"two Accept headers are judged one by one under the standard", get(withHeaders("Accept", strings.Repeat("a", 100), "accept", strings.Repeat("b", 100))), []Exchange{ex("GET", api+path, origin(app), 200, "Access-Control-Allow-Origin", "*")}, true, "", "no preflight", Standard},
		{"Chromium judges them combined", get(withHeaders("Accept", strings.Repeat("a", 100), "accept", strings.Repeat("b", 100))), []Exchange{preflight(api+path, app, "GET", "accept", 204, "Access-Control-Allow-Origin", "*", "Access-Control-Allow-Headers", "accept"), ex("GET", api+path, origin(app), 200, "Access-Control-Allow-Origin", "*")}, true, "", "longer than 128 bytes", Chromium},
		{"a negative Max-Age is the default under the standard", get(withMethod("PUT")), []Exchange{preflight(api+path, app, "PUT", "", 204, "Access-Control-Allow-Origin", "*", "Access-Control-Allow-Methods", "PUT", "Access-Control-Max-Age", "-1"), ex("PUT", api+path, origin(app), 200, "Access-Control-Allow-Origin", "*")}, true, "", "for the default 5 s", Standard},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			b := tt.browser
			if b == nil {
				b = Standard
			}
			for i := range tt.exchanges {
				tt.exchanges[i].Seq = uint64(i + 1)
			}
			v := Explain(b, tt.req, tt.exchanges, nil, t0)
			if v.OK != tt.wantOK || v.Stage != tt.wantStage {
				t.Errorf("got ok=%v stage=%q, want ok=%v stage=%q\n%s", v.OK, v.Stage, tt.wantOK, tt.wantStage, steps(v))
			}
			found := tt.wantText == ""
			for _, s := range v.Steps {
				if strings.Contains(s.Text, tt.wantText) {
					found = true
				}
			}
			if !found {
				t.Errorf("no step says %q:\n%s", tt.wantText, steps(v))
			}
			for _, s := range v.Steps {
				if !strings.HasPrefix(s.Spec, Spec+"#") || s.Text == "" {
					t.Errorf("step without text or spec anchor: %+v", s)
				}
			}
		})
	}
}

func steps(v Verdict) string {
	var b strings.Builder
	for _, s := range v.Steps {
		mark := "✓"
		if !s.OK {
			mark = "✗"
		}
		b.WriteString("  " + mark + " [" + s.Stage + "] " + s.Text + "\n")
	}
	return b.String()
}

func TestExposed(t *testing.T) {
	v := Explain(Standard, get(), []Exchange{ex("GET", api+path, origin(app), 200,
		"Access-Control-Allow-Origin", "*", "Access-Control-Expose-Headers", "x-total-count",
		"Content-Type", "application/json", "X-Total-Count", "3", "Date", "x", "Cache-Control", "no-store", "Set-Cookie", "a=b")}, nil, t0)
	if got, want := strings.Join(v.Exposed, ","), "cache-control,content-type,x-total-count"; got != want {
		t.Errorf("exposed %s, want %s", got, want)
	}
	v = Explain(Standard, get(func(r *Request) { r.Origin = api }), []Exchange{ex("GET", api+path, nil, 200, "Date", "x", "Set-Cookie", "a=b", "X-Total-Count", "3")}, nil, t0)
	if got, want := strings.Join(v.Exposed, ","), "date,x-total-count"; got != want {
		t.Errorf("same-origin exposed %s, want %s", got, want)
	}
}

func TestPreflightCache(t *testing.T) {
	put := get(withMethod("PUT"), withHeaders("X-User-Id", "1"))
	answer := func(maxAge string) Exchange {
		resp := []string{"Access-Control-Allow-Origin", "*", "Access-Control-Allow-Methods", "PUT", "Access-Control-Allow-Headers", "x-user-id"}
		if maxAge != "" {
			resp = append(resp, "Access-Control-Max-Age", maxAge)
		}
		e := preflight(api+path, app, "PUT", "x-user-id", 204, resp...)
		e.Seq = 1
		return e
	}
	actual := ex("PUT", api+path, origin(app), 200, "Access-Control-Allow-Origin", "*")
	tests := []struct {
		desc    string
		b       *Browser
		maxAge  string
		later   time.Duration
		second  Request
		wantHit bool
	}{
		{"no Max-Age: cached 5 s", Standard, "", 3 * time.Second, put, true},
		{"no Max-Age: gone after 5 s", Standard, "", 6 * time.Second, put, false},
		{"Max-Age 0: never cached", Standard, "0", time.Second, put, false},
		{"Max-Age 600", Standard, "600", 10 * time.Minute / 2, put, true},
		{"Chromium's 7200 s cap", Chromium, "86400", 3 * time.Hour, put, false},
		{"another header is not covered", Standard, "600", time.Second, get(withMethod("PUT"), withHeaders("X-Other", "1")), false},
		{"an entry without credentials does not serve include", Standard, "600", time.Second, get(withMethod("PUT"), withHeaders("X-User-Id", "1"), withCreds), false},
		{"negative Max-Age under the standard: 5 s", Standard, "-1", time.Second, put, true},
		{"negative Max-Age where it counts as 0", &Browser{Name: "test", MaxAgeLimit: 7200, NegativeMaxAgeIsZero: true}, "-1", time.Second, put, false},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			cache := &Cache{}
			a := actual
			a.Seq = 2
			first := Explain(tt.b, put, []Exchange{answer(tt.maxAge), a}, cache, t0)
			if !first.OK {
				t.Fatalf("first run failed:\n%s", steps(first))
			}
			// The second run: if the model expects a cache hit, the browser
			// sent only the actual request.
			second := ex("PUT", api+path, origin(app), 200, "Access-Control-Allow-Origin", "*")
			second.Seq = 3
			v := Explain(tt.b, tt.second, []Exchange{second}, cache, t0.Add(tt.later))
			hit := v.OK && strings.Contains(steps(v), "reused the preflight it cached")
			if hit != tt.wantHit {
				t.Errorf("cache hit %v, want %v:\n%s", hit, tt.wantHit, steps(v))
			}
		})
	}
}

func TestSafelistedRequestHeader(t *testing.T) {
	tests := []struct {
		name, value string
		want        bool
	}{
		{"Accept", "application/json", true},
		{"Accept", "a\"b", false},
		{"accept-language", "en-US,en;q=0.9", true},
		{"Content-Language", "en_US", false},
		{"Content-Type", "text/plain", true},
		{"Content-Type", "text/plain;charset=UTF-8", true},
		{"Content-Type", "Multipart/Form-Data; boundary=x", true},
		{"Content-Type", "application/x-www-form-urlencoded", true},
		{"Content-Type", "application/json", false},
		{"Content-Type", "text/plain{}", false},
		{"Content-Type", "text", false},
		{"Content-Type", "text/plain; charset=\"utf-8\"", false}, // '"' is a CORS-unsafe byte
		{"Range", "bytes=0-", true},
		{"Range", "bytes=5-1", false},
		{"Range", "bytes=0-1,3-4", false},
		{"Range", "bytes = 0-1", false},
		{"X-User-Id", "1", false},
		{"Accept", strings.Repeat("a", 128), true},
	}
	for _, tt := range tests {
		if got, why := safelistedRequestHeader(tt.name, tt.value); got != tt.want || !got && why == "" {
			t.Errorf("safelisted(%q, %q) = %v %q, want %v", tt.name, tt.value, got, why, tt.want)
		}
	}
}

func TestForUserAgent(t *testing.T) {
	tests := map[string]*Browser{
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36":                                  Chromium,
		"Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0":                                                                         Firefox,
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15":                             WebKit,
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1": WebKit,
		"curl/8.5.0": Standard,
	}
	for ua, want := range tests {
		if got := ForUserAgent(ua); got != want {
			t.Errorf("%s: got %s, want %s", ua, got.Name, want.Name)
		}
	}
}

// FuzzExplain feeds arbitrary headers and statuses through the engine: it
// must never panic, and a verdict that is not OK says where it failed.
func FuzzExplain(f *testing.F) {
	f.Add("PUT", "X-A", "1", "http://127.0.0.1:8081", "PUT, x", "*", "-1", 307, "http://127.0.0.1:8083/x", "include")
	f.Add("GET", "Range", "bytes=0-", "*", "", "", "", 200, "", "omit")
	f.Fuzz(func(t *testing.T, method, hn, hv, acao, acam, acah, maxAge string, status int, location, creds string) {
		req := get(withMethod(method), withHeaders(hn, hv), func(r *Request) { r.Credentials = creds })
		exs := []Exchange{
			preflight(api+path, app, method, "", 204, "Access-Control-Allow-Origin", acao, "Access-Control-Allow-Methods", acam, "Access-Control-Allow-Headers", acah, "Access-Control-Max-Age", maxAge),
			ex(NormalizeMethod(method), api+path, origin(app), status, "Access-Control-Allow-Origin", acao, "Location", location, "Access-Control-Expose-Headers", acah),
		}
		v := Explain(Chromium, req, exs, &Cache{}, t0)
		if !v.OK && v.Stage == "" {
			t.Fatalf("a failed verdict without a stage:\n%s", steps(v))
		}
		if len(v.Steps) == 0 {
			t.Fatal("no steps")
		}
	})
}

// TestCacheRules runs sequences of preflighted runs against one cache and
// checks which runs the browser should send a new OPTIONS for.
func TestCacheRules(t *testing.T) {
	type run struct {
		req           Request
		wantPreflight bool
	}
	putH := func(header string, mods ...func(*Request)) Request {
		return get(append([]func(*Request){withMethod("PUT"), withHeaders(header, "1")}, mods...)...)
	}
	tests := []struct {
		desc string
		b    *Browser
		runs []run
	}{
		{"an entry made with include also serves omit", Standard, []run{
			{putH("X-A", withCreds), true}, {putH("X-A", func(r *Request) { r.Credentials = "omit" }), false}}},
		{"the standard keeps earlier grants to the URL", Standard, []run{
			{putH("X-A"), true}, {putH("X-B"), true}, {putH("X-A"), false}}},
		{"Chromium keeps one entry per URL", Chromium, []run{
			{putH("X-A"), true}, {putH("X-B"), true}, {putH("X-A"), true}}},
		{"the standard reuses a preflight for Origin null", Standard, []run{
			{putH("X-A", fromNull), true}, {putH("X-A", fromNull), false}}},
		{"Chromium never reuses one for Origin null", Chromium, []run{
			{putH("X-A", fromNull), true}, {putH("X-A", fromNull), true}}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			cache := &Cache{}
			for i, r := range tt.runs {
				o := r.req.Origin
				acao := o
				names := strings.ToLower(r.req.Headers[0][0])
				var exs []Exchange
				if r.wantPreflight {
					exs = append(exs, preflight(api+path, o, "PUT", names, 204, "Access-Control-Allow-Origin", acao, "Access-Control-Allow-Credentials", "true",
						"Access-Control-Allow-Methods", "PUT", "Access-Control-Allow-Headers", names, "Access-Control-Max-Age", "600"))
				}
				exs = append(exs, ex("PUT", api+path, origin(o), 200, "Access-Control-Allow-Origin", acao, "Access-Control-Allow-Credentials", "true"))
				for j := range exs {
					exs[j].Seq = uint64(10*i + j + 1)
				}
				v := Explain(tt.b, r.req, exs, cache, t0.Add(time.Duration(i)*time.Second))
				// The model must predict the cache itself: neither fall back
				// on "a preflight this session did not record" nor expect a
				// reuse the browser did not make.
				text := steps(v)
				predictedHit := strings.Contains(text, "reused the preflight it cached")
				surprised := slices.ContainsFunc(v.Steps, func(s Step) bool { return s.Unexpected })
				if !v.OK || surprised || predictedHit == r.wantPreflight {
					t.Fatalf("run %d: ok=%v, predicted a cache hit %v, want a preflight %v:\n%s", i+1, v.OK, predictedHit, r.wantPreflight, steps(v))
				}
			}
		})
	}
}

// TestEngineDepartures replays traffic each engine really sent (recorded
// by the conformance suite) through its own table and through another's:
// its own explains it without surprise, and the other finds the traffic
// unexpected. So each field changes what the model predicts.
func TestEngineDepartures(t *testing.T) {
	const bucket = "http://127.0.0.1:8084/sess/hello.txt"
	post := get(withMethod("POST"), withCreds, withBody, withHeaders("Content-Type", "application/json"), withURL(api+"/sess/redirect/307/s3/hello.txt"))
	creds := []string{"Access-Control-Allow-Credentials", "true"}
	tests := []struct {
		desc     string
		req      Request
		traffic  []Exchange
		own      *Browser
		other    *Browser
		ok       bool
		noteText string // in the note of some step, under own
	}{
		{"Firefox's preflight after a taint carries the page's origin",
			post, []Exchange{
				preflight(post.URL, app, "POST", "content-type", 204, append([]string{"Access-Control-Allow-Origin", app, "Access-Control-Allow-Methods", "POST", "Access-Control-Allow-Headers", "content-type"}, creds...)...),
				ex("POST", post.URL, origin(app), 307, append([]string{"Access-Control-Allow-Origin", app, "Location", bucket}, creds...)...),
				preflight(bucket, app, "POST", "content-type", 403),
			}, Firefox, Chromium, false, "sends the page's own origin on the preflight"},
		{"Firefox and WebKit preflight the GET a 303 made of a PUT",
			get(withMethod("PUT"), withURL(api+"/sess/redirect/303/api/users")), []Exchange{
				preflight(api+"/sess/redirect/303/api/users", app, "PUT", "", 204, "Access-Control-Allow-Origin", app, "Access-Control-Allow-Methods", "PUT"),
				ex("PUT", api+"/sess/redirect/303/api/users", origin(app), 303, "Access-Control-Allow-Origin", app, "Location", api+path),
				preflight(api+path, app, "GET", "", 204, "Access-Control-Allow-Origin", app),
				ex("GET", api+path, origin(app), 200, "Access-Control-Allow-Origin", app),
			}, WebKit, Chromium, true, "preflights every later hop"},
		{"Firefox counts no 1,024-byte total",
			get(withHeaders("Accept", strings.Repeat("a", 120), "Accept-Language", strings.Repeat("b", 120), "Content-Language", strings.Repeat("c", 120),
				"accept", strings.Repeat("d", 120), "accept-language", strings.Repeat("e", 120), "content-language", strings.Repeat("f", 120),
				"ACCEPT", strings.Repeat("g", 120), "ACCEPT-LANGUAGE", strings.Repeat("h", 120), "CONTENT-LANGUAGE", strings.Repeat("i", 120))),
			[]Exchange{ex("GET", api+path, origin(app), 200, "Access-Control-Allow-Origin", app)},
			Firefox, Standard, true, "never counts the total"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			seqs(tt.traffic)
			v := Explain(tt.own, tt.req, tt.traffic, nil, t0)
			if v.OK != tt.ok || unexpected(v) != "" {
				t.Errorf("%s: ok=%v (want %v), unexpected %q", tt.own.Name, v.OK, tt.ok, unexpected(v))
			}
			if !slices.ContainsFunc(v.Steps, func(s Step) bool { return strings.Contains(s.Note, tt.noteText) }) {
				t.Errorf("%s: no step notes %q", tt.own.Name, tt.noteText)
			}
			if other := Explain(tt.other, tt.req, tt.traffic, nil, t0); unexpected(other) == "" && other.OK == v.OK {
				t.Errorf("%s's table explains %s's traffic without surprise: the departure changes nothing", tt.other.Name, tt.own.Name)
			}
		})
	}
}

// seqs numbers exchanges from 1.
func seqs(exs []Exchange) {
	for i := range exs {
		exs[i].Seq = uint64(i + 1)
	}
}

// unexpected is the text of the first step the model did not expect.
func unexpected(v Verdict) string {
	for _, s := range v.Steps {
		if s.Unexpected {
			return s.Text
		}
	}
	return ""
}
