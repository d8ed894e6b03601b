package scan

import (
	"net"
	"net/url"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// Marker names every origin the scan makes up, so that a server's log
// shows which requests were the scan's. The .invalid top-level domain can
// never be registered (RFC 2606): it stands for a domain an attacker owns.
const (
	marker        = "corslab-scan"
	attackerHost  = marker + ".invalid"
	anyOrigin     = "https://" + attackerHost
	dotStandIn    = "-" // what replaces a dot in the unescaped-dot look-alike
	madeUpMethod  = "CORSLAB-SCAN"
	madeUpHeader  = "X-Corslab-Scan"
	madeUpHeaderV = "1"
)

// Who can serve a page from an origin the scan tries.
const (
	anyone  = "anyone"  // anyone can register the domain, or make the origin (null)
	network = "network" // someone on the network path between the user and the app
	owner   = "owner"   // only whoever controls the DNS of the app's own domain
)

// lookalike is an origin the scan tries instead of the app's own.
type lookalike struct {
	check  string // the check it serves: trusts-null, accepts-lookalike-suffix, …
	origin string // "" when the check does not apply to the app's origin
	// who can serve a page from origin: anyone, network or owner.
	who string
	// why says what origin is, in a sentence; or, when origin is "",
	// why the check does not apply.
	why string
}

// lookalikes are the origins the scan tries for the app's origin o, in
// the order of the report: the arbitrary one, null, then the look-alikes
// that fool the usual broken matchers. o is serialized and not null.
func lookalikes(o string) []lookalike {
	u, _ := url.Parse(o)
	scheme, host, port := u.Scheme, strings.ToLower(u.Hostname()), u.Port()
	if port != "" {
		port = ":" + port
	}
	ip := net.ParseIP(host) != nil
	site := registrable(host)
	out := []lookalike{
		{check: "reflects-any-origin", origin: anyOrigin, who: anyone,
			why: "an origin nobody allows on purpose"},
		{check: "trusts-null", origin: "null", who: anyone,
			why: "the origin of sandboxed iframes, data: URLs and file: pages, which any site can make"},
	}

	suffix := lookalike{check: "accepts-lookalike-suffix", who: anyone}
	if site == "" {
		suffix.why = "the host " + host + " is not under a domain one can register, so no registrable name ends with it"
	} else {
		suffix.origin = scheme + "://" + marker + site + port
		suffix.why = marker + site + " is a domain anyone can register, and it ends with " + site
	}
	out = append(out, suffix)

	prefix := lookalike{check: "accepts-lookalike-prefix", who: anyone}
	if strings.Contains(host, ":") { // IPv6: no name can follow it
		prefix.why = "the host is an IPv6 address, and no host name begins with one"
	} else {
		prefix.origin = scheme + "://" + host + "." + attackerHost + port
		prefix.why = "a host in a domain an attacker owns (" + attackerHost + " stands for it), which begins with " + host
	}
	out = append(out, prefix)

	dot := lookalike{check: "accepts-lookalike-unescaped-dot", who: anyone}
	if h := dotLookalike(host, site); h != "" {
		dot.origin = scheme + "://" + h + port
		dot.why = h + " is a domain anyone can register; it is " + host + " with a dot replaced, which a regular expression's unescaped dot lets through"
	} else {
		dot.why = "no dot of " + host + " can be replaced to make a domain one can register"
	}
	out = append(out, dot)

	sub := lookalike{check: "accepts-lookalike-subdomain", who: owner}
	if ip {
		sub.why = "the host is an IP address, which has no subdomains"
	} else {
		sub.origin = scheme + "://" + marker + "." + host + port
		sub.why = "a subdomain of " + host + ": only whoever controls the DNS of " + host + " can serve a page there"
	}
	out = append(out, sub)

	sib := lookalike{check: "accepts-lookalike-sibling", who: owner}
	parent, hasParent := strings.CutPrefix(host, firstLabel(host)+".")
	switch {
	case ip:
		sib.why = "the host is an IP address, which has no siblings"
	case !hasParent:
		sib.why = "the host " + host + " has no parent domain"
	case site == "":
		// A name under a domain the public suffix list does not know,
		// such as a company's internal one: the company's own.
		sib.origin = scheme + "://" + marker + "." + parent + port
		sib.why = "another host under " + parent + ", " + host + "'s parent domain"
	case host != site:
		sib.origin = scheme + "://" + marker + "." + parent + port
		sib.why = "another host under " + parent + ", " + host + "'s parent domain, which belongs to whoever has " + site
	case privateSuffix(parent):
		// alice.github.io: anyone can have bob.github.io.
		sib.origin = scheme + "://" + marker + "." + parent + port
		sib.who = anyone
		sib.why = "a site of someone else's: " + parent + " is a public suffix, under which anyone can have a site"
	default:
		sib.why = host + " is directly under the public suffix " + parent + ": its siblings are other people's domains, which the suffix check covers"
	}
	out = append(out, sib)

	insecure := lookalike{check: "accepts-http-of-https-origin", who: network}
	if scheme == "https" {
		insecure.origin = "http://" + host + port
		insecure.why = "the app's host over plain HTTP, whose pages anyone on the network path can rewrite"
	} else {
		insecure.why = "the app's origin is already http"
	}
	out = append(out, insecure)
	return out
}

// registrable is the domain under which host sits that one can register
// (its eTLD+1 on the public suffix list), or "" when it has none: an IP
// address, a single label such as localhost, a name under a top-level
// domain the list does not know.
func registrable(host string) string {
	if net.ParseIP(host) != nil {
		return ""
	}
	suffix, icann := publicsuffix.PublicSuffix(host)
	// A suffix the list does not name comes back as the last label, not
	// ICANN-managed; a private one (github.io) has a dot.
	if !icann && !strings.Contains(suffix, ".") {
		return ""
	}
	site, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return ""
	}
	return site
}

// privateSuffix reports whether d is a public suffix run by a company
// rather than a registry, such as github.io: anyone can have a site
// directly under it.
func privateSuffix(d string) bool {
	suffix, icann := publicsuffix.PublicSuffix(d)
	return suffix == d && !icann && strings.Contains(d, ".")
}

// dotLookalike is host with one dot replaced so that the result is a
// domain anyone can register, other than host's own site; "" when no dot
// does that. In app.example.com the first dot does (app-example.com);
// the last does not (example-com is no top-level domain).
func dotLookalike(host, site string) string {
	if site == "" {
		return ""
	}
	for i := len(host) - 1; i >= 0; i-- {
		if host[i] != '.' {
			continue
		}
		h := host[:i] + dotStandIn + host[i+1:]
		if s := registrable(h); s != "" && s != site {
			return h
		}
	}
	return ""
}

func firstLabel(host string) string {
	label, _, _ := strings.Cut(host, ".")
	return label
}
