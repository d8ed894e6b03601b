package main

import (
	"runtime/debug"

	"github.com/corslab/corslab/playground"
	"github.com/corslab/corslab/playground/bytesize"
	"github.com/corslab/corslab/playground/machine"
)

// sizeFlag is a flag.Value for a size in bytes, written with a unit:
// 512MiB, 1GiB, 800MB, 65536.
type sizeFlag struct{ n int64 }

func (f *sizeFlag) String() string {
	if f == nil || f.n == 0 {
		return ""
	}
	return bytesize.Flag(f.n)
}

func (f *sizeFlag) Set(v string) error {
	n, err := bytesize.Parse(v)
	if err != nil {
		return err
	}
	f.n = n
	return nil
}

// minMemoryBudget is the smallest budget that still holds a handful of
// busy sessions.
const minMemoryBudget = 32 << 20

// defaultMemoryBudget is playground.DefaultMemoryBudget, or a quarter of
// the memory this machine (or its container) has, if that is less.
func defaultMemoryBudget() int64 {
	b := int64(playground.DefaultMemoryBudget)
	if m, err := machine.Memory(); err == nil {
		b = min(b, max(m/4, minMemoryBudget))
	}
	return b
}

// runtimeHeadroom is what corslab needs beyond its sessions' data: the
// Go runtime, goroutines and connections, the lessons, requests in flight.
const runtimeHeadroom = 128 << 20

// limitMemory tells Go's garbage collector to keep the whole heap within
// the budget and its headroom, collecting harder as it nears it, so that
// the budget bounds the process, not only the data; and to collect when
// the heap has grown by gcPercent. GOMEMLIMIT and GOGC, when set, win.
func limitMemory(budget int64, getenv func(string) string) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(budget + runtimeHeadroom)
	}
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}

// gcPercent is corslab's GOGC. Nearly all of its heap is what sessions
// keep: long-lived, growing as learners work, and made of strings and
// byte slices, which hold no pointers for the collector to follow. Go's
// default, 100, lets the heap grow to twice what is live before the next
// collection, and the process keeps those pages: a session cost twice its
// data in RSS. At 50 it costs one and a half times, and a collection of
// such a heap is cheap enough to run twice as often (issue 15: RSS per
// learner, CPU per learner, both measured by go run ./cmd/loadtest -baseline).
const gcPercent = 50
