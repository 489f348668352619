package accounts

import (
	"database/sql"
	"errors"
	"net/http"

	"concord/clientapi/httperr"
	"concord/clientapi/images"
	"concord/clientapi/params"
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
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if stored == nil || key == nil || *stored != hash {
		return httperr.NotFound
	}
	return images.Serve(w, r, a.blobs, *key, hash)
}
