package scan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/corslab/corslab/playground/probe"
)

// findings judges what the scan sent: it lists every check in the report
// and returns the findings, the most severe first.
func findings(s *scanner) []Finding {
	out := []Finding{}
	add := func(c Check, f *Finding) {
		s.report.Checks = append(s.report.Checks, c)
		if f != nil {
			out = append(out, *f)
		}
	}
	for _, t := range s.tries {
		add(s.checkOrigin(t))
	}
	add(s.checkWildcard())
	add(s.checkVary())
	add(s.checkAnything())
	add(s.checkExposed())
	slices.SortStableFunc(out, func(a, b Finding) int { return b.Severity.Rank() - a.Severity.Rank() })
	return out
}

// severity grades an origin the server allows, by who can serve a page
// from it and whether the user's cookies come along.
func severity(who string, credentials bool) Severity {
	switch {
	case who == anyone && credentials:
		return High
	case who == network && credentials:
		return Medium
	case who == owner && !credentials:
		return Info
	}
	return Low
}

// checkOrigin says whether the server allowed a look-alike origin.
// fetch.spec.whatwg.org/#cors-check
func (s *scanner) checkOrigin(t tried) (Check, *Finding) {
	c := Check{ID: t.check, Origin: t.origin, Outcome: t.outcome, Detail: t.detail}
	if t.outcome != "" {
		return c, nil
	}
	x, creds := t.credentialed(), true
	if x == nil {
		x, creds = t.allowed(), false
	}
	if x == nil {
		c.Outcome, c.Detail = Clean, "refused: "+answers(t)
		if slices.ContainsFunc([]*sent{t.get, t.pre}, func(x *sent) bool { return x != nil && acao(x) == "*" }) {
			c.Detail = "not singled out, only `*`: " + answers(t)
		}
		return c, nil
	}
	f := originWords(t.lookalike, s.base.Origin, creds)
	f.Severity = severity(t.who, creds)
	if x.ex.Preflight {
		with := ""
		if creds {
			with = " with the user's cookies"
		}
		f.Explanation += fmt.Sprintf(" (That answer is the preflight of the app's %s: browsers let a page there send %s%s.)", s.base.Method, s.base.Method, with)
	}
	f.Evidence = []Evidence{evidence(x)}
	c.ID, c.Outcome = f.ID, Found
	c.Detail = fmt.Sprintf("allowed, without credentials (exchange %d)", x.seq)
	if creds {
		c.Detail = fmt.Sprintf("allowed, with credentials (exchange %d)", x.seq)
	}
	return c, &f
}

