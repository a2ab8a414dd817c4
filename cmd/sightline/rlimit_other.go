//go:build !unix

package main

import "errors"

// raiseFileLimit reports that this system has no open-file limit to raise.
func raiseFileLimit() (soft, hard uint64, err error) {
	return 0, 0, errors.New("no open-file limit on this system")
}
