// Package scenario is the one document that describes a corslab lab: what the
// page asks the browser to fetch, and which CORS headers the api origin sends.
// The same JSON backs the lab UI, the JSON API and permalinks (as query
// parameters, see query.go).
package scenario

import (
	"maps"
	"slices"

	"github.com/corslab/corslab/playground/s3cors"
)

// Version is the schema version this server reads and writes.
const Version = 1

// Scenario is a lab's complete set-up. The zero value is not useful; start
// from Default.
type Scenario struct {
	Version int `json:"version"`
	// Setup says where the page, the api and the bucket live:
	//
	//   - three-origins: the page on request.from (app by default), the api
	//     on api, files on s3;
	//   - two-origins: the page is served by the api origin (request.from
	//     must be "api"), files on s3;
	//   - one-origin: the app origin proxies /api/* to the api and /files/*
	//     to the bucket, like a CDN, so the page (request.from "app") needs
	//     no CORS at all.
	Setup   string  `json:"setup"`
	Request Request `json:"request"`
	API     API     `json:"api"`
	Bucket  Bucket  `json:"bucket"`
	Proxy   Proxy   `json:"proxy"`
	Yours   Yours   `json:"yours"`
}

// Yours is the learner's own server, which the yours origin forwards every
// request to (request.target "yours").
type Yours struct {
	// BaseURL is an http or https URL, such as https://api.example.com/v1:
	// a request for /<session>/users on the yours origin goes to
	// <BaseURL>/users. Empty: the yours origin answers 404 and says to set
	// it.
	BaseURL string `json:"baseUrl"`
}

// Bucket is the session's S3 bucket.
type Bucket struct {
	// CORS is the bucket's CORS configuration, applied with PutBucketCors
	// (or DeleteBucketCors when nil: the bucket has none).
	CORS []s3cors.Rule `json:"cors"`
}

// normalize gives every rule's absent lists the empty list, so that a rule
// reads the same whether it came from JSON or a permalink.
func (b *Bucket) normalize() {
	for i := range b.CORS {
		r := &b.CORS[i]
		for _, l := range []*[]string{&r.AllowedOrigins, &r.AllowedMethods, &r.AllowedHeaders, &r.ExposeHeaders} {
			if *l == nil {
				*l = []string{}
			}
		}
	}
}

// Proxy is the one-origin setup's CDN on the app origin.
type Proxy struct {
	// AddOrigin, when not empty, is the Origin header the proxy adds to a
	// request that has none, the way an edge authorizer does so that S3
	// answers with CORS headers.
	AddOrigin string `json:"addOrigin"`
}

