package node

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"concord/clientapi/accounts"
	"concord/clientapi/password"
	"concord/federation/snowflake"
	"concord/storage"
)

// The operator's account commands work on the node's database directly,
// so they work whether the node runs or not (spec/client-api.md,
// "Registration").

const userUsage = `usage:
  concord user create [--config FILE] [--password-stdin] NAME
  concord user reset-password [--config FILE] [--password-stdin] NAME
  concord user disable|enable|delete [--config FILE] NAME
  concord registration-token [--config FILE] [--uses N] [--expires DURATION]

Without --password-stdin a password is made up and printed.
`

// operatorConfig loads and checks the config at path for an operator
// command, and makes sure the data dir is there.
func (c command) operatorConfig(path string) (Config, error) {
	cfg, err := LoadConfig(path, c.lookupEnv)
	if err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	if err := prepareDataDir(cfg.Node.DataDir); err != nil {
		return cfg, fmt.Errorf("data dir: %w", err)
	}
	return cfg, nil
}

// operatorDB opens the node's database for an operator command, beside
// the node if it runs.
func operatorDB(ctx context.Context, cfg Config) (*storage.DB, error) {
	return storage.Open(ctx, storage.Config{Driver: cfg.Storage.Driver, DSN: cfg.storageDSN(), MaxConns: 2, MinConns: 0})
}

// openAccounts loads the config at path and opens the node's database for
// an operator command.
func (c command) openAccounts(ctx context.Context, path string) (*storage.DB, *accounts.Operator, error) {
	cfg, err := c.operatorConfig(path)
	if err != nil {
		return nil, nil, err
	}
	key, _, err := loadOrCreateKey(cfg.keyPath())
	if err != nil {
		return nil, nil, fmt.Errorf("node key: %w", err)
	}
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("node key: %w", err)
	}
	db, err := operatorDB(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	// A worker of its own, so that IDs minted here never meet the running
	// node's in the same millisecond.
	ids := snowflake.NewGenerator(snowflake.WorkerFor([]byte(string(id) + "/operator")))
	op, err := accounts.NewOperator(db, ids, password.Default)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, op, nil
}

func (c command) user(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(c.stderr, userUsage)
		return errUsage
	}
	verb := args[0]
	f := c.flagSet("user " + verb)
	path := f.String("config", "", "config `file` (default: built-in defaults)")
	fromStdin := f.Bool("password-stdin", false, "read the password from the first line of stdin")
	if err := f.Parse(args[1:]); err != nil {
		return errUsage
	}
	if f.NArg() != 1 {
		fmt.Fprint(c.stderr, userUsage)
		return errUsage
	}
	name := f.Arg(0)
	db, op, err := c.openAccounts(ctx, *path)
	if err != nil {
		return err
	}
	defer db.Close()
	pw := func() (string, error) {
		if *fromStdin {
			line, err := bufio.NewReader(c.stdin).ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return "", err
			}
			return strings.TrimRight(line, "\r\n"), nil
		}
		var b [15]byte
		rand.Read(b[:])
		p := base64.RawURLEncoding.EncodeToString(b[:])
		fmt.Fprintf(c.stdout, "password: %s\n", p)
		return p, nil
	}
	switch verb {
	case "create":
		p, err := pw()
		if err != nil {
			return err
		}
		uid, err := op.CreateUser(ctx, name, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "created %s (%s)\n", strings.ToLower(name), uid)
		return nil
	case "reset-password":
		p, err := pw()
		if err != nil {
			return err
		}
		err = op.ResetPassword(ctx, name, p)
		return c.done(err, "reset the password of %s and ended its sessions", name)
	case "disable", "enable":
		err := op.SetDisabled(ctx, name, verb == "disable")
		return c.done(err, "%sd %s", verb, name)
	case "delete":
		err := op.Delete(ctx, name)
		return c.done(err, "deleted %s", name)
	}
	fmt.Fprintf(c.stderr, "concord user: unknown action %q\n\n%s", verb, userUsage)
	return errUsage
}

func (c command) done(err error, format string, args ...any) error {
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, format+"\n", args...)
	return nil
}

func (c command) registrationToken(ctx context.Context, args []string) error {
	f := c.flagSet("registration-token")
	path := f.String("config", "", "config `file` (default: built-in defaults)")
	uses := f.Int("uses", 1, "how many registrations the token admits")
	expires := f.Duration("expires", 7*24*time.Hour, "how long the token is good for")
	if err := parse(f, args); err != nil {
		return err
	}
	if *uses < 1 || *expires <= 0 {
		fmt.Fprintln(c.stderr, "concord registration-token: --uses and --expires must be positive")
		return errUsage
	}
	db, _, err := c.openAccounts(ctx, *path)
	if err != nil {
		return err
	}
	defer db.Close()
	tok, err := accounts.NewRegistrationToken(ctx, db, *uses, *expires, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, tok)
	return nil
}
