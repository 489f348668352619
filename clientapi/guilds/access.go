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

// maxPosition bounds the position of a channel or role: far more than a
// guild has of either, and far from what any integer encoding loses.
const maxPosition = 1 << 20

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

// send writes one event as the caller.
func (a *API) send(ctx context.Context, roomID, sender snowflake.ID, typ string, content any) error {
	_, err := a.core.Send(ctx, roomID, sender, typ, content)
	return eventError(typ, err)
}

// sendAll writes events as the caller, all or none: a compound change
// never stays half-applied.
func (a *API) sendAll(ctx context.Context, roomID, sender snowflake.ID, events ...room.Local) error {
	_, err := a.core.SendAll(ctx, roomID, sender, events)
	if err == nil {
		return nil
	}
	return eventError(events[0].Type, err)
}

// check asks the rules whether the caller may send an event, without
// sending it: for a route that must refuse before a side effect, such as
// storing a file.
func (a *API) check(ctx context.Context, roomID, sender snowflake.ID, typ string, content any) error {
	return eventError(typ, a.core.Check(ctx, roomID, sender, typ, content))
}

// eventError is the one place that maps the event core's refusals of an
// event of type typ to Discord's errors: a rule says which with its code,
// and a room that is not there is unknown as its members' view of it is.
func eventError(typ string, err error) error {
	var rej *guild.Rejection
	switch {
	case err == nil:
		return nil
	case errors.Is(err, room.ErrUnknownRoom):
		return httperr.ByCode(int(guild.HiddenCode(typ)), "", "")
	case errors.As(err, &rej):
		return httperr.ByCode(int(rej.Code), rej.Field, rej.Detail)
	}
	return err
}

// refused reports whether err is the rules' refusal for reason.
func refused(err error, reason string) bool {
	var rej *guild.Rejection
	return errors.As(err, &rej) && rej.Reason == reason
}
