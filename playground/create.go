package playground

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"github.com/corslab/corslab/playground/bytesize"
	"github.com/corslab/corslab/playground/scenario"
	"github.com/corslab/corslab/playground/session"
	"github.com/corslab/corslab/views"
)

// createSession starts a session for r, after the checks that keep a
// flood from filling the class:
//
//   - another site may send a learner to a new session (a link in
//     documentation, an embed), but not make one behind their back: only
//     a navigation may come from elsewhere, never an <img>, a script or a
//     form post (Sec-Fetch-Site, Sec-Fetch-Mode and Origin tell);
//   - one client address (an IPv6 /64) opens at most Config.IPSessions
//     sessions a minute, all at once if it must: a class behind one NAT
//     address shares it.
//
// back is the page to offer after a refusal, "" for the JSON API, which
// answers in JSON. On refusal it answers and returns nil.
func (s *Server) createSession(w http.ResponseWriter, r *http.Request, sc scenario.Scenario, lesson, back string) *session.Session {
	refuse := func(status int, title, msg string) *session.Session {
		if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "10")
		}
		if back == "" {
			writeJSONError(w, status, msg)
			return nil
		}
		render(w, r, status, views.ErrorPage(views.ErrorData{Status: status, Title: title, Message: msg, Back: back}))
		return nil
	}
	if msg := crossSiteCreation(r); msg != "" {
		return refuse(http.StatusForbidden, "Not from another site", msg)
	}
	if addr, err := netip.ParseAddrPort(r.RemoteAddr); err == nil && !s.newSessions.Allow(addr.Addr(), time.Now()) {
		return refuse(http.StatusTooManyRequests, "Too many new sessions",
			fmt.Sprintf("corslab: your address %s opened more than %d sessions in the last minute. Wait a minute and try again; "+
				"an instructor whose class shares one address can raise it with --ip-sessions.", addr.Addr(), s.cfg.IPSessions))
	}
	sess, err := s.sessions.CreateFor(sc, lesson)
	switch {
	case errors.Is(err, session.ErrTooMany):
		s.warnFull("refusing new sessions: every session is in use", "max", s.cfg.MaxSessions)
		return refuse(http.StatusServiceUnavailable, "Too many sessions",
			fmt.Sprintf("This corslab is at its limit of %d sessions, and every one of them is in use. Existing sessions are untouched, "+
				"and a place frees up when one has been idle for %s. Try again later, or ask whoever runs it to raise --max-sessions.", s.cfg.MaxSessions, s.idle()))
	case errors.Is(err, session.ErrBudget):
		b := s.sessions.Budget()
		s.warnFull("refusing new sessions: the memory budget is full", "held", bytesize.Format(b.Used()), "budget", bytesize.Format(b.Limit()))
		return refuse(http.StatusServiceUnavailable, "corslab's memory is full",
			fmt.Sprintf("The sessions alive hold %s of this corslab's %s memory budget, and shedding their old traffic left no room for another. "+
				"Existing sessions are untouched; try again when some have expired, or ask whoever runs it to raise --memory-budget.",
				bytesize.Format(b.Used()), bytesize.Format(b.Limit())))
	case err != nil:
		s.log.Error("creating a session", "err", err)
		return refuse(http.StatusInternalServerError, "Could not create a session", "corslab could not create a session; its log says why.")
	}
	return sess
}

// crossSiteCreation says why r may not create a session, or "". Browsers
// send Sec-Fetch-* on every request (fetch metadata); a request without
// them comes from a script or curl on the learner's own machine, which is
// no way to reach into someone else's browser.
func crossSiteCreation(r *http.Request) string {
	site := r.Header.Get("Sec-Fetch-Site")
	fromHere := site == "" || site == "same-origin" || site == "none"
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		if fromHere || r.Header.Get("Sec-Fetch-Mode") == "navigate" {
			return ""
		}
		return "corslab opens a session only when you navigate to it: a page of another site cannot open one with an image, a script or fetch()."
	}
	origin := r.Header.Get("Origin")
	if fromHere && (origin == "" || origin == "http://"+r.Host) {
		return ""
	}
	return fmt.Sprintf("corslab: sessions are created by corslab's own pages; a request from %s may not create one.", orDefault(origin, "another site"))
}

func orDefault(s, def string) string {
	if s == "" || s == "null" {
		return def
	}
	return s
}

// warnFull logs why new sessions are refused, at most once a minute.
func (s *Server) warnFull(msg string, args ...any) {
	now := time.Now().Unix()
	if last := s.fullLogged.Load(); now-last >= 60 && s.fullLogged.CompareAndSwap(last, now) {
		s.log.Warn(msg, args...)
	}
}
