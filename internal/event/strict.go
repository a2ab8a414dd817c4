package event

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/bits"
	"strconv"
	"unsafe"
)

// fastjson.Parser checks the structure of a document but is lenient inside
// strings (raw control characters, malformed escapes) and with numbers
// ("01", "+1", ".5", NaN). fastjson.Validate would check them at the cost of
// a second parse, and in v1.6.10 misses a control character followed by an
// escape in the same string. Instead, checkStrings checks the strings of a
// body in two passes the CPU runs fast, and numbers are checked where they
// are read (validator.number, appendValue).

// checkStrings reports what makes the strings of b, a document
// fastjson.Parser has parsed, invalid JSON: malformed escapes and raw
// control characters.
func checkStrings(b []byte) error {
	// Every backslash starts an escape: the parser accepts none outside strings.
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\\')
		if j < 0 {
			break
		}
		i += j
		n := escapeLen(b[i:])
		if n == 0 {
			return errorAt("malformed escape", i)
		}
		i += n
	}
	// Tabs and newlines may separate tokens, but no control character may
	// be raw inside a string. Compact bodies have none at all, but for
	// whitespace around them.
	start := len(b) - len(bytes.TrimLeft(b, jsonSpace))
	b = bytes.TrimRight(b[start:], jsonSpace)
	if indexControl(b) < 0 {
		return nil
	}
	if i := controlInString(b); i >= 0 {
		return errorAt("control character in string", start+i)
	}
	return nil
}

// jsonSpace is the whitespace JSON allows between tokens.
const jsonSpace = " \t\r\n"

// escapeLen returns the length of the escape sequence at the start of b, or 0.
func escapeLen(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	switch b[1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2
	case 'u':
		if len(b) < 6 {
			return 0
		}
		for _, h := range b[2:6] {
			if !isDigit(h) && (h|0x20 < 'a' || h|0x20 > 'f') {
				return 0
			}
		}
		return 6
	}
	return 0
}

// indexControl returns the index of the first byte of b below 0x20, or -1.
func indexControl(b []byte) int {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if x := binary.LittleEndian.Uint64(b[i:]); (x-lsb*' ')&^x&msb != 0 {
			break
		}
	}
	for ; i < len(b); i++ {
		if b[i] < ' ' {
			return i
		}
	}
	return -1
}

// controlInString returns the index of the first control character inside a
// string of b, a parsed document, or -1.
func controlInString(b []byte) int {
	in := false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			in = !in
		case c == '\\':
			i++ // the escaped character; backslashes occur only in strings
		case c < ' ' && in:
			return i
		}
	}
	return -1
}

// numberLen returns the length of the JSON number at the start of s, or 0.
func numberLen(s string) int {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && isDigit(s[i]):
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	default:
		return 0
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || !isDigit(s[i]) {
			return 0
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || !isDigit(s[i]) {
			return 0
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	return i
}

// isJSONNumber reports whether s is exactly one JSON number.
func isJSONNumber(s string) bool {
	return len(s) > 0 && numberLen(s) == len(s)
}

func errorAt(what string, offset int) error {
	return errors.New(what + " at offset " + strconv.Itoa(offset))
}

// Eight bytes at a time: a uint64 holds eight bytes, little-endian.
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// load64 returns s[i:i+8] as a little-endian integer, in one load.
func load64(s string, i int) uint64 {
	return binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:]), 8))
}

// jsonSpecial is non-zero when one of the eight bytes of x is '"', '\\' or a
// control character: the bytes a JSON string cannot hold raw. Its lowest set
// bit is in the first such byte (see firstByte); set bits above it may be
// false positives.
func jsonSpecial(x uint64) uint64 {
	q := x ^ (lsb * '"')
	s := x ^ (lsb * '\\')
	return ((q-lsb)&^q | (s-lsb)&^s | (x-lsb*' ')&^x) & msb
}

// firstByte returns the index of the byte holding the lowest set bit of mask.
func firstByte(mask uint64) int {
	return bits.TrailingZeros64(mask) / 8
}
