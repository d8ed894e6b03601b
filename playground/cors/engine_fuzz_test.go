package cors

// Fuzz targets for the engine, Explain. engine_test.go's FuzzExplain only
// checks that a failed verdict has a stage; these targets build whole
// fetches (page origin, method, headers, modes, a preflight, a redirect and
// its second hop, the preflight cache) from fuzzed values and check what
// the Fetch standard promises whatever the servers answered:
//
//   - FuzzEngine: the verdict is deterministic and well formed, an ok
//     verdict has no failing step, and no cross-origin response is read
//     unless its Access-Control-Allow-Origin named the page (or *, without
//     credentials), with Access-Control-Allow-Credentials: true for a
//     credentialed request.
//   - FuzzCORSCheck: for a simple cross-origin GET, the verdict is exactly
//     the standard's CORS check, computed independently here.
//
// Run one with, for example:
//
//	go test -run '^$' -fuzz '^FuzzEngine$' -fuzztime 60s ./playground/cors

import (
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// browsers are the tables the engine knows, for fuzzed choices.
var browsers = []*Browser{Standard, Chromium, Firefox, WebKit}

// bitReader hands out fuzzed choices from one number.
type bitReader uint64

// next returns a choice from 0 to n-1.
func (b *bitReader) next(n uint64) uint64 {
	v := uint64(*b) % n
	*b = bitReader(uint64(*b) / n)
	return v
}

// respHeaders builds a header list from name, value pairs, leaving out
// pairs with an empty value unless keepEmpty: an empty value and an absent
// header are different answers, and both are worth trying.
func respHeaders(keepEmpty bool, kv ...string) [][2]string {
	var out [][2]string
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" || keepEmpty {
			out = append(out, [2]string{kv[i], kv[i+1]})
		}
	}
	return out
}

// cloneCache is a deep copy of c, so that two runs can start from the same
// cache.
func cloneCache(c *Cache) *Cache { return &Cache{entries: slices.Clone(c.entries)} }

// cloneExchanges is a deep copy, to check that Explain writes to nothing.
func cloneExchanges(exs []Exchange) []Exchange {
	out := slices.Clone(exs)
	for i := range out {
		out[i].RequestHeaders = slices.Clone(out[i].RequestHeaders)
		out[i].ResponseHeaders = slices.Clone(out[i].ResponseHeaders)
	}
	return out
}

// fetch is one fuzzed fetch: the request, what the servers recorded, and
// the browser.
type fetch struct {
	b         *Browser
	req       Request
	exchanges []Exchange
}

// explain runs the engine twice, on copies that start equal, and checks
// that the two verdicts and the two caches agree and that nothing it was
// given changed. It returns the verdict.
func (fx fetch) explain(t *testing.T, cache *Cache, now time.Time) Verdict {
	t.Helper()
	req := fx.req
	req.Headers = slices.Clone(fx.req.Headers)
	exs := cloneExchanges(fx.exchanges)
	other := cloneCache(cache)
	v := Explain(fx.b, fx.req, fx.exchanges, cache, now)
	w := Explain(fx.b, req, exs, other, now)
	if !reflect.DeepEqual(v, w) {
		t.Fatalf("Explain is not deterministic:\n%s\n---\n%s", steps(v), steps(w))
	}
	if !reflect.DeepEqual(cache.entries, other.entries) {
		t.Fatalf("two runs left different caches:\n%+v\n%+v", cache.entries, other.entries)
	}
	if !reflect.DeepEqual(req, fx.req) || !reflect.DeepEqual(exs, fx.exchanges) {
		t.Fatalf("Explain changed its request or exchanges")
	}
	return v
}

var stages = []string{StageRequest, StageCache, StagePreflight, StageResponse, StageRedirect, StageExpose}

