package browsertest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Axe returns the source of axe-core's axe.min.js, for a test to evaluate
// in a page. It is found at CORSLAB_AXE, or where .ci/run installs it
// (npm ci --prefix .ci, the version .ci/package.json pins). As
// with a browser, its absence skips the test with what to install, unless
// CORSLAB_REQUIRE_BROWSER=1 makes it a failure.
func Axe(t testing.TB) string {
	t.Helper()
	path := os.Getenv("CORSLAB_AXE")
	if path == "" {
		// This file's directory is internal/browsertest in the module.
		_, here, _, _ := runtime.Caller(0)
		path = filepath.Join(filepath.Dir(here), "..", "..", ".ci", "node_modules", "axe-core", "axe.min.js")
	}
	src, err := os.ReadFile(path)
	if err != nil {
		missing(t, "accessibility tests need the npm package axe-core (npm ci --prefix .ci), or CORSLAB_AXE set to its axe.min.js: "+err.Error())
	}
	return string(src)
}
