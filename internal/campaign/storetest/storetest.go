// Package storetest is the conformance test that every campaign.Store
// must pass.
package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/sightline/sightline/internal/campaign"
)

// Run tests the Store that open returns: a new, empty one on each call.
func Run(t *testing.T, open func(t *testing.T) campaign.Store) {
	ctx := context.Background()
	defs := func(version int64, name string) *campaign.Definitions {
		return &campaign.Definitions{
			Version: version, NextID: 3,
			Settings:     campaign.Settings{SiteControlGroup: 5},
			Availability: campaign.Availability{"sales": "online"},
			Goals:        []campaign.Goal{{ID: 1, Revision: 1, Name: name, Type: "purchase"}},
			Profiles:     []campaign.Profile{{ID: 2, Revision: 1, Name: "p", Rules: []campaign.Rule{{Kind: "country", Values: []string{"FR"}}}}},
		}
	}
	tests := []struct {
		name    string
		saves   []*campaign.Definitions // in order, to account "a"
		wantErr []error                 // of each save
		want    *campaign.Definitions   // Load("a") after them
	}{
		{name: "unknown account", want: &campaign.Definitions{}},
		{name: "first version", saves: []*campaign.Definitions{defs(1, "g")}, wantErr: []error{nil}, want: defs(1, "g")},
		{
			name:    "next versions",
			saves:   []*campaign.Definitions{defs(1, "g"), defs(2, "h"), defs(3, "i")},
			wantErr: []error{nil, nil, nil},
			want:    defs(3, "i"),
		},
		{name: "first not 1", saves: []*campaign.Definitions{defs(2, "g")}, wantErr: []error{campaign.ErrConflict}, want: &campaign.Definitions{}},
		{
			name:    "stale version",
			saves:   []*campaign.Definitions{defs(1, "g"), defs(2, "h"), defs(2, "lost")},
			wantErr: []error{nil, nil, campaign.ErrConflict},
			want:    defs(2, "h"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			for i, d := range tt.saves {
				if err := s.Save(ctx, "a", d); !errors.Is(err, tt.wantErr[i]) {
					t.Fatalf("save %d (version %d): %v, want %v", i, d.Version, err, tt.wantErr[i])
				}
			}
			got, err := s.Load(ctx, "a")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Load = %+v, want %+v", got, tt.want)
			}
			other, err := s.Load(ctx, "b")
			if err != nil || !reflect.DeepEqual(other, &campaign.Definitions{}) {
				t.Errorf("Load of another account = %+v, %v, want empty", other, err)
			}
		})
	}
}
