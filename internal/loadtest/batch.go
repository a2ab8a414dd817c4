// Package loadtest drives an ingest endpoint over real HTTP with many
// concurrent clients and realistic event batches, and measures throughput
// and latency. `sightline bench ingest` uses it to compare Sightline's
// durable ingest with a ceiling handler that only reads the body, and
// `sightline bench memory` to attack a server whose memory it watches.
package loadtest

import (
	"fmt"
	"strconv"
	"time"
)

// BatchWriter builds realistic batches: page views, engagement events
// (LP_OFFERS) and engagement attributes (lp_sdes), about 400 bytes an
// event, each with a fresh event id.
type BatchWriter struct {
	prefix  string
	seq     uint64
	visitor uint64
}

// NewBatchWriter returns a writer whose ids start with prefix, so that
// concurrent writers never repeat an id.
func NewBatchWriter(prefix string) *BatchWriter { return &BatchWriter{prefix: prefix} }

// Append appends one batch body of n events for a new visit to dst.
func (w *BatchWriter) Append(dst []byte, n int, now time.Time) []byte {
	w.visitor++
	dst = fmt.Appendf(dst, `{"visitorId":"v-%s-%d","visitId":"s-%s-%d","events":[`, w.prefix, w.visitor, w.prefix, w.visitor)
	return w.appendEvents(dst, n, now)
}

// AppendVisit appends one batch body of n events for the visit id (visitor
// "v-"+id, visit "s-"+id) to dst; id must need no JSON escaping. Each batch
// spreads its events from now on, as Append's, so the events of successive
// batches of one visit overlap in time.
func (w *BatchWriter) AppendVisit(dst []byte, id string, n int, now time.Time) []byte {
	dst = fmt.Appendf(dst, `{"visitorId":"v-%s","visitId":"s-%s","events":[`, id, id)
	return w.appendEvents(dst, n, now)
}

// appendEvents appends n events, each with a fresh id, and the end of the
// batch body to dst.
func (w *BatchWriter) appendEvents(dst []byte, n int, now time.Time) []byte {
	ms := now.UnixMilli()
	for i := 0; i < n; i++ {
		if i > 0 {
			dst = append(dst, ',')
		}
		w.seq++
		dst = append(dst, `{"id":"`...)
		dst = append(dst, w.prefix...)
		dst = append(dst, '-')
		dst = strconv.AppendUint(dst, w.seq, 36)
		dst = append(dst, `","time":`...)
		dst = strconv.AppendInt(dst, ms+int64(i)*731, 10)
		dst = append(dst, ',')
		dst = append(dst, templates[i%len(templates)]...)
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

// templates are the events of a batch after their id and time: about 400
// bytes each with the envelope.
var templates = []string{
	`"appName":"LP_MONITORING","eventName":"PAGE_VIEW","data":{"url":"https://shop.example/electronics/tv/oled-55-inch-4k-smart-television?ref=homepage&utm_source=newsletter","referrer":"https://www.google.com/search?q=oled+55+inch+tv+best+price","title":"OLED 55 inch 4K Smart Television - Shop Example","sections":["electronics","tv","oled"]}`,
	`"appName":"LP_OFFERS","eventName":"OFFER_IMPRESSION","data":{"contexts":[{"EngagementContext":{"id":"3"}},{"pageContext":{"id":"1738225948"}}],"campaignId":210599710,"engagementId":210600710,"engagementRevision":18,"engagementType":3,"contextId":"3","zoneId":471288710,"state":1,"confKey":"210599710_210600710_18","tglName":"slider","done":true,"engagementName":"Slide-out chat button"}`,
	`"appName":"lp_sdes","eventName":"VAR_ADDED","data":{"type":"cart","total":1899.97,"currency":"USD","numItems":3,"products":[{"product":{"name":"OLED 55 inch TV","category":"tv","sku":"TV-OLED-55","price":1499.99},"quantity":1},{"product":{"name":"Soundbar","category":"audio","sku":"AU-SB-2","price":399.98},"quantity":2}]}`,
	`"appName":"LP_OFFERS","eventName":"OFFER_DISPLAY","data":{"contexts":[{"EngagementContext":{"id":"4"}},{"pageContext":{"id":"1738225948"}}],"campaignId":248955910,"engagementId":248956110,"engagementRevision":14,"engagementType":6,"contextId":"4","zoneId":471288510,"state":2,"confKey":"248955910_248956110_14","tglName":"overlay","done":true,"engagementName":"Sticky offer: free delivery"}`,
	`"appName":"lp_sdes","eventName":"VAR_ADDED","data":{"type":"ctmrinfo","info":{"cstatus":"gold","ctype":"vip","customerId":"cust-8842193","balance":-400.99,"currency":"USD","socialId":"11256324780","imei":"3543546543545688","userName":"jdoe","companySize":500,"accountName":"Example Corp","role":"buyer","lastPaymentDate":{"day":15,"month":10,"year":2026}}}`,
}
