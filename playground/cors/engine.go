package cors

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Request is what a page asked fetch() to do.
type Request struct {
	// Origin is the page's origin, serialized: "http://127.0.0.1:8081", or
	// "null" for an opaque origin such as a sandboxed iframe's.
	Origin string
	// Page is the kind of page that called fetch(), when it is one whose
	// origin is not simply its URL's (see page.go): "" for an ordinary
	// page, or PageSandbox, PageSandboxSameOrigin, PageData, PageSrcdoc.
	// Only the sentence that explains the page's origin reads it.
	Page        string
	URL         string      // absolute
	Method      string      // as passed to fetch()
	Headers     [][2]string // as the page set them
	Body        bool        // the page passed a (string) body
	Mode        string      // cors, no-cors, same-origin
	Credentials string      // omit, same-origin, include
	Redirect    string      // follow, error, manual
	// Document names the page load that ran the fetch (the runner
	// document), for a browser that caches preflights per opaque document
	// (Browser.OpaqueCachePerDocument).
	Document string
	// Via is the door the page used (see Door): "" or "fetch" for fetch().
	// Every other door sets Mode and Credentials itself, from CrossOrigin
	// (an element's crossorigin attribute: none, anonymous,
	// use-credentials) or WithCredentials (XMLHttpRequest, EventSource);
	// a form sends Enctype.
	Via             string
	CrossOrigin     string
	WithCredentials bool
	Enctype         string
}

// Exchange is one request and response as a server recorded them.
type Exchange struct {
	Seq             uint64
	At              time.Time
	Method          string
	URL             string // absolute
	RequestHeaders  [][2]string
	Status          int // 0: the connection closed without a response
	ResponseHeaders [][2]string
}

// Stages of a fetch, where a step happens and where a fetch can fail.
const (
	StageRequest   = "request"   // fetch() itself, before anything is sent
	StageCache     = "cache"     // the preflight cache
	StagePreflight = "preflight" // the OPTIONS request and its answer
	StageResponse  = "response"  // the actual request and the CORS check of its answer
	StageRedirect  = "redirect"  // a redirect hop
	StageExpose    = "expose"    // which response headers JS may read
)

// Verdict is the engine's account of a fetch.
type Verdict struct {
	// OK says whether JS gets the response: fetch() resolves with a
	// response that is not opaque.
	OK bool `json:"ok"`
	// Browser names the table the model used (Browser.Name); Verified
	// and About say whether the suite checks that table in a real engine,
	// and what it stands for.
	Browser  string `json:"browser"`
	Verified bool   `json:"verified"`
	About    string `json:"about"`
	// Stage and FailedSeq say where the fetch failed: the stage, and the
	// exchange (0 when no exchange is to blame, e.g. fetch() threw).
	Stage     string `json:"stage"`
	FailedSeq uint64 `json:"failedSeq"`
	Steps     []Step `json:"steps"`
	// Exposed are the lower-case names of the response headers JS can
	// read, when OK.
	Exposed []string `json:"exposed"`
}

// Step is one thing the browser checked or did.
type Step struct {
	OK    bool   `json:"ok"`
	Stage string `json:"stage"`
	// Text says what happened in plain words; header names and values are
	// in `backticks`.
	Text string `json:"text"`
	Spec string `json:"spec"` // the Fetch standard anchor
	Seq  uint64 `json:"seq"`  // the exchange it is about, 0 for none
	// Note says how this browser departs from the standard here.
	Note string `json:"note,omitempty"`
	// Unexpected marks a step where the recorded traffic differed from what
	// the model predicted: a preflight it did not expect, or a header
	// other than it foresaw.
	Unexpected bool `json:"unexpected,omitempty"`
}

// maxRedirects is the redirect limit. fetch.spec.whatwg.org/#http-redirect-fetch
const maxRedirects = 20

// Explain runs the request through the model of browser b, checking each
// step against the exchanges the servers recorded for it, in order. It
// reads and updates the preflight cache (nil means an empty one); now is
// when the page started the fetch.
func Explain(b *Browser, req Request, exchanges []Exchange, cache *Cache, now time.Time) Verdict {
	if cache == nil {
		cache = &Cache{}
	}
	e := &explainer{b: b, req: req, exchanges: exchanges, cache: cache, now: now}
	e.v = Verdict{Browser: b.Name, Verified: b.Verified, About: b.About, Steps: make([]Step, 0, 16), Exposed: []string{}}
	door, ok := DoorOf(req.Via)
	switch {
	case !ok:
		e.fail(StageRequest, "", 0, "The page used `%s`, which is no door corslab knows.", req.Via)
	case door.Via == "fetch":
		e.run()
	default:
		e.door = door
		e.openDoor()
		if door.CORS {
			e.run()
			e.doorSeen()
		} else {
			e.runUncovered()
		}
	}
	return e.v
}

// explainer is one run of the model: the request as it changes across
// redirects, and where it is in the recorded exchanges.
type explainer struct {
	b         *Browser
	req       Request
	door      Door // the door, when not fetch()
	exchanges []Exchange
	next      int // the next exchange to match
	cache     *Cache
	now       time.Time
	v         Verdict

	method  string
	url     *url.URL
	headers [][2]string
	body    bool
	tainted bool // fetch.spec.whatwg.org/#concept-request-tainted-origin
	// preflighted: an earlier hop of this fetch needed a preflight (for
	// a browser whose table says PreflightAfterRedirect).
	preflighted bool
	tainting    string // basic, cors or opaque: fetch.spec.whatwg.org/#concept-request-response-tainting
	redirects   int
	// missing is the method of the request the model looked for when the
	// recorded exchanges ran out: what the browser sends next (Next).
	missing string
	// final is the response the fetch ended with, when it did not end in
	// a network error (finished).
	final    Exchange
	finished bool
}

