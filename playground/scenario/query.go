package scenario

import (
	"fmt"
	"maps"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/corslab/corslab/playground/s3cors"
)

// The query keys of single headers start with these: request.headers.X-Token=abc.
const (
	headerPrefix      = "request.headers."
	extraHeaderPrefix = "api.extraHeaders."
	bucketPrefix      = "bucket.cors."
)

// Query returns s as permalink query parameters. Only the fields that differ
// from Default appear, so the default scenario is an empty query. Keys are
// the dotted JSON paths of the fields, except that each request header has
// its own key, "request.headers.<Name>", and api.allowlist is repeated, once
// per entry in order. The bucket's CORS rules are numbered from 0 and each
// list of a rule is repeated the same way:
// bucket.cors.0.allowedOrigins=null&bucket.cors.0.allowedMethods=GET. No
// bucket.cors key means null, no CORS configuration. Booleans are true or
// false; api.maxAge is a whole number, and absent when null. The version is
// not written: a permalink is always read as the current version.
//
// For every valid s, FromQuery(s.Query()) returns s (nil and empty headers,
// allowlist or rule lists all come back empty).
func (s Scenario) Query() url.Values { return s.QueryFrom(Default()) }

// QueryFrom is Query relative to base instead of Default: only the fields
// where s differs from base appear, for Patch(base, ·) to read. A list or a
// bucket configuration that differs appears whole (api.allowlist= with one
// empty value for an empty list, bucket.cors=null for no configuration).
// What it cannot say is that a header base has is gone from s.
func (s Scenario) QueryFrom(d Scenario) url.Values {
	q := url.Values{}
	str := func(key, v, def string) {
		if v != def {
			q.Set(key, v)
		}
	}
	str("setup", s.Setup, d.Setup)

	r, dr := s.Request, d.Request
	str("request.from", r.From, dr.From)
	str("request.lookalikeHost", r.LookalikeHost, dr.LookalikeHost)
	str("request.target", r.Target, dr.Target)
	str("request.method", r.Method, dr.Method)
	str("request.path", r.Path, dr.Path)
	for name, v := range r.Headers {
		if old, ok := dr.Headers[name]; !ok || old != v {
			q.Set(headerPrefix+name, v)
		}
	}
	str("request.body", r.Body, dr.Body)
	str("request.credentials", r.Credentials, dr.Credentials)
	str("request.mode", r.Mode, dr.Mode)
	str("request.redirect", r.Redirect, dr.Redirect)
	str("request.via", r.Via, dr.Via)
	str("request.crossOrigin", r.CrossOrigin, dr.CrossOrigin)
	str("request.withCredentials", strconv.FormatBool(r.WithCredentials), strconv.FormatBool(dr.WithCredentials))
	str("request.enctype", r.Enctype, dr.Enctype)

	a, da := s.API, d.API
	str("api.allowOrigin", a.AllowOrigin, da.AllowOrigin)
	if !slices.Equal(a.Allowlist, da.Allowlist) {
		q["api.allowlist"] = slices.Clone(a.Allowlist)
		if len(a.Allowlist) == 0 {
			q["api.allowlist"] = []string{""}
		}
	}
	str("api.match", a.Match, da.Match)
	str("api.allowCredentials", strconv.FormatBool(a.AllowCredentials), strconv.FormatBool(da.AllowCredentials))
	str("api.allowMethods", a.AllowMethods, da.AllowMethods)
	str("api.allowHeaders", a.AllowHeaders, da.AllowHeaders)
	str("api.exposeHeaders", a.ExposeHeaders, da.ExposeHeaders)
	str("api.maxAge", maxAgeText(a.MaxAge), maxAgeText(da.MaxAge))
	str("api.vary", strconv.FormatBool(a.Vary), strconv.FormatBool(da.Vary))
	str("api.preflightStatus", strconv.Itoa(a.PreflightStatus), strconv.Itoa(da.PreflightStatus))
	for name, v := range a.ExtraHeaders {
		if old, ok := da.ExtraHeaders[name]; !ok || old != v {
			q.Set(extraHeaderPrefix+name, v)
		}
	}
	str("api.redirect", strconv.Itoa(a.Redirect), strconv.Itoa(da.Redirect))
	str("api.signedUrlExpires", strconv.Itoa(a.SignedURLExpires), strconv.Itoa(da.SignedURLExpires))
	str("api.requireLogin", strconv.FormatBool(a.RequireLogin), strconv.FormatBool(da.RequireLogin))
	str("api.cookieSameSite", a.CookieSameSite, da.CookieSameSite)
	str("api.requireJson", strconv.FormatBool(a.RequireJSON), strconv.FormatBool(da.RequireJSON))
	str("api.websocketOrigins", a.WebsocketOrigins, da.WebsocketOrigins)

	if !reflect.DeepEqual(s.Bucket.CORS, d.Bucket.CORS) {
		s.Bucket.query(q)
	}
	str("proxy.addOrigin", s.Proxy.AddOrigin, d.Proxy.AddOrigin)
	str("yours.baseUrl", s.Yours.BaseURL, d.Yours.BaseURL)
	return q
}