// originWords say what allowing a look-alike means, and how to stop.
func originWords(l lookalike, own string, creds bool) Finding {
	o := l.origin
	host, site := hostOf(own), registrable(hostOf(own))
	f := Finding{ID: l.check}
	asked := fmt.Sprintf("Asked with `Origin: %s`, the server allowed it (`Access-Control-Allow-Origin: %s`).", o, o)
	reach := "reads this URL"
	if creds {
		reach = "reads this URL with the user's cookies"
	}
	switch l.check {
	case "reflects-any-origin":
		f.Title = "Any origin may read this URL, but only without cookies"
		f.Explanation = fmt.Sprintf("Asked with `Origin: %s`, an origin nobody allows on purpose, the server answered `Access-Control-Allow-Origin: %s`: it copies the Origin of any request into its answer. %s", o, o, cookies(creds))
		f.Fix = fmt.Sprintf("If the data is public, answer `Access-Control-Allow-Origin: *`: it needs no Vary, and browsers never let it carry cookies. If it is not public, allow an exact list of origins (here `%s`) and answer any other without Access-Control-Allow-Origin.", own)
		if creds {
			f.ID = "reflects-any-origin-with-credentials"
			f.Title = "Any origin may read this URL with the user's cookies"
			f.Fix = fmt.Sprintf("Allow only the origins of your own pages, compared whole and exactly with a list (here `%s`), and answer any other without Access-Control-Allow-Origin. With rs/cors that is `AllowedOrigins: []string{%q}` rather than an AllowOriginFunc that returns true.", own, own)
		}
	case "trusts-null":
		f.Title = "Origin null is allowed"
		f.Explanation = fmt.Sprintf("%s Browsers send `Origin: null` from pages whose origin is opaque: sandboxed iframes, data: URLs, local files, some redirects. Any site can make one, e.g. `<iframe sandbox=\"allow-scripts\" srcdoc=\"<script>fetch(…)</script>\">`, so allowing null allows every site that bothers to. %s", asked, cookies(creds))
		f.Fix = "Take null out of the allowed origins. A page that needs the API during development can be served from http://localhost rather than opened as a file."
	case "accepts-lookalike-suffix":
		f.Title = fmt.Sprintf("An origin that merely ends with %s is allowed", site)
		f.Explanation = fmt.Sprintf("%s %s is a domain anyone can register; it passes because it ends with %s: the server compares the end of the Origin (`strings.HasSuffix(origin, %q)`, a pattern like `https://*%s`) rather than the whole host. %s", asked, hostOf(o), site, site, site, cookies(creds))
		f.Fix = fmt.Sprintf("Compare whole origins against a list. To allow every subdomain, compare the parsed host: equal to `%s`, or ending with `.%s`, dot included; or use a middleware pattern such as `https://*.%s`.", site, site, site)
	case "accepts-lookalike-prefix":
		f.Title = fmt.Sprintf("An origin that merely begins with %s is allowed", host)
		f.Explanation = fmt.Sprintf("%s That host is in a domain an attacker owns (%s stands for any), and it begins with %s: the server compares the start of the Origin (`strings.HasPrefix`, a regular expression without `$`) rather than the whole of it. %s", asked, attackerHost, host, cookies(creds))
		f.Fix = "Compare whole origins against a list; anchor a regular expression at both ends (`^…$`) and escape its dots."
	case "accepts-lookalike-unescaped-dot":
		f.Title = fmt.Sprintf("%s, a registrable look-alike of %s, is allowed", hostOf(o), host)
		f.Explanation = fmt.Sprintf("%s %s is a domain anyone can register: %s with a dot replaced by `%s`. A regular expression with an unescaped dot lets it through, since `.` matches any character (`^https://%s$` matches `%s`); a suffix check without the leading dot does too. %s", asked, hostOf(o), host, dotStandIn, host, o, cookies(creds))
		f.Fix = "Escape the dots (`regexp.QuoteMeta`) and anchor the expression (`^…$`), or compare against an exact list of origins, which needs no expression at all."
	case "accepts-lookalike-subdomain":
		f.Title = fmt.Sprintf("Every subdomain of %s is allowed", host)
		f.Explanation = fmt.Sprintf("%s It is a subdomain of %s, so the server trusts them all. Only whoever controls the DNS of %s can serve a page there: this is a choice rather than a hole. But each subdomain is then as trusted as the app, and one with a cross-site scripting bug, user uploads, or a dangling CNAME that someone else can take over %s.", asked, host, host, reach)
		f.Fix = "List the subdomains that call this URL. If you need the wildcard, keep every subdomain's DNS and content under control: no dangling CNAMEs, no user content served from them."
	case "accepts-lookalike-sibling":
		parent := strings.TrimPrefix(hostOf(o), marker+".")
		if l.who == anyone {
			f.Title = fmt.Sprintf("Other people's sites under %s are allowed", parent)
			f.Explanation = fmt.Sprintf("%s %s is a public suffix: anyone can have a site directly under it, as you have %s, and the server trusts all of them. %s", asked, parent, host, cookies(creds))
			f.Fix = fmt.Sprintf("Allow `%s` exactly; never a wildcard over a shared hosting domain such as %s (jub0bs/cors refuses one unless told DangerouslyTolerateSubdomainsOfPublicSuffixes).", own, parent)
			break
		}
		f.Title = fmt.Sprintf("Every host under %s is allowed, not just %s", parent, host)
		f.Explanation = fmt.Sprintf("%s It is another host under %s, so the server trusts every host there, not just %s. Only whoever controls the DNS of %s can serve a page there: this is a choice rather than a hole. But each of those hosts is then as trusted as the app, and one with a cross-site scripting bug, user uploads, or a dangling CNAME that someone else can take over %s.", asked, parent, host, parent, reach)
		f.Fix = fmt.Sprintf("List the origins that call this URL (here `%s`). If you need the wildcard, keep every host under %s under control: no dangling CNAMEs, no user content.", own, parent)
	case "accepts-http-of-https-origin":
		f.Title = "The app's origin over plain http is allowed"
		f.Explanation = fmt.Sprintf("%s Anyone on the network path between a user and the app (public Wi-Fi, a hostile router) can answer a request for an http page of %s with a script of their own, even if you never serve the app over http, and that script %s. HSTS on %s keeps a browser that has seen it from loading the http page, but not on a first visit.", asked, host, reach, host)
		f.Fix = fmt.Sprintf("Allow only `%s`. For development, http://localhost is fine: browsers treat it as secure.", own)
	}
	return f
}

