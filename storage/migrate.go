package storage

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Migrations live in migrations/ as NNNN_name.sql, one list for both
// dialects. Where the dialects cannot share a statement, a version is written
// twice as NNNN_name.sqlite.sql and NNNN_name.postgres.sql. Shared files may
// use these words, rewritten per dialect:
//
//	BLOB        binary column (BYTEA on PostgreSQL)
//	SERIAL_PK   auto-increment 64-bit primary key
//	ID_PK       64-bit primary key given by the writer; on SQLite the rowid
//	            itself, which spares the table a separate key index
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

var dialectWords = map[string]*strings.Replacer{
	SQLite:   strings.NewReplacer("SERIAL_PK", "INTEGER PRIMARY KEY AUTOINCREMENT", "ID_PK", "INTEGER PRIMARY KEY"),
	Postgres: strings.NewReplacer("BLOB", "BYTEA", "SERIAL_PK", "BIGSERIAL PRIMARY KEY", "ID_PK", "BIGINT PRIMARY KEY"),
}

// migrations returns the list for one dialect, in version order.
func migrations(driver string) ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	byVersion := map[int]migration{}
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".sql")
		dialect := ""
		if i := strings.LastIndexByte(name, '.'); i >= 0 {
			dialect, name = name[i+1:], name[:i]
		}
		if dialect != "" && dialect != driver {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil || version <= 0 {
			return nil, fmt.Errorf("storage: migration file %q is not NNNN_name.sql", e.Name())
		}
		if prev, dup := byVersion[version]; dup {
			return nil, fmt.Errorf("storage: migrations %q and %q share version %d", prev.name, name, version)
		}
		body, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		byVersion[version] = migration{version, name, dialectWords[driver].Replace(string(body))}
	}
	list := make([]migration, 0, len(byVersion))
	for _, m := range byVersion {
		list = append(list, m)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].version < list[j].version })
	for i, m := range list {
		if m.version != i+1 {
			return nil, fmt.Errorf("storage: migration version %d missing before %q", i+1, m.name)
		}
	}
	return list, nil
}

// SchemaVersion is the newest migration this binary knows.
func SchemaVersion() int {
	list, err := migrations(SQLite)
	if err != nil || len(list) == 0 {
		return 0
	}
	return list[len(list)-1].version
}

// migrate applies the pending migrations, each in its own transaction, and
// refuses a database that is ahead of this binary.
func (db *DB) migrate(ctx context.Context) error {
	list, err := migrations(db.driver)
	if err != nil {
		return err
	}
	return db.Write(ctx, func(q Querier) error {
		if db.driver == Postgres {
			// Two nodes starting on one database must not migrate at once.
			if _, err := q.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7277626)`); err != nil {
				return fmt.Errorf("storage: migration lock: %w", err)
			}
		}
		if _, err := q.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
			return fmt.Errorf("storage: create schema_migrations: %w", err)
		}
		var current int
		if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
			return fmt.Errorf("storage: read schema version: %w", err)
		}
		if current > len(list) {
			return fmt.Errorf("%w: database is at version %d, this binary knows %d", ErrNewerSchema, current, len(list))
		}
		for _, m := range list[current:] {
			if _, err := q.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("storage: migration %s: %w", m.name, err)
			}
			if _, err := q.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.version, m.name, time.Now().UnixMilli()); err != nil {
				return fmt.Errorf("storage: record migration %d: %w", m.version, err)
			}
		}
		return nil
	})
}
