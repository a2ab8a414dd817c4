package ingest

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sightline/sightline/internal/dedup"
	"github.com/sightline/sightline/internal/event"
)

type metrics struct {
	requests        *prometheus.CounterVec
	byCode          map[int]prometheus.Counter // requests of the statuses the handler answers
	duration        prometheus.Histogram
	batchEvents     prometheus.Histogram
	accepted        prometheus.Counter
	rejectedBy      *prometheus.CounterVec
	duplicates      prometheus.Counter
	overloaded      prometheus.Counter
	forbiddenOrigin prometheus.Counter
	statesRefused   prometheus.Counter
	reading         prometheus.Gauge
	slowBodies      prometheus.Counter
	clientLimited   prometheus.Counter
	memoryFull      prometheus.Counter
	invalidUTF8     prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, ix *dedup.Index, memory *budget) *metrics {
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
		statesRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sightline_ingest_campaign_states_refused_total",
			Help: "Campaign states sent back unsigned, or not signed by this deployment's key for their visitor: taken as empty.",
		}),
		reading: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sightline_ingest_bodies_reading",
			Help: "Requests whose body is arriving.",
		}),
		slowBodies: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sightline_ingest_slow_bodies_total",
			Help: "Requests refused with 408 because their body did not arrive in time (body timeout and minimum rate).",
		}),
		clientLimited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sightline_ingest_client_limited_total",
			Help: "Requests refused with 429 because their client address had as many requests in progress as it may.",
		}),
		memoryFull: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sightline_ingest_body_memory_full_total",
			Help: "Requests refused with 429 because the bodies in progress held the body memory limit.",
		}),
		invalidUTF8: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sightline_ingest_invalid_utf8_bytes_total",
			Help: "Bytes of valid events' data that were not UTF-8, each stored as U+FFFD.",
		}),
	}
	// Every reason and status shows on /metrics from the start, at 0, and
	// the hot path finds its counter without formatting a label.
	for _, r := range event.Reasons() {
		m.rejectedBy.WithLabelValues(string(r))
	}
	m.byCode = map[int]prometheus.Counter{}
	for _, code := range []int{200, 400, 403, 404, 408, 413, 415, 429, 503} {
		m.byCode[code] = m.requests.WithLabelValues(strconv.Itoa(code))
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.duration, m.batchEvents, m.accepted, m.rejectedBy, m.duplicates, m.overloaded, m.forbiddenOrigin, m.statesRefused,
			m.reading, m.slowBodies, m.clientLimited, m.memoryFull, m.invalidUTF8,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "sightline_dedup_keys",
				Help: "Event ids remembered for deduplication.",
			}, func() float64 { return float64(ix.Len()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "sightline_ingest_body_memory_bytes",
				Help: "Bytes of the body memory limit that the bodies being read and processed hold.",
			}, func() float64 { return float64(memory.held.Load()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "sightline_ingest_body_memory_limit_bytes",
				Help: "The body memory limit.",
			}, func() float64 { return float64(memory.size) }))
	}
	return m
}

// request counts a request answered with code.
func (m *metrics) request(code int) {
	if c, ok := m.byCode[code]; ok {
		c.Inc()
		return
	}
	m.requests.WithLabelValues(strconv.Itoa(code)).Inc()
}

func (m *metrics) rejected(r event.Reason) {
	m.rejectedBy.WithLabelValues(string(r)).Inc()
}
