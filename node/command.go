package node

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/BurntSushi/toml"
	"github.com/libp2p/go-libp2p/core/peer"

	"concord"
)

const usage = `usage: concord <command> [flags]

commands:
  run [--config FILE] [--listen HOST:PORT] [--data-dir DIR]
                         start a node (without --config: built-in defaults)
  init [--dir DIR]       write DIR/node.toml and a new node key in DIR/data
  user create|reset-password|disable|enable|delete [--config FILE] NAME
                         manage an account, whether the node runs or not
  registration-token [--config FILE] [--uses N] [--expires DURATION]
                         make a token to register with where registration
                         is by invite
  blobs sweep [--config FILE]
                         delete the stored files nothing names any more,
                         whether the node runs or not
  peers [--config FILE] [--url URL]
                         the nodes a running node is connected to, and the
                         guilds it shares with each (needs http.admin_token)
  version                print the version

Every config key can also be set as CONCORD_<SECTION>_<KEY>, e.g.
CONCORD_HTTP_LISTEN=0.0.0.0:8080; see node.toml.example.
`

// Main is the concord command. It returns the process exit code: 0 on
// success and on a clean shutdown after SIGINT or SIGTERM, 1 when something
// failed (one line on stderr says what), 2 for bad usage.
func Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return command{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, lookupEnv: os.LookupEnv}.main(ctx, args)
}

// command holds what the process gives the command, so tests can run it
// in-process with their own output and environment.
type command struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	lookupEnv      func(string) (string, bool)
}

// errUsage marks errors whose message is already printed with the usage.
var errUsage = errors.New("usage")

func (c command) main(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(c.stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "run":
		err = c.run(ctx, args[1:])
	case "init":
		err = c.init(args[1:])
	case "user":
		err = c.user(ctx, args[1:])
	case "registration-token":
		err = c.registrationToken(ctx, args[1:])
	case "blobs":
		err = c.blobs(ctx, args[1:])
	case "peers":
		err = c.peers(ctx, args[1:])
	case "version":
		fmt.Fprintln(c.stdout, "concord", Version)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(c.stdout, usage)
	default:
		fmt.Fprintf(c.stderr, "concord: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case errors.Is(err, errUsage):
		return 2
	case err != nil:
		fmt.Fprintf(c.stderr, "concord: %v\n", err)
		return 1
	}
	return 0
}

// flagSet returns a flag set that prints its errors and help to stderr.
func (c command) flagSet(name string) *flag.FlagSet {
	f := flag.NewFlagSet("concord "+name, flag.ContinueOnError)
	f.SetOutput(c.stderr)
	return f
}

// parse wraps FlagSet.Parse so that bad flags exit 2 after the flag
// package has printed the problem.
func parse(f *flag.FlagSet, args []string) error {
	if err := f.Parse(args); err != nil {
		return errUsage
	}
	if f.NArg() > 0 {
		fmt.Fprintf(f.Output(), "%s: unexpected argument %q\n", f.Name(), f.Arg(0))
		return errUsage
	}
	return nil
}

func (c command) run(ctx context.Context, args []string) error {
	f := c.flagSet("run")
	path := f.String("config", "", "config `file` (default: built-in defaults)")
	listen := f.String("listen", "", "override http.listen (`host:port`)")
	dataDir := f.String("data-dir", "", "override node.data_dir (`dir`)")
	if err := parse(f, args); err != nil {
		return err
	}

	// Unknown keys and bad variables are reported together with Validate's
	// findings; only an unreadable or unparsable file stops here.
	cfg, err := LoadConfig(*path, c.lookupEnv)
	var probs Problems
	if err != nil && !errors.As(err, &probs) {
		return fmt.Errorf("config: %w", err)
	}
	if *listen != "" {
		cfg.HTTP.Listen = *listen
	}
	if *dataDir != "" {
		cfg.Node.DataDir = *dataDir
	}
	var invalid Problems
	if errors.As(cfg.Validate(), &invalid) {
		probs = append(probs, invalid...)
	}
	if len(probs) > 0 {
		return fmt.Errorf("config: %w", probs)
	}

	log, err := newLogger(cfg.Log, c.stderr)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	n, err := New(ctx, cfg, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Concord is running: open %s\n", n.URL())
	return n.Run(ctx)
}

// newLogger builds the process logger from [log].
func newLogger(lc LogConfig, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(lc.Level)); err != nil {
		return nil, fmt.Errorf("log.level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	if lc.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return slog.New(slog.NewJSONHandler(w, opts)), nil
}

func (c command) init(args []string) error {
	f := c.flagSet("init")
	dir := f.String("dir", ".", "`directory` for node.toml and the data dir")
	if err := parse(f, args); err != nil {
		return err
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	path := filepath.Join(abs, "node.toml")
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("init: %s already exists; remove it first to start over", path)
	}
	cfg := DefaultConfig()
	cfg.Node.DataDir = filepath.Join(abs, "data")
	text, err := exampleWithDataDir(cfg.Node.DataDir)
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	if err := prepareDataDir(cfg.Node.DataDir); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	key, created, err := loadOrCreateKey(cfg.keyPath())
	if err != nil {
		return fmt.Errorf("node key: %w", err)
	}
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return fmt.Errorf("node key: %w", err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	verb := "kept existing"
	if created {
		verb = "created"
	}
	fmt.Fprintf(c.stdout, "wrote %s\n%s node key %s (peer ID %s)\nstart the node with: concord run --config %s\n",
		path, verb, cfg.keyPath(), id, path)
	return nil
}

// exampleWithDataDir is node.toml.example with data_dir pointing at dir, so
// the written file works whichever directory concord runs from.
func exampleWithDataDir(dir string) (string, error) {
	const line = `data_dir = "./data"`
	if !strings.Contains(concord.ExampleConfig, line) {
		return "", errors.New("node.toml.example lacks the line " + line)
	}
	// The TOML encoder quotes the path correctly whatever it contains.
	var b strings.Builder
	if err := toml.NewEncoder(&b).Encode(struct {
		DataDir string `toml:"data_dir"`
	}{dir}); err != nil {
		return "", err
	}
	return strings.Replace(concord.ExampleConfig, line, strings.TrimSpace(b.String()), 1), nil
}
