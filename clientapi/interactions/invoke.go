package interactions

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"concord/clientapi/auth"
	"concord/clientapi/httperr"
	"concord/clientapi/jsonio"
	"concord/clientapi/objects"
	"concord/federation/guild"
	"concord/federation/perm"
	"concord/federation/snowflake"
)

// invokeBody is POST /interactions as Discord's own client sends it: a
// command (type 2), its autocomplete (4), a component click (3) or a modal
// submit (5).
type invokeBody struct {
	Type          int             `json:"type"`
	ApplicationID snowflake.ID    `json:"application_id"`
	GuildID       *snowflake.ID   `json:"guild_id"`
	ChannelID     snowflake.ID    `json:"channel_id"`
	MessageID     snowflake.ID    `json:"message_id,omitzero"` // omitted when zero: forward re-encodes the body
	SessionID     string          `json:"session_id"`
	Nonce         string          `json:"nonce"`
	Data          json.RawMessage `json:"data"`
}

// maxNonce bounds the nonce a client tags an invocation with.
const maxNonce = 64

// invoke is POST /interactions: a person starts an interaction; the bot's
// sessions get INTERACTION_CREATE and the person 204, then
// INTERACTION_SUCCESS once the bot answers or INTERACTION_FAILURE when it
// does not within 3 s. A bot whose home is another node is reached through
// that node.
func (a *API) invoke(w http.ResponseWriter, r *http.Request) error {
	c, err := auth.Person(r)
	if err != nil {
		return err
	}
	var body invokeBody
	if err := jsonio.Decode(r, jsonio.MaxBody, &body); err != nil {
		return err
	}
	ctx := r.Context()
	place, err := a.mayInvoke(ctx, c.UserID, &body)
	if err != nil {
		return err
	}
	home, err := a.appHome(ctx, place.Room, body.ApplicationID)
	if err != nil {
		return err
	}
	if home != "" {
		err = a.forward(ctx, c.UserID, home, &body)
	} else {
		_, err = a.start(ctx, c.UserID, "", a.ids.Next(), place, &body)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// mayInvoke checks that user may invoke commands where body says, and
// returns the place.
func (a *API) mayInvoke(ctx context.Context, user snowflake.ID, body *invokeBody) (objects.Place, error) {
	if len(body.Nonce) > maxNonce {
		return objects.Place{}, httperr.Field("nonce", "BASE_TYPE_MAX_LENGTH", "Must be 64 or fewer in length.")
	}
	place, have, err := a.guilds.ChannelAs(ctx, user, body.ChannelID)
	if err != nil {
		return objects.Place{}, err
	}
	// In a DM whoever sees the bot may use it; a DM's roles hold no
	// command permission.
	if !place.DM && !have.Has(perm.UseApplicationCommands) {
		return objects.Place{}, httperr.MissingPermissions
	}
	return place, nil
}

// start starts interaction id of user, whose home is node home ("": this
// node), with a bot of this node: the bot's sessions get
// INTERACTION_CREATE, and the user too when they are this node's.
func (a *API) start(ctx context.Context, user snowflake.ID, home string, id snowflake.ID, place objects.Place, body *invokeBody) (*interaction, error) {
	i := &interaction{id: id, app: body.ApplicationID, user: user, home: home, channel: place.Channel, room: place.Room,
		typ: body.Type, token: newToken(), nonce: body.Nonce, created: a.cfg.Now()}
	if !place.DM {
		i.guild = place.Room
	}
	var data any
	var err error
	switch body.Type {
	case typeCommand, typeAutocomplete:
		data, err = a.commandData(ctx, i, place, body.Data)
	case typeComponent:
		data, err = a.componentData(ctx, i, body.MessageID, body.Data)
	case typeModalSubmit:
		data, err = a.modalData(i, body.Data)
	default:
		return nil, httperr.Field("type", "BASE_TYPE_CHOICES", "Value must be one of {2, 3, 4, 5}.")
	}
	if err != nil {
		return nil, err
	}
	if i.payload, err = a.payload(ctx, i, place, data); err != nil {
		return nil, err
	}
	if err := a.live.add(i, i.created); err != nil {
		return nil, err
	}
	if home == "" {
		a.events.UserEvent(user, "INTERACTION_CREATE", map[string]any{"id": i.id, "nonce": i.nonce})
	}
	if i.typ != typeAutocomplete {
		i.failure = time.AfterFunc(firstAnswer, func() { a.failed(i) })
	}
	a.events.UserEvent(i.app, "INTERACTION_CREATE", i.payload)
	return i, nil
}

// failed tells the user a bot did not answer in time.
func (a *API) failed(i *interaction) {
	i.mu.Lock()
	answered := i.answered
	i.mu.Unlock()
	if !answered {
		a.tell(i, "INTERACTION_FAILURE", map[string]any{"id": i.id, "nonce": i.nonce})
	}
}

// commandData checks a command invocation against the command and who may
// use it, and returns its data as the bot sees it, with what its options
// name resolved.
func (a *API) commandData(ctx context.Context, i *interaction, place objects.Place, raw json.RawMessage) (any, error) {
	var d struct {
		ID       snowflake.ID  `json:"id"`
		Name     string        `json:"name"`
		Type     int           `json:"type"`
		Options  []optionValue `json:"options"`
		TargetID snowflake.ID  `json:"target_id"`
	}
	if json.Unmarshal(raw, &d) != nil {
		return nil, httperr.Field("data", "BASE_TYPE_BAD_TYPE", "Must be a command's data.")
	}
	cmd, err := a.commandFor(ctx, i.app, i.guild, d.ID)
	if err != nil {
		return nil, err
	}
	if cmd.Name != d.Name || cmd.Type != max(d.Type, commandChatInput) {
		return nil, httperr.UnknownCommand
	}
	i.name = cmd.Name
	res := newResolved()
	out := map[string]any{"id": cmd.ID, "name": cmd.Name, "type": cmd.Type, "resolved": res}
	if i.guild != 0 {
		out["guild_id"] = i.guild
	}
	err = a.core.View(ctx, place.Room, func(s *guild.State) error {
		if s.Members[i.app] == nil {
			return httperr.UnknownCommand // the bot is not here: its commands are not offered
		}
		if err := mayUse(ctx, a, s, &cmd, i); err != nil {
			return err
		}
		switch cmd.Type {
		case commandChatInput:
			opts, path, err := checkValues(s, cmd.Options, d.Options, res, i.typ == typeAutocomplete)
			if err != nil {
				return err
			}
			if path != "" {
				i.name += " " + path
			}
			out["options"] = opts
		case commandUser:
			if d.TargetID == 0 {
				return httperr.UnknownUser
			}
			res.user(s, d.TargetID)
			out["target_id"] = d.TargetID
		case commandMessage:
			out["target_id"] = d.TargetID
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if cmd.Type == commandMessage {
		m, err := a.guilds.MessageAs(ctx, i.user, i.channel, d.TargetID)
		if err != nil {
			return nil, err
		}
		res.Messages[d.TargetID.String()] = m
	}
	return out, res.fill(ctx, a.objects)
}

// commandFor loads a command of app usable in guild (global, or that
// guild's).
func (a *API) commandFor(ctx context.Context, app, guildID, id snowflake.ID) (Command, error) {
	var body string
	err := a.db.Reader().QueryRowContext(ctx, `SELECT body FROM application_commands WHERE id = ? AND application_id = ?
		AND guild_id IN (0, ?)`, int64(id), int64(app), int64(guildID)).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return Command{}, httperr.UnknownCommand
	}
	if err != nil {
		return Command{}, fmt.Errorf("load command: %w", err)
	}
	var c Command
	return c, json.Unmarshal([]byte(body), &c)
}

// mayUse applies who may use a command in a guild: administrators always;
// else a guild's overrides for the command (or for all of the
// application's) decide by user, then role, then @everyone, and channel;
// else default_member_permissions.
func mayUse(ctx context.Context, a *API, s *guild.State, cmd *Command, i *interaction) error {
	if i.guild == 0 {
		return nil // in a DM whoever may see the bot may use it
	}
	now := a.nowMs()
	have := s.Permissions(i.user, 0, now)
	if have.Has(perm.Administrator) {
		return nil
	}
	lists, err := loadPermissions(ctx, a.db.Reader(), cmd.ApplicationID, i.guild, 0)
	if err != nil {
		return err
	}
	var forCmd, forApp []CommandPermission
	for _, l := range lists {
		switch l.ID {
		case cmd.ID:
			forCmd = l.Permissions
		case cmd.ApplicationID:
			forApp = l.Permissions
		}
	}
	for _, list := range [][]CommandPermission{forCmd, forApp} {
		if allowed, decided := overrides(s, list, i); decided {
			if !allowed {
				return httperr.MissingPermissions
			}
			return nil
		}
	}
	if cmd.DefaultMemberPermissions != nil && !have.Has(*cmd.DefaultMemberPermissions) {
		return httperr.MissingPermissions
	}
	return nil
}

// overrides decides by one list: a channel denial stops everything; the
// user's own entry wins over their roles, which win over @everyone.
func overrides(s *guild.State, list []CommandPermission, i *interaction) (allowed, decided bool) {
	if len(list) == 0 {
		return false, false
	}
	allChannels := i.guild - 1
	for _, p := range list {
		if p.Type == targetChannel && (p.ID == i.channel || p.ID == allChannels) && !p.Permission {
			return false, true
		}
	}
	m := s.Members[i.user]
	var everyone, role *bool
	for _, p := range list {
		allow := p.Permission
		switch {
		case p.Type == targetUser && p.ID == i.user:
			return allow, true
		case p.Type == targetRole && p.ID == i.guild:
			everyone = &allow
		case p.Type == targetRole && m != nil && slices.Contains(m.Roles, p.ID):
			if role == nil || allow {
				role = &allow
			}
		}
	}
	if role != nil {
		return *role, true
	}
	if everyone != nil {
		return *everyone, true
	}
	return false, false
}

// payload builds INTERACTION_CREATE as the bot gets it: everything Discord's
// libraries read without checking it is there.
func (a *API) payload(ctx context.Context, i *interaction, place objects.Place, data any) (map[string]any, error) {
	p := map[string]any{
		"id": i.id, "application_id": i.app, "type": i.typ, "data": data, "token": i.token, "version": 1,
		"channel_id": i.channel, "locale": "en-US", "entitlements": []any{}, "attachment_size_limit": 25 << 20,
	}
	var channel objects.Channel
	var member *objects.Member
	var userPerms, appPerms perm.Bits
	err := a.core.View(ctx, place.Room, func(s *guild.State) error {
		now := a.nowMs()
		if ch := s.Channels[i.channel]; ch != nil {
			channel = objects.RenderChannel(s, ch)
		}
		userPerms, appPerms = s.Permissions(i.user, i.channel, now), s.Permissions(i.app, i.channel, now)
		if m := s.Members[i.user]; m != nil && !place.DM {
			rendered := objects.RenderMember(m)
			member = &rendered
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	p["app_permissions"] = appPerms
	if i.component != nil {
		p["message"] = *i.component
	}
	if place.DM {
		users, err := a.objects.Users(ctx, []snowflake.ID{i.user})
		if err != nil {
			return nil, err
		}
		p["user"] = users[i.user]
		p["context"] = 1
		p["authorizing_integration_owners"] = map[string]snowflake.ID{"0": i.user}
		p["channel"] = map[string]any{"id": i.channel, "type": guild.ChannelDM}
		return p, nil
	}
	members := []objects.Member{*member}
	if err := a.objects.WithUsers(ctx, members); err != nil {
		return nil, err
	}
	p["member"] = memberWithPermissions{Member: members[0], Permissions: userPerms}
	p["guild_id"], p["guild_locale"], p["context"] = i.guild, "en-US", 0
	p["guild"] = map[string]any{"id": i.guild, "locale": "en-US", "features": []string{}}
	p["channel"] = channel
	p["authorizing_integration_owners"] = map[string]snowflake.ID{"0": i.guild}
	return p, nil
}

// memberWithPermissions is a member as interactions show one: with the
// member's permissions in the channel.
type memberWithPermissions struct {
	objects.Member
	Permissions perm.Bits `json:"permissions"`
}
