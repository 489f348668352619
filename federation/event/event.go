// Package event is Concord's signed event envelope (spec/events.md): its
// fields and their limits, the canonical wire form, content hashes, event
// IDs, origin signatures and redaction. It checks that one event is
// well-formed and signed by its origin; whether the event is allowed (auth
// rules) and where it sits in the DAG are decided elsewhere. Any package may
// import it; it imports only canonical, snowflake and libp2p's key types.
package event

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"concord/federation/snowflake"
)

// Limits from spec/events.md, "Envelope".
const (
	MaxSize       = 65536 // bytes of the canonical wire form, unsigned included
	MaxPrevEvents = 20
	MaxAuthEvents = 101 // a bulk delete names 100 messages plus the guild's create event
	MaxTypeLen    = 100
)

// TypeGuildCreate is the root of a guild's DAG, the only event without
// prev_events.
const TypeGuildCreate = "guild.create"

// Reasons an event is rejected; every error from Parse, Sign and Verify wraps
// one of them, so accept() can report "rejected: bad signature" with
// errors.Is.
var (
	ErrTooLarge     = errors.New("event too large")
	ErrMalformed    = errors.New("malformed event")
	ErrBadHash      = errors.New("content hash mismatch")
	ErrBadSignature = errors.New("bad signature")
	// ErrRedacted means the ID and signature verify but the content has
	// been redacted, so its hash no longer matches. Whether that is
	// acceptable is the caller's call: a fresh event should never arrive
	// redacted, a backfilled one may.
	ErrRedacted = errors.New("event content redacted")
)

// Event is one signed event. Parse and Sign fill it; its fields must not be
// changed afterwards (call Sign again), since the cached ID would no longer
// match.
type Event struct {
	GuildID     snowflake.ID
	Type        string
	Sender      snowflake.ID
	Origin      peer.ID // the signing node; its ID embeds its Ed25519 key
	OriginTS    int64   // Unix milliseconds, as claimed by the origin
	PrevEvents  []string
	AuthEvents  []string
	Depth       int64
	Content     json.RawMessage // a canonical JSON object
	ContentHash [sha256.Size]byte
	Signature   [ed25519.SignatureSize]byte // by Origin
	Unsigned    json.RawMessage             // nil, or a canonical JSON object; local only

	id        string
	originKey crypto.PubKey
	// originText is originID in base58, as Parse or Sign saw it: encoding
	// base58 costs more than the rest of Parse.
	originID   peer.ID
	originText string
}

// OriginString is Origin in base58, as Parse or Sign saw it: encoding
// base58 costs more than the rest of Parse, so it is kept.
func (e *Event) OriginString() string {
	if e.originText != "" && e.originID == e.Origin {
		return e.originText
	}
	return e.Origin.String()
}

// ID returns the event ID ("$" + 43 base64url characters), or "" for an
// event that has not been through Parse or Sign.
func (e *Event) ID() string { return e.id }

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// check enforces the field rules that Parse and Sign share.
func (e *Event) check() error {
	if e.GuildID == 0 {
		return malformed("guild_id missing")
	}
	if e.Sender == 0 {
		return malformed("sender missing")
	}
	if !validType(e.Type) {
		return malformed("type %q is not 1–%d characters of a–z, 0–9, '.', '_'", e.Type, MaxTypeLen)
	}
	if e.OriginTS < 0 {
		return malformed("origin_ts negative")
	}
	root := e.Type == TypeGuildCreate
	switch {
	case root && (len(e.PrevEvents) != 0 || len(e.AuthEvents) != 0 || e.Depth != 0):
		return malformed("%s must have no prev_events, no auth_events and depth 0", TypeGuildCreate)
	case !root && (len(e.PrevEvents) == 0 || len(e.PrevEvents) > MaxPrevEvents):
		return malformed("prev_events must hold 1–%d events", MaxPrevEvents)
	case !root && e.Depth < 1:
		return malformed("depth must be at least 1")
	case len(e.AuthEvents) > MaxAuthEvents:
		return malformed("auth_events must hold at most %d events", MaxAuthEvents)
	}
	if err := checkIDList("prev_events", e.PrevEvents); err != nil {
		return err
	}
	if err := checkIDList("auth_events", e.AuthEvents); err != nil {
		return err
	}
	if len(e.Content) == 0 || e.Content[0] != '{' {
		return malformed("content is not an object")
	}
	if e.Unsigned != nil && (len(e.Unsigned) == 0 || e.Unsigned[0] != '{') {
		return malformed("unsigned is not an object")
	}
	return nil
}

func validType(t string) bool {
	if len(t) == 0 || len(t) > MaxTypeLen {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

func checkIDList(field string, ids []string) error {
	for i, id := range ids {
		if !validEventID(id) {
			return malformed("%s: %q is not an event ID", field, id)
		}
		if i > 0 && ids[i-1] >= id {
			return malformed("%s not sorted and unique", field)
		}
	}
	return nil
}

// validEventID accepts "$" and the unpadded base64url of 32 bytes, in its one
// canonical spelling (the unused low bits of the last character are zero).
func validEventID(id string) bool {
	if len(id) != 1+idHashLen || id[0] != '$' {
		return false
	}
	var sum [sha256.Size]byte
	n, err := b64.Decode(sum[:], []byte(id[1:]))
	return err == nil && n == sha256.Size
}

// originKey returns the Ed25519 key embedded in a peer ID, requiring the ID
// to be the canonical one for that key.
func originKey(id peer.ID) (crypto.PubKey, error) {
	key, err := id.ExtractPublicKey()
	if err != nil {
		return nil, err
	}
	if key.Type() != crypto.Ed25519 {
		return nil, fmt.Errorf("%s key, only Ed25519 is accepted", key.Type())
	}
	if canon, err := peer.IDFromPublicKey(key); err != nil || canon != id {
		return nil, errors.New("not the canonical peer ID of its key")
	}
	return key, nil
}

// ValidID reports whether id is an event ID in its one canonical spelling.
func ValidID(id string) bool { return validEventID(id) }
