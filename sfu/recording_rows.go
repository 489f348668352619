package sfu

import (
	"context"
	"time"

	"concord/storage"
)

// A recording's row and the keys of the blobs it owns (the recordings and
// recording_blobs tables, storage/migrations/0010_recordings.sql) are what
// keep its files from the node's blob sweep. Each key is written before
// its blob is stored, so that a sweep never sees a stored file nothing
// names; a recording that cannot be stored loses its row, and its blobs
// are swept.

// startRow records that rec started and notes the row's ID in it.
func (s *SFU) startRow(ctx context.Context, rec *recording) error {
	return s.db.Write(ctx, func(q storage.Querier) error {
		return q.QueryRowContext(ctx, `INSERT INTO recordings (guild_id, channel_id, started_by, started_at)
			VALUES (?, ?, ?, ?) RETURNING id`, int64(rec.guild), int64(rec.channel), int64(rec.by),
			rec.started.UnixMilli()).Scan(&rec.row)
	})
}

// ownBlob records that rec owns the blob key of size bytes.
func (s *SFU) ownBlob(ctx context.Context, rec *recording, key string, size int64) error {
	return s.db.Write(ctx, func(q storage.Querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO recording_blobs (recording_id, blob, size) VALUES (?, ?, ?)
			ON CONFLICT (recording_id, blob) DO NOTHING`, rec.row, key, size)
		return err
	})
}

// endRow records that rec ended with the manifest stored under key.
func (s *SFU) endRow(ctx context.Context, rec *recording, ended time.Time, key string) error {
	return s.db.Write(ctx, func(q storage.Querier) error {
		_, err := q.ExecContext(ctx, `UPDATE recordings SET ended_at = ?, manifest = ? WHERE id = ?`,
			ended.UnixMilli(), key, rec.row)
		return err
	})
}

// dropRow forgets rec and the blobs it owned.
func (s *SFU) dropRow(ctx context.Context, rec *recording) error {
	return s.db.Write(ctx, func(q storage.Querier) error {
		_, err := q.ExecContext(ctx, `DELETE FROM recordings WHERE id = ?`, rec.row)
		return err
	})
}

// dropUnfinished forgets the recordings an earlier run of the node never
// finished storing: their files went with that process.
func dropUnfinished(ctx context.Context, db *storage.DB) error {
	return db.Write(ctx, func(q storage.Querier) error {
		_, err := q.ExecContext(ctx, `DELETE FROM recordings WHERE ended_at IS NULL`)
		return err
	})
}
