package event

import "strings"

// isAbsoluteHTTPURL reports whether s is an absolute http or https URL: the
// scheme (any case), "://", an authority with a non-empty host and an
// optional numeric port, then anything without spaces or control
// characters. It is stricter than browsers need and allocation-free, unlike
// url.Parse.
func isAbsoluteHTTPURL(s string) bool {
	var rest string
	switch {
	case len(s) >= 7 && strings.EqualFold(s[:7], "http://"):
		rest = s[7:]
	case len(s) >= 8 && strings.EqualFold(s[:8], "https://"):
		rest = s[8:]
	default:
		return false
	}
	if hasSpaceOrControl(s) {
		return false
	}
	end := 0
	for end < len(rest) && rest[end] != '/' && rest[end] != '?' && rest[end] != '#' {
		end++
	}
	authority := rest[:end]
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		authority = authority[at+1:]
	}
	host, port := authority, ""
	if strings.HasPrefix(host, "[") { // IPv6 literal
		end := strings.IndexByte(host, ']')
		if end < 0 {
			return false
		}
		host, port = host[1:end], host[end+1:]
		if port != "" && port[0] != ':' {
			return false
		}
	} else if colon := strings.LastIndexByte(host, ':'); colon >= 0 {
		host, port = host[:colon], host[colon:]
	}
	if host == "" || strings.ContainsAny(host, "<>\"\\^`{|}") {
		return false
	}
	for i := 1; i < len(port); i++ { // port[0] is the colon
		if !isDigit(port[i]) {
			return false
		}
	}
	return true
}

// hasSpaceOrControl reports whether s holds a space, an ASCII control
// character or DEL, looking at eight bytes at a time.
func hasSpaceOrControl(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := load64(s, i)
		del := x ^ (lsb * 0x7f)
		if ((x-lsb*0x21)&^x|(del-lsb)&^del)&msb != 0 {
			return true
		}
	}
	for ; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return true
		}
	}
	return false
}
