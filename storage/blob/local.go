package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Local is a Store on the local file system: <dir>/<key[:2]>/<key> holds the
// bytes and <key>.type the content type.
type Local struct {
	dir string
}

// NewLocal returns a store rooted at dir, creating it.
func NewLocal(dir string) (*Local, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	return &Local{dir: dir}, nil
}

// Key is the content address of data, the key Local expects.
func Key(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func validKey(key string) bool {
	if len(key) != sha256.Size*2 {
		return false
	}
	for _, c := range key {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func (l *Local) path(key string) string { return filepath.Join(l.dir, key[:2], key) }

// Put writes r to a temporary file, checks its size and that its SHA-256 is
// key, then renames it into place; on any failure the temporary file is
// removed. A blob already stored only has its modification time renewed.
func (l *Local) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if !validKey(key) {
		return fmt.Errorf("blob: key %q is not a sha256 hex digest", key)
	}
	final := l.path(key)
	if st, err := os.Stat(final); err == nil && st.Size() == size {
		now := time.Now()
		if err := os.Chtimes(final, now, now); err == nil {
			return nil
		}
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o700); err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	if err := writeAtomic(final+".type", func(w io.Writer) error {
		_, err := io.WriteString(w, contentType)
		return err
	}); err != nil {
		return err
	}
	err := writeAtomic(final, func(w io.Writer) error {
		h := sha256.New()
		n, err := io.Copy(io.MultiWriter(w, h), io.LimitReader(r, size+1))
		switch {
		case err != nil:
			return err
		case n != size:
			return fmt.Errorf("blob: got %d bytes, want %d", n, size)
		case hex.EncodeToString(h.Sum(nil)) != key:
			return errors.New("blob: content does not match its key")
		}
		return ctx.Err()
	})
	if err != nil {
		if _, statErr := os.Stat(final); errors.Is(statErr, fs.ErrNotExist) {
			os.Remove(final + ".type")
		}
	}
	return err
}

func writeAtomic(path string, fill func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	err = fill(f)
	err = errors.Join(err, f.Sync(), f.Close())
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("blob: write %s: %w", filepath.Base(path), err)
	}
	return nil
}

// Get opens the blob stored under key.
func (l *Local) Get(_ context.Context, key string) (io.ReadSeekCloser, Info, error) {
	if !validKey(key) {
		return nil, Info{}, ErrNotFound
	}
	f, err := os.Open(l.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, Info{}, ErrNotFound
	}
	if err != nil {
		return nil, Info{}, fmt.Errorf("blob: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, Info{}, fmt.Errorf("blob: %w", err)
	}
	ct, err := os.ReadFile(l.path(key) + ".type")
	if err != nil {
		ct = []byte("application/octet-stream")
	}
	return f, Info{Size: st.Size(), ContentType: string(ct), ModTime: st.ModTime()}, nil
}

// Delete removes the blob under key.
func (l *Local) Delete(_ context.Context, key string) error {
	if !validKey(key) {
		return ErrNotFound
	}
	err := os.Remove(l.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNotFound
	}
	os.Remove(l.path(key) + ".type")
	if err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	return nil
}

// List walks the two-letter directories Put makes; temporary files and
// content types are not blobs.
func (l *Local) List(ctx context.Context, fn func(key string, info Info) error) error {
	dirs, err := os.ReadDir(l.dir)
	if err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	for _, d := range dirs {
		if !d.IsDir() || len(d.Name()) != 2 {
			continue
		}
		files, err := os.ReadDir(filepath.Join(l.dir, d.Name()))
		if err != nil {
			return fmt.Errorf("blob: %w", err)
		}
		for _, f := range files {
			key := f.Name()
			if !validKey(key) || key[:2] != d.Name() {
				continue
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			st, err := f.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue // deleted since the directory was read
			}
			if err != nil {
				return fmt.Errorf("blob: %w", err)
			}
			if err := fn(key, Info{Size: st.Size(), ModTime: st.ModTime()}); err != nil {
				return err
			}
		}
	}
	return nil
}
