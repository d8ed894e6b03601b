package playground

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/corslab/corslab/playground/session"
)

// guard is the first thing every request on every origin meets. It refuses
// a host name corslab does not answer to, and a client address that sends
// more than its share (Config.IPRate), before any work is done.
func (s *Server) guard(role Role, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if host := requestHost(r.Host, ""); !s.answersTo(host) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusMisdirectedRequest)
			fmt.Fprintf(w, "corslab answers to IP addresses, localhost names and its --public-host, not to %q.\n"+
				"If learners reach this machine by that name, start corslab with --public-host %s.\n", r.Host, host)
			return
		}
		if addr, err := netip.ParseAddrPort(r.RemoteAddr); err == nil && !s.perAddr.Allow(addr.Addr(), time.Now()) {
			rate := s.cfg.IPRate
			tooMany(w, role, fmt.Sprintf("corslab: too many requests from your address %s (the limit is %g a second, in bursts of %d). "+
				"Wait a moment and try again; an instructor can raise it with --ip-rate.", addr.Addr(), rate.PerSecond, rate.Burst))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// answersTo reports whether corslab serves requests for host (no port): an
// IP address, a loopback name, or the public host. Refusing other names
// stops DNS rebinding, where a site on the internet points its own name at
// this machine so that its pages count as same-origin with corslab.
func (s *Server) answersTo(host string) bool {
	if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return true
	}
	return isLoopbackHost(host) || s.cfg.PublicHost != "" && strings.EqualFold(strings.TrimSuffix(host, "."), s.cfg.PublicHost)
}

// allowSession takes one of the session's requests from its share
// (Config.SessionRate). When the share is used up, it answers 429, tells
// the session's pages why (at most once a second), and returns false.
func (s *Server) allowSession(w http.ResponseWriter, role Role, sess *session.Session) bool {
	now := time.Now()
	if sess.Limit.Allow(s.cfg.SessionRate, now) {
		return true
	}
	rate := s.cfg.SessionRate
	msg := fmt.Sprintf("corslab: too many requests in this session (the limit is %g a second, in bursts of %d). "+
		"Wait a moment and try again; an instructor can raise it with --session-rate.", rate.PerSecond, rate.Burst)
	if sess.Notice(now) {
		sess.Send(noticeFrame(msg))
	}
	tooMany(w, role, msg)
	return false
}

// tooMany answers 429: JSON on the UI origin's API, plain text on the
// virtual origins, where the learner's own page reads what comes back.
// No CORS headers are added: the limit is corslab's, not the scenario's.
func tooMany(w http.ResponseWriter, role Role, msg string) {
	w.Header().Set("Retry-After", "1")
	if role == UI {
		writeJSONError(w, http.StatusTooManyRequests, msg)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusTooManyRequests)
	w.Write([]byte(msg + "\n"))
}

// noticeFrame is a websocket frame that shows msg on the session's pages.
func noticeFrame(msg string) []byte {
	frame, _ := json.Marshal(struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}{"notice", msg})
	return frame
}
