package lesson

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/corslab/corslab/playground/capture"
	"github.com/corslab/corslab/playground/session"
)

// Goal is a check on a session's live traffic. It is met by a run that
// matches Run, or by a captured exchange that matches Exchange, or, with
// both, by a run that matches Run and caused an exchange that matches
// Exchange. After makes it count only what happened after another goal of
// the lesson was first met: "the exploit fails, after it worked".
type Goal struct {
	ID       string         `yaml:"id" json:"id"`
	Text     string         `yaml:"text" json:"text"`
	Run      *RunMatch      `yaml:"run" json:"-"`
	Exchange *ExchangeMatch `yaml:"exchange" json:"-"`
	After    string         `yaml:"after" json:"after,omitempty"`
}

// RunMatch matches a run: what the page asked for and what JS got. Every
// field left empty matches anything.
type RunMatch struct {
	From        string `yaml:"from"`        // app, sandbox, evil, api
	Target      string `yaml:"target"`      // api, s3
	Method      string `yaml:"method"`      // as passed to fetch(), compared ignoring case
	Path        string `yaml:"path"`        // the request's path without its query; a final * matches any rest
	Credentials string `yaml:"credentials"` // omit, same-origin, include
	Mode        string `yaml:"mode"`        // cors, no-cors, same-origin
	Setup       string `yaml:"setup"`       // three-origins, two-origins, one-origin
	OK          *bool  `yaml:"ok"`          // JS got the response
	Status      int    `yaml:"status"`      // the status JS saw
	Stage       string `yaml:"stage"`       // where the engine says it failed: request, cache, preflight, response, redirect
	Body        string `yaml:"body"`        // a substring of the body JS read
	// Readable names response headers JS could read, in any case.
	Readable []string `yaml:"readable"`
}

// ExchangeMatch matches one captured request and its response.
type ExchangeMatch struct {
	Origin string `yaml:"origin"` // the origin that received it: app, api, s3, evil
	Kind   string `yaml:"kind"`   // preflight, cors, same-origin, no-origin, redirect
	Method string `yaml:"method"`
	Path   string `yaml:"path"`   // without the session and the query; a final * matches any rest
	Status int    `yaml:"status"` // the response's status
	// Request and Response hold header conditions, by header name (any
	// case): "value" is exactly that value, "-" absent, "+" present with
	// any value, "!value" present with any other value, "~text" present and
	// containing text.
	Request  map[string]string `yaml:"request"`
	Response map[string]string `yaml:"response"`
}

// check reports what is wrong with a goal's definition, or "". ids are the
// goals defined before it.
func (g Goal) check(ids map[string]bool) string {
	switch {
	case !slugPattern.MatchString(g.ID):
		return fmt.Sprintf("id %q: use lower-case letters, digits and single dashes", g.ID)
	case ids[g.ID]:
		return fmt.Sprintf("id %q is used twice", g.ID)
	case strings.TrimSpace(g.Text) == "":
		return "text: say what the learner should do"
	case g.Run == nil && g.Exchange == nil:
		return "needs run:, exchange: or both"
	case g.After != "" && !ids[g.After]:
		return fmt.Sprintf("after: %q is not a goal defined before this one", g.After)
	}
	if r := g.Run; r != nil {
		if msg := oneOf("run.from", r.From, "app", "sandbox", "evil", "api", "lookalike"); msg != "" {
			return msg
		}
		if msg := oneOf("run.target", r.Target, "api", "s3"); msg != "" {
			return msg
		}
		if msg := oneOf("run.credentials", r.Credentials, "omit", "same-origin", "include"); msg != "" {
			return msg
		}
		if msg := oneOf("run.mode", r.Mode, "cors", "no-cors", "same-origin"); msg != "" {
			return msg
		}
		if msg := oneOf("run.setup", r.Setup, "three-origins", "two-origins", "one-origin"); msg != "" {
			return msg
		}
		if msg := oneOf("run.stage", r.Stage, "request", "cache", "preflight", "response", "redirect"); msg != "" {
			return msg
		}
		if r.Path != "" && !strings.HasPrefix(r.Path, "/") {
			return "run.path: starts with /"
		}
	}
	if e := g.Exchange; e != nil {
		if msg := oneOf("exchange.origin", e.Origin, "app", "api", "s3", "evil"); msg != "" {
			return msg
		}
		kinds := []string{capture.KindPreflight, capture.KindCORS, capture.KindSameOrigin, capture.KindNoOrigin, capture.KindRedirect}
		if msg := oneOf("exchange.kind", e.Kind, kinds...); msg != "" {
			return msg
		}
		if e.Path != "" && !strings.HasPrefix(e.Path, "/") {
			return "exchange.path: starts with /"
		}
	}
	return ""
}

func oneOf(field, got string, allowed ...string) string {
	if got == "" {
		return ""
	}
	for _, a := range allowed {
		if got == a {
			return ""
		}
	}
	return fmt.Sprintf("%s: must be one of %s; got %q", field, strings.Join(allowed, ", "), got)
}

