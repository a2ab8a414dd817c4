package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestBenchIngest runs a tiny `bench ingest`: both targets answer, and the
// report has its medians, its half-load runs and its ratios. The figures
// themselves come from full runs, reported in the issue notes.
func TestBenchIngest(t *testing.T) {
	var stdout, stderr bytes.Buffer
	args := []string{"bench", "ingest", "--data", t.TempDir(), "--clients", "8", "--rounds", "2",
		"--duration", "200ms", "--warmup", "50ms", "--half-duration", "200ms"}
	if err := run(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("bench ingest: %v\n%s", err, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"max #2", "max median", "50% of max", "sightline / ceiling (medians)", "round by round", "CPU per batch"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}
