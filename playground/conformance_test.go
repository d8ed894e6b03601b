package playground

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/corslab/corslab/internal/browsertest"
	"github.com/corslab/corslab/playground/capture"
	"github.com/corslab/corslab/playground/session"
)

// TestConformance is the regression gate between corslab's CORS engine
// (playground/cors) and the three browser engines. Each case is a scenario
// run for real in the lab, in each engine, and checked twice:
//
//   - the browser half: what the browser did (did JS get the response,
//     which requests crossed the wire, with which Origin, cookies and
//     headers, which response headers JS could read) against the case's
//     expectation, which is the Fetch standard's answer. Where an engine
//     departs from the standard the case names the departure (a field of
//     that engine's table in playground/cors/browser.go, which the table
//     must have set) and says what the engine does instead.
//   - the engine half: the verdict the server attached to the run must
//     exist, use that engine's table, agree with the browser
//     (verdict.ok == browser.ok, agrees, no unexpected step), name the
//     stage that failed when the case names one, and predict exactly the
//     response headers JS could read.
//
// One browser per engine and one corslab serve every case. Cases run in
// conformanceTabs tabs at once, each case in its own session (so cookies,
// which are scoped to the session's path, and the preflight cache, which is
// keyed on the URL, never leak between cases).
func TestConformance(t *testing.T) {
	cases := conformanceCases()
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.name] {
			t.Fatalf("two cases are named %q", c.name)
		}
		seen[c.name] = true
	}
	srv := startServer(t, 1000)
	r := conformanceReplacer(srv)

	browsertest.Each(t, func(t *testing.T, browser browsertest.Browser) {
		engine := browser.Engine()
		started := time.Now()
		jobs := make(chan confCase)
		var wg sync.WaitGroup
		for range conformanceTabs {
			tab := browser.NewTab(t)
			wg.Go(func() {
				for c := range jobs {
					// t.Run may be called from several goroutines at
					// once; each subtest runs in its own goroutine, so
					// t.Fatal in it ends only that case, and the tab
					// moves on.
					t.Run(c.name, func(t *testing.T) { runConformanceCase(t, tab, srv, r, c.in(t, engine)) })
				}
			})
		}
		for _, c := range cases {
			jobs <- c
		}
		close(jobs)
		wg.Wait()
		t.Logf("%s: %d cases in %v", engine, len(cases), time.Since(started).Round(time.Second))
	})
}

// conformanceTabs is how many cases run at once, one tab each. The cost of
// a case is Chromium's CPU (loading the lab and its runner frame), so on
// two cores more tabs only contend: on the 2-core dev machine, 202 cases
// took 116 s in 2 tabs and 148 s in 4 (and 1 tab was no slower than 2 on a
// smaller set; 2 hide the waits between a run and the next page load).
const conformanceTabs = 2

// A confCase is one scenario, run once, or several times in one session
// (then), with what should happen each time. Query-like strings may use
// {app}, {api}, {s3} and {evil} for those origins, and {appPort},
// {evilPort} for their ports.
type confCase struct {
	name string
	// host is the host name the lab is opened on, for the whole case
	// (then included); "" is 127.0.0.1. The origins, and so the
	// placeholders, follow it: on corslab.localhost, {app} is
	// http://corslab.localhost:<port>.
	host string
	// engine is the browser engine the case runs in (set by in).
	engine string
	// differs lists how engines depart from the Fetch standard in this
	// case. The expectations below are the standard's.
	differs []difference

	// q is the scenario as permalink parameters, "key=value&key=value":
	// split at '&' and at the first '=', with no escaping (values may hold
	// spaces, commas, quotes; not '&').
	q string
	// click reruns the step by pressing Run in the page already open,
	// instead of opening /lab/<id>?q&run=1 (only in then; q is ignored).
	click bool

	// What the browser did, per the Fetch standard (or Chromium).
	ok    bool   // JS got the response (browser.ok)
	stage string // when !ok, where it failed: request, preflight, response, redirect ("" = not checked)
	typ   string // browser.type: cors, basic, opaque, opaqueredirect ("" = not checked)

	// wire is the methods of the requests that reached the servers, in
	// order, space-separated: "OPTIONS PUT". "-" means none at all; ""
	// is not checked.
	wire string
	// origins is the Origin header of each of those requests, in order,
	// space-separated: "{app}", "null", or "-" for none.
	origins string
	// cookies says for each request whether it carried a Cookie: "y" or
	// "n", space-separated.
	cookies string
	// acrm and acrh are the Access-Control-Request-Method and -Headers
	// of the first request, which must be a preflight.
	acrm, acrh string
	// sent are request headers of the last request that reached a server:
	// name → value, "-" for absent, "!value" for anything but value.
	sent map[string]string
	// lastBody is the body of the last request that reached a server
	// ("-" for empty).
	lastBody string

	// door is what a door other than fetch() let the page see
	// (session.Door), by JSON field name: "event", "width", "canvas",
	// "rules", "applied" and "closeCode" are compared as written;
	// "scriptError" and "message" are substrings (of the message, of some
	// message the page got), and "messages" is how many it got.
	door map[string]string

	status   int      // browser.status, when checked (non-zero)
	body     string   // a substring of the body JS read
	readable []string // response header names JS must be able to read
	hidden   []string // response header names JS must not be able to read

	// cached marks a step that the standard serves from the preflight
	// cache (no OPTIONS). In an engine whose cache may drop entries at
	// any time (CacheMayDrop), such a step may instead be preflighted
	// again: dropped is then what to expect (set by in). staleFails says
	// that new preflight fails, because the server changed since.
	cached     bool
	staleFails bool
	dropped    *confCase

	// within bounds, for a step that relies on a cached preflight with a
	// short lifetime, the time from the last preflight of an earlier step
	// to this step's first request. On a machine so slow that more time
	// passed, the browser half of the step cannot be judged and is only
	// logged.
	within time.Duration

	then []confCase // later runs in the same session
}

// A difference is how some engines depart from the Fetch standard in a
// case. field names the departure in the engine model: a field of
// cors.Browser, which each of these engines' tables must have set; its
// Spec and Does sentences say what differs. edit turns the case's
// expectations (the standard's) into what those engines do.
type difference struct {
	engines []string
	field   string
	edit    func(c *confCase)
}

// in is the case as it should go in engine: the standard's expectations,
// edited by each difference naming the engine, whose table must model it.
func (c confCase) in(t *testing.T, engine string) confCase {
	c.then = slices.Clone(c.then)
	for _, d := range c.differs {
		if departsHere(t, engine, d.engines, d.field) {
			d.edit(&c)
		}
	}
	if engineTable(engine).CacheMayDrop {
		for i := range c.then {
			if step := &c.then[i]; step.cached && departsHere(t, engine, []string{engine}, "CacheMayDrop") {
				step.dropped = step.preflightedAgain()
			}
		}
	}
	c.engine = engine
	return c
}

// preflightedAgain is a cached step as it goes when the browser sends a
// new preflight instead: OPTIONS first, from the same origin, and then the
// request, unless the preflight fails (staleFails).
func (c confCase) preflightedAgain() *confCase {
	d := c
	d.cached, d.dropped, d.within = false, nil, 0
	origins := strings.Fields(c.origins)
	d.wire = "OPTIONS " + c.wire
	if len(origins) > 0 {
		d.origins = origins[0] + " " + c.origins
	}
	if c.staleFails {
		d.ok, d.stage, d.wire = false, "preflight", "OPTIONS"
		if len(origins) > 0 {
			d.origins = origins[0]
		}
	}
	return &d
}

// departs says that in engines the case goes as edit says, a departure
// the engine model names field.
func (c confCase) departs(field string, edit func(c *confCase), engines ...string) confCase {
	c.differs = append(c.differs, difference{engines: engines, field: field, edit: edit})
	return c
}

// conformanceReplacer fills in the placeholders of cases.
func conformanceReplacer(srv *Server) *strings.Replacer {
	return conformanceReplacerOn(srv, "127.0.0.1")
}

// conformanceReplacerOn fills them in for a lab opened on host.
func conformanceReplacerOn(srv *Server, host string) *strings.Replacer {
	url := func(r Role) string { return "http://" + host + ":" + strconv.Itoa(srv.Port(r)) }
	return strings.NewReplacer(
		"{app}", url(App), "{api}", url(API), "{s3}", url(S3), "{evil}", url(Evil),
		"{appPort}", strconv.Itoa(srv.Port(App)), "{evilPort}", strconv.Itoa(srv.Port(Evil)),
	)
}

// labQuery turns a case's q into query parameters. A key given again
// replaces the earlier value (so that a case can build on another's q),
// except for the keys that are lists: api.allowlist and a bucket rule's
// lists.
func labQuery(q string, r *strings.Replacer) url.Values {
	v := url.Values{}
	if q == "" {
		return v
	}
	for kv := range strings.SplitSeq(q, "&") {
		if kv == "" {
			continue
		}
		k, val, _ := strings.Cut(kv, "=")
		if k == "api.allowlist" || strings.HasPrefix(k, "bucket.cors.") && !strings.HasSuffix(k, ".maxAgeSeconds") && !strings.HasSuffix(k, ".id") {
			v.Add(k, r.Replace(val))
		} else {
			v.Set(k, r.Replace(val))
		}
	}
	return v
}

// confRun is a run as the JSON API returns it, with the engine's verdict
// decoded here (session.Run may not have it yet).
// confRun is a run as the JSON API returns it, verdict included.
type confRun = session.Run

// openConfLab opens a lab URL and returns the session id from the address
// bar. Unlike openLab it does not wait for the Run button (chromedp polls
// the DOM every 5 ms for that, which costs the browser more CPU than the
// lab itself); the caller waits for the run through the JSON API instead.
func openConfLab(t *testing.T, tab browsertest.Tab, u string) string {
	t.Helper()
	open(t, tab, u)
	id := jsValue[string](t, tab, "location.pathname.split('/')[2] || ''")
	if !session.ValidID(id) {
		t.Fatalf("opening %s gave no lab: %s", u, jsValue[string](t, tab, "document.body.innerText.slice(0, 1000)"))
	}
	return id
}

// pressRun presses the lab's Run button once it is enabled.
func pressRun(t *testing.T, tab browsertest.Tab) {
	t.Helper()
	const js = `(() => { const b = document.querySelector("#run"); if (!b || b.disabled) return false; b.click(); return true; })()`
	waitFor(t, "the Run button", func() bool { return jsValue[bool](t, tab, js) })
}

