package boltstore

import (
	"context"
	"fmt"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"
)

// maxRound is the most changes one transaction takes.
const maxRound = 4096

// op is a changing call: its apply runs in the writer's transaction.
type op struct {
	state atomic.Int32 // opQueued, opTaken or opCancelled
	// apply checks the change against what tx holds, then says what to
	// write to w: it writes nothing itself, so that an op that fails
	// leaves nothing behind. It records its results on success.
	apply func(tx *bolt.Tx, w *writes) error
	err   error // the call's error, once done is closed
	done  chan struct{}
}

// States of an op.
const (
	opQueued int32 = iota
	opTaken
	opCancelled
)

// writes are the writes of one op, made once the op has checked
// everything.
type writes struct {
	list []write
	err  error
}

// write puts value at key of bucket, or deletes key when value is nil.
type write struct {
	bucket     *bolt.Bucket
	key, value []byte
}

func (w *writes) put(b *bolt.Bucket, key, value []byte) {
	if len(value) > bolt.MaxValueSize && w.err == nil {
		w.err = fmt.Errorf("cannot store a value of %d bytes: at most %d", len(value), bolt.MaxValueSize)
	}
	w.list = append(w.list, write{b, key, value})
}

func (w *writes) delete(b *bolt.Bucket, key []byte) {
	w.list = append(w.list, write{b, key, nil})
}

// flush makes the writes. Keys and values must stay unchanged until the
// transaction ends. An error here is one the op's checks should have
// prevented: the op may be half written.
func (w *writes) flush() error {
	for _, wr := range w.list {
		var err error
		if wr.value == nil {
			err = wr.bucket.Delete(wr.key)
		} else {
			err = wr.bucket.Put(wr.key, wr.value)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// change applies apply in the writer's next transaction and returns once
// it is committed. When ctx ends before the writer has taken it, it
// returns ctx.Err() and apply is not run; once taken, it waits for the
// commit.
func (s *Store) change(ctx context.Context, apply func(tx *bolt.Tx, w *writes) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o := &op{apply: apply, done: make(chan struct{})}
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return errStoreClosed
	case s.failed != nil:
		err := s.failed
		s.mu.Unlock()
		return err
	}
	s.queue = append(s.queue, o)
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
	select {
	case <-o.done:
		return o.err
	case <-ctx.Done():
		if o.state.CompareAndSwap(opQueued, opCancelled) {
			return ctx.Err()
		}
		<-o.done
		return o.err
	}
}

// run is the writer: it commits rounds of queued ops until the store
// closes.
func (s *Store) run() {
	defer close(s.exited)
	for {
		round, closing := s.take()
		if len(round) > 0 {
			s.commit(round)
			clear(round)
			continue
		}
		if closing {
			return
		}
		<-s.kick
	}
}

// take takes up to maxRound queued ops that are not cancelled and reports
// whether the store is closing.
func (s *Store) take() ([]*op, bool) {
	s.mu.Lock()
	queue := s.queue
	n := min(len(queue), maxRound)
	round := s.round[:0]
	for _, o := range queue[:n] {
		if o.state.CompareAndSwap(opQueued, opTaken) {
			round = append(round, o)
		}
	}
	s.queue = append(s.spare[:0], queue[n:]...)
	s.spare = queue[:0]
	clear(queue[:n])
	closing := s.closed
	s.mu.Unlock()
	s.round = round
	return round, closing
}

// commit applies the ops of round in one transaction and commits it, then
// tells their callers. An op that fails its checks fails alone; a failed
// commit fails them all, and every change after it.
func (s *Store) commit(round []*op) {
	defer func() {
		for _, o := range round {
			close(o.done)
		}
	}()
	tx, err := s.db.Begin(true)
	if err != nil {
		s.failRound(round, fmt.Errorf("cannot begin conversation database transaction: %w", err))
		return
	}
	var w writes
	changed := false
	for _, o := range round {
		w.list, w.err = w.list[:0], nil
		err := o.apply(tx, &w)
		if err == nil {
			err = w.err
		}
		if err != nil {
			o.err = err
			continue
		}
		if err := w.flush(); err != nil {
			tx.Rollback()
			s.failRound(round, fmt.Errorf("cannot write to conversation database: %w", err))
			return
		}
		changed = changed || len(w.list) > 0
	}
	clear(w.list)
	if !changed {
		tx.Rollback()
		return
	}
	if err := tx.Commit(); err != nil {
		err = fmt.Errorf("cannot commit to conversation database: %w", err)
		s.mu.Lock()
		s.failed = err
		s.mu.Unlock()
		s.failRound(round, err)
		return
	}
	s.commits.Add(1)
}

// failRound fails the ops of round that had not failed on their own.
func (s *Store) failRound(round []*op, err error) {
	for _, o := range round {
		if o.err == nil {
			o.err = err
		}
	}
}
