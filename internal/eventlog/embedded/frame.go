package embedded

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
)

// Record framing; see docs/eventlog-format.md.
const (
	// frameHeaderSize is the length and checksum before each payload.
	frameHeaderSize = 8
	// MaxRecordSize is the largest value Append accepts, in bytes.
	MaxRecordSize = 16 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Reasons a frame cannot be decoded. They end up in CorruptionError.Err.
var (
	errTruncated = errors.New("incomplete record")
	errBadLength = errors.New("impossible record length")
	errChecksum  = errors.New("record checksum mismatch")
)

// errShort means more bytes are needed to decode the frame.
var errShort = errors.New("short frame")

// appendFrame appends the frame of payload to dst.
func appendFrame(dst, payload []byte) []byte {
	n := len(dst)
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0)
	dst = append(dst, payload...)
	binary.LittleEndian.PutUint32(dst[n:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(dst[n+4:], frameChecksum(dst[n:n+4], payload))
	return dst
}

// frameChecksum is the CRC32-Castagnoli of the length field followed by the
// payload. Covering the length makes a run of zero bytes (a file extended
// but never written before a crash) fail the check instead of decoding as
// empty records.
func frameChecksum(length, payload []byte) uint32 {
	return crc32.Update(crc32.Update(0, castagnoli, length), castagnoli, payload)
}

// decodeFrame decodes the frame at the start of b. It returns errShort when b
// ends inside the frame, errBadLength or errChecksum when the frame is
// invalid. A frame's size is frameHeaderSize+len(payload).
func decodeFrame(b []byte) (payload []byte, err error) {
	if len(b) < frameHeaderSize {
		return nil, errShort
	}
	n := binary.LittleEndian.Uint32(b)
	if n > MaxRecordSize {
		return nil, errBadLength
	}
	if uint64(len(b)) < frameHeaderSize+uint64(n) {
		return nil, errShort
	}
	payload = b[frameHeaderSize : frameHeaderSize+n]
	if binary.LittleEndian.Uint32(b[4:]) != frameChecksum(b[:4], payload) {
		return nil, errChecksum
	}
	return payload, nil
}

// frameReader reads frames out of segments through a buffer that it keeps
// between calls.
type frameReader struct {
	buf []byte
}

// readBufferSize is the initial size of a frameReader's buffer: the most
// read from a segment in one call.
const readBufferSize = 256 << 10

func newFrameReader() *frameReader {
	return &frameReader{buf: make([]byte, readBufferSize)}
}

// scan passes the frames of r between positions pos and lim to fn, with
// the position of each frame. The payload is valid only during fn.
//
// scan stops when fn returns false, returning the position after that
// frame; at lim, returning lim; at a frame that is incomplete before lim
// (errTruncated), has an impossible length (errBadLength) or fails its
// checksum (errChecksum), returning the position of that frame; or at a
// read error.
func (fr *frameReader) scan(r io.ReaderAt, pos, lim int64, fn func(pos int64, payload []byte) bool) (int64, error) {
	for pos < lim {
		b := fr.buf
		if rest := lim - pos; rest < int64(len(b)) {
			b = b[:rest]
		}
		n, err := r.ReadAt(b, pos)
		if n < len(b) {
			if err != nil && err != io.EOF {
				return pos, err
			}
			// The file is shorter than lim: what is missing is incomplete.
			lim = pos + int64(n)
			b = b[:n]
		}
		i := 0
		for {
			payload, err := decodeFrame(b[i:])
			if err == errShort {
				break
			}
			if err != nil {
				return pos + int64(i), err
			}
			size := frameHeaderSize + len(payload)
			if !fn(pos+int64(i), payload) {
				return pos + int64(i+size), nil
			}
			i += size
		}
		pos += int64(i)
		if i > 0 || pos >= lim {
			continue
		}
		// Not even one frame fits in b.
		if pos+int64(len(b)) >= lim {
			return pos, errTruncated
		}
		// The buffer is smaller than the frame: grow it. decodeFrame has
		// checked that the length is possible.
		fr.buf = make([]byte, frameHeaderSize+int(binary.LittleEndian.Uint32(b)))
	}
	return pos, nil
}

// scanSegment checks the frames of a segment of size bytes and returns the
// length of its valid prefix, and why it ends there when it is shorter than
// size.
func scanSegment(r io.ReaderAt, size int64) (int64, error) {
	return newFrameReader().scan(r, 0, size, func(int64, []byte) bool { return true })
}
