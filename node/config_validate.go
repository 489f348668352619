package node

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/multiformats/go-multiaddr"

	"concord/clientapi/ratelimit"
	"concord/federation/p2p"
)

// Validate reports every problem in c at once, as Problems, or nil. It looks
// only at the values: whether files exist and ports are free is found out
// when the node starts.
func (c Config) Validate() error {
	var v validator

	v.nonEmpty("node.name", c.Node.Name)
	v.nonEmpty("node.data_dir", c.Node.DataDir)
	if c.Node.RoomIdleAfter < time.Second {
		v.add("node.room_idle_after", "must be at least 1s")
	}
	switch c.Node.Registration {
	case "open", "invite", "closed":
	default:
		v.add("node.registration", "%q is not open, invite or closed", c.Node.Registration)
	}

	h := c.HTTP
	v.hostPort("http.listen", h.Listen)
	if h.PublicURL != "" {
		u, err := url.Parse(h.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.add("http.public_url", "%q is not an http:// or https:// URL", h.PublicURL)
		}
	}
	if (h.TLSCert == "") != (h.TLSKey == "") {
		v.add("http.tls_cert", "tls_cert and tls_key must be set together")
	}
	if h.TLSCert != "" && len(h.ACMEDomains) > 0 {
		v.add("http.acme_domains", "set either tls_cert/tls_key or acme_domains, not both")
	}
	for _, d := range h.ACMEDomains {
		if !isHostname(d) {
			v.add("http.acme_domains", "%q is not a domain name", d)
		}
	}
	if len(h.ACMEDomains) == 0 {
		v.unused("http.acme_email", h.ACMEEmail)
		v.unused("http.acme_http_listen", h.ACMEHTTPListen)
		v.unused("http.acme_directory_url", h.ACMEDirectoryURL)
	}
	if h.ACMEHTTPListen != "" {
		v.hostPort("http.acme_http_listen", h.ACMEHTTPListen)
	}
	v.timeout("http.read_header_timeout", h.ReadHeaderTimeout)
	v.timeout("http.read_timeout", h.ReadTimeout)
	v.timeout("http.write_timeout", h.WriteTimeout)
	v.timeout("http.idle_timeout", h.IdleTimeout)
	if h.AdminToken != "" && len(h.AdminToken) < 16 {
		v.add("http.admin_token", "must be at least 16 characters (or empty: no admin routes)")
	}
	if h.ShutdownTimeout <= 0 {
		v.add("http.shutdown_timeout", "must be positive")
	}
	for _, p := range h.TrustedProxies {
		if _, err := ratelimit.ParseProxies([]string{p}); err != nil {
			v.add("http.trusted_proxies", "%v", err)
		}
	}

	s := c.Storage
	switch s.Driver {
	case "sqlite":
	case "postgres":
		v.nonEmpty("storage.dsn", s.DSN)
	default:
		v.add("storage.driver", "%q is not sqlite or postgres", s.Driver)
	}
	if s.MaxConns < 1 {
		v.add("storage.max_conns", "must be at least 1")
	}
	if s.MinConns < 0 || s.MinConns > s.MaxConns {
		v.add("storage.min_conns", "must be between 0 and max_conns (%d)", s.MaxConns)
	}
	switch s.BlobDriver {
	case "local":
		for _, kv := range [][2]string{{"storage.s3_endpoint", s.S3Endpoint}, {"storage.s3_bucket", s.S3Bucket},
			{"storage.s3_access_key", s.S3AccessKey}, {"storage.s3_secret_key", s.S3SecretKey}, {"storage.s3_region", s.S3Region}} {
			if kv[1] != "" {
				v.add(kv[0], "is set but storage.blob_driver is \"local\"")
			}
		}
	case "s3":
		v.nonEmpty("storage.s3_endpoint", s.S3Endpoint)
		if strings.Contains(s.S3Endpoint, "://") || strings.Contains(s.S3Endpoint, "/") {
			v.add("storage.s3_endpoint", "%q must be host[:port], without scheme or path (s3_use_tls picks https)", s.S3Endpoint)
		}
		v.nonEmpty("storage.s3_bucket", s.S3Bucket)
		v.nonEmpty("storage.s3_access_key", s.S3AccessKey)
		v.nonEmpty("storage.s3_secret_key", s.S3SecretKey)
	default:
		v.add("storage.blob_driver", "%q is not local or s3", s.BlobDriver)
	}
	if s.BlobSweepInterval != 0 && s.BlobSweepInterval < time.Minute {
		v.add("storage.blob_sweep_interval", "must be at least 1m (or 0s: no periodic sweep)")
	}
	if s.BlobSweepGrace < minSweepGrace {
		v.add("storage.blob_sweep_grace", "must be at least %s, longer than any upload takes", minSweepGrace)
	}

	f := c.Federation
	for _, a := range f.Listen {
		if _, err := multiaddr.NewMultiaddr(a); err != nil {
			v.add("federation.listen", "%q is not a multiaddr: %v", a, err)
		}
	}
	for _, a := range f.Bootstrap {
		if err := p2p.ParseBootstrap(a); err != nil {
			v.add("federation.bootstrap", "%v", err)
		}
	}

	vc := c.Voice
	v.port("voice.udp_port_min", vc.UDPPortMin)
	v.port("voice.udp_port_max", vc.UDPPortMax)
	if vc.UDPPortMin > vc.UDPPortMax {
		v.add("voice.udp_port_max", "must not be below udp_port_min (%d)", vc.UDPPortMin)
	}
	if vc.UDPMuxPort != 0 {
		v.port("voice.udp_mux_port", vc.UDPMuxPort)
		if vc.UDPMuxPorts < 1 || vc.UDPMuxPort+vc.UDPMuxPorts-1 > 65535 {
			v.add("voice.udp_mux_ports", "must be at least 1, with the last port at most 65535")
		}
	}
	if vc.UDPVoicePort != 0 && vc.UDPVoicePort != -1 {
		v.port("voice.udp_voice_port", vc.UDPVoicePort)
	}
	for _, ip := range vc.PublicIPs {
		if _, err := netip.ParseAddr(ip); err != nil {
			v.add("voice.public_ips", "%q is not an IP address", ip)
		}
	}
	for _, r := range vc.NATRules {
		if _, _, err := natRule(r); err != nil {
			v.add("voice.nat_rules", "%q: %v", r, err)
		}
	}
	for _, u := range vc.TURNURLs {
		if !strings.HasPrefix(u, "turn:") && !strings.HasPrefix(u, "turns:") {
			v.add("voice.turn_urls", "%q is not a turn: or turns: URL", u)
		}
	}

	l := c.Limits
	v.positive("limits.auth_per_minute", int64(l.AuthPerMinute))
	v.positive("limits.api_per_minute", int64(l.APIPerMinute))
	v.positive("limits.channel_messages_per_10s", int64(l.ChannelMessagesPer10s))
	v.positive("limits.max_upload_bytes", l.MaxUploadBytes)
	v.positive("limits.gateway_events_per_minute", int64(l.GatewayEventsPerMinute))
	v.positive("limits.gateway_max_payload_bytes", int64(l.GatewayMaxPayloadBytes))
	v.positive("limits.gateway_connections_per_address", int64(l.GatewayConnectionsPerAddress))
	v.positive("limits.registrations_per_address_per_day", int64(l.RegistrationsPerAddressPerDay))
	if l.StorageQuotaBytes < 0 {
		v.add("limits.storage_quota_bytes", "must not be negative (0: no quota)")
	}

	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		v.add("log.level", "%q is not debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "json", "text":
	default:
		v.add("log.format", "%q is not json or text", c.Log.Format)
	}

	return v.err()
}

