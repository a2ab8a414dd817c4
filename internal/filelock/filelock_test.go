package filelock

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestLockIsExclusiveUntilClosed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "LOCK")
	first, err := Lock(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(path, false); !errors.Is(err, ErrLocked) {
		t.Fatalf("second lock: %v, want ErrLocked", err)
	}
	got := make(chan error, 1)
	go func() {
		f, err := Lock(path, true)
		if err == nil {
			f.Close()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("waiting lock returned %v while held", err)
	case <-time.After(50 * time.Millisecond):
	}
	first.Close()
	if err := <-got; err != nil {
		t.Fatalf("waiting lock: %v", err)
	}
}
