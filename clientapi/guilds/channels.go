package guilds

import (
	"net/http"

	"concord/clientapi/auth"
	"concord/clientapi/httperr"
	"concord/clientapi/jsonio"
	"concord/clientapi/objects"
	"concord/clientapi/params"
	"concord/federation/guild"
	"concord/federation/perm"
	"concord/federation/room"
	"concord/federation/snowflake"
)

// channelBody is the body of channel create and modify. parent_id null
// clears the category.
type channelBody struct {
	Name                 *string                       `json:"name"`
	Type                 *int                          `json:"type"`
	Topic                jsonio.Optional[string]       `json:"topic"`
	Position             *int                          `json:"position"`
	ParentID             jsonio.Optional[snowflake.ID] `json:"parent_id"`
	NSFW                 *bool                         `json:"nsfw"`
	RateLimitPerUser     *int                          `json:"rate_limit_per_user"`
	Bitrate              *int                          `json:"bitrate"`
	UserLimit            *int                          `json:"user_limit"`
	PermissionOverwrites *[]overwriteBody              `json:"permission_overwrites"`
}

type overwriteBody struct {
	ID    snowflake.ID       `json:"id"`
	Type  perm.OverwriteType `json:"type"`
	Allow perm.Bits          `json:"allow"`
	Deny  perm.Bits          `json:"deny"`
}

