package node

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"concord/storage"
)

// syncBuffer is a bytes.Buffer the command may write while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runMain runs the command in-process and returns its exit code and output.
func runMain(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut syncBuffer
	c := command{stdout: &out, stderr: &errOut, lookupEnv: envMap(env)}
	code = c.main(t.Context(), args)
	return code, out.String(), errOut.String()
}

func TestMainBadInput(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	malformed := write("malformed.toml", "[http\nlisten = 1\n")
	unknown := write("unknown.toml", "[http]\nlisten = \"127.0.0.1:0\"\nlisen = \"127.0.0.1:0\"\n")

	looseKeyDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(looseKeyDir, "node.key"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(looseKeyDir, "node.key"), 0o644); err != nil {
		t.Fatal(err)
	}
	newerDir := newerSchemaDataDir(t)

	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string // the whole of stderr starts with this
	}{
		{"malformed config", nil, []string{"--config", malformed}, "concord: config: " + malformed + ": line 2: expected"},
		{"unreadable config", nil, []string{"--config", dir}, "concord: config: read " + dir + ": is a directory"},
		{"missing config", nil, []string{"--config", filepath.Join(dir, "none.toml")}, "concord: config: open "},
		{"unknown key", nil, []string{"--config", unknown}, "concord: config: http.lisen: unknown key in " + unknown},
		{"bad listen flag", nil, []string{"--listen", "nope"}, `concord: config: http.listen: "nope" is not host:port`},
		{"bad listen env", map[string]string{"CONCORD_HTTP_LISTEN": "nope"}, nil, `concord: config: http.listen: "nope" is not host:port`},
		{"bad env value", map[string]string{"CONCORD_STORAGE_MAX_CONNS": "x"}, nil, "concord: config: storage.max_conns: CONCORD_STORAGE_MAX_CONNS"},
		{"several problems", map[string]string{"CONCORD_LOG_FORMAT": "xml", "CONCORD_STORAGE_DRIVER": "mysql"}, nil,
			"concord: config: 2 problems:\n\tstorage.driver: \"mysql\" is not sqlite or postgres\n\tlog.format: "},
		{"unknown key and bad value", map[string]string{"CONCORD_HTTP_LISTEN": "nope"}, []string{"--config", unknown},
			"concord: config: 2 problems:\n\thttp.lisen: unknown key in " + unknown + "\n\thttp.listen: \"nope\" is not host:port\n"},
		{"data dir not writable", nil, []string{"--data-dir", filepath.Join(file, "data")}, "concord: data dir: mkdir "},
		{"loose node key", nil, []string{"--data-dir", looseKeyDir}, "concord: node key: " + looseKeyDir},
		{"database unreachable", map[string]string{
			"CONCORD_STORAGE_DRIVER": "postgres",
			"CONCORD_STORAGE_DSN":    "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2",
		}, nil, "concord: storage: "},
		{"newer schema", nil, []string{"--data-dir", newerDir}, "concord: storage: database schema is newer than this binary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Only the failure on stderr; never a fixed port or a shared dir.
			env := map[string]string{
				"CONCORD_LOG_LEVEL":     "warn",
				"CONCORD_HTTP_LISTEN":   "127.0.0.1:0",
				"CONCORD_NODE_DATA_DIR": t.TempDir(),
			}
			for k, v := range tt.env {
				env[k] = v
			}
			code, stdout, stderr := runMain(t, env, append([]string{"run"}, tt.args...)...)
			if code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			if !strings.HasPrefix(stderr, tt.want) {
				t.Errorf("stderr = %q, want prefix %q", stderr, tt.want)
			}
			if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine ") {
				t.Errorf("stderr has a stack trace: %s", stderr)
			}
			if strings.Count(stderr, "concord: ") != 1 || !strings.HasSuffix(stderr, "\n") {
				t.Errorf("stderr is not one message: %q", stderr)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
		})
	}
}

