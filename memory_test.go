package main

import (
	"runtime/debug"
	"testing"
)

// limitMemory sets the heap limit from the budget and corslab's GOGC,
// unless GOMEMLIMIT or GOGC say otherwise.
func TestLimitMemory(t *testing.T) {
	oldLimit, oldGC := debug.SetMemoryLimit(-1), debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetMemoryLimit(oldLimit); debug.SetGCPercent(oldGC) })

	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	limitMemory(64<<20, getenv)
	if got := debug.SetMemoryLimit(-1); got != 64<<20+runtimeHeadroom {
		t.Errorf("memory limit %d, want the budget and its headroom %d", got, 64<<20+runtimeHeadroom)
	}
	if got := debug.SetGCPercent(100); got != gcPercent {
		t.Errorf("GOGC %d, want %d", got, gcPercent)
	}

	debug.SetMemoryLimit(1 << 40)
	env["GOMEMLIMIT"], env["GOGC"] = "2GiB", "200"
	limitMemory(64<<20, getenv)
	if got := debug.SetMemoryLimit(-1); got != 1<<40 {
		t.Errorf("with GOMEMLIMIT set, corslab changed the limit to %d", got)
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set, corslab changed it to %d", got)
	}
}
