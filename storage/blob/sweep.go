package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"
)

// Blobs are collected by mark and sweep: a blob is live while some row
// names its key (the caller's InUse says which), whoever stored it and
// however many rows share it, so content-addressed dedupe needs no count
// kept beside the rows. A sweep deletes a blob only when nothing names it
// and its last Put is older than the cutoff it is given: a request that
// stored a file (or found it stored, which renews it) and has not yet
// committed the row naming it is younger than any sane grace period.

// InUse reports which of keys some row names.
type InUse func(ctx context.Context, keys []string) (map[string]bool, error)

// Collector is a Store whose Puts and sweeps exclude each other key by
// key, so that a sweep never deletes a blob a Put has just renewed. Every
// Put of the process must go through it for that to hold; another process
// (an operator's sweep beside a running node) is covered by the recheck
// of the blob's age just before it is deleted.
type Collector struct {
	Store
	locks [256]sync.Mutex // by the key's first byte
}

// NewCollector wraps s.
func NewCollector(s Store) *Collector { return &Collector{Store: s} }

func (c *Collector) lock(key string) *sync.Mutex {
	n, _ := strconv.ParseUint(key[:min(2, len(key))], 16, 8) // a bad key takes lock 0
	return &c.locks[n]
}

// Put stores a blob, as the Store does, while no sweep looks at its key.
func (c *Collector) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	m := c.lock(key)
	m.Lock()
	defer m.Unlock()
	return c.Store.Put(ctx, key, r, size, contentType)
}

// Swept is what one sweep did.
type Swept struct {
	Seen    int   // blobs listed
	Deleted int   // blobs deleted
	Bytes   int64 // their size
}

// sweepBatch is how many old blobs are asked about in one InUse call.
const sweepBatch = 500

// Sweep deletes every blob that inUse does not name and whose last Put was
// before cutoff. It stops at the first error and returns it with what it
// had done by then.
func (c *Collector) Sweep(ctx context.Context, inUse InUse, cutoff time.Time) (Swept, error) {
	var (
		done  Swept
		batch []string
	)
	flush := func() error {
		used, err := inUse(ctx, batch)
		if err != nil {
			return fmt.Errorf("blob: sweep: %w", err)
		}
		for _, key := range batch {
			if used[key] {
				continue
			}
			size, err := c.deleteOld(ctx, key, cutoff)
			if err != nil {
				return fmt.Errorf("blob: sweep: %w", err)
			}
			if size >= 0 {
				done.Deleted++
				done.Bytes += size
			}
		}
		batch = batch[:0]
		return nil
	}
	err := c.Store.List(ctx, func(key string, info Info) error {
		done.Seen++
		if !info.ModTime.Before(cutoff) {
			return nil
		}
		if batch = append(batch, key); len(batch) < sweepBatch {
			return nil
		}
		return flush()
	})
	if err == nil && len(batch) > 0 {
		err = flush()
	}
	return done, err
}

// deleteOld deletes key if its last Put is still before cutoff and
// returns its size, or -1 when it was kept or was gone already.
func (c *Collector) deleteOld(ctx context.Context, key string, cutoff time.Time) (int64, error) {
	m := c.lock(key)
	m.Lock()
	defer m.Unlock()
	rc, info, err := c.Store.Get(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return -1, nil
	}
	if err != nil {
		return -1, err
	}
	rc.Close()
	if !info.ModTime.Before(cutoff) {
		return -1, nil
	}
	if err := c.Store.Delete(ctx, key); err != nil && !errors.Is(err, ErrNotFound) {
		return -1, err
	}
	return info.Size, nil
}
