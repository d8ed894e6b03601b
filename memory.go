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
// the budget bounds the process, not only the data. GOMEMLIMIT, when
// set, wins.
func limitMemory(budget int64, getenv func(string) string) {
	if getenv != nil && getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(budget + runtimeHeadroom)
}
