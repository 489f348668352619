// Package signedurl signs and checks the node's CDN URLs the way Discord's
// CDN does: a path gains ex (expiry), is (issue time), both Unix seconds in
// hex, and hm, an HMAC-SHA256 over the path and both times with a key only
// this node holds. A URL then works for whoever holds it until it expires,
// and cannot be made up or extended. clientapi/objects signs the URLs it
// renders and clientapi/guilds checks them when it serves a file; node
// builds the Signer.
package signedurl

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// TTL is how long a signed URL works, Discord's 24 hours.
const TTL = 24 * time.Hour

// ErrInvalid is a URL whose signature is missing, wrong or expired.
var ErrInvalid = errors.New("signedurl: missing, wrong or expired signature")

// Signer signs and checks URLs with one key.
type Signer struct {
	key []byte
	now func() time.Time
}

// New returns a signer with key; now nil means time.Now.
func New(key []byte, now func() time.Time) *Signer {
	if now == nil {
		now = time.Now
	}
	return &Signer{key: key, now: now}
}

// keyFile is where the node keeps its key, under its data dir.
const keyFile = "cdn.key"

// Open returns a signer whose key lives in dir/cdn.key, made on first use
// (mode 0600). The key survives restarts, so URLs handed out keep working
// until they expire.
func Open(dir string, now func() time.Time) (*Signer, error) {
	path := filepath.Join(dir, keyFile)
	key, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key = make([]byte, 32)
		rand.Read(key)
		if err := os.WriteFile(path, key, 0o600); err != nil {
			return nil, fmt.Errorf("signedurl: write %s: %w", path, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("signedurl: read %s: %w", path, err)
	}
	if len(key) < 32 {
		return nil, fmt.Errorf("signedurl: %s holds %d bytes, want 32", path, len(key))
	}
	return New(key, now), nil
}

// Query returns the query string (ex, is, hm) that signs path. path is
// whatever names the resource to the checker: the URL's path, unescaped.
func (s *Signer) Query(path string) string {
	now := s.now()
	ex := strconv.FormatInt(now.Add(TTL).Unix(), 16)
	is := strconv.FormatInt(now.Unix(), 16)
	return "ex=" + ex + "&is=" + is + "&hm=" + s.mac(path, ex, is)
}

// Check verifies the ex, is and hm of q for path, as Query signed it, and
// reports when the URL expires.
func (s *Signer) Check(path string, q url.Values) (time.Time, error) {
	ex, is, hm := q.Get("ex"), q.Get("is"), q.Get("hm")
	got, err := hex.DecodeString(hm)
	want, _ := hex.DecodeString(s.mac(path, ex, is))
	if err != nil || !hmac.Equal(got, want) {
		return time.Time{}, ErrInvalid
	}
	exp, err := strconv.ParseInt(ex, 16, 64)
	if err != nil || !s.now().Before(time.Unix(exp, 0)) {
		return time.Time{}, ErrInvalid
	}
	return time.Unix(exp, 0), nil
}

func (s *Signer) mac(path, ex, is string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(path))
	m.Write([]byte{0})
	m.Write([]byte(ex))
	m.Write([]byte{0})
	m.Write([]byte(is))
	return hex.EncodeToString(m.Sum(nil))
}
