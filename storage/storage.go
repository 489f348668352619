// Package storage is the node's database: one handle over SQLite (the
// embedded default) or PostgreSQL, with one set of SQL queries, one list of
// versioned migrations both dialects must pass, and a write path that is
// serialised where the engine needs it.
//
// Queries are written once with `?` placeholders; the handle rewrites them
// for PostgreSQL. Any package may import storage; federation reaches it only
// through an interface of its own (see ARCHITECTURE.md), so that the
// protocol code never depends on a database.
package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Drivers understood by Open.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// ErrNewerSchema is returned by Open when the database was migrated by a newer
// Concord than this one: running would risk corrupting it.
var ErrNewerSchema = errors.New("database schema is newer than this binary")

// Config selects and sizes the database.
type Config struct {
	Driver   string // SQLite or Postgres
	DSN      string // SQLite: a file path; Postgres: a URL or key=value string
	MaxConns int    // Postgres: most open connections (SQLite: readers)
	MinConns int    // Postgres: read connections opened at start (kept until idle for 5 minutes)
}

// Querier runs SQL. Both *sql.Tx and *sql.DB satisfy it once placeholders are
// rewritten, which is what the values handed out by DB do.
type Querier = interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// DB is the node's database handle. It is safe for concurrent use.
type DB struct {
	driver string
	write  *sql.DB // SQLite: writes, serialised by wmu
	read   *sql.DB // SQLite: a pool of read connections; Postgres: same as write
	rebind func(string) string
	// SQLite: writes are serialised here, and statements prepared once are
	// kept across transactions (stmtTx).
	wmu   *sync.Mutex
	stmts *stmtCache

	erased atomic.Bool   // text was erased since the last Purge
	purges chan struct{} // told of erasures, for the node's maintenance
}

// Open connects, applies pending migrations and checks the schema version.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	var (
		db  *DB
		err error
	)
	switch cfg.Driver {
	case SQLite:
		db, err = openSQLite(cfg)
	case Postgres:
		db, err = openPostgres(cfg)
	default:
		return nil, fmt.Errorf("storage: unknown driver %q (want %q or %q)", cfg.Driver, SQLite, Postgres)
	}
	if err != nil {
		return nil, err
	}
	db.purges = make(chan struct{}, 1)
	pingCtx, cancel := context.WithTimeout(ctx, connectWithin)
	defer cancel()
	if err := db.connect(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("storage: connect to %s: %w", cfg.Driver, err)
	}
	if cfg.Driver == Postgres {
		if err := warm(pingCtx, db.read, cfg.MinConns); err != nil {
			db.Close()
			return nil, fmt.Errorf("storage: connect to %s: %w", cfg.Driver, err)
		}
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Driver names the engine in use.
func (db *DB) Driver() string { return db.driver }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return err
	}
	if db.read != db.write {
		return db.read.PingContext(ctx)
	}
	return nil
}

// connectWithin is how long Open keeps trying to reach the database: a
// server started beside the node (by Compose, say) may need a few seconds.
const connectWithin = 15 * time.Second

// connect pings the database until it answers or ctx ends, and returns the
// last error then. An answer that is an error (a wrong password, say) ends
// it at once, as does any error of SQLite's.
func (db *DB) connect(ctx context.Context) error {
	for {
		err := db.Ping(ctx)
		if err == nil || db.driver != Postgres || answered(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Close closes every connection.
func (db *DB) Close() error {
	if db.stmts != nil {
		db.stmts.close()
	}
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// Reader returns a Querier on the read pool. On SQLite it sees every
// committed write (WAL) but cannot write.
func (db *DB) Reader() Querier { return rebound{db.read, db.rebind} }

// Write runs fn in one transaction on the write connection and commits it if
// fn returns nil; any error rolls everything back.
func (db *DB) Write(ctx context.Context, fn func(q Querier) error) (err error) {
	if db.wmu != nil {
		db.wmu.Lock()
		defer db.wmu.Unlock()
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("storage: begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
	}()
	var q Querier = rebound{tx, db.rebind}
	if db.stmts != nil {
		q = &stmtTx{tx: tx, cache: db.stmts, stmts: map[string]*sql.Stmt{}}
	}
	if err := fn(q); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("storage: commit: %w", err)
	}
	return nil
}

// rebound rewrites placeholders before handing a query to the engine.
type rebound struct {
	q interface {
		ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
		QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
		QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	}
	rebind func(string) string
}

func (r rebound) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return r.q.ExecContext(ctx, r.rebind(query), args...)
}

func (r rebound) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return r.q.QueryContext(ctx, r.rebind(query), args...)
}

func (r rebound) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return r.q.QueryRowContext(ctx, r.rebind(query), args...)
}

func noRebind(q string) string { return q }

// dollarRebind turns `?` placeholders into PostgreSQL's `$n`, remembering
// each query it has seen (the set of queries is small and fixed).
func dollarRebind() func(string) string {
	var cache sync.Map
	return func(q string) string {
		if v, ok := cache.Load(q); ok {
			return v.(string)
		}
		s := toDollars(q)
		cache.Store(q, s)
		return s
	}
}

// toDollars numbers q's `?` placeholders $1, $2, … in order.
func toDollars(q string) string {
	out := make([]byte, 0, len(q)+8)
	n := 0
	inString := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			inString = !inString
		case c == '?' && !inString:
			n++
			out = append(out, '$')
			out = fmt.Appendf(out, "%d", n)
			continue
		}
		out = append(out, c)
	}
	return string(out)
}

