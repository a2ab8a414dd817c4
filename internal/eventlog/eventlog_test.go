package eventlog

import (
	"context"
	"testing"
)

// chunked is a Reader that passes at most two records a Read, as a Read with
// a small maxBytes does.
type chunked []string

func (c chunked) Partitions() int { return 1 }

func (c chunked) Read(_ context.Context, _ int, from Offset, _ int, fn func(Message) bool) (Offset, error) {
	next := from
	for i := int(from); i < len(c) && i < int(from)+2; i++ {
		next = Offset(i + 1)
		if !fn(Message{Offset: Offset(i), Next: next, Value: []byte(c[i])}) {
			break
		}
	}
	return next, nil
}

func TestReadToEnd(t *testing.T) {
	log := chunked{"a", "b", "c", "d", "e"}
	for _, tc := range []struct {
		name      string
		from      Offset
		stopAt    string
		want      string
		wantFinal Offset
	}{
		{"everything, across reads", 0, "", "abcde", 5},
		{"from the middle", 3, "", "de", 5},
		{"at the end", 5, "", "", 5},
		{"stopped by fn", 0, "c", "abc", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ""
			next, err := ReadToEnd(context.Background(), log, 0, tc.from, func(m Message) bool {
				got += string(m.Value)
				return string(m.Value) != tc.stopAt
			})
			if err != nil || got != tc.want || next != tc.wantFinal {
				t.Fatalf("read %q up to %d (%v), want %q up to %d", got, next, err, tc.want, tc.wantFinal)
			}
		})
	}
}
