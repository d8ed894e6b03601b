package probe

import (
	"net"
	"net/url"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/corslab/corslab/playground/cors"
)

// fetchSite is the Sec-Fetch-Site value of a request from a page of
// origin that went through chain, the current URL last: same-origin,
// same-site or cross-site, by the least related URL of the chain.
// w3c.github.io/webappsec-fetch-metadata/#sec-fetch-site-header
func fetchSite(origin string, chain []*url.URL) string {
	if origin == "null" {
		return "cross-site"
	}
	o, err := url.Parse(origin)
	if err != nil {
		return "cross-site"
	}
	site := "same-origin"
	for _, u := range chain {
		switch {
		case cors.OriginOf(u) == origin:
		case sameSite(o, u):
			site = "same-site"
		default:
			return "cross-site"
		}
	}
	return site
}

// sameSite reports whether two URLs' origins are (schemefully) same
// site: one scheme, one registrable domain, or one host for hosts that
// have none, such as IP addresses and localhost.
// html.spec.whatwg.org/#same-site
func sameSite(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && registrable(a.Hostname()) == registrable(b.Hostname())
}

// registrable is a host's registrable domain, or the host itself when it
// has none. html.spec.whatwg.org/#host-registrable-domain
func registrable(host string) string {
	host = strings.ToLower(host)
	if net.ParseIP(host) != nil {
		return host
	}
	if d, err := publicsuffix.EffectiveTLDPlusOne(host); err == nil {
		return d
	}
	return host
}

// trustworthy reports whether a URL is potentially trustworthy: HTTPS, or
// a loopback host. w3c.github.io/webappsec-secure-contexts/#potentially-trustworthy-url
func trustworthy(u *url.URL) bool {
	host := strings.ToLower(u.Hostname())
	if u.Scheme == "https" || host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
