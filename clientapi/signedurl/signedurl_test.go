package signedurl

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSignAndCheck(t *testing.T) {
	dir := t.TempDir()
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	s, err := Open(dir, clock)
	if err != nil {
		t.Fatal(err)
	}
	const path = "/attachments/1/2/a b.png"
	q, _ := url.ParseQuery(s.Query(path))
	if exp, err := s.Check(path, q); err != nil || !exp.Equal(now.Add(TTL)) {
		t.Fatalf("fresh: %v %v", exp, err)
	}
	// The key survives a restart: URLs handed out keep working.
	again, err := Open(dir, clock)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := again.Check(path, q); err != nil {
		t.Fatalf("after reopening: %v", err)
	}
	if info, err := os.Stat(filepath.Join(dir, keyFile)); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", info, err)
	}

	tamper := func(k, v string) url.Values {
		c := url.Values{}
		for key, vals := range q {
			c[key] = append([]string(nil), vals...)
		}
		c.Set(k, v)
		return c
	}
	later := strings.TrimLeft(q.Get("ex"), "0") + "0" // a much later expiry
	for name, bad := range map[string]struct {
		path string
		q    url.Values
	}{
		"other path":      {"/attachments/1/3/a b.png", q},
		"extended expiry": {path, tamper("ex", later)},
		"other issue":     {path, tamper("is", "1")},
		"wrong mac":       {path, tamper("hm", strings.Repeat("0", 64))},
		"no mac":          {path, tamper("hm", "")},
		"no query":        {path, url.Values{}},
	} {
		if _, err := s.Check(bad.path, bad.q); err != ErrInvalid {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	now = now.Add(TTL)
	if _, err := s.Check(path, q); err != ErrInvalid {
		t.Fatalf("expired: %v", err)
	}
	if _, err := New([]byte(strings.Repeat("k", 32)), clock).Check(path, q); err != ErrInvalid {
		t.Fatalf("another key: %v", err)
	}
}
