package node

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"concord/storage"
)

// Storage upkeep: once text was erased (a message deleted, a ban's window),
// the maintenance purges it from the database's files (storage.DB.Purge:
// the text index merged and the write-ahead log truncated on SQLite,
// VACUUM on PostgreSQL). A burst of erasures waits purgeSettle for one
// purge; a purge that fails is logged, counted and tried again, waiting
// longer each time up to purgeRetryMax.
const (
	purgeSettle   = time.Second
	purgeRetryMin = time.Second
	purgeRetryMax = time.Minute
)

// maintenance runs the storage upkeep until stop is called.
type maintenance struct {
	db     *storage.DB
	log    *slog.Logger
	failed prometheus.Counter
	cancel context.CancelFunc
	done   sync.WaitGroup
}

func startMaintenance(db *storage.DB, log *slog.Logger, reg prometheus.Registerer) (*maintenance, error) {
	m := &maintenance{db: db, log: log, failed: prometheus.NewCounter(prometheus.CounterOpts{
		Name: "concord_storage_purge_failures_total",
		Help: "Purges of erased text from the database files that failed and are retried.",
	})}
	if err := reg.Register(m.failed); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	m.done.Add(1)
	go func() {
		defer m.done.Done()
		m.run(ctx)
	}()
	return m, nil
}

func (m *maintenance) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.db.Purges():
		}
		if !sleep(ctx, purgeSettle) {
			return
		}
		for wait := purgeRetryMin; ; wait = min(2*wait, purgeRetryMax) {
			err := m.db.Purge(ctx)
			if err == nil {
				break
			}
			m.failed.Inc()
			m.log.Error("purge erased text from storage; trying again", "in", wait, "err", err)
			if !sleep(ctx, wait) {
				return
			}
		}
	}
}

// stop ends the upkeep and waits for it.
func (m *maintenance) stop() error {
	m.cancel()
	m.done.Wait()
	return nil
}

// sleep waits d, or until ctx ends (false).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
