//go:build !unix

package embedded

import (
	"errors"
	"os"
)

// lockDir is not implemented without flock: refuse rather than risk two
// writers.
func lockDir(dir string) (*os.File, error) {
	return nil, errors.New("the embedded event log needs flock, which this platform lacks")
}
