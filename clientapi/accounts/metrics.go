package accounts

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes counted by the account metrics.
const (
	outcomeOK       = "ok"
	outcomeInvalid  = "invalid"  // refused input (policy, taken name, bad form)
	outcomeRejected = "rejected" // wrong login or password
	outcomeError    = "error"    // our failure
)

type metrics struct {
	registrations *prometheus.CounterVec
	logins        *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (metrics, error) {
	m := metrics{
		registrations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "concord_registrations_total", Help: "Account registrations by outcome.",
		}, []string{"outcome"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "concord_logins_total", Help: "Password logins by outcome.",
		}, []string{"outcome"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.registrations, m.logins} {
		if err := reg.Register(c); err != nil {
			return m, errors.Join(errors.New("clientapi: register metrics"), err)
		}
	}
	return m, nil
}
