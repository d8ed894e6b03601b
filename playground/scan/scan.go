// Package scan looks for the CORS misconfigurations a security reviewer
// looks for: it asks a URL, as browsers would ask it, whether pages of
// made-up origins may read it (any origin, null, look-alikes of the app's
// own origin), and reports each misconfiguration it finds with its
// severity, the exchange that shows it, and a fix.
//
// It sends only what a browser would send for a page's fetch(), through
// playground/probe, and only GET requests and preflights: the method the
// app uses is asked about in preflights, never sent, and the values of the
// app's headers never leave. No cookie or token goes with any request.
// Whether a page could read an answer is the verdict of corslab's model of
// a browser (playground/cors), not of a browser.
package scan

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"time"

	"github.com/corslab/corslab/playground/cors"
	"github.com/corslab/corslab/playground/probe"
)

// DefaultMaxRequests bounds the requests of one scan. A scan needs at
// most 19 when nothing redirects: two from the app's origin, one or two
// from each of eight others, and one preflight asking for everything.
const DefaultMaxRequests = 30

// Config is one scan: the URL, the origin of the app's pages that call it,
// and what the app's own request looks like.
type Config struct {
	URL string // absolute http or https
	// Origin is the app's origin, the one that should be allowed, e.g.
	// "https://app.example.com".
	Origin string
	// Method and Headers are the app's request, as it passes them to
	// fetch(); "" is GET. When they need a preflight, every origin the
	// scan tries is asked about them in a preflight too. The scan sends
	// the headers' names in preflights and never their values.
	Method  string
	Headers [][2]string
	// AllowHosts are hosts, besides URL's, that a redirect may lead to.
	AllowHosts []string
	// Timeout bounds each request; 0 means probe.DefaultTimeout.
	Timeout time.Duration
	// Browser is whose rules judge the answers; nil means Chromium.
	Browser *cors.Browser
	// RootCAs check HTTPS servers; nil means the system's.
	RootCAs *x509.CertPool
	// Dial, if not nil, connects every request (probe.Config.Dial).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// MaxRequests bounds the requests sent; 0 means DefaultMaxRequests. A
	// check that does not fit is reported as not run. The first request,
	// from Origin, is always sent, with the redirects a browser would
	// follow (at most 20).
	MaxRequests int
}

// Severity grades a finding.
type Severity string

const (
	High   Severity = "high"   // a page anyone can make reads what the user's cookies unlock
	Medium Severity = "medium" // the same, for an attacker with more than a web page
	Low    Severity = "low"    // a weakness, or a hole for responses without cookies
	Info   Severity = "info"   // worth knowing; no harm by itself
)

// Rank orders severities: Info 1 to High 4; 0 for an unknown one.
func (s Severity) Rank() int { return 1 + slices.Index([]Severity{Info, Low, Medium, High}, s) }

// Finding is one misconfiguration.
type Finding struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	// Title says what the server does, in a line.
	Title string `json:"title"`
	// Explanation says why it matters, in a paragraph.
	Explanation string `json:"explanation"`
	Fix         string `json:"fix"`
	// Evidence are the exchanges that show it, most telling first.
	Evidence []Evidence `json:"evidence"`
}

// Evidence is one exchange of the scan, raw.
type Evidence struct {
	// Seq numbers the scan's requests from 1, in the order sent.
	Seq       int    `json:"seq"`
	Preflight bool   `json:"preflight"`
	Origin    string `json:"origin"` // the Origin it was sent with
	Method    string `json:"method"`
	URL       string `json:"url"`
	Status    int    `json:"status"`
	// RawRequest and RawResponse are the heads as they crossed the wire.
	RawRequest  string `json:"rawRequest"`
	RawResponse string `json:"rawResponse"`
	// Verdict is what corslab's model of the browser makes of it for a
	// page of Origin.
	Verdict string `json:"verdict"`
}

// Outcomes of a check.
const (
	Found         = "found"          // a finding
	Clean         = "clean"          // the server passed
	NotApplicable = "not-applicable" // the app's origin has no such look-alike
	Implied       = "implied"        // a wider finding covers it; nothing sent
	NotRun        = "not-run"        // the request budget ran out
)