// maxAgeText is a max age as a query value: empty for null.
func maxAgeText(p *int) string {
	if p == nil {
		return ""
	}
	return strconv.Itoa(*p)
}

// query adds the whole configuration to q: every rule, or bucket.cors=null
// for none.
func (b Bucket) query(q url.Values) {
	if b.CORS == nil {
		q.Set("bucket.cors", "null")
		return
	}
	str := func(key, v, def string) {
		if v != def {
			q.Set(key, v)
		}
	}
	for i, r := range b.CORS {
		key := func(field string) string { return bucketPrefix + strconv.Itoa(i) + "." + field }
		str(key("id"), r.ID, "")
		for field, list := range map[string][]string{
			"allowedOrigins": r.AllowedOrigins, "allowedMethods": r.AllowedMethods,
			"allowedHeaders": r.AllowedHeaders, "exposeHeaders": r.ExposeHeaders,
		} {
			if len(list) > 0 {
				q[key(field)] = slices.Clone(list)
			}
		}
		if r.MaxAgeSeconds != nil {
			q.Set(key("maxAgeSeconds"), strconv.Itoa(*r.MaxAgeSeconds))
		}
	}
}

// FromQuery reads permalink query parameters, as written by Query, on top of
// Default: Patch(Default(), q). It reports unknown keys (under the key itself), keys given more
// than once, values that do not parse and, once every key is applied, what
// Validate reports. An empty api.maxAge means null.
//
// The scenario is returned even with errors, as far as it could be read, so
// that a form can show it next to them; a value that does not parse leaves
// its field at the default.
func FromQuery(q url.Values) (Scenario, FieldErrors) { return Patch(Default(), q) }

// Patch reads permalink query parameters on top of base, as FromQuery does on
// top of Default. A list given replaces base's, and so does any bucket.cors
// key replace base's whole bucket configuration (bucket.cors=null removes it).
// base itself is not changed.
func Patch(base Scenario, q url.Values) (Scenario, FieldErrors) {
	s := base.clone()
	errs := FieldErrors{}
	named := map[int]bool{} // the bucket rules some key named
	replaced := false       // whether q gives the bucket configuration
	for key := range q {
		if key == "bucket.cors" || strings.HasPrefix(key, bucketPrefix) {
			s.Bucket.CORS, replaced = nil, true
		}
	}
	for _, key := range slices.Sorted(maps.Keys(q)) {
		vals := q[key]
		switch {
		case len(vals) == 0:
			// Only a hand-made url.Values can say nothing about a key.
		case key == "api.allowlist":
			s.API.Allowlist = slices.Clone(vals)
			if len(vals) == 1 && vals[0] == "" {
				s.API.Allowlist = []string{} // as QueryFrom writes an empty list
			}
		case key == "bucket.cors":
			if len(vals) > 1 || vals[0] != "null" {
				errs.add(key, `only bucket.cors=null (no CORS configuration); rules are bucket.cors.<number>.<field>`)
			}
		case strings.HasPrefix(key, headerPrefix):
			setHeader(s.Request.Headers, errs, "request.headers", key[len(headerPrefix):], vals)
		case strings.HasPrefix(key, extraHeaderPrefix):
			setHeader(s.API.ExtraHeaders, errs, "api.extraHeaders", key[len(extraHeaderPrefix):], vals)
		case strings.HasPrefix(key, bucketPrefix):
			if i, ok := setRuleField(&s.Bucket, errs, key, vals); ok {
				named[i] = true
			}
		default:
			set := setter(&s, key)
			switch {
			case set == nil:
				errs.add(key, "unknown setting; see the README's permalink section")
			case len(vals) > 1:
				errs.add(key, "given more than once")
			default:
				if msg := set(vals[0]); msg != "" {
					errs.add(key, msg)
				}
			}
		}
	}
	for i := range s.Bucket.CORS {
		if replaced && !named[i] {
			errs.add(bucketPrefix+strconv.Itoa(i), "missing: rules are numbered from 0 without gaps")
		}
	}
	s.Bucket.normalize()
	for key, msg := range s.Validate() {
		errs.add(key, msg)
	}
	if len(errs) == 0 {
		return s, nil
	}
	return s, errs
}

// setHeader applies a query key such as request.headers.<name> to the
// headers of field.
func setHeader(headers map[string]string, errs FieldErrors, field, name string, vals []string) {
	switch {
	case name == "":
		errs.add(field, "a header needs a name: "+field+".<Name>=value")
	case len(vals) > 1:
		errs.add(field, fmt.Sprintf("header %q given more than once", name))
	default:
		headers[name] = vals[0]
	}
}

