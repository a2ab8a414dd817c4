// Package hourfiles keeps the generations of the hourly web-session files of
// a store: an hour is rebuilt by writing a new generation beside the one
// clients see, which takes its place at once when it is complete; the old
// one stays downloadable for a grace period, then Expire deletes it.
//
// # Files
//
// A generation G of the hour [S, E) (epoch ms) of an account is, in the
// account's folder of the store:
//
//	WebSession.S.E.gen-G.pending                 written first by Begin, removed by Commit or Abort
//	WebSession.S.E.part-00000-G.gz ...           parts 0 to N-1 (websession.FileName)
//	WebSession.S.E.gen-G.parts-N.manifest.json   written last by Commit: the Manifest
//
// A generation is committed when its manifest and all its N parts are in a
// listing: the part count is in the manifest's name so that a listing alone
// tells, without opening files. Every file appears whole (the store writes
// to a temporary name and renames), so a crash while a generation is written
// leaves it uncommitted, the previous one in place, and writing the hour
// again makes a new generation.
//
// Files written before generations had manifests are the generation-0 parts
// of hours without manifest: they count as committed as long as generation 0
// has neither a manifest nor a pending marker. Begin numbers a new hour's
// first generation 1, never 0, so that a generation being written is never
// taken for such files, even by a listing that misses its pending marker
// (a listing holds every file that existed while the store was read, but
// may miss some created meanwhile and hold others created after them).
//
// # Manifest
//
// The manifest is JSON:
//
//	{"scopeStart": 1464778800000, "scopeEnd": 1464782400000, "generation": 1, "visits": 1234,
//	 "parts": [{"name": "WebSession.1464778800000.1464782400000.part-00000-1.gz", "size": 5678, "sha256": "<64 hex digits>"}]}
//
// # Writers and readers
//
// One writer at a time may write an hour (Begin to Commit or Abort); any
// number of readers list (Visible) and download meanwhile, and Expire may run
// at any time: a listing never misses an hour, never shows a generation
// before all its parts are there, and never mixes two generations of an
// hour. Readers get a grace period to download what they listed.
package hourfiles

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/filestore"
	"github.com/sightline/sightline/internal/websession"
)

// Store is what hourfiles needs of a file store; *filestore.Dir satisfies
// it.
type Store interface {
	// Put stores a file with what write writes; readers see it whole or
	// not at all.
	Put(ctx context.Context, account, name string, write func(io.Writer) error) error
	// List returns the files of account.
	List(ctx context.Context, account string) ([]filestore.Info, error)
	// Open opens a file of account for reading.
	Open(ctx context.Context, account, name string) (io.ReadSeekCloser, filestore.Info, error)
	// Remove deletes a file of account; a missing file is not an error.
	Remove(ctx context.Context, account, name string) error
}

var _ Store = (*filestore.Dir)(nil)

// DefaultGrace is how long a superseded generation stays downloadable.
const DefaultGrace = time.Hour

// AbandonedAfter is how old all files of an uncommitted generation newer
// than the committed one must be before Expire takes it for abandoned
// rather than being written.
const AbandonedAfter = 24 * time.Hour

// hourKey is an hour: its scope start and end in epoch ms.
type hourKey struct{ start, end int64 }

func newHourKey(start, end time.Time) hourKey { return hourKey{start.UnixMilli(), end.UnixMilli()} }

func (h hourKey) partName(part, gen int) string {
	return websession.FileName{ScopeStart: time.UnixMilli(h.start), ScopeEnd: time.UnixMilli(h.end), Part: part, Generation: gen}.String()
}

func (h hourKey) manifestName(gen, parts int) ManifestName {
	return ManifestName{ScopeStart: time.UnixMilli(h.start), ScopeEnd: time.UnixMilli(h.end), Generation: gen, Parts: parts}
}

func compareHours(a, b hourKey) int {
	return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(a.end, b.end))
}

func (h hourKey) pendingName(gen int) string {
	return fmt.Sprintf("WebSession.%d.%d.gen-%d.pending", h.start, h.end, gen)
}

// maxParts bounds the parts of a generation: part numbers have 5 digits.
const maxParts = 100000

// ManifestName is the name of a generation's manifest file:
// WebSession.<scopeStartMs>.<scopeEndMs>.gen-<generation>.parts-<parts>.manifest.json.
// It is not a websession.FileName, so it is never served as one.
type ManifestName struct {
	ScopeStart, ScopeEnd time.Time // the hour
	Generation           int       // 0 or more
	Parts                int       // 1 to 100000: the parts of the generation
}

// String returns the file name.
func (m ManifestName) String() string {
	return fmt.Sprintf("WebSession.%d.%d.gen-%d.parts-%d.manifest.json", m.ScopeStart.UnixMilli(), m.ScopeEnd.UnixMilli(), m.Generation, m.Parts)
}

// ParseManifestName parses a manifest file name.
func ParseManifestName(name string) (ManifestName, error) {
	rest, ok := strings.CutSuffix(name, ".manifest.json")
	if !ok {
		return ManifestName{}, fmt.Errorf("manifest name %q: does not end with .manifest.json", name)
	}
	h, gen, rest, err := parseGenerationName(rest)
	if err != nil {
		return ManifestName{}, fmt.Errorf("manifest name %q: %w", name, err)
	}
	parts, ok := strings.CutPrefix(rest, ".parts-")
	n, err := strconv.Atoi(parts)
	if !ok || err != nil || n < 1 || n > maxParts {
		return ManifestName{}, fmt.Errorf("manifest name %q: want .parts-<1 to %d> after the generation", name, maxParts)
	}
	m := ManifestName{ScopeStart: time.UnixMilli(h.start), ScopeEnd: time.UnixMilli(h.end), Generation: gen, Parts: n}
	if m.String() != name {
		return ManifestName{}, fmt.Errorf("manifest name %q: not in canonical form", name)
	}
	return m, nil
}

