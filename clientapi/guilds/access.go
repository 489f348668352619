package guilds

import (
	"context"
	"database/sql"
	"errors"

	"concord/clientapi/httperr"
	"concord/federation/guild"
	"concord/federation/perm"
	"concord/federation/room"
	"concord/federation/snowflake"
)

// The guild routes read the event core's in-memory state (View) and write
// only by sending events (Send). A View callback runs under the room's read
// lock, so it only copies or renders; it never sends or queries storage.

// nowMs is the time permissions are computed at.
func (a *API) nowMs() int64 { return a.cfg.Now().UnixMilli() }

// inGuild runs fn on the state of a guild the caller belongs to. A guild
// that does not exist, was deleted, is a DM room, or lacks the caller all
// answer Unknown Guild, so that nothing leaks.
func (a *API) inGuild(ctx context.Context, guildID, user snowflake.ID, fn func(s *guild.State, me *guild.Member) error) error {
	err := a.core.View(ctx, guildID, func(s *guild.State) error {
		me := s.Members[user]
		if s.Deleted || s.Kind != guild.KindGuild || me == nil {
			return httperr.UnknownGuild
		}
		return fn(s, me)
	})
	if errors.Is(err, room.ErrUnknownRoom) {
		return httperr.UnknownGuild
	}
	return err
}

// needGuild refuses a caller without bits at guild level.
func (a *API) needGuild(s *guild.State, user snowflake.ID, bits perm.Bits) error {
	if !s.Permissions(user, 0, a.nowMs()).Has(bits) {
		return httperr.MissingPermissions
	}
	return nil
}

// channelGuild finds the guild holding a channel, from the projection.
func (a *API) channelGuild(ctx context.Context, channelID snowflake.ID) (snowflake.ID, error) {
	var gid int64
	err := a.db.Reader().QueryRowContext(ctx, `SELECT guild_id FROM channels WHERE id = ?`, int64(channelID)).Scan(&gid)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, httperr.UnknownChannel
	}
	return snowflake.ID(gid), err
}

// inChannel runs fn on a guild channel the caller can see (VIEW_CHANNEL);
// any other channel answers Unknown Channel. have is the caller's
// permissions in it.
func (a *API) inChannel(ctx context.Context, channelID, user snowflake.ID, fn func(s *guild.State, ch *guild.Channel, have perm.Bits) error) error {
	gid, err := a.channelGuild(ctx, channelID)
	if err != nil {
		return err
	}
	err = a.inGuild(ctx, gid, user, func(s *guild.State, _ *guild.Member) error {
		ch := s.Channels[channelID]
		if ch == nil {
			return httperr.UnknownChannel
		}
		have := s.Permissions(user, channelID, a.nowMs())
		if !have.Has(perm.ViewChannel) {
			return httperr.UnknownChannel
		}
		return fn(s, ch, have)
	})
	if errors.Is(err, httperr.UnknownGuild) {
		return httperr.UnknownChannel
	}
	return err
}

// send writes one event as the caller. unknown is the error for a target
// the rules do not know (Unknown Role, Unknown Member, …).
func (a *API) send(ctx context.Context, guildID, sender snowflake.ID, typ string, content any, unknown *httperr.Error) error {
	_, err := a.core.Send(ctx, guildID, sender, typ, content)
	return eventError(err, unknown)
}

// eventError is the one place that maps the event core's refusals to
// Discord's errors.
func eventError(err error, unknown *httperr.Error) error {
	var rej *guild.Rejection
	switch {
	case err == nil:
		return nil
	case errors.Is(err, room.ErrUnknownRoom):
		return httperr.UnknownGuild
	case !errors.As(err, &rej):
		return err
	}
	switch rej.Reason {
	case guild.ReasonMissingPerm, guild.ReasonHierarchy, guild.ReasonOwnerOnly, guild.ReasonTargetIsOwner:
		return httperr.MissingPermissions
	case guild.ReasonUnknownTarget:
		if unknown == nil {
			return httperr.UnknownGuild
		}
		return unknown
	case guild.ReasonNotMember, guild.ReasonGuildDeleted, guild.ReasonNotInThisKind:
		return httperr.UnknownGuild
	case guild.ReasonWrongOrigin:
		return httperr.MissingAccess
	case guild.ReasonInvalidInvite:
		return httperr.UnknownInvite
	case guild.ReasonBanned:
		return httperr.Banned
	case guild.ReasonBadContent, guild.ReasonLimit, guild.ReasonAlreadyApplied:
		return httperr.Field("_body", "INVALID", rej.Detail)
	}
	return err
}
