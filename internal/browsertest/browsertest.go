// Package browsertest starts the real browsers that corslab's tests use as
// their oracle: Debian's Chromium, Firefox ESR and WebKitGTK, each behind
// the small Browser and Tab interfaces (driver.go). CDP gives Chromium-only
// tests chromedp itself.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"
)

// CDP returns a chromedp browser context for t: one headless Chromium
// with a fresh profile, closed when t ends. Tabs made from it with
// chromedp.NewContext share the browser.
//
// Without a Chromium binary the test is skipped with a message naming the
// package to install, unless CORSLAB_REQUIRE_BROWSER=1 (as in CI), which
// makes it a failure.
func CDP(t testing.TB) context.Context {
	t.Helper()
	path := os.Getenv("CORSLAB_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(path); err != nil {
		msg := "browser tests need Chromium (apt-get install -y chromium), or CORSLAB_CHROMIUM set to its path: " + err.Error()
		missing(t, msg)
	}
	// Not t.TempDir: Chromium may still be writing its profile while the
	// test's own clean-up runs, and a failed removal would fail the test.
	profile, err := os.MkdirTemp("", "corslab-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1366, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	// Start the browser now, so that a broken install fails here, clearly.
	// (The first Run's context owns the browser: no timeout on it.)
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		cancelAlloc()
		os.RemoveAll(profile)
		t.Fatalf("starting Chromium at %s: %v", path, err)
	}
	t.Cleanup(func() {
		chromedp.Cancel(ctx) // closes the browser and waits for it
		cancel()
		cancelAlloc()
		os.RemoveAll(profile) // best effort: a leftover temp dir harms nobody
	})
	return ctx
}
