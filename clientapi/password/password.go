// Package password hashes and checks account passwords with Argon2id and
// enforces Concord's password policy. Hashes are PHC strings carrying their
// own parameters, so raising the parameters later only needs a rehash on the
// next successful login (NeedsRehash). Only clientapi/accounts imports it.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
)

// Params are Argon2id's cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen int
	KeyLen  int
}

// Default costs about 55 ms per hash on the reference machine (2 cores of an
// AMD EPYC, see spec/client-api.md, "Passwords"): 64 MiB and 2 passes over 2
// lanes. 64 MiB t=1 came in under 30 ms; the chosen setting is above OWASP's
// Argon2id minimum (19 MiB, t=2, p=1) in both memory and time.
var Default = Params{Memory: 64 << 10, Time: 2, Threads: 2, SaltLen: 16, KeyLen: 32}

// Hashes may not ask for more than this, so a corrupted row cannot make
// one login allocate gigabytes.
const maxMemory = 1 << 20 // KiB

// ErrMalformed means a stored hash is not an Argon2id PHC string we accept.
var ErrMalformed = errors.New("password: malformed argon2id hash")

// ErrBusy means as many hashes as the hasher allows are running and
// waiting: the caller should answer "try again shortly" (503) rather than
// queue without bound.
var ErrBusy = errors.New("password: too many hashes waiting")

// Hasher hashes with fixed parameters and bounds how many hashes run at
// once: each holds Params.Memory, and a burst of logins must not exhaust
// the node's memory. It also bounds how many wait for a turn, so that a
// flood fails fast instead of piling up requests that time out anyway.
type Hasher struct {
	params  Params
	slots   chan struct{}
	waiting atomic.Int32
	queue   int32 // most hashes waiting for a slot
	dummy   string
}

// queuePerSlot is how many hashes may wait per running one: about a
// quarter of a second of work at the default cost.
const queuePerSlot = 4

// NewHasher returns a hasher for p running at most GOMAXPROCS hashes at
// once, with at most queuePerSlot times as many waiting.
func NewHasher(p Params) (*Hasher, error) {
	if p.Memory == 0 || p.Memory > maxMemory || p.Time == 0 || p.Threads == 0 || p.SaltLen < 16 || p.KeyLen < 16 {
		return nil, fmt.Errorf("password: unusable argon2id parameters %+v", p)
	}
	// The dummy costs what a real hash costs to verify, but is not derived
	// from anything: no password matches a key of zeros, and building it
	// spends nothing at start.
	salt := make([]byte, p.SaltLen)
	rand.Read(salt)
	dummy := encode(p, salt, make([]byte, p.KeyLen))
	n := runtime.GOMAXPROCS(0)
	return &Hasher{params: p, slots: make(chan struct{}, n), queue: int32(n * queuePerSlot), dummy: dummy}, nil
}

// Hash returns the PHC string of pw with a fresh salt.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	rand.Read(salt)
	key, err := h.derive(ctx, []byte(pw), salt, h.params)
	if err != nil {
		return "", err
	}
	return encode(h.params, salt, key), nil
}

// Verify reports whether pw matches the PHC string encoded, in constant time
// over the derived key. rehash is true when the hash used weaker parameters
// than the hasher's, and the caller should store a new Hash.
func (h *Hasher) Verify(ctx context.Context, pw, encoded string) (ok, rehash bool, err error) {
	p, salt, want, err := decode(encoded)
	if err != nil {
		return false, false, err
	}
	got, err := h.derive(ctx, []byte(pw), salt, p)
	if err != nil {
		return false, false, err
	}
	ok = subtle.ConstantTimeCompare(got, want) == 1
	return ok, ok && weaker(p, h.params), nil
}

// VerifyDummy spends the same time as a Verify and always fails. Login
// calls it for unknown accounts, so response time does not reveal whether
// an account exists.
func (h *Hasher) VerifyDummy(ctx context.Context, pw string) error {
	_, _, err := h.Verify(ctx, pw, h.dummy)
	return err
}

func (h *Hasher) derive(ctx context.Context, pw, salt []byte, p Params) ([]byte, error) {
	select {
	case h.slots <- struct{}{}:
	default:
		if h.waiting.Add(1) > h.queue {
			h.waiting.Add(-1)
			return nil, ErrBusy
		}
		select {
		case h.slots <- struct{}{}:
			h.waiting.Add(-1)
		case <-ctx.Done():
			h.waiting.Add(-1)
			return nil, ctx.Err()
		}
	}
	defer func() { <-h.slots }()
	return argon2.IDKey(pw, salt, p.Time, p.Memory, p.Threads, uint32(p.KeyLen)), nil
}

func weaker(p, current Params) bool {
	return p.Memory < current.Memory || p.Time < current.Time || p.KeyLen < current.KeyLen || p.SaltLen < current.SaltLen
}

var b64 = base64.RawStdEncoding

func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

func decode(s string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, ErrMalformed
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, ErrMalformed
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, ErrMalformed
	}
	if p.Memory == 0 || p.Memory > maxMemory || p.Time == 0 || p.Time > 100 || p.Threads == 0 {
		return p, nil, nil, ErrMalformed
	}
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 {
		return p, nil, nil, ErrMalformed
	}
	p.SaltLen, p.KeyLen = len(salt), len(key)
	return p, salt, key, nil
}
