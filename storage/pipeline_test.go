package storage_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"concord/storage"
	"concord/storage/storagetest"
)

// A pipelined write stores what its statements say, values of every kind
// byte for byte, lets a query see the statements before it, and leaves
// nothing behind when a statement or fn fails; the connection serves the
// next write.
func TestPipeline(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		blob := "BLOB"
		if db.Driver() == storage.Postgres {
			blob = "BYTEA"
		}
		if err := db.Write(ctx, func(q storage.Querier) error {
			_, err := q.ExecContext(ctx, `CREATE TABLE pipe (k TEXT PRIMARY KEY, t TEXT NOT NULL, b `+blob+` NOT NULL, n BIGINT NOT NULL, f BOOLEAN NOT NULL)`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		text := "it's a \\ back'slash; -- and $1 ? 'quote' ünïcode 🎉\n\ttab"
		body := []byte{0, 1, '\'', '\\', 0xff, 'x'}
		insert := `INSERT INTO pipe (k, t, b, n, f) VALUES (?, ?, ?, ?, ?)`
		err := db.Pipeline(ctx, func(q storage.Querier) error {
			if _, err := q.ExecContext(ctx, insert, "a", text, body, int64(-1<<62), true); err != nil {
				return err
			}
			var n int
			if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM pipe WHERE k = ?`, "a").Scan(&n); err != nil || n != 1 {
				t.Errorf("a query in the pipeline sees %d rows (%v), want 1", n, err)
			}
			_, err := q.ExecContext(ctx, insert, "b", "", []byte{}, int64(0), false)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var gotText string
		var gotBody []byte
		var gotN int64
		var gotF bool
		if err := db.Reader().QueryRowContext(ctx, `SELECT t, b, n, f FROM pipe WHERE k = ?`, "a").Scan(&gotText, &gotBody, &gotN, &gotF); err != nil {
			t.Fatal(err)
		}
		if gotText != text || !bytes.Equal(gotBody, body) || gotN != -1<<62 || !gotF {
			t.Errorf("stored %q %x %d %v", gotText, gotBody, gotN, gotF)
		}

		// A statement the server refuses (a duplicate key) fails the whole
		// write, however far fn got.
		err = db.Pipeline(ctx, func(q storage.Querier) error {
			q.ExecContext(ctx, insert, "c", "x", []byte{1}, int64(1), true)
			q.ExecContext(ctx, insert, "a", "dup", []byte{1}, int64(1), true)
			_, err := q.ExecContext(ctx, insert, "d", "x", []byte{1}, int64(1), true)
			return err
		})
		if err == nil {
			t.Fatal("a pipeline with a duplicate key succeeded")
		}
		boom := errors.New("boom")
		if err := db.Pipeline(ctx, func(q storage.Querier) error {
			q.ExecContext(ctx, insert, "e", "x", []byte{1}, int64(1), true)
			return boom
		}); !errors.Is(err, boom) {
			t.Fatalf("Pipeline = %v, want boom", err)
		}
		var n int
		if err := db.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM pipe`).Scan(&n); err != nil || n != 2 {
			t.Fatalf("%d rows after the failed pipelines (%v), want 2", n, err)
		}
		if err := db.Pipeline(ctx, func(q storage.Querier) error {
			_, err := q.ExecContext(ctx, insert, "f", "after", []byte{2}, int64(2), false)
			return err
		}); err != nil {
			t.Fatalf("the write after a failed one: %v", err)
		}
	})
}
