package hourfiles

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestBegin(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name  string
		files []string
		want  int
	}{
		{"no files: generation 1", nil, 1},
		{"another hour's generations", []string{part(1, 0, 7), manifest(1, 7, 1)}, 1},
		{"generation 0 without manifest", []string{part(0, 0, 0), part(0, 1, 0)}, 1},
		{"committed generation 1", []string{part(0, 0, 0), part(0, 0, 1), manifest(0, 1, 1)}, 2},
		{"crashed generation 2 after committed 1", []string{part(0, 0, 1), manifest(0, 1, 1), pending(0, 2), part(0, 0, 2)}, 3},
		{"crash before the first part", []string{part(0, 0, 1), manifest(0, 1, 1), pending(0, 2)}, 3},
		{"crashed new hour", []string{pending(0, 0), part(0, 0, 0)}, 1},
		{"a manifest alone", []string{manifest(0, 4, 2)}, 5},
		{"non-web-session names", []string{"WebSession.x.gen-9.pending", "README"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			for _, n := range tt.files {
				s.put(t, n, "x", time.Hour, now)
			}
			before := visible(t, s)
			start, end := hourTimes(0)
			g, err := Begin(context.Background(), s, acct, start, end)
			if err != nil {
				t.Fatal(err)
			}
			if g.Number() != tt.want {
				t.Errorf("Number() = %d, want %d", g.Number(), tt.want)
			}
			if !strings.Contains(strings.Join(s.names(t), " "), pending(0, tt.want)) {
				t.Errorf("no pending marker %s in %v", pending(0, tt.want), s.names(t))
			}
			if after := visible(t, s); !eq(after, before) {
				t.Errorf("Begin changed the visible files from %v to %v", before, after)
			}
		})
	}
	s := newStore(t)
	if _, err := Begin(context.Background(), s, acct, time.UnixMilli(h0), time.UnixMilli(h0)); err == nil {
		t.Error("Begin of an empty hour: no error")
	}
}

// TestGenerations writes an hour's generations one after the other,
// checking what is visible at each step.
func TestGenerations(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	g := write(t, s, 0, false, "a0", "a1")
	if got := visible(t, s); len(got) != 0 {
		t.Fatalf("generation 1 visible before its commit: %v", got)
	}
	if err := g.Commit(ctx, 7); err != nil {
		t.Fatal(err)
	}
	if got, want := visible(t, s), []string{part(0, 0, 1), part(0, 1, 1)}; !eq(got, want) {
		t.Fatalf("after the commit of generation 1: %v, want %v", got, want)
	}
	if got, want := s.names(t), []string{manifest(0, 1, 2), part(0, 0, 1), part(0, 1, 1)}; !eq(got, want) {
		t.Errorf("files %v, want %v (no pending marker)", got, want)
	}
	byHour, err := committed(ctx, s, acct)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("a1"))
	m := byHour[h0]
	if len(byHour) != 1 || m.Start != h0 || m.End != h0+hourMs || m.Generation != 1 || m.Visits != 7 || len(m.Parts) != 2 ||
		m.Parts[1] != (Part{Name: part(0, 1, 1), Size: 2, SHA256: hex.EncodeToString(sum[:])}) {
		t.Errorf("committed = %+v", byHour)
	}
	if got := g.parts; len(got) != 2 || got[1] != m.Parts[1] {
		t.Errorf("parts = %+v, want %+v", got, m.Parts)
	}

	g = write(t, s, 0, false, "b0", "b1", "b2")
	if g.Number() != 2 {
		t.Fatalf("second generation numbered %d", g.Number())
	}
	if got, want := visible(t, s), []string{part(0, 0, 1), part(0, 1, 1)}; !eq(got, want) {
		t.Fatalf("generation 2 written, not committed: %v, want %v", got, want)
	}
	if err := g.Commit(ctx, 8); err != nil {
		t.Fatal(err)
	}
	if got, want := visible(t, s), []string{part(0, 0, 2), part(0, 1, 2), part(0, 2, 2)}; !eq(got, want) {
		t.Fatalf("after the commit of generation 2: %v, want %v", got, want)
	}

	// A crash while writing generation 3 leaves generation 2; writing
	// again makes generation 4.
	write(t, s, 0, false, "c0")
	if got, want := visible(t, s), []string{part(0, 0, 2), part(0, 1, 2), part(0, 2, 2)}; !eq(got, want) {
		t.Fatalf("after a crash: %v, want %v", got, want)
	}
	if g = write(t, s, 0, true, "d0"); g.Number() != 4 {
		t.Fatalf("generation after the crash numbered %d", g.Number())
	}
	if got, want := visible(t, s), []string{part(0, 0, 4)}; !eq(got, want) {
		t.Fatalf("after writing again: %v, want %v", got, want)
	}
	if byHour, err := committed(ctx, s, acct); err != nil || byHour[h0].Generation != 4 || byHour[h0].Visits != 1 {
		t.Errorf("committed = %+v, %v", byHour, err)
	}
}

