// Package storagetest runs a test against every storage backend: SQLite
// always, PostgreSQL when CONCORD_TEST_POSTGRES holds a URL (CI always sets
// it). Each run gets an empty database of its own. Only tests import it.
package storagetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"concord/storage"
)

// EnvPostgres names the variable holding the PostgreSQL test URL.
const EnvPostgres = "CONCORD_TEST_POSTGRES"

// Backends lists the storage configs a test should run against. For
// PostgreSQL each call creates a fresh schema, dropped when the test ends.
func Backends(t testing.TB) map[string]storage.Config {
	t.Helper()
	out := map[string]storage.Config{
		storage.SQLite: {Driver: storage.SQLite, DSN: filepath.Join(t.TempDir(), "concord.db")},
	}
	if base := os.Getenv(EnvPostgres); base != "" {
		out[storage.Postgres] = storage.Config{Driver: storage.Postgres, DSN: freshSchema(t, base), MaxConns: 20, MinConns: 2}
	}
	return out
}

// Open opens a migrated database for one backend config and closes it when
// the test ends.
func Open(t testing.TB, cfg storage.Config) *storage.DB {
	t.Helper()
	db, err := storage.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open %s: %v", cfg.Driver, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Each runs fn as a subtest once per backend, with a fresh database.
func Each(t *testing.T, fn func(t *testing.T, db *storage.DB)) {
	t.Helper()
	for name, cfg := range Backends(t) {
		t.Run(name, func(t *testing.T) { fn(t, Open(t, cfg)) })
	}
}

// freshSchema creates an empty schema and returns base with search_path set
// to it, so parallel tests never see each other's tables.
func freshSchema(t testing.TB, base string) string {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("postgres %s: create schema: %v", redact(base), err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer admin.Close()
		admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
	})
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" {
		return strings.TrimSpace(base) + " search_path=" + schema
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		u.User = url.User(u.User.Username())
		return u.String()
	}
	return "(dsn)"
}
