package playground

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/corslab/corslab/playground/cors"
	"github.com/corslab/corslab/playground/origins"
	"github.com/corslab/corslab/playground/probe"
	"github.com/corslab/corslab/playground/ratelimit"
	"github.com/corslab/corslab/playground/scan"
	"github.com/corslab/corslab/playground/session"
)

// The lab's probe and scan: `corslab check` and `corslab scan` behind the
// UI origin's API, for the panel "Check from any origin (no browser)".
//
//	GET  /api/sessions/{id}/probe  whether they are on here, and if not why
//	POST /api/sessions/{id}/probe  one probe (probe.Run): the exchanges, the
//	                               engine's verdict and steps, the label
//	POST /api/sessions/{id}/scan   one scan (scan.Run): findings, checks
//
// corslab sends these requests itself, from the machine it runs on, so
// they are bounded like the yours origin and more:
//
//   - In workshop mode they are off unless --allow-targets says where they
//     may go (probeOff); every connection, redirect hops included, is made
//     through origins.DialAllowed, which checks the address dialed, after
//     corslab's own DNS lookup, against that list. A redirect to another
//     host is not followed at all (probe.Config.AllowHosts is empty).
//   - Each request waits at most probeRequestTimeout (scanRequestTimeout
//     for a scan), the whole at most probeTotal; the probe keeps at most
//     64 KiB of each head and body (probe.MaxBody).
//   - Nothing of the learner's request to corslab goes upstream: no
//     cookie, no token; the probe sends only the fields posted.
//   - At most Config.ProbeSlots probes and scans run at once on the whole
//     server (503 beyond), and each session may start probeRate of them
//     (429 beyond).
//
// Every refusal is corslab's and says so ("refusedBy": "corslab"): it is
// never a CORS verdict.

// probeRoutes registers the probe's and the scan's routes.
func (s *Server) probeRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/sessions/{id}/probe", s.withSession(s.handleProbeStatus))
	mux.Handle("POST /api/sessions/{id}/probe", s.withSession(s.handleProbe))
	mux.Handle("POST /api/sessions/{id}/scan", s.withSession(s.handleScan))
}

// Bounds of the lab's probes and scans.
const (
	// DefaultProbeSlots is how many probes and scans run at once on the
	// whole server when Config.ProbeSlots is 0.
	DefaultProbeSlots = 4
	// probeRequestTimeout and scanRequestTimeout bound each request; a
	// scan sends up to 30, so each gets less.
	probeRequestTimeout = 8 * time.Second
	scanRequestTimeout  = 4 * time.Second
	// probeTotal bounds a whole probe or scan: well within the UI's
	// WriteTimeout of a minute, so that the answer still arrives.
	probeTotal = 40 * time.Second
	// Bounds on what a probe may carry.
	maxProbeURL     = 4 << 10
	maxProbeOrigin  = 1 << 10
	maxProbeHeaders = 50
	maxProbeHeader  = 8 << 10
	maxProbeBody    = 64 << 10
)

// probeRate is how many probes and scans one session may start: ten in a
// row, then one every six seconds. A scan sends up to 30 requests, so a
// session's burst is at most 300 requests to the learner's server.
var probeRate = ratelimit.Rate{PerSecond: 1.0 / 6, Burst: 10}

// prober is the server's state for probes and scans. Its zero value is
// ready: nothing running, no session limited yet.
type prober struct {
	mu      sync.Mutex
	running int
	// limits holds a bucket for each session that probed; a bucket left
	// unused for as long as it takes to fill up again is forgotten, as a
	// new one would be full too.
	limits map[string]*probeLimit
	swept  time.Time
}

type probeLimit struct {
	bucket ratelimit.Bucket
	last   time.Time
}

// probeSlots is how many probes and scans may run at once.
func (s *Server) probeSlots() int {
	if s.cfg.ProbeSlots > 0 {
		return s.cfg.ProbeSlots
	}
	return DefaultProbeSlots
}

