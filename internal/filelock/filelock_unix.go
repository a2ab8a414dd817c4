//go:build unix

package filelock

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/sightline/sightline/internal/atomicfile"
)

// Lock takes an exclusive lock on path, creating the file if needed. When
// another holder has it, Lock waits if wait is set and otherwise fails with
// an error wrapping ErrLocked. Close the file to release the lock.
func Lock(path string, wait bool) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, atomicfile.FileMode)
	if err != nil {
		return nil, err
	}
	how := syscall.LOCK_EX
	if !wait {
		how |= syscall.LOCK_NB
	}
	for {
		err = syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w", path, ErrLocked)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}
