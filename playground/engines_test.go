package playground

import (
	"context"
	"os"
	"reflect"
	"slices"
	"strings"
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

// departsHere reports whether engine is one of engines, which depart from
// the standard in a case as the field of their tables says. It fails t if
// engine's table does not set the field, and logs what the standard says
// and what the engine does.
func departsHere(t *testing.T, engine string, engines []string, field string) bool {
	t.Helper()
	if !slices.Contains(engines, engine) {
		return false
	}
	table := engineTable(engine)
	if !departsIn(table, field) {
		t.Errorf("%s departs from the standard here (%s), but its table does not set %s", engine, field, field)
	}
	t.Logf("%s departs from the Fetch standard here: %s", engine, table.Note(field))
	return true
}

// open opens u in tab and waits for its load event.
func open(t *testing.T, tab browsertest.Tab, u string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := tab.Navigate(ctx, u)
	if err != nil && strings.Contains(err.Error(), "NS_BINDING_ABORTED") {
		// Firefox now and then reports the navigation it was asked for as
		// aborted, before the page asked for even loads: ask once more.
		t.Logf("opening %s: %v; opening it again", u, err)
		err = tab.Navigate(ctx, u)
	}
	if err != nil {
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

// TestEngineTablesAreProven holds the engine model's tables to the
// conformance suite, without a browser: a table is verified only if the
// suite drives its engine, and each departure a table sets is one that a
// case shows in that engine (and the other way round), so that no
// departure is modelled on a guess and none the suite found is missing.
func TestEngineTablesAreProven(t *testing.T) {
	for _, b := range append(slices.Clone(cors.Engines), cors.Standard) {
		if b.Verified && (!slices.Contains(browsertest.Engines, b.Name) || engineTable(b.Name) != b) {
			t.Errorf("the %s table says it is verified, but the suite does not run that engine", b.Name)
		}
	}
	shown := map[string]map[string]bool{} // engine → departure fields its cases show
	note := func(engine, field string) {
		if shown[engine] == nil {
			shown[engine] = map[string]bool{}
		}
		shown[engine][field] = true
	}
	for _, c := range conformanceCases() {
		for _, d := range c.differs {
			for _, engine := range d.engines {
				note(engine, d.field)
			}
		}
		for _, step := range c.then {
			if step.cached {
				for _, engine := range browsertest.Engines {
					if engineTable(engine).CacheMayDrop {
						note(engine, "CacheMayDrop")
					}
				}
			}
		}
	}
	for _, engine := range browsertest.Engines {
		table := reflect.ValueOf(engineTable(engine)).Elem()
		for i := range table.NumField() {
			f := table.Type().Field(i)
			if f.Type.Kind() != reflect.Bool || f.Name == "Verified" {
				continue
			}
			set := table.Field(i).Bool()
			switch {
			case set && !shown[engine][f.Name]:
				t.Errorf("the %s table sets %s, but no conformance case shows it in %s", engine, f.Name, engine)
			case !set && shown[engine][f.Name]:
				t.Errorf("a conformance case shows %s in %s, but its table does not set it", f.Name, engine)
			}
			if set && cors.Departures[f.Name] == (cors.Departure{}) {
				t.Errorf("%s has no sentence in cors.Departures", f.Name)
			}
		}
	}
}

// TestReadmeDepartures holds the README's table of departures to the
// engine model's tables: one row per departure field, "yes" in the column
// of each engine whose table sets it.
func TestReadmeDepartures(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string][]string{} // field → the three engine cells
	for line := range strings.Lines(string(readme)) {
		cells := strings.Split(strings.TrimSpace(line), "|")
		if len(cells) != 6 {
			continue
		}
		_, name, found := strings.Cut(cells[1], "(`")
		if !found {
			continue
		}
		field, _, _ := strings.Cut(name, "`)")
		rows[field] = []string{strings.TrimSpace(cells[2]), strings.TrimSpace(cells[3]), strings.TrimSpace(cells[4])}
	}
	for field := range cors.Departures {
		row, ok := rows[field]
		if !ok {
			t.Errorf("the README's table has no row for %s", field)
			continue
		}
		for i, engine := range browsertest.Engines {
			want := ""
			if departsIn(engineTable(engine), field) {
				want = "yes"
			}
			if row[i] != want {
				t.Errorf("the README says %q for %s in %s; its table says %q", row[i], field, engine, want)
			}
		}
	}
	if len(rows) != len(cors.Departures) {
		t.Errorf("the README's table has %d rows, the model %d departures", len(rows), len(cors.Departures))
	}
}
