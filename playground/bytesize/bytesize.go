// Package bytesize reads and writes sizes in bytes as people write them:
// 512MiB, 1.5GiB, 800MB. corslab's --memory-budget and its load generator
// share it, so that both read a size the same way.
package bytesize

import (
	"fmt"
	"strconv"
	"strings"
)

var units = []struct {
	suffix string
	n      int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1},
}

// Parse reads a positive size of at most 1 PiB: a number of bytes, or a
// number and a unit (KiB, MiB, GiB, TiB; KB, MB, GB, TB; K, M, G as
// binary).
func Parse(s string) (int64, error) {
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range units {
		if rest, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(rest), u.n
			break
		}
	}
	n, err := strconv.ParseFloat(num, 64)
	if size := n * float64(mult); err != nil || !(size >= 1) || size > 1<<50 {
		return 0, fmt.Errorf("must be a size such as 512MiB or 2GiB; got %q", s)
	}
	return int64(n * float64(mult)), nil
}

// Flag is the shortest exact way to write n as Parse reads it: "1GiB",
// "512MiB", "65536".
func Flag(n int64) string {
	for _, u := range []struct {
		suffix string
		n      int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n != 0 && n%u.n == 0 {
			return strconv.FormatInt(n/u.n, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

// Format says n in the unit that reads best, to one decimal: "512 MiB",
// "1.5 GiB", "300 bytes".
func Format(n int64) string {
	switch {
	case n >= 1<<30:
		return trimZero(fmt.Sprintf("%.1f", float64(n)/(1<<30))) + " GiB"
	case n >= 1<<20:
		return trimZero(fmt.Sprintf("%.1f", float64(n)/(1<<20))) + " MiB"
	case n >= 1<<10:
		return trimZero(fmt.Sprintf("%.1f", float64(n)/(1<<10))) + " KiB"
	}
	return fmt.Sprintf("%d bytes", n)
}

func trimZero(s string) string {
	if len(s) > 2 && s[len(s)-2:] == ".0" {
		return s[:len(s)-2]
	}
	return s
}
