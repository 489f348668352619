package accounts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"concord/clientapi/auth"
	"concord/clientapi/httperr"
	"concord/clientapi/images"
	"concord/clientapi/jsonio"
	"concord/clientapi/objects"
	"concord/clientapi/params"
	"concord/clientapi/password"
	"concord/federation/snowflake"
	"concord/storage"
)

func (a *API) getMe(w http.ResponseWriter, r *http.Request) error {
	me, err := objects.LoadMe(r.Context(), a.db.Reader(), auth.From(r).UserID)
	if err != nil {
		return err
	}
	jsonio.Write(w, http.StatusOK, me)
	return nil
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request) error {
	id, err := params.ID(r, "id", httperr.UnknownUser)
	if err != nil {
		return err
	}
	me, err := objects.LoadMe(r.Context(), a.db.Reader(), id)
	if err != nil {
		return err
	}
	jsonio.Write(w, http.StatusOK, me.User)
	return nil
}

// patchBody is PATCH /users/@me. Avatars arrive inline as data URIs, so
// this body may be as large as the biggest avatar in base64.
type patchBody struct {
	Username   jsonio.Optional[string] `json:"username"`
	GlobalName jsonio.Optional[string] `json:"global_name"`
	Avatar     jsonio.Optional[string] `json:"avatar"`
	Bio        jsonio.Optional[string] `json:"bio"`
	// A person changing username or password confirms with the current
	// password, as on Discord.
	Password    string `json:"password"`
	NewPassword string `json:"new_password"`
}

const maxBio = 190

func (a *API) patchMe(w http.ResponseWriter, r *http.Request) error {
	c := auth.From(r)
	var body patchBody
	if err := jsonio.Decode(r, images.MaxBody, &body); err != nil {
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
	if strings.IndexFunc(globalName, unicode.IsControl) >= 0 {
		form.Add("global_name", "GLOBAL_NAME_INVALID", "Must not contain control characters.")
	}
	if body.NewPassword != "" {
		if c.Bot {
			form.Add("new_password", "BASE_TYPE_BAD_TYPE", "Bots have no password.")
		} else if err := password.Check(body.NewPassword, username); err != nil {
			form.Add("new_password", "PASSWORD_INVALID", err.Error())
		}
	}
	if body.Bio.Set && utf8.RuneCountInString(bio) > maxBio {
		form.Add("bio", "BASE_TYPE_MAX_LENGTH", "Must be 190 or fewer in length.")
	}
	var av *images.Image
	if body.Avatar.Set && !body.Avatar.Null {
		var err error
		if av, err = images.Parse(body.Avatar.V); err != nil {
			form.Add("avatar", "AVATAR_INVALID", err.Error())
		}
	}
	if err := form.Err(); err != nil {
		return err
	}
	newHash, err := a.confirmPassword(r, c, &body)
	if err != nil {
		return busy(w, err)
	}
	// The blob goes in first: it is content-addressed, so a failed
	// transaction below leaves at most an unreferenced file, never a user
	// pointing at nothing.
	if av != nil {
		if err := a.blobs.Put(r.Context(), av.Key, bytes.NewReader(av.Data), int64(len(av.Data)), av.ContentType); err != nil {
			return err
		}
	}
	var me objects.Me
	err = a.db.Write(r.Context(), func(q storage.Querier) error {
		ctx := r.Context()
		if newHash != "" {
			if _, err := q.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, newHash, int64(c.UserID)); err != nil {
				return fmt.Errorf("update password: %w", err)
			}
		}
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
				hash, key = &av.Hash, &av.Key
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
		me, err = objects.LoadMe(ctx, q, c.UserID)
		return err
	})
	if err != nil {
		return err
	}
	if newHash != "" {
		// A new password ends every other session, as on Discord.
		if err := a.endOtherSessions(r.Context(), c); err != nil {
			return err
		}
	}
	if a.users != nil {
		a.users.ForgetUser(c.UserID)
	}
	a.publish(c.UserID, "USER_UPDATE", me)
	jsonio.Write(w, http.StatusOK, me)
	return nil
}

// confirmPassword checks, for a person changing their username or
// password, the current password in body, and returns the hash of the new
// password if one is asked for.
func (a *API) confirmPassword(r *http.Request, c auth.Caller, body *patchBody) (string, error) {
	if c.Bot || (!body.Username.Set && body.NewPassword == "") {
		return "", nil
	}
	if body.Username.Set && body.NewPassword == "" {
		var current string
		err := a.db.Reader().QueryRowContext(r.Context(), `SELECT username FROM users WHERE id = ?`, int64(c.UserID)).Scan(&current)
		if err != nil {
			return "", fmt.Errorf("load username: %w", err)
		}
		if strings.EqualFold(current, body.Username.V) {
			return "", nil // not a change: clients send the whole profile
		}
	}
	wrong := httperr.Field("password", "PASSWORD_DOES_NOT_MATCH", "Password does not match.")
	if body.Password == "" {
		return "", wrong
	}
	var hash *string
	err := a.db.Reader().QueryRowContext(r.Context(), `SELECT password_hash FROM users WHERE id = ?`, int64(c.UserID)).Scan(&hash)
	if err != nil {
		return "", fmt.Errorf("load password: %w", err)
	}
	if hash == nil {
		return "", wrong
	}
	ok, _, err := a.hasher.Verify(r.Context(), body.Password, *hash)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", wrong
	}
	if body.NewPassword == "" {
		return "", nil
	}
	return a.hasher.Hash(r.Context(), body.NewPassword)
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
