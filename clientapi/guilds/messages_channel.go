package guilds

import (
	"context"
	"errors"

	"concord/clientapi/httperr"
	"concord/clientapi/objects"
	"concord/federation/guild"
	"concord/federation/perm"
	"concord/federation/room"
	"concord/federation/snowflake"
)

// Message routes act in a guild text channel or in a DM room, whose one
// channel has the room's own ID. Both are found through the channels
// projection and then read from the room's in-memory state.

// inMessageChannel runs fn on a channel that holds messages (a guild text
// or voice channel, or a DM) which user can see. Anything else — unknown,
// deleted, a category, a guild or DM the user is not in, a channel without
// VIEW_CHANNEL — answers Unknown Channel. Discord answers 50001 Missing
// Access for a channel that exists but cannot be seen; we answer as for an
// unknown one so that nothing leaks.
func (a *API) inMessageChannel(ctx context.Context, channelID, user snowflake.ID, fn func(s *guild.State, ch *guild.Channel, have perm.Bits) error) error {
	gid, err := a.channelRoom(ctx, channelID, user, func(s *guild.State, ch *guild.Channel) bool {
		return ch.Type != guild.ChannelCategory && (s.Kind == guild.KindGuild || objects.IsDM(s)) &&
			s.Permissions(user, ch.ID, a.nowMs()).Has(perm.ViewChannel)
	})
	if err != nil {
		return err
	}
	err = a.core.View(ctx, gid, func(s *guild.State) error {
		ch := s.Channels[channelID]
		if s.Deleted || s.Members[user] == nil || ch == nil || ch.Type == guild.ChannelCategory {
			return httperr.UnknownChannel
		}
		if s.Kind != guild.KindGuild && !objects.IsDM(s) {
			return httperr.UnknownChannel
		}
		have := s.Permissions(user, channelID, a.nowMs())
		if !have.Has(perm.ViewChannel) {
			return httperr.UnknownChannel
		}
		return fn(s, ch, have)
	})
	if errors.Is(err, room.ErrUnknownRoom) {
		return httperr.UnknownChannel
	}
	return err
}

// where is what a message route copies out of the room state to use after
// the room's lock is released.
type where struct {
	guildID snowflake.ID // the room: the guild, or the DM room (== channel)
	channel snowflake.ID
	dm      bool
	peer    snowflake.ID // a one-to-one DM's other recipient
	have    perm.Bits
}

// place is what rendering needs of where.
func (w where) place() objects.Place {
	return objects.Place{Room: w.guildID, Channel: w.channel, DM: w.dm}
}

// renderMessages renders rows as viewer sees them, with members from the
// room's current state.
func (a *API) renderMessages(ctx context.Context, w where, viewer snowflake.ID, rows []objects.MessageRow) ([]objects.Message, error) {
	return a.objects.Render(ctx, w.place(), viewer, rows, a.members(ctx, w.guildID), false)
}

// members reads member objects from a room's current state.
func (a *API) members(ctx context.Context, roomID snowflake.ID) objects.Members {
	return func(ids []snowflake.ID) map[snowflake.ID]objects.Member {
		out := map[snowflake.ID]objects.Member{}
		a.core.View(ctx, roomID, func(s *guild.State) error {
			for _, id := range ids {
				if m := s.Members[id]; m != nil {
					out[id] = objects.RenderMember(m)
				}
			}
			return nil
		})
		return out
	}
}

// channelFor resolves a channel the caller can see, checking need.
func (a *API) channelFor(ctx context.Context, channelID, user snowflake.ID, need perm.Bits) (where, error) {
	var w where
	err := a.inMessageChannel(ctx, channelID, user, func(s *guild.State, ch *guild.Channel, have perm.Bits) error {
		w = where{guildID: s.ID, channel: ch.ID, dm: objects.IsDM(s), peer: dmPeer(s, user), have: have}
		if !have.Has(need) {
			return httperr.MissingPermissions
		}
		return nil
	})
	return w, err
}
