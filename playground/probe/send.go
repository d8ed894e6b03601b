package probe

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/corslab/corslab/playground/cors"
)

// Exchange is one request the probe sent and the answer it got.
type Exchange struct {
	// Exchange is what the engine reads: the method, the URL, the header
	// lists cut from the heads as they crossed the wire, the status.
	cors.Exchange
	// Preflight says the browser would have sent this on its own, before
	// the page's request.
	Preflight bool
	// Credentials says the browser would have attached its cookies;
	// Cookie, that the probe sent the one it was given.
	Credentials, Cookie bool
	// RequestHead and ResponseHead are the heads byte for byte (HTTP/1.1,
	// CRLF line ends, ending with the empty line).
	RequestHead, ResponseHead string
	RequestBody               []byte
	// ResponseBody is the first MaxBody bytes of the body; BodyTruncated
	// says there was more, which the probe did not read.
	ResponseBody  []byte
	BodyTruncated bool
	// BodyErr says why reading the body stopped early, if it did: the
	// verdict stands, as the browser judges the head.
	BodyErr  string
	Duration time.Duration
	// Err is the network error that left the request without an answer.
	Err error
}

// sender sends one request at a time as the browser would.
type sender struct {
	cfg    Config
	target *url.URL
	// chain is every URL of this fetch so far, the current one last: the
	// fetch's URL list, which Sec-Fetch-Site looks at.
	chain []*url.URL
}

// send dresses s as a browser request, sends it on a connection of its
// own, and records both heads from the wire.
func (p *sender) send(ctx context.Context, s cors.Send, seq uint64) (Exchange, error) {
	ex := Exchange{Preflight: s.Preflight, Credentials: s.Credentials}
	ex.Seq, ex.Method, ex.URL, ex.At = seq, s.Method, s.URL, time.Now()
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()

	var body io.Reader
	if s.Body {
		ex.RequestBody = p.cfg.Body
		body = bytes.NewReader(p.cfg.Body)
	}
	r, err := http.NewRequestWithContext(ctx, s.Method, s.URL, body)
	if err != nil {
		ex.Err = err
		return ex, fmt.Errorf("request %d: %w", seq, err)
	}
	// Names keep the case the page gave them: a browser sends them so.
	r.Header = http.Header{}
	add := func(name, value string) { r.Header[name] = append(r.Header[name], value) }
	if s.Origin != "" {
		add("Origin", s.Origin)
	}
	for _, h := range s.Headers {
		add(h[0], h[1])
	}
	p.dress(r, s, add)
	if s.Credentials && p.cfg.Cookie != "" && strings.EqualFold(r.URL.Hostname(), p.target.Hostname()) {
		add("Cookie", p.cfg.Cookie)
		ex.Cookie = true
	}

	tape := &tape{}
	tr := p.transport(tape)
	defer tr.CloseIdleConnections()
	resp, err := tr.RoundTrip(r)
	ex.Duration = time.Since(ex.At)
	if err != nil {
		ex.RequestHead, _ = tape.heads()
		ex.RequestHeaders = parseHead(ex.RequestHead)
		ex.Err = err
		return ex, fmt.Errorf("%s %s: %w", s.Method, s.URL, netError(err, p.cfg.Timeout))
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if err != nil {
		ex.BodyErr = netError(err, p.cfg.Timeout).Error()
	}
	if len(data) > MaxBody {
		data, ex.BodyTruncated = data[:MaxBody], true
	}
	resp.Body.Close()
	tr.CloseIdleConnections()
	ex.ResponseBody = data
	ex.RequestHead, ex.ResponseHead = tape.heads()
	ex.RequestHeaders = parseHead(ex.RequestHead)
	ex.ResponseHeaders = parseHead(ex.ResponseHead)
	ex.Status = resp.StatusCode
	return ex, nil
}

// dress adds what every request of a browser carries, beyond what the
// page and the CORS protocol decided.
func (p *sender) dress(r *http.Request, s cors.Send, add func(name, value string)) {
	// fetch.spec.whatwg.org/#fetching: Accept is */* unless the page set
	// one; a preflight always says */*.
	if _, ok := headerValue(s.Headers, "Accept"); !ok || s.Preflight {
		add("Accept", "*/*")
	}
	// w3c.github.io/webappsec-fetch-metadata/#abstract-opdef-append-the-fetch-metadata-headers-for-a-request:
	// only to a potentially trustworthy URL.
	if trustworthy(r.URL) {
		add("Sec-Fetch-Dest", "empty")
		add("Sec-Fetch-Mode", "cors")
		add("Sec-Fetch-Site", fetchSite(p.cfg.Origin, p.chain))
	}
	// The canonical key: net/http adds its own User-Agent otherwise.
	r.Header["User-Agent"] = []string{"corslab-probe (model of " + p.cfg.Browser.Title + "; no browser)"}
}

// transport is a one-request transport that records its connection on
// tape. No proxy: the probe must reach the server itself, or the heads it
// shows would not be the server's, and a proxy from the environment
// could add headers or answer for the server. No cookie jar, and no
// compression (net/http would add Accept-Encoding and hide what the
// server sent). HTTP/1.1 only, so the heads are the text they show.
func (p *sender) transport(t *tape) *http.Transport {
	dial := (&net.Dialer{Timeout: p.cfg.Timeout}).DialContext
	if p.cfg.Dial != nil {
		dial = p.cfg.Dial
	}
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	return &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &tapedConn{Conn: c, tape: t}, nil
		},
		// TLS here rather than in the transport, so that the tape sits
		// above it and records plain text.
		DialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			host, _, _ := net.SplitHostPort(addr)
			tc := tls.Client(c, &tls.Config{ServerName: host, NextProtos: []string{"http/1.1"}, RootCAs: p.cfg.RootCAs})
			if err := tc.HandshakeContext(ctx); err != nil {
				c.Close()
				return nil, err
			}
			return &tapedConn{Conn: tc, tape: t}, nil
		},
		Protocols:              &protocols,
		DisableCompression:     true,
		MaxResponseHeaderBytes: maxHead,
		ResponseHeaderTimeout:  p.cfg.Timeout,
		MaxIdleConnsPerHost:    1,
	}
}

// netError words a network error for a person.
func netError(err error, timeout time.Duration) error {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("no answer within %s: %w", timeout, err)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("stopped: %w", err)
	}
	return err
}

// headerValue is a header's first value, compared without regard to case.
func headerValue(h [][2]string, name string) (string, bool) {
	for _, kv := range h {
		if strings.EqualFold(kv[0], name) {
			return kv[1], true
		}
	}
	return "", false
}