// setter returns a function that parses a query value into the field of s
// named by key and returns a message if the value does not parse, or nil if
// key names no single-valued field.
func setter(s *Scenario, key string) func(v string) (msg string) {
	r, a := &s.Request, &s.API
	switch key {
	case "setup":
		return setString(&s.Setup)
	case "request.from":
		return setString(&r.From)
	case "request.lookalikeHost":
		return setString(&r.LookalikeHost)
	case "request.target":
		return setString(&r.Target)
	case "request.method":
		return setString(&r.Method)
	case "request.path":
		return setString(&r.Path)
	case "request.body":
		return setString(&r.Body)
	case "request.credentials":
		return setString(&r.Credentials)
	case "request.mode":
		return setString(&r.Mode)
	case "request.redirect":
		return setString(&r.Redirect)
	case "request.via":
		return setString(&r.Via)
	case "request.crossOrigin":
		return setString(&r.CrossOrigin)
	case "request.withCredentials":
		return setBool(&r.WithCredentials)
	case "request.enctype":
		return setString(&r.Enctype)
	case "api.allowOrigin":
		return setString(&a.AllowOrigin)
	case "api.match":
		return setString(&a.Match)
	case "api.allowCredentials":
		return setBool(&a.AllowCredentials)
	case "api.allowMethods":
		return setString(&a.AllowMethods)
	case "api.allowHeaders":
		return setString(&a.AllowHeaders)
	case "api.exposeHeaders":
		return setString(&a.ExposeHeaders)
	case "api.maxAge":
		return setMaxAge(&a.MaxAge)
	case "api.vary":
		return setBool(&a.Vary)
	case "api.preflightStatus":
		return setInt(&a.PreflightStatus)
	case "api.redirect":
		return setInt(&a.Redirect)
	case "api.signedUrlExpires":
		return setInt(&a.SignedURLExpires)
	case "api.requireLogin":
		return setBool(&a.RequireLogin)
	case "api.cookieSameSite":
		return setString(&a.CookieSameSite)
	case "api.requireJson":
		return setBool(&a.RequireJSON)
	case "api.websocketOrigins":
		return setString(&a.WebsocketOrigins)
	case "proxy.addOrigin":
		return setString(&s.Proxy.AddOrigin)
	case "yours.baseUrl":
		return setString(&s.Yours.BaseURL)
	}
	return nil
}

// setRuleField applies a key bucket.cors.<i>.<field> to the bucket's
// rules, growing them to hold rule i, and reports i. Indexes stop at S3's
// 100 rules, so a link cannot make the server allocate more.
func setRuleField(b *Bucket, errs FieldErrors, key string, vals []string) (int, bool) {
	index, field, _ := strings.Cut(key[len(bucketPrefix):], ".")
	i, err := strconv.Atoi(index)
	if err != nil || i < 0 || i >= s3cors.MaxRules || strconv.Itoa(i) != index {
		errs.add(key, fmt.Sprintf("rules are numbered 0 to %d: bucket.cors.<number>.<field>", s3cors.MaxRules-1))
		return 0, false
	}
	var (
		list *[]string
		set  func(string) string
	)
	grow := func() *s3cors.Rule {
		for len(b.CORS) <= i {
			b.CORS = append(b.CORS, s3cors.Rule{})
		}
		return &b.CORS[i]
	}
	switch field {
	case "allowedOrigins":
		list = &grow().AllowedOrigins
	case "allowedMethods":
		list = &grow().AllowedMethods
	case "allowedHeaders":
		list = &grow().AllowedHeaders
	case "exposeHeaders":
		list = &grow().ExposeHeaders
	case "id":
		set = setString(&grow().ID)
	case "maxAgeSeconds":
		set = setMaxAge(&grow().MaxAgeSeconds)
	default:
		errs.add(key, "unknown rule field; a rule has id, allowedOrigins, allowedMethods, allowedHeaders, exposeHeaders and maxAgeSeconds")
		return 0, false
	}
	switch {
	case list != nil:
		*list = slices.Clone(vals)
	case len(vals) > 1:
		errs.add(key, "given more than once")
	default:
		if msg := set(vals[0]); msg != "" {
			errs.add(key, msg)
		}
	}
	return i, true
}

func setString(p *string) func(string) string {
	return func(v string) string {
		*p = v
		return ""
	}
}

// setBool accepts exactly true and false, not strconv.ParseBool's 1, T and
// so on: a permalink has one spelling per scenario.
func setBool(p *bool) func(string) string {
	return func(v string) string {
		switch v {
		case "true":
			*p = true
		case "false":
			*p = false
		default:
			return fmt.Sprintf("must be true or false; got %q", v)
		}
		return ""
	}
}

func setInt(p *int) func(string) string {
	return func(v string) string {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Sprintf("must be a whole number; got %q", v)
		}
		*p = n
		return ""
	}
}

// setMaxAge reads a whole number, or the empty string for null.
func setMaxAge(p **int) func(string) string {
	return func(v string) string {
		if v == "" {
			*p = nil
			return ""
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Sprintf("must be a whole number, or empty for no header; got %q", v)
		}
		*p = &n
		return ""
	}
}
