package node

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// healthTimeout bounds the storage check behind GET /health, so that a hung
// database makes the probe fail rather than hang.
const healthTimeout = 2 * time.Second

// health answers GET /health: 200 when storage answers ping, 503
// otherwise. The storage error goes to the log, never to the caller: it may
// name hosts, users or files.
func health(log *slog.Logger, ping func(context.Context) error) http.HandlerFunc {
	type body struct {
		Status  string `json:"status"`
		Version string `json:"version"`
		Storage string `json:"storage"`
	}
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
		defer cancel()
		b, code := body{Status: "ok", Version: Version, Storage: "ok"}, http.StatusOK
		if err := ping(ctx); err != nil {
			log.Warn("health check: storage", "err", err)
			b.Status, b.Storage, code = "unavailable", "unavailable", http.StatusServiceUnavailable
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(b)
	}
}

// metricsHandler serves reg in the Prometheus text format; with a token
// ([http] metrics_token) only to requests bearing it.
func metricsHandler(reg *prometheus.Registry, log *slog.Logger, token string) http.Handler {
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError),
		Registry: reg,
	})
	if token == "" {
		return h
	}
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", "Bearer")
			http.Error(w, "401 Unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// newServer builds the main HTTP server from [http].
func newServer(h HTTPConfig, handler http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: h.ReadHeaderTimeout,
		ReadTimeout:       h.ReadTimeout,
		WriteTimeout:      h.WriteTimeout,
		IdleTimeout:       h.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// tlsSetup is how the main listener does TLS: not at all (config nil), from
// files, or through ACME, in which case acme answers HTTP-01 challenges if
// [http] acme_http_listen asks for it.
type tlsSetup struct {
	config *tls.Config
	acme   *autocert.Manager
}

// newTLS loads the certificate files or prepares the ACME manager. Go's TLS
// stack prefers 1.3 on its own; 1.2 stays for older clients.
func newTLS(c Config) (tlsSetup, error) {
	h := c.HTTP
	switch {
	case h.TLSCert != "":
		cert, err := tls.LoadX509KeyPair(h.TLSCert, h.TLSKey)
		if err != nil {
			return tlsSetup{}, fmt.Errorf("http.tls_cert/tls_key: %w", err)
		}
		return tlsSetup{config: &tls.Config{
			MinVersion:   tls.VersionTLS12,
			Certificates: []tls.Certificate{cert},
		}}, nil
	case len(h.ACMEDomains) > 0:
		m := &autocert.Manager{
			Prompt:     autocert.AcceptTOS,
			Cache:      autocert.DirCache(c.acmeCacheDir()),
			HostPolicy: autocert.HostWhitelist(h.ACMEDomains...),
			Email:      h.ACMEEmail,
		}
		if h.ACMEDirectoryURL != "" {
			m.Client = &acme.Client{DirectoryURL: h.ACMEDirectoryURL}
		}
		// TLSConfig offers acme-tls/1, so TLS-ALPN-01 works on the main
		// listener without port 80.
		cfg := m.TLSConfig()
		cfg.MinVersion = tls.VersionTLS12
		return tlsSetup{config: cfg, acme: m}, nil
	}
	return tlsSetup{}, nil
}

// isLoopback reports whether a listen address only accepts local
// connections; an empty host or a name other than localhost may be reachable
// from outside.
func isLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