// waitConfRun waits until the session has n runs and returns the last.
func waitConfRun(t *testing.T, srv *Server, id string, n int) confRun {
	t.Helper()
	u := srv.testURL(UI) + "/api/sessions/" + id + "/runs"
	var raws []json.RawMessage
	waitFor(t, fmt.Sprintf("run %d to be recorded", n), func() bool {
		getJSON(t, u, &raws)
		return len(raws) >= n
	})
	raw := raws[n-1]
	var run confRun
	if err := json.Unmarshal(raw, &run); err != nil {
		t.Fatalf("decoding run %d: %v\n%s", n, err, raw)
	}
	return run
}

func runConformanceCase(t *testing.T, tab browsertest.Tab, srv *Server, r *strings.Replacer, c confCase) {
	steps := append([]confCase{c}, c.then...)
	for i := range steps {
		steps[i].engine = c.engine
	}
	ui := srv.testURL(UI)
	if c.host != "" {
		r = conformanceReplacerOn(srv, c.host)
		ui = "http://" + c.host + ":" + strconv.Itoa(srv.Port(UI))
	}
	var id string
	var lastPreflight time.Time
	for i, step := range steps {
		q := labQuery(step.q, r)
		var where string
		var run confRun
		switch {
		case i == 0:
			where = ui + "/lab?" + q.Encode() + "&run=1"
			id = openConfLab(t, tab, where)
		case step.click:
			where = "(Run pressed again in the same page)"
			pressRun(t, tab)
		default:
			where = ui + "/lab/" + id + "?" + q.Encode() + "&run=1"
			if got := openConfLab(t, tab, where); got != id {
				t.Fatalf("run %d: reopening %s gave session %s", i+1, id, got)
			}
		}
		run = waitConfRun(t, srv, id, i+1)
		ex := runExchanges(t, srv, id, run)

		judge := true
		if step.within > 0 && !lastPreflight.IsZero() && len(ex) > 0 {
			if gap := ex[0].Start.Sub(lastPreflight); gap > step.within {
				judge = false
				t.Logf("run %d: %v passed since the cached preflight (more than %v): the cache may have expired, so the browser half of this run is not judged", i+1, gap.Round(time.Millisecond), step.within)
			}
		}
		if step.dropped != nil && len(ex) > 0 && ex[0].Kind == capture.KindPreflight {
			t.Logf("run %d: %s dropped the cached preflight and sent a new one", i+1, c.engine)
			step = *step.dropped
			step.engine = c.engine
		}
		var problems []string
		if judge {
			problems = checkBrowser(step, run, ex, r)
		}
		problems = append(problems, checkEngine(step, run)...)
		if len(problems) > 0 {
			t.Errorf("run %d of %d: %s\n%s", i+1, len(steps), strings.Join(problems, "\n"), describeConfRun(where, step, run, ex))
		}
		for _, e := range ex {
			if e.Kind == capture.KindPreflight {
				lastPreflight = e.Start
			}
		}
	}
}

// checkBrowser compares what the browser did with the step's expectations.
func checkBrowser(c confCase, run confRun, ex []capture.Exchange, r *strings.Replacer) []string {
	var p []string
	bad := func(format string, args ...any) { p = append(p, "browser: "+fmt.Sprintf(format, args...)) }
	b := run.Browser
	if b.OK != c.ok {
		bad("JS got the response: %v, want %v (status %d, type %q, error %q)", b.OK, c.ok, b.Status, b.Type, b.Error)
	}
	if c.typ != "" && b.Type != c.typ {
		bad("response type %q, want %q", b.Type, c.typ)
	}
	if c.stage == "request" && len(ex) > 0 {
		bad("failed at the request stage, yet %d requests reached a server", len(ex))
	}
	if c.wire != "" {
		var got []string
		for _, e := range ex {
			got = append(got, e.Request.Method)
		}
		want := strings.Fields(c.wire)
		if c.wire == "-" {
			want = nil
		}
		if !slices.Equal(got, want) {
			bad("requests on the wire %q, want %q", strings.Join(got, " "), strings.Join(want, " "))
		}
	}
	if c.origins != "" {
		var got []string
		for _, e := range ex {
			o, ok := e.Request.Header("Origin")
			if !ok {
				o = "-"
			}
			got = append(got, o)
		}
		if want := strings.Fields(r.Replace(c.origins)); !slices.Equal(got, want) {
			bad("Origin headers %q, want %q", strings.Join(got, " "), strings.Join(want, " "))
		}
	}
	if c.cookies != "" {
		var got []string
		for _, e := range ex {
			_, ok := e.Request.Header("Cookie")
			got = append(got, map[bool]string{true: "y", false: "n"}[ok])
		}
		if want := strings.Fields(c.cookies); !slices.Equal(got, want) {
			bad("Cookie on each request %q, want %q", strings.Join(got, " "), strings.Join(want, " "))
		}
	}
	if c.acrm != "" || c.acrh != "" {
		switch {
		case len(ex) == 0 || ex[0].Kind != capture.KindPreflight:
			bad("the first request is not a preflight")
		default:
			for name, want := range map[string]string{"Access-Control-Request-Method": c.acrm, "Access-Control-Request-Headers": c.acrh} {
				if want == "" {
					continue
				}
				got, ok := ex[0].Request.Header(name)
				if !ok {
					got = "-"
				}
				if got != want {
					bad("the preflight's %s is %q, want %q", name, got, want)
				}
			}
		}
	}
	if len(c.sent) > 0 || c.lastBody != "" {
		if len(ex) == 0 {
			bad("no request reached a server, so none carried the expected headers")
		} else {
			last := ex[len(ex)-1].Request
			for _, name := range slices.Sorted(maps.Keys(c.sent)) {
				want := r.Replace(c.sent[name])
				got, ok := last.Header(name)
				if !ok {
					got = "-"
				}
				if not, neg := strings.CutPrefix(want, "!"); neg && got == not || !neg && got != want {
					bad("the last request's %s is %q, want %q", name, got, want)
				}
			}
			if c.lastBody != "" {
				want := c.lastBody
				if want == "-" {
					want = ""
				}
				if last.Body != want {
					bad("the last request's body is %q, want %q", last.Body, want)
				}
			}
		}
	}
	if len(c.door) > 0 {
		p = append(p, checkDoor(c.door, b.Door, r)...)
	}
	if c.status != 0 && b.Status != c.status {
		bad("status %d, want %d", b.Status, c.status)
	}
	if c.body != "" && !strings.Contains(b.Body, c.body) {
		bad("body %q does not contain %q", b.Body, c.body)
	}
	names := browserHeaderNames(b)
	for _, h := range c.readable {
		if !slices.Contains(names, h) {
			bad("JS cannot read %s (it reads %v)", h, names)
		}
	}
	for _, h := range c.hidden {
		if slices.Contains(names, h) {
			bad("JS can read %s (it reads %v)", h, names)
		}
	}
	return p
}

// checkEngine compares the engine's verdict with the browser.
func checkEngine(c confCase, run confRun) []string {
	v := run.Verdict
	if v == nil {
		return []string{"engine: the run has no verdict"}
	}
	var p []string
	bad := func(format string, args ...any) { p = append(p, "engine: "+fmt.Sprintf(format, args...)) }
	if v.OK != run.Browser.OK {
		bad("verdict.ok %v, but the browser's ok is %v", v.OK, run.Browser.OK)
	}
	if !v.Agrees {
		bad("verdict.agrees is false")
	}
	if want := engineTable(c.engine).Name; v.Browser != want {
		bad("verdict.browser %q, want %q (the table for %s)", v.Browser, want, c.engine)
	}
	if !c.ok && c.stage != "" && v.Stage != c.stage {
		bad("verdict.stage %q, want %q", v.Stage, c.stage)
	}
	for _, st := range v.Steps {
		if st.Unexpected {
			bad("the traffic differed from the model: %s", st.Text)
		}
	}
	if run.Browser.OK {
		want := browserHeaderNames(run.Browser)
		got := slices.Clone(v.Exposed)
		slices.Sort(got)
		got = slices.Compact(got)
		if !slices.Equal(got, want) {
			bad("verdict.exposed %v, but JS read %v", got, want)
		}
	}
	return p
}

