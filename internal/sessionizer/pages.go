package sessionizer

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/sightline/sightline/internal/event"
	"github.com/sightline/sightline/internal/eventlog"
)

// # The pages of an open visit
//
// The agent workspace shows, beside a conversation, the pages of the
// visitor's visit so far. The sessionizer knows them already: an open
// visit holds where its records are in the log. VisitPages asks Run (the
// only goroutine that touches the open visits, as Flush does) for a copy
// of where the visit's records are, and reads the page views from the log
// on the caller's goroutine, so that the lookup holds Run up for no more
// than a map lookup and a copy of the visit's runs (a few bytes a batch).
// The lookup is by account, visitor and visit, all three, so that it
// finds one account's visit only, and it keeps only records of that
// visit. It reads at most MaxPagesBytes of records, those received last
// first, and returns at most MaxPages pages. A visit already
// closed, or whose first events Run has not read yet, has no pages.

// Page is one page view of a visit.
type Page struct {
	// Time is the page's client time, ServerTime when it was received,
	// epoch ms.
	Time       int64    `json:"time"`
	ServerTime int64    `json:"serverTime"`
	URL        string   `json:"url"`
	Title      string   `json:"title,omitempty"`
	Referrer   string   `json:"referrer,omitempty"`
	Sections   []string `json:"sections,omitempty"`
}

// Bounds of a VisitPages lookup.
const (
	// MaxPages is the most pages a lookup returns: the newest.
	MaxPages = 100
	// MaxPagesBytes is the most bytes of records a lookup reads.
	MaxPagesBytes = 4 << 20
)

// pagesRequest asks Run for where the records of an open visit are.
type pagesRequest struct {
	key    string
	answer chan<- visitRefs
}

// visitRefs is a copy of what Run knows of an open visit's records: its
// partition and runs, and the page views of a visit restored from an
// old checkpoint, which are not in the runs.
type visitRefs struct {
	found     bool
	err       error // Run is stalled
	partition int
	runs      [][2]eventlog.Offset
	pages     []Page
}

// VisitPages returns the page views of the open visit visit of the
// account's visitor, as far as Run has read the log: the MaxPages (or
// limit, when lower and positive) received last, in the visit's order
// (client time), and whether the visit is open. It returns ErrStopped once Run has returned, ErrStalled
// while Run is stalled, ctx's error if it ends first.
func (s *Sessionizer) VisitPages(ctx context.Context, account, visitor, visit string, limit int) ([]Page, bool, error) {
	if limit <= 0 || limit > MaxPages {
		limit = MaxPages
	}
	if account == "" || visitor == "" || visit == "" {
		return nil, false, nil
	}
	got := make(chan visitRefs, 1)
	select {
	case s.lookups <- pagesRequest{key: visitKey(account, visitor, visit), answer: got}:
	case <-s.done:
		return nil, false, ErrStopped
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	var r visitRefs
	select {
	case r = <-got:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	if r.err != nil || !r.found {
		return nil, false, r.err
	}
	// The newest runs first, until there are enough pages or the bytes
	// read reach the bound.
	var newest [][]Page // newest[i] are the pages of a run, newer runs first
	n, read := 0, 0
	for i := len(r.runs) - 1; i >= 0 && n < limit && read < MaxPagesBytes; i-- {
		var run []Page
		err := s.log.ReadRange(ctx, r.partition, r.runs[i][0], r.runs[i][1], func(m eventlog.Message) bool {
			read += len(m.Value)
			rec, err := event.ParseRecordView(m.Value)
			if err != nil || rec.AccountID != account || rec.VisitorID != visitor || rec.VisitID != visit {
				return true // not the visit's (retention deleted its records)
			}
			if p, ok := pageOf(rec.AppName, rec.EventName, rec.Data, rec.Time, rec.ServerTime); ok {
				run = append(run, p)
			}
			return read < MaxPagesBytes
		})
		if err != nil {
			return nil, true, fmt.Errorf("sessionizer: read the pages of a visit in partition %d: %w", r.partition, err)
		}
		newest = append(newest, run)
		n += len(run)
	}
	pages := r.pages
	for i := len(newest) - 1; i >= 0; i-- {
		pages = append(pages, newest[i]...)
	}
	sortPages(pages)
	if len(pages) > limit {
		pages = pages[len(pages)-limit:]
	}
	return pages, true, nil
}

// servePages answers a VisitPages request on Run's goroutine.
func (s *Sessionizer) servePages(req pagesRequest) {
	var r visitRefs
	for _, p := range s.parts {
		v := p.open[req.key]
		if v == nil {
			continue
		}
		r = visitRefs{found: true, partition: p.id}
		v.refs.each(func(start, end eventlog.Offset) bool {
			r.runs = append(r.runs, [2]eventlog.Offset{start, end})
			return true
		})
		for _, e := range v.Events {
			if pg, ok := pageOf(e.App, e.Name, e.Data, e.Time, e.ServerTime); ok {
				r.pages = append(r.pages, pg)
			}
		}
		break
	}
	req.answer <- r
}

// pageOf returns the page of a page view event (LP_MONITORING PAGE_VIEW).
func pageOf(app, name string, data []byte, at, serverAt int64) (Page, bool) {
	if app != "LP_MONITORING" || name != "PAGE_VIEW" {
		return Page{}, false
	}
	var d struct {
		URL      string   `json:"url"`
		Title    string   `json:"title"`
		Referrer string   `json:"referrer"`
		Sections []string `json:"sections"`
	}
	if json.Unmarshal(data, &d) != nil || d.URL == "" {
		return Page{}, false
	}
	return Page{Time: at, ServerTime: serverAt, URL: d.URL, Title: d.Title, Referrer: d.Referrer, Sections: d.Sections}, true
}

// sortPages orders pages as a visit's events are: by client time, then
// server time.
func sortPages(pages []Page) {
	slices.SortStableFunc(pages, func(a, b Page) int {
		if a.Time != b.Time {
			return cmpInt(a.Time, b.Time)
		}
		return cmpInt(a.ServerTime, b.ServerTime)
	})
}
