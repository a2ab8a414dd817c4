package event

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// segment is one step of the path to a value: an object key or an array index.
type segment struct {
	key   string // object key, a view of parser memory valid during one Decode
	index int    // array index, or -1 for an object key
}

// formatPath renders segments as "data.products[0].product.price". Keys
// that are not plain identifiers are quoted: data["a b"].
func formatPath(segments []segment) string {
	var b strings.Builder
	for i, s := range segments {
		switch {
		case s.index >= 0:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.index))
			b.WriteByte(']')
		case isPlainKey(s.key):
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.key)
		default:
			b.WriteByte('[')
			b.WriteString(quote(s.key))
			b.WriteByte(']')
		}
	}
	return b.String()
}

// plainKeyChars are the characters of keys written bare in paths.
var plainKeyChars = charSet("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_$-")

// isPlainKey reports whether key can be written in a path without quotes.
func isPlainKey(key string) bool {
	return plainKeyChars.matches(key, maxQuoted)
}

// maxQuoted is how many bytes of a client's value error messages repeat.
const maxQuoted = 64

// quote returns s as a Go-quoted string for an error message, cut to
// maxQuoted bytes, so that a message never carries raw control characters
// or an unbounded copy of the input.
func quote(s string) string {
	head, cut := clip(s)
	if cut {
		return strconv.Quote(head) + "..."
	}
	return strconv.Quote(head)
}

// numberText returns the number text s (ASCII) for an error message,
// unquoted, cut as quote cuts values.
func numberText(s string) string {
	head, cut := clip(s)
	if cut {
		return head + "..."
	}
	return head
}

// clip returns s cut to at most maxQuoted bytes at a character boundary,
// and whether it was cut.
func clip(s string) (head string, cut bool) {
	if len(s) <= maxQuoted {
		return s, false
	}
	end := maxQuoted
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	return s[:end], true
}