// acquire takes a slot for a probe or a scan, or returns false when all
// are taken; release gives it back.
func (p *prober) acquire(slots int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running >= slots {
		return false
	}
	p.running++
	return true
}

func (p *prober) release() {
	p.mu.Lock()
	p.running--
	p.mu.Unlock()
}

// allow takes one of the session's probes at time now, and says how long
// to wait when there is none left.
func (p *prober) allow(id string, now time.Time) (bool, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	refill := time.Duration(float64(probeRate.Burst) / probeRate.PerSecond * float64(time.Second))
	if now.Sub(p.swept) > refill {
		for k, l := range p.limits {
			if now.Sub(l.last) > refill {
				delete(p.limits, k)
			}
		}
		p.swept = now
	}
	if p.limits == nil {
		p.limits = map[string]*probeLimit{}
	}
	l := p.limits[id]
	if l == nil {
		l = &probeLimit{}
		p.limits[id] = l
	}
	l.last = now
	if l.bucket.Allow(probeRate, now) {
		return true, 0
	}
	return false, l.bucket.Delay(probeRate, now)
}

// probeOff says why the lab's probe and scan are off here, or "" when
// they are on: the same rule as the yours origin's (yoursOrigin).
func (s *Server) probeOff() string {
	if s.cfg.Workshop && s.cfg.AllowTargets == nil {
		return "corslab: the probe and the scan are off. corslab serves a workshop (--listen beyond loopback, or --public-host), " +
			"and a server that sends requests to any URL for anyone would be an open proxy into this network. " +
			"The instructor can allow the servers the class may check: start corslab with --allow-targets api.example.com,10.1.2.0/24. " +
			"Meanwhile corslab check and corslab scan do the same from your own machine."
	}
	return ""
}

// probeStatus is what GET /probe answers.
type probeStatus struct {
	On bool `json:"on"`
	// Off says why they are off, when they are.
	Off string `json:"off,omitempty"`
	// Targets lists where they may send: "any", or --allow-targets.
	Targets  string   `json:"targets"`
	Browsers []string `json:"browsers"`
	// Browser is the engine of the asking browser, the default.
	Browser string `json:"browser"`
}

// GET /api/sessions/{id}/probe
func (s *Server) handleProbeStatus(w http.ResponseWriter, r *http.Request, sess *session.Session) {
	st := probeStatus{Off: s.probeOff(), Targets: s.cfg.AllowTargets.String(), Browser: defaultEngine(r).Name}
	st.On = st.Off == ""
	for _, b := range cors.Engines {
		st.Browsers = append(st.Browsers, b.Name)
	}
	writeJSON(w, http.StatusOK, st)
}

// defaultEngine is the engine of the browser that asks, or Chromium when
// it is none of the three.
func defaultEngine(r *http.Request) *cors.Browser {
	b := cors.ForUserAgent(r.UserAgent())
	for _, e := range cors.Engines {
		if e == b {
			return b
		}
	}
	return cors.Chromium
}

// probeHeader is one header the page sets.
type probeHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// probeInput is the body of POST /probe: the fetch() call of a page of
// Origin, and whose rules to follow. Body is null (or absent) for none.
type probeInput struct {
	URL         string        `json:"url"`
	Origin      string        `json:"origin"`
	Method      string        `json:"method"`
	Headers     []probeHeader `json:"headers"`
	Body        *string       `json:"body"`
	Credentials string        `json:"credentials"`
	Redirect    string        `json:"redirect"`
	Browser     string        `json:"browser"`
}

// scanInput is the body of POST /scan: the app's origin and its request.
// The scan tries with and without credentials, sends no body and follows
// redirects itself, so those fields are not taken.
type scanInput struct {
	URL     string        `json:"url"`
	Origin  string        `json:"origin"`
	Method  string        `json:"method"`
	Headers []probeHeader `json:"headers"`
	Browser string        `json:"browser"`
}

// fieldErrors is the API's field errors: each field named, with the rule
// it breaks, as scenario.FieldErrors are.
type fieldErrors map[string]string

