package event

import "testing"

func TestIsAbsoluteHTTPURL(t *testing.T) {
	for in, want := range map[string]bool{
		"https://shop.example/tv":                true,
		"http://localhost:8080":                  true,
		"HTTPS://Shop.Example":                   true,
		"https://user:pw@shop.example:443/a?b#c": true,
		"https://[2001:db8::1]:8443/x":           true,
		"https://[::1]":                          true,
		"https://shop.example?q=1":               true,
		"https://shop.example#top":               true,
		"https://xn--caf-dma.example/%C3%A9":     true,
		"https://shop.example:/":                 true,
		"":                                       false,
		"shop.example/tv":                        false,
		"/tv":                                    false,
		"//shop.example/tv":                      false,
		"ftp://shop.example":                     false,
		"javascript:alert(1)":                    false,
		"https://":                               false,
		"https:///tv":                            false,
		"https://:80/":                           false,
		"https://user@/":                         false,
		"https://shop.example/a b":               false,
		"https://shop.example/a\tb":              false,
		"https://shop.example:80a/":              false,
		"https://[::1/":                          false,
		"https://[::1]x/":                        false,
		"https://shop<example>/":                 false,
		"https://shop.example/\x7f":              false,
		"https://shop.example/0123456789/\x7f/":  false,
		"https://shop.example/0123456789/\x00/":  false,
		"https://shop.example/0123456789/ab\u00e9cd\xff/0123456789": true,
	} {
		if got := isAbsoluteHTTPURL(in); got != want {
			t.Errorf("isAbsoluteHTTPURL(%q) = %v", in, got)
		}
	}
}

func TestHasSpaceOrControl(t *testing.T) {
	for s, want := range map[string]bool{
		"": false, "abc": false, "0123456789abcdef/é\xff\x80~!": false,
		" ": true, "\x00": true, "\x1f": true, "\x7f": true,
		"0123456789abcdef ": true, "01234567\x7f89": true, "01234567\t": true, "\xa0\xff\xe0\x20": true,
	} {
		if got := hasSpaceOrControl(s); got != want {
			t.Errorf("hasSpaceOrControl(%q) = %v", s, got)
		}
	}
}
