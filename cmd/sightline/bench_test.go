package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestBenchIngest runs a tiny `bench ingest` of each workload: both
// targets answer, and the report names its workload and has its medians,
// its half-load runs and its ratios. The figures themselves come from full
// runs, reported in the issue notes.
func TestBenchIngest(t *testing.T) {
	for _, workload := range []string{"", "simple"} {
		t.Run(cmp.Or(workload, "default"), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := []string{"bench", "ingest", "--data", t.TempDir(), "--clients", "8", "--rounds", "2",
				"--duration", "200ms", "--warmup", "50ms", "--half-duration", "200ms"}
			if workload != "" {
				args = append(args, "--workload", workload)
			}
			if err := run(context.Background(), args, &stdout, &stderr); err != nil {
				t.Fatalf("bench ingest: %v\n%s", err, stderr.String())
			}
			out := stdout.String()
			for _, want := range []string{cmp.Or(workload, "realistic") + " workload", "max #2", "max median", "50% of max",
				"sightline / ceiling (medians)", "round by round", "CPU per batch"} {
				if !strings.Contains(out, want) {
					t.Errorf("report lacks %q:\n%s", want, out)
				}
			}
		})
	}
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"bench", "ingest", "--workload", "heavy"}, io.Discard, &stderr)
	if err == nil || !strings.Contains(stderr.String()+err.Error(), "heavy") {
		t.Errorf("--workload heavy: %v, %s; want an error naming it", err, stderr.String())
	}
}

// TestBenchMemory runs a tiny `bench memory` of each attack against the
// binary built for the tests: the visitor attack compares the binary with
// itself, the clients attack is cut short by --max-rss and its server
// killed. Each row has its figures; the figures themselves come from full
// runs, reported in the issue notes.
func TestBenchMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the server binary; skipped with -short")
	}
	tests := []struct {
		name    string
		args    []string
		rows    int      // rows of runs and medians
		want    []string // in the report
		figures []string // columns whose figures must be more than 0 in every row
	}{
		{
			name: "visitor",
			args: []string{"--attack", "visitor", "--events", "50", "--binary", binary, "--binary", binary, "--duration", "1s"},
			rows: 2,
			want: []string{"attack visitor (1 client, batches of 50 events of one visit)", "stopped by SIGTERM"},
			figures: []string{"acked", "events/s", "attack s", "peak RSS MB", "end RSS MB", "heap MB", "stop s", "checkpoint KB",
				"restart s", "restart RSS MB", "restart peak MB"},
		},
		{
			name:    "clients",
			args:    []string{"--attack", "clients", "--clients", "4", "--binary", binary, "--duration", "1s", "--max-rss", "1", "--kill"},
			rows:    1,
			want:    []string{"attack clients (4 clients, batches of 25 events of a new visit each)", "stopped by SIGKILL", "passed --max-rss 1 MB"},
			figures: []string{"peak RSS MB", "end RSS MB", "restart s", "restart RSS MB"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"bench", "memory", "--data", t.TempDir()}, tt.args...)
			if err := run(context.Background(), args, &stdout, &stderr); err != nil {
				t.Fatalf("bench memory: %v\n%s", err, stderr.String())
			}
			out := stdout.String()
			for _, want := range tt.want {
				if !strings.Contains(out, want) {
					t.Errorf("report lacks %q:\n%s", want, out)
				}
			}
			rows := 0
			for line := range strings.Lines(out) {
				fields := strings.Fields(line)
				if len(fields) != 2+len(memoryColumns) || fields[0] != binary {
					continue
				}
				rows++
				for _, name := range tt.figures {
					i := slices.IndexFunc(memoryColumns, func(c memoryColumn) bool { return c.name == name })
					if v, err := strconv.ParseFloat(fields[2+i], 64); err != nil || v <= 0 {
						t.Errorf("%s is %s, want more than 0:\n%s", name, fields[2+i], out)
					}
				}
			}
			if rows != tt.rows {
				t.Errorf("%d rows of figures, want %d:\n%s", rows, tt.rows, out)
			}
		})
	}
}

// TestBenchMessaging runs a tiny `bench messaging` against the binary
// built for the tests: the conversations open, the report has its rows
// and targets, and every message a visitor got acknowledged reached its
// agent exactly once. The figures themselves come from full runs,
// reported in the issue notes.
func TestBenchMessaging(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the server binary; skipped with -short")
	}
	var stdout, stderr bytes.Buffer
	args := []string{"bench", "messaging", "--binary", binary, "--data", t.TempDir(), "--visitors", "30", "--agents", "3",
		"--rounds", "2", "--duration", "300ms", "--warmup", "100ms", "--half-duration", "300ms"}
	if err := run(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("bench messaging: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"bench messaging: 30 visitors, 3 agents (no limit)", "open files: limit ", "opened and accepted              30 in ",
		"per open conversation", "max #1", "max #2", "max median", "50% of max", "targets: 10000 open conversations in under 1 GiB: "} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	var acked, missing, twice, unacked, ackedTwice int
	i := strings.Index(out, "delivery: ")
	if i < 0 {
		t.Fatalf("report lacks its delivery check:\n%s", out)
	}
	_, err := fmt.Sscanf(out[i:], "delivery: %d messages acknowledged; the agents received each once: %d missing, %d received twice, %d not acknowledged, %d acknowledged twice",
		&acked, &missing, &twice, &unacked, &ackedTwice)
	if err != nil || acked == 0 || missing+twice+unacked+ackedTwice != 0 {
		t.Errorf("delivery check (%v): %d acknowledged, %d missing, %d twice, %d not acknowledged, %d acknowledged twice:\n%s",
			err, acked, missing, twice, unacked, ackedTwice, out)
	}
	// Each row: load, messages/s, 4 latencies, errors, 2 CPU times, busy.
	for _, row := range []string{"max #1", "max #2", "max median", "50% of max"} {
		found := false
		for line := range strings.Lines(out) {
			rest, ok := strings.CutPrefix(line, row+" ")
			if f := strings.Fields(rest); ok && len(f) == 9 {
				found = true
				if rate, err := strconv.ParseFloat(f[0], 64); err != nil || rate <= 0 {
					t.Errorf("%s: messages/s %q, want more than 0", row, f[0])
				}
			}
		}
		if !found {
			t.Errorf("report lacks the row %q of 9 figures:\n%s", row, out)
		}
	}
}
