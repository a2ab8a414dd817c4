package dedup

// keySet is a set of keys in one open-addressing table with linear probing:
// 16 bytes a slot, grown at 3/4 full, so about 21 to 43 bytes a key (Go's
// map needs about twice that for these keys). The zero Key marks an empty
// slot; Index.Key never returns it.
type keySet struct {
	slots []Key
	n     int
}

const minSlots = 16

func (s *keySet) home(k Key) int { return int(k[1] & uint64(len(s.slots)-1)) }

// find returns the slot of k, or the empty slot where it would go (found
// false). The set must have a free slot.
func (s *keySet) find(k Key) (i int, found bool) {
	mask := len(s.slots) - 1
	for i = s.home(k); ; i = (i + 1) & mask {
		switch s.slots[i] {
		case Key{}:
			return i, false
		case k:
			return i, true
		}
	}
}

// has reports whether k is in the set.
func (s *keySet) has(k Key) bool {
	if s.n == 0 {
		return false
	}
	_, found := s.find(k)
	return found
}

// add puts k in the set.
func (s *keySet) add(k Key) {
	if 4*(s.n+1) > 3*len(s.slots) {
		s.grow()
	}
	if i, found := s.find(k); !found {
		s.slots[i] = k
		s.n++
	}
}

// delete removes k from the set and reports whether it was there.
func (s *keySet) delete(k Key) bool {
	if s.n == 0 {
		return false
	}
	i, found := s.find(k)
	if found {
		s.remove(i)
	}
	return found
}

// remove empties slot i, moving back the keys after it that would no
// longer be found (backward-shift deletion).
func (s *keySet) remove(i int) {
	mask := len(s.slots) - 1
	s.n--
	for j := (i + 1) & mask; s.slots[j] != (Key{}); j = (j + 1) & mask {
		// The key at j may fill the hole at i if its home is not in (i, j].
		if home := s.home(s.slots[j]); (j-home)&mask >= (j-i)&mask {
			s.slots[i], i = s.slots[j], j
		}
	}
	s.slots[i] = Key{}
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
