package ingest

import (
	"net/http"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	for _, tc := range []struct {
		name, remote, xff, want string
	}{
		{"direct", "203.0.113.7:5000", "", "203.0.113.7"},
		{"untrusted peer ignores XFF", "203.0.113.7:5000", "198.51.100.1", "203.0.113.7"},
		{"trusted proxy", "10.1.2.3:80", "198.51.100.1", "198.51.100.1"},
		{"chain of proxies", "10.1.2.3:80", "198.51.100.1, 10.9.9.9", "198.51.100.1"},
		{"spoofed left part ignored", "10.1.2.3:80", "1.1.1.1, 198.51.100.1", "198.51.100.1"},
		{"trusted without XFF", "10.1.2.3:80", "", "10.1.2.3"},
		{"garbage XFF", "10.1.2.3:80", "nonsense", "10.1.2.3"},
		{"ipv6 loopback proxy", "[::1]:80", "2001:db8::1", "2001:db8::1"},
		{"ipv4-mapped", "[::ffff:203.0.113.9]:80", "", "203.0.113.9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &http.Request{RemoteAddr: tc.remote, Header: http.Header{}}
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			if got := clientIP(r, trusted).String(); got != tc.want {
				t.Fatalf("clientIP = %s, want %s", got, tc.want)
			}
		})
	}
}
