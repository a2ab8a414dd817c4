package boltstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sightline/sightline/internal/atomicfile"
	"github.com/sightline/sightline/internal/conversation"
	"github.com/sightline/sightline/internal/conversation/boltstore"
	"github.com/sightline/sightline/internal/conversation/storetest"
)

// open opens the store of dir, closing it when the test ends.
func open(t *testing.T, dir string) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(filepath.Join(dir, "conversations.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dir string) conversation.Store { return open(t, dir) })
}

var ctx = context.Background()

func newConv(account, id string, start int64) *conversation.Conversation {
	return &conversation.Conversation{ID: id, AccountID: account, ConsumerID: "v-" + id, State: conversation.Open,
		Start: start, Updated: start, SkillID: -1}
}

func text(id, s string) conversation.Message {
	return conversation.Message{ID: id, From: "v", Role: conversation.Consumer, Time: 1, Type: conversation.TextPlain, Text: s}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "conversations.db")
	open(t, dir)
	t.Run("mode", func(t *testing.T) {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != atomicfile.FileMode {
			t.Errorf("mode %v, want %v", fi.Mode().Perm(), atomicfile.FileMode)
		}
	})
	other := filepath.Join(t.TempDir(), "other.db")
	db, err := bolt.Open(other, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("meta"))
		if err != nil {
			return err
		}
		return b.Put([]byte("version"), []byte("9"))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	tests := []struct {
		name, path, wantErr string
	}{
		{"in use", path, "conversation database " + path + " is in use by another process"},
		{"no directory", filepath.Join(t.TempDir(), "missing", "conversations.db"), "cannot open conversation database"},
		{"other layout", other, `layout version "9", this program reads "1"`},
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

// blockWriter holds the store's writer in an Update of conversation
// "block" of account "a" until release is called, so that the calls made
// meanwhile queue up for one round.
func blockWriter(t *testing.T, s *boltstore.Store) (release func()) {
	t.Helper()
	if err := s.Create(ctx, newConv("a", "block", 1)); err != nil {
		t.Fatal(err)
	}
	in, out := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		_, err := s.Update(ctx, "a", "block", func(c *conversation.Conversation) error {
			close(in)
			<-out
			c.CSAT = 1
			return nil
		})
		done <- err
	}()
	<-in
	return func() {
		close(out)
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// TestRound queues changes that fail and changes that succeed for one
// round: each fails or succeeds alone.
func TestRound(t *testing.T) {
	s := open(t, t.TempDir())
	closed := newConv("a", "closed", 1)
	closed.State = conversation.Closed
	for _, c := range []*conversation.Conversation{newConv("a", "c1", 1), newConv("a", "c2", 1), closed} {
		if err := s.Create(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	release := blockWriter(t, s)
	errBoom := errors.New("boom")
	calls := []struct {
		name    string
		call    func() error
		wantErr error
	}{
		{"append", func() error { _, _, err := s.AppendMessage(ctx, "a", "c1", text("m1", "one")); return err }, nil},
		{"append to closed", func() error { _, _, err := s.AppendMessage(ctx, "a", "closed", text("m1", "one")); return err }, conversation.ErrClosed},
		{"fn fails", func() error {
			_, err := s.Update(ctx, "a", "c2", func(c *conversation.Conversation) error {
				c.SkillName = "lost"
				c.Participants = append(c.Participants, conversation.Participant{ID: "lost"})
				return errBoom
			})
			return err
		}, errBoom},
		{"create taken", func() error { return s.Create(ctx, newConv("b", "c1", 1)) }, conversation.ErrExists},
		{"create", func() error { return s.Create(ctx, newConv("a", "c3", 1)) }, nil},
		{"append again", func() error { _, _, err := s.AppendMessage(ctx, "a", "c1", text("m2", "two")); return err }, nil},
		{"update", func() error {
			_, err := s.Update(ctx, "a", "c2", func(c *conversation.Conversation) error { c.SkillName = "kept"; return nil })
			return err
		}, nil},
		{"unknown", func() error { _, _, err := s.AppendMessage(ctx, "a", "c9", text("m1", "one")); return err }, conversation.ErrNotFound},
	}
	errs := make([]chan error, len(calls))
	for i, c := range calls {
		errs[i] = make(chan error, 1)
		go func() { errs[i] <- c.call() }()
	}
	time.Sleep(50 * time.Millisecond) // for the calls to queue up
	release()
	for i, c := range calls {
		if err := <-errs[i]; !errors.Is(err, c.wantErr) {
			t.Errorf("%s: %v, want %v", c.name, err, c.wantErr)
		}
	}
	ms, err := s.Messages(ctx, "a", "c1", 0, 0)
	if err != nil || len(ms) != 2 {
		t.Errorf("c1 has %d messages (%v), want 2", len(ms), err)
	}
	c2, err := s.Get(ctx, "a", "c2")
	if err != nil || c2.SkillName != "kept" || len(c2.Participants) != 0 {
		t.Errorf("c2 = %+v, %v, want the update that succeeded alone", c2, err)
	}
	if _, err := s.Get(ctx, "a", "c3"); err != nil {
		t.Errorf("c3: %v", err)
	}
	if c, err := s.Get(ctx, "a", "closed"); err != nil || c.Messages != 0 {
		t.Errorf("closed = %+v, %v, want no messages", c, err)
	}
}

// TestContext checks that a call whose ctx ends while it waits for the
// writer is not made, and that a call the writer took is.
func TestContext(t *testing.T) {
	s := open(t, t.TempDir())
	if err := s.Create(ctx, newConv("a", "c1", 1)); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := s.AppendMessage(cancelled, "a", "c1", text("m0", "zero")); !errors.Is(err, context.Canceled) {
		t.Errorf("AppendMessage with a cancelled ctx: %v, want context.Canceled", err)
	}

	release := blockWriter(t, s)
	queued, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() {
		_, _, err := s.AppendMessage(queued, "a", "c1", text("m1", "one"))
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("AppendMessage cancelled while queued: %v, want context.Canceled", err)
	}
	release()

	taken, cancel := context.WithCancel(ctx)
	if _, err := s.Update(taken, "a", "c1", func(c *conversation.Conversation) error {
		cancel() // taken: too late to stop the change
		c.SkillName = "taken"
		return nil
	}); err != nil {
		t.Errorf("Update whose ctx ended once taken: %v", err)
	}
	c, err := s.Get(ctx, "a", "c1")
	if err != nil || c.Messages != 0 || c.SkillName != "taken" {
		t.Errorf("c1 = %+v, %v, want no message and the update", c, err)
	}
}

// TestUpdatePanics checks that a panic of Update's fn is the caller's and
// that the store goes on.
func TestUpdatePanics(t *testing.T) {
	s := open(t, t.TempDir())
	if err := s.Create(ctx, newConv("a", "c1", 1)); err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if p := recover(); p != "oops" {
				t.Errorf("recovered %v, want oops", p)
			}
		}()
		s.Update(ctx, "a", "c1", func(c *conversation.Conversation) error {
			c.SkillName = "lost"
			panic("oops")
		})
		t.Error("Update did not panic")
	}()
	if _, _, err := s.AppendMessage(ctx, "a", "c1", text("m1", "one")); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Get(ctx, "a", "c1"); err != nil || c.SkillName != "" || c.Messages != 1 {
		t.Errorf("c1 = %+v, %v, want no skill name and a message", c, err)
	}
}

// TestEachOpenChanges closes every open conversation from EachOpen's fn,
// more of them than EachOpen reads at once.
func TestEachOpenChanges(t *testing.T) {
	const n = 600
	s := open(t, t.TempDir())
	for i := range n {
		if err := s.Create(ctx, newConv(fmt.Sprint("a", i%3), fmt.Sprint("c", i), int64(i))); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	err := s.EachOpen(ctx, func(c *conversation.Conversation) error {
		if seen[c.ID] {
			t.Errorf("%s twice", c.ID)
		}
		seen[c.ID] = true
		_, err := s.Update(ctx, c.AccountID, c.ID, func(c *conversation.Conversation) error {
			c.State = conversation.Closed
			return nil
		})
		return err
	})
	if err != nil || len(seen) != n {
		t.Fatalf("EachOpen visited %d conversations, %v, want %d", len(seen), err, n)
	}
	if err := s.EachOpen(ctx, func(c *conversation.Conversation) error {
		return fmt.Errorf("%s still open", c.ID)
	}); err != nil {
		t.Error(err)
	}
}

func TestLongIDs(t *testing.T) {
	s := open(t, t.TempDir())
	long := strings.Repeat("x", 5000)
	if err := s.Create(ctx, newConv("a", long, 1)); err == nil {
		t.Error("Create with a long id succeeded")
	}
	if err := s.Create(ctx, newConv("a", "c1", 1)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AppendMessage(ctx, "a", "c1", text(long, "one")); err == nil {
		t.Error("AppendMessage with a long id succeeded")
	}
	if _, err := s.AddStatuses(ctx, "a", "c1", []conversation.Status{{Participant: long, Status: conversation.Read}}); err == nil {
		t.Error("AddStatuses with a long participant id succeeded")
	}
	if _, err := s.AddStatuses(ctx, "a", "c1", []conversation.Status{{Participant: "p", Status: "DELIVERED"}}); err == nil {
		t.Error("AddStatuses with an unknown status succeeded")
	}
}
