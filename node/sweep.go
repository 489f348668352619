package node

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"concord/storage"
	"concord/storage/blob"
)

// The blob sweep deletes the files nothing in the database names any
// more (a deleted message's, a replaced avatar's or icon's, a forgotten
// recording's) once their last upload is blob_sweep_grace old: mark and
// sweep, storage/blob/sweep.go. The node runs it every
// blob_sweep_interval; `concord blobs sweep` runs it once.

// minSweepGrace bounds storage.blob_sweep_grace from below: a request
// that stored a file commits the row naming it well within it.
const minSweepGrace = 10 * time.Minute

// blobSweep sweeps one node's blob store and counts what it does.
type blobSweep struct {
	gc      *blob.Collector
	db      *storage.DB
	grace   time.Duration
	deleted prometheus.Counter
	bytes   prometheus.Counter
	failed  prometheus.Counter
}

// newBlobSweep registers the sweep's metrics on reg, when it is not nil.
func newBlobSweep(gc *blob.Collector, db *storage.DB, grace time.Duration, reg prometheus.Registerer) (*blobSweep, error) {
	s := &blobSweep{gc: gc, db: db, grace: grace,
		deleted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "concord_blob_sweep_deleted_total",
			Help: "Blobs the sweep deleted because nothing names them any more.",
		}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "concord_blob_sweep_deleted_bytes_total",
			Help: "Bytes of the blobs the sweep deleted.",
		}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "concord_blob_sweep_failures_total",
			Help: "Blob sweeps that stopped on an error.",
		}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{s.deleted, s.bytes, s.failed} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

// once sweeps the blobs whose last upload is older than the grace period
// at now.
func (s *blobSweep) once(ctx context.Context, now time.Time) (blob.Swept, error) {
	got, err := s.gc.Sweep(ctx, s.db.BlobsInUse, now.Add(-s.grace))
	s.deleted.Add(float64(got.Deleted))
	s.bytes.Add(float64(got.Bytes))
	if err != nil {
		s.failed.Inc()
	}
	return got, err
}
