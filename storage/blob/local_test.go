package blob

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestLocal(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("\x89PNG not really")
	key := Key(data)
	if err := s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), "image/png"); err != nil {
		t.Fatal(err)
	}
	f, info, err := s.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(f)
	f.Close()
	if !bytes.Equal(got, data) || info.ContentType != "image/png" || info.Size != int64(len(data)) {
		t.Fatalf("got %q %+v", got, info)
	}

	// Failed puts leave nothing behind: short input, wrong content, bad key.
	other := []byte("other")
	for _, put := range []func() error{
		func() error { return s.Put(ctx, Key(other), bytes.NewReader(other[:2]), 5, "x") },
		func() error { return s.Put(ctx, Key(other), bytes.NewReader([]byte("evil!")), 5, "x") },
		func() error { return s.Put(ctx, "../../etc/passwd", bytes.NewReader(other), 5, "x") },
	} {
		if put() == nil {
			t.Fatal("bad put succeeded")
		}
	}
	if _, _, err := s.Get(ctx, Key(other)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("half-written blob visible: %v", err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, "*", "*"))
	if len(leftovers) != 2 { // the good blob and its .type
		t.Fatalf("files left: %v", leftovers)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, key[:2], key)); !os.IsNotExist(err) {
		t.Fatal("delete left the file")
	}
}
