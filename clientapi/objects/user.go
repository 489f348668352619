package objects

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"concord/clientapi/httperr"
	"concord/federation/snowflake"
	"concord/storage"
)

// User is Discord's user object as others see it.
type User struct {
	ID            snowflake.ID `json:"id"`
	Username      string       `json:"username"`
	Discriminator string       `json:"discriminator"`
	GlobalName    *string      `json:"global_name"`
	Avatar        *string      `json:"avatar"`
	Bot           bool         `json:"bot,omitempty"`
	PublicFlags   int64        `json:"public_flags"`
	Banner        *string      `json:"banner"`
	AccentColor   *int         `json:"accent_color"`
}

// Me is the user object /users/@me returns to its owner.
type Me struct {
	User
	Flags       int64   `json:"flags"`
	Email       *string `json:"email"`
	Verified    bool    `json:"verified"`
	MFAEnabled  bool    `json:"mfa_enabled"`
	Locale      string  `json:"locale"`
	PremiumType int     `json:"premium_type"`
	Bio         string  `json:"bio"`
}

const meColumns = `id, username, global_name, avatar, bot, flags, email, verified, locale, bio`

func scanMe(row interface{ Scan(...any) error }) (Me, error) {
	var m Me
	err := row.Scan(&m.ID, &m.Username, &m.GlobalName, &m.Avatar, &m.Bot, &m.Flags, &m.Email, &m.Verified, &m.Locale, &m.Bio)
	m.Discriminator = "0"
	m.PublicFlags = m.Flags
	return m, err
}

