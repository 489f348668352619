package node

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"concord/federation/room"

	"github.com/BurntSushi/toml"
)

// Config is a node's whole configuration, as node.toml.example documents it.
// It is a plain value: build it with DefaultConfig or LoadConfig, adjust it,
// then call Validate.
type Config struct {
	Node       NodeConfig       `toml:"node"`
	HTTP       HTTPConfig       `toml:"http"`
	Storage    StorageConfig    `toml:"storage"`
	Federation FederationConfig `toml:"federation"`
	Voice      VoiceConfig      `toml:"voice"`
	Limits     LimitsConfig     `toml:"limits"`
	Log        LogConfig        `toml:"log"`
}

// NodeConfig is the [node] section.
type NodeConfig struct {
	Name         string `toml:"name"`
	DataDir      string `toml:"data_dir"`
	Registration string `toml:"registration"`
	// RoomIdleAfter is how long a guild or DM stays in memory after its
	// last use before it unloads (it loads again on demand).
	RoomIdleAfter time.Duration `toml:"room_idle_after"`
}

// HTTPConfig is the [http] section: the listener serving the client API,
// health and metrics, and its TLS.
type HTTPConfig struct {
	Listen            string        `toml:"listen"`
	PublicURL         string        `toml:"public_url"`
	TLSCert           string        `toml:"tls_cert"`
	TLSKey            string        `toml:"tls_key"`
	ACMEDomains       []string      `toml:"acme_domains"`
	ACMEEmail         string        `toml:"acme_email"`
	ACMECacheDir      string        `toml:"acme_cache_dir"`
	ACMEHTTPListen    string        `toml:"acme_http_listen"`
	ACMEDirectoryURL  string        `toml:"acme_directory_url"`
	ReadHeaderTimeout time.Duration `toml:"read_header_timeout"`
	ReadTimeout       time.Duration `toml:"read_timeout"`
	WriteTimeout      time.Duration `toml:"write_timeout"`
	IdleTimeout       time.Duration `toml:"idle_timeout"`
	ShutdownTimeout   time.Duration `toml:"shutdown_timeout"`
	TrustedProxies    []string      `toml:"trusted_proxies"`
	AdminToken        string        `toml:"admin_token"`
	MetricsToken      string        `toml:"metrics_token"`
}

// StorageConfig is the [storage] section: the database, and where
// uploaded files (blobs) are kept.
type StorageConfig struct {
	Driver      string `toml:"driver"`
	DSN         string `toml:"dsn"`
	MaxConns    int    `toml:"max_conns"`
	MinConns    int    `toml:"min_conns"`
	BlobDriver  string `toml:"blob_driver"`
	S3Endpoint  string `toml:"s3_endpoint"`
	S3Bucket    string `toml:"s3_bucket"`
	S3AccessKey string `toml:"s3_access_key"`
	S3SecretKey string `toml:"s3_secret_key"`
	S3UseTLS    bool   `toml:"s3_use_tls"`
	S3Region    string `toml:"s3_region"`
	// BlobSweepInterval is how often blobs nothing names any more are
	// deleted (0: never, but by `concord blobs sweep`); BlobSweepGrace is
	// how old such a blob must be, so that uploads in flight are spared.
	BlobSweepInterval time.Duration `toml:"blob_sweep_interval"`
	BlobSweepGrace    time.Duration `toml:"blob_sweep_grace"`
}

// FederationConfig is the [federation] section: the libp2p host.
type FederationConfig struct {
	Listen    []string `toml:"listen"`
	Bootstrap []string `toml:"bootstrap"`
	MDNS      bool     `toml:"mdns"`
}

// VoiceConfig is the [voice] section: the SFU's media transport.
type VoiceConfig struct {
	UDPPortMin  int `toml:"udp_port_min"`
	UDPPortMax  int `toml:"udp_port_max"`
	UDPMuxPort  int `toml:"udp_mux_port"`
	UDPMuxPorts int `toml:"udp_mux_ports"`
	// UDPVoicePort serves Discord's UDP voice protocol, which the bot
	// libraries speak: 0 picks a port at start, -1 serves none.
	UDPVoicePort int      `toml:"udp_voice_port"`
	PublicIPs    []string `toml:"public_ips"`
	NATRules     []string `toml:"nat_rules"`
	TURNURLs     []string `toml:"turn_urls"`
	TURNUsername string   `toml:"turn_username"`
	TURNPassword string   `toml:"turn_password"`
}

