package embedded

import (
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
