//go:build !linux

package embedded

import (
	"os"

	"github.com/sightline/sightline/internal/atomicfile"
)

// startWriteback does nothing where sync_file_range(2) does not exist.
func startWriteback(f segmentFile, off, n int64) {}

// openOSFile is the default Options.openFile.
func openOSFile(name string, flag int) (segmentFile, error) {
	return os.OpenFile(name, flag, atomicfile.FileMode)
}
