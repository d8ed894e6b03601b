// Package static holds the lab's hand-written ES modules and stylesheet.
// There is no build step: what is in this folder is what the browser loads.
package static

import "embed"

// FS is served at /static/ on the UI origin and at /_corslab/static/ on the
// virtual origins (runner.js, lab.css).
//
//go:embed *.js *.css
var FS embed.FS
