package images

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"concord/clientapi/httperr"
	"concord/storage/blob"
)

// Fetch bounds.
const (
	fetchWait   = 20 * time.Second // for one image from other nodes
	failedFor   = time.Minute      // an image no node sent is not asked for again before
	maxFailures = 10000            // failures remembered
)

// FetchFunc writes the bytes of an image another node holds to w and
// returns how many there are (federation/p2p checks that their SHA-256 is
// the key asked for and that they are at most MaxBytes).
type FetchFunc func(ctx context.Context, w io.WriterAt) (int64, error)

// Fetcher serves stored images, bringing those other nodes hold into the
// blob store first: a node holds at first only the images uploaded to it
// (a remote guild's icon, a remote user's avatar). Fetches of one image at
// once become one; one that failed is not tried again for a minute.
type Fetcher struct {
	blobs  blob.Store
	flight singleflight.Group

	mu     sync.Mutex
	failed map[string]time.Time
}

// NewFetcher returns a Fetcher over blobs.
func NewFetcher(blobs blob.Store) *Fetcher {
	return &Fetcher{blobs: blobs, failed: map[string]time.Time{}}
}

// Serve serves the image of key as Serve does; when the store lacks it
// and fetch is not nil, it fetches it first.
func (f *Fetcher) Serve(w http.ResponseWriter, r *http.Request, key, hash string, fetch FetchFunc) error {
	err := Serve(w, r, f.blobs, key, hash)
	if !errors.Is(err, httperr.NotFound) || fetch == nil {
		return err
	}
	if f.fetch(r.Context(), key, fetch) != nil {
		return httperr.NotFound
	}
	return Serve(w, r, f.blobs, key, hash)
}

// fetch brings key into the store with fetch, or waits for a fetch of it
// already under way. The fetch goes on if ctx ends first, for whoever
// asks next.
func (f *Fetcher) fetch(ctx context.Context, key string, fetch FetchFunc) error {
	f.mu.Lock()
	t, failed := f.failed[key]
	f.mu.Unlock()
	if failed && time.Since(t) < failedFor {
		return errors.New("fetched in vain a moment ago")
	}
	done := f.flight.DoChan(key, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchWait)
		defer cancel()
		err := f.store(fctx, key, fetch)
		if err != nil {
			f.mu.Lock()
			if len(f.failed) >= maxFailures {
				clear(f.failed)
			}
			f.failed[key] = time.Now()
			f.mu.Unlock()
		}
		return nil, err
	})
	select {
	case res := <-done:
		return res.Err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (f *Fetcher) store(ctx context.Context, key string, fetch FetchFunc) error {
	var buf buffer
	n, err := fetch(ctx, &buf)
	if err != nil {
		return err
	}
	if n != int64(len(buf.b)) {
		return errors.New("fetched a different length than told")
	}
	data := buf.b
	ct := http.DetectContentType(data)
	if _, ok := types[ct]; !ok || blob.Key(data) != key {
		return errors.New("not an image, or not the one asked for")
	}
	return f.blobs.Put(ctx, key, bytes.NewReader(data), n, ct)
}

// buffer is an in-memory io.WriterAt.
type buffer struct{ b []byte }

func (w *buffer) WriteAt(p []byte, off int64) (int, error) {
	if end := int(off) + len(p); end > len(w.b) {
		w.b = append(w.b, make([]byte, end-len(w.b))...)
	}
	copy(w.b[off:], p)
	return len(p), nil
}
