package cors

import "strings"

// Browser is how one browser engine carries out the parts of the
// standard that the standard leaves to it, and where it departs from the
// standard. Each departure is a named field here, with its own
// explanation, so that the algorithm has no special cases: it asks the
// table.
//
// A departure belongs here only once a real browser has shown it:
// corslab's conformance suite (playground/conformance_test.go) runs every
// case in Debian's Chromium, Firefox ESR and WebKitGTK, and fails if this
// model and the browser disagree; each case where an engine departs names
// the field here that models it.
type Browser struct {
	Name  string // "chromium", "firefox", "webkit" or "spec"
	Title string // for sentences: "Chromium", "Firefox", "WebKit", "the standard"
	// Verified says whether corslab's suite runs every case in this
	// engine (a test holds each verified table to an engine the suite
	// drives).
	Verified bool
	// About says what the table stands for, and what it was checked
	// against.
	About string

	// MaxAgeLimit caps Access-Control-Max-Age, in seconds. The standard
	// lets each browser impose a limit.
	// fetch.spec.whatwg.org/#cors-preflight-fetch (the imposed limit)
	MaxAgeLimit int

	// Departures from the standard. The zero value of each is the
	// standard's behaviour.

	// NegativeMaxAgeIsZero: a negative Access-Control-Max-Age is not a
	// valid delta-seconds, so the standard falls back to 5 seconds; a
	// browser that clamps it to 0 caches nothing.
	NegativeMaxAgeIsZero bool

	// CacheOneEntryPerURL: the standard caches each method and header a
	// preflight allowed as its own entry, so grants from earlier preflights
	// to the same URL live on; a browser that keeps one entry per origin
	// and URL lets each preflight replace the last.
	CacheOneEntryPerURL bool

	// NoCacheForOpaqueOrigin: the standard caches a preflight made for an
	// opaque origin (Origin: null) like any other; a browser may never
	// reuse one.
	NoCacheForOpaqueOrigin bool

	// WildcardCoversAuthorization: the standard never lets
	// Access-Control-Allow-Headers: * cover Authorization; a browser may
	// (without credentials).
	WildcardCoversAuthorization bool

	// CombinesHeaderValues: the standard judges each header the page set
	// on its own, so two Accept headers of 100 bytes are both safelisted; a
	// browser that stores them combined ("a, b") judges the combined value.
	CombinesHeaderValues bool

	// NoSafelistedTotal: the standard preflights a request whose
	// safelisted header values add up to more than 1,024 bytes; a browser
	// may not count the total.
	NoSafelistedTotal bool

	// NoDefaultMaxAge: without a valid Access-Control-Max-Age (absent, or
	// not a number) the standard caches a preflight for 5 seconds; a
	// browser may cache nothing.
	NoDefaultMaxAge bool

	// CacheCredentialsExact: a preflight cached for a request with
	// credentials also serves requests without, in the standard; a browser
	// may serve only requests of the same credentials mode.
	CacheCredentialsExact bool

	// CacheWildcardLiteral: a cached `*` from Access-Control-Allow-Methods
	// or -Headers serves any method or header (without credentials) in
	// the standard; a browser may cache `*` as a name, so another method
	// or header is preflighted again.
	CacheWildcardLiteral bool

	// PreflightAfterRedirect: the standard decides at each hop whether the
	// request needs a preflight, so a PUT that a 303 turned into a plain
	// GET goes without one; a browser may preflight every hop after a
	// request needed one.
	PreflightAfterRedirect bool

	// CacheMayDrop: a cached preflight serves until its max-age runs out,
	// in the standard; a browser may drop an entry sooner, at times the
	// page cannot see, so a repeat may or may not be preflighted again.
	CacheMayDrop bool

	// OpaqueCachePerDocument: the standard keys the preflight cache on
	// the serialized origin, so every document whose origin is opaque
	// shares the entries made for `null`; a browser may key them on the
	// opaque origin itself, so that only the same document reuses them.
	OpaqueCachePerDocument bool

	// KeepsAuthorizationOnRedirect: the standard drops Authorization when
	// a redirect leads to another origin; a browser may keep it, and so
	// preflight the next hop for it.
	KeepsAuthorizationOnRedirect bool

	// SameSiteFromTopLevel: the standard's SameSite rule compares the
	// server's site with the page that made the request and every frame
	// above it, and an opaque origin is no site at all; a browser may
	// compare it with the top-level page's site only.
	SameSiteFromTopLevel bool

	// PreflightOriginUntainted: after a redirect taints the request's
	// origin, the standard sends `Origin: null` on the preflight as on the
	// request; a browser may send the page's origin on the preflight, and
	// check the preflight's answer against it.
	PreflightOriginUntainted bool

	// FontsWithoutCORS: the standard fetches an @font-face font in mode
	// cors, so a font from another origin needs Access-Control-Allow-Origin;
	// a browser may fetch it in mode no-cors and use it whatever the
	// server's headers.
	FontsWithoutCORS bool

	// ScriptErrorsNotMuted: the standard mutes the errors of a classic
	// script that came without CORS (window.onerror gets "Script error.");
	// a browser may report them in full.
	ScriptErrorsNotMuted bool

	// ORBEmptyBody: opaque-response blocking makes a blocked no-cors
	// answer (JSON to a <script>) a network error in the standard; a
	// browser may hand the element an empty body instead, so that a
	// script fires load and runs nothing.
	ORBEmptyBody bool
}