// checkVerdict checks what every verdict promises, and what the standard
// promises about the fetch fx.
func checkVerdict(t *testing.T, fx fetch, v Verdict) {
	t.Helper()
	bySeq := map[uint64]Exchange{}
	for _, ex := range fx.exchanges {
		bySeq[ex.Seq] = ex
	}
	fatal := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s\nrequest %+v\nexchanges %+v\nverdict ok=%v stage=%q failedSeq=%d exposed=%v\n%s",
			fmt.Sprintf(format, args...), fx.req, fx.exchanges, v.OK, v.Stage, v.FailedSeq, v.Exposed, steps(v))
	}

	// Shape: steps that say something, link the standard and name real
	// exchanges.
	if len(v.Steps) == 0 || v.Browser != fx.b.Name || v.Exposed == nil {
		fatal("a verdict without steps, browser or exposed list")
	}
	used := map[uint64]bool{} // the exchanges the engine read
	for _, s := range v.Steps {
		if s.Text == "" || !strings.HasPrefix(s.Spec, Spec+"#") || !slices.Contains(stages, s.Stage) {
			fatal("malformed step %+v", s)
		}
		if _, ok := bySeq[s.Seq]; s.Seq != 0 && !ok {
			fatal("step names exchange %d, which does not exist: %+v", s.Seq, s)
		}
		used[s.Seq] = s.Seq != 0
	}
	last := v.Steps[len(v.Steps)-1]

	if v.OK {
		// An ok verdict has no failing step. A step that only notes that
		// the traffic differed from the model's prediction is not a
		// failure.
		if v.Stage != "" || v.FailedSeq != 0 {
			fatal("ok, yet a failure point")
		}
		for _, s := range v.Steps {
			if !s.OK && !s.Unexpected {
				fatal("ok, yet a failing step: %+v", s)
			}
		}
		// What JS may read: lower case, sorted, once each, never
		// Set-Cookie, and only headers the final response has.
		final, ok := bySeq[last.Seq]
		if !ok {
			fatal("ok, but the last step names no response")
		}
		if !slices.IsSorted(v.Exposed) || len(slices.Compact(slices.Clone(v.Exposed))) != len(v.Exposed) {
			fatal("exposed names not sorted or repeated")
		}
		for _, n := range v.Exposed {
			_, present := headerOK(final.ResponseHeaders, n)
			if n != strings.ToLower(n) || n == "set-cookie" || n == "set-cookie2" || !present {
				fatal("exposed %q", n)
			}
		}
	} else {
		// A failure says where it happened, and is the last word.
		if v.Stage == "" || len(v.Exposed) != 0 {
			fatal("a failure without a stage, or with readable headers")
		}
		if last.OK || last.Unexpected || last.Stage != v.Stage || last.Seq != v.FailedSeq {
			fatal("the last step %+v is not the failure", last)
		}
	}

	// The standard's guarantees for a request that is cross-origin from
	// its first hop. fetch.spec.whatwg.org/#main-fetch
	u, err := url.Parse(fx.req.URL)
	if err != nil || fx.req.Origin != "null" && originOf(u) == fx.req.Origin {
		return
	}
	switch fx.req.Mode {
	case "same-origin", "no-cors":
		// A network error, or an opaque response JS cannot read.
		if v.OK {
			fatal("mode %s, cross-origin, and yet ok", fx.req.Mode)
		}
	case "cors":
		if !v.OK {
			return
		}
		// Every response the browser let through passed the CORS check:
		// Access-Control-Allow-Origin is the page's origin (or null,
		// once a redirect tainted it), or * without credentials, and a
		// credentialed request needs Access-Control-Allow-Credentials:
		// true. In particular, a credentialed request never passes on *.
		// fetch.spec.whatwg.org/#cors-check
		creds := fx.req.Credentials == "include"
		for seq, read := range used {
			if !read {
				continue
			}
			ex := bySeq[seq]
			acao, _ := headerOK(ex.ResponseHeaders, "Access-Control-Allow-Origin")
			acac, _ := headerOK(ex.ResponseHeaders, "Access-Control-Allow-Credentials")
			named := acao == fx.req.Origin || acao == "null"
			if !(named || acao == "*" && !creds) || creds && acac != "true" {
				fatal("exchange %d passed with Access-Control-Allow-Origin %q, -Credentials %q (credentials %q)", seq, acao, acac, fx.req.Credentials)
			}
			// A preflight's answer must also allow the method: exactly
			// with credentials, where * is no wildcard.
			// fetch.spec.whatwg.org/#cors-preflight-fetch
			if m := NormalizeMethod(fx.req.Method); ex.Method == "OPTIONS" && !SafelistedMethod(m) {
				methods, _ := parseList(ex.ResponseHeaders, "Access-Control-Allow-Methods")
				if !slices.Contains(methods, m) && (creds || !slices.Contains(methods, "*")) {
					fatal("preflight %d passed for %s with Access-Control-Allow-Methods %q", seq, m, methods)
				}
			}
		}
		// A method that is not safelisted never goes out unasked: the
		// browser sent a preflight, or reused a cached one.
		// fetch.spec.whatwg.org/#cors-safelisted-method
		if !SafelistedMethod(NormalizeMethod(fx.req.Method)) {
			asked := slices.ContainsFunc(v.Steps, func(s Step) bool {
				return s.Stage == StageCache || s.Seq != 0 && bySeq[s.Seq].Method == "OPTIONS"
			})
			if !asked {
				fatal("%s went out without a preflight", fx.req.Method)
			}
		}
	}
}