// cookies says what allowing an origin gives a page of it, with or
// without Access-Control-Allow-Credentials: true.
func cookies(creds bool) string {
	if creds {
		return "The answer also says `Access-Control-Allow-Credentials: true`, so a page there reads the answer to a request made with the user's cookies: whatever this URL shows a signed-in user, it shows that page."
	}
	return "The answer does not say `Access-Control-Allow-Credentials: true`, so a page there reads only answers to requests without cookies, as `Access-Control-Allow-Origin: *` would allow: harmless for public data, not for a URL that trusts where a request comes from (an intranet host, an IP allowlist), and one setting away from a hole."
}

// checkWildcard looks for `*` with credentials: the combination browsers
// refuse. fetch.spec.whatwg.org/#cors-check
func (s *scanner) checkWildcard() (Check, *Finding) {
	c := Check{ID: "wildcard-with-credentials", Outcome: Clean, Detail: "no answer said `Access-Control-Allow-Origin: *` with `Access-Control-Allow-Credentials: true`"}
	for _, x := range s.all() {
		if acao(x) != "*" || !strings.EqualFold(probeHeader(x.ex, "Access-Control-Allow-Credentials"), "true") {
			continue
		}
		c.Outcome, c.Detail = Found, fmt.Sprintf("exchange %d", x.seq)
		return c, &Finding{
			ID: c.ID, Severity: Low,
			Title:       "`Access-Control-Allow-Origin: *` with `Access-Control-Allow-Credentials: true`",
			Explanation: "The server answers `Access-Control-Allow-Origin: *` together with `Access-Control-Allow-Credentials: true`. Browsers refuse that combination: with credentials, `*` is no wildcard, so no page, the app's included, reads the answer to a request made with cookies; without cookies, `*` lets any page read it. It leaks nothing today. It says the server means to share what a user's cookies unlock with every origin, and the usual way to make that work, copying the Origin into the header, is the high-severity hole.",
			Fix:         "Decide which it is. Public data: `Access-Control-Allow-Origin: *` and no Access-Control-Allow-Credentials. Per-user data: an exact list of origins, each echoed with `Access-Control-Allow-Credentials: true` and `Vary: Origin`. (rs/cors sends the pair for `AllowedOrigins: []string{\"*\"}` with `AllowCredentials: true`.)",
			Evidence:    []Evidence{evidence(x)},
		}
	}
	return c, nil
}

// checkVary looks for an Access-Control-Allow-Origin that depends on the
// Origin in an answer that does not say so to caches.
// fetch.spec.whatwg.org/#cors-protocol-and-http-caches
func (s *scanner) checkVary() (Check, *Finding) {
	c := Check{ID: "missing-vary-origin", Outcome: Clean}
	gets := s.gets()
	if len(gets) < 2 {
		c.Detail = "fewer than two answers to compare"
		return c, nil
	}
	varies := slices.ContainsFunc(gets, func(x *sent) bool { return acaoWords(x) != acaoWords(gets[0]) })
	if !varies {
		c.Detail = fmt.Sprintf("every origin got the same answer (%s), which needs no Vary", acaoWords(gets[0]))
		return c, nil
	}
	var bad *sent
	for _, x := range gets {
		if !varyOrigin(x.ex) && (bad == nil || acao(bad) == "" && acao(x) != "") {
			bad = x
		}
	}
	if bad == nil {
		c.Detail = "Access-Control-Allow-Origin depends on the Origin, and every answer says `Vary: Origin`"
		return c, nil
	}
	other := gets[slices.IndexFunc(gets, func(x *sent) bool { return acaoWords(x) != acaoWords(bad) })]
	c.Outcome, c.Detail = Found, fmt.Sprintf("exchange %d has no `Vary: Origin`", bad.seq)
	return c, &Finding{
		ID: c.ID, Severity: Low,
		Title:       "Access-Control-Allow-Origin depends on the Origin, without `Vary: Origin`",
		Explanation: fmt.Sprintf("The server's Access-Control-Allow-Origin depends on the request's Origin (%s got %s; %s got %s), yet its answer does not say `Vary: Origin`. A cache between the server and the browser (a CDN, a proxy, the browser's own) then keys the answer by URL alone and may hand the answer meant for one origin to another. Whoever makes the first request decides what everyone gets until it expires: the app's requests fail on an answer made for another origin, or an origin that should be refused gets one that allows it (cache poisoning).", bad.origin, acaoWords(bad), other.origin, acaoWords(other)),
		Fix:         "Send `Vary: Origin` on every answer whose CORS headers depend on the Origin, refusals included; or send one fixed value to all (`*`, or the single origin allowed). rs/cors and jub0bs/cors do this for you.",
		Evidence:    []Evidence{evidence(bad), evidence(other)},
	}
}

