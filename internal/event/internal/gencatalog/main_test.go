package main

import (
	"bytes"
	"os"
	"slices"
	"testing"
)

// TestCatalogIsCurrent regenerates the catalog in memory and fails when
// chat_catalog.go differs: run go generate in internal/event.
func TestCatalogIsCurrent(t *testing.T) {
	spec, err := os.ReadFile("../../spec/chat-events.txt")
	if err != nil {
		t.Fatal(err)
	}
	want, err := generate(spec)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../chat_catalog.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("chat_catalog.go is stale: run `go generate ./internal/event/`")
	}
}

func TestEventNames(t *testing.T) {
	spec, err := os.ReadFile("../../spec/chat-events.txt")
	if err != nil {
		t.Fatal(err)
	}
	names, err := eventNames(spec)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.IsSorted(names) {
		t.Error("names are not sorted")
	}
	if len(slices.Compact(slices.Clone(names))) != len(names) {
		t.Error("names have duplicates")
	}
	for _, name := range []string{
		"hide", "load", "open", "show", "close", // the window events
		"link_clicked", "reminder_opt_out", "web_push_subscription_gone", // the first table
		"beiersdorf_sign_up", "beiersdorf_verification_code_succeeded", // the customer-specific table
	} {
		if _, ok := slices.BinarySearch(names, name); !ok {
			t.Errorf("%q is missing", name)
		}
	}
	for _, notName := range []string{"Event name", "---", "--", ""} {
		if _, ok := slices.BinarySearch(names, notName); ok {
			t.Errorf("%q is listed as an event", notName)
		}
	}
}

func TestEventNamesRejectsBadTables(t *testing.T) {
	for _, spec := range []string{
		"no table at all\n",
		"| Event name | Event description |\n|---|---|\n| Bad-Name | x |\n",
		"| Event name |\n|---|\n",
		"|\n",
	} {
		if names, err := eventNames([]byte(spec)); err == nil {
			t.Errorf("eventNames(%q) = %q, want an error", spec, names)
		}
	}
}
