package clientapi

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"concord/clientapi/httperr"
	"concord/clientapi/jsonio"
	"concord/federation/snowflake"
	"concord/storage"
)

// User is Discord's user object as others see it. discordgo decodes it
// strictly, so every number stays a number and every ID a string.
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

// loadMe reads a local user; httperr.UnknownUser when there is none.
func loadMe(ctx context.Context, q storage.Querier, id snowflake.ID) (Me, error) {
	m, err := scanMe(q.QueryRowContext(ctx, `SELECT `+meColumns+` FROM users WHERE id = ?`, int64(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return Me{}, httperr.UnknownUser
	}
	if err != nil {
		return Me{}, fmt.Errorf("load user %s: %w", id, err)
	}
	return m, nil
}

func (a *API) getMe(w http.ResponseWriter, r *http.Request) error {
	me, err := loadMe(r.Context(), a.db.Reader(), caller(r).UserID)
	if err != nil {
		return err
	}
	jsonio.Write(w, http.StatusOK, me)
	return nil
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id", httperr.UnknownUser)
	if err != nil {
		return err
	}
	me, err := loadMe(r.Context(), a.db.Reader(), id)
	if err != nil {
		return err
	}
	jsonio.Write(w, http.StatusOK, me.User)
	return nil
}

// patchBody is PATCH /users/@me. Avatars arrive inline as data URIs, so
// this body may be as large as the biggest avatar in base64.
type patchBody struct {
	Username   optional[string] `json:"username"`
	GlobalName optional[string] `json:"global_name"`
	Avatar     optional[string] `json:"avatar"`
	Bio        optional[string] `json:"bio"`
}

const maxBio = 190

func (a *API) patchMe(w http.ResponseWriter, r *http.Request) error {
	c := caller(r)
	var body patchBody
	if err := jsonio.Decode(r, maxAvatarBody, &body); err != nil {
		return err
	}
	var form httperr.Form
	username := strings.ToLower(body.Username.V)
	if body.Username.Set {
		if err := checkUsername(username); err != nil {
			form.Add("username", "USERNAME_INVALID", err.Error())
		}
	}
	// PostgreSQL refuses NUL in text; nobody needs one in a name.
	globalName := strings.TrimSpace(strings.ReplaceAll(body.GlobalName.V, "\x00", ""))
	bio := strings.ReplaceAll(body.Bio.V, "\x00", "")
	if body.GlobalName.Set && !body.GlobalName.Null && (globalName == "" || utf8.RuneCountInString(globalName) > 32) {
		form.Add("global_name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.")
	}
	if body.Bio.Set && utf8.RuneCountInString(bio) > maxBio {
		form.Add("bio", "BASE_TYPE_MAX_LENGTH", "Must be 190 or fewer in length.")
	}
	var av *avatar
	if body.Avatar.Set && !body.Avatar.Null {
		var err error
		if av, err = parseAvatar(body.Avatar.V); err != nil {
			form.Add("avatar", "AVATAR_INVALID", err.Error())
		}
	}
	if err := form.Err(); err != nil {
		return err
	}
	// The blob goes in first: it is content-addressed, so a failed
	// transaction below leaves at most an unreferenced file, never a user
	// pointing at nothing.
	if av != nil {
		if err := a.blobs.Put(r.Context(), av.key, bytes.NewReader(av.data), int64(len(av.data)), av.contentType); err != nil {
			return err
		}
	}
	var me Me
	err := a.db.Write(r.Context(), func(q storage.Querier) error {
		ctx := r.Context()
		if body.Username.Set {
			if err := usernameFree(ctx, q, username, c.UserID); err != nil {
				return err
			}
			if _, err := q.ExecContext(ctx, `UPDATE users SET username = ? WHERE id = ?`, username, int64(c.UserID)); err != nil {
				return fmt.Errorf("update username: %w", err)
			}
		}
		if body.GlobalName.Set {
			var v *string
			if !body.GlobalName.Null {
				v = &globalName
			}
			if _, err := q.ExecContext(ctx, `UPDATE users SET global_name = ? WHERE id = ?`, v, int64(c.UserID)); err != nil {
				return fmt.Errorf("update global_name: %w", err)
			}
		}
		if body.Avatar.Set {
			var hash, key *string
			if av != nil {
				hash, key = &av.hash, &av.key
			}
			if _, err := q.ExecContext(ctx, `UPDATE users SET avatar = ?, avatar_blob = ? WHERE id = ?`, hash, key, int64(c.UserID)); err != nil {
				return fmt.Errorf("update avatar: %w", err)
			}
		}
		if body.Bio.Set {
			if _, err := q.ExecContext(ctx, `UPDATE users SET bio = ? WHERE id = ?`, bio, int64(c.UserID)); err != nil {
				return fmt.Errorf("update bio: %w", err)
			}
		}
		var err error
		me, err = loadMe(ctx, q, c.UserID)
		return err
	})
	if err != nil {
		return err
	}
	a.publish(c.UserID, "USER_UPDATE", me)
	jsonio.Write(w, http.StatusOK, me)
	return nil
}

// checkUsername applies Discord's rules for unique usernames: 2 to 32 of
// a-z, 0-9, "_" and ".", without "..".
func checkUsername(name string) error {
	if len(name) < 2 || len(name) > 32 {
		return errors.New("Must be between 2 and 32 in length.")
	}
	for _, c := range name {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' && c != '.' {
			return errors.New("Username can only contain letters, numbers, underscores and periods.")
		}
	}
	if strings.Contains(name, "..") {
		return errors.New("Username cannot contain consecutive periods.")
	}
	if name == "everyone" || name == "here" {
		return errors.New("Username is reserved.")
	}
	return nil
}

// usernameFree fails when another account (not self) holds name, compared
// case-insensitively as the unique index does.
func usernameFree(ctx context.Context, q storage.Querier, name string, self snowflake.ID) error {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE lower(username) = lower(?) AND id <> ?`,
		name, int64(self)).Scan(&n); err != nil {
		return fmt.Errorf("check username: %w", err)
	}
	if n > 0 {
		return httperr.Field("username", "USERNAME_ALREADY_TAKEN", "Username is unavailable. Try adding numbers, letters, underscores _, or periods.")
	}
	return nil
}
