package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/go-chi/chi/v5"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus"

	"concord/clientapi/auth"
	"concord/clientapi/dispatch"
	"concord/clientapi/gateway"
	"concord/clientapi/objects"
	"concord/clientapi/signedurl"
	"concord/federation/live"
	"concord/federation/p2p"
	"concord/federation/room"
	"concord/federation/snowflake"
	"concord/sfu"
	"concord/storage"
	"concord/storage/blob"
)

// Version is the release this binary was built from; `make build` sets it
// with -ldflags "-X concord/node.Version=...".
var Version = "dev"

// Node is one running Concord node: every role wired together in one plain
// struct. Components are built in New in dependency order and closed in
// reverse.
type Node struct {
	cfg     Config
	log     *slog.Logger
	key     crypto.PrivKey
	peerID  peer.ID
	db      *storage.DB
	metrics *prometheus.Registry
	router  chi.Router
	events  *room.Core // the one path events enter by
	p2p     *p2p.Host  // federation: the libp2p host on the node key
	fed     *p2p.Federation

	// The client API's parts, built by buildClientAPI, and the blob store
	// they share with the SFU, which build opens for the maintenance.
	auth     *auth.Service   // tokens: the client API's, and WHIP's and WHEP's
	blobs    *blob.Collector // uploads and recordings
	live     *live.Hub       // presence, typing, voice: what the gateway, the SFU and federation share
	gateway  *gateway.Gateway
	render   *objects.Renderer    // renders and caches users for every part
	signer   *signedurl.Signer    // signs and checks CDN URLs
	dispatch *dispatch.Translator // committed events and live state → gateway dispatches
	sfu      *sfu.SFU             // voice channels and screen shares

	tls      tlsSetup
	server   *http.Server
	listener net.Listener
	// acmeServer answers ACME HTTP-01 challenges on [http] acme_http_listen;
	// nil when that is unset.
	acmeServer   *http.Server
	acmeListener net.Listener

	// closers run in reverse order on Close, after HTTP has drained and
	// before storage closes, so components that buffer writes can flush.
	closers   []closer
	closeOnce sync.Once
	closeErr  error
}

type closer struct {
	name  string
	close func() error
}

// New builds a node from a valid configuration: it prepares the data dir,
// loads or creates the node key, opens storage and binds the HTTP listener,
// but serves nothing until Run. Errors name what failed (config, data dir,
// node key, storage, http.listen ...).
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	n := &Node{cfg: cfg, log: log}
	if err := n.build(ctx); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

func (n *Node) build(ctx context.Context) error {
	cfg := n.cfg
	if err := prepareDataDir(cfg.Node.DataDir); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}

	key, created, err := loadOrCreateKey(cfg.keyPath())
	if err != nil {
		return fmt.Errorf("node key: %w", err)
	}
	n.key = key
	if n.peerID, err = peer.IDFromPrivateKey(key); err != nil {
		return fmt.Errorf("node key: %w", err)
	}
	if created {
		n.log.Info("created node key", "path", cfg.keyPath())
	}

	n.db, err = storage.Open(ctx, storage.Config{
		Driver:   cfg.Storage.Driver,
		DSN:      cfg.storageDSN(),
		MaxConns: cfg.Storage.MaxConns,
		MinConns: cfg.Storage.MinConns,
	})
	if errors.Is(err, storage.ErrNewerSchema) {
		return fmt.Errorf("storage: %w; run the newer concord or restore a backup", err)
	}
	if err != nil {
		return err
	}

	n.metrics = newRegistry()
	httpm, err := newHTTPMetrics(n.metrics)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	gc, err := openBlobs(ctx, cfg)
	if err != nil {
		return err
	}
	n.blobs = gc
	sweep, err := newBlobSweep(gc, n.db, cfg.Storage.BlobSweepGrace, n.metrics)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	upkeep, err := startMaintenance(n.db, sweep, cfg.Storage.BlobSweepInterval, n.log, n.metrics)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	n.closers = append(n.closers, closer{"maintenance", upkeep.stop})
	n.router = chi.NewRouter()
	n.router.Use(httpm.middleware)
	n.router.Get("/health", health(n.log, n.db.Ping))
	n.router.Method(http.MethodGet, "/metrics", metricsHandler(n.metrics, n.log, cfg.HTTP.MetricsToken))

	if n.tls, err = newTLS(cfg); err != nil {
		return err
	}
	if n.listener, err = net.Listen("tcp", cfg.HTTP.Listen); err != nil {
		return fmt.Errorf("http.listen: %w", err)
	}

	ids := snowflake.NewGenerator(snowflake.WorkerFor([]byte(n.peerID)))
	if n.events, err = room.New(n.db, key, ids, n.log, room.Options{IdleAfter: cfg.Node.RoomIdleAfter}); err != nil {
		return err
	}
	n.closers = append(n.closers, closer{"events", n.events.Close})
	n.live = live.New(0)
	n.closers = append(n.closers, closer{"live state", func() error { n.live.Close(); return nil }})
	if err := n.buildRenderer(); err != nil {
		return err
	}
	if err := n.buildFederation(); err != nil {
		return fmt.Errorf("federation: %w", err)
	}
	n.mountAdmin()
	if err := n.buildClientAPI(ctx, ids); err != nil {
		return err
	}
	if err := n.buildSFU(); err != nil {
		return fmt.Errorf("sfu: %w", err)
	}
	n.server = newServer(cfg.HTTP, n.router, n.log)
	n.server.TLSConfig = n.tls.config

	if n.tls.acme != nil && cfg.HTTP.ACMEHTTPListen != "" {
		n.acmeServer = newServer(cfg.HTTP, n.tls.acme.HTTPHandler(nil), n.log)
		if n.acmeListener, err = net.Listen("tcp", cfg.HTTP.ACMEHTTPListen); err != nil {
			return fmt.Errorf("http.acme_http_listen: %w", err)
		}
	}
	if n.tls.config == nil && !isLoopback(cfg.HTTP.Listen) {
		n.log.Warn("serving plain HTTP beyond loopback; set http.tls_cert and http.tls_key or http.acme_domains, or put a TLS proxy in front",
			"listen", cfg.HTTP.Listen)
	}
	return nil
}

