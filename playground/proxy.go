package playground

import (
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/corslab/corslab/playground/scenario"
	"github.com/corslab/corslab/playground/session"
)

// Via marks a request the app origin's proxy passed on, as a CDN's Via
// header does. The engine leaves such hops out: the browser never saw them.
const proxyVia = "1.1 corslab-cdn"

// cdnProxy is the app origin acting as a CDN, for the one-origin setup:
// /{session}/api/* goes to the api origin and /{session}/files/* to the
// session's bucket on the s3 origin, both at /{session}/*, so the page
// reaches everything under its own origin and needs no CORS at all. It
// forwards cookies, and adds proxy.addOrigin as the Origin of a request
// without one, as article 002's edge authorizer does so that S3 answers
// with CORS headers. The upstream origins capture the hop like any other
// request.
func (s *Server) cdnProxy() http.Handler {
	transport := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       time.Minute,
		ResponseHeaderTimeout: 30 * time.Second,
	}
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			// A link from an expired session has no session: it goes on
			// under the id it names, and s3 answers it as S3 answers a
			// bucket that does not exist.
			id, _, _ := strings.Cut(strings.TrimPrefix(pr.In.URL.EscapedPath(), "/"), "/")
			var sc scenario.Scenario
			if sess := session.FromContext(pr.In.Context()); sess != nil {
				id = sess.ID
				sc, _ = sess.Scenario()
			}
			role, rest := upstreamOf(pr.In.URL.EscapedPath(), id)
			u, err := url.Parse("/" + id + rest)
			if err != nil { // the path came from a parsed URL: it parses again
				u = &url.URL{Path: "/" + id + "/"}
			}
			pr.Out.URL.Scheme = "http"
			pr.Out.URL.Host = s.upstream(role)
			pr.Out.URL.Path, pr.Out.URL.RawPath = u.Path, u.RawPath
			// The Host the browser would have sent to that origin, so that
			// a presigned URL's signature still matches and the api's
			// redirects name origins the browser can reach.
			pr.Out.Host = strings.TrimPrefix(s.originsFor(pr.In).url(role), "http://")
			pr.SetXForwarded()
			pr.Out.Header.Set("Via", proxyVia)
			if sc.Proxy.AddOrigin != "" && pr.Out.Header.Get("Origin") == "" {
				pr.Out.Header.Set("Origin", sc.Proxy.AddOrigin)
			}
		},
		Transport:  transport,
		BufferPool: &proxyBuffers{},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, "corslab's proxy could not reach the origin behind it: "+err.Error(), http.StatusBadGateway)
		},
	}
}

// upstreamOf splits an escaped path /{session}/api/rest or
// /{session}/files/rest into the origin it goes to and /rest.
func upstreamOf(path, id string) (Role, string) {
	rest := strings.TrimPrefix(path, "/"+id)
	if after, ok := strings.CutPrefix(rest, "/api/"); ok {
		return API, "/" + after
	}
	return S3, "/" + strings.TrimPrefix(rest, "/files/")
}

// upstream is the address the proxy dials for a role: where it listens, on
// loopback when that is every address.
func (s *Server) upstream(role Role) string {
	host := s.cfg.Listen
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, strconv.Itoa(s.ports[role]))
}

// proxyBuffers reuses the proxy's copy buffers, which it would otherwise
// allocate, 32 KB each, for every response it passes on.
type proxyBuffers struct{ pool sync.Pool }

func (p *proxyBuffers) Get() []byte {
	if b, ok := p.pool.Get().(*[]byte); ok {
		return *b
	}
	return make([]byte, 32<<10)
}

func (p *proxyBuffers) Put(b []byte) { p.pool.Put(&b) }
