//go:build amd64 || arm64

package event

import "unsafe"

// load64 returns s[i:i+8] as a little-endian integer, in one load: these
// architectures are little-endian and load unaligned words.
func load64(s string, i int) uint64 {
	_ = s[i+7] // one bounds check, for the whole word
	return *(*uint64)(unsafe.Add(unsafe.Pointer(unsafe.StringData(s)), i))
}
