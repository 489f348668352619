// Package perm is Concord's one implementation of Discord's permission model
// (spec/permissions.md): the permission bits, base and per-channel
// permissions with overwrites, implicit denies, timeouts, the role hierarchy
// and the authority rank that state resolution sorts by. Every function is
// pure and deterministic: callers pass the time in. Any package may import it;
// it imports only federation/snowflake, so that the event auth rules and the
// client API can never disagree about who may do what.
package perm

import (
	"errors"
	"strconv"
)

// Bits is a set of permissions. On the wire it is a decimal string, as
// Discord sends it from API v8 on.
type Bits uint64

// The permission bits, numbered as Discord numbers them (spec/permissions.md,
// "Bits").
const (
	CreateInstantInvite              Bits = 1 << 0
	KickMembers                      Bits = 1 << 1
	BanMembers                       Bits = 1 << 2
	Administrator                    Bits = 1 << 3
	ManageChannels                   Bits = 1 << 4
	ManageGuild                      Bits = 1 << 5
	AddReactions                     Bits = 1 << 6
	ViewAuditLog                     Bits = 1 << 7
	PrioritySpeaker                  Bits = 1 << 8
	Stream                           Bits = 1 << 9
	ViewChannel                      Bits = 1 << 10
	SendMessages                     Bits = 1 << 11
	SendTTSMessages                  Bits = 1 << 12
	ManageMessages                   Bits = 1 << 13
	EmbedLinks                       Bits = 1 << 14
	AttachFiles                      Bits = 1 << 15
	ReadMessageHistory               Bits = 1 << 16
	MentionEveryone                  Bits = 1 << 17
	UseExternalEmojis                Bits = 1 << 18
	ViewGuildInsights                Bits = 1 << 19
	Connect                          Bits = 1 << 20
	Speak                            Bits = 1 << 21
	MuteMembers                      Bits = 1 << 22
	DeafenMembers                    Bits = 1 << 23
	MoveMembers                      Bits = 1 << 24
	UseVAD                           Bits = 1 << 25
	ChangeNickname                   Bits = 1 << 26
	ManageNicknames                  Bits = 1 << 27
	ManageRoles                      Bits = 1 << 28
	ManageWebhooks                   Bits = 1 << 29
	ManageGuildExpressions           Bits = 1 << 30
	UseApplicationCommands           Bits = 1 << 31
	RequestToSpeak                   Bits = 1 << 32
	ManageEvents                     Bits = 1 << 33
	ManageThreads                    Bits = 1 << 34
	CreatePublicThreads              Bits = 1 << 35
	CreatePrivateThreads             Bits = 1 << 36
	UseExternalStickers              Bits = 1 << 37
	SendMessagesInThreads            Bits = 1 << 38
	UseEmbeddedActivities            Bits = 1 << 39
	ModerateMembers                  Bits = 1 << 40
	ViewCreatorMonetizationAnalytics Bits = 1 << 41
	UseSoundboard                    Bits = 1 << 42
	CreateGuildExpressions           Bits = 1 << 43
	CreateEvents                     Bits = 1 << 44
	UseExternalSounds                Bits = 1 << 45
	SendVoiceMessages                Bits = 1 << 46
	// Bit 47 is unassigned: Discord retired it.
	SetVoiceChannelStatus Bits = 1 << 48
	SendPolls             Bits = 1 << 49
	UseExternalApps       Bits = 1 << 50
	PinMessages           Bits = 1 << 51
	BypassSlowmode        Bits = 1 << 52
)

// None is the empty set.
const None Bits = 0

// All is every defined bit: what the owner and administrators hold.
const All Bits = 1<<47 - 1 | SetVoiceChannelStatus | SendPolls | UseExternalApps | PinMessages | BypassSlowmode

// ChannelMask holds the bits that apply to some channel type (Discord's T, V
// and S columns). Only these may appear in a permission overwrite; the rest
// (kick, ban, administrator, manage guild, …) are guild-wide. It is one mask
// for every channel type because a category's overwrites sync to children of
// all types.
const ChannelMask Bits = CreateInstantInvite | ManageChannels | AddReactions |
	PrioritySpeaker | Stream | ViewChannel | SendMessages | SendTTSMessages |
	ManageMessages | EmbedLinks | AttachFiles | ReadMessageHistory |
	MentionEveryone | UseExternalEmojis | Connect | Speak | MuteMembers |
	DeafenMembers | MoveMembers | UseVAD | ManageRoles | ManageWebhooks |
	UseApplicationCommands | RequestToSpeak | ManageEvents | ManageThreads |
	CreatePublicThreads | CreatePrivateThreads | UseExternalStickers |
	SendMessagesInThreads | UseEmbeddedActivities | UseSoundboard |
	CreateEvents | UseExternalSounds | SendVoiceMessages |
	SetVoiceChannelStatus | SendPolls | UseExternalApps | PinMessages |
	BypassSlowmode

// DefaultEveryone is what @everyone holds in a new guild: Discord's API v10
// default 1071698660929, plus the member-level bits Discord has since turned
// on for @everyone (soundboard, external sounds, voice messages, polls,
// external apps). It leaves out the newer bits Discord migrated only to
// moderators (pin, bypass slowmode, create expressions and events). Like
// Discord it includes MENTION_EVERYONE and leaves out SEND_TTS_MESSAGES.
const DefaultEveryone Bits = 1071698660929 | UseSoundboard | UseExternalSounds |
	SendVoiceMessages | SendPolls | UseExternalApps

// sendImplied are the bits that mean nothing without the right to send a
// message: each is a kind of message or a property of one.
const sendImplied = SendTTSMessages | MentionEveryone | AttachFiles | EmbedLinks |
	SendPolls | SendVoiceMessages

// timedOut is all a timed-out member keeps.
const timedOut = ViewChannel | ReadMessageHistory

// ErrInvalid is returned for text that is not a permission set.
var ErrInvalid = errors.New("invalid permission bits")

// ParseBits reads the canonical decimal form: digits only, no sign and no
// leading zeros, so that one set has one spelling in signed events. Undefined
// bits are kept; callers that must refuse them test b&^All.
func ParseBits(s string) (Bits, error) {
	if s == "" || len(s) > 20 || (len(s) > 1 && s[0] == '0') {
		return 0, ErrInvalid
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, ErrInvalid
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, ErrInvalid
	}
	return Bits(v), nil
}

// String renders the decimal form.
func (b Bits) String() string { return strconv.FormatUint(uint64(b), 10) }

// Has reports whether b holds every bit of want.
func (b Bits) Has(want Bits) bool { return b&want == want }

// MarshalJSON writes b as a JSON string of its decimal value.
func (b Bits) MarshalJSON() ([]byte, error) {
	out := make([]byte, 0, 22)
	out = append(out, '"')
	out = strconv.AppendUint(out, uint64(b), 10)
	return append(out, '"'), nil
}

// UnmarshalJSON accepts a decimal string (Discord's form) or a bare integer,
// which Discord also accepts in requests. null leaves b unchanged, as
// encoding/json does for other types.
func (b *Bits) UnmarshalJSON(data []byte) error {
	s := string(data)
	if s == "null" {
		return nil
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	v, err := ParseBits(s)
	if err != nil {
		return err
	}
	*b = v
	return nil
}
