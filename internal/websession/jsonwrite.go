package websession

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// This file writes JSON values, and Avro's JSON encoding of optional values
// (unions with null: null, or {"<type>": value}), by appending to byte
// slices.

// jsonSafe marks the ASCII bytes a JSON string holds unescaped.
var jsonSafe = func() (safe [utf8.RuneSelf]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		safe[c] = c != '"' && c != '\\'
	}
	return safe
}()

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Quotes, backslashes and control
// characters are escaped, and so are U+2028 and U+2029, which older
// JavaScript does not allow raw in strings; each invalid UTF-8 byte becomes
// U+FFFD. Runs of bytes needing no escape are copied whole.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0 // s[start:i] is pending, needing no escape
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if !jsonSafe[c] {
				dst = appendRune(append(dst, s[start:i]...), rune(c))
				start = i + 1
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			dst = appendRune(append(dst, s[start:i]...), r)
			start = i + size
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendRune appends r escaped as in a JSON string, if it needs to be.
func appendRune(dst []byte, r rune) []byte {
	switch r {
	case '"', '\\':
		return append(dst, '\\', byte(r))
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	case '\u2028', '\u2029':
		return append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
	}
	if r < ' ' {
		return append(dst, '\\', 'u', '0', '0', hexDigits[r>>4], hexDigits[r&0xf])
	}
	return utf8.AppendRune(dst, r)
}

// appendDouble appends f as a JSON number, as encoding/json writes
// float64s: without an exponent unless f is very small or very large. f
// must be finite.
func appendDouble(dst []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	return strconv.AppendFloat(dst, f, format, -1, 64)
}

// appendNull appends null.
func appendNull(dst []byte) []byte { return append(dst, "null"...) }

// The union branches: a value of the union's non-null type, wrapped.

func appendStringValue(dst []byte, s string) []byte {
	return append(appendString(append(dst, `{"string":`...), s), '}')
}

func appendLong(dst []byte, n int64) []byte {
	return append(strconv.AppendInt(append(dst, `{"long":`...), n, 10), '}')
}

func appendInt(dst []byte, n int32) []byte {
	return append(strconv.AppendInt(append(dst, `{"int":`...), int64(n), 10), '}')
}

func appendDoubleValue(dst []byte, f float64) []byte {
	return append(appendDouble(append(dst, `{"double":`...), f), '}')
}

func appendBoolean(dst []byte, b bool) []byte {
	if b {
		return append(dst, `{"boolean":true}`...)
	}
	return append(dst, `{"boolean":false}`...)
}

// appendOptString appends s as an optional string: null when empty.
func appendOptString(dst []byte, s string) []byte {
	if s == "" {
		return appendNull(dst)
	}
	return appendStringValue(dst, s)
}

// appendOpt appends o as an optional value: null unless o.Valid, else
// o.V written by branch.
func appendOpt[T any](dst []byte, o Opt[T], branch func([]byte, T) []byte) []byte {
	if !o.Valid {
		return appendNull(dst)
	}
	return branch(dst, o.V)
}

// appendRecordValue appends *v, written by record, as a value of a union:
// null when v is nil, else {"<name>":{...}}.
func appendRecordValue[T any](dst []byte, name string, v *T, record func([]byte, *T) []byte) []byte {
	if v == nil {
		return appendNull(dst)
	}
	return append(record(appendBranch(dst, name), v), '}')
}

// appendBranch opens the union branch of the named type: {"<name>":
func appendBranch(dst []byte, name string) []byte {
	return append(append(append(dst, `{"`...), name...), `":`...)
}

// appendList appends items, each written by item, as an optional array:
// null when there are none.
func appendList[T any](dst []byte, items []T, item func([]byte, *T) []byte) []byte {
	if len(items) == 0 {
		return appendNull(dst)
	}
	dst = append(dst, `{"array":[`...)
	for i := range items {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = item(dst, &items[i])
	}
	return append(dst, "]}"...)
}
