package event

import (
	"math"
	"strconv"
	"strings"
)

// intStatus says whether a number is a usable integer.
type intStatus uint8

const (
	intOK       intStatus = iota // an integer, exactly representable
	intFraction                  // not an integer
	intTooBig                    // an integer beyond ±2^53, where float64 and JavaScript lose precision
)

// maxExactInt is 2^53, the largest magnitude at which every integer is a float64 (and a JavaScript number).
const maxExactInt = 1 << 53

// integer returns the value of the number text s (JSON number syntax, or a
// numeric string accepted by isNumericText) when it is an integer within
// ±2^53. Integers written with a fraction or exponent ("18.0", "1e3") count,
// their value read as a float64.
func integer(s string) (int64, intStatus) {
	digits, neg := s, false
	if len(digits) > 0 && digits[0] == '-' {
		digits, neg = digits[1:], true
	}
	// Fast path: plain digits, exactly. 19 digits may be beyond int64: those
	// go to ParseFloat below.
	n, i := leadingDigits(digits, 0, 18)
	if i > 0 && i == len(digits) {
		if n > maxExactInt {
			return 0, intTooBig
		}
		if neg {
			n = -n
		}
		return n, intOK
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil { // s is number text, so the only error is a value out of float64 range
		return 0, intTooBig
	}
	if f != math.Trunc(f) {
		return 0, intFraction
	}
	if f > maxExactInt || f < -maxExactInt {
		return 0, intTooBig
	}
	return int64(f), intOK
}

// leadingDigits reads the decimal digits of s from i on, at most max of
// them (at most 18, so that their value fits an int64), and returns their
// value and where they end.
func leadingDigits(s string, i, max int) (n int64, end int) {
	for end = i; end < len(s) && end-i < max; end++ {
		d := s[end] - '0'
		if d > 9 {
			break
		}
		n = n*10 + int64(d)
	}
	return n, end
}

// isNumericText reports whether the string s holds a decimal number as pages
// write them: JSON number syntax, except that leading zeros are allowed
// ("06"). No sign other than a leading '-', no spaces, no "NaN" or "Inf".
func isNumericText(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == start {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		start = i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == start {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		start = i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == start {
			return false
		}
	}
	return i == len(s)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// inFloatRange reports whether the number text s (isNumericText) is within
// the range of a float64, ±1.8e308. Numbers too small for one are in it:
// they round to zero.
func inFloatRange(s string) bool {
	// Without an exponent, at most 308 digits before the point: below 1e308.
	if len(s) <= 308 && strings.IndexAny(s, "eE") < 0 {
		return true
	}
	_, err := strconv.ParseFloat(s, 64) // s is number text: the only error is a value out of range
	return err == nil
}

// isNegative reports whether the number text s (isNumericText) is below
// zero: "-0" and "-0.0e5" are not.
func isNegative(s string) bool {
	if len(s) == 0 || s[0] != '-' {
		return false
	}
	for i := 1; i < len(s) && s[i] != 'e' && s[i] != 'E'; i++ {
		if s[i] > '0' && s[i] <= '9' {
			return true
		}
	}
	return false
}

// isDecimalInt reports whether s is an integer written as strconv.AppendInt
// writes it: digits without leading zeros, after a '-' when negative.
func isDecimalInt(s string) bool {
	if len(s) > 1 && s[0] == '-' && s[1] != '0' {
		s = s[1:]
	}
	if len(s) == 0 || s[0] == '0' && len(s) > 1 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}
