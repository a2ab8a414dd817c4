package ingest

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sightline/sightline/internal/dedup"
	"github.com/sightline/sightline/internal/event"
)

type metrics struct {
	requests        *prometheus.CounterVec
	duration        prometheus.Histogram
	batchEvents     prometheus.Histogram
	accepted        prometheus.Counter
	rejectedBy      *prometheus.CounterVec
	duplicates      prometheus.Counter
	overloaded      prometheus.Counter
	forbiddenOrigin prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, ix *dedup.Index) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sightline_ingest_requests_total",
			Help: "Event batch requests by HTTP status code.",
		}, []string{"code"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sightline_ingest_request_duration_seconds",
			Help:    "Time to answer an event batch request, durable append included.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		batchEvents: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sightline_ingest_batch_events",
			Help:    "Events per decoded batch.",
			Buckets: []float64{1, 2, 5, 10, 25, 50, 100, 250, 500, 1000},
		}),
		accepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sightline_ingest_events_accepted_total",
			Help: "Events stored durably.",
		}),
		rejectedBy: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sightline_ingest_events_rejected_total",
			Help: "Events rejected by validation, by reason.",
		}, []string{"reason"}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sightline_ingest_events_duplicate_total",
			Help: "Events acknowledged but not stored again because their id was already stored.",
		}),
		overloaded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sightline_ingest_overloaded_total",
			Help: "Requests refused with 429 because the event log could not keep up.",
		}),
		forbiddenOrigin: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sightline_ingest_forbidden_origin_total",
			Help: "Requests refused because their Origin is not allowed for the account.",
		}),
	}
	// Every reason shows on /metrics from the start, at 0.
	for _, r := range event.Reasons() {
		m.rejectedBy.WithLabelValues(string(r))
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.duration, m.batchEvents, m.accepted, m.rejectedBy, m.duplicates, m.overloaded, m.forbiddenOrigin,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "sightline_dedup_keys",
				Help: "Event ids remembered for deduplication.",
			}, func() float64 { return float64(ix.Len()) }))
	}
	return m
}

func (m *metrics) rejected(r event.Reason) {
	m.rejectedBy.WithLabelValues(string(r)).Inc()
}
