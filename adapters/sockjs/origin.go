package sockjs

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// originList is the set of origins allowed besides the server's own.
type originList struct {
	any   bool
	exact map[string]bool // lower-cased "scheme://host[:port]"
}

func newOriginList(origins []string) (originList, error) {
	var l originList
	for _, o := range origins {
		if o == "*" {
			l.any = true
			continue
		}
		u, err := url.Parse(o)
		if err != nil || u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			return originList{}, fmt.Errorf("sockjs: AllowedOrigins: %q is not an origin like https://example.com", o)
		}
		if l.exact == nil {
			l.exact = make(map[string]bool)
		}
		l.exact[strings.ToLower(u.Scheme+"://"+u.Host)] = true
	}
	return l, nil
}

// allowed reports whether r's Origin header, if any, is the server's own
// origin or an allowed one.
func (l originList) allowed(r *http.Request) bool {
	if r == nil {
		return true
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true // not a browser, or a browser on a same-origin GET
	}
	if l.any {
		return true
	}
	if l.exact[strings.ToLower(origin)] {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false // "null" and the like: opaque origins
	}
	return strings.EqualFold(u.Host, r.Host)
}