// LimitsConfig is the [limits] section: rate limits and sizes the client API
// and gateway enforce.
type LimitsConfig struct {
	AuthPerMinute          int   `toml:"auth_per_minute"`
	APIPerMinute           int   `toml:"api_per_minute"`
	ChannelMessagesPer10s  int   `toml:"channel_messages_per_10s"`
	MaxUploadBytes         int64 `toml:"max_upload_bytes"`
	GatewayEventsPerMinute int   `toml:"gateway_events_per_minute"`
	GatewayMaxPayloadBytes int   `toml:"gateway_max_payload_bytes"`
	// GatewayConnectionsPerAddress caps open gateway connections per client
	// address.
	GatewayConnectionsPerAddress int `toml:"gateway_connections_per_address"`
	// RegistrationsPerAddressPerDay caps accounts made per client address.
	RegistrationsPerAddressPerDay int `toml:"registrations_per_address_per_day"`
	// StorageQuotaBytes caps the bytes of files one user's messages may
	// carry in all (0: no cap).
	StorageQuotaBytes int64 `toml:"storage_quota_bytes"`
}

// LogConfig is the [log] section.
type LogConfig struct {
	Level  string `toml:"level"`
	Format string `toml:"format"`
}

// DefaultConfig is the configuration a node runs on when nothing else is
// given: SQLite under ./data and plain HTTP on loopback.
func DefaultConfig() Config {
	return Config{
		Node: NodeConfig{Name: "concord", DataDir: "./data", Registration: "open", RoomIdleAfter: room.DefaultIdleAfter},
		HTTP: HTTPConfig{
			Listen:            "127.0.0.1:8080",
			ACMEDomains:       []string{},
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      60 * time.Second,
			IdleTimeout:       120 * time.Second,
			ShutdownTimeout:   10 * time.Second,
			TrustedProxies:    []string{},
		},
		Storage: StorageConfig{Driver: "sqlite", MaxConns: 20, MinConns: 5, BlobDriver: "local", S3UseTLS: true,
			BlobSweepInterval: time.Hour, BlobSweepGrace: time.Hour},
		Federation: FederationConfig{
			Listen:    []string{"/ip4/0.0.0.0/tcp/4001", "/ip4/0.0.0.0/udp/4001/quic-v1"},
			Bootstrap: []string{},
			MDNS:      true,
		},
		Voice: VoiceConfig{
			UDPPortMin:  50000,
			UDPPortMax:  50999,
			UDPMuxPorts: 1,
			PublicIPs:   []string{},
			NATRules:    []string{},
			TURNURLs:    []string{},
		},
		Limits: LimitsConfig{
			AuthPerMinute:                 5,
			APIPerMinute:                  60,
			ChannelMessagesPer10s:         10,
			MaxUploadBytes:                25 << 20,
			GatewayEventsPerMinute:        120,
			GatewayMaxPayloadBytes:        4096,
			GatewayConnectionsPerAddress:  50,
			RegistrationsPerAddressPerDay: 10,
			StorageQuotaBytes:             10 << 30,
		},
		Log: LogConfig{Level: "info", Format: "json"},
	}
}

// LoadConfig builds a configuration from the defaults, then the TOML file at
// path (skipped when path is empty), then CONCORD_<SECTION>_<KEY> variables
// found by lookupEnv. Unknown keys and unparsable variables come back
// together as Problems; a file that cannot be read or parsed is an error on
// its own. The result is not validated.
func LoadConfig(path string, lookupEnv func(string) (string, bool)) (Config, error) {
	cfg := DefaultConfig()
	var probs Problems
	if path != "" {
		text, err := os.ReadFile(path)
		if err != nil {
			return cfg, err
		}
		md, err := toml.Decode(string(text), &cfg)
		if err != nil {
			var perr toml.ParseError
			if errors.As(err, &perr) {
				return cfg, fmt.Errorf("%s: line %d: %s", path, perr.Position.Line, perr.Message)
			}
			return cfg, fmt.Errorf("%s: %w", path, err)
		}
		// An unknown table is reported once, not once more per key inside it.
		reported := map[string]bool{}
		for _, k := range md.Undecoded() {
			if len(k) > 1 && reported[k[:len(k)-1].String()] {
				reported[k.String()] = true
				continue
			}
			reported[k.String()] = true
			probs = append(probs, Problem{Key: k.String(), Msg: "unknown key in " + path})
		}
	}
	probs = append(probs, applyEnv(&cfg, lookupEnv)...)
	if len(probs) > 0 {
		return cfg, probs
	}
	return cfg, nil
}

