package node

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"concord/storage/storagetest"
)

// testConfig is the default config on a temp data dir and a free port.
func testConfig(t *testing.T) Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Node.DataDir = t.TempDir()
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Federation.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.Federation.MDNS = false
	return cfg
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// startNode builds and runs a node until the test ends, and checks that it
// then shuts down cleanly.
func startNode(t *testing.T, cfg Config) *Node {
	t.Helper()
	n, err := New(t.Context(), cfg, testLogger(t))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return n
}

func get(t *testing.T, client *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestNodeHealthOnEveryBackend(t *testing.T) {
	for name, sc := range storagetest.Backends(t) {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.Storage.Driver, cfg.Storage.DSN = sc.Driver, sc.DSN
			n := startNode(t, cfg)
			code, body := get(t, http.DefaultClient, n.URL()+"/health")
			var got map[string]string
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			if code != http.StatusOK || got["status"] != "ok" || got["storage"] != "ok" || got["version"] != Version {
				t.Errorf("GET /health = %d %s", code, body)
			}
		})
	}
}

func TestNodeDefaults(t *testing.T) {
	cfg := testConfig(t)
	n := startNode(t, cfg)
	if !strings.HasPrefix(n.URL(), "http://127.0.0.1:") || strings.HasSuffix(n.URL(), ":0") {
		t.Errorf("URL() = %q, want the bound loopback address", n.URL())
	}
	for _, name := range []string{"node.key", "concord.db"} {
		if _, err := os.Stat(filepath.Join(cfg.Node.DataDir, name)); err != nil {
			t.Errorf("data dir lacks %s: %v", name, err)
		}
	}
	if n.PeerID() == "" {
		t.Error("no peer ID")
	}
}