// prepareDataDir creates dir (private to the node's user) and checks that
// files can be created in it, so that a read-only dir fails at start rather
// than on the first write.
func prepareDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return fmt.Errorf("%s is not writable: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// Addr is the address the HTTP listener is bound to; with port 0 in
// http.listen it carries the port the system picked.
func (n *Node) Addr() net.Addr { return n.listener.Addr() }

// PeerID is the node's libp2p identity, derived from its key.
func (n *Node) PeerID() peer.ID { return n.peerID }

// URL is where users open the node: http.public_url if set, otherwise
// derived from the bound listener.
func (n *Node) URL() string {
	if u := n.cfg.HTTP.PublicURL; u != "" {
		return strings.TrimSuffix(u, "/")
	}
	host, port, _ := net.SplitHostPort(n.listener.Addr().String())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	scheme := "http"
	if n.tls.config != nil {
		scheme = "https"
		if len(n.cfg.HTTP.ACMEDomains) > 0 {
			host = n.cfg.HTTP.ACMEDomains[0]
		}
		if port == "443" {
			return scheme + "://" + host
		}
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// Run serves until ctx is done or a listener fails, then shuts down: it
// stops accepting, drains in-flight requests for up to
// http.shutdown_timeout, and closes the node. A clean shutdown returns nil.
func (n *Node) Run(ctx context.Context) error {
	n.log.Info("concord started", "version", Version, "peer_id", n.peerID.String(),
		"url", n.URL(), "listen", n.Addr().String(), "storage", n.db.Driver(),
		"federation_listen", n.cfg.Federation.Listen, "voice_udp_port", n.sfu.UDPPort())

	type served struct {
		srv *http.Server
		ln  net.Listener
		tls bool
	}
	servers := []served{{n.server, n.listener, n.tls.config != nil}}
	if n.acmeServer != nil {
		servers = append(servers, served{n.acmeServer, n.acmeListener, false})
	}
	errc := make(chan error, len(servers))
	for _, s := range servers {
		go func() {
			var err error
			if s.tls {
				// ServeTLS rather than a tls.Listener: it adds h2 to ALPN.
				err = s.srv.ServeTLS(s.ln, "", "")
			} else {
				err = s.srv.Serve(s.ln)
			}
			if errors.Is(err, http.ErrServerClosed) {
				err = nil
			} else if err != nil {
				err = fmt.Errorf("serve %s: %w", s.ln.Addr(), err)
			}
			errc <- err
		}()
	}

	var runErr error
	running := len(servers)
	select {
	case <-ctx.Done():
		n.log.Info("shutting down")
	case runErr = <-errc:
		running--
		n.log.Error("HTTP server failed; shutting down", "err", runErr)
	}

	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), n.cfg.HTTP.ShutdownTimeout)
	defer cancel()
	for _, s := range servers {
		if err := s.srv.Shutdown(shutCtx); err != nil {
			n.log.Warn("HTTP requests still running after shutdown_timeout; closing them",
				"timeout", n.cfg.HTTP.ShutdownTimeout, "err", err)
			s.srv.Close()
		}
	}
	for range running {
		if err := <-errc; err != nil && runErr == nil {
			runErr = err
		}
	}
	err := errors.Join(runErr, n.Close())
	if err == nil {
		n.log.Info("concord stopped")
	}
	return err
}

// Close releases everything New acquired: listeners, components in reverse
// order, then storage. Run calls it; call it directly only for a node that
// never ran. It is safe to call more than once.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		// After Run the servers have closed these already; before, nobody has.
		for _, ln := range []net.Listener{n.listener, n.acmeListener} {
			if ln != nil {
				ln.Close()
			}
		}
		var errs []error
		for i := len(n.closers) - 1; i >= 0; i-- {
			if err := n.closers[i].close(); err != nil {
				errs = append(errs, fmt.Errorf("close %s: %w", n.closers[i].name, err))
			}
		}
		if n.db != nil {
			if err := n.db.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close storage: %w", err))
			}
		}
		n.closeErr = errors.Join(errs...)
	})
	return n.closeErr
}
