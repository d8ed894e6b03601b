//go:build !linux

package browsertest

import "testing"

// startWebKit skips t: WebKitGTK, its WebKitWebDriver and Xvfb are Linux
// programs (webkit.go).
func startWebKit(t testing.TB) Browser {
	t.Helper()
	missing(t, "browser tests need WebKitGTK, which runs on Linux (apt-get install -y webkit2gtk-driver xvfb)")
	return nil
}