// Check is one thing the scan looked at, and how it came out.
type Check struct {
	ID string `json:"id"` // the id its finding would have
	// Origin is the origin the check sent, for a check of one.
	Origin  string `json:"origin,omitempty"`
	Outcome string `json:"outcome"`
	// Detail says what the server did, or why the check was not run.
	Detail string `json:"detail"`
}

// Report is the outcome of a scan.
type Report struct {
	URL string `json:"url"`
	// Target is the URL the scan probed: URL, or where URL redirects.
	Target  string   `json:"target"`
	Origin  string   `json:"origin"`
	Method  string   `json:"method"`
	Headers []string `json:"headers"` // the names of the app's headers
	Browser string   `json:"browser"`
	// Label says whose verdicts they are.
	Label    string    `json:"label"`
	Requests int       `json:"requests"`
	Findings []Finding `json:"findings"` // the most severe first
	Checks   []Check   `json:"checks"`
	Notes    []string  `json:"notes"`
}

// Worst is the severity of the most severe finding, "" when none.
func (r *Report) Worst() Severity {
	var worst Severity
	for _, f := range r.Findings {
		if f.Severity.Rank() > worst.Rank() {
			worst = f.Severity
		}
	}
	return worst
}

// errBudget says a check was not run: the scan's requests ran out.
var errBudget = errors.New("the request budget ran out")

// Run scans cfg.URL. A config error is a join of *probe.FieldError, with
// a nil report. A network error (no answer, a timeout, a redirect to a
// host not allowed) stops the scan: it comes with the report so far.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	s, err := newScanner(cfg)
	if err != nil {
		return nil, err
	}
	err = s.run(ctx)
	s.report.Requests = s.sent
	s.report.Findings = findings(s)
	return s.report, err
}

// scanner is one scan under way.
type scanner struct {
	base   probe.Config // the probe of the app's own request, validated
	app    cors.Request // the app's request, with credentials
	max    int
	sent   int
	target string
	// preflighted says the app's request needs a preflight.
	preflighted bool
	// own is what the app's origin got; tries, what the look-alikes got.
	own      tried
	tries    []tried
	anything *sent // the preflight asking for a made-up method and header
	report   *Report
}

// tried is what one origin got: the answer to a GET, and to the app's
// preflight when it needs one. A field is nil when not sent.
type tried struct {
	lookalike
	get, pre *sent
	outcome  string // NotApplicable, Implied or NotRun when nothing was sent
	detail   string
}

// sent is one request of the scan and the model's verdict on it.
type sent struct {
	seq    int
	origin string
	ex     probe.Exchange
	// reads says JS on a page of origin gets the answer (for a preflight:
	// the browser goes on to send the request) with credentials; readsBare,
	// without.
	reads, readsBare bool
	// says is the model's deciding sentence, with credentials.
	says string
}

