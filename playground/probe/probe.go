// Package probe sends over the network what a browser would send for
// fetch(url, {method, headers, body, credentials, mode: "cors"}) from a
// page of a given origin, and has corslab's CORS engine explain what the
// browser would make of the answers.
//
// The engine decides every request (playground/cors.Next): whether a
// preflight goes first and what it asks, the Origin header, which headers
// the page may set, what a redirect does to the request. The probe only
// dresses each request as a browser would (Accept, Sec-Fetch-*, a
// User-Agent), sends it, and records both sides byte for byte. A browser
// never runs: the verdict is the model's prediction, and says so (Label).
package probe

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/corslab/corslab/playground/cors"
)

// Limits on what a probe sends, waits for and keeps.
const (
	// DefaultTimeout bounds each request, from dialing to the last byte
	// of the body the probe keeps.
	DefaultTimeout = 10 * time.Second
	// MaxBody is how much of each response body the probe keeps; it stops
	// reading there.
	MaxBody = 64 << 10
	// maxHead bounds a response head.
	maxHead = 64 << 10
	// maxSends bounds the requests of one probe. The engine gives up
	// after 20 redirects, each hop being at most a preflight and a
	// request, so this is only a guard.
	maxSends = 50
)

// Config is one probe: the fetch() call a page of Origin makes, the
// browser whose rules to follow, and what the probe may do on the way.
type Config struct {
	URL    string // absolute http or https
	Origin string // the page's origin, e.g. "https://app.example.com", or "null"
	// Method as passed to fetch(); "" is GET. fetch() upper-cases the
	// methods it knows and keeps others as written.
	Method string
	// Headers as the page sets them, in order.
	Headers [][2]string
	// Body is the page's string body; nil for none.
	Body []byte
	// Credentials is fetch()'s credentials mode: omit, same-origin (the
	// default, when "") or include.
	Credentials string
	// Redirect is fetch()'s redirect mode: follow (the default, when ""),
	// error or manual.
	Redirect string
	// Browser is the engine whose rules the probe follows.
	Browser *cors.Browser
	// Cookie is a Cookie header value ("a=1; b=2") to send where the
	// browser would send its cookies, and only to the host of URL. The
	// probe has no cookies of its own: a browser's are out of its reach.
	Cookie string
	// AllowHosts are host names, besides URL's, that a redirect may lead
	// the probe to. A redirect anywhere else stops the probe before it
	// sends anything there.
	AllowHosts []string
	// Timeout bounds each request; 0 means DefaultTimeout. The whole
	// probe gets six times as long.
	Timeout time.Duration
	// RootCAs are the certificate authorities HTTPS servers are checked
	// against; nil means the system's.
	RootCAs *x509.CertPool
	// Dial, if not nil, connects every request instead of a plain
	// net.Dialer, so that a caller can decide which addresses the probe
	// may reach (the lab checks the address dialed, after its own DNS
	// lookup, against --allow-targets: origins.DialAllowed).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// FieldError is a problem with one field of a Config, named as the
// command line names it: url, origin, method, header, body, credentials,
// redirect, browser, cookie, allow-host, timeout.
type FieldError struct {
	Field   string
	Problem string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }

// validate checks the config and returns it normalized: defaults filled
// in and the origin serialized. Every problem is in the error, joined.
func (c Config) validate() (Config, error) {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{field, fmt.Sprintf(format, args...)})
	}
	if u, err := url.Parse(c.URL); err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		bad("url", "must be an absolute http or https URL such as http://localhost:3000/api/items, got %q", c.URL)
	} else if u.User != nil {
		// fetch.spec.whatwg.org/#dom-request (step: parsedURL includes credentials)
		bad("url", "must not carry a user name or password: fetch() throws on such a URL")
	}
	if origin, problem := serializeOrigin(c.Origin); problem != "" {
		bad("origin", "%s", problem)
	} else {
		c.Origin = origin
	}
	if c.Method == "" {
		c.Method = "GET"
	}
	if !cors.IsToken(c.Method) {
		bad("method", "must be an HTTP method, a token such as PUT, got %q", c.Method)
	} else if m := cors.NormalizeMethod(c.Method); c.Body != nil && (m == "GET" || m == "HEAD") {
		// fetch.spec.whatwg.org/#dom-request (a GET or HEAD request with a body)
		bad("body", "fetch() refuses a body with %s", m)
	}
	for _, h := range c.Headers {
		switch {
		case !cors.IsToken(h[0]):
			bad("header", "the name must be a token (letters, digits and !#$%%&'*+-.^_`|~), got %q", h[0])
		case strings.ContainsAny(h[1], "\r\n\x00"):
			// fetch.spec.whatwg.org/#concept-header-value
			bad("header", "the value of %s must not contain CR, LF or NUL", h[0])
		}
	}
	switch c.Credentials {
	case "":
		c.Credentials = "same-origin"
	case "omit", "same-origin", "include":
	default:
		bad("credentials", "must be omit, same-origin or include, got %q", c.Credentials)
	}
	switch c.Redirect {
	case "":
		c.Redirect = "follow"
	case "follow", "error", "manual":
	default:
		bad("redirect", "must be follow, error or manual, got %q", c.Redirect)
	}
	if c.Browser == nil {
		bad("browser", "must name a browser table such as chromium")
	}
	if strings.ContainsAny(c.Cookie, "\r\n\x00") {
		bad("cookie", "must not contain CR, LF or NUL")
	}
	for _, h := range c.AllowHosts {
		if h == "" || strings.ContainsAny(h, ":/@ ") && net.ParseIP(h) == nil {
			bad("allow-host", "must be a bare host name or IP address, with no scheme or port, got %q", h)
		}
	}
	if c.Timeout < 0 {
		bad("timeout", "must not be negative, got %s", c.Timeout)
	} else if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	return c, errors.Join(errs...)
}

