//go:build !unix

package playground

import "time"

// cpuTime is not measured here: benchmarks report the wall clock only.
func cpuTime() (time.Duration, bool) { return 0, false }
