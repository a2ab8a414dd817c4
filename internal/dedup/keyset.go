package dedup

// keySet is a set of keys in one open-addressing table with linear probing:
// 16 bytes a slot, grown at 3/4 full, so about 21 to 43 bytes a key (Go's
// map needs about twice that for these keys). Keys are never deleted: a
// generation of keys is dropped as a whole. The zero Key marks an empty
// slot; Index.Key never returns it.
type keySet struct {
	slots []Key
	n     int
}

const minSlots = 64

func (s *keySet) home(k Key) int { return int(k[1] & uint64(len(s.slots)-1)) }

// has reports whether k is in the set.
func (s *keySet) has(k Key) bool {
	if s.n == 0 {
		return false
	}
	mask := len(s.slots) - 1
	for i := s.home(k); ; i = (i + 1) & mask {
		switch s.slots[i] {
		case k:
			return true
		case Key{}:
			return false
		}
	}
}

// add puts k in the set.
func (s *keySet) add(k Key) {
	if 4*(s.n+1) > 3*len(s.slots) {
		s.grow()
	}
	mask := len(s.slots) - 1
	for i := s.home(k); ; i = (i + 1) & mask {
		switch s.slots[i] {
		case k:
			return
		case Key{}:
			s.slots[i] = k
			s.n++
			return
		}
	}
}

func (s *keySet) grow() {
	old := s.slots
	s.slots = make([]Key, max(2*len(old), minSlots))
	s.n = 0
	for _, k := range old {
		if k != (Key{}) {
			s.add(k)
		}
	}
}

// sizeHint returns an empty set with room for n keys without growing.
func sizeHint(n int) keySet {
	size := minSlots
	for 3*size < 4*n {
		size *= 2
	}
	return keySet{slots: make([]Key, size)}
}