// serializeOrigin is the origin as a browser serializes it in the Origin
// header, or a problem. html.spec.whatwg.org/#ascii-serialisation-of-an-origin
func serializeOrigin(o string) (string, string) {
	if o == "null" {
		return o, ""
	}
	const want = "must be an origin such as https://app.example.com (a scheme, a host and an optional port), or null"
	u, err := url.Parse(o)
	switch {
	case o == "":
		return "", "is required: the origin of the page that calls fetch(), e.g. http://localhost:5173"
	case err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.Opaque != "":
		return "", fmt.Sprintf("%s; got %q", want, o)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return "", fmt.Sprintf("%s; got %q", want, o)
	case u.Path == "/":
		return "", fmt.Sprintf("an origin has no path, not even /: use %q", strings.TrimSuffix(o, "/"))
	case u.Path != "":
		return "", fmt.Sprintf("an origin has no path: use %q, the origin of %q", cors.OriginOf(u), o)
	}
	return cors.OriginOf(u), ""
}

// Result is what a probe sent and received, and the engine's verdict.
type Result struct {
	// Request is the fetch() call the probe stood in for.
	Request cors.Request
	Browser *cors.Browser
	// Exchanges are the requests sent, in order, with their answers.
	Exchanges []Exchange
	// Verdict is the engine's account of the exchanges; nil when the
	// probe could not finish (Run's error says why).
	Verdict *cors.Verdict
	// Notes say where the probe and a real browser part ways, such as
	// the cookies a browser would send.
	Notes []string
}

// Label says whose verdict it is: the model's, not a browser's.
func Label(b *cors.Browser) string {
	return "predicted by corslab's model of " + b.Title + "; no browser ran this"
}

// RedirectRefusedError says a redirect led to a host the probe may not
// send to (Config.AllowHosts).
type RedirectRefusedError struct {
	URL  string
	Host string
}

func (e *RedirectRefusedError) Error() string {
	return fmt.Sprintf("the server redirected to %s, and the probe sends nothing to %s: only to the URL's own host and the hosts allowed", e.URL, e.Host)
}

// Run probes cfg.URL as cfg.Browser would fetch it from a page of
// cfg.Origin. A config error is a join of *FieldError. Any other error
// (the network, a redirect to a host not allowed, a timeout) comes with
// the Result so far, whose Verdict is nil.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	target, _ := url.Parse(cfg.URL)
	req := cors.Request{
		Origin: cfg.Origin, URL: cfg.URL, Method: cfg.Method, Headers: cfg.Headers,
		Body: cfg.Body != nil, Mode: "cors", Credentials: cfg.Credentials, Redirect: cfg.Redirect,
	}
	res := &Result{Request: req, Browser: cfg.Browser}
	ctx, cancel := context.WithTimeout(ctx, 6*cfg.Timeout)
	defer cancel()

	s := &sender{cfg: cfg, target: target}
	start := time.Now()
	var exchanges []cors.Exchange
	for {
		next, more := cors.Next(cfg.Browser, req, exchanges, start)
		if !more {
			break
		}
		if len(exchanges) == maxSends {
			return res, fmt.Errorf("gave up after %d requests", maxSends)
		}
		u, err := url.Parse(next.URL)
		if err != nil {
			return res, fmt.Errorf("the engine asked for %q, which is not a URL: %w", next.URL, err)
		}
		if !s.allowed(u) {
			return res, &RedirectRefusedError{URL: next.URL, Host: u.Hostname()}
		}
		if u.User != nil {
			// fetch.spec.whatwg.org/#http-redirect-fetch: a Location with
			// credentials is a network error, and the probe would send
			// them as Authorization.
			return res, fmt.Errorf("the server redirected to %s, a URL with a user name or password", u.Redacted())
		}
		s.chain = append(s.chain, u)
		ex, err := s.send(ctx, next, uint64(len(exchanges)+1))
		res.Exchanges = append(res.Exchanges, ex)
		if err != nil {
			return res, err
		}
		exchanges = append(exchanges, ex.Exchange)
	}
	v := cors.Explain(cfg.Browser, req, exchanges, nil, start)
	res.Verdict = &v
	res.Notes = notes(cfg, res)
	return res, nil
}

// allowed reports whether the probe may send to u: URL's own host, or one
// of AllowHosts. Ports do not matter.
func (s *sender) allowed(u *url.URL) bool {
	host := u.Hostname()
	return strings.EqualFold(host, s.target.Hostname()) ||
		slices.ContainsFunc(s.cfg.AllowHosts, func(h string) bool { return strings.EqualFold(h, host) })
}

// notes say where the probe could not do what the browser would.
func notes(cfg Config, res *Result) []string {
	var out []string
	cookies := slices.ContainsFunc(res.Exchanges, func(ex Exchange) bool { return ex.Credentials })
	switch {
	case cookies && cfg.Cookie == "":
		out = append(out, fmt.Sprintf("With credentials `%s` a browser would send the cookies it has for %s; the probe has none of them, so it sent no Cookie.", cfg.Credentials, hostList(res)))
	case cfg.Cookie != "" && !cookies:
		out = append(out, fmt.Sprintf("The cookie given was not sent: with credentials `%s` the browser sends no cookies on this request.", cfg.Credentials))
	}
	return out
}

// hostList names the hosts the probe sent a request with credentials to.
func hostList(res *Result) string {
	var hosts []string
	for _, ex := range res.Exchanges {
		if u, err := url.Parse(ex.URL); err == nil && ex.Credentials && !slices.Contains(hosts, u.Host) {
			hosts = append(hosts, u.Host)
		}
	}
	return strings.Join(hosts, ", ")
}