// newerSchemaDataDir returns a data dir whose database claims a schema
// version beyond this binary's.
func newerSchemaDataDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	db, err := storage.Open(t.Context(), storage.Config{Driver: "sqlite", DSN: filepath.Join(dir, "concord.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Write(t.Context(), func(q storage.Querier) error {
		_, err := q.ExecContext(t.Context(),
			`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from_the_future', 0)`,
			storage.SchemaVersion()+1)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestMainUsage(t *testing.T) {
	tests := []struct {
		args       []string
		code       int
		wantStdout string
		wantStderr string
	}{
		{nil, 2, "", "usage: concord"},
		{[]string{"frobnicate"}, 2, "", `concord: unknown command "frobnicate"`},
		{[]string{"run", "--nope"}, 2, "", "flag provided but not defined: -nope"},
		{[]string{"run", "extra"}, 2, "", `concord run: unexpected argument "extra"`},
		{[]string{"blobs"}, 2, "", "usage:\n  concord blobs sweep"},
		{[]string{"blobs", "sweep", "extra"}, 2, "", `concord blobs sweep: unexpected argument "extra"`},
		{[]string{"version"}, 0, "concord " + Version + "\n", ""},
		{[]string{"help"}, 0, "usage: concord", ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := runMain(t, nil, tt.args...)
			if code != tt.code || !strings.HasPrefix(stdout, tt.wantStdout) || !strings.HasPrefix(stderr, tt.wantStderr) {
				t.Errorf("got %d, stdout %q, stderr %q; want %d, %q, %q", code, stdout, stderr, tt.code, tt.wantStdout, tt.wantStderr)
			}
		})
	}
}

func TestMainRunsAndStops(t *testing.T) {
	var out, errOut syncBuffer
	c := command{stdout: &out, stderr: &errOut, lookupEnv: envMap(map[string]string{"CONCORD_LOG_FORMAT": "text",
		"CONCORD_FEDERATION_LISTEN": "/ip4/127.0.0.1/tcp/0", "CONCORD_FEDERATION_MDNS": "false"})}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- c.main(ctx, []string{"run", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir()}) }()

	var url string
	for deadline := time.Now().Add(10 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if line, ok := strings.CutPrefix(out.String(), "Concord is running: open "); ok {
			url = strings.TrimSpace(line)
		}
	}
	if url == "" {
		cancel()
		t.Fatalf("no URL printed; stdout %q stderr %q", out.String(), errOut.String())
	}
	if code, body := get(t, http.DefaultClient, url+"/health"); code != http.StatusOK {
		t.Errorf("GET /health = %d %s", code, body)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit code %d after cancel; stderr %s", code, errOut.String())
	}
	if logs := errOut.String(); !strings.Contains(logs, "peer_id=12D3KooW") || !strings.Contains(logs, "concord stopped") {
		t.Errorf("logs lack the peer ID or the stop:\n%s", logs)
	}
}

func TestInit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node")
	code, stdout, stderr := runMain(t, nil, "init", "--dir", dir)
	if code != 0 {
		t.Fatalf("init: exit %d, stderr %s", code, stderr)
	}
	path := filepath.Join(dir, "node.toml")
	if !strings.Contains(stdout, "wrote "+path) || !strings.Contains(stdout, "created node key") {
		t.Errorf("stdout = %q", stdout)
	}
	cfg, err := LoadConfig(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.Node.DataDir = filepath.Join(dir, "data")
	if cfg.Node.DataDir != want.Node.DataDir {
		t.Errorf("data_dir = %q, want %q", cfg.Node.DataDir, want.Node.DataDir)
	}
	if _, _, err := loadOrCreateKey(cfg.keyPath()); err != nil {
		t.Errorf("key: %v", err)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(text), "# Where the node keeps its key") {
		t.Error("node.toml lost the example's comments")
	}

	code, _, stderr = runMain(t, nil, "init", "--dir", dir)
	if code != 1 || !strings.Contains(stderr, "already exists") {
		t.Errorf("second init: exit %d, stderr %q", code, stderr)
	}
}

// TestProcess runs the real binary: it must start on defaults, answer
// /health, exit 0 on SIGTERM, and fail with one line on bad input.
func TestProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildConcord(t)

	cmd := exec.Command(bin, "run", "--listen", "127.0.0.1:0")
	cmd.Dir = t.TempDir() // the default data dir is ./data
	cmd.Env = append(os.Environ(), "CONCORD_LOG_LEVEL=warn",
		"CONCORD_FEDERATION_LISTEN=/ip4/127.0.0.1/tcp/0", "CONCORD_FEDERATION_MDNS=false")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("reading stdout: %v; stderr %s", err, stderr.String())
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "Concord is running: open ")
	if !ok {
		t.Errorf("first line %q", line)
	}
	if code, body := get(t, http.DefaultClient, url+"/health"); code != http.StatusOK {
		t.Errorf("GET /health = %d %s", code, body)
	}
	if _, err := os.Stat(filepath.Join(cmd.Dir, "data", "node.key")); err != nil {
		t.Errorf("no key in ./data: %v", err)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("after SIGTERM: %v; stderr %s", err, stderr.String())
	}

	bad := exec.Command(bin, "run", "--listen", "nope")
	bad.Dir = t.TempDir()
	out, err := bad.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Errorf("bad listen: err %v, want exit status 1", err)
	}
	if got, want := string(out), "concord: config: http.listen: \"nope\" is not host:port\n"; got != want {
		t.Errorf("bad listen: output %q, want %q", got, want)
	}
}
