package embedded

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/sightline/sightline/internal/atomicfile"
	"github.com/sightline/sightline/internal/eventlog"
)

// offsetsDirName is the directory of consumer offsets in a log directory.
const offsetsDirName = "offsets"

// offsetStore keeps consumer groups' offsets in one JSON file per group.
type offsetStore struct {
	dir        string
	partitions int

	mu     sync.Mutex
	groups map[string]map[int]int64 // loaded groups
}

// offsetsFile is the content of an offsets file.
type offsetsFile struct {
	Version int              `json:"version"`
	Offsets map[string]int64 `json:"offsets"` // by partition number
}

// openOffsetStore opens the offsets directory dir, creating it if needed,
// and removes the temporary files a crash may have left in it.
func openOffsetStore(dir string, partitions int) (*offsetStore, error) {
	if err := os.MkdirAll(dir, atomicfile.DirMode); err != nil {
		return nil, err
	}
	if err := atomicfile.RemoveTemps(dir); err != nil {
		return nil, err
	}
	return &offsetStore{dir: dir, partitions: partitions, groups: map[string]map[int]int64{}}, nil
}

// validGroup reports whether group is 1 to 64 of [A-Za-z0-9_.-].
func validGroup(group string) bool {
	if len(group) < 1 || len(group) > 64 {
		return false
	}
	for _, c := range []byte(group) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}

func (s *offsetStore) check(group string, p int) error {
	if !validGroup(group) {
		return fmt.Errorf("invalid consumer group %q: want 1 to 64 of [A-Za-z0-9_.-]", group)
	}
	if p < 0 || p >= s.partitions {
		return fmt.Errorf("partition %d out of range [0, %d)", p, s.partitions)
	}
	return nil
}

// load returns the offsets of group, reading its file the first time.
// s.mu must be held.
func (s *offsetStore) load(group string) (map[int]int64, error) {
	if offs, ok := s.groups[group]; ok {
		return offs, nil
	}
	offs := map[int]int64{}
	b, err := os.ReadFile(filepath.Join(s.dir, group+".json"))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		var f offsetsFile
		if err := json.Unmarshal(b, &f); err != nil {
			return nil, fmt.Errorf("parse offsets of group %s: %w", group, err)
		}
		for k, v := range f.Offsets {
			p, err := strconv.Atoi(k)
			if err != nil {
				return nil, fmt.Errorf("parse offsets of group %s: bad partition %q", group, k)
			}
			offs[p] = v
		}
	}
	s.groups[group] = offs
	return offs, nil
}

// commit durably records off for group and p.
func (s *offsetStore) commit(group string, p int, off eventlog.Offset) error {
	if err := s.check(group, p); err != nil {
		return err
	}
	if off < 0 {
		return fmt.Errorf("invalid offset %d", off)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	offs, err := s.load(group)
	if err != nil {
		return err
	}
	offs = maps.Clone(offs)
	offs[p] = int64(off)
	f := offsetsFile{Version: 1, Offsets: make(map[string]int64, len(offs))}
	for p, off := range offs {
		f.Offsets[strconv.Itoa(p)] = off
	}
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(s.dir, group+".json"), append(b, '\n')); err != nil {
		return err
	}
	s.groups[group] = offs
	return nil
}

// committed returns the offset recorded for group and p.
func (s *offsetStore) committed(group string, p int) (eventlog.Offset, bool, error) {
	if err := s.check(group, p); err != nil {
		return 0, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	offs, err := s.load(group)
	if err != nil {
		return 0, false, err
	}
	off, ok := offs[p]
	return eventlog.Offset(off), ok, nil
}

// CommitOffset durably records that consumer group has processed partition
// p up to off, in dir/offsets/<group>.json. Group names are 1 to 64 of
// [A-Za-z0-9_.-].
func (l *Log) CommitOffset(group string, p int, off eventlog.Offset) error {
	if l.closed.Load() {
		return eventlog.ErrClosed
	}
	if err := l.offsets.commit(group, p, off); err != nil {
		return fmt.Errorf("commit offset: %w", err)
	}
	return nil
}

// CommittedOffset returns the offset committed for group and partition p,
// or 0 and false when there is none.
func (l *Log) CommittedOffset(group string, p int) (eventlog.Offset, bool, error) {
	if l.closed.Load() {
		return 0, false, eventlog.ErrClosed
	}
	off, ok, err := l.offsets.committed(group, p)
	if err != nil {
		return 0, false, fmt.Errorf("read committed offset: %w", err)
	}
	return off, ok, nil
}
