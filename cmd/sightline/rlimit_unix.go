//go:build unix

package main

import "syscall"

// raiseFileLimit raises this process's soft limit of open files to its
// hard limit, which the processes it starts inherit, and returns the limit
// then.
func raiseFileLimit() (soft, hard uint64, err error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, 0, err
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
			return 0, 0, err
		}
	}
	return uint64(l.Cur), uint64(l.Max), nil
}
