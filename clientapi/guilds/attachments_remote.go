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
	done := a.fetching.DoChan(at.Blob, func() (any, error) {
		// The fetch goes on if its first asker leaves, for whoever asks
		// next; the transfer's own deadlines bound it.
		return nil, a.fetchFile(context.WithoutCancel(ctx), room, at)
	})
	select {
	case res := <-done:
		return res.Err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fetchFile fetches one file into a temporary file, then the blob store.
func (a *API) fetchFile(ctx context.Context, room snowflake.ID, at guild.Attachment) error {
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
