package origins

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/corslab/corslab/playground/session"
)

// Defaults of YoursConfig.
const (
	DefaultYoursTimeout = 15 * time.Second
	DefaultYoursMaxBody = 8 << 20 // each way
)

// yoursVia is the Via the yours origin adds to what it forwards (RFC 9110,
// 7.6.3: a proxy sends one). A request that arrives with it is one the
// origin sent itself, through a base URL that points back at it: a loop.
const yoursVia = "1.1 corslab-yours"

// YoursConfig is what the yours origin needs.
type YoursConfig struct {
	// Targets says which upstreams it may connect to; nil allows any.
	Targets *Targets
	// Off, when not "", turns the origin off: every request gets 403 with
	// this message, and nothing is sent anywhere.
	Off string
	// Timeout bounds a whole exchange with the upstream, body included;
	// 0 is DefaultYoursTimeout.
	Timeout time.Duration
	// MaxBody bounds the request body it forwards and the response body it
	// passes back, in bytes; 0 is DefaultYoursMaxBody.
	MaxBody int64
	// Refused, if not nil, hears of every answer that is corslab's own
	// rather than the upstream's (no base URL, a refused address, an
	// upstream that cannot be reached…), so that the run it belongs to says
	// corslab refused it instead of explaining it as CORS.
	Refused func(r *http.Request, status int, msg string)
	// Resolve looks up a host's addresses; nil is net.DefaultResolver.
	// Tests give their own.
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)
}

// Yours returns the yours origin: every request under /{session}/ goes to
// the session's yours.baseUrl with that prefix replaced by the base URL,
// and the upstream's answer comes back as it is. It changes only what a
// proxy must:
//
//   - the hop-by-hop headers (RFC 9110, 7.6.1: Connection, the headers it
//     names, Keep-Alive, Proxy-*, TE, Trailer, Transfer-Encoding, Upgrade)
//     are dropped both ways;
//   - the Host the upstream sees is its own, from the base URL;
//   - Cookie is dropped: the browser's cookies for this origin are
//     corslab's (and those of every other origin on the same host: cookies
//     ignore ports), never the site's;
//   - Via: 1.1 corslab-yours is added, as RFC 9110 asks of a proxy, which
//     also stops a base URL that points back at the origin from looping.
//
// It follows no redirect: the browser does, and since Location is passed
// on untouched, an absolute one takes the browser to the upstream itself,
// which corslab does not see. It uses no proxy from the environment, and
// waits at most Timeout for an exchange.
func Yours(cfg YoursConfig) http.Handler {
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultYoursTimeout
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = DefaultYoursMaxBody
	}
	if cfg.Resolve == nil {
		cfg.Resolve = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	y := &yours{cfg: cfg}
	y.transport = &http.Transport{
		Proxy:                 nil, // never the environment's: the heads must be the upstream's
		DialContext:           y.dial,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: cfg.Timeout,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       30 * time.Second,
		DisableCompression:    true, // no Accept-Encoding of its own, no decoding
	}
	return y
}

type yours struct {
	cfg       YoursConfig
	transport *http.Transport
}

