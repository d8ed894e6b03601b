// Package static holds the lab's hand-written ES modules and stylesheets.
// There is no build step: what is in this folder is what the browser loads.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
)

// FS is served at /static/ on the UI origin and at /_corslab/static/ on the
// virtual origins (runner.js, runner.css, lab.css).
//
//go:embed *.js *.css
var FS embed.FS

// Version names this build's set of files as a whole: the first 10 hex
// digits of a SHA-256 over every file's name and contents. Pages load the
// files from /static/v/{Version}/, which never changes its bytes, so the
// browser may keep them for good; a module's relative imports
// ("./dom.js") resolve under the same prefix, so they are versioned too.
var Version = version(FS)

func version(fsys fs.FS) string {
	h := sha256.New()
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		h.Write([]byte(path + "\x00" + hex.EncodeToString(sum[:]) + "\n"))
		return nil
	})
	if err != nil {
		panic("static: " + err.Error()) // embedded at build time: cannot fail
	}
	return hex.EncodeToString(h.Sum(nil))[:10]
}
