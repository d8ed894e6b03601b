package main

import (
	"bufio"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/corslab/corslab/playground"
	"github.com/corslab/corslab/playground/bytesize"
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
	if m := machineMemory(); m > 0 {
		b = min(b, max(m/4, minMemoryBudget))
	}
	return b
}

// machineMemory is the memory corslab may use: the cgroup's limit if it
// has one, else the machine's; 0 when neither can be read.
func machineMemory() int64 {
	if data, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64); err == nil && n > 0 {
			return n
		}
	}
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
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
