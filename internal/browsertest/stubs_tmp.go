package browsertest

import "testing"

func startFirefox(t testing.TB) Browser { missing(t, "firefox: not yet"); return nil }
func startWebKit(t testing.TB) Browser  { missing(t, "webkit: not yet"); return nil }
