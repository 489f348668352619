package guild

import (
	"crypto/sha256"
	"encoding/json"
)

// Canonical is a deterministic serialisation of s: JSON with map keys
// sorted, the owner included. Two nodes holding the same events must produce
// the same bytes (spec/state-resolution.md); tests compare states with it.
func (s *State) Canonical() []byte {
	type plain State // drops the methods, so Marshal sees the fields
	b, err := json.Marshal(struct {
		OwnerID ID `json:"owner_id"`
		*plain
	}{s.OwnerID(), (*plain)(s)})
	if err != nil {
		// Every field is a plain value with a fixed JSON form.
		panic("guild: canonical state: " + err.Error())
	}
	return b
}

// Hash is the SHA-256 of Canonical.
func (s *State) Hash() [32]byte { return sha256.Sum256(s.Canonical()) }
