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
// longer each time up to purgeRetryMax. Beside it, every
// storage.blob_sweep_interval, the blob sweep (sweep.go) deletes the files
// nothing names any more; a sweep that fails waits for the next.
const (
	purgeSettle   = time.Second
	purgeRetryMin = time.Second
	purgeRetryMax = time.Minute
)

// maintenance runs the storage upkeep until stop is called.
type maintenance struct {
	db     *storage.DB
	sweep  *blobSweep
	log    *slog.Logger
	failed prometheus.Counter
	cancel context.CancelFunc
	done   sync.WaitGroup
}

// startMaintenance starts the upkeep; an every of 0 runs no blob sweeps.
func startMaintenance(db *storage.DB, sweep *blobSweep, every time.Duration, log *slog.Logger, reg prometheus.Registerer) (*maintenance, error) {
	m := &maintenance{db: db, sweep: sweep, log: log, failed: prometheus.NewCounter(prometheus.CounterOpts{
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
	if every > 0 {
		m.done.Add(1)
		go func() {
			defer m.done.Done()
			m.sweepEvery(ctx, every)
		}()
	}
	return m, nil
}

// sweepEvery sweeps the blob store every d until ctx ends.
func (m *maintenance) sweepEvery(ctx context.Context, d time.Duration) {
	for sleep(ctx, d) {
		got, err := m.sweep.once(ctx, time.Now())
		switch {
		case err != nil && ctx.Err() == nil:
			m.log.Error("blob sweep failed; trying again at the next", "in", d, "deleted", got.Deleted, "err", err)
		case got.Deleted > 0:
			m.log.Info("blob sweep", "deleted", got.Deleted, "bytes", got.Bytes, "blobs", got.Seen)
		}
	}
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
