package guilds

import (
	"context"

	"concord/clientapi/httperr"
	"concord/clientapi/jsonio"
	"concord/federation/guild"
	"concord/federation/live"
	"concord/federation/perm"
	"concord/federation/snowflake"
)

// moveVoice moves a member who is in voice to another voice channel of
// the guild, or (null) disconnects them, as Discord's PATCH member does:
// the caller needs MOVE_MEMBERS in the channel the member is in and, for
// a move, in the target too (plus CONNECT there). The SFU checks the
// member's own CONNECT when it follows the move.
func (a *API) moveVoice(ctx context.Context, gid, actor, target snowflake.ID, to jsonio.Optional[snowflake.ID]) error {
	var v *live.VoiceState
	for _, x := range a.live.VoiceStates(gid) {
		if x.UserID == target {
			v = &x
		}
	}
	if v == nil {
		return httperr.TargetNotInVoice
	}
	if v.Home != "" {
		// Their voice is their home node's: it has no word of this one yet.
		return httperr.Field("channel_id", "VOICE_REMOTE", "Members of other nodes cannot be moved or disconnected from here.")
	}
	err := a.inGuild(ctx, gid, actor, func(s *guild.State, _ *guild.Member) error {
		if !s.Permissions(actor, v.ChannelID, a.nowMs()).Has(perm.MoveMembers) {
			return httperr.MissingPermissions
		}
		if to.Null {
			return nil
		}
		ch := s.Channels[to.V]
		if ch == nil || ch.Type != guild.ChannelVoice {
			return httperr.Field("channel_id", "CHANNEL_TYPE_INVALID", "Channel is not a voice channel.")
		}
		if !s.Permissions(actor, to.V, a.nowMs()).Has(perm.MoveMembers | perm.Connect) {
			return httperr.MissingPermissions
		}
		return nil
	})
	if err != nil {
		return err
	}
	moved := *v
	moved.ChannelID = 0
	if !to.Null {
		moved.ChannelID = to.V
	}
	a.live.SetVoice(moved)
	return nil
}
