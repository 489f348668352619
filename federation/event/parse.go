package event

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"concord/federation/canonical"
	"concord/federation/snowflake"
)

// Top-level fields, as bits to track which were present.
const (
	fAuthEvents = 1 << iota
	fContent
	fDepth
	fGuildID
	fHashes
	fOrigin
	fOriginTS
	fPrevEvents
	fSender
	fSignatures
	fType
	fUnsigned

	required = fUnsigned - 1
)

var fieldNames = [...]string{"auth_events", "content", "depth", "guild_id", "hashes", "origin", "origin_ts", "prev_events", "sender", "signatures", "type", "unsigned"}

// Parse decodes an event from its wire form and computes its ID. It checks
// the form strictly: b must be canonical JSON of at most MaxSize bytes, with
// exactly the envelope's fields, each of its type and within its limits,
// and an origin that is an Ed25519 peer ID. It does not check the hash or
// signature: call Verify.
func Parse(b []byte) (*Event, error) {
	if len(b) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(b), MaxSize)
	}
	// A canonical wire form means one byte sequence per event, so what we
	// store and forward is exactly what we received.
	if err := canonical.Check(b); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	raw := bytes.Clone(b)
	e := new(Event)
	var seen int
	var sigKey []byte
	err := canonical.EachMember(raw, func(k, v []byte) error {
		var err error
		var bit int
		switch string(k) {
		case "auth_events":
			bit = fAuthEvents
			e.AuthEvents, err = parseIDs(v)
		case "content":
			bit = fContent
			if v[0] != '{' {
				err = errors.New("not an object")
			}
			e.Content = v
		case "depth":
			bit = fDepth
			e.Depth, err = parseInt(v)
		case "guild_id":
			bit = fGuildID
			e.GuildID, err = parseSnowflake(v)
		case "hashes":
			bit = fHashes
			err = parseOneMember(v, func(k, v []byte) error {
				if string(k) != "sha256" {
					return fmt.Errorf("unknown hash %q", k)
				}
				return parseBase64(v, e.ContentHash[:])
			})
		case "origin":
			bit = fOrigin
			if e.Origin, e.originKey, err = parseOrigin(v); err == nil {
				e.originID, e.originText = e.Origin, string(v[1:len(v)-1])
			}
		case "origin_ts":
			bit = fOriginTS
			e.OriginTS, err = parseInt(v)
		case "prev_events":
			bit = fPrevEvents
			e.PrevEvents, err = parseIDs(v)
		case "sender":
			bit = fSender
			e.Sender, err = parseSnowflake(v)
		case "signatures":
			bit = fSignatures
			err = parseOneMember(v, func(k, v []byte) error {
				sigKey = k
				return parseBase64(v, e.Signature[:])
			})
		case "type":
			bit = fType
			var s []byte
			if s, err = parseString(v); err == nil {
				e.Type = string(s)
			}
		case "unsigned":
			bit = fUnsigned
			if v[0] != '{' {
				err = errors.New("not an object")
			}
			e.Unsigned = v
		default:
			return malformed("unknown field %q", k)
		}
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrMalformed, k, err)
		}
		seen |= bit
		return nil
	})
	if err != nil {
		return nil, withReason(err)
	}
	if missing := required &^ seen; missing != 0 {
		for i, name := range fieldNames {
			if missing&(1<<i) != 0 {
				return nil, malformed("%s missing", name)
			}
		}
	}
	// The signature is keyed by the origin so that the form can later admit
	// more signers; today the origin is the only one.
	if string(sigKey) != e.originText {
		return nil, malformed("signatures: key %q is not the origin", sigKey)
	}
	if err := e.check(); err != nil {
		return nil, err
	}
	e.id = e.computeID()
	return e, nil
}

// withReason makes sure err wraps ErrMalformed: errors from the field
// parsers do, errors from canonical do not.
func withReason(err error) error {
	if errors.Is(err, ErrMalformed) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrMalformed, err)
}

func parseString(v []byte) ([]byte, error) {
	if len(v) < 2 || v[0] != '"' {
		return nil, errors.New("not a string")
	}
	return v[1 : len(v)-1], nil
}

func parseInt(v []byte) (int64, error) {
	if v[0] != '-' && (v[0] < '0' || v[0] > '9') {
		return 0, errors.New("not an integer")
	}
	// canonical.Check bounded v to ±(2^53−1), so this cannot fail.
	n, _ := strconv.ParseInt(string(v), 10, 64)
	if n < 0 {
		return 0, errors.New("negative")
	}
	return n, nil
}

func parseSnowflake(v []byte) (snowflake.ID, error) {
	s, err := parseString(v)
	if err != nil {
		return 0, err
	}
	id, err := snowflake.Parse(string(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a snowflake", s)
	}
	return id, nil
}

func parseIDs(v []byte) ([]string, error) {
	if v[0] != '[' {
		return nil, errors.New("not an array")
	}
	var ids []string
	err := canonical.EachElement(v, func(v []byte) error {
		s, err := parseString(v)
		if err != nil {
			return err
		}
		// Stop early on huge lists; check applies each field's own limit.
		if len(ids) == MaxAuthEvents {
			return fmt.Errorf("more than %d event IDs", MaxAuthEvents)
		}
		ids = append(ids, string(s))
		return nil
	})
	return ids, err
}

func parseOrigin(v []byte) (peer.ID, crypto.PubKey, error) {
	s, err := parseString(v)
	if err != nil {
		return "", nil, err
	}
	if o, ok := origins.get(string(s)); ok {
		return o.id, o.key, nil
	}
	// peer.Decode also reads CIDs, a second spelling of the same ID. A
	// leading '1' selects base58, which has one spelling per byte string,
	// and originKey requires the one byte string per key.
	if len(s) == 0 || s[0] != '1' {
		return "", nil, fmt.Errorf("%q is not a base58 Ed25519 peer ID", s)
	}
	id, err := peer.Decode(string(s))
	if err != nil {
		return "", nil, err
	}
	key, err := originKey(id)
	if err != nil {
		return "", nil, err
	}
	origins.put(string(s), origin{id, key})
	return id, key, nil
}

// origins caches decoded origins: a node hears from few of them, and
// decoding base58 and the key is a third of Parse. It is emptied when full
// rather than tracking use, which is enough to bound it.
var origins = originCache{m: make(map[string]origin)}

const maxCachedOrigins = 4096

type origin struct {
	id  peer.ID
	key crypto.PubKey
}

type originCache struct {
	mu sync.RWMutex
	m  map[string]origin
}

func (c *originCache) get(s string) (origin, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	o, ok := c.m[s]
	return o, ok
}

func (c *originCache) put(s string, o origin) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCachedOrigins {
		clear(c.m)
	}
	c.m[s] = o
}

// parseOneMember requires v to be an object with exactly one member.
func parseOneMember(v []byte, fn func(k, v []byte) error) error {
	if v[0] != '{' {
		return errors.New("not an object")
	}
	n := 0
	err := canonical.EachMember(v, func(k, v []byte) error {
		if n++; n > 1 {
			return errors.New("more than one member")
		}
		return fn(k, v)
	})
	if err == nil && n == 0 {
		return errors.New("empty")
	}
	return err
}

func parseBase64(v, dst []byte) error {
	s, err := parseString(v)
	if err != nil {
		return err
	}
	if len(s) != b64.EncodedLen(len(dst)) {
		return errors.New("wrong length")
	}
	if _, err := b64.Decode(dst, s); err != nil {
		return fmt.Errorf("not base64url: %v", err)
	}
	return nil
}
