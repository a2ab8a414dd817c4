package hourfiles

import (
	"testing"

	"github.com/sightline/sightline/internal/filestore"
	"github.com/sightline/sightline/internal/websession"
)

// FuzzParseManifestName parses arbitrary names: a manifest name parses
// only in its canonical form, is never a web-session file name, and no
// listing of one name shows anything but a generation-0 part.
func FuzzParseManifestName(f *testing.F) {
	for _, seed := range []string{
		manifest(0, 0, 1), manifest(0, 12, 100000), pending(0, 3), part(0, 0, 0), part(0, 0, 1),
		"WebSession.0.1.gen-0.parts-1.manifest.json",
		"WebSession.1464778800000.1464782400000.gen-01.parts-1.manifest.json",
		"WebSession.1464778800000.1464782400000.gen-1.parts-0.manifest.json",
		"WebSession.1464778800000.1464782400000.gen-1.parts-100001.manifest.json",
		"WebSession.1464778800000.1464782400000.gen-+1.parts-1.manifest.json",
		"WebSession.1464782400000.1464778800000.gen-1.parts-1.manifest.json",
		"WebSession.1464778800000.1464782400000.gen-1.manifest.json",
		"WebSession.1464778800000.1464782400000.gen-1.parts-1.pending",
		"WebSession.9223372036854775807.9223372036854775808.gen-1.parts-1.manifest.json",
		"WebSession...gen-.parts-.manifest.json", "WebSession.", ".manifest.json", "",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if m, err := ParseManifestName(name); err == nil {
			if m.String() != name || m.Generation < 0 || m.Parts < 1 || m.Parts > maxParts ||
				m.ScopeStart.UnixMilli() < 0 || !m.ScopeEnd.After(m.ScopeStart) {
				t.Errorf("ParseManifestName(%q) = %+v", name, m)
			}
			if _, err := websession.ParseFileName(name); err == nil {
				t.Errorf("%q is a manifest and a web-session file name", name)
			}
		}
		if h, gen, ok := parsePendingName(name); ok && (h.pendingName(gen) != name || gen < 0) {
			t.Errorf("parsePendingName(%q) = %v, %d", name, h, gen)
		}
		fn, err := websession.ParseFileName(name)
		wantVisible := err == nil && fn.Generation == 0
		if got := Visible([]filestore.Info{{Name: name}}); len(got) != map[bool]int{true: 1}[wantVisible] {
			t.Errorf("Visible(%q) = %v", name, got)
		}
	})
}
