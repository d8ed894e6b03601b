package browsertest

import (
	"context"
	"os"
	"testing"
)

// The engines corslab's browser tests run in, each from Debian's packages.
const (
	Chromium = "chromium" // package chromium, driven by chromedp (CDP)
	Firefox  = "firefox"  // package firefox-esr, driven over WebDriver BiDi
	WebKit   = "webkit"   // packages webkit2gtk-driver and xvfb: MiniBrowser, WebDriver classic
)

// Engines are the three engines, in the order the suites run them.
var Engines = []string{Chromium, Firefox, WebKit}

// A Browser is one running browser of an engine, shared by a test's tabs.
type Browser interface {
	// Engine is Chromium, Firefox or WebKit.
	Engine() string
	// NewTab opens a blank tab (or window), closed when t ends. Tabs of
	// one browser share its cookies and its caches.
	NewTab(t testing.TB) Tab
}

// A Tab is one page of a browser: the four things the suites need.
// A Tab's methods may be called from one goroutine at a time; different
// tabs of one browser may be used at once.
type Tab interface {
	// Navigate opens url and returns once its load event fired.
	Navigate(ctx context.Context, url string) error
	// Eval evaluates a JavaScript expression in the page; a promise is
	// awaited. The value goes through JSON.stringify and is decoded into
	// out (which may be nil). A thrown error is returned as an error.
	Eval(ctx context.Context, expr string, out any) error
	// Console returns what the page logged since the tab opened: console
	// messages and uncaught errors, one line each, "level: text".
	Console() []string
	// Close closes the tab. It is called by the clean-up of NewTab's t,
	// and may be called again.
	Close() error
}

// Start starts engine's browser for t (closed when t ends), or skips t
// with a message naming the package to install, unless
// CORSLAB_REQUIRE_BROWSER=1 (as in CI), which makes it a failure.
func Start(t testing.TB, engine string) Browser {
	t.Helper()
	switch engine {
	case Chromium:
		return startChromium(t)
	case Firefox:
		return startFirefox(t)
	case WebKit:
		return startWebKit(t)
	}
	t.Fatalf("browsertest: unknown engine %q", engine)
	return nil
}

// missing skips t, or fails it when browsers are required, saying what
// to install.
func missing(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CORSLAB_REQUIRE_BROWSER") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Each runs f once per engine, as a subtest named after the engine, each
// with its own browser.
func Each(t *testing.T, f func(t *testing.T, b Browser)) {
	for _, engine := range Engines {
		t.Run(engine, func(t *testing.T) { f(t, Start(t, engine)) })
	}
}
