package accounts

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"concord/clientapi/auth"
	"concord/clientapi/httperr"
	"concord/clientapi/jsonio"
	"concord/federation/snowflake"
	"concord/storage"
)

// Settings is the part of Discord's user settings object Concord keeps.
type Settings struct {
	Status                  string            `json:"status"`
	CustomStatus            *CustomStatus     `json:"custom_status"`
	Theme                   string            `json:"theme"`
	Locale                  string            `json:"locale"`
	FriendSourceFlags       FriendSourceFlags `json:"friend_source_flags"`
	DefaultGuildsRestricted bool              `json:"default_guilds_restricted"`
	RestrictedGuilds        []snowflake.ID    `json:"restricted_guilds"`
}

// CustomStatus is the text under a user's name.
type CustomStatus struct {
	Text      *string       `json:"text"`
	EmojiID   *snowflake.ID `json:"emoji_id"`
	EmojiName *string       `json:"emoji_name"`
	ExpiresAt *time.Time    `json:"expires_at"`
}

// FriendSourceFlags says who may send this user friend requests.
type FriendSourceFlags struct {
	All           bool `json:"all"`
	MutualFriends bool `json:"mutual_friends"`
	MutualGuilds  bool `json:"mutual_guilds"`
}

func defaultSettings() Settings {
	return Settings{
		Status:            "online",
		Theme:             "dark",
		Locale:            "en-US",
		FriendSourceFlags: FriendSourceFlags{All: true, MutualFriends: true, MutualGuilds: true},
		RestrictedGuilds:  []snowflake.ID{},
	}
}

// loadSettings reads a user's settings, the defaults when never saved.
func loadSettings(ctx context.Context, q storage.Querier, id snowflake.ID) (Settings, error) {
	s := defaultSettings()
	var doc string
	err := q.QueryRowContext(ctx, `SELECT settings FROM user_settings WHERE user_id = ?`, int64(id)).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return s, nil
	}
	if err == nil {
		err = json.Unmarshal([]byte(doc), &s)
	}
	if err != nil {
		return s, fmt.Errorf("load settings of %s: %w", id, err)
	}
	return s, nil
}

// visible hides a custom status whose time has passed.
func (s Settings) visible(now time.Time) Settings {
	if s.CustomStatus != nil && s.CustomStatus.ExpiresAt != nil && !now.Before(*s.CustomStatus.ExpiresAt) {
		s.CustomStatus = nil
	}
	return s
}

func (a *API) getSettings(w http.ResponseWriter, r *http.Request) error {
	c, err := auth.Person(r)
	if err != nil {
		return err
	}
	s, err := loadSettings(r.Context(), a.db.Reader(), c.UserID)
	if err != nil {
		return err
	}
	jsonio.Write(w, http.StatusOK, s.visible(a.cfg.Now()))
	return nil
}

type settingsPatch struct {
	Status                  jsonio.Optional[string]            `json:"status"`
	CustomStatus            jsonio.Optional[CustomStatus]      `json:"custom_status"`
	Theme                   jsonio.Optional[string]            `json:"theme"`
	Locale                  jsonio.Optional[string]            `json:"locale"`
	FriendSourceFlags       jsonio.Optional[FriendSourceFlags] `json:"friend_source_flags"`
	DefaultGuildsRestricted jsonio.Optional[bool]              `json:"default_guilds_restricted"`
	RestrictedGuilds        jsonio.Optional[[]snowflake.ID]    `json:"restricted_guilds"`
}

var (
	statuses = map[string]bool{"online": true, "idle": true, "dnd": true, "invisible": true}
	themes   = map[string]bool{"dark": true, "light": true}
)

// apply validates p and merges it into s.
func (p settingsPatch) apply(s *Settings) error {
	var form httperr.Form
	if p.Status.Set {
		if !statuses[p.Status.V] {
			form.Add("status", "BASE_TYPE_CHOICES", "Value must be one of ('online', 'idle', 'dnd', 'invisible').")
		}
		s.Status = p.Status.V
	}
	if p.Theme.Set {
		if !themes[p.Theme.V] {
			form.Add("theme", "BASE_TYPE_CHOICES", "Value must be one of ('dark', 'light').")
		}
		s.Theme = p.Theme.V
	}
	if p.Locale.Set {
		if n := len(p.Locale.V); n < 2 || n > 16 || !asciiWord(p.Locale.V) {
			form.Add("locale", "LOCALE_INVALID", "Not a valid locale.")
		}
		s.Locale = p.Locale.V
	}
	if p.CustomStatus.Set {
		s.CustomStatus = nil
		if !p.CustomStatus.Null {
			cs := p.CustomStatus.V
			if cs.Text != nil && (utf8.RuneCountInString(*cs.Text) > 128 || !utf8.ValidString(*cs.Text)) {
				form.Add("custom_status.text", "BASE_TYPE_MAX_LENGTH", "Must be 128 or fewer in length.")
			}
			if cs.EmojiName != nil && utf8.RuneCountInString(*cs.EmojiName) > 32 {
				form.Add("custom_status.emoji_name", "BASE_TYPE_MAX_LENGTH", "Must be 32 or fewer in length.")
			}
			s.CustomStatus = &cs
		}
	}
	if p.FriendSourceFlags.Set && !p.FriendSourceFlags.Null {
		s.FriendSourceFlags = p.FriendSourceFlags.V
		if s.FriendSourceFlags.All {
			s.FriendSourceFlags.MutualFriends, s.FriendSourceFlags.MutualGuilds = true, true
		}
	}
	if p.DefaultGuildsRestricted.Set {
		s.DefaultGuildsRestricted = p.DefaultGuildsRestricted.V
	}
	if p.RestrictedGuilds.Set {
		if len(p.RestrictedGuilds.V) > 200 {
			form.Add("restricted_guilds", "BASE_TYPE_MAX_LENGTH", "Must be 200 or fewer in length.")
		}
		s.RestrictedGuilds = append([]snowflake.ID{}, p.RestrictedGuilds.V...)
	}
	return form.Err()
}

func asciiWord(s string) bool {
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

func (a *API) patchSettings(w http.ResponseWriter, r *http.Request) error {
	c, err := auth.Person(r)
	if err != nil {
		return err
	}
	var patch settingsPatch
	if err := jsonio.Decode(r, jsonio.MaxBody, &patch); err != nil {
		return err
	}
	ctx := r.Context()
	var s Settings
	err = a.db.Write(ctx, func(q storage.Querier) error {
		var err error
		if s, err = loadSettings(ctx, q, c.UserID); err != nil {
			return err
		}
		if err := patch.apply(&s); err != nil {
			return err
		}
		doc, err := json.Marshal(s)
		if err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO user_settings (user_id, settings) VALUES (?, ?)
			ON CONFLICT (user_id) DO UPDATE SET settings = excluded.settings`, int64(c.UserID), string(doc)); err != nil {
			return fmt.Errorf("save settings: %w", err)
		}
		if patch.Locale.Set {
			if _, err := q.ExecContext(ctx, `UPDATE users SET locale = ? WHERE id = ?`, s.Locale, int64(c.UserID)); err != nil {
				return fmt.Errorf("save locale: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s = s.visible(a.cfg.Now())
	a.publish(c.UserID, "USER_SETTINGS_UPDATE", s)
	jsonio.Write(w, http.StatusOK, s)
	return nil
}
