package websession

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// This file reads event data, compact JSON, without building a tree: a
// reader steps through the members of an object or the items of an array
// and hands out each value as its raw text, which the functions below
// convert. Nothing here fails on malformed input: what cannot be read is
// absent, and reading stops at the first syntax error.

// reader reads the members or items of the JSON value s.
type reader struct {
	s string
	i int
}

// peek skips whitespace and returns the next byte, or 0 at the end.
func (r *reader) peek() byte {
	for ; r.i < len(r.s); r.i++ {
		switch c := r.s[r.i]; c {
		case ' ', '\t', '\n', '\r':
		default:
			return c
		}
	}
	return 0
}

// stop ends reading, as at a syntax error.
func (r *reader) stop() { r.i = len(r.s) }

// next steps to the next member of the object (open is '{') or item of the
// array (open is '[') that s holds, counting them in *n, which starts at 0.
// It returns false after the last one, or at once when s is not an object
// (array). Each member is then read with key and value, each item with
// value.
func (r *reader) next(n *int, open byte) bool {
	end := byte('}')
	if open == '[' {
		end = ']'
	}
	c := r.peek()
	switch {
	case *n == 0 && c == open:
		r.i++
		if r.peek() == end {
			return false
		}
	case *n > 0 && c == ',':
		r.i++
	default: // the end, or a syntax error
		r.stop()
		return false
	}
	*n++
	return true
}

// key reads a member's key and colon, and returns the key as written
// (escapes left as they are).
func (r *reader) key() string {
	k := r.value()
	if len(k) < 2 || k[0] != '"' || r.peek() != ':' {
		r.stop()
		return ""
	}
	r.i++
	return k[1 : len(k)-1]
}

// value reads a value and returns its raw text, "" at a syntax error.
func (r *reader) value() string {
	r.peek()
	start := r.i
	end, ok := skipValue(r.s, r.i)
	if !ok {
		r.stop()
		return ""
	}
	r.i = end
	return r.s[start:end]
}

// skipValue returns the end of the value that starts at s[i]. Only strings
// and the nesting of brackets are checked: the values inside are checked
// when they are read.
func skipValue(s string, i int) (int, bool) {
	if i >= len(s) {
		return i, false
	}
	switch s[i] {
	case '"':
		return skipString(s, i)
	case '{', '[':
		depth := 0
		for i < len(s) {
			switch s[i] {
			case '"':
				var ok bool
				if i, ok = skipString(s, i); !ok {
					return i, false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1, true
				}
			}
			i++
		}
		return i, false
	}
	start := i // a number, true, false or null
	for i < len(s) && isLiteralByte(s[i]) {
		i++
	}
	return i, i > start
}

// skipString returns the end of the string that starts at s[i].
func skipString(s string, i int) (int, bool) {
	for i++; ; {
		q := strings.IndexByte(s[i:], '"')
		if q < 0 {
			return len(s), false
		}
		i += q + 1
		if escapedQuote(s[:i]) {
			continue
		}
		return i, true
	}
}

// escapedQuote reports whether the quote that ends s is escaped: preceded
// by an odd number of backslashes.
func escapedQuote(s string) bool {
	n := 0
	for j := len(s) - 2; j >= 0 && s[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

func isLiteralByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '+' || c == '-'
}

// members stores in vals[i] the raw value of the member of the object obj
// named keys[i], leaving "" for those it does not have. A key that appears
// twice keeps its first value.
func members(obj string, keys []string, vals []string) {
	r := reader{s: obj}
	for n := 0; r.next(&n, '{'); {
		k, val := r.key(), r.value()
		for i, want := range keys {
			if k == want && vals[i] == "" {
				vals[i] = val
				break
			}
		}
	}
}

// member returns the raw value of the member of the object obj named key,
// "" if it has none.
func member(obj, key string) string {
	var val [1]string
	members(obj, []string{key}, val[:])
	return val[0]
}

func isObject(raw string) bool { return raw != "" && raw[0] == '{' }
func isArray(raw string) bool  { return raw != "" && raw[0] == '[' }

// text returns the text of raw, a JSON string (unescaped) or a number (as
// written); false for other values. Only a string with escapes costs an
// allocation.
func text(raw string) (string, bool) {
	if raw == "" {
		return "", false
	}
	if raw[0] != '"' {
		return raw, isNumber(raw)
	}
	s := raw[1 : len(raw)-1] // raw is a whole string, as reader.value returns it
	if strings.IndexByte(s, '\\') < 0 {
		return s, true
	}
	return unescape(s), true
}

// unescape returns the content of a JSON string with its escapes decoded.
// It is lenient: an unknown escape stands for the character escaped, and a
// \u escape that is not a valid code point (a lone surrogate, bad hex) for
// U+FFFD.
func unescape(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b = append(b, c)
			i++
			continue
		}
		e := s[i+1]
		i += 2
		switch e {
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			var r rune
			r, i = unicodeEscape(s, i)
			b = utf8.AppendRune(b, r)
		default:
			b = append(b, e)
		}
	}
	return string(b)
}

