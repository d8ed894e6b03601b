package cors

import "fmt"

// The kinds of page whose origin is not simply the origin of their URL.
// A Request names one in Page, so that the explanation can say where the
// page's origin came from. html.spec.whatwg.org/#determining-the-origin
const (
	// PageSandbox is an iframe sandboxed without allow-same-origin: its
	// document gets a new opaque origin, whatever URL it came from.
	PageSandbox = "sandbox"
	// PageSandboxSameOrigin is an iframe sandboxed with allow-same-origin:
	// it stays sandboxed, yet keeps the origin of its URL.
	PageSandboxSameOrigin = "sandbox-same-origin"
	// PageData is a frame whose document came from a data: URL: it gets a
	// new opaque origin, whichever page made the frame.
	PageData = "data"
	// PageSrcdoc is an <iframe srcdoc> document: it has no URL of its own
	// and takes the origin of the document that holds the iframe.
	PageSrcdoc = "srcdoc"
)

// opaqueBecause says, in the words of a parenthesis, why a page of this
// kind has an opaque origin.
func opaqueBecause(page string) string {
	switch page {
	case PageSandbox:
		return "an iframe sandboxed without `allow-same-origin` gets a new opaque origin, whatever URL it was loaded from"
	case PageData:
		return "a document from a `data:` URL gets a new opaque origin, whichever page made the frame"
	default:
		return "a sandboxed iframe, or a document from a `data:` URL"
	}
}

// originBecause says where a page of this kind with a real origin got it,
// or "" for an ordinary page, whose origin is its URL's.
func originBecause(page, origin string) string {
	switch page {
	case PageSrcdoc:
		return fmt.Sprintf("The page is an `<iframe srcdoc>` document: it has no URL of its own, so it takes the origin of the page that holds the iframe, `%s`. srcdoc alone is not opaque; only `sandbox` without `allow-same-origin` on the iframe would make it so.", origin)
	case PageSandboxSameOrigin:
		return fmt.Sprintf("The page is in an iframe sandboxed with `allow-same-origin`: it stays sandboxed, but keeps the origin of the URL it was loaded from, `%s`, instead of a new opaque one.", origin)
	}
	return ""
}
