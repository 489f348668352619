package accounts

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"concord/clientapi/httperr"
	"concord/clientapi/images"
	"concord/clientapi/objects"
	"concord/clientapi/params"
	"concord/federation/snowflake"
)

// getAvatar serves GET /avatars/{user_id}/{hash}.{ext}.
func (a *API) getAvatar(w http.ResponseWriter, r *http.Request) error {
	uid, err := params.ID(r, "user_id", httperr.NotFound)
	if err != nil {
		return err
	}
	hash, ok := images.FileParam(r)
	if !ok {
		return httperr.NotFound
	}
	var stored, key *string
	err = a.db.Reader().QueryRowContext(r.Context(), `SELECT avatar, avatar_blob FROM users WHERE id = ?`, int64(uid)).Scan(&stored, &key)
	if errors.Is(err, sql.ErrNoRows) {
		// A webhook's avatar shares the path, as on Discord's CDN; its
		// hash is the start of its blob key (objects.IconHash).
		var blob string
		err = a.db.Reader().QueryRowContext(r.Context(), `SELECT avatar FROM webhooks WHERE id = ? ORDER BY guild_id LIMIT 1`, int64(uid)).Scan(&blob)
		if err == nil && blob != "" {
			hashed := objects.IconHash(blob)
			stored, key = &hashed, &blob
		}
	}
	if errors.Is(err, sql.ErrNoRows) {
		return a.getRemoteAvatar(w, r, uid, hash)
	}
	if err != nil {
		return err
	}
	if stored == nil || key == nil || *stored != hash {
		return httperr.NotFound
	}
	return images.Serve(w, r, a.blobs, *key, hash)
}

// getRemoteAvatar serves the avatar of a remote user whose profile this
// node keeps, fetched from their home node the first time.
func (a *API) getRemoteAvatar(w http.ResponseWriter, r *http.Request, uid snowflake.ID, hash string) error {
	key, home, err := objects.RemoteAvatar(r.Context(), a.db.Reader(), uid)
	if errors.Is(err, httperr.UnknownUser) || err == nil && (key == "" || objects.IconHash(key) != hash) {
		return httperr.NotFound
	}
	if err != nil {
		return err
	}
	var fetch images.FetchFunc
	if a.remote != nil {
		fetch = func(ctx context.Context, w io.WriterAt) (int64, error) {
			return a.remote.FetchAvatar(ctx, home, uid, key, w)
		}
	}
	return a.images.Serve(w, r, key, hash, fetch)
}

// getDefaultAvatar serves /embed/avatars/{n}.png, the picture of a user
// with no avatar of their own: Discord's six colors, n from 0 to 5.
func (a *API) getDefaultAvatar(w http.ResponseWriter, r *http.Request) error {
	file := chi.URLParam(r, "file")
	n, err := strconv.Atoi(strings.TrimSuffix(file, ".png"))
	if err != nil || !strings.HasSuffix(file, ".png") || n < 0 || n >= images.DefaultAvatars {
		return httperr.NotFound
	}
	h := w.Header()
	h.Set("Content-Type", "image/png")
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	_, err = w.Write(images.DefaultAvatar(n))
	return err
}
