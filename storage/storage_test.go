package storage_test

import (
	"context"
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"concord/storage"
	"concord/storage/storagetest"
)

func TestMigrateAndMeta(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		if _, ok, err := db.Meta(ctx, "missing"); ok || err != nil {
			t.Fatalf("Meta(missing) = ok %v, err %v", ok, err)
		}
		for _, v := range []string{"one", "two"} {
			if err := db.SetMeta(ctx, "k", v); err != nil {
				t.Fatal(err)
			}
			got, ok, err := db.Meta(ctx, "k")
			if err != nil || !ok || got != v {
				t.Fatalf("Meta(k) = %q %v %v, want %q", got, ok, err, v)
			}
		}
		var version int
		if err := db.Reader().QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&version); err != nil {
			t.Fatal(err)
		}
		if version != storage.SchemaVersion() {
			t.Fatalf("schema version %d, want %d", version, storage.SchemaVersion())
		}
	})
}

func TestWriteRollsBack(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		boom := errors.New("boom")
		err := db.Write(ctx, func(q storage.Querier) error {
			if _, err := q.ExecContext(ctx, `INSERT INTO node_meta (key, value) VALUES (?, ?)`, "half", "written"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Write = %v, want boom", err)
		}
		if _, ok, _ := db.Meta(ctx, "half"); ok {
			t.Fatal("a failed write left a row behind")
		}
	})
}

func TestConcurrentWriters(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make(chan error, 200)
		for i := range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- db.Write(ctx, func(q storage.Querier) error {
					_, err := q.ExecContext(ctx, `INSERT INTO node_meta (key, value) VALUES (?, ?)`, "k"+strings.Repeat("x", i), "v")
					return err
				})
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		var n int
		if err := db.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM node_meta`).Scan(&n); err != nil || n != 200 {
			t.Fatalf("count = %d, %v", n, err)
		}
	})
}

func TestRefusesNewerSchema(t *testing.T) {
	for name, cfg := range storagetest.Backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := storagetest.Open(t, cfg)
			if err := db.Write(ctx, func(q storage.Querier) error {
				_, err := q.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', 0)`, storage.SchemaVersion()+1)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			db.Close()
			_, err := storage.Open(ctx, cfg)
			if !errors.Is(err, storage.ErrNewerSchema) {
				t.Fatalf("Open = %v, want ErrNewerSchema", err)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	// Open retries an unreachable PostgreSQL until its context ends.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, cfg := range []storage.Config{
		{Driver: "mysql", DSN: "x"},
		{Driver: storage.SQLite},
		{Driver: storage.Postgres, DSN: "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"},
	} {
		if db, err := storage.Open(ctx, cfg); err == nil {
			db.Close()
			t.Errorf("Open(%+v) succeeded", cfg)
		}
	}
}

func TestReaderCannotWrite(t *testing.T) {
	ctx := context.Background()
	db := storagetest.Open(t, storage.Config{Driver: storage.SQLite, DSN: filepath.Join(t.TempDir(), "c.db")})
	_, err := db.Reader().ExecContext(ctx, `INSERT INTO node_meta (key, value) VALUES ('a', 'b')`)
	if err == nil {
		t.Fatal("reader wrote")
	}
}

// A purge that cannot finish (a reader holds an old snapshot of the
// log) reports it, keeps its work, and the next purge does it.
func TestPurgeReportsAndRetries(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		if err := db.Purge(ctx); err != nil {
			t.Fatalf("purge with nothing erased: %v", err)
		}
		db.Erased()
		select {
		case <-db.Purges():
		default:
			t.Fatal("Erased told nobody")
		}
		if db.Driver() == storage.SQLite {
			if err := db.SetMeta(ctx, "k", "v"); err != nil {
				t.Fatal(err)
			}
			rows, err := db.Reader().QueryContext(ctx, `SELECT key FROM node_meta`) // holds a snapshot while open
			if err != nil {
				t.Fatal(err)
			}
			rows.Next()
			if err := db.SetMeta(ctx, "k", "w"); err != nil { // the log now has a page the reader must not lose
				t.Fatal(err)
			}
			short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			err = db.Purge(short)
			cancel()
			rows.Close()
			if err == nil {
				t.Fatal("purge under an open reader succeeded")
			}
		}
		if err := db.Purge(ctx); err != nil {
			t.Fatalf("purge again: %v", err)
		}
	})
}

// TestPostgresMinConns: min_conns read connections are open as soon as
// Open returns.
func TestPostgresMinConns(t *testing.T) {
	cfg, ok := storagetest.Backends(t)[storage.Postgres]
	if !ok {
		t.Skip(storagetest.EnvPostgres + " is not set")
	}
	app := "warm_" + strings.ReplaceAll(t.Name(), "/", "_")
	cfg.DSN += "&application_name=" + app
	cfg.MinConns = 6
	db := storagetest.Open(t, cfg)
	var n int
	if err := db.Reader().QueryRowContext(context.Background(),
		`SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = ?`, app).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n < cfg.MinConns {
		t.Fatalf("%d connections open after Open, want at least %d", n, cfg.MinConns)
	}
}

// TestOpenWrongPassword: a server that answers with an error is not tried
// again.
func TestOpenWrongPassword(t *testing.T) {
	cfg, ok := storagetest.Backends(t)[storage.Postgres]
	if !ok {
		t.Skip(storagetest.EnvPostgres + " is not set")
	}
	u, err := url.Parse(cfg.DSN)
	if err != nil {
		t.Skip("the test DSN is not a URL")
	}
	u.User = url.UserPassword(u.User.Username(), "not the password")
	cfg.DSN = u.String()
	start := time.Now()
	if db, err := storage.Open(context.Background(), cfg); err == nil {
		db.Close()
		t.Fatal("Open succeeded with a wrong password")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Open took %v to give up on a wrong password", d)
	}
}
