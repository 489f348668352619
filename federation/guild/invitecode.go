package guild

import "crypto/sha256"

// Invite codes a node mints name the room they admit to (spec/federation.md,
// "Invites and joins"): InviteRandomLen random characters of InviteAlphabet,
// then the room's tag, InviteTag of its guild.create event. A node that
// looks up a bound code elsewhere accepts only the room whose create event
// has that tag, so a peer cannot answer with a guild of its own.
const (
	InviteAlphabet  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	InviteRandomLen = 8
	InviteTagLen    = 12
	// BoundInviteLen is the length of a bound code; a code of any other
	// length names no room.
	BoundInviteLen = InviteRandomLen + InviteTagLen
)

// InviteTag is the tag of the room whose guild.create event is createID:
// InviteTagLen characters, the i-th InviteAlphabet[h[i] mod 62] where h is
// the SHA-256 of the event ID's text.
func InviteTag(createID string) string {
	h := sha256.Sum256([]byte(createID))
	tag := make([]byte, InviteTagLen)
	for i := range tag {
		tag[i] = InviteAlphabet[int(h[i])%len(InviteAlphabet)]
	}
	return string(tag)
}

// InviteNames reports whether code may lead to the room whose guild.create
// event is createID: a bound code only to the room of its tag, any other
// code to any room.
func InviteNames(code, createID string) bool {
	if len(code) != BoundInviteLen {
		return true
	}
	return code[InviteRandomLen:] == InviteTag(createID)
}
