package event

import (
	"strings"
	"unsafe"
)

// stringArena makes immutable strings without one allocation each: it copies
// their bytes into large chunks and hands out strings pointing into them. A
// byte of a chunk is written once, before any string points at it, so the
// strings stay immutable; a full chunk is left to the garbage collector,
// which frees it once no string points into it. (So a string kept long,
// such as an event id in a cache, keeps its whole chunk alive.)
type stringArena struct {
	chunk []byte
}

const (
	arenaChunk = 16 << 10 // bytes per chunk
	arenaLarge = 1 << 10  // strings longer than this get their own allocation
)

// string returns a copy of s, which may be a view of memory that changes
// (see bytesString).
func (a *stringArena) string(s string) string {
	if len(s) == 0 {
		return ""
	}
	if len(s) > arenaLarge {
		return strings.Clone(s)
	}
	if cap(a.chunk)-len(a.chunk) < len(s) {
		a.chunk = make([]byte, 0, arenaChunk)
	}
	start := len(a.chunk)
	a.chunk = append(a.chunk, s...)
	return unsafe.String(&a.chunk[start], len(s))
}

// bytesString returns a string sharing b's memory. The string must not be
// kept beyond the life of b's content: it is for looking up, comparing and
// checking bytes without copying them.
func bytesString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