func (e *explainer) step(ok bool, stage, anchor string, seq uint64, format string, args ...any) *Step {
	e.v.Steps = append(e.v.Steps, Step{OK: ok, Stage: stage, Text: fmt.Sprintf(format, args...), Spec: specURL(anchor), Seq: seq})
	return &e.v.Steps[len(e.v.Steps)-1]
}

// specURLs holds the Fetch standard's URL of each anchor a step has cited:
// a few dozen strings, made once rather than on every step of every run.
var specURLs sync.Map // anchor → Spec + "#" + anchor

func specURL(anchor string) string {
	if strings.HasPrefix(anchor, "https://") {
		return anchor // a link to another standard
	}
	if u, ok := specURLs.Load(anchor); ok {
		return u.(string)
	}
	u, _ := specURLs.LoadOrStore(anchor, Spec+"#"+anchor)
	return u.(string)
}

// surprise records that the traffic differed from the model's prediction.
func (e *explainer) surprise(ok bool, stage, anchor string, seq uint64, format string, args ...any) {
	e.step(ok, stage, anchor, seq, format, args...).Unexpected = true
}

// fail records a failing step and the verdict's failure point.
func (e *explainer) fail(stage, anchor string, seq uint64, format string, args ...any) *Step {
	e.v.OK, e.v.Stage, e.v.FailedSeq = false, stage, seq
	return e.step(false, stage, anchor, seq, format, args...)
}

func (e *explainer) run() {
	if !e.prepare() {
		return
	}
	for {
		ex, ok := e.hop()
		if !ok {
			return
		}
		switch e.redirect(ex) {
		case final:
			e.finish(ex)
			return
		case stopped:
			return
		}
	}
}

// prepare is what fetch() does before anything is sent: normalize the
// method, drop headers a page may not set, add the body's Content-Type.
// fetch.spec.whatwg.org/#dom-request
func (e *explainer) prepare() bool {
	r := e.req
	u, err := url.Parse(r.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		e.fail(StageRequest, "dom-request", 0, "fetch() throws: %q is not an http(s) URL.", r.URL)
		return false
	}
	e.url, e.body, e.tainting = u, r.Body, "basic"
	if ForbiddenMethod(r.Method) {
		e.fail(StageRequest, "forbidden-method", 0, "fetch() throws: `%s` is a forbidden method.", r.Method)
		return false
	}
	e.method = NormalizeMethod(r.Method)
	if e.method != r.Method {
		e.step(true, StageRequest, "concept-method-normalize", 0, "fetch() upper-cases `%s` to `%s`.", r.Method, e.method)
	}
	if r.Mode == "no-cors" && !SafelistedMethod(e.method) {
		e.fail(StageRequest, "dom-request", 0, "fetch() throws: mode `no-cors` allows only GET, HEAD and POST, and the method is `%s`.", e.method)
		return false
	}
	for _, h := range r.Headers {
		switch {
		case ForbiddenRequestHeader(h[0], h[1]):
			e.step(true, StageRequest, "forbidden-request-header", 0, "The page set `%s`, a header only the browser may set: the browser dropped it.", h[0])
		case r.Mode == "no-cors" && !noCORSSafelisted(h[0], h[1]):
			e.step(true, StageRequest, "no-cors-safelisted-request-header", 0, "In mode `no-cors` the page may only set safelisted headers: the browser dropped `%s`.", h[0])
		default:
			e.headers = append(e.headers, h)
		}
	}
	if r.Body && !e.hasHeader("Content-Type") {
		// fetch.spec.whatwg.org/#concept-bodyinit-extract (a string body)
		e.headers = append(e.headers, [2]string{"Content-Type", "text/plain;charset=UTF-8"})
		e.step(true, StageRequest, "concept-bodyinit-extract", 0, "A string body comes with `Content-Type: text/plain;charset=UTF-8`, which is safelisted.")
	}
	return true
}

func noCORSSafelisted(name, value string) bool {
	switch strings.ToLower(name) {
	case "accept", "accept-language", "content-language", "content-type":
		ok, _ := safelistedRequestHeader(name, value)
		return ok
	}
	return false
}

func (e *explainer) hasHeader(name string) bool {
	return slices.ContainsFunc(e.headers, func(h [2]string) bool { return strings.EqualFold(h[0], name) })
}

// stageOf is the stage of a hop: the first request is the response stage,
// later ones are redirect hops.
func (e *explainer) stageOf() string {
	if e.redirects > 0 {
		return StageRedirect
	}
	return StageResponse
}

// hop sends the current request (after a preflight if it needs one) and
// checks its response. It returns the exchange when JS may go on with it.
// fetch.spec.whatwg.org/#main-fetch
func (e *explainer) hop() (Exchange, bool) {
	target := originOf(e.url)
	sameOrigin := e.req.Origin != "null" && target == e.req.Origin
	preflight := false
	switch {
	case sameOrigin && e.tainting == "basic":
		e.step(true, e.stageOf(), "main-fetch", 0, "`%s` is the page's own origin: a same-origin request, which CORS does not restrict.", target)
	case e.req.Mode == "same-origin":
		e.fail(e.sendStage(), "main-fetch", 0, "The request is cross-origin (`%s` from `%s`), and mode `same-origin` forbids that: a network error before anything is sent.", target, e.req.Origin)
		return Exchange{}, false
	case e.req.Mode == "no-cors":
		if e.req.Redirect != "follow" && e.redirects == 0 {
			e.fail(StageRequest, "main-fetch", 0, "Mode `no-cors` requires redirect `follow`; with `%s` it is a network error.", e.req.Redirect)
			return Exchange{}, false
		}
		e.tainting = "opaque"
		e.step(true, e.stageOf(), "main-fetch", 0, "Mode `no-cors`: the browser sends the request without CORS and will hand JS an opaque response.")
	default:
		e.tainting = "cors"
		unsafe := e.unsafeNames()
		forced := e.preflighted && e.b.PreflightAfterRedirect
		preflight = !SafelistedMethod(e.method) || len(unsafe) > 0 || forced
		e.explainCrossOrigin(target, unsafe, forced)
		e.preflighted = e.preflighted || preflight
	}
	if preflight && !e.preflight() {
		return Exchange{}, false
	}
	ex, ok := e.take(e.method)
	if !ok {
		e.fail(e.stageOf(), "http-fetch", 0, "No `%s %s` reached a server: the browser stopped before sending it (a network error).", e.method, e.url.Path)
		return Exchange{}, false
	}
	e.checkOrigin(ex, e.serializedOrigin())
	e.explainCookies(ex)
	if ex.Status == 0 {
		e.fail(e.stageOf(), "http-fetch", ex.Seq, "The server closed the connection without answering: a network error.")
		return ex, false
	}
	if e.tainting == "cors" {
		// The CORS check applies to every response, redirects included.
		// fetch.spec.whatwg.org/#http-fetch
		if !e.corsCheck(ex, e.stageFor(ex)) {
			return ex, false
		}
	}
	return ex, true
}