// Request is what the page asks its browser to fetch.
type Request struct {
	// From is the page that runs the fetch: app, sandbox (an iframe
	// served by app, sandboxed with allow-scripts only: its origin is
	// opaque, so Origin: null), sandbox-same-origin (the same iframe with
	// allow-same-origin too: it keeps app's origin), data (a frame whose
	// document is a data: URL, made by app's page: opaque, Origin: null),
	// srcdoc (an <iframe srcdoc> document in app's page: it inherits app's
	// origin), evil, api, or lookalike (the attacker's look-alike origin,
	// see LookalikeHost).
	From string `json:"from"`
	// LookalikeHost is the host name of the attacker's look-alike origin,
	// the page From lookalike runs on: http://<LookalikeHost>:<app's port>.
	// It is a name under .localhost, which Chromium resolves to this
	// machine (RFC 6761), so it reaches corslab's app server, which answers
	// any host. The app's port, because a real look-alike shares the
	// victim's port (443). Empty is allowed unless From is lookalike.
	LookalikeHost string `json:"lookalikeHost"`
	// Target is the origin the request goes to: api, s3 to fetch an object
	// of the session's bucket directly, or yours, which forwards the
	// request to Yours.BaseURL. In the one-origin setup api and s3 are
	// reached through the app origin's proxy; yours has no place there.
	Target string `json:"target"`
	// Method is passed to fetch() as written. fetch() upper-cases only
	// DELETE, GET, HEAD, OPTIONS, POST and PUT; "patch" stays "patch".
	Method string `json:"method"`
	// Path is relative to the session's base URL on the target origin, and
	// may carry a query string: "/users?limit=2".
	Path        string            `json:"path"`
	Headers     map[string]string `json:"headers"`
	Body        string            `json:"body"`
	Credentials string            `json:"credentials"` // omit, same-origin, include
	Mode        string            `json:"mode"`        // cors, no-cors, same-origin
	Redirect    string            `json:"redirect"`    // follow, error, manual

	// Via is the door the page crosses origins by: fetch (fetch(), the
	// default), xhr (XMLHttpRequest), img (an <img>), img+canvas (an
	// <img> drawn on a <canvas>, whose pixels the page then reads), script
	// (a classic <script>), font (an @font-face font), stylesheet (a
	// <link rel=stylesheet>), eventsource, websocket, form (an HTML form
	// submission, into a frame) or beacon (navigator.sendBeacon). Each
	// decides the request's mode and credentials mode (see cors.Door);
	// Mode, Credentials and Redirect are fetch()'s own and keep their
	// defaults for every other door.
	Via string `json:"via"`
	// CrossOrigin is the crossorigin attribute of an img, img+canvas,
	// script or stylesheet element: none (no attribute), anonymous or
	// use-credentials. html.spec.whatwg.org/#cors-settings-attributes
	CrossOrigin string `json:"crossOrigin"`
	// WithCredentials is XMLHttpRequest's withCredentials, and the
	// EventSource constructor's option of that name.
	WithCredentials bool `json:"withCredentials"`
	// Enctype is a form's enctype: application/x-www-form-urlencoded,
	// multipart/form-data or text/plain. The form's fields are Body's
	// name=value&… pairs.
	Enctype string `json:"enctype"`
}

// API is the CORS policy of the api origin. Every CORS header it sends, on
// every response including preflights, comes from here.
type API struct {
	// AllowOrigin chooses Access-Control-Allow-Origin: "" sends none, "*",
	// "echo" reflects the request's Origin, "allowlist" answers the Origin
	// only if it matches Allowlist under Match, and anything else (an origin,
	// "null", even a list) is sent as written.
	AllowOrigin string   `json:"allowOrigin"`
	Allowlist   []string `json:"allowlist"`
	// Match is how an Origin is compared with Allowlist entries: exact,
	// suffix (strings.HasSuffix), prefix (strings.HasPrefix) or regex
	// (unanchored, unescaped). The sloppy modes exist for attack lessons.
	Match            string `json:"match"`
	AllowCredentials bool   `json:"allowCredentials"`
	AllowMethods     string `json:"allowMethods"`
	// AllowHeaders is sent as written; "echo" mirrors the preflight's
	// Access-Control-Request-Headers.
	AllowHeaders  string `json:"allowHeaders"`
	ExposeHeaders string `json:"exposeHeaders"`
	// MaxAge is Access-Control-Max-Age in seconds; nil sends no header.
	MaxAge *int `json:"maxAge"`
	// Vary sends Vary: Origin on every response.
	Vary bool `json:"vary"`
	// PreflightStatus is the status of the answer to a preflight.
	PreflightStatus int `json:"preflightStatus"`
	// ExtraHeaders are sent on every response exactly as written, and
	// replace a header of the same name the settings above would send:
	// `Access-Control-Allow-Credentials: TRUE`, say.
	ExtraHeaders map[string]string `json:"extraHeaders"`

	// Redirect is how GET /files/{key} hands out the presigned URL it
	// makes: a redirect with this status (301, 302, 303, 307 or 308), or
	// 0 for 200 with the URL in the body, the two-phase variant.
	Redirect int `json:"redirect"`
	// SignedURLExpires is how long a presigned URL lives, in seconds.
	SignedURLExpires int `json:"signedUrlExpires"`
	// RequireLogin makes /files and /uploads refuse a request without a
	// valid login cookie (POST /login sets it).
	RequireLogin bool `json:"requireLogin"`
	// RequireJSON makes the api refuse a body whose Content-Type is not
	// application/json (415): no form can send one, and a cross-origin
	// fetch() only after a preflight. The defence against CSRF that the
	// form lesson ends with.
	RequireJSON bool `json:"requireJson"`
	// WebsocketOrigins is what the /socket endpoint checks on a WebSocket
	// handshake, which CORS does not cover: "any" accepts every Origin,
	// "allowlist" only one Allowlist matches under Match.
	WebsocketOrigins string `json:"websocketOrigins"`
	// CookieSameSite is the SameSite attribute of the login cookie POST
	// /login sets: "lax", "strict", or "none", which is sent as
	// "SameSite=None; Secure" because browsers refuse None without Secure.
	CookieSameSite string `json:"cookieSameSite"`
}

