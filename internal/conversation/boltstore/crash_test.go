package boltstore_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/sightline/sightline/internal/conversation"
	"github.com/sightline/sightline/internal/conversation/boltstore"
)

// Environment of the TestCrashHelper process.
const (
	crashPathEnv  = "SIGHTLINE_CONVERSATION_CRASH_PATH"
	crashRoundEnv = "SIGHTLINE_CONVERSATION_CRASH_ROUND"
)

// Conversations and goroutines of a crash round, and the acknowledged
// messages after which the parent kills the child.
const (
	crashConversations = 16
	crashGoroutines    = 8
	crashAcks          = 2000
)

// ack is a message the child had acknowledged: its conversation, Seq and
// id.
type ack struct {
	conv, id string
	seq      int
}

// TestKill9 appends messages from a child process, kills it with SIGKILL
// while it appends, and checks that every message the child had
// acknowledged is there once, with its Seq, in conversations whose Seqs
// have no gap, and that it is found as a duplicate when sent again. It does
// this three times on the same file.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	path := filepath.Join(t.TempDir(), "conversations.db")
	for round := range 3 {
		acked := runCrashHelper(t, path, round)
		s, err := boltstore.Open(path)
		if err != nil {
			t.Fatalf("round %d: Open after kill: %v", round, err)
		}
		stored := map[string]ack{} // by message id, of every round so far
		for r := range round + 1 {
			for c := range crashConversations {
				id := fmt.Sprintf("r%d-c%d", r, c)
				conv, err := s.Get(ctx, "a", id)
				if err != nil {
					t.Fatalf("round %d: conversation %s: %v", round, id, err)
				}
				ms, err := s.Messages(ctx, "a", id, 0, 0)
				if err != nil {
					t.Fatal(err)
				}
				if len(ms) != conv.Messages {
					t.Fatalf("round %d: conversation %s has %d messages, Messages %d", round, id, len(ms), conv.Messages)
				}
				for i, m := range ms {
					if m.Seq != i {
						t.Fatalf("round %d: conversation %s: message %d has Seq %d", round, id, i, m.Seq)
					}
					if _, ok := stored[m.ID]; ok {
						t.Fatalf("round %d: message %s stored twice", round, m.ID)
					}
					stored[m.ID] = ack{id, m.ID, m.Seq}
				}
			}
		}
		for _, a := range acked {
			if got, ok := stored[a.id]; !ok || got != a {
				t.Fatalf("round %d: acknowledged message %+v stored as %+v (found %v)", round, a, got, ok)
			}
		}
		for _, a := range acked[:100] {
			m, dup, err := s.AppendMessage(ctx, "a", a.conv, text(a.id, "again"))
			if err != nil || !dup || m.Seq != a.seq {
				t.Fatalf("round %d: message %+v sent again: Seq %d, dup %v, %v", round, a, m.Seq, dup, err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: %d acknowledged, %d stored", round, len(acked), len(stored))
	}
}

// runCrashHelper runs TestCrashHelper on path, kills it once it has
// acknowledged crashAcks messages, and returns the messages it
// acknowledged.
func runCrashHelper(t *testing.T, path string, round int) []ack {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$")
	cmd.Env = append(os.Environ(), crashPathEnv+"="+path, fmt.Sprintf("%s=%d", crashRoundEnv, round))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []ack
	scanner := bufio.NewScanner(out)
	for scanner.Scan() {
		f := strings.Fields(scanner.Text())
		if len(f) != 4 || f[0] != "acked" {
			continue
		}
		seq, err := strconv.Atoi(f[2])
		if err != nil {
			t.Fatalf("round %d: child wrote %q", round, scanner.Text())
		}
		acked = append(acked, ack{conv: f[1], seq: seq, id: f[3]})
		if len(acked) == crashAcks {
			cmd.Process.Kill() // SIGKILL
		}
	}
	err = cmd.Wait()
	if len(acked) < crashAcks {
		t.Fatalf("round %d: child acknowledged only %d messages (%v)", round, len(acked), err)
	}
	return acked
}

// TestCrashHelper is the child process of TestKill9: it creates the
// round's conversations and appends to them from several goroutines until
// it is killed, printing "acked <conversation> <seq> <id>" for each
// acknowledged message.
func TestCrashHelper(t *testing.T) {
	path := os.Getenv(crashPathEnv)
	if path == "" {
		t.Skip("run by TestKill9")
	}
	round := os.Getenv(crashRoundEnv)
	s, err := boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var convs []string
	for c := range crashConversations {
		id := fmt.Sprintf("r%s-c%d", round, c)
		if err := s.Create(ctx, newConv("a", id, 1)); err != nil {
			t.Fatal(err)
		}
		convs = append(convs, id)
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for g := range crashGoroutines {
		wg.Go(func() {
			pad := strings.Repeat("p", 200)
			for i := 0; ; i++ {
				conv := convs[(g+i)%len(convs)] // each conversation from several goroutines
				id := fmt.Sprintf("r%s-g%d-%d", round, g, i)
				m, _, err := s.AppendMessage(ctx, "a", conv, conversation.Message{ID: id, From: "v", Role: conversation.Consumer,
					Time: int64(i), Type: conversation.TextPlain, Text: pad})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				fmt.Fprintf(out, "acked %s %d %s\n", conv, m.Seq, id)
				out.Flush()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}