// stageFor is the stage of a response: a redirect hop, or the response.
func (e *explainer) stageFor(ex Exchange) string {
	if RedirectStatus(ex.Status) && header(ex.ResponseHeaders, "Location") != "" {
		return StageRedirect
	}
	return StageResponse
}

// sendStage is where a fetch fails that is refused before a request goes
// out: fetch() itself for the first request, the redirect for later ones.
func (e *explainer) sendStage() string {
	if e.redirects > 0 {
		return StageRedirect
	}
	return StageRequest
}

// explainCrossOrigin says why the request is cross-origin and whether it
// needs a preflight.
// forced says the browser preflights a request that needs none
// (PreflightAfterRedirect).
func (e *explainer) explainCrossOrigin(target string, unsafe []string, forced bool) {
	from := "`" + e.serializedOrigin() + "`"
	why := "is a different origin"
	if e.req.Origin == "null" {
		why = "can never be same-origin with an opaque origin"
	}
	st := e.step(true, e.stageOf(), "cors-protocol", 0, "`%s` %s than the page (%s): a cross-origin request, so the browser sends `Origin: %s` and applies CORS.", target, why, from, e.serializedOrigin())
	if e.req.Origin == "null" {
		st.Text = fmt.Sprintf("`%s` %s: the page's origin is opaque (%s), so the browser sends `Origin: null` and applies CORS.", target, why, opaqueBecause(e.req.Page))
	} else if how := originBecause(e.req.Page, e.req.Origin); how != "" && !e.tainted {
		st.Text += " " + how
	}
	switch {
	case !SafelistedMethod(e.method):
		e.step(true, StagePreflight, "cors-safelisted-method", 0, "`%s` is not a CORS-safelisted method (GET, HEAD, POST), so the browser must ask first: a preflight.", e.method)
	case len(unsafe) > 0:
		reasons := e.unsafeReasons()
		st := e.step(true, StagePreflight, "cors-unsafe-request-header-names", 0, "The request carries %s, so the browser must ask first: a preflight.", strings.Join(reasons, "; "))
		if e.b.CombinesHeaderValues && len(e.judged()) != len(e.headers) {
			st.Note = e.b.Note("CombinesHeaderValues")
		}
	case forced:
		st := e.step(true, StagePreflight, "http-redirect-fetch", 0, "The method and headers are CORS-safelisted now, but %s preflights this hop anyway: an earlier hop of the fetch needed a preflight.", e.b.Title)
		st.Note = e.b.Note("PreflightAfterRedirect")
	default:
		st := e.step(true, e.stageOf(), "cors-safelisted-request-header", 0, "The method and headers are all CORS-safelisted: no preflight, the browser sends the request straight away.")
		if size := e.safelistedSize(); size > maxSafelistedTotal {
			st.Text += fmt.Sprintf(" Their values add up to %d bytes, over the 1,024 the standard allows, but %s does not count the total.", size, e.b.Title)
			st.Note = e.b.Note("NoSafelistedTotal")
		}
	}
}

// maxSafelistedTotal bounds the bytes of safelisted header values a
// request may carry without a preflight.
// fetch.spec.whatwg.org/#cors-unsafe-request-header-names
const maxSafelistedTotal = 1024

// safelistedSize adds up the values of the safelisted headers.
func (e *explainer) safelistedSize() int {
	size := 0
	for _, h := range e.judged() {
		if ok, _ := safelistedRequestHeader(h[0], h[1]); ok {
			size += len(h[1])
		}
	}
	return size
}

// overSafelistedTotal reports whether the safelisted values together
// need a preflight in this browser.
func (e *explainer) overSafelistedTotal() bool {
	return !e.b.NoSafelistedTotal && e.safelistedSize() > maxSafelistedTotal
}

// unsafeNames are the CORS-unsafe request-header names: lower case,
// sorted, without duplicates.
// fetch.spec.whatwg.org/#cors-unsafe-request-header-names
func (e *explainer) unsafeNames() []string {
	var unsafe, maybe []string
	for _, h := range e.judged() {
		if ok, _ := safelistedRequestHeader(h[0], h[1]); ok {
			maybe = append(maybe, strings.ToLower(h[0]))
		} else {
			unsafe = append(unsafe, strings.ToLower(h[0]))
		}
	}
	if e.overSafelistedTotal() {
		unsafe = append(unsafe, maybe...)
	}
	slices.Sort(unsafe)
	return slices.Compact(unsafe)
}

// unsafeReasons says, per header, why it is not safelisted.
func (e *explainer) unsafeReasons() []string {
	var out []string
	for _, h := range e.judged() {
		if ok, why := safelistedRequestHeader(h[0], h[1]); !ok {
			out = append(out, fmt.Sprintf("`%s` (%s)", h[0], why))
		}
	}
	if e.overSafelistedTotal() {
		out = append(out, fmt.Sprintf("safelisted headers whose values add up to %d bytes, over the 1,024 allowed", e.safelistedSize()))
	}
	return out
}

