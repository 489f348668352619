package node

import (
	"context"
	"fmt"
	"path/filepath"

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
