package storage

import (
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	_ "github.com/mattn/go-sqlite3" // registers "sqlite3"
)

// sqliteBusyTimeout is how long, in milliseconds, a connection waits for
// a lock another holds.
const sqliteBusyTimeout = "10000"

// openSQLite opens the write pool and a pool of readers on the same file.
// WAL lets readers run beside the writer; Write takes a mutex, so Go, not
// SQLite's busy handler, queues the writes (Dendrite's lesson).
func openSQLite(cfg Config) (*DB, error) {
	if cfg.DSN == "" {
		return nil, fmt.Errorf("storage: sqlite needs a file path")
	}
	if dir := filepath.Dir(cfg.DSN); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("storage: sqlite directory: %w", err)
		}
	}
	params := url.Values{}
	params.Set("_journal_mode", "WAL")
	params.Set("_busy_timeout", sqliteBusyTimeout)
	params.Set("_foreign_keys", "on")
	params.Set("_synchronous", "NORMAL")
	params.Set("_txlock", "immediate")
	params.Set("_cache_size", "-16000")
	// Erased message text must not linger in free pages (spec/events.md, "Redaction").
	params.Set("_secure_delete", "on")
	write, err := sql.Open("sqlite3", "file:"+cfg.DSN+"?"+params.Encode())
	if err != nil {
		return nil, fmt.Errorf("storage: open sqlite: %w", err)
	}
	// Two connections: one holds the write transaction (Write serialises
	// them), the other prepares statements meanwhile (stmtCache).
	write.SetMaxOpenConns(2)
	write.SetMaxIdleConns(2)
	write.SetConnMaxLifetime(0)

	params.Set("_txlock", "deferred")
	params.Set("_query_only", "true")
	read, err := sql.Open("sqlite3", "file:"+cfg.DSN+"?"+params.Encode())
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("storage: open sqlite: %w", err)
	}
	readers := cfg.MaxConns
	if readers <= 0 {
		readers = max(4, 2*runtime.GOMAXPROCS(0))
	}
	read.SetMaxOpenConns(readers)
	read.SetMaxIdleConns(readers)
	read.SetConnMaxLifetime(0)
	return &DB{driver: SQLite, write: write, read: read, rebind: noRebind,
		wmu: &sync.Mutex{}, stmts: &stmtCache{db: write, m: map[string]*sql.Stmt{}}}, nil
}