// judged are the headers as the browser judges them for safelisting: as
// set, or, in a browser that combines them, one per name with the values
// joined by ", ".
func (e *explainer) judged() [][2]string {
	if !e.b.CombinesHeaderValues {
		return e.headers
	}
	var out [][2]string
	for _, h := range e.headers {
		i := slices.IndexFunc(out, func(o [2]string) bool { return strings.EqualFold(o[0], h[0]) })
		if i < 0 {
			out = append(out, h)
		} else {
			out[i][1] += ", " + h[1]
		}
	}
	return out
}

// serializedOrigin is the request's origin as the Origin header carries
// it. fetch.spec.whatwg.org/#serializing-a-request-origin
func (e *explainer) serializedOrigin() string {
	if e.tainted {
		return "null"
	}
	return e.req.Origin
}

func (e *explainer) credentials() bool { return e.req.Credentials == "include" }

// preflightOrigin is the origin a preflight carries, and its answer is
// checked against: the request's, or, in a browser whose table says
// PreflightOriginUntainted, the page's own even after a taint.
func (e *explainer) preflightOrigin() string {
	if e.tainted && e.b.PreflightOriginUntainted {
		return e.req.Origin
	}
	return e.serializedOrigin()
}

// cacheKey keys the preflight cache: on the origin the preflight carried
// (an opaque one per document, in a browser whose table says
// OpaqueCachePerDocument).
func (e *explainer) cacheKey() key {
	origin := e.preflightOrigin()
	if origin == "null" && e.b.OpaqueCachePerDocument {
		origin += " " + e.req.Document
	}
	return key{origin: origin, url: e.url.String(), credentials: e.credentials()}
}

// preflight checks the cache, then the OPTIONS exchange.
// fetch.spec.whatwg.org/#cors-preflight-fetch
func (e *explainer) preflight() bool {
	k := e.cacheKey()
	unsafe := e.unsafeNames()
	// A preflight with nothing to ask (PreflightAfterRedirect) finds no
	// entry in the cache to serve it: hit.stored is zero.
	if hit, ok := e.cached(k, unsafe); ok && !hit.stored.IsZero() {
		ago := e.now.Sub(hit.stored).Round(100 * time.Millisecond)
		next := e.peek()
		if next == nil || next.Method != "OPTIONS" {
			e.step(true, StageCache, "concept-cache", 0, "No OPTIONS this time: the browser reused the preflight it cached %s ago, Max-Age %d.", ago, hit.maxAge)
			return true
		}
		// The browser asked again though the model thinks it need not:
		// take the browser's word and check the new preflight.
		if e.b.CacheMayDrop {
			st := e.step(true, StageCache, "concept-cache", 0, "%s could have reused the preflight it cached %s ago (Max-Age %d), but it had dropped it: it sent a new one.", e.b.Title, ago, hit.maxAge)
			st.Note = e.b.Note("CacheMayDrop")
		} else {
			e.surprise(true, StageCache, "concept-cache", 0, "The model expected the browser to reuse the preflight it cached %s ago (Max-Age %d), but it sent a new one.", ago, hit.maxAge)
		}
	}
	next := e.peek()
	if next != nil && next.Method != "OPTIONS" && next.Method == e.method && sameURL(next.URL, e.url) {
		e.surprise(true, StageCache, "concept-cache", 0, "No OPTIONS reached the server: the browser reused a preflight from its cache that the model did not know of.")
		return true
	}
	ex, ok := e.take("OPTIONS")
	if !ok {
		e.fail(StagePreflight, "cors-preflight-fetch", 0, "The browser needed a preflight, but no OPTIONS reached a server: a network error.")
		return false
	}
	e.checkOrigin(ex, e.preflightOrigin())
	if e.preflightOrigin() != e.serializedOrigin() {
		st := e.step(true, StagePreflight, "serializing-a-request-origin", ex.Seq, "The origin is tainted, yet %s sends this preflight with `Origin: %s`, the page's own, and will check its answer against that; the request after it carries `Origin: %s`.", e.b.Title, e.preflightOrigin(), e.serializedOrigin())
		st.Note = e.b.Note("PreflightOriginUntainted")
	}
	if acrm := header(ex.RequestHeaders, "Access-Control-Request-Method"); acrm != e.method {
		e.surprise(false, StagePreflight, "cors-preflight-fetch", ex.Seq, "The preflight asked for method `%s`; the model expected `%s`.", acrm, e.method)
	}
	if want, got := strings.Join(unsafe, ","), header(ex.RequestHeaders, "Access-Control-Request-Headers"); want != got {
		e.surprise(false, StagePreflight, "cors-preflight-fetch", ex.Seq, "The preflight asked for headers `%s`; the model expected `%s`.", got, want)
	} else if got != "" {
		e.step(true, StagePreflight, "cors-preflight-fetch", ex.Seq, "The preflight asks: may the page send `%s` with `Access-Control-Request-Headers: %s` (lower case, sorted, comma-joined)?", e.method, got)
	}
	return e.checkPreflight(ex, k, unsafe)
}

// cached reports whether the cache covers the method and every unsafe
// header, and returns the entry that expires first.
// fetch.spec.whatwg.org/#http-fetch (the preflight decision)
func (e *explainer) cached(k key, unsafe []string) (cacheEntry, bool) {
	var oldest cacheEntry
	consider := func(c cacheEntry) {
		if oldest.stored.IsZero() || c.stored.Before(oldest.stored) {
			oldest = c
		}
	}
	if !SafelistedMethod(e.method) {
		c, ok := e.cache.methodHit(e.b, k, e.method, e.now)
		if !ok {
			return cacheEntry{}, false
		}
		consider(c)
	}
	for _, name := range unsafe {
		c, ok := e.cache.headerHit(e.b, k, name, e.now)
		if !ok {
			return cacheEntry{}, false
		}
		consider(c)
	}
	return oldest, true
}