// Departure is a rule on which a browser and the standard differ.
type Departure struct {
	Spec string // what the standard says
	Does string // what the browser does
}

// Departures explains each departure field of Browser: what the standard
// says, and what a browser that departs does.
var Departures = map[string]Departure{
	"WildcardCoversAuthorization": {
		Spec: "`Access-Control-Allow-Headers: *` never covers `Authorization`, which must be named",
		Does: "lets `*` cover it when no credentials are included",
	},
	"CombinesHeaderValues": {
		Spec: "each header the page set is judged on its own value",
		Does: "judges headers of the same name on their combined value, joined with \", \"",
	},
	"CacheOneEntryPerURL": {
		Spec: "each method and header a preflight allowed is cached on its own, so grants from an earlier preflight to this URL would still serve",
		Does: "keeps one entry per origin and URL, and the latest preflight replaced it",
	},
	"NoCacheForOpaqueOrigin": {
		Spec: "a preflight made for the opaque origin `null` is cached like any other",
		Does: "never reuses a preflight made for an opaque origin",
	},
	"NegativeMaxAgeIsZero": {
		Spec: "a negative Access-Control-Max-Age is not a number of seconds, so the preflight is cached for the default 5 s",
		Does: "clamps it to 0 and caches nothing",
	},
	"NoSafelistedTotal": {
		Spec: "safelisted headers whose values add up to more than 1,024 bytes need a preflight",
		Does: "judges each safelisted header alone and never counts the total",
	},
	"NoDefaultMaxAge": {
		Spec: "a preflight answered without a valid Access-Control-Max-Age (absent, or not a number) is cached for 5 s",
		Does: "caches nothing then",
	},
	"CacheCredentialsExact": {
		Spec: "a preflight cached for a request with credentials also serves requests without them",
		Does: "reuses a cached preflight only for a request of the same credentials mode",
	},
	"CacheWildcardLiteral": {
		Spec: "a cached `*` from `Access-Control-Allow-Methods` or `-Headers` serves any method or header while it lasts (without credentials)",
		Does: "keeps `*` in its cache as a name, so another method or header is preflighted again",
	},
	"PreflightAfterRedirect": {
		Spec: "each hop is preflighted only if its own method and headers need it, so a request a redirect made simple goes without",
		Does: "preflights every later hop of a request that needed a preflight",
	},
	"CacheMayDrop": {
		Spec: "a cached preflight serves every matching request until its max-age runs out",
		Does: "may drop it sooner: its source discards an entry when it has looked the server's host up again since the entry was stored, and corslab's runs see a repeat preflighted again now and then",
	},
	"OpaqueCachePerDocument": {
		Spec: "preflights are cached under the serialized origin, so every opaque-origin document shares what was cached for `null`",
		Does: "keys the cache on the opaque origin itself: a reloaded sandboxed frame is a new origin, and is preflighted again",
	},
	"KeepsAuthorizationOnRedirect": {
		Spec: "a redirect to another origin drops `Authorization` from the request",
		Does: "keeps `Authorization`, so the next hop carries it and is preflighted for it",
	},
	"SameSiteFromTopLevel": {
		Spec: "`SameSite` compares the server's site with the page that made the request and every frame above it, and a page with an opaque origin is no site at all, so `SameSite=Lax` cookies stay behind",
		Does: "compares it with the top-level page's site only: the lab is on the server's site, so `SameSite=Lax` cookies go along",
	},
	"FontsWithoutCORS": {
		Spec: "an `@font-face` font is fetched in mode `cors`, so a font from another origin is used only with `Access-Control-Allow-Origin`",
		Does: "fetches it in mode `no-cors`, without `Origin`, and uses it whatever the server's CORS headers say",
	},
	"ScriptErrorsNotMuted": {
		Spec: "a classic script that came without CORS has its errors muted: `window.onerror` gets only `Script error.`",
		Does: "hands `window.onerror` the full message, file and line even then",
	},
	"ORBEmptyBody": {
		Spec: "a no-cors answer that opaque-response blocking stops (JSON to a `<script>`) is a network error: the element fires `error`",
		Does: "hands the element an empty body instead: a `<script>` fires `load` and runs nothing",
	},
	"PreflightOriginUntainted": {
		Spec: "after a redirect taints the request's origin, the preflight carries `Origin: null` like the request",
		Does: "sends the page's own origin on the preflight, and checks the preflight's answer against it, while the request after it carries `Origin: null`",
	},
}

