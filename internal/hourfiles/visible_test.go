package hourfiles

import (
	"slices"
	"testing"

	"github.com/sightline/sightline/internal/filestore"
)

func TestVisible(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		want  []string
	}{
		{"nothing", nil, []string{}},
		{"generation 0 written before manifests",
			[]string{part(0, 0, 0), part(0, 1, 0)},
			[]string{part(0, 0, 0), part(0, 1, 0)}},
		{"generation 1 half written: generation 0 stays",
			[]string{part(0, 0, 0), pending(0, 1), part(0, 0, 1)},
			[]string{part(0, 0, 0)}},
		{"generation 1 written, not committed",
			[]string{part(0, 0, 0), part(0, 0, 1), part(0, 1, 1)},
			[]string{part(0, 0, 0)}},
		{"generation 1 committed: only generation 1",
			[]string{part(0, 0, 0), part(0, 0, 1), part(0, 1, 1), manifest(0, 1, 2)},
			[]string{part(0, 0, 1), part(0, 1, 1)}},
		{"committed, its pending marker left",
			[]string{part(0, 0, 0), part(0, 0, 1), manifest(0, 1, 1), pending(0, 1)},
			[]string{part(0, 0, 1)}},
		{"manifest with a missing part: the previous generation",
			[]string{part(0, 0, 0), manifest(0, 0, 1), part(0, 0, 1), manifest(0, 1, 2)},
			[]string{part(0, 0, 0)}},
		{"manifest with a missing part over generation 0 without manifest",
			[]string{part(0, 0, 0), part(0, 1, 1), manifest(0, 1, 2)},
			[]string{part(0, 0, 0)}},
		{"newest of several committed generations",
			[]string{part(0, 0, 0), manifest(0, 0, 1), part(0, 0, 1), manifest(0, 1, 1), part(0, 0, 2), part(0, 1, 2), manifest(0, 2, 2)},
			[]string{part(0, 0, 2), part(0, 1, 2)}},
		{"a committed generation skips a half-written one",
			[]string{part(0, 0, 1), manifest(0, 1, 1), pending(0, 2), part(0, 0, 2), part(0, 0, 3), manifest(0, 3, 1)},
			[]string{part(0, 0, 3)}},
		{"new hour's generation 1 half written, its pending marker missed by the listing",
			[]string{part(0, 0, 1), part(0, 1, 1)},
			[]string{}},
		{"new hour, generation 0 half written",
			[]string{pending(0, 0), part(0, 0, 0)},
			[]string{}},
		{"new hour, generation 0 committed",
			[]string{part(0, 0, 0), part(0, 1, 0), manifest(0, 0, 2)},
			[]string{part(0, 0, 0), part(0, 1, 0)}},
		{"new hour, generation 0 committed, generation 1 half written",
			[]string{part(0, 0, 0), manifest(0, 0, 1), pending(0, 1), part(0, 0, 1)},
			[]string{part(0, 0, 0)}},
		{"a part beyond the manifest's count is not listed",
			[]string{part(0, 0, 1), part(0, 1, 1), manifest(0, 1, 1)},
			[]string{part(0, 0, 1)}},
		{"several hours",
			[]string{
				part(0, 0, 0), part(0, 0, 2), part(0, 1, 2), manifest(0, 2, 2), pending(0, 3), part(0, 0, 3),
				part(1, 0, 0), part(1, 1, 0),
				pending(2, 0),
				part(3, 0, 0), part(3, 0, 1), manifest(3, 1, 2),
			},
			[]string{part(0, 0, 2), part(0, 1, 2), part(1, 0, 0), part(1, 1, 0), part(3, 0, 0)}},
		{"other names",
			[]string{"README", ".WebSession.tmp", "WebSession.1.2.gen-0.parts-1.manifest.json.tmp", "WebSession.1.2.part-0-0.gz",
				"WebSession.1464778800000.1464782400000.gen-01.parts-1.manifest.json"},
			[]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reversed := slices.Clone(tt.files)
			slices.Reverse(reversed)
			for _, order := range [][]string{tt.files, reversed} {
				var files []filestore.Info
				for _, n := range order {
					files = append(files, filestore.Info{Name: n, Size: 1})
				}
				if got := names(Visible(files)); !eq(got, tt.want) {
					t.Errorf("Visible(%v)\n got %v\nwant %v", order, got, tt.want)
				}
			}
		})
	}
}
