package clientapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/prometheus/client_golang/prometheus"

	"concord/clientapi/auth"
	"concord/clientapi/password"
	"concord/federation/room"
	"concord/federation/snowflake"
	"concord/storage"
)

// cheap keeps test logins fast; the benchmarks use password.Default.
var cheap = password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type event struct {
	to  snowflake.ID
	typ string
}

type recorder struct {
	mu     sync.Mutex
	events []event
}

func (r *recorder) Publish(to snowflake.ID, typ string, _ any) {
	r.mu.Lock()
	r.events = append(r.events, event{to, typ})
	r.mu.Unlock()
}

func (r *recorder) take() []event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

type harness struct {
	t      testing.TB
	api    *API
	core   *room.Core
	srv    *httptest.Server
	db     *storage.DB
	clock  *clock
	events *recorder
}

type harnessOpt func(*Config, *Deps)

func newHarness(t testing.TB, db *storage.DB, opts ...harnessOpt) *harness {
	t.Helper()
	h := &harness{t: t, db: db, clock: &clock{t: time.Now()}, events: &recorder{}}
	cfg := Config{DataDir: t.TempDir(), Issuer: "https://concord.test", AuthPerMinute: 1000, APIPerMinute: 1000, Argon2: cheap, Now: h.clock.Now}
	deps := Deps{DB: db, Metrics: prometheus.NewRegistry(), IDs: snowflake.NewGenerator(1), Events: h.events}
	key, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	if deps.Core, err = room.New(db, key, deps.IDs, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	h.core = deps.Core
	t.Cleanup(func() { h.core.Close() })
	for _, o := range opts {
		o(&cfg, &deps)
	}
	api, err := New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	h.api = api
	r := chi.NewRouter()
	api.Mount(r)
	h.srv = httptest.NewServer(r)
	t.Cleanup(h.srv.Close)
	return h
}

// do sends a request under /api/v10 and returns the status and body.
func (h *harness) do(method, path, token string, body any) (int, []byte) {
	h.t.Helper()
	resp := h.raw(method, "/api/v10"+path, token, body)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (h *harness) raw(method, path, token string, body any) *http.Response {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(b))
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequestWithContext(context.Background(), method, h.srv.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp
}

// want checks status and decodes the body into out (when not nil).
func (h *harness) want(status int, wantStatus int, body []byte, out any) {
	h.t.Helper()
	if status != wantStatus {
		h.t.Fatalf("status %d, want %d; body %s", status, wantStatus, body)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			h.t.Fatalf("decode %s: %v", body, err)
		}
	}
}

func (h *harness) register(username string) auth.Pair {
	h.t.Helper()
	var p auth.Pair
	st, b := h.do("POST", "/auth/register", "", map[string]any{"username": username, "password": "correct horse battery"})
	h.want(st, 201, b, &p)
	return p
}
