//go:build !unix

package filelock

import (
	"errors"
	"os"
)

// Lock is not implemented without flock: it refuses rather than risk two
// writers.
func Lock(path string, wait bool) (*os.File, error) {
	return nil, errors.New("file locks need flock, which this platform lacks")
}