// checkAnything says whether the server allowed a made-up method and
// header with credentials. fetch.spec.whatwg.org/#cors-preflight-fetch
func (s *scanner) checkAnything() (Check, *Finding) {
	c := Check{ID: "preflight-allows-everything-with-credentials", Origin: s.base.Origin}
	x := s.anything
	switch {
	case x == nil:
		c.Outcome, c.Detail = NotRun, fmt.Sprintf("not sent: the scan may send at most %d requests", s.max)
		return c, nil
	case !x.reads:
		c.Outcome, c.Detail = Clean, fmt.Sprintf("refused (exchange %d): %s", x.seq, x.says)
		return c, nil
	}
	c.Outcome, c.Detail = Found, fmt.Sprintf("exchange %d", x.seq)
	return c, &Finding{
		ID: c.ID, Severity: Low,
		Title:       "Preflights allow every method and header, with credentials",
		Explanation: fmt.Sprintf("Asked in a preflight whether a page of %s may send the made-up method `%s` with the made-up header `%s` and the user's cookies, the server said yes: it allows any method and any header with credentials, whatever the app needs. Only origins it trusts get that far, so this is no hole by itself. But any script that runs on them, through a cross-site scripting bug or a compromised dependency, may use every method with the user's cookies, and defences that count on browsers refusing odd methods and custom headers across origins (CSRF protection by a custom header) no longer hold for them.", s.base.Origin, madeUpMethod, madeUpHeader),
		Fix:         "Allow the methods and request headers the app sends (for instance PUT and DELETE; Content-Type and Authorization) rather than echoing Access-Control-Request-Method and Access-Control-Request-Headers back, or allowing `*`.",
		Evidence:    []Evidence{evidence(x)},
	}
}

// checkExposed looks for response headers that carry credentials in
// Access-Control-Expose-Headers. fetch.spec.whatwg.org/#http-access-control-expose-headers
func (s *scanner) checkExposed() (Check, *Finding) {
	c := Check{ID: "exposes-sensitive-headers", Outcome: Clean, Detail: "no answer a page could read exposed a header that carries credentials"}
	for _, x := range s.gets() {
		if !x.reads && !x.readsBare {
			continue
		}
		list := probeHeader(x.ex, "Access-Control-Expose-Headers")
		var named []string
		sev := Info
		for _, name := range strings.Split(list, ",") {
			name = strings.TrimSpace(name)
			switch {
			case forbiddenResponse(name):
				named = append(named, "`"+name+"`")
			case sensitive(name):
				named, sev = append(named, "`"+name+"`"), Low
			}
		}
		if named == nil {
			continue
		}
		c.Outcome, c.Detail = Found, fmt.Sprintf("exchange %d exposes %s", x.seq, strings.Join(named, ", "))
		f := &Finding{ID: c.ID, Severity: sev, Evidence: []Evidence{evidence(x)}}
		f.Title = "Access-Control-Expose-Headers names " + strings.Join(named, ", ")
		if sev == Info {
			f.Explanation = fmt.Sprintf("The server's `Access-Control-Expose-Headers: %s` names %s, which browsers never let JS read, whatever the server says (a forbidden response header name): it does nothing. It may stand for a belief that it lets the page read or set cookies; cookies across origins need `Access-Control-Allow-Credentials: true`, and `SameSite=None; Secure` on the cookie.", list, strings.Join(named, ", "))
		} else {
			f.Explanation = fmt.Sprintf("The server's `Access-Control-Expose-Headers: %s` lets JS on every origin it allows read %s. A token or session in a response header is safer out of page scripts' reach: whatever is exposed, a cross-site scripting bug on an allowed origin reads too. Exposing Authorization is often a mix-up with Access-Control-Allow-Headers, which is about request headers.", list, strings.Join(named, ", "))
		}
		f.Fix = "Expose only the headers the page's JS reads (say X-Request-Id, or Location after a 201), and keep tokens in HttpOnly cookies or in the body of the one response that hands them out."
		return c, f
	}
	return c, nil
}

