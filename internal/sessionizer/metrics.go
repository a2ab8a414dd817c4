package sessionizer

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Prometheus metrics of the sessionizer and the hourly job.
type Metrics struct {
	openVisits   prometheus.Gauge
	closedVisits prometheus.Counter
	splitVisits  *prometheus.CounterVec
	openBytes    prometheus.Gauge
	lag          prometheus.GaugeFunc
	// lagMark is the lag at the last checkpoint, by the sessionizer's
	// clock, and when that was by the wall clock: lag grows from it.
	lagMark        atomic.Pointer[lagMark]
	lastCheckpoint prometheus.Gauge
	stalled        *prometheus.GaugeVec
	failures       *prometheus.CounterVec
	checkpoint     prometheus.Histogram
	visitsWritten  prometheus.Counter
	filesWritten   prometheus.Counter
	hourSeconds    prometheus.Histogram
}

// NewMetrics creates the metrics and registers them on reg unless it is nil.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		openVisits: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sightline_sessionizer_open_visits",
			Help: "Visits open (not yet closed) at the last checkpoint.",
		}),
		closedVisits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sightline_sessionizer_closed_visits_total",
			Help: "Visits (and continuations) closed and spooled for their hour's files.",
		}),
		splitVisits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sightline_sessionizer_visits_split_total",
			Help: "Visits closed before their time, each going on as a continuation, by reason: events or bytes (it reached the limit of a visit), memory (the open visits reached theirs).",
		}, []string{"reason"}),
		openBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sightline_sessionizer_open_visit_bytes",
			Help: "Memory the open visits take at the last checkpoint (an estimate; bounded by the sessionizer's max open bytes).",
		}),
		lastCheckpoint: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sightline_sessionizer_last_checkpoint_timestamp_seconds",
			Help: "When the sessionizer last wrote a checkpoint (Unix time): time() minus it grows while the sessionizer is stalled.",
		}),
		stalled: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sightline_consumer_stalled",
			Help: "1 while a consumer of the event log is stalled by a failure (a full disk, an I/O error) and retrying with backoff, else 0.",
		}, []string{"consumer"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sightline_consumer_failures_total",
			Help: "Failures of consumers of the event log, each followed by a retry from the last durable state.",
		}, []string{"consumer"}),
		checkpoint: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sightline_sessionizer_checkpoint_duration_seconds",
			Help:    "Duration of a checkpoint (spool fsync and state file).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}),
		visitsWritten: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sightline_websession_visits_written_total",
			Help: "Visit documents written to web-session files.",
		}),
		filesWritten: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sightline_websession_files_written_total",
			Help: "Web-session files (parts) written.",
		}),
		hourSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sightline_websession_hour_write_duration_seconds",
			Help:    "Duration of writing the files of one hour.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 16),
		}),
	}
	m.lag = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "sightline_sessionizer_watermark_lag_seconds",
		Help: "How far the least partition watermark of the last checkpoint is behind the wall clock now: it grows while the sessionizer is stalled.",
	}, func() float64 {
		if l := m.lagMark.Load(); l != nil {
			return (l.lag + time.Since(l.at)).Seconds()
		}
		return 0
	})
	if reg != nil {
		for _, c := range []prometheus.Collector{m.openVisits, m.closedVisits, m.splitVisits, m.openBytes, m.lag, m.lastCheckpoint, m.stalled, m.failures, m.checkpoint, m.visitsWritten, m.filesWritten, m.hourSeconds} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	for _, r := range []string{splitEvents, splitBytes, splitMemory} {
		m.splitVisits.WithLabelValues(r)
	}
	for _, c := range []string{consumerSessionizer, consumerHours} {
		m.stalled.WithLabelValues(c)
		m.failures.WithLabelValues(c)
	}
	return m, nil
}

// lagMark is the sessionizer's lag at a checkpoint.
type lagMark struct {
	lag time.Duration // the clock less the least watermark
	at  time.Time     // wall clock
}

// The consumer label values of the stall metrics.
const (
	consumerSessionizer = "sessionizer"
	consumerHours       = "websession_hours"
)

// setStalled records consumer's failure, or that it works again (nil).
func (m *Metrics) setStalled(consumer string, err error) {
	if err == nil {
		m.stalled.WithLabelValues(consumer).Set(0)
		return
	}
	m.stalled.WithLabelValues(consumer).Set(1)
	m.failures.WithLabelValues(consumer).Inc()
}
