// Package filelock takes exclusive locks on files (flock(2)), so that
// processes sharing a data directory take turns: a lock is held until its
// file is closed, and the kernel releases it when the process dies.
package filelock

import "errors"

// ErrLocked means another holder has the lock.
var ErrLocked = errors.New("locked by another process")
