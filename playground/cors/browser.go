package cors

import "strings"

// Browser is how one browser carries out the parts of the standard that
// the standard leaves to it, and where it departs from the standard. Each
// departure is a named field here, with its own explanation, so that the
// algorithm has no special cases: it asks the table.
//
// A departure belongs here only once a real browser has shown it: for
// Chromium, corslab's conformance suite (playground/conformance_test.go)
// runs every rule in Debian's Chromium and fails if this model and the
// browser disagree.
type Browser struct {
	Name string // "chromium", "firefox", "safari" or "spec"
	// Verified says whether corslab's suite has checked this table
	// against the real browser.
	Verified bool

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

// note is the sentence a step carries when a departure shaped it.
func (b *Browser) note(field string) string {
	d := departures[field]
	return "The spec says " + d.Spec + "; " + b.Title() + " " + d.Does + "."
}

// Title is the browser's name for sentences.
func (b *Browser) Title() string {
	if b.Name == "spec" {
		return "the standard"
	}
	return strings.ToUpper(b.Name[:1]) + b.Name[1:]
}

// The browsers corslab knows. Only Chromium is checked by the suite; the
// others carry the limits their makers document, and otherwise the
// standard, which the page says when their behaviour surprises the model.
var (
	Chromium = &Browser{
		Name: "chromium", Verified: true, MaxAgeLimit: 7200,
		NegativeMaxAgeIsZero:        true,
		CacheOneEntryPerURL:         true,
		NoCacheForOpaqueOrigin:      true,
		WildcardCoversAuthorization: true,
		CombinesHeaderValues:        true,
	}
	Firefox  = &Browser{Name: "firefox", MaxAgeLimit: 86400}
	Safari   = &Browser{Name: "safari", MaxAgeLimit: 600}
	Standard = &Browser{Name: "spec", MaxAgeLimit: 86400}
)

// ForUserAgent picks the table for a User-Agent string.
func ForUserAgent(ua string) *Browser {
	switch {
	case strings.Contains(ua, "Firefox/"):
		return Firefox
	case strings.Contains(ua, "Chrome/"), strings.Contains(ua, "Chromium/"):
		return Chromium
	case strings.Contains(ua, "Safari/"):
		return Safari
	default:
		return Standard
	}
}