// browserHeaderNames returns the sorted, lower-case, distinct names of the
// response headers JS could read.
func browserHeaderNames(b session.Browser) []string {
	names := []string{}
	for _, h := range b.Headers {
		names = append(names, strings.ToLower(h[0]))
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// describeConfRun says everything needed to diagnose a failed step from
// the CI log alone.
func describeConfRun(where string, c confCase, run confRun, ex []capture.Exchange) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  scenario:  %s\n  opened:    %s\n", c.q, where)
	br := run.Browser
	fmt.Fprintf(&b, "  browser:   ok=%v status=%d type=%q redirected=%v error=%q headers=%v\n",
		br.OK, br.Status, br.Type, br.Redirected, br.Error, browserHeaderNames(br))
	if v := run.Verdict; v == nil {
		b.WriteString("  verdict:   (none)\n")
	} else {
		fmt.Fprintf(&b, "  verdict:   ok=%v browser=%q agrees=%v stage=%q failedSeq=%d exposed=%v\n",
			v.OK, v.Browser, v.Agrees, v.Stage, v.FailedSeq, v.Exposed)
		for _, s := range v.Steps {
			fmt.Fprintf(&b, "    step:    ok=%v stage=%s seq=%d %s (%s)", s.OK, s.Stage, s.Seq, s.Text, s.Spec)
			if s.Note != "" {
				fmt.Fprintf(&b, " note: %s", s.Note)
			}
			b.WriteString("\n")
		}
	}
	fmt.Fprintf(&b, "  exchanges: %s\n", summarize(ex))
	for _, e := range ex {
		fmt.Fprintf(&b, "  --- #%d %s\n%s\n%s\n", e.Seq, e.Kind, indentRaw(e.Raw.Request), indentRaw(e.Raw.Response))
	}
	return b.String()
}

// indentRaw shows a raw message's head (and at most 200 bytes of body),
// indented.
func indentRaw(raw string) string {
	head, body, _ := strings.Cut(raw, "\r\n\r\n")
	if len(body) > 200 {
		body = body[:200] + "…"
	}
	s := strings.TrimRight(head, "\r\n")
	if body != "" {
		s += "\n\n" + body
	}
	return "    " + strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\n    ")
}

// Used by cases: the users API's JSON bodies, and a logged-in session.
const (
	newUser    = `{"username":"neo","name":"Neo"}`
	credsEcho  = "request.credentials=include&api.allowOrigin=echo&api.allowCredentials=true"
	loginQuery = "request.method=POST&request.path=/login&" + credsEcho
)

// afterLogin is a case that first logs in (POST /login from app, with
// credentials, allowed: the api sets the login cookie), then runs steps in
// the same session.
func afterLogin(name string, steps ...confCase) confCase {
	return confCase{name: name, q: loginQuery, ok: true, status: 200, wire: "POST", origins: "{app}", then: steps}
}

func conformanceCases() []confCase {
	var cs []confCase
	add := func(c ...confCase) { cs = append(cs, c...) }
	add(originCases()...)
	add(nullOriginCases()...)
	add(frameCases()...)
	add(preflightTriggerCases()...)
	add(methodCases()...)
	add(forbiddenHeaderCases()...)
	add(allowHeadersCases()...)
	add(exposeCases()...)
	add(credentialsCases()...)
	add(preflightStatusCases()...)
	add(preflightCacheCases()...)
	add(redirectCases()...)
	add(cookieCases()...)
	add(s3Cases()...)
	add(filesCases()...)
	add(modeCases()...)
	add(lookalikeCases()...)
	add(doorCases()...)
	return cs
}

// What JS may read of GET /users across origins without
// Access-Control-Expose-Headers: the CORS-safelisted response headers it
// carries. The others it carries stay hidden.
var (
	usersSafelisted = []string{"cache-control", "content-type"}
	usersUnexposed  = []string{"date", "vary", "x-total-count"}
)

// refused is a GET /users from app that reached the api and whose answer
// the browser withheld from JS.
func refused(name, q string) confCase {
	return confCase{name: name, q: q, ok: false, stage: "response", wire: "GET", origins: "{app}"}
}

// allowed is a GET /users from app that JS read.
func allowed(name, q string) confCase {
	return confCase{name: name, q: q, ok: true, typ: "cors", status: 200, body: `"ada"`, wire: "GET", origins: "{app}",
		readable: usersSafelisted, hidden: []string{"x-total-count"}}
}

func originCases() []confCase {
	return []confCase{
		refused("no Access-Control-Allow-Origin: the GET reaches the api, JS gets nothing", ""),
		{name: "ACAO * lets JS read a GET, but only the safelisted response headers", q: "api.allowOrigin=*",
			ok: true, typ: "cors", status: 200, body: `"ada"`, wire: "GET", origins: "{app}", readable: usersSafelisted, hidden: usersUnexposed},
		allowed("ACAO echo reflects the app origin", "api.allowOrigin=echo"),
		allowed("ACAO naming the app origin exactly", "api.allowOrigin={app}"),
		refused("ACAO with a trailing slash does not match the origin", "api.allowOrigin={app}/"),
		refused("ACAO listing two origins, comma-separated, matches neither", "api.allowOrigin={app}, {evil}"),
		refused("ACAO with the right host and a wrong port", "api.allowOrigin=http://127.0.0.1:1"),
		refused("ACAO in upper case: origins are compared byte for byte", "api.allowOrigin=HTTP://127.0.0.1:{appPort}"),
		refused("ACAO null refuses a page that has a real origin", "api.allowOrigin=null"),
		{name: "ACAO naming app refuses evil", q: "request.from=evil&api.allowOrigin={app}", stage: "response", wire: "GET", origins: "{evil}"},
		allowed("allowlist, exact: the listed app origin is reflected", "api.allowOrigin=allowlist&api.allowlist={app}"),
		{name: "allowlist, exact: an unlisted evil origin gets no ACAO", q: "request.from=evil&api.allowOrigin=allowlist&api.allowlist={app}", stage: "response", wire: "GET", origins: "{evil}"},
		{name: "allowlist, suffix on the app's port keeps evil out", q: "request.from=evil&api.allowOrigin=allowlist&api.match=suffix&api.allowlist=:{appPort}", stage: "response", wire: "GET", origins: "{evil}"},
		{name: "allowlist, sloppy prefix http://127.0.0.1 lets evil in", q: "request.from=evil&api.allowOrigin=allowlist&api.match=prefix&api.allowlist=http://127.0.0.1", ok: true, wire: "GET", origins: "{evil}"},
		{name: "allowlist, unanchored regex 127.0.0.1 lets evil in", q: "request.from=evil&api.allowOrigin=allowlist&api.match=regex&api.allowlist=127.0.0.1", ok: true, wire: "GET", origins: "{evil}"},
		{name: "allowlist, anchored regex for the app keeps evil out", q: `request.from=evil&api.allowOrigin=allowlist&api.match=regex&api.allowlist=^http://127\.0\.0\.1:{appPort}$`, stage: "response", wire: "GET", origins: "{evil}"},
		{name: "a 404 with ACAO is readable: CORS is not about the status", q: "api.allowOrigin=echo&request.path=/users/999",
			ok: true, status: 404, body: "no such user", wire: "GET"},
	}
}

func nullOriginCases() []confCase {
	sb := "request.from=sandbox&"
	return []confCase{
		{name: "sandbox: Origin null, and without ACAO JS gets nothing", q: sb, stage: "response", wire: "GET", origins: "null"},
		{name: "sandbox: ACAO null matches the opaque origin", q: sb + "api.allowOrigin=null", ok: true, typ: "cors", status: 200, wire: "GET", origins: "null"},
		{name: "sandbox: ACAO * serves it", q: sb + "api.allowOrigin=*", ok: true, status: 200, wire: "GET", origins: "null"},
		{name: "sandbox: ACAO echo reflects null", q: sb + "api.allowOrigin=echo", ok: true, status: 200, wire: "GET", origins: "null"},
		{name: "sandbox: ACAO naming app, which served the frame, does not match", q: sb + "api.allowOrigin={app}", stage: "response", wire: "GET", origins: "null"},
		{name: "sandbox, credentials include: ACAO null with ACAC passes", q: sb + "request.credentials=include&api.allowOrigin=null&api.allowCredentials=true", ok: true, wire: "GET", origins: "null"},
		{name: "sandbox, credentials include: ACAO * is refused", q: sb + "request.credentials=include&api.allowOrigin=*&api.allowCredentials=true", stage: "response", wire: "GET", origins: "null"},
		{name: "sandbox, credentials include: echo with ACAC passes", q: sb + "request.credentials=include&api.allowOrigin=echo&api.allowCredentials=true", ok: true, wire: "GET", origins: "null"},
		{name: "sandbox: a preflighted PUT carries Origin null twice and passes with ACAO null", q: sb + "request.method=PUT&request.headers.X-User-Id=11&request.body=" + newUser + "&api.allowOrigin=null&api.allowMethods=PUT&api.allowHeaders=x-user-id",
			ok: true, status: 201, wire: "OPTIONS PUT", origins: "null null", acrm: "PUT", acrh: "x-user-id"},
		{name: "sandbox: a preflight answered with ACAO naming app fails", q: sb + "request.method=PUT&request.body=" + newUser + "&api.allowOrigin={app}&api.allowMethods=PUT",
			stage: "preflight", wire: "OPTIONS", origins: "null"},
	}
}

// simpleGET is a GET /users from app, with echo, that the given headers
// leave simple: no preflight, JS reads it.
func simpleGET(name string, headers map[string]string, sent map[string]string) confCase {
	return confCase{name: name, q: "api.allowOrigin=echo" + headerParams(headers), ok: true, status: 200, wire: "GET", origins: "{app}", sent: sent}
}

// preflightedGET is a GET /users from app, with echo but no ACAH, that the
// given headers make preflighted: the preflight asks for acrh and fails.
func preflightedGET(name string, headers map[string]string, acrh string) confCase {
	return confCase{name: name, q: "api.allowOrigin=echo" + headerParams(headers), stage: "preflight", wire: "OPTIONS", origins: "{app}", acrm: "GET", acrh: acrh}
}

// hdrs builds a header map from name, value pairs.
func hdrs(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// headerParams writes request headers as permalink parameters, in name
// order.
func headerParams(h map[string]string) string {
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(h)) {
		b.WriteString("&request.headers." + name + "=" + h[name])
	}
	return b.String()
}

// postWith is a POST /users of newUser from app, with echo, sending
// Content-Type ct ("" for fetch's default, text/plain;charset=UTF-8):
// simple, or preflighted and refused at the preflight.
func postWith(name, ct string, simple bool) confCase {
	q := "api.allowOrigin=echo&request.method=POST&request.body=" + newUser
	if ct != "" {
		q += "&request.headers.Content-Type=" + ct
	}
	if simple {
		want := ct
		if want == "" {
			want = "text/plain;charset=UTF-8"
		}
		return confCase{name: name, q: q, ok: true, status: 201, wire: "POST", origins: "{app}", lastBody: newUser,
			sent: map[string]string{"Content-Type": strings.TrimSpace(want)}}
	}
	return confCase{name: name, q: q, stage: "preflight", wire: "OPTIONS", origins: "{app}", acrm: "POST", acrh: "content-type"}
}

// caseVariants returns n spellings of name that differ only in letter
// case: fetch() keeps each as its own entry in the header list.
func caseVariants(name string, n int) []string {
	var out []string
	for mask := 0; len(out) < n; mask++ {
		b := []byte(strings.ToLower(name))
		for i, bit := 0, 0; i < len(b); i++ {
			if b[i] >= 'a' && b[i] <= 'z' {
				if mask&(1<<bit) != 0 {
					b[i] -= 'a' - 'A'
				}
				bit++
			}
		}
		out = append(out, string(b))
	}
	return out
}

// repeatedHeader sends name n times (in letter-case variants), each with a
// value of size bytes.
func repeatedHeader(name string, n, size int) map[string]string {
	h := map[string]string{}
	for i, v := range caseVariants(name, n) {
		h[v] = strings.Repeat(string(rune('a'+i)), size)
	}
	return h
}

func preflightTriggerCases() []confCase {
	long := func(prefix string, n int) string { return prefix + strings.Repeat("a", n-len(prefix)) }
	total := map[string]string{}
	for _, name := range []string{"Accept", "Accept-Language", "Content-Language"} {
		maps.Copy(total, repeatedHeader(name, 3, 128))
	}
	return []confCase{
		// Custom headers.
		preflightedGET("a custom header X-User-Id is preflighted, and without ACAH fails there", hdrs("X-User-Id", "11"), "x-user-id"),
		{name: "a custom header X-User-Id allowed by ACAH is sent after the preflight", q: "api.allowOrigin=echo&api.allowHeaders=x-user-id&request.headers.X-User-Id=11",
			ok: true, status: 200, wire: "OPTIONS GET", origins: "{app} {app}", acrm: "GET", acrh: "x-user-id", sent: map[string]string{"X-User-Id": "11"}},
		{name: "two custom headers are asked for sorted and lower-case; ACAH naming one fails", q: "api.allowOrigin=echo&api.allowHeaders=X-A&request.headers.X-B=1&request.headers.X-A=2",
			stage: "preflight", wire: "OPTIONS", acrh: "x-a,x-b"},
		{name: "two custom headers, both in ACAH", q: "api.allowOrigin=echo&api.allowHeaders=x-b, x-a&request.headers.X-B=1&request.headers.X-A=2",
			ok: true, wire: "OPTIONS GET", acrh: "x-a,x-b", sent: map[string]string{"X-A": "2", "X-B": "1"}},

		// Content-Type.
		postWith("POST with fetch's default text/plain;charset=UTF-8 is simple", "", true),
		postWith("POST with Content-Type text/plain is simple", "text/plain", true),
		postWith("POST with Content-Type application/x-www-form-urlencoded is simple", "application/x-www-form-urlencoded", true),
		postWith("POST with Content-Type multipart/form-data is simple", "multipart/form-data", true),
		postWith("POST with Content-Type text/plain; charset=utf-8 is simple", "text/plain; charset=utf-8", true),
		postWith("POST with TEXT/Plain: MIME types are case-insensitive", "TEXT/Plain", true),
		postWith("POST with Content-Type application/json is preflighted", "application/json", false),
		postWith("POST with two MIME types comma-separated does not parse: preflighted", "text/plain, application/json", false),
		postWith(`POST with text/plain; charset="utf-8": a quote is a CORS-unsafe byte`, `text/plain; charset="utf-8"`, false),
		postWith("POST with text/plain and a ( in a parameter: CORS-unsafe byte", "text/plain; a=(b)", false),
		postWith("POST with a 129-byte text/plain value is preflighted", long("text/plain; a=", 129), false),

		// The other safelisted request headers.
		simpleGET("Accept with a 128-byte value is safelisted", hdrs("Accept", long("", 128)), nil),
		preflightedGET("Accept with a 129-byte value is preflighted", hdrs("Accept", long("", 129)), "accept"),
		preflightedGET("Accept with { and }, CORS-unsafe bytes, is preflighted", hdrs("Accept", "application/{json}"), "accept"),
		simpleGET("Accept-Language: en-US,en;q=0.9 is safelisted", hdrs("Accept-Language", "en-US,en;q=0.9"), hdrs("Accept-Language", "en-US,en;q=0.9")),
		preflightedGET("Accept-Language with ( is preflighted", hdrs("Accept-Language", "en (US)"), "accept-language"),
		preflightedGET("Accept-Language with a 129-byte value is preflighted", hdrs("Accept-Language", long("", 129)), "accept-language"),
		simpleGET("Content-Language: de-DE is safelisted", hdrs("Content-Language", "de-DE"), hdrs("Content-Language", "de-DE")),
		preflightedGET("Content-Language with a 129-byte value is preflighted", hdrs("Content-Language", long("", 129)), "content-language"),
		preflightedGET("safelisted values totalling more than 1024 bytes are all preflighted", total, "accept,accept-language,content-language").
			departs("NoSafelistedTotal", func(c *confCase) {
				c.ok, c.stage, c.status, c.wire, c.acrm, c.acrh = true, "", 200, "GET", "", ""
			}, browsertest.Firefox),
		// The standard checks each header-list entry: two Accept entries
		// of 100 bytes are both safelisted, 200 bytes in all is under
		// 1024, so no preflight. An engine that checks the combined value,
		// `aaa…, bbb…` (202 bytes > 128), preflights.
		simpleGET("Accept given twice, 100 bytes each: each entry is safelisted, 200 bytes in all", repeatedHeader("Accept", 2, 100), nil).
			departs("CombinesHeaderValues", func(c *confCase) {
				*c = preflightedGET(c.name, repeatedHeader("Accept", 2, 100), "accept")
			}, browsertest.Chromium, browsertest.WebKit),
		simpleGET("Accept given twice, short values, goes out as one combined header", hdrs("Accept", "text/html", "accept", "application/json"), hdrs("Accept", "text/html, application/json")),

		// Range.
		simpleGET("Range: bytes=0-10, a single range, is safelisted", hdrs("Range", "bytes=0-10"), hdrs("Range", "bytes=0-10")),
		preflightedGET("Range with two ranges is preflighted", hdrs("Range", "bytes=0-10,20-30"), "range"),
		preflightedGET("Range: bytes=-5, a suffix range, is preflighted", hdrs("Range", "bytes=-5"), "range"),
	}
}

// method is a request with the given method from app to path, with echo
// and Access-Control-Allow-Methods acam (and anything in extra).
func method(name, m, path, acam, extra string) confCase {
	q := "api.allowOrigin=echo&request.method=" + m + "&request.path=" + path
	if acam != "" {
		q += "&api.allowMethods=" + acam
	}
	return confCase{name: name, q: q + extra, origins: "{app} {app}"}
}

// passes says JS gets the response, with this status, after these
// requests.
func (c confCase) passes(status int, wire string) confCase {
	c.ok, c.status, c.wire = true, status, wire
	return c
}

// failsAt says the fetch fails at stage, after these requests (and keeps
// only as many expected Origin headers as there are requests).
func (c confCase) failsAt(stage, wire string) confCase {
	c.ok, c.stage, c.wire = false, stage, wire
	if o, n := strings.Fields(c.origins), len(strings.Fields(wire)); len(o) > n {
		c.origins = strings.Join(o[:n], " ")
	}
	return c
}

// asks says what the first request, a preflight, asks for.
func (c confCase) asks(acrm, acrh string) confCase {
	c.acrm, c.acrh = acrm, acrh
	return c
}

func methodCases() []confCase {
	body := "&request.body=" + newUser
	patch := `&request.body={"name":"Ada"}`
	creds := "&request.credentials=include&api.allowCredentials=true"
	return []confCase{
		{name: "HEAD is a safelisted method: no preflight", q: "api.allowOrigin=*&request.method=HEAD", ok: true, status: 200, wire: "HEAD", origins: "{app}"},
		method("PUT is preflighted; without ACAM it fails there", "PUT", "/users", "", body).failsAt("preflight", "OPTIONS").asks("PUT", "-"),
		method("PUT allowed by ACAM PUT", "PUT", "/users", "PUT", body).passes(201, "OPTIONS PUT").asks("PUT", "-"),
		method("put in lower case is normalised to PUT, and ACAM PUT allows it", "put", "/users", "PUT", body).passes(201, "OPTIONS PUT").asks("PUT", ""),
		method("PUT against ACAM put: methods are compared case-sensitively", "PUT", "/users", "put", body).failsAt("preflight", "OPTIONS").asks("PUT", ""),
		method("PUT against ACAM with an invalid entry beside PUT: the header does not parse", "PUT", "/users", "PUT, (bad)", body).failsAt("preflight", "OPTIONS"),
		method("DELETE allowed by ACAM DELETE", "DELETE", "/users/3", "DELETE", "").passes(204, "OPTIONS DELETE").asks("DELETE", ""),
		method("PATCH allowed by ACAM PATCH", "PATCH", "/users/1", "PATCH", patch).passes(200, "OPTIONS PATCH").asks("PATCH", ""),
		method("PATCH against ACAM patch fails", "PATCH", "/users/1", "patch", patch).failsAt("preflight", "OPTIONS").asks("PATCH", ""),
		method("patch in lower case is not normalised: ACAM PATCH does not allow it", "patch", "/users/1", "PATCH", patch).failsAt("preflight", "OPTIONS").asks("patch", ""),
		method("patch in lower case, ACAM patch: sent as patch, which the api does not know", "patch", "/users/1", "patch", patch).passes(405, "OPTIONS patch").asks("patch", ""),
		method("a custom method FOO allowed by ACAM FOO", "FOO", "/users", "FOO", "").passes(405, "OPTIONS FOO").asks("FOO", ""),
		method("PUT, ACAM * without credentials", "PUT", "/users", "*", body).passes(201, "OPTIONS PUT"),
		method("PUT, ACAM * with credentials: * is a method name then", "PUT", "/users", "*", body+creds).failsAt("preflight", "OPTIONS"),
		method("PUT, ACAM *, PUT with credentials", "PUT", "/users", "*, PUT", body+creds).passes(201, "OPTIONS PUT"),
		method("OPTIONS from fetch() is preflighted, then sent as a plain OPTIONS", "OPTIONS", "/users", "OPTIONS", "").passes(405, "OPTIONS OPTIONS").asks("OPTIONS", ""),
		method("POST with a custom header needs no ACAM: POST is safelisted", "POST", "/users", "", body+"&request.headers.X-User-Id=11&api.allowHeaders=x-user-id").passes(201, "OPTIONS POST").asks("POST", "x-user-id"),
	}
}

func forbiddenHeaderCases() []confCase {
	return []confCase{
		simpleGET("Cookie set by the page is dropped, and does not trigger a preflight", hdrs("Cookie", "a=b"), hdrs("Cookie", "-")),
		simpleGET("Origin set by the page is dropped: the browser's own goes out", hdrs("Origin", "{evil}"), hdrs("Origin", "{app}")),
		simpleGET("Referer set by the page is ignored: the browser sends its own", hdrs("Referer", "http://example.com/"), hdrs("Referer", "!http://example.com/")),
		simpleGET("a Sec- prefixed header set by the page is dropped", hdrs("Sec-Custom", "1"), hdrs("Sec-Custom", "-")),
		simpleGET("X-HTTP-Method-Override naming a forbidden method is dropped", hdrs("X-HTTP-Method-Override", "TRACE"), hdrs("X-HTTP-Method-Override", "-")),
		preflightedGET("X-HTTP-Method-Override naming PUT is an ordinary custom header", hdrs("X-HTTP-Method-Override", "PUT"), "x-http-method-override"),
	}
}

// withHeaders is a GET /users from app carrying headers (permalink
// parameters), with echo and Access-Control-Allow-Headers acah.
func withHeaders(name, headers, acah, extra string) confCase {
	return confCase{name: name, q: "api.allowOrigin=echo&api.allowHeaders=" + acah + headers + extra, origins: "{app} {app}"}
}

// cookieWent: the case's last step, /me after a login, carried the login
// cookie, so the api knew the learner.
func cookieWent(c *confCase) {
	last := &c.then[len(c.then)-1]
	last.cookies, last.status, last.body = "y", 200, `"ada"`
}

// passesAfterPreflight: the GET /users that a case expected to fail at its
// preflight is sent after it, and JS reads it.
func passesAfterPreflight(c *confCase) {
	c.ok, c.stage, c.status, c.wire, c.origins = true, "", 200, "OPTIONS GET", "{app} {app}"
}

func allowHeadersCases() []confCase {
	const (
		userID = "&request.headers.X-User-Id=11"
		other  = "&request.headers.X-Other=1"
		auth   = "&request.headers.Authorization=Bearer abc"
		creds  = "&request.credentials=include&api.allowCredentials=true"
	)
	return []confCase{
		withHeaders("ACAH is case-insensitive: X-USER-ID allows x-user-id", userID, "X-USER-ID", "").passes(200, "OPTIONS GET"),
		withHeaders("ACAH * allows any header without credentials", userID, "*", "").passes(200, "OPTIONS GET"),
		withHeaders("ACAH * with credentials is a header named *: refused", userID, "*", creds).failsAt("preflight", "OPTIONS"),
		withHeaders("ACAH *, x-user-id with credentials", userID, "*, x-user-id", creds).passes(200, "OPTIONS GET"),
		withHeaders("ACAH * and Authorization", auth, "*", "").failsAt("preflight", "OPTIONS").asks("GET", "authorization").
			departs("WildcardCoversAuthorization", passesAfterPreflight, browsertest.Chromium, browsertest.Firefox, browsertest.WebKit),
		withHeaders("ACAH authorization allows Authorization", auth, "authorization", "").passes(200, "OPTIONS GET"),
		withHeaders("ACAH * with Authorization and X-User-Id", auth+userID, "*", "").failsAt("preflight", "OPTIONS").asks("GET", "authorization,x-user-id").
			departs("WildcardCoversAuthorization", passesAfterPreflight, browsertest.Chromium, browsertest.Firefox, browsertest.WebKit),
		withHeaders("ACAH echo mirrors the requested headers", userID+other, "echo", "").passes(200, "OPTIONS GET").asks("GET", "x-other,x-user-id"),
		withHeaders("ACAH with a name that is not a token does not parse", userID, "x-user-id, bad header", "").failsAt("preflight", "OPTIONS"),
		{name: "a POST with Content-Type application/json allowed by ACAH content-type", q: "api.allowOrigin=echo&api.allowHeaders=Content-Type&request.method=POST&request.headers.Content-Type=application/json&request.body=" + newUser,
			ok: true, status: 201, wire: "OPTIONS POST", origins: "{app} {app}", acrm: "POST", acrh: "content-type", sent: map[string]string{"Content-Type": "application/json"}},
	}
}

// exposing is a GET /users from app with echo and
// Access-Control-Expose-Headers aceh.
func exposing(name, aceh, extra string, readable, hidden []string) confCase {
	return confCase{name: name, q: "api.allowOrigin=echo&api.exposeHeaders=" + aceh + extra, ok: true, typ: "cors", status: 200, wire: "GET", origins: "{app}",
		readable: readable, hidden: hidden}
}

func exposeCases() []confCase {
	const creds = "&request.credentials=include&api.allowCredentials=true"
	total := []string{"x-total-count"}
	return []confCase{
		exposing("without ACEH, X-Total-Count, Vary and Date stay hidden", "", "", usersSafelisted, usersUnexposed),
		exposing("ACEH X-Total-Count exposes it, and only it", "X-Total-Count", "", append(total, usersSafelisted...), []string{"date", "vary"}),
		exposing("ACEH X-TOTAL-COUNT in upper case", "X-TOTAL-COUNT", "", total, nil),
		exposing("ACEH * exposes every header without credentials", "*", "", []string{"date", "vary", "x-total-count"}, nil),
		exposing("ACEH * with credentials is a header named *", "*", creds, usersSafelisted, usersUnexposed),
		exposing("ACEH *, X-Total-Count with credentials exposes X-Total-Count only", "*, X-Total-Count", creds, total, []string{"date", "vary"}),
		exposing("ACEH with a name that is not a token does not parse: nothing exposed", "X-Total-Count, bad header", "", nil, total),
		{name: "ACEH Set-Cookie never exposes Set-Cookie", q: loginQuery + "&api.exposeHeaders=Set-Cookie", ok: true, status: 200, wire: "POST", hidden: []string{"set-cookie"}},
		{name: "ACEH * never exposes Set-Cookie", q: "request.method=POST&request.path=/login&api.allowOrigin=echo&api.exposeHeaders=*", ok: true, status: 200, wire: "POST",
			readable: []string{"date", "vary"}, hidden: []string{"set-cookie"}},
		{name: "same-origin (from api): every header but Set-Cookie is readable without CORS", q: "request.from=api", ok: true, typ: "basic", status: 200, wire: "GET", origins: "-",
			readable: []string{"cache-control", "content-type", "date", "vary", "x-total-count"}},
	}
}

func credentialsCases() []confCase {
	const body = "&request.body=" + newUser
	return []confCase{
		refused("ACAO * with credentials include and ACAC: refused", "api.allowOrigin=*&request.credentials=include&api.allowCredentials=true"),
		refused("ACAO * with credentials include, no ACAC: refused", "api.allowOrigin=*&request.credentials=include"),
		allowed("ACAO echo with credentials include and ACAC", "api.allowOrigin=echo&request.credentials=include&api.allowCredentials=true"),
		refused("ACAO echo with credentials include, no ACAC: refused", "api.allowOrigin=echo&request.credentials=include"),
		allowed("ACAC is irrelevant without include: echo, same-origin, no ACAC", "api.allowOrigin=echo&request.credentials=same-origin"),
		method("credentials include: a preflighted PUT with echo, ACAC and ACAM", "PUT", "/users", "PUT", body+"&request.credentials=include&api.allowCredentials=true").passes(201, "OPTIONS PUT"),
		method("credentials include: the preflight without ACAC fails", "PUT", "/users", "PUT", body+"&request.credentials=include").failsAt("preflight", "OPTIONS"),
		// ACAC must be exactly "true": extra headers send other spellings.
		allowed("ACAC true, sent as an extra header", "api.allowOrigin=echo&request.credentials=include&api.extraHeaders.Access-Control-Allow-Credentials=true"),
		refused("ACAC True with include: refused", "api.allowOrigin=echo&request.credentials=include&api.extraHeaders.Access-Control-Allow-Credentials=True"),
		refused("ACAC TRUE with include: refused", "api.allowOrigin=echo&request.credentials=include&api.extraHeaders.Access-Control-Allow-Credentials=TRUE"),
		refused("ACAC 1 with include: refused", "api.allowOrigin=echo&request.credentials=include&api.extraHeaders.Access-Control-Allow-Credentials=1"),
		refused("ACAC true, true (two values) with include: refused", "api.allowOrigin=echo&request.credentials=include&api.extraHeaders.Access-Control-Allow-Credentials=true, true"),
		allowed("ACAC TRUE without include: irrelevant", "api.allowOrigin=echo&api.extraHeaders.Access-Control-Allow-Credentials=TRUE"),
	}
}

func preflightStatusCases() []confCase {
	var cs []confCase
	for _, status := range []int{200, 204, 299, 301, 302, 307, 400, 404, 500} {
		c := method("", "PUT", "/users", "PUT", "&request.body="+newUser+"&api.preflightStatus="+strconv.Itoa(status))
		if status < 300 {
			c = c.passes(201, "OPTIONS PUT")
			c.name = fmt.Sprintf("a preflight answered %d, a 2xx, passes", status)
		} else {
			c = c.failsAt("preflight", "OPTIONS")
			c.name = fmt.Sprintf("a preflight answered %d fails: only 2xx is ok", status)
			if status < 400 {
				c.name = fmt.Sprintf("a preflight answered %d, a redirected preflight without Location, fails", status)
			}
		}
		cs = append(cs, c)
	}
	return cs
}

// The preflight cases run several times in one session. Each run opens
// the lab afresh (a page load, the runner frame, the fetch), which takes
// about a second here and can take a few on a loaded machine:
//   - with Max-Age 0 or 600 the timing does not matter;
//   - with no Max-Age the cache holds a preflight for 5 seconds, so the
//     second run must start within that; "within" makes the step
//     unjudgeable (logged, not failed) if more than 4 seconds passed
//     since the preflight's request, which is earlier than the moment
//     the browser cached its answer.
//
// againAt: the case's later step i, which the standard serves from the
// preflight cache, sends a new OPTIONS first.
func againAt(i int) func(c *confCase) {
	return func(c *confCase) { c.then[i] = *c.then[i].preflightedAgain() }
}

func preflightCacheCases() []confCase {
	const (
		put    = "api.allowOrigin=echo&api.allowMethods=PUT&request.method=PUT&request.path=/users/1&request.body={\"name\":\"Ada\",\"username\":\"ada\"}"
		patch  = "api.allowOrigin=echo&api.allowMethods=PATCH&request.method=PATCH&request.path=/users/1&request.body={\"name\":\"Ada\"}"
		cached = "&api.maxAge=600"
		creds  = "&api.allowCredentials=true&request.credentials="
	)
	// run is a later step; without OPTIONS, it relies on the cache.
	run := func(q, wire string) confCase {
		return confCase{q: q, ok: true, status: 200, wire: wire, cached: !strings.HasPrefix(wire, "OPTIONS")}
	}
	return []confCase{
		confCase{name: "preflight cache: without Max-Age it holds 5 s, so a second run at once sends no OPTIONS",
			q: put, ok: true, status: 200, wire: "OPTIONS PUT",
			then: []confCase{{q: put, ok: true, status: 200, wire: "PUT", cached: true, within: 4 * time.Second}}}.
			departs("NoDefaultMaxAge", againAt(0), browsertest.Firefox),
		confCase{name: "preflight cache: Max-Age abc is not a number of seconds: the default 5 s",
			q: put + "&api.extraHeaders.Access-Control-Max-Age=abc", ok: true, status: 200, wire: "OPTIONS PUT",
			then: []confCase{{q: put + "&api.extraHeaders.Access-Control-Max-Age=abc", ok: true, status: 200, wire: "PUT", cached: true, within: 4 * time.Second}}}.
			departs("NoDefaultMaxAge", againAt(0), browsertest.Firefox),
		// -1 is not a number of seconds (delta-seconds), so the standard
		// caches the preflight for the default 5 s.
		confCase{name: "preflight cache: Max-Age -1",
			q: put + "&api.maxAge=-1", ok: true, status: 200, wire: "OPTIONS PUT",
			then: []confCase{{q: put + "&api.maxAge=-1", ok: true, status: 200, wire: "PUT", cached: true, within: 4 * time.Second}}}.
			departs("NegativeMaxAgeIsZero", againAt(0), browsertest.Chromium, browsertest.Firefox, browsertest.WebKit),
		// Lesson 6's stale grant: the cached preflight lets the PUT out
		// after the api stopped allowing the origin; only its answer fails.
		{name: "preflight cache: a cached grant outlives the api's change: the PUT is sent, its answer refused",
			q: put + "&api.maxAge=600", ok: true, status: 200, wire: "OPTIONS PUT",
			then: []confCase{{q: strings.Replace(put, "api.allowOrigin=echo", "api.allowOrigin=", 1) + "&api.maxAge=600", stage: "response", wire: "PUT", cached: true, staleFails: true}}},
		{name: "preflight cache: Max-Age 0 preflights every run",
			q: put + "&api.maxAge=0", ok: true, status: 200, wire: "OPTIONS PUT",
			then: []confCase{run(put+"&api.maxAge=0", "OPTIONS PUT")}},
		{name: "preflight cache: Max-Age 600 holds it; a header it did not cover is preflighted",
			q: put + cached + "&api.allowHeaders=x-user-id&request.headers.X-User-Id=11", ok: true, status: 200, wire: "OPTIONS PUT",
			then: []confCase{
				run(put+cached+"&api.allowHeaders=x-user-id&request.headers.X-User-Id=11", "PUT"),
				run(put+cached+"&api.allowHeaders=x-other&request.headers.X-Other=1", "OPTIONS PUT"),
			}},
		// The standard keeps one cache entry per header name and per
		// method, so after the preflight for X-B (or PATCH) the entry for
		// X-A (or PUT), Max-Age 600, still serves: no OPTIONS.
		confCase{name: "preflight cache: after preflights for X-A then X-B, X-A again",
			q: put + cached + "&api.allowHeaders=echo&request.headers.X-A=1", ok: true, status: 200, wire: "OPTIONS PUT",
			then: []confCase{
				run(put+cached+"&api.allowHeaders=echo&request.headers.X-B=1", "OPTIONS PUT"),
				run(put+cached+"&api.allowHeaders=echo&request.headers.X-A=1", "PUT"),
			}}.departs("CacheOneEntryPerURL", againAt(1), browsertest.Chromium, browsertest.WebKit),
		confCase{name: "preflight cache: after preflights for PUT then PATCH, PUT again",
			q: put + cached, ok: true, status: 200, wire: "OPTIONS PUT",
			then: []confCase{
				run(patch+cached, "OPTIONS PATCH"),
				run(put+cached, "PUT"),
			}}.departs("CacheOneEntryPerURL", againAt(1), browsertest.Chromium, browsertest.WebKit),
		confCase{name: "preflight cache: a cached ACAM * covers another method",
			q: put + cached + "&api.allowMethods=*", ok: true, status: 200, wire: "OPTIONS PUT",
			then: []confCase{run(patch+cached+"&api.allowMethods=*", "PATCH")}}.
			departs("CacheWildcardLiteral", againAt(0), browsertest.Firefox),
		confCase{name: "preflight cache: a cached ACAH * covers another header",
			q: put + cached + "&api.allowHeaders=*&request.headers.X-A=1", ok: true, status: 200, wire: "OPTIONS PUT",
			then: []confCase{run(put+cached+"&api.allowHeaders=*&request.headers.X-B=1", "PUT")}}.
			departs("CacheWildcardLiteral", againAt(0), browsertest.Firefox),
		confCase{name: "preflight cache: an entry made without credentials does not serve include",
			q: put + cached + creds + "same-origin", ok: true, status: 200, wire: "OPTIONS PUT",
			then: []confCase{
				run(put+cached+creds+"include", "OPTIONS PUT"),
				run(put+cached+creds+"same-origin", "PUT"),
			}},
		confCase{name: "preflight cache: an entry made with include also serves omit",
			q: put + cached + creds + "include", ok: true, status: 200, wire: "OPTIONS PUT",
			then: []confCase{run(put+cached+creds+"omit", "PUT")}}.
			departs("CacheCredentialsExact", againAt(0), browsertest.Firefox),
		{name: "preflight cache: keyed on the URL, so another query string is preflighted",
			q: put + cached, ok: true, status: 200, wire: "OPTIONS PUT",
			then: []confCase{run(put+cached+"&request.path=/users/1?v=2", "OPTIONS PUT")}},
		{name: "preflight cache: keyed on the origin, so evil is preflighted after app",
			q: put + cached, ok: true, status: 200, wire: "OPTIONS PUT",
			then: []confCase{{q: put + cached + "&request.from=evil", ok: true, status: 200, wire: "OPTIONS PUT", origins: "{evil} {evil}"}}},
		// The standard caches preflights for an opaque origin like any
		// other (the cache key holds the serialized origin, `null`), so a
		// second run from a sandboxed frame, the same one or a reloaded
		// one, with Max-Age 600 sends no OPTIONS.
		confCase{name: "preflight cache: Origin null, run again in the same sandboxed frame",
			q: put + cached + "&request.from=sandbox", ok: true, status: 200, wire: "OPTIONS PUT", origins: "null null",
			then: []confCase{{click: true, ok: true, status: 200, wire: "PUT", origins: "null", cached: true}}}.
			departs("NoCacheForOpaqueOrigin", againAt(0), browsertest.Chromium),
		confCase{name: "preflight cache: Origin null, in a reloaded sandboxed frame",
			q: put + cached + "&request.from=sandbox", ok: true, status: 200, wire: "OPTIONS PUT", origins: "null null",
			then: []confCase{{q: put + cached + "&request.from=sandbox", ok: true, status: 200, wire: "PUT", origins: "null", cached: true}}}.
			departs("NoCacheForOpaqueOrigin", againAt(0), browsertest.Chromium).
			departs("OpaqueCachePerDocument", againAt(0), browsertest.WebKit),
	}
}

// Bucket CORS rules for the cases that reach s3. bucketAny allows any
// origin, the methods the cases use and any header: S3 answers it with
// ACAO *, never with credentials. bucketGet allows GET and no header.
const (
	bucketAny = "&bucket.cors.0.allowedOrigins=*&bucket.cors.0.allowedMethods=GET&bucket.cors.0.allowedMethods=PUT" +
		"&bucket.cors.0.allowedMethods=POST&bucket.cors.0.allowedHeaders=*"
	bucketGet = "&bucket.cors.0.allowedOrigins=*&bucket.cors.0.allowedMethods=GET"
)

func redirectCases() []confCase {
	var cs []confCase
	const hello = "Hello from corslab"
	for _, s := range []string{"301", "302", "303", "307", "308"} {
		keep := s == "307" || s == "308"
		cs = append(cs,
			confCase{name: "redirect " + s + ", GET, api to api: Origin kept", q: "api.allowOrigin=echo&request.path=/redirect/" + s + "/api/users",
				ok: true, typ: "cors", status: 200, body: `"ada"`, wire: "GET GET", origins: "{app} {app}"},
			confCase{name: "redirect " + s + ", GET, api to s3: the hop carries Origin null", q: "api.allowOrigin=echo&request.path=/redirect/" + s + "/s3/hello.txt" + bucketAny,
				ok: true, typ: "cors", status: 200, body: hello, wire: "GET GET", origins: "{app} null"},
		)
		post := confCase{name: "redirect " + s + ", POST, api to api", q: "api.allowOrigin=echo&request.method=POST&request.body=" + newUser + "&request.path=/redirect/" + s + "/api/users",
			ok: true, origins: "{app} {app}"}
		post2 := confCase{name: "redirect " + s + ", POST, api to s3", q: "api.allowOrigin=echo&request.method=POST&request.body=" + newUser + "&request.path=/redirect/" + s + "/s3/hello.txt" + bucketAny,
			ok: true, origins: "{app} null"}
		if keep {
			post.name += ": stays a POST, with its body"
			post.wire, post.status, post.lastBody = "POST POST", 201, newUser
			post2.name += ": stays a POST, with its body, with Origin null"
			post2.wire, post2.lastBody = "POST POST", newUser
		} else {
			post.name += ": becomes a GET without a body"
			post.wire, post.status, post.lastBody, post.body = "POST GET", 200, "-", `"ada"`
			post2.name += ": becomes a GET, with Origin null"
			post2.wire, post2.status, post2.lastBody, post2.body = "POST GET", 200, "-", hello
		}
		cs = append(cs, post, post2)
	}
	hops := func(n int) string { return strings.Repeat("/redirect/302/api", n) + "/users" }
	gets := func(n int) string { return strings.TrimSpace(strings.Repeat("GET ", n)) }
	put := "api.allowOrigin=echo&api.allowMethods=PUT&request.method=PUT&request.body=" + newUser
	return append(cs,
		confCase{name: "redirect with credentials to s3: tainted Origin null, ACAO * and include fail",
			q: credsEcho + "&request.path=/redirect/302/s3/hello.txt" + bucketAny, stage: "response", wire: "GET GET", origins: "{app} null"},
		confCase{name: "a redirect without ACAO fails its CORS check: not followed",
			q: "request.path=/redirect/302/api/users", stage: "redirect", wire: "GET", origins: "{app}"},
		confCase{name: "redirect mode error: the first redirect fails the fetch",
			q: "api.allowOrigin=echo&request.redirect=error&request.path=/redirect/302/api/users", stage: "redirect", wire: "GET", origins: "{app}"},
		confCase{name: "redirect mode manual: an opaque redirect, JS sees nothing",
			q: "api.allowOrigin=echo&request.redirect=manual&request.path=/redirect/302/api/users", typ: "opaqueredirect", status: 0, wire: "GET", origins: "{app}"},
		confCase{name: "redirect mode manual without ACAO: the CORS check comes first, a network error",
			q: "request.redirect=manual&request.path=/redirect/302/api/users", typ: "", stage: "redirect", wire: "GET", origins: "{app}"},
		confCase{name: "a chain api to api to s3: only the cross-origin hop taints",
			q: "api.allowOrigin=echo&request.path=/redirect/302/api/redirect/302/s3/hello.txt" + bucketAny, ok: true, status: 200, body: hello, wire: "GET GET GET", origins: "{app} {app} null"},
		confCase{name: "20 redirects are followed",
			q: "api.allowOrigin=echo&request.path=" + hops(20), ok: true, status: 200, body: `"ada"`, wire: gets(21)},
		confCase{name: "the 21st redirect fails the fetch",
			q: "api.allowOrigin=echo&request.path=" + hops(21), stage: "redirect", wire: gets(21)},
		confCase{name: "from the api's own page to s3: not tainted, the hop carries Origin api",
			q: "request.from=api&request.path=/redirect/302/s3/hello.txt" + bucketAny, ok: true, typ: "cors", status: 200, body: hello, wire: "GET GET", origins: "- {api}"},
		confCase{name: "mode same-origin from the api's own page, redirected to s3: fails at the hop",
			q: "request.from=api&request.mode=same-origin&request.path=/redirect/302/s3/hello.txt" + bucketAny, stage: "redirect", wire: "GET", origins: "-"},
		confCase{name: "a preflighted PUT redirected 307 api to api is preflighted again",
			q: put + "&request.path=/redirect/307/api/users", ok: true, status: 201, wire: "OPTIONS PUT OPTIONS PUT", origins: "{app} {app} {app} {app}"},
		confCase{name: "a preflighted PUT redirected 307 to s3: the second preflight carries Origin null",
			q: put + "&request.path=/redirect/307/s3/hello.txt" + bucketAny, ok: true, status: 200, wire: "OPTIONS PUT OPTIONS PUT", origins: "{app} {app} null null"}.
			departs("PreflightOriginUntainted", func(c *confCase) { c.origins = "{app} {app} {app} null" }, browsertest.Firefox),
		// The signed-URL story: a credentialed JSON POST that a 307 sends
		// on to the bucket, whose rule names null, the tainted origin.
		confCase{name: "a credentialed JSON POST redirected 307 to s3 with a null rule: the second preflight carries Origin null",
			q: credsEcho + "&api.allowMethods=POST&api.allowHeaders=content-type&request.method=POST&request.headers.Content-Type=application/json&request.body=" + newUser +
				"&request.path=/redirect/307/s3/hello.txt&bucket.cors.0.allowedOrigins=null&bucket.cors.0.allowedMethods=POST&bucket.cors.0.allowedHeaders=content-type",
			ok: true, wire: "OPTIONS POST OPTIONS POST", origins: "{app} {app} null null"}.
			departs("PreflightOriginUntainted", func(c *confCase) {
				c.ok, c.stage, c.wire, c.origins = false, "preflight", "OPTIONS POST OPTIONS", "{app} {app} {app}"
			}, browsertest.Firefox),
		confCase{name: "the same POST with bucket rules for null and for app: passes in every engine",
			q: credsEcho + "&api.allowMethods=POST&api.allowHeaders=content-type&request.method=POST&request.headers.Content-Type=application/json&request.body=" + newUser +
				"&request.path=/redirect/307/s3/hello.txt&bucket.cors.0.allowedOrigins=null&bucket.cors.0.allowedOrigins={app}&bucket.cors.0.allowedMethods=POST&bucket.cors.0.allowedHeaders=content-type",
			ok: true, wire: "OPTIONS POST OPTIONS POST", origins: "{app} {app} null null"}.
			departs("PreflightOriginUntainted", func(c *confCase) { c.origins = "{app} {app} {app} null" }, browsertest.Firefox),
		confCase{name: "a preflighted PUT redirected 303 becomes a simple GET",
			q: put + "&request.path=/redirect/303/api/users", ok: true, status: 200, wire: "OPTIONS PUT GET", origins: "{app} {app} {app}"}.
			departs("PreflightAfterRedirect", func(c *confCase) {
				c.wire, c.origins = "OPTIONS PUT OPTIONS GET", "{app} {app} {app} {app}"
			}, browsertest.Firefox, browsertest.WebKit),
		confCase{name: "a POST with a custom header redirected 303 becomes a GET that keeps the header",
			q:  "api.allowOrigin=echo&api.allowHeaders=x-user-id&request.method=POST&request.headers.X-User-Id=11&request.body=" + newUser + "&request.path=/redirect/303/api/users",
			ok: true, status: 200, wire: "OPTIONS POST OPTIONS GET", sent: map[string]string{"X-User-Id": "11"}},
		confCase{name: "a GET with a custom header redirected to s3, whose preflight does not allow it",
			q:     "api.allowOrigin=echo&api.allowHeaders=x-user-id&request.headers.X-User-Id=11&request.path=/redirect/302/s3/hello.txt" + bucketGet,
			stage: "preflight", wire: "OPTIONS GET OPTIONS", origins: "{app} {app} null"}.
			departs("PreflightOriginUntainted", func(c *confCase) { c.origins = "{app} {app} {app}" }, browsertest.Firefox),
	)
}

// s3Cases fetch objects of the session's bucket straight from the app
// origin's page, against the bucket's own CORS rules (see
// shared/reference/s3-cors.md for how S3 answers).
func s3Cases() []confCase {
	const hello = "Hello from corslab"
	get := "request.target=s3&request.path=/hello.txt"
	put := "request.target=s3&request.method=PUT&request.path=/upload.txt&request.body=hi"
	rule := func(origin, method string) string {
		return "&bucket.cors.0.allowedOrigins=" + origin + "&bucket.cors.0.allowedMethods=" + method
	}
	return []confCase{
		{name: "s3: a bucket without CORS rules answers 200 without ACAO: blocked", q: get,
			stage: "response", wire: "GET", origins: "{app}"},
		{name: "s3: a rule naming app: ACAO app, and ACAC true", q: get + rule("{app}", "GET"),
			ok: true, typ: "cors", status: 200, body: hello, wire: "GET", origins: "{app}"},
		{name: "s3: a rule naming app does not match evil: no CORS headers, blocked", q: get + rule("{app}", "GET") + "&request.from=evil",
			stage: "response", wire: "GET", origins: "{evil}"},
		{name: "s3: an origin pattern with one *", q: get + rule("http://127.0.0.1:*", "GET"),
			ok: true, status: 200, body: hello, wire: "GET"},
		{name: "s3: with include, a rule naming the origin works, because S3 sends ACAC true", q: get + rule("{app}", "GET") + "&request.credentials=include",
			ok: true, status: 200, body: hello, wire: "GET"},
		{name: "s3: with include, a * rule fails: ACAO * and no ACAC", q: get + rule("*", "GET") + "&request.credentials=include",
			stage: "response", wire: "GET"},
		{name: "s3: a PUT whose method no rule allows: the preflight gets 403", q: put + rule("*", "GET"),
			stage: "preflight", wire: "OPTIONS", origins: "{app}", acrm: "PUT"},
		{name: "s3: a PUT the rule allows: preflight 200, then the upload", q: put + rule("*", "PUT"),
			ok: true, status: 200, wire: "OPTIONS PUT", lastBody: "hi"},
		{name: "s3: a requested header the rule does not list fails the preflight", q: get + rule("*", "GET") + "&request.headers.X-Amz-Meta-Note=1",
			stage: "preflight", wire: "OPTIONS", acrh: "x-amz-meta-note"},
		{name: "s3: AllowedHeader x-amz-* admits it", q: get + rule("*", "GET") + "&bucket.cors.0.allowedHeaders=x-amz-*&request.headers.X-Amz-Meta-Note=1",
			ok: true, status: 200, wire: "OPTIONS GET", acrh: "x-amz-meta-note"},
		{name: "s3: ETag stays hidden without ExposeHeader", q: get + rule("*", "GET"),
			ok: true, status: 200, wire: "GET", readable: []string{"content-type"}, hidden: []string{"etag"}},
		{name: "s3: ExposeHeader ETag makes it readable", q: get + rule("*", "GET") + "&bucket.cors.0.exposeHeaders=ETag",
			ok: true, status: 200, wire: "GET", readable: []string{"etag"}},
	}
}

// filesCases use the api's GET /files/{key}, which answers with a signed
// URL of the bucket (article 000). The full matrix of API and bucket
// settings is the matrix page's own test.
func filesCases() []confCase {
	const hello = "Hello from corslab"
	files := "request.path=/files/hello.txt"
	return []confCase{
		{name: "files: 303 to the signed URL; with include, only a null rule lets JS read the file",
			q:  files + "&" + credsEcho + "&bucket.cors.0.allowedOrigins=null&bucket.cors.0.allowedMethods=GET",
			ok: true, typ: "cors", status: 200, body: hello, wire: "GET GET", origins: "{app} null"},
		{name: "files: the same with a rule naming app fails: the hop's Origin is null",
			q:     files + "&" + credsEcho + "&bucket.cors.0.allowedOrigins={app}&bucket.cors.0.allowedMethods=GET",
			stage: "response", wire: "GET GET", origins: "{app} null"},
		// Authorization needs a preflight at the api, and is dropped on
		// the redirect to another origin: the hop to the bucket is a
		// plain GET, which a * rule serves.
		confCase{name: "files: with Authorization, preflighted at the api; the hop to the bucket goes without it",
			q:  files + "&request.headers.Authorization=Bearer t&api.allowOrigin=echo&api.allowHeaders=Authorization" + bucketGet,
			ok: true, typ: "cors", status: 200, body: hello, wire: "OPTIONS GET GET", origins: "{app} {app} null",
			sent: map[string]string{"Authorization": "-"}}.
			departs("PreflightAfterRedirect", func(c *confCase) {
				c.wire, c.origins = "OPTIONS GET OPTIONS GET", "{app} {app} {app} null"
			}, browsertest.Firefox).
			// The hop keeps Authorization, which the bucket's rule does not
			// allow: its preflight fails.
			departs("KeepsAuthorizationOnRedirect", func(c *confCase) {
				c.ok, c.stage, c.typ, c.status, c.body, c.sent = false, "preflight", "", 0, "", nil
				c.wire, c.origins = "OPTIONS GET OPTIONS", "{app} {app} null"
			}, browsertest.WebKit),
		{name: "files: the two-phase variant answers 200 with the signed URL",
			q:  files + "&api.allowOrigin=*&api.redirect=0",
			ok: true, status: 200, body: "X-Amz-Signature=", wire: "GET", origins: "{app}"},
		{name: "files: requireLogin without the login cookie: a readable 401",
			q:  files + "&api.allowOrigin=*&api.requireLogin=true",
			ok: true, status: 401, body: "not logged in", wire: "GET"},
		{name: "files: 307 keeps a HEAD, and S3 refuses it: the URL was signed for GET",
			q:  files + "&api.allowOrigin=*&api.redirect=307&request.method=HEAD&bucket.cors.0.allowedOrigins=*&bucket.cors.0.allowedMethods=HEAD",
			ok: true, status: 403, wire: "HEAD HEAD", origins: "{app} null"},
	}
}

// The cookie cases log in first (afterLogin: POST /login from app, with
// credentials, allowed), then ask GET /me. The login cookie is
// SameSite=Lax and ignores ports: every origin here is the same site,
// 127.0.0.1, except an opaque (sandboxed) one, which is no site at all.
func cookieCases() []confCase {
	me := func(q string) string { return "request.path=/me&" + q }
	who := `"ada"`
	return []confCase{
		afterLogin("cookies: after login, /me with include carries the cookie",
			confCase{q: me(credsEcho), ok: true, status: 200, body: who, wire: "GET", cookies: "y"}),
		afterLogin("cookies: after login, /me with same-origin credentials carries none",
			confCase{q: me("api.allowOrigin=echo"), ok: true, status: 401, wire: "GET", cookies: "n"}),
		afterLogin("cookies: after login, /me with omit carries none",
			confCase{q: me("api.allowOrigin=echo&request.credentials=omit"), ok: true, status: 401, wire: "GET", cookies: "n"}),
		afterLogin("cookies: from evil, /me with include carries the cookie: same site",
			confCase{q: me(credsEcho + "&request.from=evil"), ok: true, status: 200, body: who, wire: "GET", origins: "{evil}", cookies: "y"}),
		afterLogin("cookies: from a sandboxed frame, /me with include carries no SameSite=Lax cookie",
			confCase{q: me("request.from=sandbox&request.credentials=include&api.allowOrigin=null&api.allowCredentials=true"), ok: true, status: 401, wire: "GET", origins: "null", cookies: "n"}).
			departs("SameSiteFromTopLevel", cookieWent, browsertest.WebKit),
		afterLogin("cookies: from the api's own page, same-origin credentials carry the cookie",
			confCase{q: me("request.from=api"), ok: true, typ: "basic", status: 200, body: who, wire: "GET", origins: "-", cookies: "y"}),
		afterLogin("cookies: /me with include and ACAO *: the cookie went, JS gets nothing",
			confCase{q: me("request.credentials=include&api.allowOrigin=*&api.allowCredentials=true"), stage: "response", wire: "GET", cookies: "y"}),
		afterLogin("cookies: a preflight never carries the cookie, the request after it does",
			confCase{q: me(credsEcho + "&request.headers.X-User-Id=11&api.allowHeaders=x-user-id"), ok: true, status: 200, body: who, wire: "OPTIONS GET", cookies: "n y"}),
		afterLogin("cookies: the tainted hop to s3 carries the cookie too, and ACAO * fails it",
			confCase{q: "request.path=/redirect/302/s3/hello.txt&" + credsEcho + bucketAny, stage: "response", wire: "GET GET", origins: "{app} null", cookies: "y y"}),
		afterLogin("cookies: a no-cors GET with include carries the cookie",
			confCase{q: me("request.mode=no-cors&request.credentials=include"), typ: "opaque", wire: "GET", origins: "-", cookies: "y"}),
		{name: "cookies: a login without include sets no cookie", q: "request.method=POST&request.path=/login&api.allowOrigin=echo", ok: true, status: 200,
			then: []confCase{{q: me(credsEcho), ok: true, status: 401, wire: "GET", cookies: "n"}}},
		{name: "cookies: a login with include that CORS refuses (no ACAC) still sets the cookie", q: "request.method=POST&request.path=/login&request.credentials=include&api.allowOrigin=echo", stage: "response", wire: "POST",
			then: []confCase{{q: me(credsEcho), ok: true, status: 200, body: who, wire: "GET", cookies: "y"}}},
		confCase{name: "cookies: a login from a sandboxed frame cannot set a SameSite=Lax cookie", q: "request.method=POST&request.path=/login&request.from=sandbox&request.credentials=include&api.allowOrigin=null&api.allowCredentials=true", ok: true, status: 200,
			then: []confCase{{q: me(credsEcho), ok: true, status: 401, wire: "GET", cookies: "n"}}}.
			departs("SameSiteFromTopLevel", cookieWent, browsertest.WebKit),
	}
}

func modeCases() []confCase {
	return []confCase{
		{name: "mode same-origin, cross-origin: a TypeError before any request", q: "api.allowOrigin=*&request.mode=same-origin", stage: "request", wire: "-"},
		{name: "mode no-cors GET: no Origin, an opaque response", q: "request.mode=no-cors", typ: "opaque", status: 0, wire: "GET", origins: "-"},
		{name: "mode no-cors POST: Origin sent, the user created, an opaque response", q: "request.mode=no-cors&request.method=POST&request.body=" + newUser, typ: "opaque", wire: "POST", origins: "{app}", lastBody: newUser},
		{name: "mode no-cors PUT: a TypeError at the call", q: "request.mode=no-cors&request.method=PUT&request.body=" + newUser, stage: "request", wire: "-"},
		{name: "mode no-cors drops a custom header silently", q: "request.mode=no-cors&request.headers.X-User-Id=11", typ: "opaque", wire: "GET", sent: map[string]string{"X-User-Id": "-"}},
		{name: "mode no-cors drops Content-Type application/json: the body's default goes out", q: "request.mode=no-cors&request.method=POST&request.headers.Content-Type=application/json&request.body=" + newUser,
			typ: "opaque", wire: "POST", sent: map[string]string{"Content-Type": "text/plain;charset=UTF-8"}},
		{name: "mode no-cors drops Range: it is not a no-CORS-safelisted header", q: "request.mode=no-cors&request.headers.Range=bytes=0-10", typ: "opaque", wire: "GET", sent: map[string]string{"Range": "-"}},
		{name: "mode no-cors with redirect manual: a network error before any request", q: "request.mode=no-cors&request.redirect=manual&request.path=/redirect/302/api/users", stage: "request", wire: "-"},
		{name: "from the api's own page, GET: same-origin, no Origin, readable without CORS", q: "request.from=api", ok: true, typ: "basic", status: 200, body: `"ada"`, wire: "GET", origins: "-"},
		{name: "from the api's own page, POST: Origin is sent even same-origin", q: "request.from=api&request.method=POST&request.body=" + newUser, ok: true, typ: "basic", status: 201, wire: "POST", origins: "{api}"},
		{name: "from the api's own page, PUT with a custom header: no preflight", q: "request.from=api&request.method=PUT&request.headers.X-User-Id=11&request.body=" + newUser,
			ok: true, typ: "basic", status: 201, wire: "PUT", origins: "{api}", sent: map[string]string{"X-User-Id": "11"}},
	}
}

// The look-alike cases run the page on an origin an attacker could
// register: a name under .localhost, which Chromium resolves to this
// machine (RFC 6761), on the app's port, served by the app's server. They
// prove that the sloppy allowlist modes let such a name in and exact
// matching does not, and which cookies go along: SameSite looks at the
// site (the registrable domain), and Chromium treats each name under
// .localhost as a registrable domain of its own, like a name under .com.
// So from 127.0.0.1 or localhost every look-alike is another site; with
// the lab on corslab.localhost, promo.corslab.localhost is the same site.
func lookalikeCases() []confCase {
	lk := "request.from=lookalike&"
	list := func(match, entry string) string {
		return "api.allowOrigin=allowlist&api.match=" + match + "&api.allowlist=" + entry
	}
	host := func(h string) string { return "request.lookalikeHost=" + h + "&" }
	const (
		defaultLk = "http://app-corslab.localhost:{appPort}"
		ipLk      = "http://127.0.0.1.attacker.localhost:{appPort}"
	)
	me := "request.path=/me&request.credentials=include&api.allowCredentials=true&"
	who := `"ada"`
	return []confCase{
		{name: "lookalike: the page on app-corslab.localhost sends its own Origin; without ACAO JS gets nothing", q: lk,
			stage: "response", wire: "GET", origins: defaultLk},
		{name: "lookalike: allowlist, exact: the app's origin does not let the look-alike in", q: lk + list("exact", "{app}"),
			stage: "response", wire: "GET", origins: defaultLk},
		{name: "lookalike: allowlist, suffix on the app's port lets in a look-alike on that port", q: lk + list("suffix", ":{appPort}"),
			ok: true, status: 200, body: `"ada"`, wire: "GET", origins: defaultLk},
		{name: "lookalike: allowlist, prefix http://127.0.0.1 lets http://127.0.0.1.attacker.localhost in", q: lk + host("127.0.0.1.attacker.localhost") + list("prefix", "http://127.0.0.1"),
			ok: true, status: 200, wire: "GET", origins: ipLk},
		{name: "lookalike: allowlist, regex ^http://127.0.0.1, unanchored at the end, lets it in too", q: lk + host("127.0.0.1.attacker.localhost") + list("regex", "^http://127.0.0.1"),
			ok: true, status: 200, wire: "GET", origins: ipLk},
		{name: "lookalike: allowlist, regex with unescaped dots: app.corslab.localhost matches app-corslab.localhost", q: lk + list("regex", "^http://app.corslab.localhost:{appPort}$"),
			ok: true, status: 200, wire: "GET", origins: defaultLk},
		{name: "lookalike: allowlist, regex with escaped dots, anchored, keeps app-corslab.localhost out", q: lk + list("regex", `^http://app\.corslab\.localhost:{appPort}$`),
			stage: "response", wire: "GET", origins: defaultLk},
		{name: "lookalike: lab on localhost, suffix localhost:{appPort} meant for the app lets app-corslab.localhost in", host: "localhost", q: lk + list("suffix", "localhost:{appPort}"),
			ok: true, status: 200, wire: "GET", origins: defaultLk},
		{name: "lookalike: lab on localhost, exact {app} keeps app-corslab.localhost out", host: "localhost", q: lk + list("exact", "{app}"),
			stage: "response", wire: "GET", origins: defaultLk},

		// Cookies: log in on the app first.
		afterLogin("lookalike: lab on 127.0.0.1, the look-alike is another site: past the prefix check, but no SameSite=Lax cookie",
			confCase{q: me + lk + host("127.0.0.1.attacker.localhost") + list("prefix", "http://127.0.0.1"), ok: true, status: 401, wire: "GET", origins: ipLk, cookies: "n"}).
			departs("SameSiteFromTopLevel", cookieWent, browsertest.WebKit),
		withHost("corslab.localhost", afterLogin("lookalike: lab on corslab.localhost, app-corslab.localhost is another site: past the suffix check, no cookie",
			confCase{q: me + lk + list("suffix", "corslab.localhost:{appPort}"), ok: true, status: 401, wire: "GET", origins: defaultLk, cookies: "n"}).
			departs("SameSiteFromTopLevel", cookieWent, browsertest.WebKit)),
		withHost("corslab.localhost", afterLogin("lookalike: lab on corslab.localhost, promo.corslab.localhost is the same site: the suffix check lets it read /me with the cookie",
			confCase{q: me + lk + host("promo.corslab.localhost") + list("suffix", "corslab.localhost:{appPort}"), ok: true, status: 200, body: who, wire: "GET", origins: "http://promo.corslab.localhost:{appPort}", cookies: "y"},
			confCase{q: me + lk + host("promo.corslab.localhost") + list("exact", "{app}"), stage: "response", wire: "GET", origins: "http://promo.corslab.localhost:{appPort}", cookies: "y"},
			confCase{q: me + "request.from=app&" + list("exact", "{app}"), ok: true, status: 200, body: who, wire: "GET", origins: "{app}", cookies: "y"})),
		{name: "lookalike: a SameSite=None cookie does not go to another site either: Chromium blocks third-party cookies",
			host: "corslab.localhost", q: loginQuery + "&api.cookieSameSite=none", ok: true, status: 200, wire: "POST", origins: "{app}",
			then: []confCase{{q: me + "api.cookieSameSite=none&" + lk + list("suffix", "corslab.localhost:{appPort}"), ok: true, status: 401, wire: "GET", origins: defaultLk, cookies: "n"}}},
	}
}

// withHost opens a case's lab on host.
func withHost(host string, c confCase) confCase {
	c.host = host
	return c
}
