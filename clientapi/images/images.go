// Package images reads the images clients upload inline as data URIs
// (avatars, guild icons) and serves stored ones at Discord's CDN paths
// (/avatars/…, /icons/…). Any package under clientapi may import it.
package images

import (
	"bytes"
	"encoding/base64"
	"errors"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strings"
	"sync"

	"github.com/go-chi/chi/v5"

	"concord/clientapi/httperr"
	"concord/storage/blob"
)

// Bounds: 10 MiB of image, which is at most this much base64 plus the rest
// of a PATCH body.
const (
	MaxBytes = 10 << 20
	MaxBody  = MaxBytes/3*4 + 8 + 64<<10
)

// types are the image formats accepted, by sniffed content type, with the
// extension their URLs use.
var types = map[string]string{
	"image/png":  "png",
	"image/jpeg": "jpg",
	"image/gif":  "gif",
	"image/webp": "webp",
}

// Image is an uploaded image, ready to store.
type Image struct {
	Data        []byte
	Key         string // blob key: SHA-256 of Data
	Hash        string // Discord-style hash: 32 hex digits, "a_" first when animated
	ContentType string
}

// Parse decodes a data URI ("data:image/png;base64,…"). The declared type
// is ignored: the bytes decide. Its errors are the field messages Discord
// gives.
func Parse(uri string) (*Image, error) {
	rest, ok := strings.CutPrefix(uri, "data:")
	if !ok {
		return nil, errors.New("Must be a data URI.")
	}
	_, payload, ok := strings.Cut(rest, ";base64,")
	if !ok {
		return nil, errors.New("Must be a base64 data URI.")
	}
	if base64.StdEncoding.DecodedLen(len(payload)) > MaxBytes+2 {
		return nil, errors.New("File cannot be larger than 10240 kb.")
	}
	data, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return nil, errors.New("Invalid base64.")
	}
	if len(data) > MaxBytes {
		return nil, errors.New("File cannot be larger than 10240 kb.")
	}
	ct := http.DetectContentType(data)
	if _, ok := types[ct]; !ok {
		return nil, errors.New("Must be a PNG, JPEG, GIF or WebP image.")
	}
	key := blob.Key(data)
	hash := key[:32]
	if ct == "image/gif" {
		hash = "a_" + hash
	}
	return &Image{Data: data, Key: key, Hash: hash, ContentType: ct}, nil
}

// FileParam reads the {file} of an image URL, "{hash}.{ext}".
func FileParam(r *http.Request) (hash string, ok bool) {
	hash, ext, _ := strings.Cut(chi.URLParam(r, "file"), ".")
	switch ext {
	case "png", "jpg", "jpeg", "gif", "webp":
		return hash, true
	}
	return "", false
}

// Serve sends a stored image as it is, whatever extension was asked for
// (we do not convert), with its real Content-Type. The URL names the
// content, so it may be cached for ever.
func Serve(w http.ResponseWriter, r *http.Request, store blob.Store, key, hash string) error {
	f, info, err := store.Get(r.Context(), key)
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

// DefaultAvatars is how many default avatars there are: Discord numbers
// them 0 to 5, and clients pick one by user ID.
const DefaultAvatars = 6

// defaultColors are Discord's default avatar colors, in its order.
var defaultColors = [DefaultAvatars]color.RGBA{
	{0x58, 0x65, 0xf2, 0xff}, {0x75, 0x7e, 0x8a, 0xff}, {0x3b, 0xa5, 0x5c, 0xff},
	{0xfa, 0xa6, 0x1a, 0xff}, {0xed, 0x42, 0x45, 0xff}, {0xeb, 0x45, 0x9f, 0xff},
}

var defaultAvatars = sync.OnceValue(func() [DefaultAvatars][]byte {
	var out [DefaultAvatars][]byte
	for i, c := range defaultColors {
		out[i] = disc(c, 128)
	}
	return out
})

// DefaultAvatar is default avatar n as PNG: a disc of its color.
func DefaultAvatar(n int) []byte { return defaultAvatars()[n] }

// disc draws a filled disc of color c on a clear square of side size.
func disc(c color.RGBA, size int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	r := float64(size) / 2
	for y := range size {
		for x := range size {
			dx, dy := float64(x)+0.5-r, float64(y)+0.5-r
			if dx*dx+dy*dy <= r*r {
				img.SetRGBA(x, y, c)
			}
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img) // encoding to memory does not fail
	return buf.Bytes()
}
