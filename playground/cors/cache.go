package cors

import (
	"strings"
	"time"
)

// DefaultMaxAge is how long a preflight is cached when the response says
// nothing (or nothing valid). fetch.spec.whatwg.org/#cors-preflight-fetch
const DefaultMaxAge = 5

// maxCacheEntries bounds a Cache; the oldest entries go first.
const maxCacheEntries = 512

// Cache is a model of one browser's CORS-preflight cache: which method and
// header grants a passed preflight left behind, and until when.
// fetch.spec.whatwg.org/#concept-cache
type Cache struct {
	entries []cacheEntry
}

type cacheEntry struct {
	origin      string // the serialized request origin
	url         string
	credentials bool // made for a request with credentials "include"
	method      string
	header      string // lower case; "" for a method entry
	stored      time.Time
	maxAge      int
}

func (e cacheEntry) expired(now time.Time) bool {
	return !now.Before(e.stored.Add(time.Duration(e.maxAge) * time.Second))
}

// key is what a cache entry match compares.
// fetch.spec.whatwg.org/#concept-cache-match
type key struct {
	origin      string
	url         string
	credentials bool
}

// methodHit returns the entry that lets method skip a preflight.
// fetch.spec.whatwg.org/#concept-cache-match-method
func (c *Cache) methodHit(b *Browser, k key, method string, now time.Time) (cacheEntry, bool) {
	wildcard := !k.credentials && !b.CacheWildcardLiteral
	return c.find(b, k, now, func(e cacheEntry) bool {
		return e.header == "" && (e.method == method || e.method == "*" && wildcard)
	})
}

// headerHit returns the entry that lets a header skip a preflight.
// fetch.spec.whatwg.org/#concept-cache-match-header
func (c *Cache) headerHit(b *Browser, k key, name string, now time.Time) (cacheEntry, bool) {
	return c.find(b, k, now, func(e cacheEntry) bool {
		return e.header != "" && (strings.EqualFold(e.header, name) ||
			e.header == "*" && !k.credentials && !b.CacheWildcardLiteral && !strings.EqualFold(name, "authorization"))
	})
}

// find returns the newest live entry that matches the request and match.
// An entry made for a request with credentials also serves one without,
// but not the other way round (in a browser whose table says
// CacheCredentialsExact, only one of the same mode).
// fetch.spec.whatwg.org/#concept-cache-match
func (c *Cache) find(b *Browser, k key, now time.Time, match func(cacheEntry) bool) (cacheEntry, bool) {
	for i := len(c.entries) - 1; i >= 0; i-- {
		e := c.entries[i]
		creds := e.credentials == k.credentials || e.credentials && !b.CacheCredentialsExact
		if e.origin == k.origin && e.url == k.url && creds && !e.expired(now) && match(e) {
			return e, true
		}
	}
	return cacheEntry{}, false
}

// store records what a passed preflight granted. An existing entry for the
// same grant gets the new max-age, as the standard says; with replace, the
// preflight's grants replace everything cached for the origin and URL, and
// store reports whether live grants were dropped.
func (c *Cache) store(k key, methods, headers []string, maxAge int, now time.Time, replace bool) (replaced bool) {
	if replace {
		replaced = c.clear(k, now)
	}
	if maxAge <= 0 {
		return replaced
	}
	add := func(method, header string) {
		for i, e := range c.entries {
			if e.origin == k.origin && e.url == k.url && e.credentials == k.credentials && e.method == method && e.header == header {
				c.entries[i].stored, c.entries[i].maxAge = now, maxAge
				return
			}
		}
		c.entries = append(c.entries, cacheEntry{origin: k.origin, url: k.url, credentials: k.credentials, method: method, header: strings.ToLower(header), stored: now, maxAge: maxAge})
	}
	for _, m := range methods {
		add(m, "")
	}
	for _, h := range headers {
		add("", h)
	}
	if over := len(c.entries) - maxCacheEntries; over > 0 {
		c.entries = append(c.entries[:0], c.entries[over:]...)
	}
	return replaced
}

// clear drops the entries for an origin and URL, and reports whether any
// of them was still live. fetch.spec.whatwg.org/#concept-cache-clear
func (c *Cache) clear(k key, now time.Time) (live bool) {
	kept := c.entries[:0]
	for _, e := range c.entries {
		if e.origin != k.origin || e.url != k.url {
			kept = append(kept, e)
		} else if !e.expired(now) {
			live = true
		}
	}
	c.entries = kept
	return live
}
