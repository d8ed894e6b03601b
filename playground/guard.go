package playground

import (
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/corslab/corslab/playground/session"
)

// The default limits, in requests a second (--session-rate, --ip-rate;
// bursts hold ratelimit.BurstSeconds' worth). They are sized from what
// corslab's own pages need, measured in Chromium: the redirect matrix with
// every setup and credentials mode (108 cells) makes about 490 requests in
// its session (a PUT of the scenario, the browser's one to three hops and
// a POST of the run per cell), in 7 s on a 2-core machine, 143 in its
// busiest second. A session's burst of 2,000 holds three such matrices
// back to back however fast the machine, and at 100 a second the rate
// alone keeps up with one; an address's burst of 4,000 holds a learner's
// three matrix tabs and their page loads. A flood is held to the rate.
const (
	DefaultSessionRate = 100
	DefaultIPRate      = 200
)

// guard is the first thing every request on every origin meets. It refuses
// a Host corslab does not answer to (checkHost), and a client address that sends
// more than its share (Config.IPRate), before any work is done.
func (s *Server) guard(role Role, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.checkHost(w, r) {
			return
		}
		if !s.allowAddr(w, r, role) {
			return
		}
		next.ServeHTTP(w, r)
	})
}

// checkHost answers 421 Misdirected Request (RFC 9110, 15.5.20) and
// returns false unless r's Host names a host corslab answers to. A Host
// that is missing, empty or no host name at all ("a:1:2",
// "re_bind.attacker.example") is refused like any other name: taking it
// for localhost would let a rebinding page through.
func (s *Server) checkHost(w http.ResponseWriter, r *http.Request) bool {
	host := requestHost(r.Host)
	if host != "" && s.answersTo(host) {
		return true
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusMisdirectedRequest)
	fmt.Fprintf(w, "corslab answers to IP addresses, localhost names and its --public-host, not to %q.\n", r.Host)
	switch {
	case r.Host == "":
		fmt.Fprintln(w, "The request names no host: send a Host header.")
	case host == "":
		fmt.Fprintln(w, "That is not a host name or an IP address, so no --public-host can allow it.")
	default:
		fmt.Fprintf(w, "If learners reach this machine by that name, start corslab with --public-host %s.\n", strings.TrimSuffix(host, "."))
	}
	return false
}

// answersTo reports whether corslab serves requests for host, as
// requestHost returns it: an IP address, a loopback name, or the public
// host. Refusing other names stops DNS rebinding, where a site on the
// internet points its own name at this machine so that its pages count as
// same-origin with corslab.
func (s *Server) answersTo(host string) bool {
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	return isLoopbackHost(host) || s.cfg.PublicHost != "" && strings.EqualFold(strings.TrimSuffix(host, "."), s.cfg.PublicHost)
}

// allowAddr takes one of the client address's requests from its share
// (Config.IPRate). When the share is used up, it answers 429 and returns
// false; if the request was for a live session on a virtual origin, the
// session notes that corslab refused it (see noteRefusal).
//
// The app origin's proxy (one-origin setup) passes each request on to the
// api or s3 origin from this machine's loopback address: that hop was
// counted already, as the app hop from the learner's own address, and
// counting it again would make every learner's proxied hops share the
// loopback address's one share.
func (s *Server) allowAddr(w http.ResponseWriter, r *http.Request, role Role) bool {
	addr, err := netip.ParseAddrPort(r.RemoteAddr)
	now := time.Now()
	if err != nil || proxyHop(r, addr.Addr()) || s.perAddr.Allow(addr.Addr(), now) {
		return true
	}
	rate := s.cfg.IPRate
	msg := fmt.Sprintf("corslab: too many requests from your address %s (the limit is %g a second, in bursts of %d). "+
		"Wait a moment and try again; an instructor can raise it with --ip-rate.", addr.Addr(), rate.PerSecond, rate.Burst)
	if role != UI {
		// Only a refusal is worth a session lookup; Peek, so that a
		// refused request does not keep a session alive.
		id, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		noteRefusal(r, role, s.peekSession(id), msg)
	}
	tooMany(w, role, msg, s.perAddr.Delay(addr.Addr(), now))
	return false
}

// proxyHop reports whether r is the app origin's proxy passing a request
// on (proxy.go): from loopback, marked with the proxy's Via.
func proxyHop(r *http.Request, from netip.Addr) bool {
	return from.IsLoopback() && r.Header.Get("Via") == proxyVia
}

// allowSession takes one of the session's requests from its share
// (Config.SessionRate). When the share is used up, it answers 429, tells
// the session's pages why (at most once a second), notes the refusal in
// the session when it is on a virtual origin (see noteRefusal), and returns
// false.
func (s *Server) allowSession(w http.ResponseWriter, r *http.Request, role Role, sess *session.Session) bool {
	now := time.Now()
	if sess.Limit.Allow(s.cfg.SessionRate, now) {
		return true
	}
	rate := s.cfg.SessionRate
	msg := fmt.Sprintf("corslab: too many requests in this session (the limit is %g a second, in bursts of %d). "+
		"Wait a moment and try again; an instructor can raise it with --session-rate.", rate.PerSecond, rate.Burst)
	if sess.Notice(now) {
		sess.Send(session.NoticeFrame(msg))
	}
	if role != UI {
		noteRefusal(r, role, sess, msg)
	}
	tooMany(w, role, msg, sess.Limit.Delay(rate, now))
	return false
}

// noteRefusal notes in sess (if not nil) that corslab turned r away with 429
// on role's origin. The browser's fetch then failed, or read corslab's
// 429, for a reason that has nothing to do with CORS: the run that claims
// the note says so instead of giving a verdict. Refusals on the UI origin
// are not noted: they are the lab's own API calls, whose page sees the
// 429 itself (api.js) and tries again.
func noteRefusal(r *http.Request, role Role, sess *session.Session, msg string) {
	if sess == nil {
		return
	}
	sess.Refuse(session.Refusal{
		Origin: role.String(),
		Method: r.Method,
		Target: r.URL.RequestURI(),
		Status: http.StatusTooManyRequests,
		Reason: msg,
	})
}

// tooMany answers 429: JSON on the UI origin's API, plain text on the
// virtual origins, where the learner's own page reads what comes back.
// No CORS headers are added: the refusal is corslab's, not the scenario's
// servers', so none of the scenario's headers may be on it.
// Retry-After is when the next request will pass, in whole seconds (at
// least 1): the lab's pages wait that long before they try again.
func tooMany(w http.ResponseWriter, role Role, msg string, retry time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(retry.Seconds())))))
	if role == UI {
		writeJSONError(w, http.StatusTooManyRequests, msg)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusTooManyRequests)
	w.Write([]byte(msg + "\n"))
}
