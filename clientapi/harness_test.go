package clientapi

// The client API's end-to-end tests live with the package that mounts its
// parts: they drive the assembled routes over HTTP, and the gateway with
// discordgo, as Discord's clients do, whichever part serves a route. Each
// part's own package tests what only it can see.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/prometheus/client_golang/prometheus"

	"concord/clientapi/accounts"
	"concord/clientapi/auth"
	"concord/clientapi/dispatch"
	"concord/clientapi/gateway"
	"concord/clientapi/guilds"
	"concord/clientapi/interactions"
	"concord/clientapi/objects"
	"concord/clientapi/password"
	"concord/clientapi/ratelimit"
	"concord/clientapi/signedurl"
	"concord/federation/live"
	"concord/federation/room"
	"concord/federation/snowflake"
	"concord/storage"
	"concord/storage/blob"
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

func (r *recorder) UserEvent(to snowflake.ID, typ string, _ any) {
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

// harness is the client API as node wires it, on an httptest server:
// accounts and guild routes over a real event core and database, and a
// gateway (served at /gateway) whose translator startGateway starts.
type harness struct {
	t        testing.TB
	srv      *httptest.Server
	db       *storage.DB
	clock    *clock
	events   *recorder // user events from the account routes
	dataDir  string
	core     *room.Core
	live     *live.Hub
	auth     *auth.Service
	blobs    blob.Store
	objects  *objects.Renderer
	deps     dispatch.Deps
	gw       *gateway.Gateway
	guilds   *guilds.API
	bots     *botSwitch
	accounts *accounts.API
}

// testConfig is what a test may change about the harness.
type testConfig struct {
	PublicURL      string
	AuthPerMinute  int
	APIPerMinute   int
	MessagesPer10s int
	MaxUploadBytes int64
	// WebhookMessagesPer2s is what one webhook may post per 2 seconds.
	WebhookMessagesPer2s int
	KeyMaxAge            time.Duration
	Argon2               password.Params
	TrustedProxies       []string
	Registration         string
	RegistrationsPerDay  int
}

type harnessOpt func(*testConfig)

// botSwitch lets a test put its own guild layer behind OAuth2.
type botSwitch struct {
	mu sync.Mutex
	to accounts.BotAdder
}

func (b *botSwitch) set(to accounts.BotAdder) { b.mu.Lock(); b.to = to; b.mu.Unlock() }

func (b *botSwitch) AddBot(ctx context.Context, guildID, bot, actor snowflake.ID, perms uint64) error {
	b.mu.Lock()
	to := b.to
	b.mu.Unlock()
	return to.AddBot(ctx, guildID, bot, actor, perms)
}

func newHarness(t testing.TB, db *storage.DB, opts ...harnessOpt) *harness {
	t.Helper()
	h := &harness{t: t, db: db, clock: &clock{t: time.Now()}, events: &recorder{}, dataDir: t.TempDir()}
	cfg := testConfig{AuthPerMinute: 1000, APIPerMinute: 1000, RegistrationsPerDay: 1000, Argon2: cheap}
	for _, o := range opts {
		o(&cfg)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := prometheus.NewRegistry()
	ids := snowflake.NewGenerator(1)
	key, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	if h.core, err = room.New(db, key, ids, log); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.core.Close() })
	h.live = live.New(0)
	t.Cleanup(h.live.Close)
	if h.blobs, err = blob.NewLocal(filepath.Join(h.dataDir, "blobs")); err != nil {
		t.Fatal(err)
	}
	h.auth, err = auth.New(auth.Config{KeyDir: filepath.Join(h.dataDir, "jwt"), Issuer: "https://concord.test",
		KeyMaxAge: cfg.KeyMaxAge, Now: h.clock.Now, Log: log}, db, ids)
	if err != nil {
		t.Fatal(err)
	}
	// The server's address goes into the gateway's URL, so it starts first.
	var router chi.Router
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { router.ServeHTTP(w, r) }))
	t.Cleanup(h.srv.Close)
	signer, err := signedurl.Open(h.dataDir, h.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	h.objects = objects.NewRenderer(db.Reader(), cfg.PublicURL, signer)
	h.deps = dispatch.Deps{Auth: h.auth, DB: db, Core: h.core, Objects: h.objects, Live: h.live, Now: h.clock.Now}
	provider, err := dispatch.NewProvider(h.deps)
	if err != nil {
		t.Fatal(err)
	}
	gatewayURL := gateway.PublicURL(h.srv.URL)
	if h.gw, err = gateway.New(gateway.Config{PublicURL: gatewayURL, ClientKey: ClientKey}, provider, h.live, log, reg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.gw.Close)
	h.guilds, err = guilds.New(guilds.Config{DataDir: h.dataDir, MessagesPer10s: cfg.MessagesPer10s, MaxUploadBytes: cfg.MaxUploadBytes,
		WebhookMessagesPer2s: cfg.WebhookMessagesPer2s, Now: h.clock.Now}, guilds.Deps{DB: db, Log: log, Metrics: reg, IDs: ids, Core: h.core, Blobs: h.blobs, Objects: h.objects, Live: h.live, Signer: signer})
	if err != nil {
		t.Fatal(err)
	}
	h.bots = &botSwitch{to: h.guilds}
	h.accounts, err = accounts.New(accounts.Config{Issuer: "https://concord.test", Argon2: cfg.Argon2,
		RefreshPerMinute: cfg.AuthPerMinute, Registration: cfg.Registration, RegistrationsPerDay: cfg.RegistrationsPerDay, Now: h.clock.Now},
		accounts.Deps{DB: db, Log: log, Metrics: reg, IDs: ids, Auth: h.auth, Blobs: h.blobs, Bots: h.bots, Events: h.events, Live: h.gw, Invites: h.guilds, Users: h.objects})
	if err != nil {
		t.Fatal(err)
	}
	bots, err := interactions.New(interactions.Config{Now: h.clock.Now}, interactions.Deps{DB: db, Log: log, IDs: ids, Core: h.core,
		Guilds: h.guilds, Objects: h.objects, Events: h.gw})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bots.Close() })
	proxies, err := ratelimit.ParseProxies(cfg.TrustedProxies)
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	err = Mount(r, Config{AuthPerMinute: cfg.AuthPerMinute, APIPerMinute: cfg.APIPerMinute, GatewayURL: gatewayURL,
		Proxies: proxies, Now: h.clock.Now},
		Parts{Auth: h.auth, Accounts: h.accounts, Guilds: h.guilds, Interactions: bots, Gateway: h.gw})
	if err != nil {
		t.Fatal(err)
	}
	router = r
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
