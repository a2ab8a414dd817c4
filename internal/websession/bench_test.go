package websession

import (
	"fmt"
	"io"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// benchVisit returns the i-th visit of a benchmark: 20 events, 10 page
// views, 5 attributes and 5 impressions, two of them of an engagement the
// visitor was found eligible for. Visits differ in their IDs, times,
// pages and values, as a file's do.
func benchVisit(i int) *Visit {
	v := specVisit()
	v.VisitorID = fmt.Sprintf("pKytlMTwSPCwpJS-%06d", i*7919%1000000)
	v.VisitID = fmt.Sprintf("AjvT6hLKTEi3AXgGnYu_mQ.%040x", uint64(i)*0x9e3779b97f4a7c15)
	t := int64(1467291704525 + i*60013)
	v.Events = nil
	for p := range 10 {
		item := (i*31 + p*17) % 997
		v.Events = append(v.Events, pageViewEvent(t+int64(p*10007), fmt.Sprintf(
			`{"url":"https://www.example.com/products/category-%d/item-%d?ref=nav&utm_source=newsletter","referrer":"https://www.example.com/products/category-%d/","title":"Item %d | Example Shop","sections":["products","category-%d"],"contextId":"%d"}`,
			item%13, item, item%13, item, item%13, 173828+p)))
	}
	total := float64(i%5000) / 100
	for _, data := range []string{
		fmt.Sprintf(`{"type":"ctmrinfo","info":{"cstatus":"cancelled","ctype":"vip","customerId":"%dAC","balance":"-%.2f","currency":"USD","socialId":"11256324780","imei":"3543546543545688","userName":"user%d","companySize":500,"companyBranch":"Paris","accountName":"bank corp","role":"broker","lastPaymentDate":{"day":15,"month":10,"year":2014},"registrationDate":{"day":"23","month":"5","year":"2013"},"loginStatus":"4","storeNumber":123865,"storeZipCode":"20505"}}`, i, total, i),
		fmt.Sprintf(`{"type":"personal","personal":{"firstname":"John%d","lastname":"Doe","age":{"age":"34.0","year":1980,"month":"04","day":15},"contacts":[{"email":"john%d@example.com","phone":"+1 212-788-8877"}],"gender":"MALE","language":"en-US","company":"company"}}`, i, i),
		fmt.Sprintf(`{"type":"cart","total":%.2f,"currency":"USD","numItems":"6","products":[{"product":{"name":"prod%d","category":"category","sku":"sku%d","price":"7.8"},"quantity":1},{"product":{"name":"prod2","category":"category","sku":20034,"price":0.78},"quantity":"5"}]}`, total, i%97, i),
		fmt.Sprintf(`{"type":"purchase","total":"%.2f","currency":"USD","orderId":%d,"cart":{"products":[{"product":{"name":"red high heel shoe","category":"women shoes","sku":"xyz567","price":77.8},"quantity":1}],"numItems":1,"total":77.8}}`, total, 98765+i),
		fmt.Sprintf(`{"type":"lead","lead":{"topic":"luxury car test drive %d","value":"22.22","currency":"USD","leadId":"xyz%d"}}`, i%2015, i),
	} {
		v.Events = append(v.Events, sdeEvent(t+5000, data))
	}
	for k, name := range []string{"OFFER_IMPRESSION", "OFFER_CLICK", "OFFER_IMPRESSION", "OFFER_DECLINED", "OFFER_TIMEOUT"} {
		campaign, engagement := 129082910, 129083010
		if k >= 2 {
			campaign, engagement = 210599710+i%10, 210600710+i%10
		}
		v.Events = append(v.Events, offerEvent(t+int64(6000+k*2000), name, fmt.Sprintf(
			`{"contexts":[{"EngagementContext":{"id":"%d"}},{"pageContext":{"id":"1738225948"}}],"campaignId":%d,"engagementId":%d,"engagementRevision":18,"engagementType":5,"contextId":"%d","zoneId":471288710,"state":1,"confKey":"%d_%d_18","tglName":"slider","done":true,"engagementName":"Slide-out chat button"}`,
			k, campaign, engagement, k, campaign, engagement)))
	}
	return v
}

// benchVisits are the visits of the benchmarks, written in turn.
func benchVisits() []*Visit {
	visits := make([]*Visit, 256)
	for i := range visits {
		visits[i] = benchVisit(i)
	}
	return visits
}

func BenchmarkAppendDocument(b *testing.B) {
	visits := benchVisits()
	var en Enricher = specEnricher
	var doc []byte
	size := 0
	for _, v := range visits {
		doc = AppendDocument(doc[:0], v, en)
		size += len(doc)
	}
	b.SetBytes(int64(size / len(visits)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		doc = AppendDocument(doc[:0], visits[i%len(visits)], en)
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/visit")
}

// BenchmarkGzipDocument is gzip alone (klauspost/compress, default level)
// of the documents of BenchmarkAppendDocument, one per line: what writing
// a web-session file costs beside writing its documents.
func BenchmarkGzipDocument(b *testing.B) {
	var docs [][]byte
	size := 0
	for _, v := range benchVisits() {
		docs = append(docs, append(AppendDocument(nil, v, specEnricher), '\n'))
		size += len(docs[len(docs)-1])
	}
	zw := gzip.NewWriter(io.Discard)
	b.SetBytes(int64(size / len(docs)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := zw.Write(docs[i%len(docs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
}

// TestAppendDocumentDoesNotAllocate checks that AppendDocument allocates
// nothing for a visit without escaped strings whose first page has no
// referrer (a referrer is copied for Enricher.Search).
func TestAppendDocumentDoesNotAllocate(t *testing.T) {
	v := benchVisit(1)
	v.Events[0] = pageViewEvent(1, `{"url":"https://a/","referrer":""}`)
	var en Enricher = specEnricher
	doc := AppendDocument(nil, v, en)
	if n := testing.AllocsPerRun(100, func() { doc = AppendDocument(doc[:0], v, en) }); n != 0 {
		t.Errorf("%v allocations per document", n)
	}
}
