package boltstore

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sightline/sightline/internal/conversation"
)

// BenchmarkAppendMessage appends messages of 200 bytes with ids to 1,000
// open conversations from 64 goroutines (32 a CPU on 2 CPUs), as the
// messaging service does for many visitors and agents at once, with fsync
// on.
func BenchmarkAppendMessage(b *testing.B) {
	const conversations = 1000
	s, err := Open(filepath.Join(b.TempDir(), "conversations.db"))
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 50 {
		wg.Go(func() {
			for c := g; c < conversations; c += 50 {
				err := s.Create(b.Context(), &conversation.Conversation{ID: fmt.Sprint("c", c), AccountID: "a",
					ConsumerID: fmt.Sprint("v", c), State: conversation.Open, Start: int64(c), SkillID: -1})
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	text := strings.Repeat("x", 200)
	var goroutines atomic.Int64
	commits, writes := s.commits.Load(), pagesWritten(s)
	b.ReportAllocs()
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		g := goroutines.Add(1)
		for i := g * 7919; pb.Next(); i++ {
			m := conversation.Message{ID: fmt.Sprintf("g%d-%d", g, i), From: "v", Role: conversation.Consumer,
				Time: i, Type: conversation.TextPlain, Text: text}
			if _, _, err := s.AppendMessage(b.Context(), "a", fmt.Sprint("c", i%conversations), m); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "messages/s")
	b.ReportMetric(float64(b.N)/float64(s.commits.Load()-commits), "messages/commit")
	b.ReportMetric(float64(pagesWritten(s)-writes)/float64(b.N), "pages/message")
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
}

// pagesWritten returns how many pages s has written.
func pagesWritten(s *Store) int64 {
	st := s.db.Stats()
	return st.TxStats.GetWrite()
}
