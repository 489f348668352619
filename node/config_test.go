package node

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"concord"
)

// noEnv is an environment with no variables at all.
func noEnv(string) (string, bool) { return "", false }

func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDefaultConfigIsValid(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("DefaultConfig().Validate() = %v", err)
	}
}

// The example must load as-is, hold exactly the defaults, and mention every
// key, so that it documents what the binary really does.
func TestExampleConfigIsTheDefaults(t *testing.T) {
	path := filepath.Join("..", "node.toml.example")
	got, err := LoadConfig(path, noEnv)
	if err != nil {
		t.Fatalf("LoadConfig(%s) = %v", path, err)
	}
	if want := DefaultConfig(); !reflect.DeepEqual(got, want) {
		t.Errorf("node.toml.example differs from DefaultConfig():\n got %+v\nwant %+v", got, want)
	}
	var cfg Config
	md, err := toml.Decode(concord.ExampleConfig, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	eachKey(&cfg, func(key, _ string, _ reflect.Value) {
		section, name, _ := strings.Cut(key, ".")
		if !md.IsDefined(section, name) {
			t.Errorf("node.toml.example does not document %s", key)
		}
	})
}

func TestLoadConfigFile(t *testing.T) {
	path := writeFile(t, "node.toml", `
[http]
listen = "0.0.0.0:9000"
write_timeout = "5s"
[storage]
driver = "postgres"
dsn = "postgres://x@localhost/concord"
[federation]
bootstrap = []
`)
	cfg, err := LoadConfig(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.HTTP.Listen = "0.0.0.0:9000"
	want.HTTP.WriteTimeout = 5 * time.Second
	want.Storage.Driver = "postgres"
	want.Storage.DSN = "postgres://x@localhost/concord"
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got %+v\nwant %+v", cfg, want)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string // substrings of the error
	}{
		{"syntax", "[http]\nlisten = \n", []string{"node.toml: line 2"}},
		{"wrong type", "[storage]\nmax_conns = \"many\"\n", []string{"node.toml", "max_conns"}},
		{"unknown keys", "[http]\nlisten = \"127.0.0.1:1\"\nlistne = \"x\"\n[nope]\nx = 1\n",
			[]string{"2 problems", "http.listne: unknown key", "\tnope: unknown key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadConfig(writeFile(t, "node.toml", tt.text), noEnv)
			if err == nil {
				t.Fatal("LoadConfig succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}

	if _, err := LoadConfig(filepath.Join(t.TempDir(), "missing.toml"), noEnv); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v, want ErrNotExist", err)
	}
	if _, err := LoadConfig(t.TempDir(), noEnv); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory as file: err = %v", err)
	}
}

func TestEnvOverridesFile(t *testing.T) {
	path := writeFile(t, "node.toml", "[http]\nlisten = \"127.0.0.1:1\"\n")
	cfg, err := LoadConfig(path, envMap(map[string]string{
		"CONCORD_HTTP_LISTEN":       "127.0.0.1:2",
		"CONCORD_STORAGE_DSN":       "/tmp/x.db",
		"CONCORD_FEDERATION_LISTEN": " /ip4/0.0.0.0/tcp/1 , /ip4/0.0.0.0/tcp/2,",
		"CONCORD_FEDERATION_MDNS":   "false",
		"CONCORD_HTTP_READ_TIMEOUT": "3s",
		"CONCORD_VOICE_PUBLIC_IPS":  "",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.HTTP.Listen = "127.0.0.1:2"
	want.Storage.DSN = "/tmp/x.db"
	want.Federation.Listen = []string{"/ip4/0.0.0.0/tcp/1", "/ip4/0.0.0.0/tcp/2"}
	want.Federation.MDNS = false
	want.HTTP.ReadTimeout = 3 * time.Second
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got %+v\nwant %+v", cfg, want)
	}
}

// Every key must be reachable from the environment, whatever its type.
func TestEnvOverridesEveryKey(t *testing.T) {
	cfg := DefaultConfig()
	env := map[string]string{}
	eachKey(&cfg, func(key, name string, field reflect.Value) {
		if want := "CONCORD_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_")); name != want {
			t.Errorf("%s: variable %s, want %s", key, name, want)
		}
		switch {
		case field.Type() == durationType:
			env[name] = "7s"
		case field.Kind() == reflect.Bool:
			env[name] = "false"
		case field.Kind() == reflect.Slice:
			env[name] = "a,b"
		case field.Kind() == reflect.String:
			env[name] = "s"
		default:
			env[name] = "7"
		}
	})
	got, err := LoadConfig("", envMap(env))
	if err != nil {
		t.Fatal(err)
	}
	defaults := map[string]any{}
	def := DefaultConfig()
	eachKey(&def, func(key, _ string, field reflect.Value) { defaults[key] = field.Interface() })
	eachKey(&got, func(key, name string, field reflect.Value) {
		if reflect.DeepEqual(field.Interface(), defaults[key]) {
			t.Errorf("%s: %s=%q left it at its default", key, name, env[name])
		}
	})
}

func TestEnvErrors(t *testing.T) {
	_, err := LoadConfig("", envMap(map[string]string{
		"CONCORD_STORAGE_MAX_CONNS": "lots",
		"CONCORD_HTTP_IDLE_TIMEOUT": "5",
		"CONCORD_FEDERATION_MDNS":   "maybe",
	}))
	var probs Problems
	if !errors.As(err, &probs) {
		t.Fatalf("err = %v, want Problems", err)
	}
	var got []string
	for _, p := range probs {
		got = append(got, p.Key)
	}
	want := []string{"http.idle_timeout", "storage.max_conns", "federation.mdns"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problem keys = %v, want %v", got, want)
	}
	if !strings.Contains(err.Error(), `CONCORD_STORAGE_MAX_CONNS="lots" is not an integer`) {
		t.Errorf("error %q does not quote the variable", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   []string // "key: message" prefixes, in order
	}{
		{"bad listen", func(c *Config) { c.HTTP.Listen = "nope" }, []string{`http.listen: "nope" is not host:port`}},
		{"bad port", func(c *Config) { c.HTTP.Listen = "127.0.0.1:99999" }, []string{"http.listen: "}},
		{"empty name and dir", func(c *Config) { c.Node.Name, c.Node.DataDir = "", "" },
			[]string{"node.name: must not be empty", "node.data_dir: must not be empty"}},
		{"room idle", func(c *Config) { c.Node.RoomIdleAfter = 0 }, []string{"node.room_idle_after: must be at least 1s"}},
		{"public url", func(c *Config) { c.HTTP.PublicURL = "chat.example.org" }, []string{"http.public_url: "}},
		{"cert without key", func(c *Config) { c.HTTP.TLSCert = "c.pem" }, []string{"http.tls_cert: tls_cert and tls_key"}},
		{"files and acme", func(c *Config) {
			c.HTTP.TLSCert, c.HTTP.TLSKey, c.HTTP.ACMEDomains = "c.pem", "k.pem", []string{"chat.example.org"}
		}, []string{"http.acme_domains: set either"}},
		{"bad domain", func(c *Config) { c.HTTP.ACMEDomains = []string{"https://x.org"} }, []string{"http.acme_domains: "}},
		{"acme options without domains", func(c *Config) { c.HTTP.ACMEEmail, c.HTTP.ACMEHTTPListen = "a@b.c", ":80" },
			[]string{"http.acme_email: is set", "http.acme_http_listen: is set"}},
		{"timeouts", func(c *Config) { c.HTTP.ReadTimeout, c.HTTP.ShutdownTimeout = -1, 0 },
			[]string{"http.read_timeout: ", "http.shutdown_timeout: "}},
		{"driver", func(c *Config) { c.Storage.Driver = "mysql" }, []string{`storage.driver: "mysql" is not sqlite or postgres`}},
		{"postgres without dsn", func(c *Config) { c.Storage.Driver = "postgres" }, []string{"storage.dsn: must not be empty"}},
		{"conns", func(c *Config) { c.Storage.MaxConns, c.Storage.MinConns = 0, 3 },
			[]string{"storage.max_conns: ", "storage.min_conns: "}},
		{"multiaddrs", func(c *Config) {
			c.Federation.Listen = []string{"0.0.0.0:4001"}
			c.Federation.Bootstrap = []string{"/ip4/1.2.3.4/tcp/4001"}
		}, []string{"federation.listen: ", "federation.bootstrap: "}},
		{"voice", func(c *Config) {
			c.Voice.UDPPortMin, c.Voice.UDPPortMax = 60000, 0
			c.Voice.PublicIPs, c.Voice.TURNURLs = []string{"host"}, []string{"http://turn"}
			c.Voice.UDPMuxPort, c.Voice.UDPMuxPorts = 65535, 2
			c.Voice.NATRules = []string{"203.0.113.7", "203.0.113.7=10.0.0.x"}
		}, []string{"voice.udp_port_max: 0 is not a port", "voice.udp_port_max: must not be below",
			"voice.udp_mux_ports: ", "voice.public_ips: ", `voice.nat_rules: "203.0.113.7": not EXTERNAL=LOCAL`,
			`voice.nat_rules: "203.0.113.7=10.0.0.x": local: `, "voice.turn_urls: "}},
		{"limits", func(c *Config) { c.Limits.APIPerMinute, c.Limits.MaxUploadBytes = 0, -1 },
			[]string{"limits.api_per_minute: ", "limits.max_upload_bytes: "}},
		{"log", func(c *Config) { c.Log.Level, c.Log.Format = "loud", "xml" }, []string{"log.level: ", "log.format: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.change(&cfg)
			var probs Problems
			if !errors.As(cfg.Validate(), &probs) {
				t.Fatalf("Validate() = %v, want Problems", cfg.Validate())
			}
			if len(probs) != len(tt.want) {
				t.Fatalf("Validate() = %v, want %d problems %q", probs, len(tt.want), tt.want)
			}
			for i, p := range probs {
				if !strings.HasPrefix(p.Error(), tt.want[i]) {
					t.Errorf("problem %d = %q, want prefix %q", i, p, tt.want[i])
				}
			}
		})
	}
}

func TestValidAlternatives(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
	}{
		{"tls files", func(c *Config) { c.HTTP.TLSCert, c.HTTP.TLSKey = "c.pem", "k.pem" }},
		{"acme", func(c *Config) {
			c.HTTP.Listen, c.HTTP.ACMEDomains, c.HTTP.ACMEHTTPListen = ":443", []string{"chat.example.org"}, ":80"
		}},
		{"postgres", func(c *Config) { c.Storage.Driver, c.Storage.DSN = "postgres", "host=/run/postgresql" }},
		{"bootstrap", func(c *Config) {
			c.Federation.Bootstrap = []string{"/ip4/1.2.3.4/tcp/4001/p2p/12D3KooWJbsPAVsfDaDFzEoYXwDLzLzk3oGWxsbUEj6cWcpcfZzE"}
		}},
		{"ipv6 listen", func(c *Config) { c.HTTP.Listen = "[::1]:0" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.change(&cfg)
			if err := cfg.Validate(); err != nil {
				t.Errorf("Validate() = %v", err)
			}
		})
	}
}

func TestProblemsError(t *testing.T) {
	one := Problems{{"http.listen", `"nope" is not host:port`}}
	if got, want := one.Error(), `http.listen: "nope" is not host:port`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	two := append(one, Problem{"log.level", "bad"})
	if got, want := two.Error(), "2 problems:\n\thttp.listen: \"nope\" is not host:port\n\tlog.level: bad"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
