package guilds

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"

	"concord/clientapi/auth"
	"concord/clientapi/httperr"
	"concord/clientapi/images"
	"concord/clientapi/jsonio"
	"concord/clientapi/objects"
	"concord/clientapi/params"
	"concord/federation/guild"
	"concord/federation/snowflake"
)

// maxEmojiBytes is Discord's bound on an emoji's image.
const maxEmojiBytes = 256 << 10

// unknownEmoji is Discord's answer to a route naming an emoji the guild
// does not have (reactions answer 400 with the same code).
var unknownEmoji = &httperr.Error{Status: http.StatusNotFound, Code: httperr.CodeUnknownEmoji, Message: "Unknown Emoji"}

// emojis renders the guild's custom emojis for a member of it.
func (a *API) emojis(ctx context.Context, gid, user snowflake.ID) ([]objects.Emoji, error) {
	var out []objects.Emoji
	err := a.inGuild(ctx, gid, user, func(s *guild.State, _ *guild.Member) error {
		out = objects.RenderGuild(s).Emojis
		return nil
	})
	return out, err
}

// emojiIn finds emoji id among a guild's, for a member of it.
func (a *API) emojiIn(ctx context.Context, gid, id, user snowflake.ID) (objects.Emoji, error) {
	all, err := a.emojis(ctx, gid, user)
	if err != nil {
		return objects.Emoji{}, err
	}
	for _, e := range all {
		if e.ID == id {
			return e, nil
		}
	}
	return objects.Emoji{}, unknownEmoji
}

// listEmojis is GET /guilds/{guild_id}/emojis.
func (a *API) listEmojis(w http.ResponseWriter, r *http.Request) error {
	gid, err := params.ID(r, "guild_id", httperr.UnknownGuild)
	if err != nil {
		return err
	}
	out, err := a.emojis(r.Context(), gid, auth.From(r).UserID)
	if err != nil {
		return err
	}
	jsonio.Write(w, http.StatusOK, out)
	return nil
}

// emojiPath finds the emoji a /guilds/{guild_id}/emojis/{emoji_id} route
// names, for a member of the guild.
func (a *API) emojiPath(r *http.Request) (gid snowflake.ID, e objects.Emoji, err error) {
	if gid, err = params.ID(r, "guild_id", httperr.UnknownGuild); err != nil {
		return 0, e, err
	}
	id, err := params.ID(r, "emoji_id", unknownEmoji)
	if err != nil {
		return 0, e, err
	}
	e, err = a.emojiIn(r.Context(), gid, id, auth.From(r).UserID)
	return gid, e, err
}

// getEmoji is GET /guilds/{guild_id}/emojis/{emoji_id}.
func (a *API) getEmoji(w http.ResponseWriter, r *http.Request) error {
	_, e, err := a.emojiPath(r)
	if err != nil {
		return err
	}
	jsonio.Write(w, http.StatusOK, e)
	return nil
}

// createEmoji is POST /guilds/{guild_id}/emojis {name, image, roles}: the
// image a data URI of at most 256 KiB (a GIF makes an animated emoji).
// The rules check CREATE_GUILD_EXPRESSIONS (or MANAGE_GUILD_EXPRESSIONS),
// the name and the 250-emoji bound.
func (a *API) createEmoji(w http.ResponseWriter, r *http.Request) error {
	c := auth.From(r)
	gid, err := params.ID(r, "guild_id", httperr.UnknownGuild)
	if err != nil {
		return err
	}
	var body struct {
		Name  string         `json:"name"`
		Image string         `json:"image"`
		Roles []snowflake.ID `json:"roles"`
	}
	if err := jsonio.Decode(r, images.MaxBody, &body); err != nil {
		return err
	}
	if len(body.Roles) > guild.MaxRoles {
		return httperr.Field("roles", "BASE_TYPE_MAX_LENGTH", fmt.Sprintf("Must be %d or fewer in length.", guild.MaxRoles))
	}
	img, err := parseImage("image", body.Image)
	if err != nil {
		return err
	}
	if len(img.Data) > maxEmojiBytes {
		return httperr.Field("image", "BINARY_TYPE_MAX_SIZE", "File cannot be larger than 256.0 kb.")
	}
	// The route names the guild: to an outsider it is the unknown one.
	if err := a.inGuild(r.Context(), gid, c.UserID, func(*guild.State, *guild.Member) error { return nil }); err != nil {
		return err
	}
	// Stored first: an emoji never names a file this node lacks. One the
	// rules refuse is swept as a file nothing names.
	if err := a.putImage(r.Context(), img); err != nil {
		return err
	}
	id := a.core.NewID()
	err = a.send(r.Context(), gid, c.UserID, guild.TypeEmojiCreate, guild.EmojiCreate{ID: id, Name: body.Name,
		Animated: img.ContentType == "image/gif", Image: img.Key, Roles: body.Roles})
	if err != nil {
		return err
	}
	e, err := a.emojiIn(r.Context(), gid, id, c.UserID)
	if err != nil {
		return err
	}
	jsonio.Write(w, http.StatusCreated, e)
	return nil
}

// deleteEmoji is DELETE /guilds/{guild_id}/emojis/{emoji_id}.
func (a *API) deleteEmoji(w http.ResponseWriter, r *http.Request) error {
	gid, e, err := a.emojiPath(r)
	if err != nil {
		return err
	}
	if err := a.send(r.Context(), gid, auth.From(r).UserID, guild.TypeEmojiDelete, guild.EmojiDelete{ID: e.ID}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// getEmojiImage serves GET /emojis/{emoji_id}.{ext}, public like Discord's
// CDN: the image of a custom emoji of a guild this node holds, fetched
// from another node of the guild the first time when this one lacks it.
func (a *API) getEmojiImage(w http.ResponseWriter, r *http.Request) error {
	name, ok := images.FileParam(r)
	if !ok {
		return httperr.NotFound
	}
	id, err := snowflake.Parse(name)
	if err != nil {
		return httperr.NotFound
	}
	var gid snowflake.ID
	var key string
	err = a.db.Reader().QueryRowContext(r.Context(), `SELECT guild_id, image FROM emojis WHERE id = ? ORDER BY guild_id LIMIT 1`,
		int64(id)).Scan(&gid, &key)
	if errors.Is(err, sql.ErrNoRows) {
		return httperr.NotFound
	}
	if err != nil {
		return err
	}
	return a.serveImage(w, r, gid, key)
}