// FetchDoor sets r's door fields as Default has them: fetch(), with every
// other door's settings at their defaults.
func FetchDoor(r *Request) {
	r.Via, r.CrossOrigin, r.WithCredentials, r.Enctype = "fetch", "none", false, "application/x-www-form-urlencoded"
}

// DefaultLookalikeHost is Request.LookalikeHost in a new scenario: a name
// that ends like a careless suffix check on a corslab.localhost app wants.
const DefaultLookalikeHost = "app-corslab.localhost"

// Default is the scenario a new session starts with: a plain cross-origin GET
// from the app origin to an api that sends no CORS headers at all, the
// classic "blocked" starting point.
func Default() Scenario {
	s := Scenario{
		Version: Version,
		Setup:   "three-origins",
		Request: Request{
			From:          "app",
			LookalikeHost: DefaultLookalikeHost,
			Target:        "api",
			Method:        "GET",
			Path:          "/users",
			Headers:       map[string]string{},
			Credentials:   "same-origin",
			Mode:          "cors",
			Redirect:      "follow",
		},
		API: API{
			Allowlist:        []string{},
			Match:            "exact",
			Vary:             true,
			PreflightStatus:  204,
			ExtraHeaders:     map[string]string{},
			Redirect:         303,
			SignedURLExpires: 900,
			CookieSameSite:   "lax",
			WebsocketOrigins: "any",
		},
	}
	FetchDoor(&s.Request)
	return s
}

// clone returns a copy of s that shares no map or slice with it.
func (s Scenario) clone() Scenario {
	c := s
	c.Request.Headers = maps.Clone(s.Request.Headers)
	c.API.Allowlist = slices.Clone(s.API.Allowlist)
	c.API.ExtraHeaders = maps.Clone(s.API.ExtraHeaders)
	if s.API.MaxAge != nil {
		v := *s.API.MaxAge
		c.API.MaxAge = &v
	}
	if s.Bucket.CORS != nil {
		c.Bucket.CORS = make([]s3cors.Rule, len(s.Bucket.CORS))
		for i, r := range s.Bucket.CORS {
			r.AllowedOrigins = slices.Clone(r.AllowedOrigins)
			r.AllowedMethods = slices.Clone(r.AllowedMethods)
			r.AllowedHeaders = slices.Clone(r.AllowedHeaders)
			r.ExposeHeaders = slices.Clone(r.ExposeHeaders)
			if r.MaxAgeSeconds != nil {
				v := *r.MaxAgeSeconds
				r.MaxAgeSeconds = &v
			}
			c.Bucket.CORS[i] = r
		}
	}
	if c.Request.Headers == nil {
		c.Request.Headers = map[string]string{}
	}
	if c.API.ExtraHeaders == nil {
		c.API.ExtraHeaders = map[string]string{}
	}
	if c.API.Allowlist == nil {
		c.API.Allowlist = []string{}
	}
	return c
}
