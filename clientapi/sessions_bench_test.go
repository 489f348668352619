package clientapi

import (
	"path/filepath"
	"testing"

	"concord/clientapi/password"
	"concord/storage"
	"concord/storage/storagetest"
)

// BenchmarkLogin is one password login through the HTTP handler with the
// production Argon2id parameters (password.Default) on SQLite.
func BenchmarkLogin(b *testing.B) {
	db := storagetest.Open(b, storage.Config{Driver: storage.SQLite, DSN: filepath.Join(b.TempDir(), "db")})
	h := newHarness(b, db, func(c *testConfig) {
		c.Argon2 = password.Default
		c.AuthPerMinute = 1 << 30
	})
	h.register("bench")
	body := map[string]any{"login": "bench", "password": "correct horse battery"}
	b.ResetTimer()
	for b.Loop() {
		if st, resp := h.do("POST", "/auth/login", "", body); st != 200 {
			b.Fatalf("login: %d %s", st, resp)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
}
