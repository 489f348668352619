package objects

import (
	"context"
	"database/sql"
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

// LoadUsers reads users by ID. Every ID gets an entry: a remote user this
// node has no row for is shown by ID, with the ID as name.
func LoadUsers(ctx context.Context, q storage.Querier, ids []snowflake.ID) (map[snowflake.ID]User, error) {
	out := make(map[snowflake.ID]User, len(ids))
	for _, id := range ids {
		out[id] = User{ID: id, Username: id.String(), Discriminator: "0"}
	}
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
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("load users: %w", err)
		}
	}
	return out, nil
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
