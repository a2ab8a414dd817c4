package event

import "unicode/utf8"

// This file writes JSON strings by appending to byte slices.

// jsonSafe marks the ASCII bytes a JSON string can hold unescaped.
var jsonSafe = func() (safe [utf8.RuneSelf]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		safe[c] = c != '"' && c != '\\'
	}
	return safe
}()

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string, as records write strings.
// Quotes, backslashes and control characters are escaped; so are U+2028
// and U+2029, which older JavaScript does not allow raw in strings. Each invalid UTF-8 byte becomes U+FFFD, as
// with encoding/json, but written raw, so that writing what was read back
// gives the same bytes. Runs of bytes needing no escape are copied whole,
// found eight bytes at a time.
func AppendJSONString(dst []byte, s string) []byte {
	dst, _ = appendJSONString(dst, s)
	return dst
}

// appendJSONString is AppendJSONString, and returns how many invalid UTF-8
// bytes it replaced.
func appendJSONString(dst []byte, s string) (out []byte, replaced int) {
	dst = append(dst, '"')
	start := 0 // s[start:i] is pending, needing no escape
	for i := 0; i < len(s); {
		if i+8 <= len(s) { // skip eight bytes at a time to the first one to look at
			x := load64(s, i)
			if mask := jsonSpecial(x) | x&msb; mask == 0 {
				i += 8
				continue
			} else {
				i += firstByte(mask)
			}
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\uFFFD"...)
			replaced++
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"'), replaced
}