// sensitive reports whether a response header's name says it carries
// credentials.
func sensitive(name string) bool {
	n := strings.ToLower(name)
	if n == "authorization" || n == "proxy-authorization" || n == "cookie" {
		return true
	}
	for _, part := range []string{"session", "secret", "password", "api-key", "apikey", "access-token", "refresh-token", "auth-token", "id-token"} {
		if strings.Contains(n, part) {
			return true
		}
	}
	return false
}

// forbiddenResponse reports whether browsers never expose a response
// header. fetch.spec.whatwg.org/#forbidden-response-header-name
func forbiddenResponse(name string) bool {
	return strings.EqualFold(name, "Set-Cookie") || strings.EqualFold(name, "Set-Cookie2")
}

// gets are the GET answers that came back, the app's origin's first.
func (s *scanner) gets() []*sent {
	var out []*sent
	for _, t := range append([]tried{s.own}, s.tries...) {
		if t.get != nil {
			out = append(out, t.get)
		}
	}
	return out
}

// all are the answers that came back, in the order sent.
func (s *scanner) all() []*sent {
	var out []*sent
	for _, t := range append([]tried{s.own}, s.tries...) {
		for _, x := range []*sent{t.get, t.pre} {
			if x != nil {
				out = append(out, x)
			}
		}
	}
	if s.anything != nil {
		out = append(out, s.anything)
	}
	return out
}

// answers says, for a check's record, what the server answered.
func answers(t tried) string {
	var out []string
	for _, x := range []*sent{t.get, t.pre} {
		if x != nil {
			out = append(out, fmt.Sprintf("%s answered %d with %s (exchange %d)", kind(x), x.ex.Status, acaoWords(x), x.seq))
		}
	}
	return strings.Join(out, "; ")
}

func kind(x *sent) string {
	if x.ex.Preflight {
		return "the preflight"
	}
	return x.ex.Method
}

// acao is an answer's Access-Control-Allow-Origin, "" when absent.
func acao(x *sent) string { return probeHeader(x.ex, "Access-Control-Allow-Origin") }

// acaoWords names an answer's Access-Control-Allow-Origin for a sentence.
func acaoWords(x *sent) string {
	if v := acao(x); v != "" {
		return "`Access-Control-Allow-Origin: " + v + "`"
	}
	return "no Access-Control-Allow-Origin"
}

// varyOrigin reports whether an answer tells caches it depends on Origin.
// httpwg.org/specs/rfc9110.html#field.vary
func varyOrigin(ex probe.Exchange) bool {
	for _, h := range ex.ResponseHeaders {
		if !strings.EqualFold(h[0], "Vary") {
			continue
		}
		for _, v := range strings.Split(h[1], ",") {
			if v = strings.TrimSpace(v); v == "*" || strings.EqualFold(v, "Origin") {
				return true
			}
		}
	}
	return false
}

// probeHeader is a response header's values joined with ", ", as the
// Fetch standard's "get" does; "" when absent.
func probeHeader(ex probe.Exchange, name string) string {
	var vals []string
	for _, h := range ex.ResponseHeaders {
		if strings.EqualFold(h[0], name) {
			vals = append(vals, h[1])
		}
	}
	return strings.Join(vals, ", ")
}

// evidence is an exchange as the report shows it.
func evidence(x *sent) Evidence {
	verdict := x.says
	if !x.ex.Preflight {
		verdict = "fetch() with credentials from this page: " + verdict
	}
	switch {
	case x.reads || !x.readsBare:
	case x.ex.Preflight:
		verdict += " Without credentials, the browser would go on with the request."
	default:
		verdict += " Without credentials, JS would read it."
	}
	return Evidence{
		Seq: x.seq, Preflight: x.ex.Preflight, Origin: x.origin, Method: x.ex.Method, URL: x.ex.URL,
		Status: x.ex.Status, RawRequest: x.ex.RequestHead, RawResponse: x.ex.ResponseHead, Verdict: verdict,
	}
}

// hostOf is an origin's host, "" for null.
func hostOf(origin string) string {
	_, rest, ok := strings.Cut(origin, "://")
	if !ok {
		return ""
	}
	host := rest
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.HasSuffix(rest, "]") {
		host = rest[:i]
	}
	return host
}
