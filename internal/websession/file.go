package websession

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
)

// ForEachDocument reads a web-session file from r, a gzip stream of
// documents one per line, and calls fn with each document (without its
// newline; valid until fn returns) and its line number, from 1. It stops
// at fn's first error and returns it. Reading to the end checks every gzip
// member's checksum and length, so a truncated or damaged file is an
// error. Lines may be of any length.
func ForEachDocument(r io.Reader, fn func(line int, doc []byte) error) error {
	zr, err := gzip.NewReader(bufio.NewReaderSize(r, 256<<10))
	if err != nil {
		return err
	}
	br := bufio.NewReaderSize(zr, 256<<10)
	var long []byte // a line longer than br's buffer, gathered
	for line := 1; ; line++ {
		b, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long[:0], b...)
			for errors.Is(err, bufio.ErrBufferFull) {
				b, err = br.ReadSlice('\n')
				long = append(long, b...)
			}
			b = long
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("line %d: %w", line, err)
		}
		if len(b) > 0 && b[len(b)-1] == '\n' {
			b = b[:len(b)-1]
		}
		if len(b) > 0 || err == nil {
			if ferr := fn(line, b); ferr != nil {
				return ferr
			}
		}
		if err != nil { // io.EOF
			return nil
		}
	}
}
