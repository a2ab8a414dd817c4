package embedded

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

func TestDecodeFrame(t *testing.T) {
	valid := appendFrame(nil, []byte("payload"))
	tests := []struct {
		name    string
		frame   []byte
		payload string
		err     error
	}{
		{"valid", valid, "payload", nil},
		{"empty payload", appendFrame(nil, nil), "", nil},
		{"followed by more", append(bytes.Clone(valid), 1, 2, 3), "payload", nil},
		{"no header", valid[:7], "", errShort},
		{"short payload", valid[:len(valid)-1], "", errShort},
		{"zeros", make([]byte, 16), "", errChecksum},
		{"bad checksum", func() []byte { b := bytes.Clone(valid); b[5]++; return b }(), "", errChecksum},
		{"bad payload", func() []byte { b := bytes.Clone(valid); b[9]++; return b }(), "", errChecksum},
		{"length too large", binary.LittleEndian.AppendUint32(nil, MaxRecordSize+1), "", errShort}, // header incomplete
		{"impossible length", append(binary.LittleEndian.AppendUint32(nil, MaxRecordSize+1), 0, 0, 0, 0), "", errBadLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload, err := decodeFrame(tt.frame)
			if !errors.Is(err, tt.err) || string(payload) != tt.payload {
				t.Fatalf("decodeFrame = %q, %v; want %q, %v", payload, err, tt.payload, tt.err)
			}
		})
	}
}

// FuzzScanSegment checks that scanning arbitrary segment bytes never
// panics and stops at a frame boundary: the valid prefix scans cleanly, and
// a frame appended to it is found.
func FuzzScanSegment(f *testing.F) {
	var frames []byte
	for _, v := range []string{"a", "", "a longer record of some bytes"} {
		frames = appendFrame(frames, []byte(v))
	}
	f.Add([]byte{})
	f.Add(frames)
	f.Add(frames[:len(frames)-3])
	f.Add(append(bytes.Clone(frames), make([]byte, 40)...))
	f.Add(append(bytes.Clone(frames), 0xff, 0xff, 0xff, 0x7f, 1, 2, 3, 4))
	f.Fuzz(func(t *testing.T, data []byte) {
		valid, err := scanSegment(bytes.NewReader(data), int64(len(data)))
		if valid < 0 || valid > int64(len(data)) {
			t.Fatalf("valid prefix %d of %d bytes", valid, len(data))
		}
		if (valid < int64(len(data))) != isFrameError(err) {
			t.Fatalf("valid prefix %d of %d bytes with error %v", valid, len(data), err)
		}
		prefix := data[:valid]
		if again, err := scanSegment(bytes.NewReader(prefix), valid); again != valid || err != nil {
			t.Fatalf("valid prefix of %d bytes rescans to %d, %v", valid, again, err)
		}
		extended := appendFrame(bytes.Clone(prefix), []byte("next"))
		if got, err := scanSegment(bytes.NewReader(extended), int64(len(extended))); got != int64(len(extended)) || err != nil {
			t.Fatalf("frame after the valid prefix not found: %d of %d, %v", got, len(extended), err)
		}
	})
}
