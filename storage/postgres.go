package storage

import (
	"database/sql"
	"fmt"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
)

// openPostgres opens a pool through pgx's database/sql driver, which caches
// prepared statements per connection.
func openPostgres(cfg Config) (*DB, error) {
	if cfg.DSN == "" {
		return nil, fmt.Errorf("storage: postgres needs a dsn")
	}
	db, err := sql.Open("pgx", cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("storage: open postgres: %w", err)
	}
	maxConns, minConns := cfg.MaxConns, cfg.MinConns
	if maxConns <= 0 {
		maxConns = 20
	}
	if minConns <= 0 || minConns > maxConns {
		minConns = min(5, maxConns)
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(minConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return &DB{driver: Postgres, write: db, read: db, rebind: dollarRebind()}, nil
}
