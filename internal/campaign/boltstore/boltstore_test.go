package boltstore_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/campaign"
	"github.com/sightline/sightline/internal/campaign/boltstore"
	"github.com/sightline/sightline/internal/campaign/storetest"
)

func open(t *testing.T, path string) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) campaign.Store {
		return open(t, filepath.Join(t.TempDir(), "campaigns.db"))
	})
}

func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "campaigns.db")
	s, err := boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	want := &campaign.Definitions{Version: 1, NextID: 2, Goals: []campaign.Goal{{ID: 1, Revision: 1, Name: "buy", Type: "purchase"}}}
	if err := s.Save(ctx, "demo", want); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path)
	got, err := s.Load(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 1 || len(got.Goals) != 1 || got.Goals[0].Name != "buy" {
		t.Errorf("after reopening: %+v, want %+v", got, want)
	}
	if err := s.Save(ctx, "demo", &campaign.Definitions{Version: 1}); err != campaign.ErrConflict {
		t.Errorf("save of version 1 again after reopening: %v, want ErrConflict", err)
	}
}

func TestOpenInUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "campaigns.db")
	open(t, path)
	tests := []struct {
		name, path, wantErr string
	}{
		{"same file", path, "campaign database " + path + " is in use by another process"},
		{"no directory", filepath.Join(t.TempDir(), "missing", "campaigns.db"), "cannot open campaign database"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := boltstore.Open(tt.path)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Open: %v, want %q", err, tt.wantErr)
			}
		})
	}
}
