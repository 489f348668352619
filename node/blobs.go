package node

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"concord/federation/snowflake"
	"concord/storage"
	"concord/storage/blob"
)

// openBlobs opens the store [storage] blob_driver names, for the blob
// sweep to collect. S3 is reached at start, so that a wrong endpoint, key
// or bucket stops the node at once.
func openBlobs(ctx context.Context, cfg Config) (*blob.Collector, error) {
	s := cfg.Storage
	if s.BlobDriver != "s3" {
		local, err := blob.NewLocal(filepath.Join(cfg.Node.DataDir, "blobs"))
		if err != nil {
			return nil, err
		}
		return blob.NewCollector(local), nil
	}
	store, err := blob.NewS3(ctx, blob.S3Config{
		Endpoint: s.S3Endpoint, Bucket: s.S3Bucket, AccessKey: s.S3AccessKey, SecretKey: s.S3SecretKey,
		UseTLS: s.S3UseTLS, Region: s.S3Region,
	})
	if err != nil {
		return nil, fmt.Errorf("storage.blob_driver s3: %w", err)
	}
	return blob.NewCollector(store), nil
}

// files serves federation the files of the node's messages: a file a
// message of the room names, that is neither deleted nor hidden.
type files struct {
	db    *storage.DB
	blobs blob.Store
}

func (f files) Open(ctx context.Context, room snowflake.ID, key string) (io.ReadCloser, int64, error) {
	var named bool
	err := f.db.Reader().QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM message_attachments t
		JOIN messages m ON m.guild_id = t.guild_id AND m.id = t.message_id
		WHERE t.guild_id = ? AND t.blob = ? AND m.deleted = FALSE AND m.hidden = FALSE)
		OR EXISTS (SELECT 1 FROM guilds WHERE id = ? AND icon = ?)
		OR EXISTS (SELECT 1 FROM roles WHERE guild_id = ? AND icon = ?)
		OR EXISTS (SELECT 1 FROM emojis WHERE guild_id = ? AND image = ?)`,
		int64(room), key, int64(room), key, int64(room), key, int64(room), key).Scan(&named)
	if err != nil {
		return nil, 0, err
	}
	if !named {
		return nil, 0, fmt.Errorf("nothing of %s names file %s", room, key)
	}
	return f.get(ctx, key)
}

func (f files) Avatar(ctx context.Context, user snowflake.ID, key string) (io.ReadCloser, int64, error) {
	var named bool
	if err := f.db.Reader().QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = ? AND avatar_blob = ?)`,
		int64(user), key).Scan(&named); err != nil {
		return nil, 0, err
	}
	if !named {
		return nil, 0, fmt.Errorf("file %s is not the avatar of %s", key, user)
	}
	return f.get(ctx, key)
}

func (f files) get(ctx context.Context, key string) (io.ReadCloser, int64, error) {
	r, info, err := f.blobs.Get(ctx, key)
	return r, info.Size, err
}
