package playground

import (
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/corslab/corslab/playground/origins"
	"github.com/corslab/corslab/playground/scenario"
	"github.com/corslab/corslab/views"
)

// originSet is the set of origin URLs as one browser sees them: built from the
// host name that browser used to reach us, so 127.0.0.1, localhost and a
// LAN address all work, and no host name is hard-coded.
type originSet struct {
	host  string
	ports *[numRoles]int
}

// originsFor builds the origins for the host r was sent to. guard has
// already refused every request whose Host is not a host name or an IP
// address, so the host is always one.
func (s *Server) originsFor(r *http.Request) originSet {
	return originSet{host: requestHost(r.Host), ports: &s.ports}
}

// requestHost returns the host of a Host header (RFC 9110, 7.2: uri-host
// [ ":" port ]) without its port, and an IPv6 address without its
// brackets: "127.0.0.1", "corslab.localhost", "::1". It returns "" when the
// header is missing or names no host name or IP address: "a:1:2",
// "re_bind.attacker.example", "<script>". So the host corslab builds URLs
// and the Content-Security-Policy from holds only letters, digits, '-', '.'
// and ':'.
func requestHost(hostport string) string {
	host := hostport
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 && !strings.Contains(hostport[i:], "]") {
		host = hostport[:i]
		if port := hostport[i+1:]; strings.Trim(port, "0123456789") != "" {
			return ""
		}
	}
	if inner, ok := strings.CutPrefix(host, "["); ok {
		// An IPv6 address, which is written in brackets; RFC 3986, 3.2.2.
		inner, ok = strings.CutSuffix(inner, "]")
		if ip := net.ParseIP(inner); !ok || ip == nil || !strings.Contains(inner, ":") {
			return ""
		}
		return inner
	}
	if strings.Contains(host, ":") || net.ParseIP(host) == nil && !origins.ValidHostname(host) {
		return "" // a colon left here is an IPv6 address without brackets, or worse
	}
	return host
}

// url is the origin of a role: "http://127.0.0.1:8082".
func (o originSet) url(r Role) string {
	return "http://" + net.JoinHostPort(o.host, strconv.Itoa(o.ports[r]))
}

// base is a session's base URL on a role: appending "/users" to the api's
// reaches the API; on s3 it is the session bucket's path-style URL.
func (o originSet) base(r Role, id string) string { return o.url(r) + "/" + id }

// lab is the lab page of a session, with the scenario's permalink query.
func (o originSet) lab(id, query string) string {
	u := o.url(UI) + "/lab/" + id
	if query != "" {
		u += "?" + query
	}
	return u
}

// share is a link that opens a new session with the scenario.
func (o originSet) share(query string) string {
	u := o.url(UI) + "/lab"
	if query != "" {
		u += "?" + query
	}
	return u
}

// pageOrigin is the serialized origin of the page a run comes from. The
// frames app's page holds (html.spec.whatwg.org/#determining-the-origin):
// one sandboxed without allow-same-origin, and a document from a data: URL,
// get a new opaque origin, "null"; one sandboxed with allow-same-origin
// keeps its URL's origin, app's; an <iframe srcdoc> document has no URL of
// its own and takes its parent's origin, app's again. The look-alike page
// is on its own host name, on the app's port (see lookalikeOrigin).
func (o originSet) pageOrigin(r scenario.Request) string {
	switch r.From {
	case "evil":
		return o.url(Evil)
	case "api":
		return o.url(API)
	case "sandbox", "data":
		return "null"
	case "sandbox-same-origin", "srcdoc":
		return o.url(App)
	case "lookalike":
		return o.lookalikeOrigin(r.LookalikeHost)
	default:
		return o.url(App)
	}
}

// lookalikeOrigin is the attacker's look-alike origin for a host name under
// .localhost: the browser sends every such name to this machine (RFC 6761),
// where the app's server answers any host. It shares the app's port as a
// real look-alike shares the victim's (443), so that an allowlist entry
// that ends with the app's port is no protection.
func (o originSet) lookalikeOrigin(host string) string {
	return "http://" + net.JoinHostPort(host, strconv.Itoa(o.ports[App]))
}

// isLoopbackHost reports whether a host name or address (without port)
// always means this machine to a browser: localhost and every name under
// it (RFC 6761, 6.3), and the loopback addresses. static/progress.js asks
// the same of the host a learner's progress may be carried to.
func isLoopbackHost(h string) bool {
	h = strings.ToLower(strings.TrimSuffix(h, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(h, "[]"))
	return ip != nil && ip.IsLoopback()
}

// bases maps each virtual origin's role to the session's base URL on it.
func (o originSet) bases(id string) map[string]string {
	m := make(map[string]string, 5)
	for _, r := range virtualRoles {
		m[r.String()] = o.base(r, id)
	}
	return m
}

// virtualRoles are the virtual origins, in the order pages list them.
var virtualRoles = []Role{App, API, S3, Evil, Yours}

var originLabels = map[Role]string{
	App:   "app — the frontend, where your fetch() runs",
	API:   "api — the server whose CORS headers you set",
	S3:    "s3 — a fake S3, one bucket per session",
	Evil:  "evil — the attacker's site",
	Yours: "yours — forwards to your own server (yours.baseUrl)",
}

// views lists the virtual origins for a page; id may be empty.
func (o originSet) views(id string) []views.Origin {
	var list []views.Origin
	for _, r := range virtualRoles {
		v := views.Origin{Role: r.String(), Label: originLabels[r], URL: o.url(r)}
		if id != "" {
			v.Base = o.base(r, id)
		}
		list = append(list, v)
	}
	return list
}