// stmtCache keeps the write pool's prepared statements across
// transactions: on SQLite preparing a statement costs as much as running a
// small one, and the multi-row INSERTs of a batch of events cost more. The
// write pool has a second connection for preparing while the first holds a
// transaction; database/sql then prepares each statement once more on each
// connection that runs it, and keeps it.
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// maxCachedStmts bounds the cache; the write path uses a few dozen.
const maxCachedStmts = 512

func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.m[query]; st != nil {
		return st, nil
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if len(c.m) < maxCachedStmts {
		c.m[query] = st
	}
	return st, nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
}

// stmtTx runs a transaction's queries as cached prepared statements.
type stmtTx struct {
	tx    *sql.Tx
	cache *stmtCache
	stmts map[string]*sql.Stmt // this transaction's handles
}

func (c *stmtTx) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st := c.stmts[query]; st != nil {
		return st, nil
	}
	var st *sql.Stmt
	if shared, err := c.cache.get(ctx, query); err == nil {
		st = c.tx.StmtContext(ctx, shared)
	} else {
		// The other connection cannot see what this transaction created
		// (a migration's tables): prepare here, for this transaction only.
		if st, err = c.tx.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
	}
	c.stmts[query] = st
	return st, nil
}

func (c *stmtTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if strings.Contains(query, ";") {
		// A script (a migration): a prepared statement would run only
		// its first statement.
		return c.tx.ExecContext(ctx, query, args...)
	}
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (c *stmtTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (c *stmtTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return c.tx.QueryRowContext(ctx, query, args...) // reports the same error
	}
	return st.QueryRowContext(ctx, args...)
}

// Erased tells the database that committed writes erased text: Purge then
// has work to do, and Purges hears of it.
func (db *DB) Erased() {
	db.erased.Store(true)
	select {
	case db.purges <- struct{}{}:
	default:
	}
}

// Purges is told when text was erased and Purge has work to do.
func (db *DB) Purges() <-chan struct{} { return db.purges }

// Purge takes erased text out of the database's files, if any was erased
// since the last Purge that succeeded (spec/accept.md, "Storage"). On
// SQLite deleted rows are zeroed as they are deleted (secure_delete); the
// full-text index keeps the words of a deleted message in older segments
// until they merge, so Purge merges the index into one, then checkpoints
// the write-ahead log and truncates it. On PostgreSQL old row versions
// keep erased text until VACUUM, which Purge runs on the tables that held
// it; what VACUUM frees is overwritten as pages are reused, and only VACUUM
// FULL rewrites a table. A failed Purge returns its error and leaves the
// work for the next one.
func (db *DB) Purge(ctx context.Context) error {
	if !db.erased.Swap(false) {
		return nil
	}
	var err error
	switch db.driver {
	case SQLite:
		err = db.purgeSQLite(ctx)
	case Postgres:
		for _, table := range []string{"messages", "events", "message_attachments"} {
			if _, err = db.write.ExecContext(ctx, `VACUUM `+table); err != nil {
				err = fmt.Errorf("storage: vacuum %s: %w", table, err)
				break
			}
		}
	}
	if err != nil {
		db.erased.Store(true)
	}
	return err
}

func (db *DB) purgeSQLite(ctx context.Context) error {
	if err := db.Write(ctx, func(q Querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO messages_fts (messages_fts) VALUES ('optimize')`)
		return err
	}); err != nil {
		return fmt.Errorf("storage: merge the text index: %w", err)
	}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("storage: checkpoint: %w", err)
	}
	defer conn.Close()
	// Writes wait while it runs: give up soon rather than wait for readers,
	// and let the maintenance try again.
	if _, err := conn.ExecContext(ctx, `PRAGMA busy_timeout = 100`); err != nil {
		return fmt.Errorf("storage: checkpoint: %w", err)
	}
	defer conn.ExecContext(context.Background(), `PRAGMA busy_timeout = `+sqliteBusyTimeout)
	var busy, frames, done int
	if err := conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &frames, &done); err != nil {
		return fmt.Errorf("storage: checkpoint: %w", err)
	}
	if busy != 0 {
		// A reader holds an old snapshot: the log still has pages the
		// database file does not.
		return fmt.Errorf("storage: checkpoint: %d of %d frames written, a reader is in the way", done, frames)
	}
	return nil
}

// likeEscaper escapes LIKE's wildcards, with \ as the escape character.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// LikePrefix is the LIKE pattern matching text that starts with s, for a
// query that says ESCAPE '\': s's own % and _ match only themselves.
func LikePrefix(s string) string { return likeEscaper.Replace(s) + "%" }