func TestNodeKeepsIdentity(t *testing.T) {
	cfg := testConfig(t)
	first, err := New(t.Context(), cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	id := first.PeerID()
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	second, err := New(t.Context(), cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if second.PeerID() != id {
		t.Errorf("peer ID changed across restarts: %s then %s", id, second.PeerID())
	}
}

func TestMetrics(t *testing.T) {
	n := startNode(t, testConfig(t))
	get(t, http.DefaultClient, n.URL()+"/health")
	get(t, http.DefaultClient, n.URL()+"/no/such/path/12345")
	code, body := get(t, http.DefaultClient, n.URL()+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics = %d", code)
	}
	for _, want := range []string{
		`http_requests_total{method="GET",route="/health",status="200"} 1`,
		`http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`http_request_duration_seconds_count{method="GET",route="/health",status="200"} 1`,
		"go_goroutines ",
		"process_resident_memory_bytes ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(body, "12345") {
		t.Error("/metrics labels a raw path")
	}
}

// With [http] metrics_token, /metrics answers only that bearer.
func TestMetricsToken(t *testing.T) {
	cfg := testConfig(t)
	cfg.HTTP.MetricsToken = "s3cret"
	n := startNode(t, cfg)
	for _, c := range []struct {
		auth string
		want int
	}{{"", 401}, {"Bearer wrong", 401}, {"Bearer s3cret", 200}} {
		req, _ := http.NewRequest("GET", n.URL()+"/metrics", nil)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("GET /metrics with %q: %d, want %d", c.auth, resp.StatusCode, c.want)
		}
	}
}

func TestShutdownDrainsRequests(t *testing.T) {
	n, err := New(t.Context(), testConfig(t), testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	n.router.Get("/slow", func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		io.WriteString(w, "done")
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()

	type result struct {
		code int
		body string
		err  error
	}
	resc := make(chan result, 1)
	go func() {
		resp, err := http.Get(n.URL() + "/slow")
		if err != nil {
			resc <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		resc <- result{resp.StatusCode, string(b), err}
	}()
	<-started
	cancel()
	if res := <-resc; res.err != nil || res.code != http.StatusOK || res.body != "done" {
		t.Errorf("in-flight request: %+v", res)
	}
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if _, err := net.DialTimeout("tcp", n.Addr().String(), time.Second); err == nil {
		t.Error("listener still accepts after shutdown")
	}
}

func TestShutdownTimeout(t *testing.T) {
	cfg := testConfig(t)
	cfg.HTTP.ShutdownTimeout = 100 * time.Millisecond
	n, err := New(t.Context(), cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	started, release := make(chan struct{}), make(chan struct{})
	n.router.Get("/stuck", func(w http.ResponseWriter, r *http.Request) {
		close(started)
		select {
		case <-release:
		case <-r.Context().Done(): // the forced close cancels it
		}
	})
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	reqDone := make(chan struct{})
	go func() {
		defer close(reqDone)
		if resp, err := http.Get(n.URL() + "/stuck"); err == nil {
			resp.Body.Close()
		}
	}()
	<-started
	start := time.Now()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("shutdown took %v with a 100ms timeout", d)
	}
	<-reqDone
}

func TestTLSFromFiles(t *testing.T) {
	cfg := testConfig(t)
	certPEM := writeSelfSigned(t, &cfg)
	n := startNode(t, cfg)
	if !strings.HasPrefix(n.URL(), "https://") {
		t.Fatalf("URL() = %q, want https", n.URL())
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	for _, tt := range []struct {
		name    string
		max     uint16
		wantErr bool
	}{
		{"tls1.3", tls.VersionTLS13, false},
		{"tls1.2", tls.VersionTLS12, false},
		{"tls1.1 refused", tls.VersionTLS11, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
				RootCAs: pool, MinVersion: tls.VersionTLS10, MaxVersion: tt.max,
			}}}
			defer client.CloseIdleConnections()
			resp, err := client.Get(n.URL() + "/health")
			if tt.wantErr {
				if err == nil {
					resp.Body.Close()
					t.Fatal("handshake succeeded")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || resp.TLS.Version != tt.max {
				t.Errorf("status %d, TLS version %x", resp.StatusCode, resp.TLS.Version)
			}
		})
	}
}

// writeSelfSigned writes a certificate for 127.0.0.1 and its key into the
// data dir, points cfg at them, and returns the certificate PEM.
func writeSelfSigned(t *testing.T, cfg *Config) []byte {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "concord test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	cfg.HTTP.TLSCert = filepath.Join(t.TempDir(), "cert.pem")
	cfg.HTTP.TLSKey = filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(cfg.HTTP.TLSCert, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg.HTTP.TLSKey, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPEM
}

func TestACMESetup(t *testing.T) {
	cfg := testConfig(t)
	cfg.HTTP.ACMEDomains = []string{"chat.example.org"}
	cfg.HTTP.ACMEHTTPListen = "127.0.0.1:0"
	n := startNode(t, cfg)
	if got := n.tls.config.NextProtos; !strings.Contains(strings.Join(got, ","), "acme-tls/1") {
		t.Errorf("NextProtos = %v, want acme-tls/1 for TLS-ALPN-01", got)
	}
	if !strings.HasPrefix(n.URL(), "https://chat.example.org:") {
		t.Errorf("URL() = %q", n.URL())
	}
	// The HTTP-01 listener redirects everything but challenges to https.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get("http://" + n.acmeListener.Addr().String() + "/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Errorf("acme_http_listen answered %d, want a redirect", resp.StatusCode)
	}
}

func TestNewErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"invalid", func(c *Config) { c.Log.Level = "loud" }, "config: log.level"},
		{"data dir under a file", func(c *Config) { c.Node.DataDir = filepath.Join(file, "data") }, "data dir: "},
		{"port taken", func(c *Config) { c.HTTP.Listen = busy.Addr().String() }, "http.listen: "},
		{"missing cert", func(c *Config) { c.HTTP.TLSCert, c.HTTP.TLSKey = "/nonexistent/c.pem", "/nonexistent/k.pem" },
			"http.tls_cert/tls_key: "},
		{"postgres unreachable", func(c *Config) {
			c.Storage.Driver, c.Storage.DSN = "postgres", "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"
		}, "storage: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t)
			tt.change(&cfg)
			n, err := New(t.Context(), cfg, testLogger(t))
			if err == nil {
				n.Close()
				t.Fatal("New succeeded")
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("err = %q, want prefix %q", err, tt.want)
			}
		})
	}
}

func TestHealthUnavailable(t *testing.T) {
	ping := func(ctx context.Context) error { return errors.New("database is on fire") }
	srv := http.Server{Handler: health(slog.New(slog.DiscardHandler), ping)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	code, body := get(t, http.DefaultClient, "http://"+ln.Addr().String()+"/health")
	if code != http.StatusServiceUnavailable || strings.Contains(body, "fire") || !strings.Contains(body, `"storage":"unavailable"`) {
		t.Errorf("GET /health = %d %s", code, body)
	}
}

// A ping that hangs must not hang the probe.
func TestHealthTimeout(t *testing.T) {
	ping := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	srv := http.Server{Handler: health(slog.New(slog.DiscardHandler), ping)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	start := time.Now()
	code, _ := get(t, http.DefaultClient, "http://"+ln.Addr().String()+"/health")
	if code != http.StatusServiceUnavailable || time.Since(start) > healthTimeout+time.Second {
		t.Errorf("GET /health = %d after %v", code, time.Since(start))
	}
}

func TestIsLoopback(t *testing.T) {
	for listen, want := range map[string]bool{
		"127.0.0.1:8080": true, "[::1]:80": true, "localhost:1": true,
		":8080": false, "0.0.0.0:80": false, "[::]:80": false, "10.0.0.1:80": false, "example.org:80": false,
	} {
		if got := isLoopback(listen); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", listen, got, want)
		}
	}
}

func TestPlainHTTPWarning(t *testing.T) {
	for listen, want := range map[string]bool{"127.0.0.1:0": false, "0.0.0.0:0": true} {
		var logs syncBuffer
		cfg := testConfig(t)
		cfg.HTTP.Listen = listen
		n, err := New(t.Context(), cfg, slog.New(slog.NewTextHandler(&logs, nil)))
		if err != nil {
			t.Fatal(err)
		}
		n.Close()
		if got := strings.Contains(logs.String(), "plain HTTP"); got != want {
			t.Errorf("listen %s: warned %v, want %v; logs:\n%s", listen, got, want, logs.String())
		}
	}
}

// A restarted node serves a channel before anything changes a channel:
// the cache of which rooms hold a channel ID starts empty, not broken.
func TestRestartServesChannels(t *testing.T) {
	cfg := testConfig(t)
	var token, channel string
	t.Run("first run", func(t *testing.T) {
		n := startNode(t, cfg)
		_, token = register(t, n.URL(), "rhea")
		var g, ch struct {
			ID string `json:"id"`
		}
		api(t, n.URL(), "POST", "/guilds", token, map[string]string{"name": "kept"}, &g)
		api(t, n.URL(), "POST", "/guilds/"+g.ID+"/channels", token, map[string]any{"name": "chat"}, &ch)
		api(t, n.URL(), "POST", "/channels/"+ch.ID+"/messages", token, map[string]string{"content": "before"}, nil)
		channel = ch.ID
	})
	n := startNode(t, cfg)
	var msgs []struct {
		Content string `json:"content"`
	}
	api(t, n.URL(), "GET", "/channels/"+channel+"/messages", token, nil, &msgs)
	if len(msgs) != 1 || msgs[0].Content != "before" {
		t.Errorf("after the restart the channel holds %+v", msgs)
	}
}
