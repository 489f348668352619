package guilds

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // DecodeConfig reads the dimensions of these formats
	_ "image/jpeg"
	_ "image/png"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	_ "golang.org/x/image/webp"

	"concord/clientapi/httperr"
	"concord/federation/guild"
	"concord/federation/snowflake"
)

// A multipart message is Discord's: a payload_json part (or plain fields
// such as content) and files named files[n] (or file), at most
// guild.MaxAttachments. The files may add up to uploads.maxFile, and to
// what is left of their author's storage quota; the fields around them to
// maxFormBytes in all, at most maxFieldBytes and maxFields of them:
// fields are held in memory, files never are.
const (
	maxFormBytes  = 1 << 20
	maxFieldBytes = 64 << 10
	maxFields     = 64
	sniffBytes    = 512 // what http.DetectContentType looks at
)

// parseMessageForm reads a multipart/form-data message create by author.
// The files are stored and held: the caller must hand the attachments to
// releaseUploads once it knows whether the message was accepted.
func (a *API) parseMessageForm(r *http.Request, author snowflake.ID) (*messageBody, []guild.Attachment, error) {
	var body messageBody
	atts, err := a.parseMultipart(r, author, &body)
	if err != nil {
		return nil, nil, err
	}
	return &body, atts, nil
}

// parseMultipart reads a multipart/form-data message body: the JSON part
// into into, each file into the blob store. The files count against the
// storage quota of author, the message's author (0: no one's). The
// returned attachments hold their blobs until releaseUploads; on error
// nothing is held and files stored by this request alone are deleted
// again.
func (a *API) parseMultipart(r *http.Request, author snowflake.ID, into any) (atts []guild.Attachment, err error) {
	limit := a.uploads.maxFile
	r.Body = http.MaxBytesReader(nil, r.Body, limit+maxFormBytes)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, httperr.Field("_body", "BASE_TYPE_INVALID", "Invalid multipart form.")
	}
	defer func() {
		if err != nil {
			a.releaseUploads(atts, false)
			atts = nil
		}
	}()
	var (
		payload []byte
		fields  = map[string]any{}
		index   []int // files[n]'s n for each of atts, -1 when unnamed
		total   int64
		quota   int64 = -1 // left of author's quota, asked at the first file
		form    int        // bytes of fields read
		nfields int
	)
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return atts, formError(err)
		}
		name := p.FormName()
		if n, ok := fileIndex(name); ok || p.FileName() != "" {
			if len(atts) == guild.MaxAttachments {
				return atts, httperr.Field("files", "BASE_TYPE_MAX_LENGTH", fmt.Sprintf("Must be %d or fewer in length.", guild.MaxAttachments))
			}
			if quota < 0 {
				if quota, err = a.uploads.quotaLeft(r.Context(), author); err != nil {
					return atts, err
				}
			}
			at, err := a.uploads.spoolPart(r.Context(), p, min(limit, quota)-total)
			if errors.Is(err, httperr.EntityTooLarge) && quota < limit {
				err = httperr.QuotaExceeded
			}
			if err != nil {
				return atts, err
			}
			at.Filename = sanitizeFilename(p.FileName())
			total += at.Size
			atts = append(atts, at)
			index = append(index, n)
			continue
		}
		if nfields++; nfields > maxFields {
			return atts, httperr.Field("_body", "BASE_TYPE_MAX_LENGTH", fmt.Sprintf("Must have %d or fewer fields.", maxFields))
		}
		b, err := io.ReadAll(io.LimitReader(p, int64(min(maxFieldBytes, maxFormBytes-form))+1))
		if err != nil {
			return atts, formError(err)
		}
		if len(b) > maxFieldBytes {
			return atts, httperr.Field(name, "BASE_TYPE_MAX_LENGTH", "Field is too long.")
		}
		if form += len(b); form > maxFormBytes {
			return atts, httperr.EntityTooLarge
		}
		if name == "payload_json" {
			payload = b
		} else {
			fields[name] = formValue(name, string(b))
		}
	}
	if payload == nil {
		payload, _ = json.Marshal(fields)
	}
	if err := json.Unmarshal(payload, into); err != nil {
		return atts, httperr.Field("payload_json", "BASE_TYPE_INVALID", "Invalid JSON.")
	}
	renameFromPayload(payload, atts, index)
	for i := range atts {
		atts[i].ID = a.ids.NextUnguessable()
	}
	return atts, nil
}

