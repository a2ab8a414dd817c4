package sessionizer

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// The documents of an hour's file are in a fixed order, by closing time,
// then visitor, visit, continuation and first event, rather than in the
// order the visits closed: that order depends on how the partitions' reads
// interleaved, and a file rebuilt from the log must come out byte for
// byte the same.

// spoolEntry is where a visit is in a spool file, with its sort key.
type spoolEntry struct {
	closeAt, first int64
	visitor, visit string
	continuation   int
	off            int64 // of its uvarint length
	size           int64 // length and binary form
}

func compareEntries(a, b spoolEntry) int {
	return cmp.Or(
		cmp.Compare(a.closeAt, b.closeAt),
		strings.Compare(a.visitor, b.visitor),
		strings.Compare(a.visit, b.visit),
		cmp.Compare(a.continuation, b.continuation),
		cmp.Compare(a.first, b.first),
		cmp.Compare(a.off, b.off),
	)
}

// sortedSpool reads the spool file f once to index its visits and returns
// a reader of the same bytes, visit by visit, in document order, which
// reads f again with ReadAt.
func sortedSpool(f io.ReaderAt) (io.Reader, error) {
	var (
		entries []spoolEntry
		off     int64
		buf     []byte
		dec     decoder
		v       trackedVisit
	)
	r := bufio.NewReaderSize(io.NewSectionReader(f, 0, 1<<62), 256<<10)
	for {
		n, err := binary.ReadUvarint(r)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil || n > 1<<30 {
			return nil, fmt.Errorf("spool: visit %d: bad length (%v)", len(entries), err)
		}
		buf = slices.Grow(buf[:0], int(n))[:n]
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, fmt.Errorf("spool: visit %d: %w", len(entries), err)
		}
		dec.b, dec.err = buf, nil
		if dec.head(&v); dec.err != nil {
			return nil, fmt.Errorf("spool: visit %d: %w", len(entries), dec.err)
		}
		size := int64(uvarintLen(n)) + int64(n)
		entries = append(entries, spoolEntry{closeAt: v.closeAt, first: v.first, visitor: v.VisitorID, visit: v.VisitID,
			continuation: v.Continuation, off: off, size: size})
		off += size
	}
	slices.SortFunc(entries, compareEntries)
	return &entryReader{f: f, entries: entries}, nil
}

func uvarintLen(n uint64) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], n)
}

// entryReader reads the entries of a spool file one after the other.
type entryReader struct {
	f       io.ReaderAt
	entries []spoolEntry
	pos     int64 // read of entries[0]
}

func (r *entryReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && len(r.entries) > 0 {
		e := r.entries[0]
		m := int(min(int64(len(p)-n), e.size-r.pos))
		if _, err := r.f.ReadAt(p[n:n+m], e.off+r.pos); err != nil {
			return n, fmt.Errorf("spool: %w", err)
		}
		n += m
		if r.pos += int64(m); r.pos == e.size {
			r.entries, r.pos = r.entries[1:], 0
		}
	}
	if n == 0 && len(r.entries) == 0 {
		return 0, io.EOF
	}
	return n, nil
}