func TestGenerationMisuse(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	none := func(io.Writer) error { return nil }
	g := write(t, s, 0, false)
	if err := g.Commit(ctx, 0); err == nil {
		t.Error("Commit without parts: no error")
	}
	if err := g.PutPart(ctx, 1, none); err == nil {
		t.Error("PutPart 1 before 0: no error")
	}
	if err := g.PutPart(ctx, 0, none); err != nil {
		t.Fatal(err)
	}
	if err := g.PutPart(ctx, 0, none); err == nil {
		t.Error("PutPart 0 twice: no error")
	}
	if err := g.Commit(ctx, -1); err == nil {
		t.Error("Commit with negative visits: no error")
	}
	if err := g.Commit(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if err := g.PutPart(ctx, 1, none); err == nil {
		t.Error("PutPart after Commit: no error")
	}
	if err := g.Commit(ctx, 0); err == nil {
		t.Error("Commit twice: no error")
	}
	if err := g.Abort(ctx); err == nil {
		t.Error("Abort after Commit: no error")
	}
	if got, want := visible(t, s), []string{part(0, 0, 1)}; !eq(got, want) {
		t.Errorf("visible %v, want %v", got, want)
	}
}

// TestAbort aborts generations at each stage: the store is left as before
// Begin.
func TestAbort(t *testing.T) {
	ctx := context.Background()
	fail := errors.New("disk full")
	tests := []struct {
		name  string
		parts int
		fail  bool // the last PutPart fails
	}{
		{"no parts", 0, false},
		{"two parts", 2, false},
		{"the second part fails", 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			write(t, s, 0, true, "a")
			before := s.names(t)
			g := write(t, s, 0, false)
			for n := range tt.parts {
				err := g.PutPart(ctx, n, func(w io.Writer) error {
					io.WriteString(w, "half")
					if tt.fail && n == tt.parts-1 {
						return fail
					}
					return nil
				})
				if tt.fail && n == tt.parts-1 != errors.Is(err, fail) {
					t.Fatalf("PutPart %d: %v", n, err)
				}
			}
			if err := g.Abort(ctx); err != nil {
				t.Fatal(err)
			}
			if after := s.names(t); !eq(after, before) {
				t.Errorf("after Abort %v, want %v", after, before)
			}
			if err := g.Commit(ctx, 0); err == nil {
				t.Error("Commit after Abort: no error")
			}
		})
	}
}