// LoadMe reads a local user; httperr.UnknownUser when there is none.
func LoadMe(ctx context.Context, q storage.Querier, id snowflake.ID) (Me, error) {
	m, err := scanMe(q.QueryRowContext(ctx, `SELECT `+meColumns+` FROM users WHERE id = ?`, int64(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return Me{}, httperr.UnknownUser
	}
	if err != nil {
		return Me{}, fmt.Errorf("load user %s: %w", id, err)
	}
	return m, nil
}

// RemoteUser is what a node keeps of a remote user's profile, signed by
// their home node (spec/federation.md, "Remote users"), as node metadata
// under RemoteUserKey.
type RemoteUser struct {
	Username   string `json:"username"`
	GlobalName string `json:"global_name,omitempty"`
	Bot        bool   `json:"bot,omitempty"`
	Avatar     string `json:"avatar,omitempty"` // the avatar's blob key
	Node       string `json:"node"`             // the home node's name
	Origin     string `json:"origin"`           // the home node's peer ID
}

// RemoteHome returns the home node (peer ID) of a remote user whose profile
// this node keeps; httperr.UnknownUser for anyone else.
func RemoteHome(ctx context.Context, q storage.Querier, id snowflake.ID) (string, error) {
	r, err := remoteUser(ctx, q, id)
	return r.Origin, err
}

// remoteUser reads the kept profile of a remote user; httperr.UnknownUser
// when there is none.
func remoteUser(ctx context.Context, q storage.Querier, id snowflake.ID) (RemoteUser, error) {
	var value string
	err := q.QueryRowContext(ctx, `SELECT value FROM node_meta WHERE key = ?`, RemoteUserKey(id)).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return RemoteUser{}, httperr.UnknownUser
	}
	if err != nil {
		return RemoteUser{}, fmt.Errorf("remote user %s: %w", id, err)
	}
	var r RemoteUser
	if err := json.Unmarshal([]byte(value), &r); err != nil || r.Origin == "" {
		return RemoteUser{}, httperr.UnknownUser
	}
	return r, nil
}

// FindRemoteUsers lists the remote users whose kept profiles render with
// handle (name@node) as their username, ignoring case: usually one, more
// when two nodes share a name.
func FindRemoteUsers(ctx context.Context, q storage.Querier, handle string) ([]snowflake.ID, error) {
	rows, err := q.QueryContext(ctx, `SELECT key, value FROM node_meta WHERE key LIKE ?`, remoteUserPrefix+"%")
	if err != nil {
		return nil, fmt.Errorf("find remote users: %w", err)
	}
	defer rows.Close()
	var out []snowflake.ID
	for rows.Next() {
		var key, value string
		var r RemoteUser
		if err := rows.Scan(&key, &value); err != nil {
			return nil, fmt.Errorf("find remote users: %w", err)
		}
		id, err := snowflake.Parse(strings.TrimPrefix(key, remoteUserPrefix))
		if err != nil || json.Unmarshal([]byte(value), &r) != nil {
			continue
		}
		if strings.EqualFold(r.user(id).Username, handle) {
			out = append(out, id)
		}
	}
	return out, rows.Err()
}

// RemoteAvatar returns the avatar blob key and the home node of a remote
// user whose profile this node keeps; httperr.UnknownUser for anyone
// else, and an empty key for one without an avatar.
func RemoteAvatar(ctx context.Context, q storage.Querier, id snowflake.ID) (key, home string, err error) {
	r, err := remoteUser(ctx, q, id)
	return r.Avatar, r.Origin, err
}

// RemoteUserKey is the node metadata key of a remote user's profile.
func RemoteUserKey(id snowflake.ID) string { return remoteUserPrefix + id.String() }

const remoteUserPrefix = "remote_user/"

// user renders a remote user: the username carries the home node's name
// after an @, so that a client shows where they live.
func (r RemoteUser) user(id snowflake.ID) User {
	name := r.GlobalName
	if name == "" {
		name = r.Username
	}
	u := User{ID: id, Username: r.Username + "@" + r.Node, Discriminator: "0", GlobalName: &name, Bot: r.Bot}
	if r.Avatar != "" {
		hash := IconHash(r.Avatar)
		u.Avatar = &hash
	}
	return u
}

// LoadUsers reads users by ID. Every ID gets an entry: a remote user is
// shown by their home's signed profile, and one this node has none of yet
// by ID, with the ID as name.
func LoadUsers(ctx context.Context, q storage.Querier, ids []snowflake.ID) (map[snowflake.ID]User, error) {
	out := make(map[snowflake.ID]User, len(ids))
	for _, id := range ids {
		out[id] = User{ID: id, Username: id.String(), Discriminator: "0"}
	}
	local := make(map[snowflake.ID]bool, len(ids))
	for chunk := range slices.Chunk(ids, 500) {
		rows, err := q.QueryContext(ctx, `SELECT `+meColumns+` FROM users WHERE id IN (?`+strings.Repeat(", ?", len(chunk)-1)+`)`, Int64Args(chunk)...)
		if err != nil {
			return nil, fmt.Errorf("load users: %w", err)
		}
		for rows.Next() {
			m, err := scanMe(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("load users: %w", err)
			}
			out[m.ID] = m.User
			local[m.ID] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("load users: %w", err)
		}
	}
	remote := slices.DeleteFunc(slices.Clone(ids), func(id snowflake.ID) bool { return local[id] })
	if err := loadRemoteUsers(ctx, q, remote, out); err != nil {
		return nil, err
	}
	return out, nil
}

// loadRemoteUsers renders the remote users of ids whose profiles are kept.
func loadRemoteUsers(ctx context.Context, q storage.Querier, ids []snowflake.ID, out map[snowflake.ID]User) error {
	for chunk := range slices.Chunk(ids, 500) {
		keys := make([]any, len(chunk))
		byKey := make(map[string]snowflake.ID, len(chunk))
		for i, id := range chunk {
			keys[i] = RemoteUserKey(id)
			byKey[RemoteUserKey(id)] = id
		}
		rows, err := q.QueryContext(ctx, `SELECT key, value FROM node_meta WHERE key IN (?`+Placeholders(len(chunk)-1)+`)`, keys...)
		if err != nil {
			return fmt.Errorf("load remote users: %w", err)
		}
		for rows.Next() {
			var key, value string
			var r RemoteUser
			if err := rows.Scan(&key, &value); err != nil {
				rows.Close()
				return fmt.Errorf("load remote users: %w", err)
			}
			if json.Unmarshal([]byte(value), &r) == nil {
				out[byKey[key]] = r.user(byKey[key])
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("load remote users: %w", err)
		}
	}
	return nil
}

// WithUsers fills each member's user object from the users table.
func WithUsers(ctx context.Context, q storage.Querier, members []Member) error {
	ids := make([]snowflake.ID, len(members))
	for i, m := range members {
		ids[i] = m.User.ID
	}
	users, err := LoadUsers(ctx, q, ids)
	if err != nil {
		return err
	}
	for i := range members {
		u := users[members[i].User.ID]
		members[i].User = &u
	}
	return nil
}
