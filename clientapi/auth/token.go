package auth

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"concord/federation/snowflake"
)

// ErrInvalidToken covers every token we refuse; callers answer 401 and must
// not tell the client why.
var ErrInvalidToken = errors.New("auth: invalid token")

// maxTokenLen bounds what we parse; our tokens are under 1 KiB.
const maxTokenLen = 4096

type claims struct {
	jwt.Claims
	SessionID string `json:"sid"`
}

// accessToken is what a verified access token says.
type accessToken struct {
	userID, sessionID snowflake.ID
	expires           time.Time
}

// Tokens issues and verifies access tokens. Verified tokens are remembered
// by the SHA-256 of their text until they expire, which makes a repeat
// verification a hash and a map lookup instead of an RSA operation; the
// session behind the token is still checked on every request.
type Tokens struct {
	keys   *Keyring
	issuer string
	ttl    time.Duration
	now    func() time.Time

	mu      sync.RWMutex
	cache   map[[32]byte]accessToken
	maxKeys int
}

func newTokens(keys *Keyring, issuer string, ttl time.Duration, now func() time.Time) *Tokens {
	return &Tokens{keys: keys, issuer: issuer, ttl: ttl, now: now, cache: map[[32]byte]accessToken{}, maxKeys: 100_000}
}

// Issue signs an access token for a session.
func (t *Tokens) Issue(userID, sessionID snowflake.ID) (string, error) {
	key, err := t.keys.signing()
	if err != nil {
		return "", err
	}
	now := t.now()
	c := claims{
		Claims: jwt.Claims{
			Issuer:    t.issuer,
			Subject:   userID.String(),
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			Expiry:    jwt.NewNumericDate(now.Add(t.ttl)),
		},
		SessionID: sessionID.String(),
	}
	tok, err := jwt.Signed(key.signer).Claims(c).Serialize()
	if err != nil {
		return "", fmt.Errorf("auth: sign token: %w", err)
	}
	return tok, nil
}

// verify checks an access token's signature, key and claims. Only RS256
// with a kid from the keyring passes: "none", HMAC (including HS256 keyed
// with our public key) and unknown keys fail before any claim is read.
func (t *Tokens) verify(raw string) (accessToken, error) {
	if len(raw) > maxTokenLen || strings.Count(raw, ".") != 2 {
		return accessToken{}, ErrInvalidToken
	}
	sum := sha256.Sum256([]byte(raw))
	now := t.now()
	t.mu.RLock()
	hit, ok := t.cache[sum]
	t.mu.RUnlock()
	if ok {
		if now.Before(hit.expires) {
			return hit, nil
		}
		return accessToken{}, ErrInvalidToken
	}
	at, err := t.verifySlow(raw, now)
	if err != nil {
		return accessToken{}, err
	}
	t.remember(sum, at, now)
	return at, nil
}

func (t *Tokens) verifySlow(raw string, now time.Time) (accessToken, error) {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || len(tok.Headers) != 1 {
		return accessToken{}, ErrInvalidToken
	}
	pub, ok := t.keys.public(tok.Headers[0].KeyID)
	if !ok {
		return accessToken{}, ErrInvalidToken
	}
	var c claims
	if err := tok.Claims(pub, &c); err != nil {
		return accessToken{}, ErrInvalidToken
	}
	if c.Expiry == nil || c.NotBefore == nil || c.IssuedAt == nil {
		return accessToken{}, ErrInvalidToken
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: t.issuer, Time: now}, 0); err != nil {
		return accessToken{}, ErrInvalidToken
	}
	uid, err1 := snowflake.Parse(c.Subject)
	sid, err2 := snowflake.Parse(c.SessionID)
	if err1 != nil || err2 != nil {
		return accessToken{}, ErrInvalidToken
	}
	return accessToken{userID: uid, sessionID: sid, expires: c.Expiry.Time()}, nil
}

// remember caches a verified token, first dropping expired entries when
// the cache is full, and anything when that is not enough.
func (t *Tokens) remember(sum [32]byte, at accessToken, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.cache) >= t.maxKeys {
		for k, v := range t.cache {
			if !now.Before(v.expires) {
				delete(t.cache, k)
			}
		}
		for k := range t.cache {
			if len(t.cache) < t.maxKeys {
				break
			}
			delete(t.cache, k)
		}
	}
	t.cache[sum] = at
}
