package embedded

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the Prometheus metrics of a Log.
type metrics struct {
	fsync         prometheus.Histogram
	records       prometheus.Counter
	appendedBytes prometheus.Counter
	bytes         *prometheus.GaugeVec
	commitRecords prometheus.Histogram
	errors        *prometheus.CounterVec
	busy          prometheus.Counter // errors{reason="busy"}
	unavailable   prometheus.Counter // errors{reason="unavailable"}

	reg        prometheus.Registerer
	registered []prometheus.Collector
}

// newMetrics creates the metrics and registers them on reg unless it is nil.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		fsync: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sightline_eventlog_fsync_duration_seconds",
			Help:    "Duration of the fsync of the write-ahead file that makes a round of appends durable.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		records: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sightline_eventlog_appended_records_total",
			Help: "Records appended and fsynced.",
		}),
		appendedBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sightline_eventlog_appended_bytes_total",
			Help: "Bytes written to segments by appends, frame headers included.",
		}),
		bytes: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sightline_eventlog_bytes",
			Help: "Bytes retained in a partition.",
		}, []string{"partition"}),
		commitRecords: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sightline_eventlog_commit_records",
			Help:    "Records written per group commit.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 10),
		}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sightline_eventlog_append_errors_total",
			Help: "Appends that failed, by reason: busy (too much pending) or unavailable (storage failed).",
		}, []string{"reason"}),
		reg: reg,
	}
	m.busy = m.errors.WithLabelValues("busy")
	m.unavailable = m.errors.WithLabelValues("unavailable")
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.fsync, m.records, m.appendedBytes, m.bytes, m.commitRecords, m.errors} {
		if err := reg.Register(c); err != nil {
			m.unregister()
			return nil, err
		}
		m.registered = append(m.registered, c)
	}
	return m, nil
}

// unregister removes the metrics from the registerer, so that a Log opened
// again later can register them.
func (m *metrics) unregister() {
	for _, c := range m.registered {
		m.reg.Unregister(c)
	}
	m.registered = nil
}
