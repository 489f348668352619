package gateway

import (
	"errors"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Resume outcomes counted by gateway_resumes_total.
const (
	resumeOK         = "ok"
	resumeInvalid    = "invalid_session" // unknown, ended or too old: op 9
	resumeInvalidSeq = "invalid_seq"     // a seq the session never sent: 4007
)

type metrics struct {
	conns      prometheus.Gauge
	dispatched *prometheus.CounterVec
	drops      prometheus.Counter
	resumes    *prometheus.CounterVec

	mu     sync.RWMutex
	byType map[string]prometheus.Counter // dispatched, resolved once per type
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		conns: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "active_websocket_connections", Help: "Open gateway WebSocket connections.",
		}),
		dispatched: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_dispatched_total", Help: "Dispatches queued to sessions, by event type.",
		}, []string{"type"}),
		drops: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_queue_drops_total", Help: "Connections dropped because their send queue was full.",
		}),
		resumes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_resumes_total", Help: "Resume attempts by outcome.",
		}, []string{"outcome"}),
		byType: map[string]prometheus.Counter{},
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.conns, m.dispatched, m.drops, m.resumes} {
		if err := reg.Register(c); err != nil {
			return nil, errors.Join(errors.New("gateway: register metrics"), err)
		}
	}
	return m, nil
}

func (m *metrics) dispatch(typ string, n int) {
	if n == 0 {
		return
	}
	m.mu.RLock()
	c := m.byType[typ]
	m.mu.RUnlock()
	if c == nil {
		c = m.dispatched.WithLabelValues(typ)
		m.mu.Lock()
		m.byType[typ] = c
		m.mu.Unlock()
	}
	c.Add(float64(n))
}
