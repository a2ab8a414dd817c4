package server

import "testing"

func TestPeerAllowed(t *testing.T) {
	tests := []struct {
		name         string
		peer, server int
		want         bool
	}{
		{"the server's user", 1000, 1000, true},
		{"root", 0, 1000, true},
		{"another user", 1001, 1000, false},
		{"a user, of a server run by root", 1000, 0, false},
		{"root, of a server run by root", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := peerAllowed(tt.peer, tt.server); got != tt.want {
				t.Errorf("peerAllowed(%d, %d) = %v, want %v", tt.peer, tt.server, got, tt.want)
			}
		})
	}
}