// applyEnv overrides every key that has a CONCORD_<SECTION>_<KEY> variable.
// It walks the struct tags so that a key added to Config can never lack its
// variable.
func applyEnv(cfg *Config, lookupEnv func(string) (string, bool)) Problems {
	var probs Problems
	eachKey(cfg, func(key, env string, field reflect.Value) {
		s, ok := lookupEnv(env)
		if !ok {
			return
		}
		if err := setFromString(field, s); err != nil {
			probs = append(probs, Problem{Key: key, Msg: fmt.Sprintf("%s=%q %v", env, s, err)})
		}
	})
	return probs
}

// eachKey calls fn for every key of cfg with its dotted name, its
// environment variable and its settable field.
func eachKey(cfg *Config, fn func(key, env string, field reflect.Value)) {
	sections := reflect.ValueOf(cfg).Elem()
	for i := range sections.NumField() {
		section := sections.Type().Field(i).Tag.Get("toml")
		fields := sections.Field(i)
		for j := range fields.NumField() {
			name := fields.Type().Field(j).Tag.Get("toml")
			env := "CONCORD_" + strings.ToUpper(section+"_"+name)
			fn(section+"."+name, env, fields.Field(j))
		}
	}
}

var durationType = reflect.TypeFor[time.Duration]()

// setFromString parses s as the field's type; lists are comma-separated.
func setFromString(field reflect.Value, s string) error {
	switch {
	case field.Type() == durationType:
		d, err := time.ParseDuration(s)
		if err != nil {
			return errors.New("is not a duration (like 30s or 2m)")
		}
		field.SetInt(int64(d))
	case field.Kind() == reflect.String:
		field.SetString(s)
	case field.Kind() == reflect.Int, field.Kind() == reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return errors.New("is not an integer")
		}
		field.SetInt(n)
	case field.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return errors.New("is not a boolean (true or false)")
		}
		field.SetBool(b)
	case field.Kind() == reflect.Slice && field.Type().Elem().Kind() == reflect.String:
		list := []string{}
		for _, item := range strings.Split(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				list = append(list, item)
			}
		}
		field.Set(reflect.ValueOf(list))
	default:
		// Reached only if a Config field gets a type this switch lacks;
		// TestEnvOverridesEveryKey catches that before it ships.
		return fmt.Errorf("has type %s, which environment variables cannot set", field.Type())
	}
	return nil
}

// storageDSN is the DSN storage.Open gets: SQLite defaults to a file in the
// data dir.
func (c Config) storageDSN() string {
	if c.Storage.DSN == "" && c.Storage.Driver == "sqlite" {
		return filepath.Join(c.Node.DataDir, "concord.db")
	}
	return c.Storage.DSN
}

// keyPath is where the node's identity key lives.
func (c Config) keyPath() string {
	return filepath.Join(c.Node.DataDir, "node.key")
}

// acmeCacheDir is where ACME account keys and certificates are kept.
func (c Config) acmeCacheDir() string {
	if c.HTTP.ACMECacheDir != "" {
		return c.HTTP.ACMECacheDir
	}
	return filepath.Join(c.Node.DataDir, "acme")
}

// Problem is one thing wrong with a configuration, naming its key.
type Problem struct {
	Key string // dotted, like http.listen
	Msg string
}

func (p Problem) Error() string { return p.Key + ": " + p.Msg }

// Problems is every problem found in a configuration, so that one run
// reports them all.
type Problems []Problem

func (ps Problems) Error() string {
	if len(ps) == 1 {
		return ps[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d problems:", len(ps))
	for _, p := range ps {
		b.WriteString("\n\t" + p.Error())
	}
	return b.String()
}
