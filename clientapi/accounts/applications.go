package accounts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"concord/clientapi/auth"
	"concord/clientapi/httperr"
	"concord/clientapi/jsonio"
	"concord/clientapi/objects"
	"concord/clientapi/params"
	"concord/federation/snowflake"
	"concord/storage"
)

// Application flags an owner may set: the privileged gateway intents and
// their _LIMITED variants. The gateway enforces them.
const (
	FlagGatewayPresence              = 1 << 12
	FlagGatewayPresenceLimited       = 1 << 13
	FlagGatewayGuildMembers          = 1 << 14
	FlagGatewayGuildMembersLimited   = 1 << 15
	FlagGatewayMessageContent        = 1 << 18
	FlagGatewayMessageContentLimited = 1 << 19

	settableFlags = FlagGatewayPresence | FlagGatewayPresenceLimited | FlagGatewayGuildMembers |
		FlagGatewayGuildMembersLimited | FlagGatewayMessageContent | FlagGatewayMessageContentLimited
)

// Application is Discord's application object.
type Application struct {
	ID                  snowflake.ID `json:"id"`
	Name                string       `json:"name"`
	Icon                *string      `json:"icon"`
	Description         string       `json:"description"`
	BotPublic           bool         `json:"bot_public"`
	BotRequireCodeGrant bool         `json:"bot_require_code_grant"`
	VerifyKey           string       `json:"verify_key"`
	Flags               int64        `json:"flags"`
	Owner               objects.User `json:"owner"`
	Bot                 objects.User `json:"bot"`
}

func (a *API) loadApplication(ctx context.Context, q storage.Querier, id snowflake.ID) (Application, error) {
	var app Application
	var owner snowflake.ID
	err := q.QueryRowContext(ctx, `SELECT id, owner_id, name, icon, description, bot_public, bot_require_code_grant, flags
		FROM applications WHERE id = ?`, int64(id)).Scan(&app.ID, &owner, &app.Name, &app.Icon, &app.Description,
		&app.BotPublic, &app.BotRequireCodeGrant, &app.Flags)
	if errors.Is(err, sql.ErrNoRows) {
		return app, httperr.UnknownApplication
	}
	if err != nil {
		return app, fmt.Errorf("load application %s: %w", id, err)
	}
	o, err := objects.LoadMe(ctx, q, owner)
	if err != nil {
		return app, err
	}
	b, err := objects.LoadMe(ctx, q, id)
	if err != nil {
		return app, err
	}
	app.Owner, app.Bot = o.User, b.User
	return app, nil
}

// ownedApplication loads application {id} for its owner; to anyone else it
// does not exist.
func (a *API) ownedApplication(ctx context.Context, q storage.Querier, r *http.Request) (Application, error) {
	c, err := auth.Person(r)
	if err != nil {
		return Application{}, err
	}
	id, err := params.ID(r, "id", httperr.UnknownApplication)
	if err != nil {
		return Application{}, err
	}
	app, err := a.loadApplication(ctx, q, id)
	if err != nil {
		return app, err
	}
	if app.Owner.ID != c.UserID {
		return Application{}, httperr.UnknownApplication
	}
	return app, nil
}

