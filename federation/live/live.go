// Package live holds a node's ephemeral state: who is online and what
// they show (presence), who is typing, and who sits in which voice channel.
// None of it is stored or part of a guild's history; it lives in memory and
// is lost on restart, as on Discord.
//
// A Hub is the one place this state lives. The gateway feeds it (a
// connection came or went, op 3 presence, op 4 voice), the REST API tells it
// who types, the SFU reads voice states and answers each join with the
// voice server to connect to, and federation carries typing and presence
// (and will carry voice) between nodes; each hears changes as a Listener. The
// package knows nothing of Discord's wire format and imports nothing of the
// project above federation/snowflake, so every one of those may use it
// without importing another.
package live

import (
	"encoding/json"
	"time"

	"concord/federation/snowflake"
)

// Statuses a user may ask for. Others see invisible as offline.
const (
	StatusOnline    = "online"
	StatusIdle      = "idle"
	StatusDND       = "dnd"
	StatusInvisible = "invisible"
	StatusOffline   = "offline"
)

// Presence is what others see of a user: a status other than invisible,
// and the activities the user's client set.
type Presence struct {
	UserID     snowflake.ID
	Status     string          // online, idle, dnd or offline
	Activities json.RawMessage // a JSON array; [] when offline
}

// Request is what a client asks to show: a status (invisible and offline
// both hide the user) and its activities, a JSON array or null.
type Request struct {
	Status     string
	Activities json.RawMessage
}

// Typing is one "is typing" signal; clients show it for about ten seconds.
// RoomID is the guild, or for a DM the DM room, whose ID is its channel's.
type Typing struct {
	RoomID    snowflake.ID
	ChannelID snowflake.ID
	UserID    snowflake.ID
	At        time.Time
}

// VoiceState is a user's place in a guild's voice. ChannelID zero means
// not in voice: a listener hears that when the user leaves.
type VoiceState struct {
	GuildID   snowflake.ID
	ChannelID snowflake.ID
	UserID    snowflake.ID
	SessionID string // the gateway session that joined
	Deaf      bool   // server-deafened
	Mute      bool   // server-muted
	SelfDeaf  bool
	SelfMute  bool
	SelfVideo bool
	// SelfStream is set while the user shares their screen (Go Live).
	SelfStream bool
	Suppress   bool
	// Home is the peer ID of the user's home node when that is another
	// node, whose word this state is (federation/p2p); empty for a user
	// of this node.
	Home string
}

// VoiceServer tells a user's client where to connect its media for a
// guild, in answer to the voice state of one gateway session: Discord's
// VOICE_SERVER_UPDATE. The SFU makes it; it is not kept.
type VoiceServer struct {
	GuildID   snowflake.ID
	UserID    snowflake.ID
	SessionID string // the gateway session whose join it answers
	Token     string // proves the join to the voice gateway
	Endpoint  string // the voice gateway: host[:port]/path, without a scheme
}

// Listener hears every change of live state, in the order the hub made
// them. Its methods may block briefly (to queue work) but must not wait for
// a change of live state; they may read the hub.
type Listener interface {
	Presence(p Presence)
	Typing(t Typing)
	Voice(v VoiceState)
	VoiceServer(s VoiceServer)
}
