package interactions

import (
	"encoding/json"
	"fmt"
	"net/http"

	"concord/clientapi/auth"
	"concord/clientapi/httperr"
	"concord/clientapi/jsonio"
	"concord/clientapi/params"
	"concord/federation/guild"
	"concord/federation/snowflake"
)

// indexApp is an application as the command index lists it.
type indexApp struct {
	ID          snowflake.ID `json:"id"`
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Icon        *string      `json:"icon"`
	BotID       snowflake.ID `json:"bot_id"`
}

// guildCommandIndex is GET /guilds/{guild_id}/application-command-index,
// the route Discord's own client reads to offer a guild's commands: for a
// member, every command of the applications whose bots are in the guild,
// global and the guild's own. Who may use each is judged when it is
// invoked.
func (a *API) guildCommandIndex(w http.ResponseWriter, r *http.Request) error {
	c, err := auth.Person(r)
	if err != nil {
		return err
	}
	gid, err := params.ID(r, "guild_id", httperr.UnknownGuild)
	if err != nil {
		return err
	}
	if err := a.inGuild(r.Context(), gid, c.UserID); err != nil {
		return err
	}
	return a.commandIndex(w, r, gid, gid)
}

// channelCommandIndex is GET /channels/{channel_id}/application-command-index:
// the same for a channel the person sees, where a DM's bots offer their
// global commands.
func (a *API) channelCommandIndex(w http.ResponseWriter, r *http.Request) error {
	c, err := auth.Person(r)
	if err != nil {
		return err
	}
	cid, err := params.ID(r, "channel_id", httperr.UnknownChannel)
	if err != nil {
		return err
	}
	place, _, err := a.guilds.ChannelAs(r.Context(), c.UserID, cid)
	if err != nil {
		return err
	}
	scope := place.Room
	if place.DM {
		scope = 0
	}
	return a.commandIndex(w, r, place.Room, scope)
}

// commandIndex writes the commands of the bots in a room: global ones and
// those of guild scope (0: global only).
func (a *API) commandIndex(w http.ResponseWriter, r *http.Request, room, scope snowflake.ID) error {
	var bots map[snowflake.ID]bool
	err := a.core.View(r.Context(), room, func(s *guild.State) error {
		bots = map[snowflake.ID]bool{}
		for id, m := range s.Members {
			if m.Bot {
				bots[id] = true
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	rows, err := a.db.Reader().QueryContext(r.Context(), `SELECT c.body, p.id, p.name, p.description, p.icon
		FROM application_commands c JOIN applications p ON p.id = c.application_id
		WHERE c.guild_id IN (0, ?) ORDER BY c.name, c.id`, int64(scope))
	if err != nil {
		return fmt.Errorf("command index: %w", err)
	}
	defer rows.Close()
	out := struct {
		Applications []indexApp `json:"applications"`
		Commands     []Command  `json:"application_commands"`
	}{Applications: []indexApp{}, Commands: []Command{}}
	seen := map[snowflake.ID]bool{}
	for rows.Next() {
		var body string
		var app indexApp
		var id int64
		if err := rows.Scan(&body, &id, &app.Name, &app.Description, &app.Icon); err != nil {
			return fmt.Errorf("command index: %w", err)
		}
		app.ID, app.BotID = snowflake.ID(id), snowflake.ID(id)
		if !bots[app.ID] {
			continue
		}
		var cmd Command
		if err := json.Unmarshal([]byte(body), &cmd); err != nil {
			return fmt.Errorf("stored command: %w", err)
		}
		out.Commands = append(out.Commands, cmd)
		if !seen[app.ID] {
			seen[app.ID] = true
			out.Applications = append(out.Applications, app)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("command index: %w", err)
	}
	jsonio.Write(w, http.StatusOK, out)
	return nil
}
