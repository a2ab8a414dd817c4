package embedded

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sightline/sightline/internal/filelock"
)

// lockDir takes an exclusive lock on dir/LOCK, held until the returned file
// is closed.
func lockDir(dir string) (*os.File, error) {
	f, err := filelock.Lock(filepath.Join(dir, "LOCK"), false)
	if errors.Is(err, filelock.ErrLocked) {
		return nil, fmt.Errorf("open event log %s: %w (%w)", dir, ErrLocked, err)
	}
	return f, err
}
