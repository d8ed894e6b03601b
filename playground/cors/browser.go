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
}

// Departure is a rule on which a browser and the standard differ.
type Departure struct {
	Spec string // what the standard says
	Does string // what the browser does
}

// departures explains each departure field of Browser.
var departures = map[string]Departure{
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
}

// Note is the sentence a step carries when a departure shaped it.
func (b *Browser) Note(field string) string {
	d := departures[field]
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
	}
	Firefox = &Browser{
		Name: "firefox", Title: "Firefox", Verified: true,
		About:       "Firefox's rules (Gecko), checked against Debian's Firefox ESR.",
		MaxAgeLimit: 86400,
	}
	WebKit = &Browser{
		Name: "webkit", Title: "WebKit", Verified: true,
		About: "WebKit's rules, checked against Debian's WebKitGTK, which stands in for Safari: " +
			"the CORS code is WebKit's own, but Safari's cookie policy and network stack differ from WebKitGTK's.",
		MaxAgeLimit: 600,
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
