package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
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

// A Put of a blob already stored renews its age, which is what keeps a
// deduplicated upload from a sweep; List skips what is not a blob.
func TestLocalRenewAndList(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("stored twice")
	key := Key(data)
	if err := s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), "text/plain"); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-48 * time.Hour)
	if err := os.Chtimes(filepath.Join(dir, key[:2], key), old, old); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, key[:2], ".tmp-123"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), "text/plain"); err != nil {
		t.Fatal(err)
	}
	var keys []string
	err = s.List(ctx, func(k string, info Info) error {
		keys = append(keys, k)
		if time.Since(info.ModTime) > time.Minute {
			t.Errorf("a second Put left the blob %v old", time.Since(info.ModTime))
		}
		return nil
	})
	if err != nil || len(keys) != 1 || keys[0] != key {
		t.Fatalf("List = %v, %v", keys, err)
	}
}

// A sweep racing a Put of the same old, unnamed blob never leaves it
// deleted once the Put has returned.
func TestSweepRacesPut(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := NewCollector(s)
	nothing := func(context.Context, []string) (map[string]bool, error) { return nil, nil }
	for i := range 100 {
		data := []byte(fmt.Sprintf("upload %d", i))
		key := Key(data)
		if err := c.Put(ctx, key, bytes.NewReader(data), int64(len(data)), "text/plain"); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-2 * time.Hour)
		os.Chtimes(filepath.Join(dir, key[:2], key), old, old)
		done := make(chan error)
		go func() { done <- c.Put(ctx, key, bytes.NewReader(data), int64(len(data)), "text/plain") }()
		if _, err := c.Sweep(ctx, nothing, time.Now().Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Get(ctx, key); err != nil {
			t.Fatalf("round %d: the renewed blob is gone: %v", i, err)
		}
	}
}