// parseGenerationName reads the WebSession.<startMs>.<endMs>.gen-<G> that
// begins the names of manifests and pending markers, returning what
// follows. The caller checks the whole name is canonical.
func parseGenerationName(name string) (h hourKey, gen int, rest string, err error) {
	rest, ok := strings.CutPrefix(name, "WebSession.")
	if !ok {
		return hourKey{}, 0, "", errors.New(`does not start with "WebSession."`)
	}
	fields := strings.SplitN(rest, ".", 4)
	if len(fields) < 3 {
		return hourKey{}, 0, "", errors.New("want WebSession.<startMs>.<endMs>.gen-<n>")
	}
	start, err1 := strconv.ParseInt(fields[0], 10, 64)
	end, err2 := strconv.ParseInt(fields[1], 10, 64)
	if err1 != nil || err2 != nil || start < 0 || end <= start {
		return hourKey{}, 0, "", errors.New("scope is not two increasing epoch milliseconds")
	}
	g, ok := strings.CutPrefix(fields[2], "gen-")
	if gen, err = strconv.Atoi(g); !ok || err != nil || gen < 0 {
		return hourKey{}, 0, "", errors.New("want gen-<n> after the scope")
	}
	if len(fields) == 4 {
		rest = "." + fields[3]
	} else {
		rest = ""
	}
	return hourKey{start, end}, gen, rest, nil
}

// generation is what a listing holds of one generation of one hour.
type generation struct {
	parts     map[int]filestore.Info // by part number
	manifests []manifestFile         // normally none or one
	pending   *filestore.Info
}

// manifestFile is a manifest in a listing.
type manifestFile struct {
	info  filestore.Info
	parts int
}

// files returns the generation's parts, by part number, and its manifests
// and pending marker.
func (g *generation) files() (parts, others []filestore.Info) {
	for _, n := range slices.Sorted(maps.Keys(g.parts)) {
		parts = append(parts, g.parts[n])
	}
	for _, m := range g.manifests {
		others = append(others, m.info)
	}
	if g.pending != nil {
		others = append(others, *g.pending)
	}
	return parts, others
}

// committed returns the manifest of the generation whose parts are all in
// the listing.
func (g *generation) committed() (manifestFile, bool) {
	for _, m := range g.manifests {
		complete := true
		for n := range m.parts {
			if _, ok := g.parts[n]; !ok {
				complete = false
				break
			}
		}
		if complete {
			return m, true
		}
	}
	return manifestFile{}, false
}

// hour is what a listing holds of one hour: its generations by number.
type hour map[int]*generation

// current is the generation of an hour clients see.
type current struct {
	gen      int
	parts    []filestore.Info // by part number
	manifest *manifestFile    // nil for a generation 0 written before manifests
}

// current returns the newest committed generation of the hour, or its
// generation 0 written before manifests.
func (h hour) current() (current, bool) {
	for _, gen := range slices.Backward(slices.Sorted(maps.Keys(h))) {
		g := h[gen]
		if m, ok := g.committed(); ok {
			c := current{gen: gen, manifest: &m}
			for n := range m.parts {
				c.parts = append(c.parts, g.parts[n])
			}
			return c, true
		}
	}
	g := h[0]
	if g == nil || len(g.manifests) > 0 || g.pending != nil || len(g.parts) == 0 {
		return current{}, false
	}
	parts, _ := g.files()
	return current{gen: 0, parts: parts}, true
}

// index sorts the web-session files, manifests and pending markers of a
// listing by hour and generation; it ignores other names.
func index(files []filestore.Info) map[hourKey]hour {
	hours := map[hourKey]hour{}
	gen := func(h hourKey, n int) *generation {
		if hours[h] == nil {
			hours[h] = hour{}
		}
		g := hours[h][n]
		if g == nil {
			g = &generation{parts: map[int]filestore.Info{}}
			hours[h][n] = g
		}
		return g
	}
	for _, f := range files {
		if p, err := websession.ParseFileName(f.Name); err == nil {
			gen(newHourKey(p.ScopeStart, p.ScopeEnd), p.Generation).parts[p.Part] = f
		} else if m, err := ParseManifestName(f.Name); err == nil {
			g := gen(newHourKey(m.ScopeStart, m.ScopeEnd), m.Generation)
			g.manifests = append(g.manifests, manifestFile{info: f, parts: m.Parts})
		} else if h, n, ok := parsePendingName(f.Name); ok {
			gen(h, n).pending = &f
		}
	}
	return hours
}

// parsePendingName parses the name of a pending marker.
func parsePendingName(name string) (hourKey, int, bool) {
	h, gen, rest, err := parseGenerationName(name)
	if err != nil || rest != ".pending" || h.pendingName(gen) != name {
		return hourKey{}, 0, false
	}
	return h, gen, true
}

// Visible returns, from a listing of an account's store in any order, the
// files a client sees: for each hour, the parts of its newest committed
// generation, or for an hour without one, its generation-0 parts if
// generation 0 has neither manifest nor pending marker (files written before
// generations had manifests). Manifests, pending markers and names that are
// not web-session file names are never visible. The result is sorted by name.
func Visible(files []filestore.Info) []filestore.Info {
	var visible []filestore.Info
	for _, h := range index(files) {
		if c, ok := h.current(); ok {
			visible = append(visible, c.parts...)
		}
	}
	slices.SortFunc(visible, func(a, b filestore.Info) int { return strings.Compare(a.Name, b.Name) })
	return visible
}
