package hourfiles

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"time"
)

// Generation is a new generation of one hour of one account being written:
// Begin, PutPart for each part, then Commit, or Abort. It is not safe for
// concurrent use, and one generation of an hour at a time may be written.
type Generation struct {
	store   Store
	account string
	hour    hourKey
	number  int
	parts   []Part
	tried   int  // parts PutPart started to store, whether it succeeded or not
	done    bool // committed or aborted
	commit  bool // committed
}

// Begin starts the next generation of the hour [start, end) of account:
// its number is one more than the highest generation of that hour in the
// store (committed or not: parts, manifests and pending markers), or 1 when
// there is none. It writes the generation's pending marker.
//
// Generation 0 is left to the files written before manifests: a listing
// may miss a file created while the store is read yet hold files created
// after it, so a new hour's first generation, were it 0, could be listed
// with parts but without its pending marker and taken for such files.
func Begin(ctx context.Context, store Store, account string, start, end time.Time) (*Generation, error) {
	h := newHourKey(start, end)
	if h.start < 0 || h.end <= h.start {
		return nil, fmt.Errorf("hour %d-%d: scope is not two increasing epoch milliseconds", h.start, h.end)
	}
	files, err := store.List(ctx, account)
	if err != nil {
		return nil, fmt.Errorf("cannot begin hour %d of account %s: %w", h.start, account, err)
	}
	number := 1
	for n := range index(files)[h] {
		if n == math.MaxInt {
			return nil, fmt.Errorf("cannot begin hour %d of account %s: generation %d is the last", h.start, account, n)
		}
		number = max(number, n+1)
	}
	g := &Generation{store: store, account: account, hour: h, number: number}
	if err := store.Put(ctx, account, h.pendingName(number), func(io.Writer) error { return nil }); err != nil {
		return nil, fmt.Errorf("cannot begin hour %d of account %s: %w", h.start, account, err)
	}
	return g, nil
}

// Number returns the generation's number.
func (g *Generation) Number() int { return g.number }

// PutPart writes part n of the generation, which must be the next (0, 1,
// 2...), with what write writes, recording its size and SHA-256.
func (g *Generation) PutPart(ctx context.Context, n int, write func(io.Writer) error) error {
	switch {
	case g.done:
		return fmt.Errorf("hour %d generation %d: already committed or aborted", g.hour.start, g.number)
	case n != len(g.parts):
		return fmt.Errorf("hour %d generation %d: part %d written out of order, want part %d", g.hour.start, g.number, n, len(g.parts))
	case n >= maxParts:
		return fmt.Errorf("hour %d generation %d: more than %d parts", g.hour.start, g.number, maxParts)
	}
	name := g.hour.partName(n, g.number)
	var hw *hashWriter
	g.tried = n + 1
	err := g.store.Put(ctx, g.account, name, func(w io.Writer) error {
		hw = &hashWriter{w: w, h: sha256.New()}
		return write(hw)
	})
	if err == nil && hw == nil {
		err = errors.New("the store did not write it")
	}
	if err != nil {
		return fmt.Errorf("cannot write part %s of account %s: %w", name, g.account, err)
	}
	g.parts = append(g.parts, Part{Name: name, Size: hw.n, SHA256: hex.EncodeToString(hw.h.Sum(nil))})
	return nil
}

// hashWriter hashes and counts what it writes to w.
type hashWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (hw *hashWriter) Write(p []byte) (int, error) {
	n, err := hw.w.Write(p)
	hw.h.Write(p[:n])
	hw.n += int64(n)
	return n, err
}

// Same reports whether the parts written so far are exactly those of the
// newest committed generation of the hour: as many, of the same sizes and
// SHA-256, so that committing would change nothing. An hour whose only files
// were written before manifests is compared with its generation-0 parts,
// which are read to hash them when their sizes match.
func (g *Generation) Same(ctx context.Context) (bool, error) {
	files, err := g.store.List(ctx, g.account)
	if err != nil {
		return false, fmt.Errorf("cannot compare hour %d of account %s: %w", g.hour.start, g.account, err)
	}
	c, ok := index(files)[g.hour].current()
	if !ok || len(c.parts) != len(g.parts) {
		return false, nil
	}
	if c.manifest != nil {
		m, err := readManifest(ctx, g.store, g.account, g.hour.manifestName(c.gen, c.manifest.parts))
		if err != nil {
			return false, err
		}
		for i, p := range m.Parts {
			if p.Size != g.parts[i].Size || p.SHA256 != g.parts[i].SHA256 {
				return false, nil
			}
		}
		return true, nil
	}
	for i, f := range c.parts {
		if f.Name != g.hour.partName(i, 0) || f.Size != g.parts[i].Size {
			return false, nil
		}
	}
	for i, f := range c.parts {
		sum, err := g.hash(ctx, f.Name)
		if err != nil {
			return false, err
		}
		if sum != g.parts[i].SHA256 {
			return false, nil
		}
	}
	return true, nil
}

// hash returns the SHA-256 of the file name, in hex.
func (g *Generation) hash(ctx context.Context, name string) (string, error) {
	f, _, err := g.store.Open(ctx, g.account, name)
	if err != nil {
		return "", fmt.Errorf("cannot compare with %s of account %s: %w", name, g.account, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("cannot compare with %s of account %s: %w", name, g.account, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Commit makes the generation visible by writing its manifest, recording
// visits in it. It then removes the pending marker; if that fails, the
// generation is committed all the same and Expire removes the marker.
func (g *Generation) Commit(ctx context.Context, visits int) error {
	switch {
	case g.done:
		return fmt.Errorf("hour %d generation %d: already committed or aborted", g.hour.start, g.number)
	case len(g.parts) == 0:
		return fmt.Errorf("hour %d generation %d: no parts to commit", g.hour.start, g.number)
	case visits < 0:
		return fmt.Errorf("hour %d generation %d: negative visits %d", g.hour.start, g.number, visits)
	}
	m := Manifest{Start: g.hour.start, End: g.hour.end, Generation: g.number, Visits: visits, Parts: g.parts}
	data, err := json.MarshalIndent(m, "", "\t")
	if err != nil {
		return err
	}
	name := g.hour.manifestName(g.number, len(g.parts)).String()
	if err := g.store.Put(ctx, g.account, name, func(w io.Writer) error {
		_, err := w.Write(append(data, '\n'))
		return err
	}); err != nil {
		return fmt.Errorf("cannot commit %s of account %s: %w", name, g.account, err)
	}
	g.done, g.commit = true, true
	_ = g.store.Remove(ctx, g.account, g.hour.pendingName(g.number)) // else Expire does
	return nil
}

// Abort removes the parts written so far, including one whose PutPart
// failed, the manifest of a Commit that failed, and the pending marker: for
// a generation that Same finds equal to the committed one, or whose writing
// failed. It may be called again if it fails; it cannot undo a Commit.
func (g *Generation) Abort(ctx context.Context) error {
	if g.commit {
		return fmt.Errorf("hour %d generation %d: already committed", g.hour.start, g.number)
	}
	var errs []error
	for n := range g.tried {
		errs = append(errs, g.store.Remove(ctx, g.account, g.hour.partName(n, g.number)))
	}
	if len(g.parts) > 0 {
		errs = append(errs, g.store.Remove(ctx, g.account, g.hour.manifestName(g.number, len(g.parts)).String()))
	}
	errs = append(errs, g.store.Remove(ctx, g.account, g.hour.pendingName(g.number)))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cannot abort hour %d generation %d of account %s: %w", g.hour.start, g.number, g.account, err)
	}
	g.done = true
	return nil
}
