package dedup

// keySet is a set of keys in one open-addressing table with linear probing:
// 16 bytes a slot, grown at 3/4 full, so about 21 to 43 bytes a key (Go's
// map needs about twice that for these keys). The zero Key marks an empty
// slot; Index.Key never returns it. A key may be marked pending (reserved,
// not yet stored) in its slot, with the pendingBit of its first word, which
// Index.Key keeps clear.
type keySet struct {
	slots []Key
	n     int
}

const minSlots = 16

// pendingBit marks a reserved key in its slot.
const pendingBit = 2

func (s *keySet) home(k Key) int { return int(k[1] & uint64(len(s.slots)-1)) }

// find returns the slot of k, or the empty slot where it would go (found
// false). The set must have a free slot.
func (s *keySet) find(k Key) (i int, found bool) {
	mask := len(s.slots) - 1
	for i = s.home(k); ; i = (i + 1) & mask {
		switch slot := s.slots[i]; {
		case slot == Key{}:
			return i, false
		case slot[1] == k[1] && slot[0]&^pendingBit == k[0]:
			return i, true
		}
	}
}

// lookup reports whether k is in the set, and whether it is pending.
func (s *keySet) lookup(k Key) (found, pending bool) {
	if s.n == 0 {
		return false, false
	}
	i, found := s.find(k)
	return found, found && s.slots[i][0]&pendingBit != 0
}

// add puts k in the set, pending or not; a key present is marked so.
func (s *keySet) add(k Key, pending bool) {
	if 4*(s.n+1) > 3*len(s.slots) {
		s.grow()
	}
	i, found := s.find(k)
	if !found {
		s.n++
	}
	if pending {
		k[0] |= pendingBit
	}
	s.slots[i] = k
}

// settle marks k stored, or removes it; it reports whether k was there.
func (s *keySet) settle(k Key, stored bool) bool {
	if s.n == 0 {
		return false
	}
	i, found := s.find(k)
	switch {
	case !found:
		return false
	case stored:
		s.slots[i][0] &^= pendingBit
	default:
		s.remove(i)
	}
	return true
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
			s.add(k, false) // the pending bit travels in k
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