// extraHeaders are request headers the page may add besides the fuzzed
// one: each exercises a rule of the standard (Authorization and *,
// unsafe Content-Type, the 128-byte limit, Range, a forbidden method
// override, a forbidden header).
var extraHeaders = [][2]string{
	{},
	{"Authorization", "Bearer x"},
	{"Content-Type", "application/json"},
	{"Accept", strings.Repeat("a", 129)},
	{"Range", "bytes=0-10"},
	{"X-HTTP-Method-Override", "TRACE"},
	{"Cookie", "a=b"},
	{"accept", "text/html"},
}

// FuzzEngine builds a fetch from fuzzed values and runs it through the
// engine twice against one preflight cache (the second run a few seconds
// later, as a learner pressing Run again).
//
// Properties, for each run (see checkVerdict):
//   - Explain never panics, is deterministic (same verdict and same cache
//     from equal inputs) and changes neither the request nor the exchanges.
//   - Every step has text, a Fetch standard anchor and a known stage, and
//     names only exchanges that exist.
//   - An ok verdict has no failure point and no failing step (besides
//     notes that the traffic surprised the model); JS reads only headers
//     of the final response, never Set-Cookie.
//   - A failed verdict has a stage, exposes nothing, and its last step is
//     the failure it reports.
//   - Cross-origin from the first hop: modes same-origin and no-cors never
//     give JS the response; in mode cors, every exchange the browser let
//     through named the page's origin (or null after a tainting redirect)
//     in Access-Control-Allow-Origin, or * without credentials, and had
//     Access-Control-Allow-Credentials: true with credentials; a preflight
//     allowed the method; a method that is not safelisted was preflighted
//     or served from the cache.
func FuzzEngine(f *testing.F) {
	// Fetches from engine_test.go's cases: a simple GET, a preflighted
	// PUT, credentials, a redirect to s3 that taints the origin, 303.
	f.Add(uint64(0), "GET", "", "", "users", "*", "", "", "", "", "", "", 204, 200, 200, "")
	f.Add(uint64(1<<20|3<<14|1<<13), "PUT", "X-User-Id", "11", "users", app, "true", "PUT", "x-user-id", "X-Total-Count", "600", "", 204, 200, 200, "")
	f.Add(uint64(0xdead_beef), "put", "X-A", "1", "redirect/307/s3/x", "*", "true", "PUT, x", "*", "*", "-1", s3+"/sess/x", 204, 307, 200, "*")
	f.Add(uint64(0x0123_4567_89ab_cdef), "POST", "Content-Type", "text/plain", "redirect/303/api/users", app, "true", "", "", "", "86400", api+path, 200, 303, 200, "null")
	f.Add(uint64(0xffff_ffff_ffff_ffff), "patch", "Authorization", "Bearer x", "users?x=1#f", "null", "True", "patch", "*, Authorization", "", "abc", "//127.0.0.1:8083/sess/y", 299, 302, 0, app)
	f.Add(uint64(12345678), "DELETE", "Accept-Language", "en(", "files/hello.txt", app+"/", "", "DELETE", "accept-language", "", "0", "/sess/z", 404, 308, 200, "*")
	f.Fuzz(func(t *testing.T, choices uint64, method, hName, hValue, urlPath, acao, acac, acam, acah, aceh, maxAge, location string,
		pfStatus, status, status2 int, acao2 string) {
		bits := bitReader(choices)
		b := browsers[bits.next(uint64(len(browsers)))]
		pageOrigin := []string{app, "null", api, "http://app-corslab.localhost:8081"}[bits.next(4)]
		req := Request{
			Origin:      pageOrigin,
			URL:         api + "/sess/" + urlPath,
			Method:      method,
			Body:        bits.next(2) == 1,
			Credentials: []string{"omit", "same-origin", "include"}[bits.next(3)],
			Mode:        []string{"cors", "cors", "no-cors", "same-origin"}[bits.next(4)],
			Redirect:    []string{"follow", "follow", "error", "manual"}[bits.next(4)],
		}
		if hName != "" {
			req.Headers = append(req.Headers, [2]string{hName, hValue})
		}
		if extra := extraHeaders[bits.next(uint64(len(extraHeaders)))]; extra[0] != "" {
			req.Headers = append(req.Headers, extra)
		}
		keepEmpty := bits.next(2) == 1
		wrongOrigin := bits.next(4) == 0 // the request arrives with another Origin than expected

		// What the servers recorded: each exchange is there or not, so
		// that every "the browser stopped here" path is reached too.
		var exs []Exchange
		add := func(e Exchange) {
			e.Seq, e.At = uint64(len(exs)+1), t0
			exs = append(exs, e)
		}
		sentOrigin := pageOrigin
		if wrongOrigin {
			sentOrigin = "null"
		}
		m := NormalizeMethod(method)
		asked := strings.ToLower(hName)
		if bits.next(2) == 1 {
			pf := preflight(req.URL, sentOrigin, m, asked, pfStatus)
			pf.ResponseHeaders = respHeaders(keepEmpty, "Access-Control-Allow-Origin", acao, "Access-Control-Allow-Credentials", acac,
				"Access-Control-Allow-Methods", acam, "Access-Control-Allow-Headers", acah, "Access-Control-Max-Age", maxAge)
			add(pf)
		}
		if bits.next(4) != 0 {
			add(Exchange{Method: m, URL: req.URL, RequestHeaders: origin(sentOrigin), Status: status,
				ResponseHeaders: respHeaders(keepEmpty, "Access-Control-Allow-Origin", acao, "Access-Control-Allow-Credentials", acac,
					"Access-Control-Expose-Headers", aceh, "Location", location, "X-Total-Count", "3", "Set-Cookie", "a=b", "Content-Type", "text/plain")})
		}
		// The second hop, where Location leads.
		if first, err := url.Parse(req.URL); err == nil {
			if next, err := first.Parse(location); err == nil {
				m2 := []string{m, "GET"}[bits.next(2)]
				if bits.next(2) == 1 {
					pf := preflight(next.String(), "null", m2, asked, 204)
					pf.ResponseHeaders = respHeaders(keepEmpty, "Access-Control-Allow-Origin", acao2, "Access-Control-Allow-Credentials", acac,
						"Access-Control-Allow-Methods", acam, "Access-Control-Allow-Headers", acah)
					add(pf)
				}
				if bits.next(4) != 0 {
					add(Exchange{Method: m2, URL: next.String(), RequestHeaders: origin("null"), Status: status2,
						ResponseHeaders: respHeaders(keepEmpty, "Access-Control-Allow-Origin", acao2, "Access-Control-Allow-Credentials", acac,
							"Access-Control-Expose-Headers", aceh, "ETag", `"1"`)})
				}
			}
		}

		fx := fetch{b: b, req: req, exchanges: exs}
		cache := &Cache{}
		checkVerdict(t, fx, fx.explain(t, cache, t0))
		// The learner presses Run again a little later, with the cache
		// the first run left; the browser sent only the actual requests
		// this time, or everything again.
		later := t0.Add(time.Duration(bits.next(8)) * time.Second)
		if bits.next(2) == 1 {
			fx.exchanges = slices.DeleteFunc(slices.Clone(exs), func(e Exchange) bool { return e.Method == "OPTIONS" })
		}
		checkVerdict(t, fx, fx.explain(t, cache, later))
	})
}

