package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// keyBits is the RSA modulus size: RS256 with 2048 bits is what JWT
// libraries everywhere verify, and verifying costs ~30 µs.
const keyBits = 2048

// signingKey is one RSA key. Its kid carries its creation time
// ("<unix seconds>-<random hex>"), so age survives copies and backups that
// reset file times.
type signingKey struct {
	kid     string
	priv    *rsa.PrivateKey
	created time.Time
	signer  jose.Signer
}

// Keyring holds the signing key and the older keys whose tokens may still
// be alive. Keys live in dir as <kid>.pem (PKCS#8, mode 0600). The newest
// key signs; a key stops verifying, and its file is removed, once every
// token it signed has expired.
type Keyring struct {
	dir    string
	maxAge time.Duration // rotate when the signing key is older
	ttl    time.Duration // access token lifetime
	now    func() time.Time

	mu   sync.RWMutex
	keys []*signingKey // oldest first; the last one signs
}

// OpenKeyring loads the keys in dir, creating dir and a first key when
// there are none, and rotates at once if the newest key is over maxAge.
func OpenKeyring(dir string, maxAge, ttl time.Duration, now func() time.Time) (*Keyring, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("auth: key dir: %w", err)
	}
	k := &Keyring{dir: dir, maxAge: maxAge, ttl: ttl, now: now}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("auth: key dir: %w", err)
	}
	for _, e := range entries {
		kid, ok := strings.CutSuffix(e.Name(), ".pem")
		if !ok || e.IsDir() {
			continue
		}
		key, err := loadKey(filepath.Join(dir, e.Name()), kid)
		if err != nil {
			return nil, err
		}
		k.keys = append(k.keys, key)
	}
	sort.Slice(k.keys, func(i, j int) bool { return k.keys[i].created.Before(k.keys[j].created) })
	if err := k.rotateIfOld(); err != nil {
		return nil, err
	}
	return k, nil
}

// Rotate makes a new key the signing key. Tokens signed by the old keys stay
// valid until they expire.
func (k *Keyring) Rotate() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.rotateLocked()
}

func (k *Keyring) rotateIfOld() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.keys) > 0 && k.now().Sub(k.keys[len(k.keys)-1].created) < k.maxAge {
		return nil
	}
	return k.rotateLocked()
}

func (k *Keyring) rotateLocked() error {
	now := k.now()
	var suffix [4]byte
	rand.Read(suffix[:])
	kid := strconv.FormatInt(now.Unix(), 10) + "-" + hex.EncodeToString(suffix[:])
	priv, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return fmt.Errorf("auth: generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return fmt.Errorf("auth: encode key: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(k.dir, kid+".pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})); err != nil {
		return err
	}
	key, err := newSigningKey(kid, priv, time.Unix(now.Unix(), 0))
	if err != nil {
		return err
	}
	k.keys = append(k.keys, key)
	k.pruneLocked(now)
	return nil
}

// pruneLocked forgets keys whose successor has signed for longer than a
// token lives: no live token can carry their kid any more.
func (k *Keyring) pruneLocked(now time.Time) {
	keep := k.keys[:0]
	for i, key := range k.keys {
		if i+1 < len(k.keys) && now.Sub(k.keys[i+1].created) > k.ttl+time.Minute {
			os.Remove(filepath.Join(k.dir, key.kid+".pem"))
			continue
		}
		keep = append(keep, key)
	}
	k.keys = keep
}

// signing returns the key to sign with, rotating first when it is too old.
func (k *Keyring) signing() (*signingKey, error) {
	k.mu.RLock()
	key := k.keys[len(k.keys)-1]
	k.mu.RUnlock()
	if k.now().Sub(key.created) < k.maxAge {
		return key, nil
	}
	if err := k.rotateIfOld(); err != nil {
		return nil, err
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.keys[len(k.keys)-1], nil
}

// public returns the verifying key for kid, if it is still trusted.
func (k *Keyring) public(kid string) (*rsa.PublicKey, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	for _, key := range k.keys {
		if key.kid == kid {
			return &key.priv.PublicKey, true
		}
	}
	return nil, false
}

// JWKS is the public half of every trusted key, for /.well-known/jwks.json.
func (k *Keyring) JWKS() jose.JSONWebKeySet {
	k.mu.RLock()
	defer k.mu.RUnlock()
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(k.keys))}
	for _, key := range k.keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &key.priv.PublicKey, KeyID: key.kid, Algorithm: string(jose.RS256), Use: "sig"})
	}
	return set
}

func newSigningKey(kid string, priv *rsa.PrivateKey, created time.Time) (*signingKey, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: priv, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, fmt.Errorf("auth: signer: %w", err)
	}
	return &signingKey{kid: kid, priv: priv, created: created, signer: signer}, nil
}

func loadKey(path, kid string) (*signingKey, error) {
	ts, _, ok := strings.Cut(kid, "-")
	secs, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil {
		return nil, fmt.Errorf("auth: key file %s: name is not <unix>-<hex>.pem", path)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth: read key: %w", err)
	}
	block, _ := pem.Decode(text)
	if block == nil {
		return nil, fmt.Errorf("auth: key file %s: no PEM block", path)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("auth: key file %s: %w", path, err)
	}
	priv, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("auth: key file %s: not an RSA key", path)
	}
	return newSigningKey(kid, priv, time.Unix(secs, 0))
}

// writeFileAtomic writes data to a temporary file (mode 0600) and renames it
// into place, so a crash never leaves half a key.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("auth: write key: %w", err)
	}
	_, err = f.Write(data)
	err = errors.Join(err, f.Sync(), f.Close())
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("auth: write key: %w", err)
	}
	return nil
}
