package machine

import "testing"

func TestMemory(t *testing.T) {
	n, err := Memory()
	if err != nil {
		t.Skipf("no /proc/meminfo here: %v", err)
	}
	if n < 64<<20 || n > 1<<50 {
		t.Errorf("Memory() = %d bytes, not a machine's", n)
	}
}