// createApplication is POST /applications {name, description?}: an
// application and its bot user, whose username is the name. Bot usernames
// share the users' namespace, so a name that is taken is refused.
func (a *API) createApplication(w http.ResponseWriter, r *http.Request) error {
	c, err := auth.Person(r)
	if err != nil {
		return err
	}
	var body struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	if err := jsonio.Decode(r, jsonio.MaxBody, &body); err != nil {
		return err
	}
	name := strings.TrimSpace(body.Name)
	var form httperr.Form
	if n := utf8.RuneCountInString(name); n < 2 || n > 32 || strings.ContainsAny(name, "@#:`\x00") {
		form.Add("name", "BASE_TYPE_BAD_LENGTH", "Must be between 2 and 32 in length, without @ # : or `.")
	}
	if utf8.RuneCountInString(body.Description) > 400 || strings.ContainsRune(body.Description, 0) {
		form.Add("description", "BASE_TYPE_MAX_LENGTH", "Must be 400 or fewer in length.")
	}
	if err := form.Err(); err != nil {
		return err
	}
	id := a.ids.Next()
	var app Application
	err = a.db.Write(r.Context(), func(q storage.Querier) error {
		ctx := r.Context()
		if err := usernameFree(ctx, q, name, 0); err != nil {
			return httperr.Field("name", "USERNAME_ALREADY_TAKEN", "A user or bot already has this name.")
		}
		now := a.cfg.Now().UnixMilli()
		if _, err := q.ExecContext(ctx, `INSERT INTO users (id, username, bot, created_at) VALUES (?, ?, TRUE, ?)`,
			int64(id), name, now); err != nil {
			return fmt.Errorf("insert bot user: %w", err)
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO applications (id, owner_id, name, description, created_at)
			VALUES (?, ?, ?, ?, ?)`, int64(id), int64(c.UserID), name, body.Description, now); err != nil {
			return fmt.Errorf("insert application: %w", err)
		}
		var err error
		app, err = a.loadApplication(ctx, q, id)
		return err
	})
	if err != nil {
		return err
	}
	jsonio.Write(w, http.StatusCreated, app)
	return nil
}

// getOwnApplication is GET /applications/@me, for the bot itself.
func (a *API) getOwnApplication(w http.ResponseWriter, r *http.Request) error {
	c := auth.From(r)
	if !c.Bot {
		return httperr.OnlyBots
	}
	app, err := a.loadApplication(r.Context(), a.db.Reader(), c.UserID)
	if err != nil {
		return err
	}
	jsonio.Write(w, http.StatusOK, app)
	return nil
}

func (a *API) getApplication(w http.ResponseWriter, r *http.Request) error {
	app, err := a.ownedApplication(r.Context(), a.db.Reader(), r)
	if err != nil {
		return err
	}
	jsonio.Write(w, http.StatusOK, app)
	return nil
}

// patchApplication lets the owner change flags (privileged intents),
// description and bot_public.
func (a *API) patchApplication(w http.ResponseWriter, r *http.Request) error {
	return a.updateApplication(w, r, func(ctx context.Context, q storage.Querier) (Application, error) {
		return a.ownedApplication(ctx, q, r)
	})
}

// patchOwnApplication is PATCH /applications/@me, for the bot itself.
func (a *API) patchOwnApplication(w http.ResponseWriter, r *http.Request) error {
	c := auth.From(r)
	if !c.Bot {
		return httperr.OnlyBots
	}
	return a.updateApplication(w, r, func(ctx context.Context, q storage.Querier) (Application, error) {
		return a.loadApplication(ctx, q, c.UserID)
	})
}

// updateApplication changes what its caller may of the application load
// finds: flags (privileged intents), description, bot_public.
func (a *API) updateApplication(w http.ResponseWriter, r *http.Request, load func(context.Context, storage.Querier) (Application, error)) error {
	var body struct {
		Flags       jsonio.Optional[int64]  `json:"flags"`
		Description jsonio.Optional[string] `json:"description"`
		BotPublic   jsonio.Optional[bool]   `json:"bot_public"`
	}
	if err := jsonio.Decode(r, jsonio.MaxBody, &body); err != nil {
		return err
	}
	var form httperr.Form
	if body.Flags.Set && (body.Flags.Null || body.Flags.V&^settableFlags != 0) {
		form.Add("flags", "APPLICATION_FLAGS_INVALID", "Only the privileged intent flags may be set.")
	}
	if body.Description.Set && (utf8.RuneCountInString(body.Description.V) > 400 || strings.ContainsRune(body.Description.V, 0)) {
		form.Add("description", "BASE_TYPE_MAX_LENGTH", "Must be 400 or fewer in length.")
	}
	if err := form.Err(); err != nil {
		return err
	}
	var app Application
	err := a.db.Write(r.Context(), func(q storage.Querier) error {
		ctx := r.Context()
		var err error
		if app, err = load(ctx, q); err != nil {
			return err
		}
		if body.Flags.Set {
			app.Flags = body.Flags.V
		}
		if body.Description.Set {
			app.Description = body.Description.V
		}
		if body.BotPublic.Set {
			app.BotPublic = body.BotPublic.V
		}
		if _, err := q.ExecContext(ctx, `UPDATE applications SET flags = ?, description = ?, bot_public = ? WHERE id = ?`,
			app.Flags, app.Description, app.BotPublic, int64(app.ID)); err != nil {
			return fmt.Errorf("update application: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	jsonio.Write(w, http.StatusOK, app)
	return nil
}

// resetBotToken is POST /applications/{id}/bot/reset: a new token, shown
// once; the previous one stops working.
func (a *API) resetBotToken(w http.ResponseWriter, r *http.Request) error {
	var token string
	var botID snowflake.ID
	err := a.db.Write(r.Context(), func(q storage.Querier) error {
		app, err := a.ownedApplication(r.Context(), q, r)
		if err != nil {
			return err
		}
		botID = app.ID
		var hash []byte
		token, hash = auth.NewBotToken(app.ID)
		if _, err := q.ExecContext(r.Context(), `UPDATE applications SET bot_token_hash = ? WHERE id = ?`, hash, int64(app.ID)); err != nil {
			return fmt.Errorf("store bot token: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	a.auth.ForgetBot(botID)
	a.endLive(botID, 0)
	w.Header().Set("Cache-Control", "no-store")
	jsonio.Write(w, http.StatusOK, map[string]string{"token": token})
	return nil
}
