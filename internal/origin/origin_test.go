package origin

import (
	"net/http/httptest"
	"testing"
)

func TestPolicy(t *testing.T) {
	p, err := New("test", []string{"https://app.example.com", "*.trusted.org", "localhost:*"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		origin, host string
		want         bool
	}{
		{"", "srv:80", true},
		{"http://srv:80", "srv:80", true},
		{"http://SRV:80", "srv:80", true},
		{"https://app.example.com", "srv", true},
		{"HTTPS://APP.example.com", "srv", true},
		{"http://app.example.com", "srv", false},
		{"https://a.trusted.org", "srv", true},
		{"http://a.trusted.org", "srv", true},
		{"https://trusted.org", "srv", false},
		{"http://localhost:5173", "srv", true},
		{"http://evil.com", "srv", false},
		{"null", "srv", false},
	}
	for _, c := range cases {
		if got := p.AllowedOrigin(c.origin, c.host); got != c.want {
			t.Errorf("AllowedOrigin(%q, %q) = %v, want %v", c.origin, c.host, got, c.want)
		}
	}
	anyP, _ := New("test", []string{"*"})
	if !anyP.AllowedOrigin("null", "srv") || !anyP.AllowedOrigin("http://x", "srv") {
		t.Error(`"*" must allow every origin`)
	}
	if _, err := New("test", []string{"[bad"}); err == nil {
		t.Error("a bad pattern was accepted")
	}
	r := httptest.NewRequest("GET", "http://srv/rpc", nil)
	r.Header.Set("Origin", "http://evil.com")
	if o, ok := (Policy{}).Allowed(r); ok || o != "http://evil.com" {
		t.Errorf("zero Policy allowed %q", o)
	}
}
