package embedded

import (
	"os"
	"syscall"
)

// syncFileRangeWrite is SYNC_FILE_RANGE_WRITE of sync_file_range(2): start
// writing back the dirty pages of the range, without waiting.
const syncFileRangeWrite = 2

// startWriteback asks the kernel to start writing n bytes of f from off
// back to disk, so that the next checkpoint's fsync finds little left to do
// instead of flushing a burst that delays the write-ahead file's fsyncs.
// It is only a hint: errors are ignored, fsync still makes data durable.
func startWriteback(f segmentFile, off, n int64) {
	sc, ok := f.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		syscall.SyncFileRange(int(fd), off, n, syncFileRangeWrite)
	})
}

// syncData makes f's written bytes durable with fdatasync(2): unlike fsync
// it does not wait for a journal commit of metadata that reading the data
// back does not need (modification time), which is most of a sync's cost
// when the bytes overwrite allocated blocks. It falls back to f.Sync when f
// has no file descriptor.
func syncData(f segmentFile) error {
	sc, ok := f.(syscall.Conn)
	if !ok {
		return f.Sync()
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return f.Sync()
	}
	cerr := rc.Control(func(fd uintptr) {
		for {
			err = syscall.Fdatasync(int(fd))
			if err != syscall.EINTR {
				break
			}
		}
	})
	if cerr != nil {
		return cerr
	}
	if err != nil {
		return os.NewSyscallError("fdatasync", err)
	}
	return nil
}