// formError maps a failure while reading the form: past the body limit it
// is too large, anything else is a malformed form.
func formError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return httperr.EntityTooLarge
	}
	return httperr.Field("_body", "BASE_TYPE_INVALID", "Invalid multipart form.")
}

// fileIndex parses Discord's files[n] part names; "file" (the older name)
// is a file without an index.
func fileIndex(name string) (int, bool) {
	if name == "file" {
		return -1, true
	}
	s, ok := strings.CutPrefix(name, "files[")
	if !ok {
		return -1, false
	}
	s, ok = strings.CutSuffix(s, "]")
	n, err := strconv.Atoi(s)
	if !ok || err != nil || n < 0 {
		return -1, false
	}
	return n, true
}

// formValue types a plain form field the way its JSON would be.
func formValue(name, v string) any {
	switch name {
	case "tts":
		b, _ := strconv.ParseBool(v)
		return b
	case "flags":
		n, _ := strconv.Atoi(v)
		return n
	case "content", "nonce":
		return v
	}
	if json.Valid([]byte(v)) {
		return json.RawMessage(v)
	}
	return v
}

// renameFromPayload applies payload_json's attachments[].filename, which
// Discord lets override the part's file name; id is the n of files[n].
func renameFromPayload(payload []byte, atts []guild.Attachment, index []int) {
	var p struct {
		Attachments []struct {
			ID       json.RawMessage `json:"id"`
			Filename string          `json:"filename"`
		} `json:"attachments"`
	}
	if json.Unmarshal(payload, &p) != nil {
		return
	}
	for _, m := range p.Attachments {
		n, err := strconv.Atoi(strings.Trim(string(m.ID), `"`))
		if err != nil || m.Filename == "" {
			continue
		}
		for i, at := range index {
			if at == n {
				atts[i].Filename = sanitizeFilename(m.Filename)
			}
		}
	}
}

// spoolPart copies one file part to a spool file, hashing it on the way,
// sniffs its type and reads image dimensions, then stores it as a blob
// and holds it. More than limit bytes is too large; the spool file never
// outlives the call.
func (u *uploads) spoolPart(ctx context.Context, p *multipart.Part, limit int64) (guild.Attachment, error) {
	f, err := os.CreateTemp(u.tmp, "part-*")
	if err != nil {
		return guild.Attachment{}, fmt.Errorf("spool upload: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	h := sha256.New()
	head := &prefix{max: sniffBytes}
	n, err := io.Copy(io.MultiWriter(f, h, head), io.LimitReader(p, limit+1))
	if err != nil {
		return guild.Attachment{}, formError(err)
	}
	if n > limit {
		return guild.Attachment{}, httperr.EntityTooLarge
	}
	at := guild.Attachment{Size: n, ContentType: http.DetectContentType(head.buf), Blob: hex.EncodeToString(h.Sum(nil))}
	if strings.HasPrefix(at.ContentType, "image/") {
		if _, err := f.Seek(0, io.SeekStart); err == nil {
			if cfg, _, err := image.DecodeConfig(f); err == nil {
				at.Width, at.Height = cfg.Width, cfg.Height
			}
		}
	}
	if err := u.put(ctx, at.Blob, f, n, at.ContentType); err != nil {
		return guild.Attachment{}, fmt.Errorf("store upload: %w", err)
	}
	return at, nil
}

// prefix keeps the first max bytes written to it.
type prefix struct {
	buf []byte
	max int
}

func (p *prefix) Write(b []byte) (int, error) {
	if room := p.max - len(p.buf); room > 0 {
		p.buf = append(p.buf, b[:min(room, len(b))]...)
	}
	return len(b), nil
}

// sanitizeFilename keeps a file name safe in a URL path and a
// Content-Disposition header: the base name only, letters, digits and
// ".-_" (others become "_", as Discord does with spaces), at most 255
// bytes with the extension kept.
func sanitizeFilename(name string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	var b strings.Builder
	for _, r := range name {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), r == '.', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := strings.TrimLeft(b.String(), ".")
	if out == "" {
		return "unknown"
	}
	if len(out) > 255 {
		ext := path.Ext(out)
		if len(ext) > 32 {
			ext = ""
		}
		base := []byte(out[:255-len(ext)])
		for !utf8.Valid(base) {
			base = base[:len(base)-1]
		}
		out = string(bytes.TrimRight(base, ".")) + ext
	}
	return out
}
