package auth

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"concord/federation/snowflake"
	"concord/storage"
	"concord/storage/storagetest"
)

// benchService returns a service on SQLite with one user holding one
// session, and that session's access token.
func benchService(b *testing.B) (*Service, string) {
	db := storagetest.Open(b, storage.Config{Driver: storage.SQLite, DSN: filepath.Join(b.TempDir(), "db")})
	s, err := New(Config{KeyDir: b.TempDir(), Issuer: "bench"}, db, snowflake.NewGenerator(1))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var pair Pair
	err = db.Write(ctx, func(q storage.Querier) error {
		if _, err := q.ExecContext(ctx, `INSERT INTO users (id, username, created_at) VALUES (1, 'bench', 0)`); err != nil {
			return err
		}
		pair, err = s.StartSession(ctx, q, 1, "", "")
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return s, pair.Token
}

// BenchmarkVerifyCold is one RS256 verification with claim checks: the
// cost of a token's first use.
func BenchmarkVerifyCold(b *testing.B) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	s, tok := benchService(b)
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.tokens.verifySlow(tok, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkAuthenticateCached is a repeat request: token from the cache,
// session liveness from the session cache.
func BenchmarkAuthenticateCached(b *testing.B) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	s, tok := benchService(b)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Authenticate(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}
