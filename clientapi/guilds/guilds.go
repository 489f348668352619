package guilds

import (
	"bytes"
	"context"
	"io"
	"net/http"

	"concord/clientapi/auth"
	"concord/clientapi/httperr"
	"concord/clientapi/images"
	"concord/clientapi/jsonio"
	"concord/clientapi/objects"
	"concord/clientapi/params"
	"concord/federation/guild"
	"concord/federation/room"
	"concord/federation/snowflake"
)

// createGuild is POST /guilds {name}: guild.create and a text channel
// "general" at the top, as Discord makes, both or neither.
func (a *API) createGuild(w http.ResponseWriter, r *http.Request) error {
	c := auth.From(r)
	var body struct {
		Name string                  `json:"name"`
		Icon jsonio.Optional[string] `json:"icon"`
	}
	if err := jsonio.Decode(r, images.MaxBody, &body); err != nil {
		return err
	}
	if n := len([]rune(body.Name)); n < 2 || n > guild.MaxNameRunes {
		return httperr.Field("name", "BASE_TYPE_BAD_LENGTH", "Must be between 2 and 100 in length.")
	}
	icon, err := a.storeImage(r, "icon", body.Icon)
	if err != nil {
		return err
	}
	id := a.core.NewID()
	general := "general"
	if err := a.sendAll(r.Context(), id, c.UserID,
		room.Local{Type: guild.TypeGuildCreate, Content: guild.GuildCreate{ID: id, Kind: guild.KindGuild, Name: body.Name, Icon: icon}},
		room.Local{Type: guild.TypeChannelCreate, Content: guild.ChannelCreate{ID: a.core.NewID(), Type: guild.ChannelText,
			ChannelFields: guild.ChannelFields{Name: &general}}}); err != nil {
		return err
	}
	return a.writeGuild(w, r, id, http.StatusCreated, false)
}

func (a *API) writeGuild(w http.ResponseWriter, r *http.Request, id snowflake.ID, status int, counts bool) error {
	var g objects.Guild
	err := a.inGuild(r.Context(), id, auth.From(r).UserID, func(s *guild.State, _ *guild.Member) error {
		g = objects.RenderGuild(s)
		if counts {
			n, online := len(s.Members), 0
			g.ApproximateMemberCount, g.ApproximatePresenceCount = &n, &online
		}
		return nil
	})
	if err != nil {
		return err
	}
	jsonio.Write(w, status, g)
	return nil
}

func (a *API) getGuild(w http.ResponseWriter, r *http.Request) error {
	id, err := params.ID(r, "guild_id", httperr.UnknownGuild)
	if err != nil {
		return err
	}
	return a.writeGuild(w, r, id, http.StatusOK, params.Bool(r, "with_counts"))
}

// patchGuildBody is PATCH /guilds/{id}. A null channel clears it.
type patchGuildBody struct {
	Name                        *string                       `json:"name"`
	Description                 jsonio.Optional[string]       `json:"description"`
	VerificationLevel           *int                          `json:"verification_level"`
	DefaultMessageNotifications *int                          `json:"default_message_notifications"`
	ExplicitContentFilter       *int                          `json:"explicit_content_filter"`
	SystemChannelID             jsonio.Optional[snowflake.ID] `json:"system_channel_id"`
	AFKChannelID                jsonio.Optional[snowflake.ID] `json:"afk_channel_id"`
	AFKTimeout                  *int                          `json:"afk_timeout"`
	OwnerID                     *snowflake.ID                 `json:"owner_id"`
	Icon                        jsonio.Optional[string]       `json:"icon"` // a data URI, or null
}

// update turns the body into a guild.update, naming every bad field.
func (b *patchGuildBody) update() (guild.GuildUpdate, bool, error) {
	var u guild.GuildUpdate
	var form httperr.Form
	if b.Name != nil {
		if n := len([]rune(*b.Name)); n < 2 || n > guild.MaxNameRunes {
			form.Add("name", "BASE_TYPE_BAD_LENGTH", "Must be between 2 and 100 in length.")
		}
		u.Name = b.Name
	}
	if b.Description.Set {
		u.Description = &b.Description.V
	}
	for _, f := range []struct {
		name string
		v    *int
		max  int
		dst  **int
	}{
		{"verification_level", b.VerificationLevel, 4, &u.VerificationLevel},
		{"default_message_notifications", b.DefaultMessageNotifications, 1, &u.DefaultMessageNotifications},
		{"explicit_content_filter", b.ExplicitContentFilter, 2, &u.ExplicitContentFilter},
	} {
		if f.v != nil && (*f.v < 0 || *f.v > f.max) {
			form.Add(f.name, "BASE_TYPE_CHOICES", "Value must be one of the allowed choices.")
		}
		*f.dst = f.v
	}
	if b.AFKTimeout != nil {
		switch *b.AFKTimeout {
		case 60, 300, 900, 1800, 3600:
		default:
			form.Add("afk_timeout", "BASE_TYPE_CHOICES", "Value must be one of {60, 300, 900, 1800, 3600}.")
		}
		u.AFKTimeout = b.AFKTimeout
	}
	if b.SystemChannelID.Set {
		u.SystemChannelID = (*guild.Ref)(&b.SystemChannelID.V)
	}
	if b.AFKChannelID.Set {
		u.AFKChannelID = (*guild.Ref)(&b.AFKChannelID.V)
	}
	changed := u != guild.GuildUpdate{}
	return u, changed, form.Err()
}