func TestSame(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	tests := []struct {
		name      string
		committed []string // the parts of the committed generation
		legacy    bool     // committed without manifest, as generation 0
		parts     []string // the parts of the new generation
		want      bool
	}{
		{"identical", []string{"a", "bb"}, false, []string{"a", "bb"}, true},
		{"one byte differs", []string{"a", "bb"}, false, []string{"a", "bc"}, false},
		{"one part fewer", []string{"a", "bb"}, false, []string{"a"}, false},
		{"one part more", []string{"a", "bb"}, false, []string{"a", "bb", ""}, false},
		{"parts split differently", []string{"a", "bb"}, false, []string{"ab", "b"}, false},
		{"identical to files without manifest", []string{"a", "bb"}, true, []string{"a", "bb"}, true},
		{"differs from files without manifest", []string{"a", "bb"}, true, []string{"a", "cc"}, false},
		{"size differs from files without manifest", []string{"a", "bb"}, true, []string{"a", "bbb"}, false},
		{"nothing committed", nil, false, []string{"a"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			switch {
			case tt.legacy:
				for n, c := range tt.committed {
					s.put(t, part(0, n, 0), c, time.Hour, now)
				}
			case tt.committed != nil:
				write(t, s, 0, true, tt.committed...)
			}
			before := s.names(t)
			g := write(t, s, 0, false, tt.parts...)
			same, err := g.Same(ctx)
			if err != nil || same != tt.want {
				t.Fatalf("Same() = %v, %v; want %v", same, err, tt.want)
			}
			if err := g.Abort(ctx); err != nil {
				t.Fatal(err)
			}
			if after := s.names(t); !eq(after, before) {
				t.Errorf("after Abort %v, want %v", after, before)
			}
		})
	}
}

// TestBadManifest reads manifests that do not match their names: errors
// naming them.
func TestBadManifest(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	hash := strings.Repeat("ab", 32)
	tests := []struct {
		name, content string
	}{
		{"not JSON", `{"scopeStart":`},
		{"other hour", `{"scopeStart":1,"scopeEnd":2,"generation":1,"parts":[{"name":"` + part(0, 0, 1) + `","size":1,"sha256":"` + hash + `"}]}`},
		{"other generation", `{"scopeStart":1464778800000,"scopeEnd":1464782400000,"generation":2,"parts":[{"name":"` + part(0, 0, 1) + `","size":1,"sha256":"` + hash + `"}]}`},
		{"two parts", `{"scopeStart":1464778800000,"scopeEnd":1464782400000,"generation":1,"parts":[{"name":"` + part(0, 0, 1) + `","size":1,"sha256":"` + hash + `"},{"name":"` + part(0, 1, 1) + `","size":1,"sha256":"` + hash + `"}]}`},
		{"part of another generation", `{"scopeStart":1464778800000,"scopeEnd":1464782400000,"generation":1,"parts":[{"name":"` + part(0, 0, 0) + `","size":1,"sha256":"` + hash + `"}]}`},
		{"negative size", `{"scopeStart":1464778800000,"scopeEnd":1464782400000,"generation":1,"parts":[{"name":"` + part(0, 0, 1) + `","size":-1,"sha256":"` + hash + `"}]}`},
		{"short hash", `{"scopeStart":1464778800000,"scopeEnd":1464782400000,"generation":1,"parts":[{"name":"` + part(0, 0, 1) + `","size":1,"sha256":"abab"}]}`},
		{"upper-case hash", `{"scopeStart":1464778800000,"scopeEnd":1464782400000,"generation":1,"parts":[{"name":"` + part(0, 0, 1) + `","size":1,"sha256":"` + strings.ToUpper(hash) + `"}]}`},
		{"negative visits", `{"scopeStart":1464778800000,"scopeEnd":1464782400000,"generation":1,"visits":-1,"parts":[{"name":"` + part(0, 0, 1) + `","size":1,"sha256":"` + hash + `"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			s.put(t, part(0, 0, 1), "x", time.Hour, now)
			s.put(t, manifest(0, 1, 1), tt.content, time.Hour, now)
			if _, err := committed(ctx, s, acct); err == nil || !strings.Contains(err.Error(), manifest(0, 1, 1)) {
				t.Errorf("committed: %v, want an error naming the manifest", err)
			}
			g := write(t, s, 0, false, "x")
			if _, err := g.Same(ctx); err == nil || !strings.Contains(err.Error(), manifest(0, 1, 1)) {
				t.Errorf("Same: %v, want an error naming the manifest", err)
			}
		})
	}
}
