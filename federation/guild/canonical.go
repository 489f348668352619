package guild

import (
	"crypto/sha256"
	"encoding/json"

	"concord/federation/canonical"
)

// Canonical is a deterministic serialisation of s: canonical JSON
// (spec/events.md) of the state with the owner included and every list
// present, empty or not, so that it depends on the state alone and not on
// how it was reached. Two nodes holding the same events produce the same
// bytes (spec/state-resolution.md, "Canonical state").
func (s *State) Canonical() []byte {
	c := s.Clone()
	for _, m := range c.Members {
		m.Roles = nonNil(m.Roles)
	}
	for _, ch := range c.Channels {
		ch.Overwrites = nonNil(ch.Overwrites)
	}
	for _, e := range c.Emojis {
		e.Roles = nonNil(e.Roles)
	}
	for _, b := range c.Bans {
		b.Others = nonNil(b.Others)
	}
	type plain State // drops the methods, so Marshal sees the fields
	b, err := json.Marshal(struct {
		OwnerID ID `json:"owner_id"`
		*plain
	}{c.OwnerID(), (*plain)(c)})
	if err == nil {
		b, err = canonical.Canonicalize(b)
	}
	if err != nil {
		// Every field is a plain value with a fixed JSON form.
		panic("guild: canonical state: " + err.Error())
	}
	return b
}

func nonNil[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return list
}

// Hash is the SHA-256 of Canonical.
func (s *State) Hash() [32]byte { return sha256.Sum256(s.Canonical()) }
