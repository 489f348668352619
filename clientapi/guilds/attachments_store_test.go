package guilds

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"concord/storage"
	"concord/storage/blob"
	"concord/storage/storagetest"
)

// TestUploadHolds races holders of the same bytes, some of whose messages
// are accepted: a blob stays exactly when one was, and no hold is left.
func TestUploadHolds(t *testing.T) {
	u, store := testUploads(t)
	ctx := context.Background()
	for i := range 20 {
		data := []byte(fmt.Sprintf("race %d", i))
		key := blob.Key(data)
		accept := i%2 == 0
		var wg sync.WaitGroup
		for j := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := u.put(ctx, key, bytes.NewReader(data), int64(len(data)), "text/plain"); err != nil {
					t.Error(err)
					return
				}
				u.release(key, accept && j == 0)
			}()
		}
		wg.Wait()
		f, _, err := store.Get(ctx, key)
		if accept != (err == nil) {
			t.Fatalf("round %d: accepted %v, stored: %v", i, accept, err)
		}
		if f != nil {
			f.Close()
		}
	}
	if n := len(u.holds); n != 0 {
		t.Fatalf("%d holds left", n)
	}
}

// testUploads is an upload store over SQLite and a temp dir.
func testUploads(tb testing.TB) (*uploads, blob.Store) {
	db := storagetest.Open(tb, storagetest.Backends(tb)[storage.SQLite])
	dir := tb.TempDir()
	store, err := blob.NewLocal(filepath.Join(dir, "blobs"))
	if err != nil {
		tb.Fatal(err)
	}
	u, err := newUploads(Config{DataDir: dir}, store, db)
	if err != nil {
		tb.Fatal(err)
	}
	return u, store
}
