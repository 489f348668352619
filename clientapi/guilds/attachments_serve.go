package guilds

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"concord/clientapi/httperr"
	"concord/clientapi/objects"
	"concord/clientapi/params"
	"concord/federation/guild"
	"concord/federation/snowflake"
	"concord/storage/blob"
)

// getAttachment serves GET /attachments/{channel_id}/{attachment_id}/{filename},
// Discord's CDN path. Like Discord's CDN it asks for no token but a signed
// URL (ex, is, hm: spec/client-api.md, "Attachments"): whoever has a URL
// the node rendered may fetch the file until the URL expires, and nobody
// can make one up. Files of deleted or hidden messages, and of deleted
// channels and guilds, are gone. A response may be cached until the URL
// expires.
func (a *API) getAttachment(w http.ResponseWriter, r *http.Request) error {
	ch, err := params.ID(r, "channel_id", httperr.NotFound)
	if err != nil {
		return err
	}
	id, err := params.ID(r, "attachment_id", httperr.NotFound)
	if err != nil {
		return err
	}
	name := chi.URLParam(r, "filename")
	if un, err := url.PathUnescape(name); err == nil {
		name = un
	}
	expires, err := a.signer.Check(objects.AttachmentPath(ch, id, name), r.URL.Query())
	if err != nil {
		return httperr.NotFound
	}
	at, room, err := a.findAttachment(r, ch, id)
	if err != nil {
		return err
	}
	if at.Filename != name {
		return httperr.NotFound
	}
	f, info, err := a.blobs.Get(r.Context(), at.Blob)
	if errors.Is(err, blob.ErrNotFound) {
		if ferr := a.fetchRemote(r.Context(), room, at); ferr != nil {
			a.log.Debug("attachment: fetch from another node", "guild", room, "blob", at.Blob, "err", ferr)
			return httperr.NotFound
		}
		f, info, err = a.blobs.Get(r.Context(), at.Blob)
	}
	if errors.Is(err, blob.ErrNotFound) {
		return httperr.NotFound
	}
	if err != nil {
		return err
	}
	defer f.Close()
	h := w.Header()
	ct := at.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", disposition(at))
	h.Set("Cache-Control", "private, max-age="+strconv.Itoa(int(expires.Sub(a.cfg.Now())/time.Second)))
	h.Set("ETag", `"`+at.Blob+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	// Uploads share the API's origin: a file must never run as a page.
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	http.ServeContent(w, r, "", info.ModTime, f)
	return nil
}

// findAttachment looks an attachment and its room up through
// message_attachments, kept
// by the database from the messages projection. Rows are keyed by room;
// of two rooms with the same channel and file IDs, the file is that of the
// room whose channel this node stored first (spec/client-api.md, "IDs in
// routes").
func (a *API) findAttachment(r *http.Request, ch, id snowflake.ID) (guild.Attachment, snowflake.ID, error) {
	var raw string
	var room int64
	err := a.db.Reader().QueryRowContext(r.Context(), `SELECT m.attachments, t.guild_id FROM message_attachments t
		JOIN messages m ON m.guild_id = t.guild_id AND m.id = t.message_id
		JOIN channels c ON c.guild_id = t.guild_id AND c.id = t.channel_id
		JOIN guilds g ON g.id = t.guild_id
		WHERE t.id = ? AND t.channel_id = ? AND m.deleted = FALSE AND m.hidden = FALSE AND g.deleted = FALSE
		ORDER BY c.first_seq, c.guild_id LIMIT 1`, int64(id), int64(ch)).Scan(&raw, &room)
	if errors.Is(err, sql.ErrNoRows) {
		return guild.Attachment{}, 0, httperr.NotFound
	}
	if err != nil {
		return guild.Attachment{}, 0, fmt.Errorf("find attachment %s: %w", id, err)
	}
	var list []guild.Attachment
	if err := json.Unmarshal([]byte(raw), &list); err != nil {
		return guild.Attachment{}, 0, fmt.Errorf("attachments of message with %s: %w", id, err)
	}
	for _, at := range list {
		if at.ID == id {
			return at, snowflake.ID(room), nil
		}
	}
	return guild.Attachment{}, 0, httperr.NotFound
}

// disposition shows media in place and has everything else downloaded,
// so an uploaded page or script never renders on the node's origin.
func disposition(at guild.Attachment) string {
	kind := "attachment"
	for _, p := range []string{"image/", "video/", "audio/"} {
		if strings.HasPrefix(at.ContentType, p) {
			kind = "inline"
		}
	}
	return mime.FormatMediaType(kind, map[string]string{"filename": at.Filename})
}
