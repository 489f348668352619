package storage

import (
	"context"
	"database/sql"
	"errors"
)

// Meta reads a node metadata value; ok is false when it was never set.
func (db *DB) Meta(ctx context.Context, key string) (value string, ok bool, err error) {
	err = db.Reader().QueryRowContext(ctx, `SELECT value FROM node_meta WHERE key = ?`, key).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return value, err == nil, err
}

// SetMeta writes a node metadata value.
func (db *DB) SetMeta(ctx context.Context, key, value string) error {
	return db.Write(ctx, func(q Querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO node_meta (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
		return err
	})
}