func newScanner(cfg Config) (*scanner, error) {
	if cfg.Browser == nil {
		cfg.Browser = cors.Chromium
	}
	base, err := probe.Config{
		URL: cfg.URL, Origin: cfg.Origin, Method: cfg.Method, Headers: cfg.Headers,
		Credentials: "include", Browser: cfg.Browser, AllowHosts: cfg.AllowHosts,
		Timeout: cfg.Timeout, RootCAs: cfg.RootCAs, Dial: cfg.Dial,
	}.Validate()
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	if base.Origin == "null" {
		errs = append(errs, &probe.FieldError{Field: "origin", Problem: "must be your app's origin, such as https://app.example.com, not null: the scan tries null itself"})
	}
	if cfg.MaxRequests < 0 {
		errs = append(errs, &probe.FieldError{Field: "max-requests", Problem: fmt.Sprintf("must not be negative, got %d", cfg.MaxRequests)})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	s := &scanner{base: base, max: orDefault(cfg.MaxRequests, DefaultMaxRequests)}
	s.app = cors.Request{
		Origin: base.Origin, URL: base.URL, Method: base.Method, Headers: base.Headers,
		Mode: "cors", Credentials: "include", Redirect: "follow",
	}
	first, _ := cors.Next(base.Browser, s.app, nil, time.Now())
	s.preflighted = first.Preflight
	names := []string{}
	for _, h := range base.Headers {
		names = append(names, h[0])
	}
	s.report = &Report{
		URL: base.URL, Target: base.URL, Origin: base.Origin, Method: base.Method, Headers: names,
		Browser: base.Browser.Name, Label: "Verdicts " + probe.Label(base.Browser) + "; the requests were real",
		Findings: []Finding{}, Checks: []Check{}, Notes: []string{},
	}
	if m := base.Method; !s.preflighted && m != "GET" && m != "HEAD" {
		// fetch.spec.whatwg.org/#cors-safelisted-method: a POST with
		// safelisted headers goes out without asking.
		s.report.Notes = append(s.report.Notes, fmt.Sprintf("The app's %s needs no preflight: a page of any origin can send it, and CORS only decides who reads the answer. The scan asked with GET and never sent %s.", m, m))
	}
	return s, nil
}

// orDefault is v, or def when v is 0.
func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// run sends the scan's requests, stopping at the first network error.
func (s *scanner) run(ctx context.Context) error {
	// The app's own origin first: it finds where URL leads, and what an
	// allowed origin gets, to compare the others with.
	if err := s.tryOwn(ctx); err != nil {
		return err
	}
	anyAllowed := false
	for _, l := range lookalikes(s.base.Origin) {
		t := tried{lookalike: l}
		switch {
		case l.origin == "":
			t.outcome, t.detail = NotApplicable, l.why
		case anyAllowed:
			t.outcome, t.detail = Implied, "not sent: the server allows any origin"
		default:
			if err := s.try(ctx, &t); err != nil && !errors.Is(err, errBudget) {
				s.tries = append(s.tries, t)
				return err
			}
		}
		if l.check == "reflects-any-origin" && t.allowed() != nil {
			anyAllowed = true
		}
		s.tries = append(s.tries, t)
	}
	return s.tryAnything(ctx)
}

// tryOwn sends the app's request as a GET from its own origin, following
// redirects, and then its preflight, if it needs one.
func (s *scanner) tryOwn(ctx context.Context) error {
	cfg := s.base
	cfg.Method, cfg.Headers, cfg.Body = "GET", nil, nil
	res, err := probe.Run(ctx, cfg)
	if res != nil {
		for _, ex := range res.Exchanges {
			s.sent++
			if ex.Err == nil {
				s.own.get = s.judged(cfg.Origin, ex, res)
			}
		}
	}
	if err != nil {
		return err
	}
	last := res.Exchanges[len(res.Exchanges)-1]
	if len(res.Exchanges) > 1 {
		s.target = last.URL
		s.report.Target = last.URL
		s.report.Notes = append(s.report.Notes, fmt.Sprintf("%s redirects to %s: the scan probed that URL, which any page can fetch directly.", s.base.URL, last.URL))
	} else {
		s.target = s.base.URL
	}
	s.own.lookalike = lookalike{origin: s.base.Origin}
	if s.preflighted && s.sent < s.max {
		if err := s.sendPreflight(ctx, &s.own); err != nil {
			return err
		}
	}
	s.noteOwn()
	return nil
}

// noteOwn says so when the app's own origin is not allowed: the scan may
// have been given the wrong origin.
func (s *scanner) noteOwn() {
	if g := s.own.get; g != nil && !g.reads && !g.readsBare && !s.preflighted {
		s.report.Notes = append(s.report.Notes, fmt.Sprintf("A page of %s itself could not read %s: %s Is that the app's origin?", s.base.Origin, s.target, g.says))
	}
	if s.own.pre != nil && !s.own.pre.reads {
		s.report.Notes = append(s.report.Notes, fmt.Sprintf("The app's own %s from %s would be blocked at the preflight: %s", s.base.Method, s.base.Origin, s.own.pre.says))
	}
}

// try sends a GET from t's origin, and the app's preflight if it needs
// one, to the target: one request each, redirects not followed.
func (s *scanner) try(ctx context.Context, t *tried) error {
	need := 1
	if s.preflighted {
		need = 2
	}
	if s.sent+need > s.max {
		t.outcome, t.detail = NotRun, fmt.Sprintf("not sent: the scan may send at most %d requests", s.max)
		return errBudget
	}
	cfg := s.base
	cfg.URL, cfg.Origin, cfg.Method, cfg.Headers, cfg.Redirect = s.target, t.origin, "GET", nil, "error"
	s.sent++
	res, err := probe.Run(ctx, cfg)
	if res != nil && len(res.Exchanges) > 0 && res.Exchanges[0].Err == nil {
		t.get = s.judged(t.origin, res.Exchanges[0], res)
	}
	if err != nil {
		return err
	}
	if s.preflighted {
		return s.sendPreflight(ctx, t)
	}
	return nil
}

// sendPreflight sends, from t's origin, the preflight the browser would
// send before the app's request, and never the request.
func (s *scanner) sendPreflight(ctx context.Context, t *tried) error {
	req := s.app
	req.URL, req.Origin = s.target, t.origin
	ex, err := s.preflight(ctx, req)
	if ex != nil {
		t.pre = ex
	}
	return err
}

// tryAnything asks, from the app's origin, whether a page may send a
// made-up method with a made-up header and credentials.
func (s *scanner) tryAnything(ctx context.Context) error {
	if s.sent+1 > s.max {
		return nil
	}
	req := s.app
	req.URL, req.Method, req.Headers = s.target, madeUpMethod, [][2]string{{madeUpHeader, madeUpHeaderV}}
	ex, err := s.preflight(ctx, req)
	s.anything = ex
	return err
}

// preflight sends the preflight of req alone and has the model judge it.
func (s *scanner) preflight(ctx context.Context, req cors.Request) (*sent, error) {
	b := s.base.Browser
	send, more := cors.Next(b, req, nil, time.Now())
	if !more || !send.Preflight {
		return nil, nil
	}
	cfg := s.base
	cfg.URL, cfg.Origin, cfg.Method, cfg.Headers = req.URL, req.Origin, req.Method, req.Headers
	s.sent++
	ex, err := probe.SendOne(ctx, cfg, send)
	if err != nil {
		return nil, err
	}
	out := &sent{seq: s.sent, origin: req.Origin, ex: ex}
	passes := func(credentials string) bool {
		r := req
		r.Credentials = credentials
		next, more := cors.Next(b, r, []cors.Exchange{ex.Exchange}, ex.At)
		return more && !next.Preflight
	}
	out.reads, out.readsBare = passes("include"), passes("omit")
	out.says = fmt.Sprintf("The preflight passes: %s would go on to send %s with the user's cookies.", b.Title, req.Method)
	if !out.reads {
		v := cors.Explain(b, req, []cors.Exchange{ex.Exchange}, nil, ex.At)
		out.says = deciding(v)
	}
	return out, nil
}

// judged is a GET the probe sent, with the model's verdicts: the probe's,
// with credentials, and one without.
func (s *scanner) judged(origin string, ex probe.Exchange, res *probe.Result) *sent {
	out := &sent{seq: s.sent, origin: origin, ex: ex}
	if res.Verdict == nil || ex.Seq != uint64(len(res.Exchanges)) {
		return out
	}
	var exchanges []cors.Exchange
	for _, e := range res.Exchanges {
		exchanges = append(exchanges, e.Exchange)
	}
	bare := res.Request
	bare.Credentials = "omit"
	v := cors.Explain(res.Browser, bare, exchanges, nil, exchanges[0].At)
	out.reads, out.readsBare = res.Verdict.OK, v.OK
	out.says = deciding(*res.Verdict)
	return out
}

// deciding is the step that decided a verdict: the last that failed, or
// when JS reads the response, the one that says so.
func deciding(v cors.Verdict) string {
	for i := len(v.Steps) - 1; i >= 0; i-- {
		if st := v.Steps[i]; !st.OK {
			return st.Text
		}
	}
	for i := len(v.Steps) - 1; i >= 0; i-- {
		if st := v.Steps[i]; st.Stage == cors.StageResponse {
			return st.Text
		}
	}
	return ""
}

// allowed is the exchange in which the server allowed t's origin itself
// (not with *), the GET first; nil if none.
func (t *tried) allowed() *sent {
	for _, x := range []*sent{t.get, t.pre} {
		if x != nil && x.readsBare && acao(x) == x.origin {
			return x
		}
	}
	return nil
}

// credentialed is the exchange in which the server allowed t's origin
// with credentials, the GET first; nil if none.
func (t *tried) credentialed() *sent {
	for _, x := range []*sent{t.get, t.pre} {
		if x != nil && x.reads {
			return x
		}
	}
	return nil
}
