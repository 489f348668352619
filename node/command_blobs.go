package node

import (
	"context"
	"fmt"
	"time"
)

const blobsUsage = `usage:
  concord blobs sweep [--config FILE]

Deletes the stored files that nothing names any more and whose last upload
is storage.blob_sweep_grace old, as the running node does every
storage.blob_sweep_interval; it works whether the node runs or not.
`

func (c command) blobs(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "sweep" {
		fmt.Fprint(c.stderr, blobsUsage)
		return errUsage
	}
	f := c.flagSet("blobs sweep")
	path := f.String("config", "", "config `file` (default: built-in defaults)")
	if err := parse(f, args[1:]); err != nil {
		return err
	}
	cfg, err := c.operatorConfig(*path)
	if err != nil {
		return err
	}
	db, err := operatorDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	gc, err := openBlobs(ctx, cfg)
	if err != nil {
		return err
	}
	sweep, err := newBlobSweep(gc, db, cfg.Storage.BlobSweepGrace, nil)
	if err != nil {
		return err
	}
	got, err := sweep.once(ctx, time.Now())
	if err != nil {
		return fmt.Errorf("blobs sweep: deleted %d before: %w", got.Deleted, err)
	}
	fmt.Fprintf(c.stdout, "deleted %d of %d blobs, %d bytes\n", got.Deleted, got.Seen, got.Bytes)
	return nil
}
