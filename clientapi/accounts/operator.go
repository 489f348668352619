package accounts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"concord/clientapi/password"
	"concord/federation/snowflake"
	"concord/storage"
)

// Operator is what the node's operator does to accounts from the command
// line (concord user …), straight on the node's database: it works whether
// the node is stopped or running. A running node sees revoked sessions
// within its session cache's lifetime (2 s); its open gateway connections
// end when their tokens are next checked, at the latest on reconnect.
type Operator struct {
	db     *storage.DB
	ids    *snowflake.Generator
	hasher *password.Hasher
	now    func() time.Time
}

// ErrNoSuchUser: no account has that username.
var ErrNoSuchUser = errors.New("no account has that username")

// NewOperator works on db, minting IDs with ids and hashing with p.
func NewOperator(db *storage.DB, ids *snowflake.Generator, p password.Params) (*Operator, error) {
	h, err := password.NewHasher(p)
	if err != nil {
		return nil, err
	}
	return &Operator{db: db, ids: ids, hasher: h, now: time.Now}, nil
}

// CreateUser makes an account with a password, whatever the node's
// registration mode.
func (o *Operator) CreateUser(ctx context.Context, username, pw string) (snowflake.ID, error) {
	username = strings.ToLower(username)
	if err := checkUsername(username); err != nil {
		return 0, fmt.Errorf("username: %w", err)
	}
	if err := password.Check(pw, username); err != nil {
		return 0, fmt.Errorf("password: %w", err)
	}
	hash, err := o.hasher.Hash(ctx, pw)
	if err != nil {
		return 0, err
	}
	uid := o.ids.Next()
	err = o.db.Write(ctx, func(q storage.Querier) error {
		if err := usernameFree(ctx, q, username, 0); err != nil {
			return errors.New("username is taken")
		}
		_, err := q.ExecContext(ctx, `INSERT INTO users (id, username, password_hash, created_at) VALUES (?, ?, ?, ?)`,
			int64(uid), username, hash, o.now().UnixMilli())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("create user: %w", err)
	}
	return uid, nil
}

// ResetPassword sets a new password and ends every session of the account.
func (o *Operator) ResetPassword(ctx context.Context, username, pw string) error {
	username = strings.ToLower(username)
	if err := password.Check(pw, username); err != nil {
		return fmt.Errorf("password: %w", err)
	}
	hash, err := o.hasher.Hash(ctx, pw)
	if err != nil {
		return err
	}
	return o.change(ctx, username, func(q storage.Querier, uid int64) error {
		_, err := q.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, hash, uid)
		return err
	})
}

// SetDisabled disables an account (it cannot log in, and its sessions
// end) or enables it again.
func (o *Operator) SetDisabled(ctx context.Context, username string, disabled bool) error {
	var at any
	if disabled {
		at = o.now().UnixMilli()
	}
	return o.change(ctx, strings.ToLower(username), func(q storage.Querier, uid int64) error {
		_, err := q.ExecContext(ctx, `UPDATE users SET disabled_at = ? WHERE id = ?`, at, uid)
		return err
	})
}

// Delete ends an account: its sessions and relationships go, its name,
// email, password and avatar are erased, and it stays only as the
// disabled author "deleted_user_<id>" of what it wrote, as on Discord.
func (o *Operator) Delete(ctx context.Context, username string) error {
	return o.change(ctx, strings.ToLower(username), func(q storage.Querier, uid int64) error {
		if _, err := q.ExecContext(ctx, `UPDATE users SET username = ?, email = NULL, password_hash = NULL,
			avatar = NULL, avatar_blob = NULL, disabled_at = ? WHERE id = ?`,
			fmt.Sprintf("deleted_user_%d", uid), o.now().UnixMilli(), uid); err != nil {
			return err
		}
		_, err := q.ExecContext(ctx, `DELETE FROM relationships WHERE user_id = ? OR peer_id = ?`, uid, uid)
		return err
	})
}

// change runs fn on the person (not a bot) named username and ends the
// account's sessions, in one transaction.
func (o *Operator) change(ctx context.Context, username string, fn func(q storage.Querier, uid int64) error) error {
	return o.db.Write(ctx, func(q storage.Querier) error {
		var uid int64
		err := q.QueryRowContext(ctx, `SELECT id FROM users WHERE lower(username) = ?
			AND id NOT IN (SELECT id FROM applications)`, username).Scan(&uid)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNoSuchUser
		}
		if err != nil {
			return fmt.Errorf("find %s: %w", username, err)
		}
		if err := fn(q, uid); err != nil {
			return fmt.Errorf("change %s: %w", username, err)
		}
		if _, err := q.ExecContext(ctx, `UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`,
			o.now().UnixMilli(), uid); err != nil {
			return fmt.Errorf("revoke sessions of %s: %w", username, err)
		}
		return nil
	})
}
