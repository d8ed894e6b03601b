// Package machine tells what this machine gives corslab: how much memory
// processes here may use. corslab sizes its default memory budget from it,
// and the load generator its own limits, so both read it the same way.
package machine

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Memory is the memory processes here may use, in bytes: the cgroup's
// limit (memory.max) if it has one, else the machine's (MemTotal in
// /proc/meminfo).
func Memory() (int64, error) {
	if data, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64); err == nil && n > 0 {
			return n, nil // "max" means no limit: fall through
		}
	}
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if value, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/meminfo: MemTotal: %v", err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("/proc/meminfo: no MemTotal")
}
