package sessionizer

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/sightline/sightline/internal/websession"
)

// renderBatch is a run of visits of a spool file rendered together.
type renderBatch struct {
	raw    []byte // the visits' binary forms, each after its uvarint length
	visits int
	docs   []byte // their documents, one line each
	err    error  // reading or decoding failed; the batch ends the file
	done   chan struct{}
}

// batchVisits is the number of visits of a batch: enough to amortise the
// hand-offs, few enough to keep the workers busy.
const batchVisits = 64

// renderer reads a spool file and renders its visits on several
// goroutines, handing the documents out in the file's order (next), so
// that a file's documents keep their order whatever the number of workers.
type renderer struct {
	ordered chan *renderBatch // batches in file order, closed after the last
	stop    chan struct{}
	wg      sync.WaitGroup
	pool    sync.Pool
}

// startRenderer starts reading r and rendering with render.
func startRenderer(r io.Reader, render func(dst []byte, v *websession.Visit) []byte) *renderer {
	workers := max(1, runtime.GOMAXPROCS(0))
	rd := &renderer{ordered: make(chan *renderBatch, 2*workers), stop: make(chan struct{})}
	work := make(chan *renderBatch, 2*workers)
	rd.wg.Add(1 + workers)
	go func() {
		defer rd.wg.Done()
		defer close(work)
		defer close(rd.ordered)
		rd.read(bufio.NewReaderSize(r, 256<<10), work)
	}()
	for range workers {
		go func() {
			defer rd.wg.Done()
			dec := decoder{names: new(interner), alias: true}
			var v trackedVisit
			for b := range work {
				b.render(&dec, &v, render)
				close(b.done)
			}
		}()
	}
	return rd
}

// read splits the spool into batches and hands each to the workers and,
// in order, to next.
func (rd *renderer) read(r *bufio.Reader, work chan<- *renderBatch) {
	for read := 0; ; {
		b := rd.batch()
		var err error
		for b.visits < batchVisits {
			var n uint64
			if n, err = binary.ReadUvarint(r); err != nil {
				break
			}
			if n > 1<<30 {
				err = fmt.Errorf("spool: visit %d: %d bytes", read+b.visits, n)
				break
			}
			b.raw = binary.AppendUvarint(b.raw, n)
			start := len(b.raw)
			b.raw = append(b.raw, make([]byte, n)...)
			if _, err = io.ReadFull(r, b.raw[start:]); err != nil {
				err = fmt.Errorf("spool: visit %d: %w", read+b.visits, err)
				break
			}
			b.visits++
		}
		read += b.visits
		if errors.Is(err, io.EOF) {
			err = nil
			if b.visits == 0 {
				return
			}
		}
		b.err = err
		select {
		case work <- b:
		case <-rd.stop:
			return
		}
		select {
		case rd.ordered <- b:
		case <-rd.stop:
			return
		}
		if err != nil || b.visits < batchVisits {
			return
		}
	}
}

// render decodes and renders the visits of b.
func (b *renderBatch) render(dec *decoder, v *trackedVisit, render func(dst []byte, v *websession.Visit) []byte) {
	raw := b.raw
	for i := 0; i < b.visits && b.err == nil; i++ {
		n, size := binary.Uvarint(raw)
		dec.b, dec.err = raw[size:size+int(n)], nil
		raw = raw[size+int(n):]
		if err := dec.visit(v); err != nil {
			b.err = fmt.Errorf("spool: %w", err)
			return
		}
		b.docs = append(render(b.docs, &v.Visit), '\n')
	}
}

func (rd *renderer) batch() *renderBatch {
	b, _ := rd.pool.Get().(*renderBatch)
	if b == nil {
		b = new(renderBatch)
	}
	*b = renderBatch{raw: b.raw[:0], docs: b.docs[:0], done: make(chan struct{})}
	return b
}

// next returns the next batch in file order, rendered, or nil after the
// last. Give it back with recycle.
func (rd *renderer) next() *renderBatch {
	b, ok := <-rd.ordered
	if !ok {
		return nil
	}
	<-b.done
	return b
}

func (rd *renderer) recycle(b *renderBatch) { rd.pool.Put(b) }

// close stops the goroutines, whether or not every batch was taken.
func (rd *renderer) close() {
	close(rd.stop)
	for range rd.ordered { // unblock the reader
	}
	rd.wg.Wait()
}