// fields checks the body and turns it into the event's fields.
func (b *channelBody) fields(creating bool) (guild.ChannelFields, error) {
	var f guild.ChannelFields
	var form httperr.Form
	if b.Name != nil {
		if n := len([]rune(*b.Name)); n < 1 || n > guild.MaxNameRunes {
			form.Add("name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
		}
	} else if creating {
		form.Add("name", "BASE_TYPE_REQUIRED", "This field is required")
	}
	f.Name = b.Name
	if b.Topic.Set {
		if len([]rune(b.Topic.V)) > guild.MaxTopicRunes {
			form.Add("topic", "BASE_TYPE_BAD_LENGTH", "Must be 1024 or fewer in length.")
		}
		f.Topic = &b.Topic.V
	}
	for _, v := range []struct {
		name    string
		v       *int
		lo, hi  int
		dst     **int
		message string
	}{
		{"position", b.Position, 0, maxPosition, &f.Position, "Must be between 0 and 1048576."},
		{"rate_limit_per_user", b.RateLimitPerUser, 0, 21600, &f.RateLimitPerUser, "Must be between 0 and 21600."},
		{"bitrate", b.Bitrate, 8000, 384000, &f.Bitrate, "Must be between 8000 and 384000."},
		{"user_limit", b.UserLimit, 0, 99, &f.UserLimit, "Must be between 0 and 99."},
	} {
		if v.v != nil && (*v.v < v.lo || *v.v > v.hi) {
			form.Add(v.name, "NUMBER_TYPE_MAX", v.message)
		}
		*v.dst = v.v
	}
	if b.ParentID.Set {
		f.ParentID = (*guild.Ref)(&b.ParentID.V)
	}
	f.NSFW = b.NSFW
	if b.PermissionOverwrites != nil && (len(*b.PermissionOverwrites) > 0 || !creating) {
		// A new channel's empty list is no list: libraries send one unasked,
		// and it must not need MANAGE_ROLES.
		list := make([]guild.OverwriteFields, 0, len(*b.PermissionOverwrites))
		for _, o := range *b.PermissionOverwrites {
			if o.Type != perm.OverwriteRole && o.Type != perm.OverwriteMember {
				form.Add("permission_overwrites", "BASE_TYPE_CHOICES", "type must be 0 (role) or 1 (member).")
			}
			list = append(list, guild.OverwriteFields(o))
		}
		f.Overwrites = &list
	}
	return f, form.Err()
}

func (a *API) listChannels(w http.ResponseWriter, r *http.Request) error {
	c := auth.From(r)
	id, err := params.ID(r, "guild_id", httperr.UnknownGuild)
	if err != nil {
		return err
	}
	var out []objects.Channel
	err = a.inGuild(r.Context(), id, c.UserID, func(s *guild.State, _ *guild.Member) error {
		out = objects.VisibleChannels(s, c.UserID, a.nowMs())
		return nil
	})
	if err != nil {
		return err
	}
	jsonio.Write(w, http.StatusOK, out)
	return nil
}

func (a *API) createChannel(w http.ResponseWriter, r *http.Request) error {
	c := auth.From(r)
	gid, err := params.ID(r, "guild_id", httperr.UnknownGuild)
	if err != nil {
		return err
	}
	var body channelBody
	if err := jsonio.Decode(r, jsonio.MaxBody, &body); err != nil {
		return err
	}
	f, err := body.fields(true)
	if err != nil {
		return err
	}
	typ := guild.ChannelText
	if body.Type != nil {
		typ = *body.Type
	}
	switch typ {
	case guild.ChannelText, guild.ChannelVoice, guild.ChannelCategory:
	default:
		return httperr.Field("type", "BASE_TYPE_CHOICES", "Value must be one of {0, 2, 4}.")
	}
	id := a.core.NewID()
	if err := a.send(r.Context(), gid, c.UserID, guild.TypeChannelCreate, guild.ChannelCreate{ID: id, Type: typ, ChannelFields: f}); err != nil {
		return err
	}
	return a.writeChannel(w, r, gid, id, http.StatusCreated)
}

// writeChannel answers with channel id of room gid.
func (a *API) writeChannel(w http.ResponseWriter, r *http.Request, gid, id snowflake.ID, status int) error {
	var out objects.Channel
	err := a.inRoomChannel(r.Context(), gid, id, auth.From(r).UserID, func(s *guild.State, ch *guild.Channel, _ perm.Bits) error {
		out = objects.RenderChannel(s, ch)
		return nil
	})
	if err != nil {
		return err
	}
	jsonio.Write(w, status, out)
	return nil
}

func (a *API) getChannel(w http.ResponseWriter, r *http.Request) error {
	id, err := params.ID(r, "channel_id", httperr.UnknownChannel)
	if err != nil {
		return err
	}
	user := auth.From(r).UserID
	guildChannel := a.seesGuildChannel(user)
	dm := false
	gid, err := a.channelRoom(r.Context(), id, user, func(s *guild.State, ch *guild.Channel) bool {
		dm = objects.IsDM(s) // channelRoom asks only rooms user is in
		return dm || guildChannel(s, ch)
	})
	if err != nil {
		return err
	}
	if !dm {
		return a.writeChannel(w, r, gid, id, http.StatusOK)
	}
	out, err := a.objects.DMs(r.Context(), user, gid)
	if err != nil {
		return err
	}
	if len(out) == 0 {
		return httperr.UnknownChannel
	}
	jsonio.Write(w, http.StatusOK, out[0])
	return nil
}

// channelPath resolves {channel_id} to the channel and the room that holds
// it, among those whose channel the caller can see, for a route whose
// event the rules check: they decide what the caller may do there.
func (a *API) channelPath(r *http.Request) (gid, id snowflake.ID, err error) {
	if id, err = params.ID(r, "channel_id", httperr.UnknownChannel); err != nil {
		return 0, 0, err
	}
	user := auth.From(r).UserID
	gid, err = a.channelRoom(r.Context(), id, user, func(s *guild.State, ch *guild.Channel) bool {
		return s.Permissions(user, ch.ID, a.nowMs()).Has(perm.ViewChannel)
	})
	return gid, id, err
}

// visibleChannel resolves {channel_id} to a channel the caller can see and
// its guild.
func (a *API) visibleChannel(r *http.Request) (gid, id snowflake.ID, ch objects.Channel, err error) {
	id, err = params.ID(r, "channel_id", httperr.UnknownChannel)
	if err != nil {
		return 0, 0, ch, err
	}
	err = a.inChannel(r.Context(), id, auth.From(r).UserID, func(s *guild.State, c *guild.Channel, _ perm.Bits) error {
		gid, ch = s.ID, objects.RenderChannel(s, c)
		return nil
	})
	return gid, id, ch, err
}

func (a *API) patchChannel(w http.ResponseWriter, r *http.Request) error {
	var body channelBody
	if err := jsonio.Decode(r, jsonio.MaxBody, &body); err != nil {
		return err
	}
	f, err := body.fields(false)
	if err != nil {
		return err
	}
	gid, id, err := a.channelPath(r)
	if err != nil {
		return err
	}
	if err := a.send(r.Context(), gid, auth.From(r).UserID, guild.TypeChannelUpdate, guild.ChannelUpdate{ID: id, ChannelFields: f}); err != nil {
		return err
	}
	return a.writeChannel(w, r, gid, id, http.StatusOK)
}

// deleteChannel answers with the channel as it was, as Discord does. On a
// DM it is the user's: leaving a group DM, closing a DM.
func (a *API) deleteChannel(w http.ResponseWriter, r *http.Request) error {
	if dm, err := a.leaveDM(w, r); dm || err != nil {
		return err
	}
	gid, id, ch, err := a.visibleChannel(r)
	if err != nil {
		return err
	}
	if err := a.send(r.Context(), gid, auth.From(r).UserID, guild.TypeChannelDelete, guild.ChannelDelete{ID: id}); err != nil {
		return err
	}
	jsonio.Write(w, http.StatusOK, ch)
	return nil
}

// reorderChannels is PATCH /guilds/{id}/channels [{id, position,
// parent_id}]: one channel.update per entry, all or none.
func (a *API) reorderChannels(w http.ResponseWriter, r *http.Request) error {
	c := auth.From(r)
	gid, err := params.ID(r, "guild_id", httperr.UnknownGuild)
	if err != nil {
		return err
	}
	var body []struct {
		ID       snowflake.ID                  `json:"id"`
		Position *int                          `json:"position"`
		ParentID jsonio.Optional[snowflake.ID] `json:"parent_id"`
	}
	if err := jsonio.Decode(r, jsonio.MaxBody, &body); err != nil {
		return err
	}
	if len(body) == 0 || len(body) > guild.MaxChannels {
		return httperr.Field(jsonio.BodyField, "BASE_TYPE_BAD_LENGTH", "Must list 1 to 500 channels.")
	}
	group := make([]room.Local, len(body))
	for i, e := range body {
		if e.Position != nil && (*e.Position < 0 || *e.Position > maxPosition) {
			return httperr.Field("position", "NUMBER_TYPE_MAX", "Must be between 0 and 1048576.")
		}
		u := guild.ChannelUpdate{ID: e.ID, ChannelFields: guild.ChannelFields{Position: e.Position}}
		if e.ParentID.Set {
			u.ParentID = (*guild.Ref)(&e.ParentID.V)
		}
		group[i] = room.Local{Type: guild.TypeChannelUpdate, Content: u}
	}
	// The route names the guild: to an outsider it is the unknown one.
	if err := a.inGuild(r.Context(), gid, c.UserID, func(*guild.State, *guild.Member) error { return nil }); err != nil {
		return err
	}
	if err := a.sendAll(r.Context(), gid, c.UserID, group...); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// putOverwrite is PUT /channels/{id}/permissions/{overwrite_id}
// {type, allow, deny}.
func (a *API) putOverwrite(w http.ResponseWriter, r *http.Request) error {
	oid, err := params.ID(r, "overwrite_id", httperr.UnknownOverwrite)
	if err != nil {
		return err
	}
	var body struct {
		Type  *perm.OverwriteType `json:"type"`
		Allow perm.Bits           `json:"allow"`
		Deny  perm.Bits           `json:"deny"`
	}
	if err := jsonio.Decode(r, jsonio.MaxBody, &body); err != nil {
		return err
	}
	if body.Type == nil || (*body.Type != perm.OverwriteRole && *body.Type != perm.OverwriteMember) {
		return httperr.Field("type", "BASE_TYPE_CHOICES", "Value must be one of {0, 1}.")
	}
	gid, id, err := a.channelPath(r)
	if err != nil {
		return err
	}
	o := guild.ChannelOverwrite{ChannelID: id, OverwriteFields: guild.OverwriteFields{ID: oid, Type: *body.Type, Allow: body.Allow, Deny: body.Deny}}
	if err := a.send(r.Context(), gid, auth.From(r).UserID, guild.TypeChannelOverwrite, o); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) deleteOverwrite(w http.ResponseWriter, r *http.Request) error {
	oid, err := params.ID(r, "overwrite_id", httperr.UnknownOverwrite)
	if err != nil {
		return err
	}
	gid, id, err := a.channelPath(r)
	if err != nil {
		return err
	}
	if err := a.send(r.Context(), gid, auth.From(r).UserID, guild.TypeChannelOverwriteDelete, guild.ChannelOverwriteDelete{ChannelID: id, ID: oid}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