// checkPreflight checks the answer to a preflight.
// fetch.spec.whatwg.org/#cors-preflight-fetch
func (e *explainer) checkPreflight(ex Exchange, k key, unsafe []string) bool {
	if ex.Status == 0 {
		e.fail(StagePreflight, "cors-preflight-fetch", ex.Seq, "Blocked at the preflight: the server closed the connection without answering.")
		return false
	}
	if !e.corsCheck(ex, StagePreflight) {
		return false
	}
	if !okStatus(ex.Status) {
		if RedirectStatus(ex.Status) {
			e.fail(StagePreflight, "cors-preflight-fetch", ex.Seq, "Blocked at the preflight: it was answered `%d`, a redirect. The browser never follows a redirect for a preflight: it needs a 2xx status.", ex.Status)
		} else {
			e.fail(StagePreflight, "cors-preflight-fetch", ex.Seq, "Blocked at the preflight: it was answered `%d`, and a preflight needs an ok status (200 to 299).", ex.Status)
		}
		return false
	}
	methods, okM := parseList(ex.ResponseHeaders, "Access-Control-Allow-Methods")
	names, okH := parseList(ex.ResponseHeaders, "Access-Control-Allow-Headers")
	if !okM {
		e.fail(StagePreflight, "cors-preflight-fetch", ex.Seq, "Blocked at the preflight: `Access-Control-Allow-Methods: %s` is not a list of methods.", header(ex.ResponseHeaders, "Access-Control-Allow-Methods"))
		return false
	}
	if !okH {
		e.fail(StagePreflight, "cors-preflight-fetch", ex.Seq, "Blocked at the preflight: `Access-Control-Allow-Headers: %s` is not a list of header names.", header(ex.ResponseHeaders, "Access-Control-Allow-Headers"))
		return false
	}
	creds := e.credentials()
	if !SafelistedMethod(e.method) {
		allowed := slices.Contains(methods, e.method) || !creds && slices.Contains(methods, "*")
		if !allowed {
			e.fail(StagePreflight, "cors-preflight-fetch", ex.Seq, "Blocked at the preflight: the page asked to use `%s`, but `Access-Control-Allow-Methods` was %s.%s", e.method, quoteOrAbsent(ex.ResponseHeaders, "Access-Control-Allow-Methods"), methodHint(e.method, methods, creds))
			return false
		}
		e.step(true, StagePreflight, "cors-preflight-fetch", ex.Seq, "`Access-Control-Allow-Methods: %s` allows `%s`.", header(ex.ResponseHeaders, "Access-Control-Allow-Methods"), e.method)
	}
	// Authorization is never covered by *.
	// fetch.spec.whatwg.org/#cors-non-wildcard-request-header-name
	if e.hasHeader("Authorization") && !containsFold(names, "authorization") {
		wildcard := !creds && slices.Contains(names, "*")
		if !wildcard || !e.b.WildcardCoversAuthorization {
			e.fail(StagePreflight, "cors-non-wildcard-request-header-name", ex.Seq, "Blocked at the preflight: the page sends `Authorization`, which `Access-Control-Allow-Headers` must name explicitly (`*` never covers it), and it was %s.", quoteOrAbsent(ex.ResponseHeaders, "Access-Control-Allow-Headers"))
			return false
		}
		st := e.step(true, StagePreflight, "cors-non-wildcard-request-header-name", ex.Seq, "`Access-Control-Allow-Headers: *` covers `Authorization` in %s.", e.b.Title)
		st.Note = e.b.Note("WildcardCoversAuthorization")
	}
	for _, name := range unsafe {
		if !containsFold(names, name) && (creds || !slices.Contains(names, "*")) {
			hint := ""
			if slices.Contains(names, "*") {
				hint = " `*` is a wildcard only when credentials are not included."
			}
			e.fail(StagePreflight, "cors-preflight-fetch", ex.Seq, "Blocked at the preflight: the page asked to send `%s`, but `Access-Control-Allow-Headers` was %s.%s", name, quoteOrAbsent(ex.ResponseHeaders, "Access-Control-Allow-Headers"), hint)
			return false
		}
	}
	if len(unsafe) > 0 {
		e.step(true, StagePreflight, "cors-preflight-fetch", ex.Seq, "`Access-Control-Allow-Headers: %s` allows `%s` (names compare without regard to case).", header(ex.ResponseHeaders, "Access-Control-Allow-Headers"), strings.Join(unsafe, ", "))
	}
	maxAge, st := e.maxAge(ex)
	st.Text = "The preflight passed. " + st.Text
	if e.b.NoCacheForOpaqueOrigin && k.origin == "null" && maxAge > 0 {
		maxAge = 0
		st.Text += " But " + e.b.Title + " will not reuse it: the origin is opaque."
		st.Note = e.b.Note("NoCacheForOpaqueOrigin")
	}
	if e.cache.store(k, methods, names, maxAge, ex.At, e.b.CacheOneEntryPerURL) {
		st.Text += " It replaces what was cached for this URL before."
		st.Note = e.b.Note("CacheOneEntryPerURL")
	}
	return true
}

