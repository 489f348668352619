package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Pipeline is Write for a caller that never reads an Exec's result: on
// PostgreSQL its statements are not sent one at a time but together, with
// the transaction's BEGIN, before the next query fn runs and with the
// COMMIT. A batch of events that only inserts then costs one round trip to
// the server instead of one per statement, which is what a commit waits
// for when the machine is busy. An Exec answers nil at once; its error, if
// any, is the next query's or Pipeline's, and the transaction is rolled
// back. On SQLite, in the process, Pipeline is Write, and a failed Exec
// fails it too, whatever fn made of the error.
func (db *DB) Pipeline(ctx context.Context, fn func(q Querier) error) error {
	if db.driver != Postgres {
		return db.Write(ctx, func(q Querier) error {
			r := &firstError{Querier: q}
			if err := fn(r); err != nil {
				return err
			}
			return r.err
		})
	}
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("storage: begin: %w", err)
	}
	defer conn.Close()
	p := &pipeline{conn: conn, pending: []string{"BEGIN"}}
	err = fn(p)
	if err == nil && p.err == nil {
		p.pending = append(p.pending, "COMMIT")
		err = p.flush(ctx)
	}
	if err == nil {
		err = p.err
	}
	if err != nil {
		if p.sent {
			// A failed statement leaves the transaction aborted (or the
			// connection broken, which Close then discards).
			if _, rerr := conn.ExecContext(context.Background(), "ROLLBACK"); rerr != nil {
				conn.Raw(func(any) error { return driver.ErrBadConn })
			}
		}
		return err
	}
	return nil
}

// pipeline queues a transaction's statements on one PostgreSQL connection.
type pipeline struct {
	conn    *sql.Conn
	pending []string // statements with `?` placeholders, in order
	args    []any
	sent    bool  // BEGIN has gone out
	err     error // the first failure, which ends the transaction
}

func (p *pipeline) ExecContext(_ context.Context, query string, args ...any) (sql.Result, error) {
	if p.err != nil {
		return nil, p.err
	}
	p.pending = append(p.pending, query)
	p.args = append(p.args, args...)
	return unknownResult{}, nil
}

func (p *pipeline) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := p.flush(ctx); err != nil {
		return nil, err
	}
	return p.conn.QueryContext(ctx, toDollars(query), args...)
}

func (p *pipeline) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if err := p.flush(ctx); err != nil {
		// The transaction is aborted: the query fails, and says so
		// through the row, as it cannot here.
		return p.conn.QueryRowContext(ctx, "SELECT 1 WHERE FALSE")
	}
	return p.conn.QueryRowContext(ctx, toDollars(query), args...)
}

// flush sends the queued statements as one simple query: pgx writes each
// argument into the text as a quoted literal, which the simple protocol
// needs to carry several statements.
func (p *pipeline) flush(ctx context.Context) error {
	if p.err != nil || len(p.pending) == 0 {
		return p.err
	}
	text := toDollars(strings.Join(p.pending, ";\n"))
	args := append([]any{pgx.QueryExecModeSimpleProtocol}, p.args...)
	p.pending, p.args, p.sent = p.pending[:0], p.args[:0], true
	if _, err := p.conn.ExecContext(ctx, text, args...); err != nil {
		p.err = err
	}
	return p.err
}

// unknownResult is an Exec's result in a pipeline, which is not known
// when the Exec returns.
type unknownResult struct{}

func (unknownResult) LastInsertId() (int64, error) {
	return 0, errors.New("storage: a pipelined statement's result is not known")
}

func (unknownResult) RowsAffected() (int64, error) {
	return 0, errors.New("storage: a pipelined statement's result is not known")
}

// firstError remembers the first error an Exec answered.
type firstError struct {
	Querier
	err error
}

func (f *firstError) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := f.Querier.ExecContext(ctx, query, args...)
	if err != nil && f.err == nil {
		f.err = err
	}
	return res, err
}
