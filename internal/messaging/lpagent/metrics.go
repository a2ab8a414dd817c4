package lpagent

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	connections      prometheus.Gauge
	connectionsTotal *prometheus.CounterVec
	requests         *prometheus.CounterVec
	notifications    *prometheus.CounterVec
	logins           *prometheus.CounterVec
	httpRequests     *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sightline_lpagent_connections",
			Help: "Agent protocol WebSockets open.",
		}),
		connectionsTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sightline_lpagent_connections_total",
			Help: "Agent protocol WebSocket handshakes, by result (accepted, unauthorized, not_found).",
		}, []string{"result"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sightline_lpagent_requests_total",
			Help: "Agent protocol requests answered, by request type (other for types the protocol does not have) and response code.",
		}, []string{"type", "code"}),
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sightline_lpagent_notifications_total",
			Help: "Agent protocol notifications sent, by type.",
		}, []string{"type"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sightline_lpagent_logins_total",
			Help: "Agent logins, by result (ok, bad_credentials, rate_limited, bad_request).",
		}, []string{"result"}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sightline_lpagent_http_requests_total",
			Help: "Domain discovery, refresh and logout requests, by endpoint and status code.",
		}, []string{"endpoint", "code"}),
	}
	for _, r := range []string{"ok", "bad_credentials", "rate_limited", "bad_request"} {
		m.logins.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(m.connections, m.connectionsTotal, m.requests, m.notifications, m.logins, m.httpRequests)
	}
	return m
}

func (m *metrics) http(endpoint string, code int) {
	m.httpRequests.WithLabelValues(endpoint, strconv.Itoa(code)).Inc()
}

// request counts a request of type typ answered with code.
func (m *metrics) request(typ string, code int) {
	if !knownTypes[typ] {
		typ = "other"
	}
	m.requests.WithLabelValues(typ, strconv.Itoa(code)).Inc()
}

// knownTypes are the request types counted by name.
var knownTypes = map[string]bool{}

func init() {
	for _, t := range []string{typeGetClock, typeRequestConversation, typeSubscribeEx, typeUnsubscribeEx, typeUpdateField,
		typePublishEvent, typeUpdateRingState, typeSubscribeRouting, typeUpdateRoutingSub, typeGetUserProfile, typeSetAgentState,
		typeSubscribeAgents, typeQueryMessages, typeSubscribeMessaging, typeDownloadURL, typeUploadURL} {
		knownTypes[t] = true
	}
}
