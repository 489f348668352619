package guilds

import (
	"context"
	"os"

	"concord/federation/guild"
	"concord/federation/snowflake"
	"concord/storage/blob"
)

// fetchRemote brings the bytes of a file of a room's message from another
// node into the blob store: a node holds at first only the files uploaded
// to it, and fetches another's the first time someone opens it. Fetches of
// one file at once become one.
func (a *API) fetchRemote(ctx context.Context, room snowflake.ID, at guild.Attachment) error {
	if a.remote == nil {
		return blob.ErrNotFound
	}
	a.fetchMu.Lock()
	wait, busy := a.fetching[at.Blob]
	if !busy {
		wait = make(chan struct{})
		a.fetching[at.Blob] = wait
	}
	a.fetchMu.Unlock()
	if busy {
		select {
		case <-wait:
			return nil // the other fetch's outcome is in the store, or not
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	defer func() {
		a.fetchMu.Lock()
		delete(a.fetching, at.Blob)
		a.fetchMu.Unlock()
		close(wait)
	}()
	f, err := os.CreateTemp(a.uploads.tmp, "fetch-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := a.remote.FetchFile(ctx, room, at.Blob, at.Size, f); err != nil {
		return err
	}
	if err := a.uploads.put(ctx, at.Blob, f, at.Size, at.ContentType); err != nil {
		return err
	}
	a.uploads.release(at.Blob, true) // a message of the room names it
	return nil
}