// Note is the sentence a step carries when a departure shaped it.
func (b *Browser) Note(field string) string {
	d := Departures[field]
	return "The spec says " + d.Spec + "; " + b.Title + " " + d.Does + "."
}

// The engines corslab knows, each checked by the conformance suite in the
// Debian package named in About.
var (
	Chromium = &Browser{
		Name: "chromium", Title: "Chromium", Verified: true,
		About:       "Chromium's rules (Chrome, Edge, Opera, Brave), checked against Debian's Chromium.",
		MaxAgeLimit: 7200,

		NegativeMaxAgeIsZero:        true,
		CacheOneEntryPerURL:         true,
		NoCacheForOpaqueOrigin:      true,
		WildcardCoversAuthorization: true,
		CombinesHeaderValues:        true,
		ORBEmptyBody:                true,
	}
	Firefox = &Browser{
		Name: "firefox", Title: "Firefox", Verified: true,
		About:       "Firefox's rules (Gecko), checked against Debian's Firefox ESR.",
		MaxAgeLimit: 86400,

		NegativeMaxAgeIsZero:        true,
		NoDefaultMaxAge:             true,
		CacheCredentialsExact:       true,
		CacheMayDrop:                true,
		CacheWildcardLiteral:        true,
		WildcardCoversAuthorization: true,
		NoSafelistedTotal:           true,
		PreflightAfterRedirect:      true,
		PreflightOriginUntainted:    true,
		ScriptErrorsNotMuted:        true,
	}
	WebKit = &Browser{
		Name: "webkit", Title: "WebKit", Verified: true,
		About: "WebKit's rules, checked against Debian's WebKitGTK, which stands in for Safari: " +
			"the CORS code is WebKit's own, but Safari's cookie policy and network stack differ from WebKitGTK's.",
		MaxAgeLimit: 600,

		NegativeMaxAgeIsZero:         true,
		CacheOneEntryPerURL:          true,
		OpaqueCachePerDocument:       true,
		WildcardCoversAuthorization:  true,
		CombinesHeaderValues:         true,
		PreflightAfterRedirect:       true,
		KeepsAuthorizationOnRedirect: true,
		SameSiteFromTopLevel:         true,
		FontsWithoutCORS:             true,
		ORBEmptyBody:                 true,
	}
	Standard = &Browser{
		Name: "spec", Title: "the standard",
		About:       "The Fetch standard's rules, for a browser corslab does not know.",
		MaxAgeLimit: 86400,
	}
)

// Engines are the tables of the three engines.
var Engines = []*Browser{Chromium, Firefox, WebKit}

// ForUserAgent picks the table for a User-Agent string. Every browser on
// iOS is WebKit, whatever its name.
func ForUserAgent(ua string) *Browser {
	switch {
	case strings.Contains(ua, "CriOS/"), strings.Contains(ua, "FxiOS/"), strings.Contains(ua, "EdgiOS/"):
		return WebKit
	case strings.Contains(ua, "Firefox/"):
		return Firefox
	case strings.Contains(ua, "Chrome/"), strings.Contains(ua, "Chromium/"):
		return Chromium
	case strings.Contains(ua, "Safari/"), strings.Contains(ua, "AppleWebKit/"):
		return WebKit
	default:
		return Standard
	}
}
