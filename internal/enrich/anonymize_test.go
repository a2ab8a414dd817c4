package enrich

import "testing"

func TestAnonymizeIP(t *testing.T) {
	tests := []struct {
		ip, want string
	}{
		{"81.2.69.170", "81.2.69.0"},
		{"81.2.69.0", "81.2.69.0"},
		{"255.255.255.255", "255.255.255.0"},
		{"0.0.0.0", "0.0.0.0"},
		{"10.0.0.1", "10.0.0.0"},
		{"::ffff:81.2.69.170", "81.2.69.0"},
		{"2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:db8:85a3::"},
		{"2001:0db8:85a3:ffff:ffff:ffff:ffff:ffff", "2001:db8:85a3::"},
		{"2001:db8::1", "2001:db8::"},
		{"2001:db8:1:2::", "2001:db8:1::"},
		{"::1", "::"},
		{"::", "::"},
		{"fe80::1%eth0", "fe80::"},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff::"},
		{"", ""},
		{"not an ip", ""},
		{"81.2.69", ""},
		{"81.2.69.256", ""},
		{"081.2.69.170", ""},
		{"81.2.69.170:80", ""},
		{"[2001:db8::1]", ""},
		{" 81.2.69.170", ""},
		{"2001:db8::1/64", ""},
	}
	for _, tt := range tests {
		if got := AnonymizeIP(tt.ip); got != tt.want {
			t.Errorf("AnonymizeIP(%q) = %q, want %q", tt.ip, got, tt.want)
		}
	}
}
