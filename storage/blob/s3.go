package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config names an S3-compatible bucket (AWS S3, MinIO, Garage, …).
type S3Config struct {
	Endpoint  string // host[:port], no scheme
	Bucket    string
	AccessKey string
	SecretKey string
	UseTLS    bool
	Region    string // empty lets the client discover it
}

// S3 is a Store in an S3-compatible bucket: the object name is the key,
// its Content-Type the blob's.
type S3 struct {
	client *minio.Client
	bucket string
}

// NewS3 connects to the bucket and checks that it exists, so that a wrong
// endpoint, key or bucket name stops the node at start rather than at the
// first upload.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: cfg.UseTLS,
		Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("blob: s3 %s: %w", cfg.Endpoint, err)
	}
	ok, err := client.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("blob: s3 %s: bucket %s: %w", cfg.Endpoint, cfg.Bucket, err)
	}
	if !ok {
		return nil, fmt.Errorf("blob: s3 %s: bucket %s does not exist", cfg.Endpoint, cfg.Bucket)
	}
	return &S3{client: client, bucket: cfg.Bucket}, nil
}

// Put uploads r unless the key is already stored: keys are content
// addresses, so an existing object already holds these bytes, and copying
// it onto itself renews its LastModified. The digest is checked as the
// bytes stream out; an upload that turns out not to match its key is
// removed again.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if !validKey(key) {
		return fmt.Errorf("blob: key %q is not a sha256 hex digest", key)
	}
	st, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err == nil {
		// S3 refuses a copy onto itself that changes nothing: replacing
		// the metadata with what it was is a change.
		_, err = s.client.CopyObject(ctx,
			minio.CopyDestOptions{Bucket: s.bucket, Object: key, ReplaceMetadata: true, ContentType: st.ContentType},
			minio.CopySrcOptions{Bucket: s.bucket, Object: key})
		if err == nil {
			return nil
		}
		if !isNoSuchKey(err) {
			return fmt.Errorf("blob: s3 renew %s: %w", key, err)
		}
	} else if !isNoSuchKey(err) {
		return fmt.Errorf("blob: s3 stat %s: %w", key, err)
	}
	h := sha256.New()
	_, err = s.client.PutObject(ctx, s.bucket, key, io.TeeReader(io.LimitReader(r, size), h), size,
		minio.PutObjectOptions{ContentType: contentType})
	if err == nil && hex.EncodeToString(h.Sum(nil)) != key {
		err = errors.New("content does not match its key")
	}
	if err != nil {
		// A failed PutObject may still have created the object (a short
		// body is detected by the server only after it stored the rest).
		s.client.RemoveObject(context.WithoutCancel(ctx), s.bucket, key, minio.RemoveObjectOptions{})
		return fmt.Errorf("blob: s3 put %s: %w", key, err)
	}
	return nil
}

// Get opens the object; minio's Object reads lazily and seeks with ranged
// requests, which is what http.ServeContent needs.
func (s *S3) Get(ctx context.Context, key string) (io.ReadSeekCloser, Info, error) {
	if !validKey(key) {
		return nil, Info{}, ErrNotFound
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, Info{}, fmt.Errorf("blob: s3 get %s: %w", key, err)
	}
	st, err := obj.Stat()
	if err != nil {
		obj.Close()
		if isNoSuchKey(err) {
			return nil, Info{}, ErrNotFound
		}
		return nil, Info{}, fmt.Errorf("blob: s3 get %s: %w", key, err)
	}
	return obj, Info{Size: st.Size, ContentType: st.ContentType, ModTime: st.LastModified}, nil
}

// Delete removes the object. S3 does not say whether it existed, so a
// missing key is looked up first to answer ErrNotFound like Local.
func (s *S3) Delete(ctx context.Context, key string) error {
	if !validKey(key) {
		return ErrNotFound
	}
	if _, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{}); isNoSuchKey(err) {
		return ErrNotFound
	}
	if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("blob: s3 delete %s: %w", key, err)
	}
	return nil
}

// List lists the bucket; objects whose names are not blob keys are
// someone else's and skipped.
func (s *S3) List(ctx context.Context, fn func(key string, info Info) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing goroutine when fn stops early
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err != nil {
			return fmt.Errorf("blob: s3 list: %w", obj.Err)
		}
		if !validKey(obj.Key) {
			continue
		}
		if err := fn(obj.Key, Info{Size: obj.Size, ModTime: obj.LastModified}); err != nil {
			return err
		}
	}
	return ctx.Err()
}

func isNoSuchKey(err error) bool {
	if err == nil {
		return false
	}
	code := minio.ToErrorResponse(err).Code
	return code == "NoSuchKey" || code == "NotFound"
}
