package sessionizer

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the Prometheus metrics of the sessionizer and the hourly job.
type Metrics struct {
	openVisits    prometheus.Gauge
	closedVisits  prometheus.Counter
	lag           prometheus.Gauge
	checkpoint    prometheus.Histogram
	visitsWritten prometheus.Counter
	filesWritten  prometheus.Counter
	hourSeconds   prometheus.Histogram
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
		lag: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sightline_sessionizer_watermark_lag_seconds",
			Help: "How far the least partition watermark is behind the wall clock at the last checkpoint.",
		}),
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
	if reg != nil {
		for _, c := range []prometheus.Collector{m.openVisits, m.closedVisits, m.lag, m.checkpoint, m.visitsWritten, m.filesWritten, m.hourSeconds} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}