func (y *yours) refuse(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if y.cfg.Refused != nil {
		y.cfg.Refused(r, status, msg)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	io.WriteString(w, msg+"\n")
}

func (y *yours) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sess := session.FromContext(r.Context())
	if sess == nil {
		writeError(w, http.StatusNotFound, "no such session: open the lab to start one")
		return
	}
	if y.cfg.Off != "" {
		y.refuse(w, r, http.StatusForbidden, y.cfg.Off)
		return
	}
	sc, _ := sess.Scenario()
	if sc.Yours.BaseURL == "" {
		y.refuse(w, r, http.StatusNotFound, "corslab: the yours origin forwards to your server, and this session names none: set \"Your server's base URL\" (yours.baseUrl) in the lab, e.g. http://localhost:3000")
		return
	}
	if slices.ContainsFunc(r.Header.Values("Via"), func(v string) bool { return strings.Contains(v, "corslab-yours") }) {
		y.refuse(w, r, http.StatusLoopDetected, "corslab: yours.baseUrl points back at the yours origin itself; point it at your own server")
		return
	}
	target, err := upstreamURL(sc.Yours.BaseURL, r.URL, sess.ID)
	if err != nil {
		y.refuse(w, r, http.StatusBadRequest, "corslab: "+err.Error())
		return
	}
	if r.ContentLength > y.cfg.MaxBody {
		y.refuse(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("corslab: the yours origin forwards request bodies of at most %d bytes; this one has %d", y.cfg.MaxBody, r.ContentLength))
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), y.cfg.Timeout)
	defer cancel()
	out, err := http.NewRequestWithContext(ctx, r.Method, target.String(), nil)
	if err != nil {
		y.refuse(w, r, http.StatusBadRequest, "corslab: "+err.Error())
		return
	}
	out.Header = forwardHeaders(r.Header)
	out.Header.Del("Cookie")
	out.Header.Add("Via", yoursVia)
	if _, ok := r.Header["User-Agent"]; !ok {
		out.Header["User-Agent"] = []string{""} // Go would send its own
	}
	if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
		out.Body = http.MaxBytesReader(nil, r.Body, y.cfg.MaxBody)
		out.ContentLength = r.ContentLength
	}
	resp, err := y.transport.RoundTrip(out)
	if err != nil {
		status, msg := roundTripError(err, target, y.cfg.Timeout)
		y.refuse(w, r, status, msg)
		return
	}
	defer resp.Body.Close()
	if resp.ContentLength > y.cfg.MaxBody {
		y.refuse(w, r, http.StatusBadGateway, fmt.Sprintf("corslab: %s answered with %d bytes; the yours origin passes on at most %d", target.Redacted(), resp.ContentLength, y.cfg.MaxBody))
		return
	}
	h := w.Header()
	for name, values := range forwardHeaders(resp.Header) {
		h[name] = values
	}
	// Nothing of net/http's own either: no sniffed Content-Type, no Date
	// the upstream did not send.
	for _, name := range []string{"Content-Type", "Date"} {
		if _, ok := h[name]; !ok {
			h[name] = nil
		}
	}
	w.WriteHeader(resp.StatusCode)
	n, err := io.CopyN(w, resp.Body, y.cfg.MaxBody)
	if err == nil && n == y.cfg.MaxBody {
		if extra, _ := resp.Body.Read(make([]byte, 1)); extra > 0 {
			// Too long: cut the connection, so the browser sees a broken
			// answer rather than a short one it takes for whole.
			panic(http.ErrAbortHandler)
		}
	}
}

// upstreamURL is where a request for u on the yours origin goes: the base
// URL with the session's prefix of u's path replaced by the base's path,
// and u's query.
func upstreamURL(base string, u *url.URL, id string) (*url.URL, error) {
	b, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("yours.baseUrl %q is not a URL", base)
	}
	rest := strings.TrimPrefix(u.EscapedPath(), "/"+id)
	if rest != "" && rest[0] != '/' {
		rest = "/" + rest
	}
	// Joined as escaped text, not parsed again: a path such as //host/x
	// must stay a path.
	escaped := strings.TrimSuffix(b.EscapedPath(), "/") + rest
	if escaped == "" {
		escaped = "/"
	}
	path, err := url.PathUnescape(escaped)
	if err != nil {
		return nil, fmt.Errorf("the path %q is not escaped properly", rest)
	}
	t := *b
	t.Path, t.RawPath = path, ""
	if t.EscapedPath() != escaped {
		t.RawPath = escaped
	}
	t.RawQuery, t.ForceQuery = u.RawQuery, u.ForceQuery
	return &t, nil
}

// hopByHop are the headers that describe one connection, not the message
// (RFC 9110, 7.6.1), and Proxy-* (Proxy-Authorization, Proxy-Connection…),
// which are for a proxy, not the server behind it.
func hopByHop(name string) bool {
	switch http.CanonicalHeaderKey(name) {
	case "Connection", "Keep-Alive", "Te", "Trailer", "Transfer-Encoding", "Upgrade":
		return true
	}
	return strings.HasPrefix(http.CanonicalHeaderKey(name), "Proxy-")
}

// forwardHeaders is h without its hop-by-hop headers, and without those
// its Connection header names.
func forwardHeaders(h http.Header) http.Header {
	named := map[string]bool{}
	for _, v := range h.Values("Connection") {
		for f := range strings.SplitSeq(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				named[http.CanonicalHeaderKey(f)] = true
			}
		}
	}
	out := make(http.Header, len(h))
	for name, values := range h {
		if hopByHop(name) || named[http.CanonicalHeaderKey(name)] {
			continue
		}
		out[name] = slices.Clone(values)
	}
	return out
}

// roundTripError words why the upstream gave no answer.
func roundTripError(err error, target *url.URL, timeout time.Duration) (int, string) {
	if f, ok := errors.AsType[*ForbiddenError](err); ok {
		return http.StatusForbidden, "corslab: " + f.Error()
	}
	if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		return http.StatusGatewayTimeout, fmt.Sprintf("corslab: %s did not answer within %s", target.Redacted(), timeout)
	}
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return http.StatusRequestEntityTooLarge, "corslab: the request body is larger than the yours origin forwards"
	}
	return http.StatusBadGateway, fmt.Sprintf("corslab could not reach %s: %v", target.Redacted(), err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// dial connects to the upstream, where the targets allow (DialAllowed).
func (y *yours) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	return DialAllowed(ctx, y.cfg.Targets, y.cfg.Resolve, network, addr)
}

