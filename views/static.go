package views

import (
	"github.com/a-h/templ"

	"github.com/corslab/corslab/static"
)

// staticURL is the URL of one of the static/ files under base, where this
// page's origin serves them ("/static" on the UI origin,
// "/_corslab/static" on the virtual origins): the versioned form,
// base/v/{static.Version}/name, which the browser caches for good
// (playground/static.go). Pages name no other form.
func staticURL(base, name string) templ.SafeURL {
	return templ.SafeURL(base + "/v/" + static.Version + "/" + name)
}