func (f fieldErrors) add(field, problem string) {
	if prev, ok := f[field]; ok {
		problem = prev + "; " + problem
	}
	f[field] = problem
}

// checkCommon checks the bounds the API puts on the fields a probe and
// a scan share, before the probe's own rules (probe.Config.Validate).
func checkCommon(errs fieldErrors, url, origin, method string, headers []probeHeader, browser string, r *http.Request) ([][2]string, *cors.Browser) {
	if len(url) > maxProbeURL {
		errs.add("url", fmt.Sprintf("must be at most %d bytes", maxProbeURL))
	}
	if len(origin) > maxProbeOrigin {
		errs.add("origin", fmt.Sprintf("must be at most %d bytes", maxProbeOrigin))
	}
	if len(method) > 64 {
		errs.add("method", "must be at most 64 bytes")
	}
	if len(headers) > maxProbeHeaders {
		errs.add("headers", fmt.Sprintf("at most %d headers, got %d", maxProbeHeaders, len(headers)))
	}
	var hs [][2]string
	for i, h := range headers {
		if len(h.Name)+len(h.Value) > maxProbeHeader {
			errs.add("headers", fmt.Sprintf("header %d: name and value must be at most %d bytes together", i+1, maxProbeHeader))
		}
		hs = append(hs, [2]string{h.Name, h.Value})
	}
	var b *cors.Browser
	switch browser {
	case "":
		b = defaultEngine(r)
	default:
		for _, e := range cors.Engines {
			if e.Name == browser {
				b = e
			}
		}
		if b == nil {
			errs.add("browser", fmt.Sprintf("must be chromium, firefox or webkit, got %q", browser))
		}
	}
	return hs, b
}

// addProbeErrors adds the probe's field errors (a join of
// *probe.FieldError) under the API's field names.
func addProbeErrors(errs fieldErrors, err error) {
	list := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	}
	for _, e := range list {
		var fe *probe.FieldError
		if !errors.As(e, &fe) {
			errs.add("request", e.Error())
			continue
		}
		field := fe.Field
		if field == "header" {
			field = "headers"
		}
		errs.add(field, fe.Problem)
	}
}

// dial is how probes and scans connect: only to addresses --allow-targets
// allows (any, when it is not given, on loopback), checked on the address
// dialed after corslab's own DNS lookup, redirect hops included.
func (s *Server) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	return origins.DialAllowed(ctx, s.cfg.AllowTargets, nil, network, addr)
}

// admitProbe refuses a probe or scan corslab will not run now, answering
// for it, or returns a release func for its slot.
func (s *Server) admitProbe(w http.ResponseWriter, sess *session.Session) (func(), bool) {
	if off := s.probeOff(); off != "" {
		writeRefusal(w, http.StatusForbidden, off, 0)
		return nil, false
	}
	if ok, wait := s.probes.allow(sess.ID, time.Now()); !ok {
		writeRefusal(w, http.StatusTooManyRequests, fmt.Sprintf(
			"corslab: this session has started too many probes and scans (the limit is %d in a row, then one every %g seconds). "+
				"Wait a moment and try again. This is corslab's limit, not an answer from your server.",
			probeRate.Burst, 1/probeRate.PerSecond), wait)
		return nil, false
	}
	if !s.probes.acquire(s.probeSlots()) {
		writeRefusal(w, http.StatusServiceUnavailable, fmt.Sprintf(
			"corslab is busy: %d probes and scans are running on this server already, the most it runs at once. "+
				"Try again in a few seconds. This is corslab's refusal, not an answer from your server and not a CORS verdict.",
			s.probeSlots()), 3*time.Second)
		return nil, false
	}
	return s.probes.release, true
}

// writeRefusal answers corslab's own refusal of a probe or scan.
func writeRefusal(w http.ResponseWriter, status int, msg string, retry time.Duration) {
	if retry > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(retry.Seconds())))))
	}
	writeJSON(w, status, map[string]string{"error": msg, "refusedBy": "corslab"})
}

