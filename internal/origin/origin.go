// Package origin is the one browser-origin policy of every Parley adapter:
// a request with no Origin header (not a browser) passes, one from the
// server's own host passes, and any other must match an allowed pattern.
//
// A pattern with a scheme ("https://app.example.com") is matched against
// the whole origin, one without ("*.example.com", "localhost:*") against
// its host[:port]; both are path.Match patterns, case-insensitive, and "*"
// allows any origin, opaque ones ("null") included.
package origin

import (
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// Policy decides which browser origins may open a connection. The zero
// value allows only same-host requests and requests without an Origin
// header.
type Policy struct {
	patterns []string // lower-cased
	any      bool
}

// New checks the patterns and returns their policy. what names the
// adapter's option in the error ("websocket: AllowedOrigins").
func New(what string, patterns []string) (Policy, error) {
	var p Policy
	for _, pat := range patterns {
		lower := strings.ToLower(pat)
		if _, err := path.Match(lower, ""); err != nil {
			return Policy{}, fmt.Errorf("%s: bad pattern %q: %w", what, pat, err)
		}
		if lower == "*" {
			p.any = true
		}
		p.patterns = append(p.patterns, lower)
	}
	return p, nil
}

// Allowed reports whether r may connect, and returns its Origin header
// for an error message. A nil request passes.
func (p Policy) Allowed(r *http.Request) (string, bool) {
	if r == nil {
		return "", true
	}
	o := r.Header.Get("Origin")
	return o, p.AllowedOrigin(o, r.Host)
}

// AllowedOrigin reports whether origin (an Origin header's value, "" for
// none) may connect to a server reached as host.
func (p Policy) AllowedOrigin(origin, host string) bool {
	if origin == "" || p.any {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false // opaque origins ("null") pass only "*"
	}
	if strings.EqualFold(u.Host, host) {
		return true
	}
	h := strings.ToLower(u.Host)
	full := strings.ToLower(u.Scheme) + "://" + h
	for _, pat := range p.patterns {
		target := h
		if strings.Contains(pat, "://") {
			target = full
		}
		if ok, _ := path.Match(pat, target); ok {
			return true
		}
	}
	return false
}
