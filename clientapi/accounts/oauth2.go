package accounts

import (
	"net/http"
	"strconv"
	"strings"

	"concord/clientapi/auth"
	"concord/clientapi/httperr"
	"concord/clientapi/jsonio"
	"concord/federation/snowflake"
)

// authorizeBot is POST /oauth2/authorize?client_id=…&scope=bot&permissions=…
// {guild_id, permissions, authorize}: a user adds a bot to a guild. This
// handler checks the request; the guild layer (BotAdder) checks the guild
// and the user's MANAGE_GUILD there and adds the bot.
func (a *API) authorizeBot(w http.ResponseWriter, r *http.Request) error {
	c, err := auth.Person(r)
	if err != nil {
		return err
	}
	var body struct {
		GuildID     *snowflake.ID `json:"guild_id"`
		Permissions *string       `json:"permissions"`
		Authorize   bool          `json:"authorize"`
	}
	if err := jsonio.Decode(r, jsonio.MaxBody, &body); err != nil {
		return err
	}
	query := r.URL.Query()
	var form httperr.Form
	clientID, err := snowflake.Parse(query.Get("client_id"))
	if err != nil {
		form.Add("client_id", "NUMBER_TYPE_COERCE", "Value is not snowflake.")
	}
	if !hasScope(query.Get("scope"), "bot") {
		form.Add("scope", "SCOPE_REQUIRED", `Scope must include "bot".`)
	}
	perms := query.Get("permissions")
	if body.Permissions != nil {
		perms = *body.Permissions
	}
	if perms == "" {
		perms = "0"
	}
	permissions, err := strconv.ParseUint(perms, 10, 64)
	if err != nil || strings.HasPrefix(perms, "+") {
		form.Add("permissions", "NUMBER_TYPE_COERCE", "Value is not a decimal permission string.")
	}
	if body.GuildID == nil || *body.GuildID == 0 {
		form.Add("guild_id", "BASE_TYPE_REQUIRED", "This field is required")
	}
	if !body.Authorize {
		form.Add("authorize", "BASE_TYPE_REQUIRED", "Authorization must be granted.")
	}
	if err := form.Err(); err != nil {
		return err
	}
	app, err := a.loadApplication(r.Context(), a.db.Reader(), clientID)
	if err != nil {
		return err
	}
	if !app.BotPublic && app.Owner.ID != c.UserID {
		return httperr.MissingAccess
	}
	if a.bots == nil {
		return httperr.UnknownGuild
	}
	if err := a.bots.AddBot(r.Context(), *body.GuildID, app.ID, c.UserID, permissions); err != nil {
		return err
	}
	jsonio.Write(w, http.StatusOK, map[string]string{"location": strings.TrimRight(a.cfg.Issuer, "/") + "/oauth2/authorized"})
	return nil
}

func hasScope(scopes, want string) bool {
	for _, s := range strings.Fields(scopes) {
		if s == want {
			return true
		}
	}
	return false
}