// DialAllowed connects to addr ("host:port") only at an address targets
// allows: it resolves the host itself (with resolve; nil is
// net.DefaultResolver) and checks each address before dialing it, so that
// a name which resolves to a forbidden address (DNS rebinding,
// 169.254.169.254…) is caught at connect time, not just by its name. A
// refusal is a *ForbiddenError. The yours origin and the lab's probe and
// scan (playground/handle_probe.go) connect through it.
func DialAllowed(ctx context.Context, targets *Targets, resolve func(ctx context.Context, host string) ([]netip.Addr, error), network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if resolve == nil {
		resolve = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		if addrs, err = resolve(ctx, host); err != nil {
			return nil, err
		}
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	var refused netip.Addr
	var lastErr error
	for _, ip := range addrs {
		ip = ip.Unmap()
		if !targets.Allows(host, ip) {
			refused = ip
			continue
		}
		c, err := d.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
		if err == nil {
			return c, nil
		}
		lastErr = err
	}
	if lastErr != nil {
		return nil, lastErr
	}
	if refused.IsValid() {
		return nil, &ForbiddenError{Host: host, Addr: refused}
	}
	return nil, fmt.Errorf("%s has no address", host)
}

// ForbiddenError is an upstream the allow list (--allow-targets) does not
// name.
type ForbiddenError struct {
	Host string
	Addr netip.Addr
}

func (e *ForbiddenError) Error() string {
	if e.Host == e.Addr.String() {
		return fmt.Sprintf("%s is not among the hosts and networks --allow-targets allows", e.Host)
	}
	return fmt.Sprintf("%s resolves to %s, which --allow-targets does not allow", e.Host, e.Addr)
}

// Targets is the allow list of --allow-targets: host names and networks
// the yours origin may connect to. A nil *Targets allows everything.
type Targets struct {
	hosts []string
	nets  []netip.Prefix
}

// ParseTargets reads --allow-targets: a comma-separated list of host names
// (api.example.com), IP addresses (192.0.2.7) and networks in CIDR
// notation (10.0.0.0/8, 2001:db8::/32). It returns the first entry that is
// none of these in the error.
func ParseTargets(list string) (*Targets, error) {
	t := &Targets{}
	for e := range strings.SplitSeq(list, ",") {
		e = strings.TrimSpace(e)
		switch {
		case e == "":
			continue
		case strings.Contains(e, "/"):
			p, err := netip.ParsePrefix(e)
			if err != nil {
				return nil, fmt.Errorf("%q is not a network such as 10.0.0.0/8", e)
			}
			t.nets = append(t.nets, p.Masked())
		default:
			if ip, err := netip.ParseAddr(strings.Trim(e, "[]")); err == nil {
				t.nets = append(t.nets, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
				continue
			}
			if !ValidHostname(e) {
				return nil, fmt.Errorf("%q is not a host name, an IP address or a network (no scheme, port or path: api.example.com, 192.0.2.7, 10.0.0.0/8)", e)
			}
			t.hosts = append(t.hosts, strings.ToLower(strings.TrimSuffix(e, ".")))
		}
	}
	if len(t.hosts) == 0 && len(t.nets) == 0 {
		return nil, errors.New("names no host or network")
	}
	return t, nil
}

// Allows reports whether the yours origin may connect to ip for a base URL
// whose host is host. An address inside a listed network is allowed
// whatever the name. A listed host name allows the addresses it resolves
// to, except loopback, link-local (the cloud metadata service lives at
// 169.254.169.254), unspecified and multicast ones, which only a network
// entry allows: a name anyone can point anywhere must not lead there.
func (t *Targets) Allows(host string, ip netip.Addr) bool {
	if t == nil {
		return true
	}
	ip = ip.Unmap()
	for _, n := range t.nets {
		if n.Contains(ip) {
			return true
		}
	}
	if ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified() || ip.IsMulticast() {
		return false
	}
	return slices.Contains(t.hosts, strings.ToLower(strings.TrimSuffix(host, ".")))
}

// String lists the entries, for the start-up message.
func (t *Targets) String() string {
	if t == nil {
		return "any"
	}
	var parts []string
	parts = append(parts, t.hosts...)
	for _, n := range t.nets {
		if n.IsSingleIP() {
			parts = append(parts, n.Addr().String())
		} else {
			parts = append(parts, n.String())
		}
	}
	return strings.Join(parts, ",")
}

// ValidHostname accepts DNS host names (RFC 1123, 2.1), in any case,
// with an optional final dot: dot-separated labels of 1 to 63 letters,
// digits and '-' that neither start nor end with '-'. --allow-targets,
// the lab's Host checks and main's --public-host check accept these.
func ValidHostname(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range []byte(label) {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
