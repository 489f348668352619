package blob

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/url"
	"os"
	"testing"
	"time"
)

// EnvS3 names a MinIO (or other S3) bucket for TestS3, as
// http[s]://ACCESS:SECRET@HOST:PORT/BUCKET. There is no fake S3 server
// here on purpose: without the variable the test is skipped, and CI with a
// MinIO service runs it.
const EnvS3 = "CONCORD_TEST_S3"

func TestS3(t *testing.T) {
	raw := os.Getenv(EnvS3)
	if raw == "" {
		t.Skip(EnvS3 + " is not set; no S3 server to test against")
	}
	u, err := url.Parse(raw)
	if err != nil || u.User == nil || len(u.Path) < 2 {
		t.Fatalf("%s: want http[s]://ACCESS:SECRET@HOST:PORT/BUCKET", EnvS3)
	}
	secret, _ := u.User.Password()
	ctx := context.Background()
	s, err := NewS3(ctx, S3Config{
		Endpoint: u.Host, Bucket: u.Path[1:], AccessKey: u.User.Username(), SecretKey: secret,
		UseTLS: u.Scheme == "https",
	})
	if err != nil {
		t.Fatal(err)
	}
	testStore(t, s)
	testSweep(t, s)
}

func TestLocalContract(t *testing.T) {
	s, err := NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	testStore(t, s)
	testSweep(t, s)
}

// testStore checks what every Store promises: round trip with content type
// and seeking, failed puts leave nothing, listing, a sweep, delete and
// not-found.
func testStore(t *testing.T, s Store) {
	ctx := context.Background()
	data := bytes.Repeat([]byte("concord blob "), 1000)
	key := Key(data)
	t.Cleanup(func() { s.Delete(ctx, key) })
	if err := s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), "text/plain; charset=utf-8"); err != nil {
		t.Fatal(err)
	}
	f, info, err := s.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(13, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(f)
	f.Close()
	if !bytes.Equal(got, data[13:]) || info.Size != int64(len(data)) || info.ContentType != "text/plain; charset=utf-8" {
		t.Fatalf("got %d bytes, info %+v", len(got), info)
	}

	other := []byte("a different blob")
	okey := Key(other)
	for name, put := range map[string]func() error{
		"short":   func() error { return s.Put(ctx, okey, bytes.NewReader(other[:3]), int64(len(other)), "x") },
		"wrong":   func() error { return s.Put(ctx, okey, bytes.NewReader(bytes.ToUpper(other)), int64(len(other)), "x") },
		"bad key": func() error { return s.Put(ctx, "../x", bytes.NewReader(other), int64(len(other)), "x") },
	} {
		if put() == nil {
			t.Errorf("%s put succeeded", name)
		}
	}
	if _, _, err := s.Get(ctx, okey); !errors.Is(err, ErrNotFound) {
		t.Fatalf("failed put left a blob: %v", err)
	}
	listed := map[string]Info{}
	if err := s.List(ctx, func(k string, info Info) error { listed[k] = info; return nil }); err != nil {
		t.Fatal(err)
	}
	if got, ok := listed[key]; !ok || got.Size != int64(len(data)) || got.ModTime.IsZero() {
		t.Fatalf("List: %v %+v", ok, got)
	}
	if _, ok := listed[okey]; ok {
		t.Fatal("List shows a failed put")
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Get(ctx, key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	if err := s.Delete(ctx, key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

// testSweep sweeps a store that may hold other tests' blobs: only the
// blobs it stored itself are ever out of use.
func testSweep(t *testing.T, s Store) {
	ctx := context.Background()
	c := NewCollector(s)
	mine := map[string]bool{}
	put := func(text string) string {
		data := []byte(text)
		key := Key(data)
		mine[key] = true
		t.Cleanup(func() { s.Delete(ctx, key) })
		if err := c.Put(ctx, key, bytes.NewReader(data), int64(len(data)), "text/plain"); err != nil {
			t.Fatal(err)
		}
		return key
	}
	named, garbage := put("named by a row"), put("named by nothing")
	inUse := func(_ context.Context, keys []string) (map[string]bool, error) {
		used := map[string]bool{}
		for _, k := range keys {
			used[k] = !mine[k] || k == named
		}
		return used, nil
	}
	stored := func(key string) bool {
		f, _, err := s.Get(ctx, key)
		if err == nil {
			f.Close()
		}
		return err == nil
	}
	// Too young: nothing goes.
	if _, err := c.Sweep(ctx, inUse, time.Now().Add(-time.Hour)); err != nil || !stored(garbage) || !stored(named) {
		t.Fatalf("young sweep: %v, garbage kept %v, named kept %v", err, stored(garbage), stored(named))
	}
	// Old enough: only what nothing names goes.
	got, err := c.Sweep(ctx, inUse, time.Now().Add(time.Hour))
	if err != nil || stored(garbage) || !stored(named) {
		t.Fatalf("old sweep: %v, garbage kept %v, named kept %v", err, stored(garbage), stored(named))
	}
	if got.Deleted != 1 || got.Bytes != int64(len("named by nothing")) || got.Seen < 2 {
		t.Fatalf("swept %+v", got)
	}
}
