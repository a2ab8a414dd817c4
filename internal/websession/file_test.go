package websession

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

func gzipped(tb testing.TB, s string) []byte {
	tb.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// TestForEachDocument reads files as the hourly job writes them and as
// they may arrive damaged: every line, long ones whole, the last without a
// newline too; a cut or corrupted stream is an error.
func TestForEachDocument(t *testing.T) {
	long := `{"a":"` + strings.Repeat("x", 600<<10) + `"}`
	whole := gzipped(t, "{\"n\":1}\n"+long+"\n{\"n\":3}\n")
	corrupt := bytes.Clone(whole)
	corrupt[len(corrupt)-6] ^= 0xff // the CRC
	for _, c := range []struct {
		name string
		file []byte
		want []string // documents, by length when long
		err  bool
	}{
		{"three documents, one long", whole, []string{`{"n":1}`, long, `{"n":3}`}, false},
		{"no final newline", gzipped(t, "{\"n\":1}\n{\"n\":2}"), []string{`{"n":1}`, `{"n":2}`}, false},
		{"empty", gzipped(t, ""), nil, false},
		{"a blank line", gzipped(t, "{}\n\n{}\n"), []string{"{}", "", "{}"}, false},
		{"cut", whole[:len(whole)/2], nil, true},
		{"checksum wrong", corrupt, nil, true},
		{"not gzip", []byte("{}\n"), nil, true},
	} {
		var got []string
		err := ForEachDocument(bytes.NewReader(c.file), func(line int, doc []byte) error {
			if line != len(got)+1 {
				t.Errorf("%s: line %d, want %d", c.name, line, len(got)+1)
			}
			got = append(got, string(doc))
			return nil
		})
		if (err != nil) != c.err {
			t.Errorf("%s: error %v, want an error: %v", c.name, err, c.err)
		}
		if !c.err && strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%s: %d documents %.80q, want %d", c.name, len(got), got, len(c.want))
		}
	}
	stop := errors.New("stop")
	n := 0
	if err := ForEachDocument(bytes.NewReader(whole), func(int, []byte) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("fn's error: %v after %d documents, want it after 1", err, n)
	}
}

// FuzzForEachDocument reads any bytes as a web-session file: an error or
// documents, never a panic, and the documents of a valid file are its
// lines.
func FuzzForEachDocument(f *testing.F) {
	f.Add([]byte("{\"n\":1}\n{}\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, content []byte) {
		var got [][]byte
		if err := ForEachDocument(bytes.NewReader(gzipped(t, string(content))), func(_ int, doc []byte) error {
			got = append(got, bytes.Clone(doc))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if want := bytes.TrimSuffix(content, []byte("\n")); len(content) > 0 && !bytes.Equal(bytes.Join(got, []byte("\n")), want) {
			t.Fatalf("documents %q of %q", got, content)
		}
		ForEachDocument(bytes.NewReader(content), func(int, []byte) error { return nil })
	})
}
