package probe

import (
	"context"
	"fmt"
	"net/url"

	"github.com/corslab/corslab/playground/cors"
)

// Validate returns the config as Run would use it, its defaults filled in
// and its origin serialized, or every problem with it: a join of
// *FieldError. It sends nothing.
func (c Config) Validate() (Config, error) { return c.validate() }

// SendOne sends s, one of the requests the browser would send for cfg's
// fetch (cors.Next says which), on its own: dressed and recorded as Run
// dresses and records each of its requests, within cfg.Timeout. It is for
// a caller that must not send the whole fetch, such as a scan that asks a
// preflight about a method but never sends that method. s.URL must be on
// the host of cfg.URL or one of cfg.AllowHosts (a *RedirectRefusedError
// otherwise); s.Origin is sent as it is.
func SendOne(ctx context.Context, cfg Config, s cors.Send) (Exchange, error) {
	cfg, err := cfg.validate()
	if err != nil {
		return Exchange{}, err
	}
	target, _ := url.Parse(cfg.URL)
	u, err := url.Parse(s.URL)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.User != nil {
		return Exchange{}, fmt.Errorf("%q is not an absolute http or https URL without a user name or password", s.URL)
	}
	p := &sender{cfg: cfg, target: target, chain: []*url.URL{u}}
	if !p.allowed(u) {
		return Exchange{}, &RedirectRefusedError{URL: s.URL, Host: u.Hostname()}
	}
	return p.send(ctx, s, 1)
}
