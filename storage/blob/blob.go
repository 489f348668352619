// Package blob stores uploaded files — avatars, icons, message attachments
// and voice recordings — behind a small interface, with a local-disk
// implementation under <data_dir>/blobs and an S3-compatible one (MinIO,
// AWS, …). Keys are content addresses (the SHA-256 of the bytes, in hex),
// so storing the same file twice costs nothing and a key can never name a
// path outside the store. Collector removes the blobs nothing names any
// more (sweep.go). The client API and the SFU store files here and the
// node opens it; other parts (federation, fetching a remote message's
// files) reach it through an interface of their own.
package blob

import (
	"context"
	"errors"
	"io"
	"time"
)

// ErrNotFound is returned by Get and Delete for a key that holds nothing.
var ErrNotFound = errors.New("blob: not found")

// Store keeps immutable blobs by key.
type Store interface {
	// Put stores exactly size bytes from r under key. Nothing is left
	// behind if it fails. A key already stored keeps its bytes and gets
	// a new ModTime: a sweep counts a blob's age from its last Put.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	// Get opens a blob; the caller closes it.
	Get(ctx context.Context, key string) (io.ReadSeekCloser, Info, error)
	// Delete removes a blob.
	Delete(ctx context.Context, key string) error
	// List calls fn for every blob stored, in no set order, until fn
	// returns an error, which List returns. Info carries Size and ModTime
	// only. Anything in the store that is not a blob key is skipped.
	List(ctx context.Context, fn func(key string, info Info) error) error
}

// Info describes a stored blob.
type Info struct {
	Size        int64
	ContentType string
	ModTime     time.Time
}