// maxAge works out how long the preflight may be cached, and says so.
func (e *explainer) maxAge(ex Exchange) (int, *Step) {
	raw, present := headerOK(ex.ResponseHeaders, "Access-Control-Max-Age")
	seconds, err := strconv.Atoi(strings.TrimSpace(raw))
	switch {
	case !present && e.b.NoDefaultMaxAge:
		st := e.step(true, StageCache, "http-access-control-max-age", ex.Seq, "With no `Access-Control-Max-Age`, %s caches nothing: the next request is preflighted again.", e.b.Title)
		st.Note = e.b.Note("NoDefaultMaxAge")
		return 0, st
	case (err != nil || !allDigits(strings.TrimSpace(raw))) && !(err == nil && seconds < 0) && e.b.NoDefaultMaxAge:
		st := e.step(true, StageCache, "http-access-control-max-age", ex.Seq, "`Access-Control-Max-Age: %s` is not a number of seconds, and then %s caches nothing: the next request is preflighted again.", raw, e.b.Title)
		st.Note = e.b.Note("NoDefaultMaxAge")
		return 0, st
	case !present:
		return DefaultMaxAge, e.step(true, StageCache, "http-access-control-max-age", ex.Seq, "With no `Access-Control-Max-Age` the browser caches it for the default %d s: a repeat within that time sends no OPTIONS.", DefaultMaxAge)
	case err == nil && seconds < 0 && e.b.NegativeMaxAgeIsZero:
		st := e.step(true, StageCache, "http-access-control-max-age", ex.Seq, "`Access-Control-Max-Age: %s` counts as 0: the browser caches nothing, and the next request is preflighted again.", raw)
		st.Note = e.b.Note("NegativeMaxAgeIsZero")
		return 0, st
	case err != nil || seconds < 0 || !allDigits(strings.TrimSpace(raw)):
		return DefaultMaxAge, e.step(true, StageCache, "http-access-control-max-age", ex.Seq, "`Access-Control-Max-Age: %s` is not a number of seconds, so the browser caches it for the default %d s.", raw, DefaultMaxAge)
	case seconds == 0:
		return 0, e.step(true, StageCache, "http-access-control-max-age", ex.Seq, "`Access-Control-Max-Age: 0`: the browser caches nothing, and the next request is preflighted again.")
	case seconds > e.b.MaxAgeLimit:
		return e.b.MaxAgeLimit, e.step(true, StageCache, "http-access-control-max-age", ex.Seq, "`Access-Control-Max-Age: %d` is over %s's limit: it caches the preflight for %d s.", seconds, e.b.Title, e.b.MaxAgeLimit)
	default:
		return seconds, e.step(true, StageCache, "http-access-control-max-age", ex.Seq, "`Access-Control-Max-Age: %d`: the browser may reuse this preflight for %d s.", seconds, seconds)
	}
}

// corsCheck checks Access-Control-Allow-Origin and, with credentials,
// Access-Control-Allow-Credentials. fetch.spec.whatwg.org/#cors-check
func (e *explainer) corsCheck(ex Exchange, stage string) bool {
	origin := e.serializedOrigin()
	if stage == StagePreflight {
		origin = e.preflightOrigin()
	}
	acao, present := headerOK(ex.ResponseHeaders, "Access-Control-Allow-Origin")
	what := "the response"
	switch stage {
	case StagePreflight:
		what = "the preflight's answer"
	case StageRedirect:
		what = fmt.Sprintf("the `%d` redirect", ex.Status)
	}
	blocked := "Blocked: "
	if stage == StagePreflight {
		blocked = "Blocked at the preflight: "
	}
	switch {
	case !present:
		e.fail(stage, "cors-check", ex.Seq, "%s%s has no `Access-Control-Allow-Origin`, so the page (`%s`) may not read it.", blocked, what, origin)
		return false
	case acao == "*" && !e.credentials():
		e.step(true, stage, "cors-check", ex.Seq, "`Access-Control-Allow-Origin: *` on %s lets any origin read it, since no credentials are included.", what)
		return true
	case acao == "*":
		e.fail(stage, "cors-check", ex.Seq, "%s%s says `Access-Control-Allow-Origin: *`, but the request includes credentials, and then `*` is not a wildcard: the header must be exactly `%s`.", blocked, what, origin)
		return false
	case acao != origin:
		e.fail(stage, "cors-check", ex.Seq, "%s%s says `Access-Control-Allow-Origin: %s`, which is not exactly the request's origin `%s`%s.", blocked, what, acao, origin, mismatchHint(acao, origin))
		return false
	}
	e.step(true, stage, "cors-check", ex.Seq, "`Access-Control-Allow-Origin: %s` on %s matches the request's origin exactly.", acao, what)
	if !e.credentials() {
		return true
	}
	acac, present := headerOK(ex.ResponseHeaders, "Access-Control-Allow-Credentials")
	if acac != "true" {
		got := "absent"
		if present {
			got = "`" + acac + "`"
		}
		e.fail(stage, "cors-check", ex.Seq, "%sthe request includes credentials, so %s needs `Access-Control-Allow-Credentials: true` (exactly, in lower case), and it was %s.", blocked, what, got)
		return false
	}
	e.step(true, stage, "cors-check", ex.Seq, "`Access-Control-Allow-Credentials: true` lets the page read %s even though it includes credentials.", what)
	return true
}

// What a response means for the fetch.
type outcome int

const (
	final    outcome = iota // the response is what fetch() resolves with
	followed                // a redirect the browser follows: a new hop
	stopped                 // a redirect that ends the fetch
)

