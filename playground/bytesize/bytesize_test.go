package bytesize

import "testing"

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"512MiB", 512 << 20}, {"2GiB", 2 << 30}, {"1.5GiB", 3 << 29}, {"800MB", 800e6},
		{"65536", 65536}, {"64 KiB", 64 << 10}, {"1G", 1 << 30},
	} {
		if got, err := Parse(tc.in); err != nil || got != tc.want {
			t.Errorf("%q: %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "GiB", "0", "-5MiB", "1PiB", "ten", "1e30", "0.5", "NaN"} {
		if got, err := Parse(bad); err == nil {
			t.Errorf("%q: accepted as %d", bad, got)
		}
	}
}

func TestFlagAndFormat(t *testing.T) {
	for _, tc := range []struct {
		n          int64
		flag, text string
	}{
		{1 << 30, "1GiB", "1 GiB"},
		{256 << 20, "256MiB", "256 MiB"},
		{3 << 29, "1536MiB", "1.5 GiB"},
		{1000, "1000", "1000 bytes"},
		{1536, "1536", "1.5 KiB"},
	} {
		if got := Flag(tc.n); got != tc.flag {
			t.Errorf("Flag(%d) = %q, want %q", tc.n, got, tc.flag)
		}
		if got := Format(tc.n); got != tc.text {
			t.Errorf("Format(%d) = %q, want %q", tc.n, got, tc.text)
		}
		if back, err := Parse(Flag(tc.n)); err != nil || back != tc.n {
			t.Errorf("Parse(Flag(%d)) = %d, %v", tc.n, back, err)
		}
	}
}
