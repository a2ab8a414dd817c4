//go:build !linux

package server

import (
	"errors"
	"net"
)

// peerUID would return the user of the process at the other end of c;
// without SO_PEERCRED it cannot tell, so the control socket refuses every
// connection.
func peerUID(c net.Conn) (int, error) {
	return -1, errors.ErrUnsupported
}
