//go:build !(amd64 || arm64)

package event

import (
	"encoding/binary"
	"unsafe"
)

// load64 returns s[i:i+8] as a little-endian integer.
func load64(s string, i int) uint64 {
	return binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:]), 8))
}
