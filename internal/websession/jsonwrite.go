package websession

import (
	"math"
	"strconv"

	"github.com/sightline/sightline/internal/event"
)

// This file writes JSON values, and Avro's JSON encoding of optional values
// (unions with null: null, or {"<type>": value}), by appending to byte
// slices.

// appendString appends s as a JSON string, escaped as event records are
// (see event.AppendJSONString).
func appendString(dst []byte, s string) []byte { return event.AppendJSONString(dst, s) }

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