// redirect follows a redirect response, if ex is one.
// fetch.spec.whatwg.org/#http-redirect-fetch
func (e *explainer) redirect(ex Exchange) outcome {
	location := header(ex.ResponseHeaders, "Location")
	if !RedirectStatus(ex.Status) || location == "" {
		return final
	}
	switch e.req.Redirect {
	case "error":
		e.fail(StageRedirect, "concept-request-redirect-mode", ex.Seq, "The server answered `%d` and redirect mode `error` makes any redirect a network error.", ex.Status)
		return stopped
	case "manual":
		e.v.OK, e.v.Stage, e.v.FailedSeq = false, StageRedirect, ex.Seq
		e.step(false, StageRedirect, "concept-filtered-response-opaque-redirect", ex.Seq, "Redirect mode `manual`: fetch() resolves with an opaque redirect, so JS sees status 0 and nothing else (not even `Location`).")
		return stopped
	}
	next, err := e.url.Parse(location)
	if err != nil || (next.Scheme != "http" && next.Scheme != "https") {
		e.fail(StageRedirect, "http-redirect-fetch", ex.Seq, "`Location: %s` is not an http(s) URL: a network error.", location)
		return stopped
	}
	if e.redirects == maxRedirects {
		e.fail(StageRedirect, "http-redirect-fetch", ex.Seq, "That is redirect number %d: browsers follow at most %d, so this is a network error.", maxRedirects+1, maxRedirects)
		return stopped
	}
	e.redirects++
	var changes []string
	if ex.Status == 303 && e.method != "GET" && e.method != "HEAD" || (ex.Status == 301 || ex.Status == 302) && e.method == "POST" {
		changes = append(changes, fmt.Sprintf("`%d` turns `%s` into a `GET` without a body", ex.Status, e.method))
		e.method, e.body = "GET", false
		e.headers = slices.DeleteFunc(e.headers, func(h [2]string) bool { return requestBodyHeader(h[0]) })
	} else if ex.Status == 307 || ex.Status == 308 {
		changes = append(changes, fmt.Sprintf("`%d` keeps the method `%s` and the body", ex.Status, e.method))
	}
	from, to := originOf(e.url), originOf(next)
	if from != to {
		if e.hasHeader("Authorization") && e.b.KeepsAuthorizationOnRedirect {
			changes = append(changes, fmt.Sprintf("%s keeps `Authorization` (%s)", e.b.Title, e.b.Note("KeepsAuthorizationOnRedirect")))
		} else if e.hasHeader("Authorization") {
			changes = append(changes, "`Authorization` is dropped on a redirect to another origin")
			e.headers = slices.DeleteFunc(e.headers, func(h [2]string) bool { return strings.EqualFold(h[0], "Authorization") })
		}
		// fetch.spec.whatwg.org/#concept-request-tainted-origin
		if e.req.Origin != from && !e.tainted {
			e.tainted = true
			changes = append(changes, fmt.Sprintf("a redirect from `%s`, itself cross-origin to the page, to yet another origin `%s` taints the request's origin: from now on it sends `Origin: null`", from, to))
		}
	}
	e.url = next
	text := fmt.Sprintf("`%d` redirect to `%s`: the browser follows it", ex.Status, location)
	if len(changes) > 0 {
		text += "; " + strings.Join(changes, "; ")
	}
	e.step(true, StageRedirect, "http-redirect-fetch", ex.Seq, "%s.", text)
	return followed
}

// finish says what JS gets from the final response.
func (e *explainer) finish(ex Exchange) {
	e.final, e.finished = ex, true
	if e.door.Via != "" && e.door.Via != "xhr" {
		return // the door says what the page sees (doorSeen)
	}
	switch e.tainting {
	case "opaque":
		e.v.OK, e.v.Stage, e.v.FailedSeq = false, StageResponse, ex.Seq
		e.step(false, StageResponse, "concept-filtered-response-opaque", ex.Seq, "fetch() resolves with an opaque response: JS sees status 0, no headers and no body, whatever the server sent (here `%d`).", ex.Status)
		return
	case "basic":
		e.v.OK = true
		e.v.Exposed = e.exposed(ex, nil, true)
		e.step(true, StageResponse, "concept-filtered-response-basic", ex.Seq, "JS reads the `%d` response, and every header but `Set-Cookie`.", ex.Status)
		return
	}
	e.v.OK = true
	e.step(true, StageResponse, "cors-check", ex.Seq, "JS reads the `%d` response.", ex.Status)
	list, ok := parseList(ex.ResponseHeaders, "Access-Control-Expose-Headers")
	all := ok && !e.credentials() && slices.Contains(list, "*")
	if !ok {
		list = nil
	}
	e.v.Exposed = e.exposed(ex, list, all)
	switch {
	case all:
		e.step(true, StageExpose, "http-access-control-expose-headers", ex.Seq, "`Access-Control-Expose-Headers: *` (without credentials) lets JS read every header: %s.", codeList(e.v.Exposed))
	case e.credentials() && slices.Contains(list, "*"):
		e.step(true, StageExpose, "http-access-control-expose-headers", ex.Seq, "With credentials, `*` in `Access-Control-Expose-Headers` only names a header called `*`: JS reads just the safelisted headers and those named: %s.", codeList(e.v.Exposed))
	default:
		e.step(true, StageExpose, "cors-safelisted-response-header-name", ex.Seq, "JS may read the safelisted response headers and those `Access-Control-Expose-Headers` names: %s.", codeList(e.v.Exposed))
	}
}

