package embedded

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// metaFileName is the file that records the layout of a log directory.
const metaFileName = "meta.json"

// metaVersion is the version of the directory layout and record format.
const metaVersion = 1

// meta is the content of meta.json.
type meta struct {
	Version    int `json:"version"`
	Partitions int `json:"partitions"`
}

// readMeta reads meta.json in dir. It returns false when there is none.
func readMeta(dir string) (meta, bool, error) {
	var m meta
	b, err := os.ReadFile(filepath.Join(dir, metaFileName))
	if errors.Is(err, fs.ErrNotExist) {
		return m, false, nil
	}
	if err != nil {
		return m, false, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, false, fmt.Errorf("parse %s: %w", filepath.Join(dir, metaFileName), err)
	}
	if m.Version != metaVersion {
		return m, false, fmt.Errorf("event log %s has version %d, this build reads version %d", dir, m.Version, metaVersion)
	}
	if m.Partitions < 1 {
		return m, false, fmt.Errorf("event log %s: invalid partition count %d in %s", dir, m.Partitions, metaFileName)
	}
	return m, true, nil
}