// unicodeEscape decodes the code point of the \u escape whose hex digits
// start at s[i], joining a surrogate pair, and returns it with the index
// after it.
func unicodeEscape(s string, i int) (rune, int) {
	r, ok := hex4(s, i)
	if !ok {
		return utf8.RuneError, i
	}
	i += 4
	if utf16.IsSurrogate(r) && strings.HasPrefix(s[i:], `\u`) {
		if low, ok := hex4(s, i+2); ok {
			if pair := utf16.DecodeRune(r, low); pair != utf8.RuneError {
				return pair, i + 6
			}
		}
	}
	if utf16.IsSurrogate(r) {
		return utf8.RuneError, i
	}
	return r, i
}

// hex4 reads the four hex digits at s[i].
func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	n, err := strconv.ParseUint(s[i:i+4], 16, 32)
	return rune(n), err == nil
}

// isNumber reports whether s is a decimal number as pages write them: JSON
// number syntax, except that leading zeros are allowed ("06").
func isNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	i, ok := digits(s, i)
	if !ok {
		return false
	}
	if i < len(s) && s[i] == '.' {
		if i, ok = digits(s, i+1); !ok {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i, ok = digits(s, i); !ok {
			return false
		}
	}
	return i == len(s)
}

// digits returns the index after the run of digits at s[i], and whether
// there is at least one.
func digits(s string, i int) (int, bool) {
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i, i > start
}

// numberText returns the number raw holds: a JSON number, or a string
// holding one, as pages send numbers ("11.7").
func numberText(raw string) (string, bool) {
	if len(raw) >= 2 && raw[0] == '"' {
		raw = raw[1 : len(raw)-1]
	}
	return raw, isNumber(raw)
}

// double returns the value of the number raw holds, false if it holds none
// or one beyond float64's range.
func double(raw string) (float64, bool) {
	t, ok := numberText(raw)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(t, 64)
	return f, err == nil
}

// maxExactInt is 2^53, beyond which a float64 (and a JavaScript number)
// does not hold every integer.
const maxExactInt = 1 << 53

// integer returns the value of the number raw holds if it is an integer
// that a signed integer of bits bits holds: written with digits only, or
// as a decimal within ±2^53 ("18.0", "1e3").
func integer(raw string, bits int) (int64, bool) {
	t, ok := numberText(raw)
	if !ok {
		return 0, false
	}
	if n, ok := smallInteger(t); ok {
		return n, bits == 64 || n == int64(int32(n))
	}
	if !strings.ContainsAny(t, ".eE") {
		n, err := strconv.ParseInt(t, 10, bits)
		return n, err == nil
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > maxExactInt {
		return 0, false
	}
	n := int64(f)
	return n, bits == 64 || n == int64(int32(n))
}

// smallInteger returns the value of t, number text, if it is an integer of
// at most 18 digits (within int64), as most are.
func smallInteger(t string) (int64, bool) {
	digits, neg := t, false
	if digits[0] == '-' {
		digits, neg = digits[1:], true
	}
	if len(digits) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// bytesString returns a string sharing b's memory, for reading event data
// without copying it. It must not outlive the call that reads b.
func bytesString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
