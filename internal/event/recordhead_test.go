package event

import (
	"reflect"
	"testing"
)

func TestParseRecordHead(t *testing.T) {
	for _, s := range []Stored{
		{ID: "e1", AccountID: "75555851", VisitorID: "pKytlMTwSPCwpJS-RQqtlQ", VisitID: "AjvT6hLKTEi3AXgGnYu_mQ",
			Time: 1467291704525, ServerTime: 1467291704600, IP: "198.51.100.1", UserAgent: "Mozilla/5.0", AppName: "CHAT", EventName: "open", Data: []byte(`{}`)},
		// Escaped strings take the slow path and still come out right.
		{ID: `quote"d`, AccountID: "a", VisitorID: `back\slash`, VisitID: "s", Time: -1, ServerTime: 0, AppName: "CHAT", EventName: "open"},
	} {
		rec := AppendRecord(nil, &s)
		h, err := ParseRecordHead(rec)
		if err != nil {
			t.Fatalf("%s: %v", rec, err)
		}
		want := RecordHead{ID: s.ID, AccountID: s.AccountID, VisitorID: s.VisitorID, VisitID: s.VisitID, Time: s.Time, ServerTime: s.ServerTime}
		if h != want {
			t.Fatalf("%s: head %+v, want %+v", rec, h, want)
		}
	}
	if _, err := ParseRecordHead([]byte(`{"id":"x"`)); err == nil {
		t.Fatal("a cut record parsed")
	}
}

// FuzzParseRecordHead: on any input the head agrees with ParseRecord.
func FuzzParseRecordHead(f *testing.F) {
	f.Add(AppendRecord(nil, &Stored{ID: "e1", AccountID: "a", VisitorID: "v", VisitID: "s", Time: 1, ServerTime: 2, AppName: "CHAT", EventName: "open"}))
	f.Add([]byte(`{"id":"a","accountId":"b","visitorId":"c","visitId":"d","time":1,"serverTime":99999999999999999999}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseRecordHead(b)
		s, serr := ParseRecord(b)
		if serr != nil {
			return // the fast path may read heads of records ParseRecord refuses as a whole
		}
		if err != nil {
			t.Fatalf("head failed (%v) where ParseRecord succeeded", err)
		}
		want := RecordHead{ID: s.ID, AccountID: s.AccountID, VisitorID: s.VisitorID, VisitID: s.VisitID, Time: s.Time, ServerTime: s.ServerTime}
		if h != want {
			t.Fatalf("head %+v, ParseRecord %+v", h, want)
		}
	})
}

func BenchmarkParseRecordHead(b *testing.B) {
	rec := AppendRecord(nil, &Stored{ID: "3f1c6f5e-9a2b-4c1d-8e7f-0a1b2c3d4e5f", AccountID: "75555851", VisitorID: "pKytlMTwSPCwpJS-RQqtlQ",
		VisitID: "AjvT6hLKTEi3AXgGnYu_mQ", Time: 1467291704525, ServerTime: 1467291704600, IP: "198.51.100.1",
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
		AppName:   "LP_MONITORING", EventName: "PAGE_VIEW", Data: []byte(`{"url":"https://shop.example/tv","title":"TVs","sections":["tv"]}`)})
	b.Run("head", func(b *testing.B) {
		for b.Loop() {
			ParseRecordHead(rec)
		}
	})
	b.Run("full", func(b *testing.B) {
		for b.Loop() {
			ParseRecord(rec)
		}
	})
}

func TestParseRecordView(t *testing.T) {
	s := storedFixture()
	escaped := s
	escaped.UserAgent = "a \"quoted\" agent"
	for _, want := range []Stored{s, escaped, {ID: "x", Data: []byte(`{}`)}} {
		rec := AppendRecord(nil, &want)
		got, err := ParseRecordView(rec)
		if err != nil {
			t.Fatal(err)
		}
		if len(want.Data) == 0 {
			want.Data = []byte(`{}`)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("ParseRecordView(%s)\n got %+v\nwant %+v", rec, got, want)
		}
	}
	if _, err := ParseRecordView([]byte(`{"id":"x"`)); err == nil {
		t.Error("a truncated record was read")
	}
}

func BenchmarkParseRecordView(b *testing.B) {
	s := storedFixture()
	rec := AppendRecord(nil, &s)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseRecordView(rec); err != nil {
			b.Fatal(err)
		}
	}
}
