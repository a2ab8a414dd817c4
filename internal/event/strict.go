package event

import (
	"errors"
	"math/bits"
	"strconv"
)

// escapeLen returns the length of the escape sequence at the start of s, or 0.
func escapeLen(s string) int {
	if len(s) < 2 {
		return 0
	}
	switch s[1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2
	case 'u':
		if len(s) < 6 {
			return 0
		}
		for i := 2; i < 6; i++ {
			if h := s[i]; !isDigit(h) && (h|0x20 < 'a' || h|0x20 > 'f') {
				return 0
			}
		}
		return 6
	}
	return 0
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
