package playground

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/corslab/corslab/internal/browsertest"
	"github.com/corslab/corslab/playground/cors"
)

// The suites that must hold in every engine (the conformance suite, the
// matrix, the lessons) drive browsers through browsertest's Tab. These are
// their helpers; the Chromium-only tests keep chromedp's.

// engineTable is the engine model's table for a browsertest engine.
func engineTable(engine string) *cors.Browser {
	switch engine {
	case browsertest.Chromium:
		return cors.Chromium
	case browsertest.Firefox:
		return cors.Firefox
	case browsertest.WebKit:
		return cors.WebKit
	}
	panic("no table for engine " + engine)
}

// departsIn reports whether table b has the departure field set.
func departsIn(b *cors.Browser, field string) bool {
	f := reflect.ValueOf(b).Elem().FieldByName(field)
	return f.IsValid() && f.Kind() == reflect.Bool && f.Bool()
}

// open opens u in tab and waits for its load event.
func open(t *testing.T, tab browsertest.Tab, u string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := tab.Navigate(ctx, u); err != nil {
		t.Fatalf("opening %s: %v", u, err)
	}
}

// jsValue evaluates expr in tab.
func jsValue[T any](t *testing.T, tab browsertest.Tab, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var v T
	if err := tab.Eval(ctx, expr, &v); err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}