// POST /api/sessions/{id}/probe
func (s *Server) handleProbe(w http.ResponseWriter, r *http.Request, sess *session.Session) {
	data, ok := readBody(w, r)
	if !ok {
		return
	}
	var in probeInput
	if err := decodeJSON(data, &in); err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	errs := fieldErrors{}
	headers, browser := checkCommon(errs, in.URL, in.Origin, in.Method, in.Headers, in.Browser, r)
	if in.Body != nil && len(*in.Body) > maxProbeBody {
		errs.add("body", fmt.Sprintf("must be at most %d bytes", maxProbeBody))
	}
	cfg := probe.Config{
		URL: in.URL, Origin: in.Origin, Method: in.Method, Headers: headers,
		Credentials: in.Credentials, Redirect: in.Redirect, Browser: browser,
		Timeout: probeRequestTimeout, Dial: s.dial,
	}
	if in.Body != nil {
		cfg.Body = []byte(*in.Body)
	}
	if _, err := cfg.Validate(); err != nil {
		addProbeErrors(errs, err)
	}
	s.answerProbe(w, r, sess, errs, func(ctx context.Context) (any, error) {
		res, err := probe.Run(ctx, cfg)
		if res == nil { // Validate passed: only a config error leaves no result
			return nil, err
		}
		out := probeJSON(res)
		if err != nil {
			out.Error, out.RefusedBy = err.Error(), refusedBy(err)
		}
		return out, err
	})
}

// answerProbe runs a probe or a scan whose fields errs found nothing
// wrong with, once corslab admits it (admitProbe), and answers with what
// run gives: 200, or 502 when the network failed, 403 when corslab refused
// to send somewhere (its answer says so). A nil answer is a config error.
func (s *Server) answerProbe(w http.ResponseWriter, r *http.Request, sess *session.Session, errs fieldErrors, run func(ctx context.Context) (any, error)) {
	if len(errs) > 0 {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": errs})
		return
	}
	release, ok := s.admitProbe(w, sess)
	if !ok {
		return
	}
	defer release()
	ctx, cancel := context.WithTimeout(r.Context(), probeTotal)
	defer cancel()
	out, err := run(ctx)
	switch {
	case out == nil:
		writeJSONError(w, http.StatusBadRequest, err.Error())
	case err == nil:
		writeJSON(w, http.StatusOK, out)
	case refusedBy(err) != "":
		writeJSON(w, http.StatusForbidden, out)
	default:
		writeJSON(w, http.StatusBadGateway, out)
	}
}

// refusedBy is "corslab" when err is corslab's refusal to send a request
// (--allow-targets, a redirect to another host), "" for the network's
// errors.
func refusedBy(err error) string {
	if _, ok := errors.AsType[*origins.ForbiddenError](err); ok {
		return "corslab"
	}
	if _, ok := errors.AsType[*probe.RedirectRefusedError](err); ok {
		return "corslab"
	}
	return ""
}

// probeResult is the answer to POST /probe: the shape of `corslab check
// --json`, with the engine's whole verdict (its steps in it) and, when
// the probe could not finish, why, and whether corslab refused.
type probeResult struct {
	Label     string          `json:"label"`
	Browser   string          `json:"browser"`
	Request   probeRequest    `json:"request"`
	Exchanges []probeExchange `json:"exchanges"`
	// Verdict is null when the probe could not finish: Error says why.
	Verdict   *cors.Verdict `json:"verdict"`
	Notes     []string      `json:"notes"`
	Error     string        `json:"error,omitempty"`
	RefusedBy string        `json:"refusedBy,omitempty"`
}

type probeRequest struct {
	URL         string      `json:"url"`
	Origin      string      `json:"origin"`
	Method      string      `json:"method"`
	Headers     [][2]string `json:"headers"`
	Body        bool        `json:"body"`
	Credentials string      `json:"credentials"`
	Redirect    string      `json:"redirect"`
}

