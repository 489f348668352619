package interactions

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"concord/clientapi/auth"
	"concord/clientapi/httperr"
	"concord/clientapi/jsonio"
	"concord/clientapi/params"
	"concord/federation/guild"
	"concord/federation/p2p"
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

// index is the application command index: applications and their
// commands.
type index struct {
	Applications []indexApp `json:"applications"`
	Commands     []Command  `json:"application_commands"`
}

// maxRemoteCommands bounds the commands one application's node may list:
// Discord's caps on global and guild commands of each kind.
const maxRemoteCommands = 2 * (maxChatCommands + maxUserCommands + maxMsgCommands)

// commandIndex writes the commands of the bots in a room: global ones and
// those of guild scope (0: global only); bots of other nodes' are asked of
// their nodes, and those that do not answer in time are left out.
func (a *API) commandIndex(w http.ResponseWriter, r *http.Request, roomID, scope snowflake.ID) error {
	ctx := r.Context()
	out, err := a.localIndex(ctx, roomID, scope)
	if err != nil {
		return err
	}
	for _, idx := range a.remoteIndexes(ctx, roomID, scope) {
		out.Applications = append(out.Applications, idx.Applications...)
		out.Commands = append(out.Commands, idx.Commands...)
	}
	jsonio.Write(w, http.StatusOK, out)
	return nil
}

// botsIn returns the bots in a room with their home nodes.
func (a *API) botsIn(ctx context.Context, roomID snowflake.ID) (map[snowflake.ID]string, error) {
	var bots map[snowflake.ID]string
	err := a.core.View(ctx, roomID, func(s *guild.State) error {
		bots = map[snowflake.ID]string{}
		for id, m := range s.Members {
			if m.Bot {
				bots[id] = s.Homes[id]
			}
		}
		return nil
	})
	return bots, err
}

// localIndex is the index of this node's bots in a room.
func (a *API) localIndex(ctx context.Context, roomID, scope snowflake.ID) (index, error) {
	out := index{Applications: []indexApp{}, Commands: []Command{}}
	bots, err := a.botsIn(ctx, roomID)
	if err != nil {
		return out, err
	}
	rows, err := a.db.Reader().QueryContext(ctx, `SELECT c.body, p.id, p.name, p.description, p.icon
		FROM application_commands c JOIN applications p ON p.id = c.application_id
		WHERE c.guild_id IN (0, ?) ORDER BY c.name, c.id`, int64(scope))
	if err != nil {
		return out, fmt.Errorf("command index: %w", err)
	}
	defer rows.Close()
	seen := map[snowflake.ID]bool{}
	for rows.Next() {
		var body string
		var app indexApp
		var id int64
		if err := rows.Scan(&body, &id, &app.Name, &app.Description, &app.Icon); err != nil {
			return out, fmt.Errorf("command index: %w", err)
		}
		app.ID, app.BotID = snowflake.ID(id), snowflake.ID(id)
		if _, in := bots[app.ID]; !in {
			continue
		}
		var cmd Command
		if err := json.Unmarshal([]byte(body), &cmd); err != nil {
			return out, fmt.Errorf("stored command: %w", err)
		}
		out.Commands = append(out.Commands, cmd)
		if !seen[app.ID] {
			seen[app.ID] = true
			out.Applications = append(out.Applications, app)
		}
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("command index: %w", err)
	}
	return out, nil
}

// remoteIndexes asks the home node of each remote bot in a room for its
// bots' commands, at once, and keeps of each answer only the bots that
// node is the home of and commands within their bounds.
func (a *API) remoteIndexes(ctx context.Context, roomID, scope snowflake.ID) []index {
	if a.remote == nil {
		return nil
	}
	bots, err := a.botsIn(ctx, roomID)
	if err != nil {
		return nil
	}
	self := a.remote.Self()
	homes := map[string]bool{}
	for _, home := range bots {
		if home != "" && home != self {
			homes[home] = true
		}
	}
	ctx, cancel := context.WithTimeout(ctx, remoteWait)
	defer cancel()
	answers := make(chan index, len(homes))
	for home := range homes {
		go func() {
			raw, err := a.remote.Commands(ctx, home, p2p.CommandsRequest{RoomID: roomID, Scope: scope})
			var idx index
			if err == nil {
				err = json.Unmarshal(raw, &idx)
			}
			if err != nil {
				a.log.Debug("interactions: remote command index", "home", home, "err", err)
			}
			answers <- checkIndex(idx, bots, home, scope)
		}()
	}
	out := make([]index, 0, len(homes))
	for range homes {
		out = append(out, <-answers)
	}
	return out
}

// checkIndex keeps of a node's index the bots whose home it is and their
// commands of the scope asked for, at most maxRemoteCommands each.
func checkIndex(idx index, bots map[snowflake.ID]string, home string, scope snowflake.ID) index {
	out := index{}
	count := map[snowflake.ID]int{}
	for _, app := range idx.Applications {
		if h, in := bots[app.ID]; in && h == home && count[app.ID] == 0 {
			count[app.ID] = 1
			app.BotID = app.ID
			out.Applications = append(out.Applications, app)
		}
	}
	for _, cmd := range idx.Commands {
		n := count[cmd.ApplicationID]
		if n == 0 || n > maxRemoteCommands || cmd.GuildID != nil && *cmd.GuildID != 0 && *cmd.GuildID != scope {
			continue
		}
		count[cmd.ApplicationID] = n + 1
		out.Commands = append(out.Commands, cmd)
	}
	return out
}
