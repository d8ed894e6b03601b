package cors

// SafelistedRequestHeader reports whether a page may send the header with
// this value without a preflight, and if not, why not, by the standard's
// rules (browsers' departures aside). corslab need uses it to decide which
// request headers a policy must allow.
// fetch.spec.whatwg.org/#cors-safelisted-request-header
func SafelistedRequestHeader(name, value string) (bool, string) {
	return safelistedRequestHeader(name, value)
}