// exposed lists the response headers JS can read, lower case and sorted.
func (e *explainer) exposed(ex Exchange, named []string, all bool) []string {
	out := []string{}
	for _, h := range ex.ResponseHeaders {
		n := strings.ToLower(h[0])
		if forbiddenResponseHeader(n) || slices.Contains(out, n) {
			continue
		}
		if all || SafelistedResponseHeader(n) || containsFold(named, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// explainCookies says whether the request may carry cookies, and what it
// carried. fetch.spec.whatwg.org/#concept-request-credentials-mode
func (e *explainer) explainCookies(ex Exchange) {
	cookie, sent := headerOK(ex.RequestHeaders, "Cookie")
	carried := "It carried none."
	if sent {
		carried = "It carried `Cookie: " + cookie + "`."
	}
	stage := e.stageFor(ex)
	switch {
	case e.req.Credentials == "omit":
		e.step(true, stage, "concept-request-credentials-mode", ex.Seq, "Credentials `omit`: the browser sends no cookies. %s", carried)
	case e.tainting == "basic":
		e.step(true, stage, "concept-request-credentials-mode", ex.Seq, "A same-origin request: the browser sends the cookies it has for this host. %s", carried)
	case e.req.Credentials != "include":
		e.step(true, stage, "concept-request-credentials-mode", ex.Seq, "Credentials `%s` on a cross-origin request: the browser sends no cookies. %s", e.req.Credentials, carried)
	case (e.req.Origin == "null" || otherHost(e.req.Origin, ex.URL)) && e.b.SameSiteFromTopLevel:
		st := e.step(true, stage, "concept-request-credentials-mode", ex.Seq, "Credentials `include`: %s judges `SameSite` by the top-level page, the lab, which is on the server's site, so the browser sends the cookies it has for this host, `SameSite=Lax` ones included (a browser that blocks third-party cookies may still keep some back). %s", e.b.Title, carried)
		st.Note = e.b.Note("SameSiteFromTopLevel")
	case e.req.Origin == "null":
		e.step(true, stage, "concept-request-credentials-mode", ex.Seq, "Credentials `include`, but from an opaque origin the request counts as cross-site, so cookies marked `SameSite=Lax` or `Strict` stay behind. %s", carried)
	case otherHost(e.req.Origin, ex.URL):
		// A look-alike page: its host is not the server's, and which
		// cookies go depends on whether the two are one site.
		// httpwg.org/http-extensions/draft-ietf-httpbis-rfc6265bis.html#name-samesite-cookies
		e.step(true, stage, "concept-request-credentials-mode", ex.Seq, "Credentials `include`: the browser sends the cookies it has for this host that `SameSite` allows. The page is on `%s`, the server on `%s`: if they are two sites (two registrable domains), cookies marked `SameSite=Lax` or `Strict` stay behind, and a browser that blocks third-party cookies keeps `SameSite=None` ones too. %s", hostOf(e.req.Origin), hostOf(ex.URL), carried)
	default:
		e.step(true, stage, "concept-request-credentials-mode", ex.Seq, "Credentials `include`: the browser sends the cookies it has for this host that `SameSite` allows (cookies ignore ports: pages on other ports of the same host share them). %s", carried)
	}
}

// otherHost reports whether a page's origin and a URL name two different
// hosts (ports aside).
func otherHost(origin, u string) bool {
	a, b := hostOf(origin), hostOf(u)
	return a != "" && b != "" && a != b
}

// hostOf is the host name of a URL or an origin, "" if it has none.
func hostOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return strings.ToLower(p.Hostname())
}

// checkOrigin explains the Origin header a request arrived with, when it
// is not the one the model expected.
func (e *explainer) checkOrigin(ex Exchange, want string) {
	got, present := headerOK(ex.RequestHeaders, "Origin")
	if !present || e.tainting == "basic" {
		return
	}
	if got != want {
		e.surprise(false, e.stageOf(), "serializing-a-request-origin", ex.Seq, "The request arrived with `Origin: %s`; the model expected `%s`.", got, want)
	}
}

// peek returns the next exchange, if any.
func (e *explainer) peek() *Exchange {
	if e.next < len(e.exchanges) {
		return &e.exchanges[e.next]
	}
	return nil
}

// take consumes the next exchange if it is a request with the given method
// to the current URL.
func (e *explainer) take(method string) (Exchange, bool) {
	next := e.peek()
	if next == nil {
		e.missing = method
	}
	if next == nil || next.Method != method || !sameURL(next.URL, e.url) {
		return Exchange{}, false
	}
	e.next++
	return *next, true
}

func sameURL(raw string, u *url.URL) bool {
	p, err := url.Parse(raw)
	if err != nil {
		return false
	}
	p.Fragment, p.RawFragment = "", ""
	v := *u
	v.Fragment, v.RawFragment = "", ""
	return p.String() == v.String()
}

// originOf serializes a URL's origin. html.spec.whatwg.org/#ascii-serialisation-of-an-origin
func originOf(u *url.URL) string {
	host := strings.ToLower(u.Host)
	if u.Scheme == "http" {
		host = strings.TrimSuffix(host, ":80")
	} else if u.Scheme == "https" {
		host = strings.TrimSuffix(host, ":443")
	}
	return u.Scheme + "://" + host
}

// header returns a header's value, several headers of the name combined
// with ", ", as the standard's "get" does. fetch.spec.whatwg.org/#concept-header-list-get
func header(h [][2]string, name string) string {
	v, _ := headerOK(h, name)
	return v
}

func headerOK(h [][2]string, name string) (string, bool) {
	var vals []string
	for _, kv := range h {
		if strings.EqualFold(kv[0], name) {
			vals = append(vals, kv[1])
		}
	}
	return strings.Join(vals, ", "), vals != nil
}

// parseList extracts a comma-separated list of tokens from a header, as
// the standard's "extracting header list values" does for the
// Access-Control-Allow-Methods, -Allow-Headers and -Expose-Headers
// (#token). Empty items are allowed by the # rule; anything else that is
// not a token fails. An absent header is an empty list.
// fetch.spec.whatwg.org/#extract-header-list-values
func parseList(h [][2]string, name string) ([]string, bool) {
	raw, present := headerOK(h, name)
	if !present {
		return nil, true
	}
	var out []string
	for _, item := range splitList(raw) {
		if item == "" {
			continue
		}
		if !IsToken(item) {
			return nil, false
		}
		out = append(out, item)
	}
	return out, true
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}

func quoteOrAbsent(h [][2]string, name string) string {
	if v, ok := headerOK(h, name); ok {
		return "`" + v + "`"
	}
	return "absent"
}

func codeList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return "`" + strings.Join(names, "`, `") + "`"
}

// methodHint explains the near misses learners hit most.
func methodHint(method string, allowed []string, creds bool) string {
	switch {
	case creds && slices.Contains(allowed, "*"):
		return " `*` is a wildcard only when credentials are not included."
	case containsFold(allowed, method):
		return " Methods compare case-sensitively."
	}
	return ""
}

// mismatchHint explains why two origins that look alike do not match.
func mismatchHint(acao, origin string) string {
	switch {
	case strings.Contains(acao, ","):
		return " (the header may name only one origin)"
	case strings.TrimSuffix(acao, "/") == origin:
		return " (an origin has no trailing slash)"
	case strings.EqualFold(acao, origin):
		return " (the comparison is case-sensitive)"
	}
	return ""
}
