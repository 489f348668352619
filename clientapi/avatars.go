package clientapi

import (
	"database/sql"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"concord/storage/blob"
	"concord/clientapi/httperr"
)

// Avatar bounds: 10 MiB of image, which is at most this much base64 plus
// the rest of the PATCH body.
const (
	maxAvatar     = 10 << 20
	maxAvatarBody = maxAvatar/3*4 + 8 + 64<<10
)

// avatarTypes are the image formats accepted, by sniffed content type, with
// the extension avatar URLs use.
var avatarTypes = map[string]string{
	"image/png":  "png",
	"image/jpeg": "jpg",
	"image/gif":  "gif",
	"image/webp": "webp",
}

type avatar struct {
	data        []byte
	key         string // blob key: SHA-256 of data
	hash        string // Discord-style hash: 32 hex digits, "a_" first when animated
	contentType string
}

// parseAvatar decodes a data URI ("data:image/png;base64,…"). The declared
// type is ignored: the bytes decide.
func parseAvatar(uri string) (*avatar, error) {
	rest, ok := strings.CutPrefix(uri, "data:")
	if !ok {
		return nil, errors.New("Must be a data URI.")
	}
	_, payload, ok := strings.Cut(rest, ";base64,")
	if !ok {
		return nil, errors.New("Must be a base64 data URI.")
	}
	if base64.StdEncoding.DecodedLen(len(payload)) > maxAvatar+2 {
		return nil, errors.New("File cannot be larger than 10240 kb.")
	}
	data, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return nil, errors.New("Invalid base64.")
	}
	if len(data) > maxAvatar {
		return nil, errors.New("File cannot be larger than 10240 kb.")
	}
	ct := http.DetectContentType(data)
	if _, ok := avatarTypes[ct]; !ok {
		return nil, errors.New("Must be a PNG, JPEG, GIF or WebP image.")
	}
	key := blob.Key(data)
	hash := key[:32]
	if ct == "image/gif" {
		hash = "a_" + hash
	}
	return &avatar{data: data, key: key, hash: hash, contentType: ct}, nil
}

// getAvatar serves GET /avatars/{user_id}/{hash}.{ext}.
func (a *API) getAvatar(w http.ResponseWriter, r *http.Request) error {
	uid, err := pathID(r, "user_id", httperr.NotFound)
	if err != nil {
		return err
	}
	hash, ok := imageFile(r)
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
	return a.serveImage(w, r, *key, hash)
}

// imageFile reads the {file} of an image URL, "{hash}.{ext}".
func imageFile(r *http.Request) (hash string, ok bool) {
	hash, ext, _ := strings.Cut(chi.URLParam(r, "file"), ".")
	switch ext {
	case "png", "jpg", "jpeg", "gif", "webp":
		return hash, true
	}
	return "", false
}

// serveImage sends a stored image as it is, whatever extension was asked
// for (we do not convert), with its real Content-Type. The URL names the
// content, so it may be cached for ever.
func (a *API) serveImage(w http.ResponseWriter, r *http.Request, key, hash string) error {
	f, info, err := a.blobs.Get(r.Context(), key)
	if errors.Is(err, blob.ErrNotFound) {
		return httperr.NotFound
	}
	if err != nil {
		return err
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", info.ContentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", `"`+hash+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", info.ModTime, f)
	return nil
}