// probeExchange is one request the probe sent, both sides as they crossed
// the wire.
type probeExchange struct {
	Seq        uint64  `json:"seq"`
	Preflight  bool    `json:"preflight"`
	Method     string  `json:"method"`
	URL        string  `json:"url"`
	Status     int     `json:"status"`
	DurationMs float64 `json:"durationMs"`
	// RawRequest and RawResponse are the heads, CRLFs and all.
	RawRequest    string `json:"rawRequest"`
	RequestBody   string `json:"requestBody"`
	RawResponse   string `json:"rawResponse"`
	ResponseBody  string `json:"responseBody"` // the first 64 KiB
	BodyTruncated bool   `json:"bodyTruncated"`
	// BrowserSendsCookies says the browser would have attached its
	// cookies here; the probe has none to send.
	BrowserSendsCookies bool   `json:"browserSendsCookies"`
	Error               string `json:"error,omitempty"`
}

func probeJSON(res *probe.Result) probeResult {
	r := res.Request
	out := probeResult{
		Label: probe.Label(res.Browser), Browser: res.Browser.Name,
		Request: probeRequest{URL: r.URL, Origin: r.Origin, Method: r.Method, Headers: r.Headers,
			Body: r.Body, Credentials: r.Credentials, Redirect: r.Redirect},
		Exchanges: []probeExchange{}, Verdict: res.Verdict, Notes: res.Notes,
	}
	if out.Request.Headers == nil {
		out.Request.Headers = [][2]string{}
	}
	if out.Notes == nil {
		out.Notes = []string{}
	}
	for _, ex := range res.Exchanges {
		j := probeExchange{
			Seq: ex.Seq, Preflight: ex.Preflight, Method: ex.Method, URL: ex.URL, Status: ex.Status,
			DurationMs: float64(ex.Duration.Microseconds()) / 1000,
			RawRequest: ex.RequestHead, RequestBody: string(ex.RequestBody),
			RawResponse: ex.ResponseHead, ResponseBody: string(ex.ResponseBody),
			BodyTruncated: ex.BodyTruncated, BrowserSendsCookies: ex.Credentials,
		}
		if ex.Err != nil {
			j.Error = ex.Err.Error()
		}
		out.Exchanges = append(out.Exchanges, j)
	}
	return out
}

// POST /api/sessions/{id}/scan
func (s *Server) handleScan(w http.ResponseWriter, r *http.Request, sess *session.Session) {
	data, ok := readBody(w, r)
	if !ok {
		return
	}
	var in scanInput
	if err := decodeJSON(data, &in); err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	errs := fieldErrors{}
	headers, browser := checkCommon(errs, in.URL, in.Origin, in.Method, in.Headers, in.Browser, r)
	if in.Origin == "null" {
		errs.add("origin", "must be your app's origin, such as https://app.example.com, not null: the scan tries null itself")
	}
	cfg := scan.Config{
		URL: in.URL, Origin: in.Origin, Method: in.Method, Headers: headers, Browser: browser,
		Timeout: scanRequestTimeout, Dial: s.dial,
	}
	// The scan's own check of its fields, without sending anything.
	if _, err := (probe.Config{URL: in.URL, Origin: in.Origin, Method: in.Method, Headers: headers, Browser: browser}).Validate(); err != nil {
		addProbeErrors(errs, err)
	}
	s.answerProbe(w, r, sess, errs, func(ctx context.Context) (any, error) {
		rep, err := scan.Run(ctx, cfg)
		if rep == nil {
			return nil, err
		}
		out := scanAnswer{Report: rep}
		if err != nil {
			out.Error, out.RefusedBy = err.Error(), refusedBy(err)
		}
		return out, err
	})
}

// scanAnswer is the answer to POST /scan: the report and, when the scan
// could not finish, why, and whether corslab refused.
type scanAnswer struct {
	*scan.Report
	Error     string `json:"error,omitempty"`
	RefusedBy string `json:"refusedBy,omitempty"`
}
