package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromium is Chromium through chromedp: each tab a chromedp target of
// one browser.
type chromium struct{ ctx context.Context }

func startChromium(t testing.TB) Browser { return chromium{CDP(t)} }

func (chromium) Engine() string { return Chromium }

func (c chromium) NewTab(t testing.TB) Tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(c.ctx)
	tab := &chromiumTab{ctx: ctx, cancel: cancel}
	// The first call on a tab opens it, for as long as the context of
	// that call lives: no timeout here.
	if err := chromedp.Listen(ctx, tab.listen); err != nil {
		cancel()
		t.Fatalf("opening a Chromium tab: %v", err)
	}
	t.Cleanup(func() { tab.Close() })
	return tab
}

type chromiumTab struct {
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	console []string
}

// Context is the tab's chromedp context, for Chromium-only tests that
// need more of CDP than Tab offers.
func (tab *chromiumTab) Context() context.Context { return tab.ctx }

func (tab *chromiumTab) listen(ev any) {
	var line string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		var parts []string
		for _, a := range ev.Args {
			if a.Value != nil {
				var s string
				if json.Unmarshal(a.Value, &s) == nil {
					parts = append(parts, s)
					continue
				}
				parts = append(parts, string(a.Value))
			} else {
				parts = append(parts, a.Description)
			}
		}
		line = string(ev.Type) + ": " + strings.Join(parts, " ")
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text = d.Exception.Description
		}
		line = "error: " + text
	default:
		return
	}
	tab.mu.Lock()
	tab.console = append(tab.console, line)
	tab.mu.Unlock()
}

func (tab *chromiumTab) Navigate(ctx context.Context, url string) error {
	ctx, cancel := tab.with(ctx)
	defer cancel()
	return chromedp.Do(ctx, chromedp.Navigate(url))
}

func (tab *chromiumTab) Eval(ctx context.Context, expr string, out any) error {
	ctx, cancel := tab.with(ctx)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[*string](jsonOf(expr), chromedp.EvalAwaitPromise))
	if err != nil {
		return fmt.Errorf("evaluating %.200s: %w", expr, err)
	}
	return decode(s, out)
}

func (tab *chromiumTab) Console() []string {
	tab.mu.Lock()
	defer tab.mu.Unlock()
	return append([]string(nil), tab.console...)
}

func (tab *chromiumTab) Close() error {
	tab.cancel()
	return nil
}

// with is the tab's context, bounded by ctx's deadline and cancellation.
func (tab *chromiumTab) with(ctx context.Context) (context.Context, context.CancelFunc) {
	c, cancel := context.WithCancel(tab.ctx)
	stop := context.AfterFunc(ctx, cancel)
	if d, ok := ctx.Deadline(); ok {
		var cancelDeadline context.CancelFunc
		c, cancelDeadline = context.WithDeadline(c, d)
		return c, func() { stop(); cancelDeadline(); cancel() }
	}
	return c, func() { stop(); cancel() }
}

// jsonOf wraps a page expression so that its value, awaited, comes back
// as JSON text (or null for undefined): the one value shape every
// protocol returns the same way.
func jsonOf(expr string) string {
	return "(async () => { const v = await (" + expr + "\n); return v === undefined ? null : JSON.stringify(v); })()"
}

// decode decodes what jsonOf returned into out.
func decode(s *string, out any) error {
	if out == nil {
		return nil
	}
	text := "null"
	if s != nil {
		text = *s
	}
	if err := json.Unmarshal([]byte(text), out); err != nil {
		return fmt.Errorf("decoding the page's value %.200s: %w", text, err)
	}
	return nil
}

// CDPTab is the Tab of a chromedp tab context the caller opened (with
// chromedp.NewContext and a first Run), for Chromium-only tests that use
// CDP on the same page. Its console is read from now on; Close leaves the
// tab to its owner.
func CDPTab(ctx context.Context) Tab {
	tab := &chromiumTab{ctx: ctx, cancel: func() {}}
	chromedp.Listen(ctx, tab.listen)
	return tab
}
