package lesson

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/corslab/corslab/playground/capture"
	"github.com/corslab/corslab/playground/cors"
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
	From        string `yaml:"from"`        // as request.from: app, sandbox, data, evil…
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

	// The door and what it let the page see (request.via, session.Door).
	Via         string `yaml:"via"`         // fetch, xhr, img, img+canvas, script…
	CrossOrigin string `yaml:"crossOrigin"` // none, anonymous, use-credentials
	Canvas      string `yaml:"canvas"`      // readable, tainted
	ScriptError string `yaml:"scriptError"` // a substring of the message window.onerror got
	Applied     *bool  `yaml:"applied"`     // the font or stylesheet took effect
	Message     string `yaml:"message"`     // a substring of an event or socket message the page got
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
		if msg := oneOf("run.from", r.From, "app", "sandbox", "sandbox-same-origin", "data", "srcdoc", "evil", "api", "lookalike"); msg != "" {
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
		if msg := oneOf("run.via", r.Via, cors.Doors()...); msg != "" {
			return msg
		}
		if msg := oneOf("run.crossOrigin", r.CrossOrigin, cors.CrossOriginValues()...); msg != "" {
			return msg
		}
		if msg := oneOf("run.canvas", r.Canvas, "readable", "tainted"); msg != "" {
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
// It defines what goals mean; Progress gives the same answers reading only
// what is new.
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

// Progress is one session's standing in its lesson, brought up to date
// incrementally: each Update reads only the runs and exchanges that arrived
// since the one before, and decodes each exchange at most once, so polling
// a lesson's goals costs what the new traffic costs, not the whole ring.
// The zero value is ready to use. It is safe for concurrent use: one caller
// at a time does the work, and the next finds it done.
//
// Its answer is Evaluate's on all the traffic it has read, however that
// traffic was split between calls: each goal reads one stream (exchanges
// for a goal with exchange: alone, runs otherwise) in order, and a goal
// whose after: is unmet keeps the matches that could count once it is met.
// Where the two can differ:
//   - A goal once met stays met, and names what met it, even after the
//     session has dropped that run or exchange; Evaluate sees only what is
//     still kept, so its answer can move to a later match or back to unmet.
//     Likewise after: keeps counting from when the goal it names was first
//     met, even once that is no longer kept.
//   - A goal waiting for its after: keeps at most maxWaiting of its
//     matches, dropping the oldest. That changes which match meets it
//     (a later one), never whether it is met, and only once more than
//     maxWaiting runs or exchanges have matched it.
//   - A run's exchanges are looked up by seq when the run is read, not
//     among the exchanges read with it, so how reads interleave with new
//     traffic does not matter. (Evaluate is given the exchanges read before
//     the runs: a run recorded in between had none of its exchanges.)
type Progress struct {
	mu      sync.Mutex
	lesson  *Lesson
	lastRun int    // the newest run read
	lastSeq uint64 // the newest exchange read
	goals   []goalProgress
}

// maxWaiting bounds the matches a goal keeps while it waits for its
// after:, to about the number of exchanges a session keeps.
const maxWaiting = 1024

// goalProgress is one goal's standing.
type goalProgress struct {
	status Status
	// after is the index of the goal it must follow: none when noAfter;
	// never met when noSuchGoal, as in Evaluate.
	after int
	// waiting holds, while the goal it follows is unmet, the goal's own
	// matches that could count once it is met, oldest first. An earlier
	// match that is no earlier in time counts whenever a later one would,
	// so each one kept happened strictly after the one before.
	waiting []Status
}

const (
	noAfter    = -1
	noSuchGoal = -2
)

// traffic is what Progress reads of a session: *session.Session has it.
type traffic interface {
	RunsAfter(after int) []*session.Run
	Exchanges(since uint64) []json.RawMessage
	ExchangesBySeq(seqs []uint64) []json.RawMessage
}

// Update reads what the session has recorded since the last Update and
// returns every goal's status, in the lesson's order. A Progress belongs to
// one session; given another lesson than last time, it starts over.
func (p *Progress) Update(l *Lesson, sess *session.Session) []Status {
	return p.update(l, sess.ID, sess)
}

func (p *Progress) update(l *Lesson, sid string, t traffic) []Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lesson != l {
		p.start(l)
	}
	b := batch{sid: sid, t: t}
	runs, exchanges := p.streams()
	// A stream no unmet goal reads is not read at all: a met goal stays met.
	if runs {
		b.runs = t.RunsAfter(p.lastRun)
		if n := len(b.runs); n > 0 {
			p.lastRun = b.runs[n-1].ID
		}
	}
	if exchanges {
		raws := t.Exchanges(p.lastSeq)
		b.exchanges = make([]capture.Exchange, 0, len(raws))
		for _, raw := range raws {
			var ex capture.Exchange
			if json.Unmarshal(raw, &ex) == nil {
				b.exchanges = append(b.exchanges, ex)
				p.lastSeq = max(p.lastSeq, ex.Seq)
			}
		}
	}
	// In the lesson's order: a goal's after: names one before it, so that
	// goal's status is already up to date.
	for i := range l.Goals {
		p.check(&l.Goals[i], &p.goals[i], &b)
	}
	out := make([]Status, len(p.goals))
	for i := range p.goals {
		out[i] = p.goals[i].status
	}
	return out
}

// start forgets everything and follows l's goals.
func (p *Progress) start(l *Lesson) {
	p.lesson, p.lastRun, p.lastSeq = l, 0, 0
	p.goals = make([]goalProgress, len(l.Goals))
	for i, g := range l.Goals {
		gp := goalProgress{status: Status{ID: g.ID}, after: noAfter}
		if g.After != "" {
			gp.after = slices.IndexFunc(l.Goals[:i], func(h Goal) bool { return h.ID == g.After })
			if gp.after < 0 {
				gp.after = noSuchGoal
			}
		}
		p.goals[i] = gp
	}
}

// streams says which of runs and exchanges an unmet goal still reads.
func (p *Progress) streams() (runs, exchanges bool) {
	for i, g := range p.lesson.Goals {
		switch {
		case p.goals[i].status.Met, p.goals[i].after == noSuchGoal:
		case g.Run != nil:
			runs = true
		default:
			exchanges = true
		}
	}
	return runs, exchanges
}

// check brings an unmet goal up to date with the batch b.
func (p *Progress) check(g *Goal, gp *goalProgress, b *batch) {
	if gp.status.Met || gp.after == noSuchGoal {
		return
	}
	found := b.matches(g)
	var since time.Time
	if gp.after != noAfter {
		after := p.goals[gp.after].status
		if !after.Met {
			for _, m := range found {
				gp.wait(m)
			}
			return
		}
		since = after.At
	}
	// What waited and what is new, in order: the first that happened after
	// since meets the goal, as in firstMatch.
	waited := gp.waiting
	gp.waiting = nil // whatever does not count now never will
	for _, ms := range [2][]Status{waited, found} {
		for _, m := range ms {
			if m.At.After(since) {
				gp.status = m
				return
			}
		}
	}
}

// wait keeps m, a match of a goal whose after: is unmet, if it could ever
// be the first to count.
func (gp *goalProgress) wait(m Status) {
	if n := len(gp.waiting); n > 0 && !m.At.After(gp.waiting[n-1].At) {
		return
	}
	if len(gp.waiting) == maxWaiting {
		gp.waiting = slices.Delete(gp.waiting, 0, 1)
	}
	gp.waiting = append(gp.waiting, m)
}

// batch is what one Update read: the new runs and the new exchanges
// (decoded only when an unmet goal reads them), and the exchanges of runs
// looked up so far.
type batch struct {
	sid       string
	t         traffic
	runs      []*session.Run
	exchanges []capture.Exchange
	claimed   map[int][]*capture.Exchange // by run id
}

// matches lists what in b meets g, ignoring after:, in the order
// firstMatch tries them.
func (b *batch) matches(g *Goal) []Status {
	var out []Status
	if g.Run == nil {
		for i := range b.exchanges {
			if e := &b.exchanges[i]; g.Exchange.matches(b.sid, e) {
				out = append(out, Status{ID: g.ID, Met: true, At: e.Start, Seq: e.Seq})
			}
		}
		return out
	}
	for _, r := range b.runs {
		if !g.Run.matches(r) {
			continue
		}
		if g.Exchange == nil {
			out = append(out, Status{ID: g.ID, Met: true, At: r.At, Run: r.ID})
			continue
		}
		for _, e := range b.exchangesOf(r) {
			if g.Exchange.matches(b.sid, e) {
				out = append(out, Status{ID: g.ID, Met: true, At: r.At, Run: r.ID, Seq: e.Seq})
				break
			}
		}
	}
	return out
}

// exchangesOf returns the kept exchanges run r claimed, in its order,
// decoding them once per batch (at most 42 for a run).
func (b *batch) exchangesOf(r *session.Run) []*capture.Exchange {
	if es, ok := b.claimed[r.ID]; ok {
		return es
	}
	var es []*capture.Exchange
	if len(r.Exchanges) > 0 {
		for _, raw := range b.t.ExchangesBySeq(r.Exchanges) {
			ex := new(capture.Exchange)
			if json.Unmarshal(raw, ex) == nil {
				es = append(es, ex)
			}
		}
	}
	if b.claimed == nil {
		b.claimed = make(map[int][]*capture.Exchange)
	}
	b.claimed[r.ID] = es
	return es
}

func (m *RunMatch) matches(r *session.Run) bool {
	if len(r.Refused) > 0 {
		return false // what the page saw was corslab's refusal, not the scenario
	}
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
	return m.doorMatches(r)
}

// doorMatches matches the door and what it let the page see. A run from
// before request.via has none: it was a fetch().
func (m *RunMatch) doorMatches(r *session.Run) bool {
	via := cmp.Or(r.Request.Via, "fetch")
	if m.Via != "" && via != m.Via || m.CrossOrigin != "" && cmp.Or(r.Request.CrossOrigin, "none") != m.CrossOrigin {
		return false
	}
	if m.Canvas == "" && m.ScriptError == "" && m.Applied == nil && m.Message == "" {
		return true
	}
	d := r.Browser.Door
	if d == nil {
		return false
	}
	return (m.Canvas == "" || d.Canvas == m.Canvas) &&
		(m.ScriptError == "" || strings.Contains(d.ScriptError, m.ScriptError)) &&
		(m.Applied == nil || d.Applied == *m.Applied) &&
		(m.Message == "" || slices.ContainsFunc(d.Messages, func(s string) bool { return strings.Contains(s, m.Message) }))
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
