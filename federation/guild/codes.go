package guild

// Code is one of Discord's JSON error codes: what the client API tells a
// client whose request made an event the rules refused. The rules choose it
// because only they know which check failed (an unknown role, not an
// unknown member); the client API only maps a code to its HTTP status and
// message. Codes are not protocol: nodes agree on Reason, never on Code
// (spec/auth-rules.md, "Reasons and client error codes").
type Code int

// The codes the rules give, named as in Discord's table of JSON error codes.
const (
	CodeUnknownChannel     Code = 10003
	CodeUnknownGuild       Code = 10004
	CodeUnknownInvite      Code = 10006
	CodeUnknownMember      Code = 10007
	CodeUnknownMessage     Code = 10008
	CodeUnknownOverwrite   Code = 10009
	CodeUnknownRole        Code = 10011
	CodeUnknownEmoji       Code = 10014
	CodeUnknownWebhook     Code = 10015
	CodeUnknownBan         Code = 10026
	CodeMaxRecipients      Code = 30004
	CodeMaxRoles           Code = 30005
	CodeMaxWebhooks        Code = 30007
	CodeMaxEmojis          Code = 30008
	CodeMaxChannels        Code = 30013
	CodeMaxGuildWebhooks   Code = 30058
	CodeBanned             Code = 40007
	CodeMissingAccess      Code = 50001
	CodeCannotInDM         Code = 50003
	CodeCannotEditOthers   Code = 50005
	CodeEmptyMessage       Code = 50006
	CodeMissingPermissions Code = 50013
	CodeBulkDeleteTooOld   Code = 50034
	CodeInvalidFormBody    Code = 50035
)

// HiddenCode is what a client is told when the room an event of type typ
// acts in is not there for it: it is not a member, the guild was deleted or
// is a DM. The client API answers as if the object its route names did not
// exist, so that nothing leaks: the channel for channel and message routes,
// the invite for invite routes, else the guild.
func HiddenCode(typ string) Code {
	switch typ {
	case TypeChannelUpdate, TypeChannelDelete, TypeChannelOverwrite, TypeChannelOverwriteDelete, TypeInviteCreate:
		return CodeUnknownChannel
	case TypeMemberJoin, TypeInviteRevoke:
		return CodeUnknownInvite
	case TypeWebhookCreate:
		return CodeUnknownChannel
	case TypeWebhookUpdate, TypeWebhookDelete:
		return CodeUnknownWebhook
	}
	if messageTypes[typ] {
		return CodeUnknownChannel
	}
	return CodeUnknownGuild
}