// patchGuild is PATCH /guilds/{id}: guild.update (MANAGE_GUILD) and, when
// owner_id names someone else, guild.transfer (owner only), both or neither.
func (a *API) patchGuild(w http.ResponseWriter, r *http.Request) error {
	c := auth.From(r)
	ctx := r.Context()
	id, err := params.ID(r, "guild_id", httperr.UnknownGuild)
	if err != nil {
		return err
	}
	var body patchGuildBody
	if err := jsonio.Decode(r, images.MaxBody, &body); err != nil {
		return err
	}
	update, changed, err := body.update()
	if err != nil {
		return err
	}
	var owner snowflake.ID
	if err := a.inGuild(ctx, id, c.UserID, func(s *guild.State, _ *guild.Member) error { owner = s.OwnerID(); return nil }); err != nil {
		return err
	}
	transfer := body.OwnerID != nil && *body.OwnerID != owner
	if body.Icon.Set || !changed && !transfer {
		// Ask first: an icon is stored only for a caller who may set it, and
		// a request that changes nothing is still answered as the rules would.
		probe := update
		if body.Icon.Set {
			probe.Icon = new(string)
		}
		if err := a.check(ctx, id, c.UserID, guild.TypeGuildUpdate, probe); err != nil {
			return err
		}
	}
	if update.Icon, err = a.storeImage(r, "icon", body.Icon); err != nil {
		return err
	}
	var group []room.Local
	if changed || update.Icon != nil {
		group = append(group, room.Local{Type: guild.TypeGuildUpdate, Content: update})
	}
	if transfer {
		group = append(group, room.Local{Type: guild.TypeGuildTransfer, Content: guild.GuildTransfer{NewOwnerID: *body.OwnerID}})
	}
	if len(group) > 0 {
		if err := a.sendAll(ctx, id, c.UserID, group...); err != nil {
			return err
		}
	}
	return a.writeGuild(w, r, id, http.StatusOK, false)
}

func (a *API) deleteGuild(w http.ResponseWriter, r *http.Request) error {
	return a.guildEvent(w, r, guild.TypeGuildDelete)
}

// leaveGuild is DELETE /users/@me/guilds/{id}.
func (a *API) leaveGuild(w http.ResponseWriter, r *http.Request) error {
	return a.guildEvent(w, r, guild.TypeMemberLeave)
}

// guildEvent sends a content-less event about the guild as the caller, a
// member, and answers 204.
func (a *API) guildEvent(w http.ResponseWriter, r *http.Request, typ string) error {
	c := auth.From(r)
	id, err := params.ID(r, "guild_id", httperr.UnknownGuild)
	if err != nil {
		return err
	}
	if err := a.inGuild(r.Context(), id, c.UserID, func(*guild.State, *guild.Member) error { return nil }); err != nil {
		return err
	}
	if err := a.send(r.Context(), id, c.UserID, typ, struct{}{}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// storeImage keeps an image (a guild icon, a webhook avatar) given as a
// data URI in request field name in the blob store and returns what guild
// content carries: the blob's key (the whole SHA-256, so that another node
// can fetch it), "" for null, nil when the field is absent.
func (a *API) storeImage(r *http.Request, name string, field jsonio.Optional[string]) (*string, error) {
	if !field.Set {
		return nil, nil
	}
	if field.V == "" {
		return &field.V, nil
	}
	img, err := parseImage(name, field.V)
	if err != nil {
		return nil, err
	}
	if err := a.putImage(r.Context(), img); err != nil {
		return nil, err
	}
	return &img.Key, nil
}

// parseImage reads the data URI of request field name.
func parseImage(name, uri string) (*images.Image, error) {
	img, err := images.Parse(uri)
	if err != nil {
		return nil, httperr.Field(name, "IMAGE_INVALID", err.Error())
	}
	return img, nil
}

// putImage keeps img in the blob store, under its key.
func (a *API) putImage(ctx context.Context, img *images.Image) error {
	return a.blobs.Put(ctx, img.Key, bytes.NewReader(img.Data), int64(len(img.Data)), img.ContentType)
}

// getIcon serves GET /icons/{guild_id}/{hash}.{ext}, public like Discord's
// CDN.
func (a *API) getIcon(w http.ResponseWriter, r *http.Request) error {
	gid, err := params.ID(r, "guild_id", httperr.NotFound)
	if err != nil {
		return err
	}
	hash, ok := images.FileParam(r)
	if !ok {
		return httperr.NotFound
	}
	var key string
	err = a.core.View(r.Context(), gid, func(s *guild.State) error {
		key = s.Icon
		return nil
	})
	if err != nil || key == "" || objects.IconHash(key) != hash {
		return httperr.NotFound
	}
	return a.serveImage(w, r, gid, key)
}

// serveImage serves the image of key that room gid's state names (its
// icon, a role's icon, an emoji), fetched from another node of the room
// the first time when this one lacks it.
func (a *API) serveImage(w http.ResponseWriter, r *http.Request, gid snowflake.ID, key string) error {
	var fetch images.FetchFunc
	if a.remote != nil {
		fetch = func(ctx context.Context, w io.WriterAt) (int64, error) { return a.remote.FetchImage(ctx, gid, key, w) }
	}
	return a.images.Serve(w, r, key, objects.IconHash(key), fetch)
}