// Status is a goal's state in a session.
type Status struct {
	ID  string    `json:"id"`
	Met bool      `json:"met"`
	At  time.Time `json:"at,omitzero"` // when what met it happened
	Run int       `json:"run,omitempty"`
	Seq uint64    `json:"seq,omitempty"` // the exchange that met it, if one did
}

// Evaluate checks every goal of the lesson against a session's runs and
// exchanges (all of them, oldest first). sessionID is stripped from paths.
func (l *Lesson) Evaluate(sessionID string, runs []*session.Run, exchanges []capture.Exchange) []Status {
	bySeq := make(map[uint64]*capture.Exchange, len(exchanges))
	for i := range exchanges {
		bySeq[exchanges[i].Seq] = &exchanges[i]
	}
	out := make([]Status, len(l.Goals))
	met := map[string]time.Time{}
	for i, g := range l.Goals {
		out[i] = Status{ID: g.ID}
		var since time.Time
		if g.After != "" {
			t, ok := met[g.After]
			if !ok {
				continue // what it must follow has not happened
			}
			since = t
		}
		if st, ok := g.firstMatch(sessionID, runs, exchanges, bySeq, since); ok {
			out[i] = st
			met[g.ID] = st.At
		}
	}
	return out
}

// firstMatch finds the earliest run or exchange after since that meets g.
func (g Goal) firstMatch(sid string, runs []*session.Run, exchanges []capture.Exchange, bySeq map[uint64]*capture.Exchange, since time.Time) (Status, bool) {
	if g.Run == nil {
		for i := range exchanges {
			e := &exchanges[i]
			if e.Start.After(since) && g.Exchange.matches(sid, e) {
				return Status{ID: g.ID, Met: true, At: e.Start, Seq: e.Seq}, true
			}
		}
		return Status{}, false
	}
	for _, r := range runs {
		if !r.At.After(since) || !g.Run.matches(r) {
			continue
		}
		if g.Exchange == nil {
			return Status{ID: g.ID, Met: true, At: r.At, Run: r.ID}, true
		}
		for _, seq := range r.Exchanges {
			if e := bySeq[seq]; e != nil && g.Exchange.matches(sid, e) {
				return Status{ID: g.ID, Met: true, At: r.At, Run: r.ID, Seq: seq}, true
			}
		}
	}
	return Status{}, false
}

func (m *RunMatch) matches(r *session.Run) bool {
	q := r.Request
	switch {
	case m.From != "" && q.From != m.From,
		m.Target != "" && q.Target != m.Target,
		m.Method != "" && !strings.EqualFold(q.Method, m.Method),
		m.Path != "" && !pathMatches(m.Path, q.Path),
		m.Credentials != "" && q.Credentials != m.Credentials,
		m.Mode != "" && q.Mode != m.Mode,
		m.Setup != "" && r.Setup != m.Setup,
		m.OK != nil && r.Browser.OK != *m.OK,
		m.Status != 0 && r.Browser.Status != m.Status,
		m.Body != "" && !strings.Contains(r.Browser.Body, m.Body):
		return false
	}
	if m.Stage != "" && (r.Verdict == nil || r.Verdict.OK || r.Verdict.Stage != m.Stage) {
		return false
	}
	for _, name := range m.Readable {
		if !slices.ContainsFunc(r.Browser.Headers, func(h [2]string) bool { return strings.EqualFold(h[0], name) }) {
			return false
		}
	}
	return true
}

func (m *ExchangeMatch) matches(sid string, e *capture.Exchange) bool {
	target := strings.TrimPrefix(e.Request.Target, "/"+sid)
	switch {
	case m.Origin != "" && e.Origin != m.Origin,
		m.Kind != "" && e.Kind != m.Kind,
		m.Method != "" && !strings.EqualFold(e.Request.Method, m.Method),
		m.Path != "" && !pathMatches(m.Path, target),
		m.Status != 0 && e.Response.Status != m.Status:
		return false
	}
	return headersMatch(m.Request, &e.Request) && headersMatch(m.Response, &e.Response)
}

// pathMatches compares a path pattern with a request path, ignoring the
// query; a pattern ending in * matches any rest.
func pathMatches(pattern, p string) bool {
	p, _, _ = strings.Cut(p, "?")
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(p, prefix)
	}
	return p == pattern
}

func headersMatch(conds map[string]string, m *capture.Message) bool {
	for name, cond := range conds {
		v, present := m.Header(name)
		if !headerMatches(cond, v, present) {
			return false
		}
	}
	return true
}

func headerMatches(cond, v string, present bool) bool {
	switch {
	case cond == "-":
		return !present
	case cond == "+":
		return present
	case strings.HasPrefix(cond, "!"):
		return present && v != cond[1:]
	case strings.HasPrefix(cond, "~"):
		return present && strings.Contains(v, cond[1:])
	}
	return present && v == cond
}
