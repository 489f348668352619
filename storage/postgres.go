package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
)

// openPostgres opens two pools through pgx's database/sql driver, which
// caches prepared statements per connection: a small one for writes and
// one for reads. Commits, which every send waits for, then never queue
// behind the reads of many concurrent requests for a connection. Both
// keep their connections open while busy (up to ConnMaxIdleTime idle):
// a pool that closes what it cannot keep idle opens a connection, with
// its authentication and its statements prepared again, for every burst.
func openPostgres(cfg Config) (*DB, error) {
	if cfg.DSN == "" {
		return nil, fmt.Errorf("storage: postgres needs a dsn")
	}
	maxConns := cfg.MaxConns
	if maxConns <= 0 {
		maxConns = 20
	}
	// A room commits one batch at a time: a few connections serve the
	// writes of many rooms.
	writes := max(1, min(4, maxConns/4))
	reads := max(1, maxConns-writes)
	open := func(n int) (*sql.DB, error) {
		db, err := sql.Open("pgx", cfg.DSN)
		if err != nil {
			return nil, fmt.Errorf("storage: open postgres: %w", err)
		}
		db.SetMaxOpenConns(n)
		db.SetMaxIdleConns(n)
		db.SetConnMaxIdleTime(5 * time.Minute)
		return db, nil
	}
	write, err := open(writes)
	if err != nil {
		return nil, err
	}
	read, err := open(reads)
	if err != nil {
		write.Close()
		return nil, err
	}
	return &DB{driver: Postgres, write: write, read: read, rebind: dollarRebind()}, nil
}

// warm opens n connections of pool (at most all it may open) at once and
// returns them to it idle, so that the first burst of requests finds them
// ready rather than each paying for a connection's setup and
// authentication.
func warm(ctx context.Context, pool *sql.DB, n int) error {
	n = min(n, pool.Stats().MaxOpenConnections)
	conns := make([]*sql.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := pool.Conn(ctx)
		if err != nil {
			return err
		}
		conns = append(conns, c)
	}
	return nil
}

// answered tells whether err is the PostgreSQL server's own lasting answer
// (an authentication failure, a missing database) rather than a failure to
// reach it or a server still starting (57P03) or dropping the connection
// (class 08).
func answered(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code != "57P03" && !strings.HasPrefix(pgErr.Code, "08")
}
