package hourfiles

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
)

// Manifest is the JSON content of a manifest file: what Commit recorded of
// a generation.
type Manifest struct {
	Start      int64  `json:"scopeStart"` // epoch ms
	End        int64  `json:"scopeEnd"`   // epoch ms
	Generation int    `json:"generation"`
	Visits     int    `json:"visits"` // how many visits the parts hold
	Parts      []Part `json:"parts"`  // part 0, 1, 2...
}

// Part is one part file of a generation.
type Part struct {
	Name   string `json:"name"`   // a websession.FileName
	Size   int64  `json:"size"`   // bytes
	SHA256 string `json:"sha256"` // of the content, 64 lowercase hex digits
}

// maxManifestSize bounds what is read of a manifest: 100000 parts of about
// 150 bytes.
const maxManifestSize = 16 << 20

// readManifest reads and checks the manifest name of account.
func readManifest(ctx context.Context, store Store, account string, name ManifestName) (Manifest, error) {
	var m Manifest
	err := func() error {
		f, _, err := store.Open(ctx, account, name.String())
		if err != nil {
			return err
		}
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, maxManifestSize+1))
		if err != nil {
			return err
		}
		if len(data) > maxManifestSize {
			return fmt.Errorf("larger than %d bytes", maxManifestSize)
		}
		if err := json.Unmarshal(data, &m); err != nil {
			return err
		}
		return m.check(name)
	}()
	if err != nil {
		return Manifest{}, fmt.Errorf("manifest %s of account %s: %w", name, account, err)
	}
	return m, nil
}

// check reports what in m does not match its file name or is impossible.
func (m Manifest) check(name ManifestName) error {
	h := newHourKey(name.ScopeStart, name.ScopeEnd)
	switch {
	case m.Start != h.start || m.End != h.end || m.Generation != name.Generation:
		return fmt.Errorf("scope %d-%d generation %d, but the name says %d-%d generation %d", m.Start, m.End, m.Generation, h.start, h.end, name.Generation)
	case len(m.Parts) != name.Parts:
		return fmt.Errorf("%d parts, but the name says %d", len(m.Parts), name.Parts)
	case m.Visits < 0:
		return fmt.Errorf("negative visits %d", m.Visits)
	}
	for i, p := range m.Parts {
		if want := h.partName(i, m.Generation); p.Name != want {
			return fmt.Errorf("part %d is named %q, want %q", i, p.Name, want)
		}
		if p.Size < 0 {
			return fmt.Errorf("part %d: negative size %d", i, p.Size)
		}
		if b, err := hex.DecodeString(p.SHA256); err != nil || len(b) != 32 || hex.EncodeToString(b) != p.SHA256 {
			return fmt.Errorf("part %d: sha256 %q is not 64 lowercase hex digits", i, p.SHA256)
		}
	}
	return nil
}

// committed reads the manifest of the newest committed generation of each
// hour of account, by scope start (epoch ms). Hours whose only files were
// written before manifests have none. A manifest that cannot be read or
// does not match its name is an error naming it.
func committed(ctx context.Context, store Store, account string) (map[int64]Manifest, error) {
	files, err := store.List(ctx, account)
	if err != nil {
		return nil, fmt.Errorf("cannot list the hours of account %s: %w", account, err)
	}
	manifests := map[int64]Manifest{}
	var errs []error
	hours := index(files)
	for _, h := range slices.SortedFunc(maps.Keys(hours), compareHours) {
		c, ok := hours[h].current()
		if !ok || c.manifest == nil {
			continue
		}
		m, err := readManifest(ctx, store, account, h.manifestName(c.gen, c.manifest.parts))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		manifests[h.start] = m
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return manifests, nil
}
