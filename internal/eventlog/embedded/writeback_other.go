//go:build !linux

package embedded

// startWriteback does nothing where sync_file_range(2) does not exist.
func startWriteback(f segmentFile, off, n int64) {}

// syncData is f.Sync where fdatasync(2) is not used.
func syncData(f segmentFile) error { return f.Sync() }
