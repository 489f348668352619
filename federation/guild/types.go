package guild

// Event types (spec/events-types.md). State types change the guild state
// and take part in state resolution; the others are message-level and never
// change who may do what.
const (
	TypeGuildCreate   = "guild.create"
	TypeGuildUpdate   = "guild.update"
	TypeGuildDelete   = "guild.delete"
	TypeGuildTransfer = "guild.transfer"

	TypeMemberJoin   = "member.join"
	TypeMemberAdd    = "member.add"
	TypeMemberLeave  = "member.leave"
	TypeMemberKick   = "member.kick"
	TypeMemberBan    = "member.ban"
	TypeMemberUnban  = "member.unban"
	TypeMemberUpdate = "member.update"

	TypeRoleCreate  = "role.create"
	TypeRoleUpdate  = "role.update"
	TypeRoleDelete  = "role.delete"
	TypeRoleReorder = "role.reorder"

	TypeChannelCreate          = "channel.create"
	TypeChannelUpdate          = "channel.update"
	TypeChannelDelete          = "channel.delete"
	TypeChannelOverwrite       = "channel.overwrite"
	TypeChannelOverwriteDelete = "channel.overwrite_delete"

	TypeInviteCreate = "invite.create"
	TypeInviteRevoke = "invite.revoke"

	TypeEmojiCreate = "emoji.create"
	TypeEmojiDelete = "emoji.delete"

	TypeWebhookCreate = "webhook.create"
	TypeWebhookUpdate = "webhook.update"
	TypeWebhookDelete = "webhook.delete"

	TypeMessageCreate     = "message.create"
	TypeMessageEdit       = "message.edit"
	TypeMessageDelete     = "message.delete"
	TypeMessageBulkDelete = "message.bulk_delete"
	TypeReactionAdd       = "reaction.add"
	TypeReactionRemove    = "reaction.remove"
	TypeReactionRemoveAll = "reaction.remove_all"
	TypePinAdd            = "pin.add"
	TypePinRemove         = "pin.remove"
)

// stateTypes lists the types that change guild state.
var stateTypes = map[string]bool{
	TypeGuildCreate: true, TypeGuildUpdate: true, TypeGuildDelete: true, TypeGuildTransfer: true,
	TypeMemberJoin: true, TypeMemberAdd: true, TypeMemberLeave: true, TypeMemberKick: true,
	TypeMemberBan: true, TypeMemberUnban: true, TypeMemberUpdate: true,
	TypeRoleCreate: true, TypeRoleUpdate: true, TypeRoleDelete: true, TypeRoleReorder: true,
	TypeChannelCreate: true, TypeChannelUpdate: true, TypeChannelDelete: true,
	TypeChannelOverwrite: true, TypeChannelOverwriteDelete: true,
	TypeInviteCreate: true, TypeInviteRevoke: true,
	TypeEmojiCreate: true, TypeEmojiDelete: true,
	TypeWebhookCreate: true, TypeWebhookUpdate: true, TypeWebhookDelete: true,
}

// messageTypes lists the message-level types.
var messageTypes = map[string]bool{
	TypeMessageCreate: true, TypeMessageEdit: true, TypeMessageDelete: true, TypeMessageBulkDelete: true,
	TypeReactionAdd: true, TypeReactionRemove: true, TypeReactionRemoveAll: true,
	TypePinAdd: true, TypePinRemove: true,
}

// IsState reports whether events of type t change guild state.
func IsState(t string) bool { return stateTypes[t] }

// Known reports whether t is an event type of this protocol version.
func Known(t string) bool { return stateTypes[t] || messageTypes[t] }

// Channel types, numbered as on Discord's wire.
const (
	ChannelText     = 0
	ChannelDM       = 1
	ChannelVoice    = 2
	ChannelGroupDM  = 3
	ChannelCategory = 4
)

// Room kinds: a guild, or a DM / group DM run on the same machinery.
const (
	KindGuild   = "guild"
	KindDM      = "dm"
	KindGroupDM = "group_dm"
)

// Limits from Discord's API that the auth rules enforce on every node.
const (
	MaxContentRunes  = 2000
	MaxNameRunes     = 100
	MaxTopicRunes    = 1024
	MaxRoles         = 250
	MaxChannels      = 500
	MaxBulkDelete    = 100
	MaxGroupDM       = 10
	MaxDeleteSeconds = 7 * 24 * 3600
	MaxEmbeds        = 10
	MaxAttachments   = 10
)