// validator collects problems so that Validate can report them all.
type validator struct{ probs Problems }

func (v *validator) add(key, format string, args ...any) {
	v.probs = append(v.probs, Problem{Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) nonEmpty(key, val string) {
	if val == "" {
		v.add(key, "must not be empty")
	}
}

func (v *validator) hostPort(key, val string) {
	_, port, err := net.SplitHostPort(val)
	if err != nil {
		v.add(key, "%q is not host:port", val)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		v.add(key, "%q has no valid port (0-65535)", val)
	}
}

func (v *validator) port(key string, n int) {
	if n < 1 || n > 65535 {
		v.add(key, "%d is not a port (1-65535)", n)
	}
}

func (v *validator) unused(key, val string) {
	if val != "" {
		v.add(key, "is set but http.acme_domains is empty")
	}
}

func (v *validator) timeout(key string, d time.Duration) {
	if d < 0 {
		v.add(key, "must not be negative (0 means no timeout)")
	}
}

func (v *validator) positive(key string, n int64) {
	if n < 1 {
		v.add(key, "must be at least 1")
	}
}

func (v *validator) err() error {
	if len(v.probs) == 0 {
		return nil
	}
	return v.probs
}

// isHostname reports whether s is a plausible DNS name for a certificate.
func isHostname(s string) bool {
	if s == "" || len(s) > 253 || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// natRule reads a [voice] nat_rules entry, "EXTERNAL=LOCAL": clients reach
// the local address at the external one.
func natRule(r string) (external, local netip.Addr, err error) {
	e, l, ok := strings.Cut(r, "=")
	if !ok {
		return external, local, fmt.Errorf("not EXTERNAL=LOCAL")
	}
	if external, err = netip.ParseAddr(strings.TrimSpace(e)); err != nil {
		return external, local, fmt.Errorf("external: %w", err)
	}
	if local, err = netip.ParseAddr(strings.TrimSpace(l)); err != nil {
		return external, local, fmt.Errorf("local: %w", err)
	}
	return external, local, nil
}