// FuzzCORSCheck fetches a simple cross-origin GET (no preflight, no
// redirect) and compares the verdict with the standard's CORS check,
// written out here on its own: the response is readable exactly when
//
//   - the connection gave a response (a status), and
//   - Access-Control-Allow-Origin (all its headers, combined with ", ")
//     is present and is * for a request without credentials, or exactly
//     the page's origin, and
//   - for a credentialed request, Access-Control-Allow-Credentials
//     (combined) is exactly "true".
//
// fetch.spec.whatwg.org/#cors-check. Header names are matched without
// regard to case, so the fuzzer varies their case too. A failed check is
// reported at the response stage, against the one exchange.
func FuzzCORSCheck(f *testing.F) {
	f.Add(uint8(0), "*", "", "", "", 200)
	f.Add(uint8(1), app, "true", "", "", 200)
	f.Add(uint8(2|4), "*", "true", "", "", 200)
	f.Add(uint8(2|8), app, "True", "", "", 404)
	f.Add(uint8(2|16), app, "true", app, "true", 200)
	f.Add(uint8(32), "null", "", "", "", 302)
	f.Add(uint8(1|32), "null", "true", "", "", 200)
	f.Add(uint8(64), strings.ToUpper(app), "", "", "", 200)
	f.Add(uint8(128), app+"/", "", "", "", 0)
	f.Add(uint8(16|128), app, "", "*", "", 500)
	f.Fuzz(func(t *testing.T, choices uint8, acao, acac, acao2, acac2 string, status int) {
		creds := []string{"same-origin", "include", "omit", "include"}[choices&3]
		pageOrigin := app
		if choices&32 != 0 {
			pageOrigin = "null"
		}
		name := func(n string) string { // vary the header names' case
			if choices&64 != 0 {
				return strings.ToLower(n)
			}
			if choices&128 != 0 {
				return strings.ToUpper(n)
			}
			return n
		}
		var hs [][2]string
		var acaos, acacs []string
		addHeader := func(n, v string, list *[]string) {
			hs = append(hs, [2]string{name(n), v})
			*list = append(*list, v)
		}
		if choices&4 != 0 || acao != "" {
			addHeader("Access-Control-Allow-Origin", acao, &acaos)
		}
		if choices&8 != 0 || acac != "" {
			addHeader("Access-Control-Allow-Credentials", acac, &acacs)
		}
		if choices&16 != 0 { // a second header of each name
			addHeader("Access-Control-Allow-Origin", acao2, &acaos)
			addHeader("Access-Control-Allow-Credentials", acac2, &acacs)
		}
		// No Location: a redirect status is then the final response.
		exs := []Exchange{{Seq: 1, At: t0, Method: "GET", URL: api + path, RequestHeaders: origin(pageOrigin), Status: status, ResponseHeaders: hs}}
		req := get(func(r *Request) { r.Origin, r.Credentials = pageOrigin, creds })

		gotACAO, gotACAC := strings.Join(acaos, ", "), strings.Join(acacs, ", ")
		withCreds := creds == "include"
		want := status != 0 && acaos != nil &&
			(gotACAO == "*" && !withCreds || gotACAO == pageOrigin && (!withCreds || gotACAC == "true"))

		v := Explain(Standard, req, exs, nil, t0)
		if v.OK != want || !v.OK && (v.Stage != StageResponse || v.FailedSeq != 1) {
			t.Fatalf("credentials %s, origin %s, status %d, ACAO %q, ACAC %q: got ok=%v stage=%q seq=%d, want ok=%v\n%s",
				creds, pageOrigin, status, acaos, acacs, v.OK, v.Stage, v.FailedSeq, want, steps(v))
		}
		checkVerdict(t, fetch{b: Standard, req: req, exchanges: exs}, v)
	})
}
