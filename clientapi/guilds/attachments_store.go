package guilds

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sync"

	"concord/federation/guild"
	"concord/federation/snowflake"
	"concord/storage"
	"concord/storage/blob"
)

// defaultMaxUpload is Discord's limit for a message's files without Nitro.
const defaultMaxUpload = 25 << 20

// uploads holds the blobs that requests in flight have stored but whose
// messages are not accepted yet. Blobs are content-addressed, so two
// requests may store the same key, and a key may already belong to an
// accepted message: a failed request deletes a blob only when it created
// it and no other request has used it since.
type uploads struct {
	store   blob.Store
	db      *storage.DB
	tmp     string // <data_dir>/uploads: parts are spooled here before hashing
	maxFile int64
	quota   int64 // bytes of files one author's messages may carry; 0: no quota

	mu    sync.Mutex
	holds map[string]*hold
}

type hold struct {
	n     int           // requests holding the key
	keep  bool          // it existed before, or a message using it was accepted
	ready chan struct{} // closed once the first holder's Put is done
	err   error         // that Put's failure; holders that waited share it
	gone  chan struct{} // closed once a release has finished deleting it
}

func newUploads(cfg Config, store blob.Store, db *storage.DB) (*uploads, error) {
	max := cfg.MaxUploadBytes
	if max <= 0 {
		max = defaultMaxUpload
	}
	// Spool files left by a crash belong to no request any more.
	tmp := filepath.Join(cfg.DataDir, "uploads")
	if err := os.RemoveAll(tmp); err != nil {
		return nil, fmt.Errorf("clientapi: clear %s: %w", tmp, err)
	}
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return nil, fmt.Errorf("clientapi: %w", err)
	}
	return &uploads{store: store, db: db, tmp: tmp, maxFile: max, quota: cfg.QuotaBytes, holds: map[string]*hold{}}, nil
}

// quotaLeft is how many more bytes of files author may send: the quota
// less the files their messages carry now, counted from the rows
// (message_attachments), so that a deleted message gives its bytes back.
// Without a quota, or for a sender that is no one's (0), there is no end.
func (u *uploads) quotaLeft(ctx context.Context, author snowflake.ID) (int64, error) {
	if u.quota <= 0 || author == 0 {
		return math.MaxInt64, nil
	}
	var used int64
	err := u.db.Reader().QueryRowContext(ctx, `SELECT COALESCE(SUM(size), 0) FROM message_attachments WHERE author_id = ?`,
		int64(author)).Scan(&used)
	if err != nil {
		return 0, fmt.Errorf("storage quota: %w", err)
	}
	return u.quota - used, nil
}

// put stores a spooled file under key and takes a hold on it, which
// release gives back.
func (u *uploads) put(ctx context.Context, key string, f io.ReadSeeker, size int64, contentType string) error {
	for {
		u.mu.Lock()
		h := u.holds[key]
		if h != nil && h.gone != nil {
			// A release is deleting this key; wait and store it afresh.
			u.mu.Unlock()
			<-h.gone
			continue
		}
		first := h == nil
		if first {
			h = &hold{ready: make(chan struct{})}
			u.holds[key] = h
		}
		h.n++
		u.mu.Unlock()
		if first {
			h.err = u.store1(ctx, key, f, size, contentType, h)
			close(h.ready)
		} else {
			<-h.ready
		}
		if h.err != nil {
			u.release(key, false)
			return h.err
		}
		return nil
	}
}

// store1 is the first holder's Put, noting whether the blob was there
// already (then it belongs to someone else and must never be deleted).
// A blob already there is put all the same: that renews it, so that the
// blob sweep, which may have found it unused, spares it until the message
// naming it is accepted (storage/blob/sweep.go).
func (u *uploads) store1(ctx context.Context, key string, f io.ReadSeeker, size int64, contentType string, h *hold) error {
	if rc, _, err := u.store.Get(ctx, key); err == nil {
		rc.Close()
		h.keep = true
	} else if !errors.Is(err, blob.ErrNotFound) {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	return u.store.Put(ctx, key, f, size, contentType)
}

// release gives back one hold. accepted says a message using the blob was
// accepted; the last holder of a blob nobody accepted deletes it.
func (u *uploads) release(key string, accepted bool) {
	u.mu.Lock()
	h := u.holds[key]
	if h == nil {
		u.mu.Unlock()
		return
	}
	h.keep = h.keep || accepted
	h.n--
	if h.n > 0 {
		u.mu.Unlock()
		return
	}
	if h.keep || h.err != nil {
		delete(u.holds, key)
		u.mu.Unlock()
		return
	}
	h.gone = make(chan struct{})
	u.mu.Unlock()
	// Deletion must finish even when the request's context is gone. A
	// row that names the blob keeps it: a message whose sender was told the
	// send failed (say, its context ended just after the commit), or an
	// avatar of the same bytes.
	ctx := context.Background()
	used, err := u.db.BlobsInUse(ctx, []string{key})
	if err == nil && !used[key] {
		u.store.Delete(ctx, key)
	}
	u.mu.Lock()
	delete(u.holds, key)
	close(h.gone)
	u.mu.Unlock()
}

// releaseUploads gives back the holds parseMessageForm took on the files
// of atts. The send route calls it exactly once after a successful
// parseMessageForm, with accepted = whether the message event was
// accepted; files of a refused message are then deleted, unless another
// message uses the same bytes.
func (a *API) releaseUploads(atts []guild.Attachment, accepted bool) {
	for _, at := range atts {
		a.uploads.release(at.Blob, accepted)
	}
}
