package embedded

import (
	"os"
	"syscall"

	"github.com/sightline/sightline/internal/atomicfile"
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

// dataFile is a segment or write-ahead file whose Sync is fdatasync(2):
// unlike fsync it does not wait for a journal commit of metadata that
// reading the data back does not need (the modification time), which is
// most of a sync's cost when a write-ahead file is written over. The size
// of a file that grew is still made durable.
type dataFile struct{ *os.File }

func (f dataFile) Sync() error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	cerr := rc.Control(func(fd uintptr) {
		for {
			if err = syscall.Fdatasync(int(fd)); err != syscall.EINTR {
				return
			}
		}
	})
	if cerr != nil {
		return cerr
	}
	if err != nil {
		return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: err}
	}
	return nil
}

// openOSFile is the default Options.openFile.
func openOSFile(name string, flag int) (segmentFile, error) {
	f, err := os.OpenFile(name, flag, atomicfile.FileMode)
	if err != nil {
		return nil, err
	}
	return dataFile{f}, nil
}
