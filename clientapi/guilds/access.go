package guilds

import (
	"context"
	"errors"
	"fmt"
	"sync"

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

// channelRooms lists the rooms that hold a channel with this ID, the one
// whose channel this node stored first first: rooms are keyed apart, and
// two may carry one ID (spec/client-api.md, "IDs in routes").
// Answers are kept while no channel changes (channelIndex).
func (a *API) channelRooms(ctx context.Context, channelID snowflake.ID) ([]snowflake.ID, error) {
	version := a.core.ChannelsVersion()
	if gids, ok := a.channels.get(channelID, version); ok {
		return gids, nil
	}
	gids, err := a.roomsOf(ctx, `SELECT guild_id FROM channels WHERE id = ? ORDER BY first_seq, guild_id`, int64(channelID))
	if err == nil {
		a.channels.put(channelID, version, gids)
	}
	return gids, err
}

// channelIndex keeps channelRooms' answers, read at one ChannelsVersion of
// the event core, until a commit changes a channel anywhere on the node:
// every message sent asks which room its channel is in.
type channelIndex struct {
	mu      sync.Mutex
	version uint64
	rooms   map[snowflake.ID][]snowflake.ID
}

// maxIndexed bounds channelIndex; a full index starts over.
const maxIndexed = 100_000

func (x *channelIndex) get(id snowflake.ID, version uint64) ([]snowflake.ID, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.version != version || x.rooms == nil {
		x.version, x.rooms = version, map[snowflake.ID][]snowflake.ID{}
		return nil, false
	}
	gids, ok := x.rooms[id]
	return gids, ok
}

func (x *channelIndex) put(id snowflake.ID, version uint64, gids []snowflake.ID) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.version != version || x.rooms == nil {
		return
	}
	if len(x.rooms) >= maxIndexed {
		clear(x.rooms)
	}
	x.rooms[id] = gids
}

// roomsOf lists the rooms a query of guild IDs finds, in its order.
func (a *API) roomsOf(ctx context.Context, query string, args ...any) ([]snowflake.ID, error) {
	rows, err := a.db.Reader().QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("rooms holding an object: %w", err)
	}
	defer rows.Close()
	var out []snowflake.ID
	for rows.Next() {
		var gid int64
		if err := rows.Scan(&gid); err != nil {
			return nil, err
		}
		out = append(out, snowflake.ID(gid))
	}
	return out, rows.Err()
}

// channelRoom resolves a channel ID a route names for user: the first room,
// in channelRooms' order, whose channel sees accepts. A room whose channel
// user may not see is passed over, so that it never shadows the one user
// can; when there is none the channel is unknown.
func (a *API) channelRoom(ctx context.Context, channelID, user snowflake.ID, sees func(s *guild.State, ch *guild.Channel) bool) (snowflake.ID, error) {
	gids, err := a.channelRooms(ctx, channelID)
	if err != nil {
		return 0, err
	}
	for _, gid := range gids {
		found := false
		err := a.core.View(ctx, gid, func(s *guild.State) error {
			ch := s.Channels[channelID]
			found = ch != nil && !s.Deleted && s.Members[user] != nil && sees(s, ch)
			return nil
		})
		if err != nil && !errors.Is(err, room.ErrUnknownRoom) {
			return 0, err
		}
		if found {
			return gid, nil
		}
	}
	return 0, httperr.UnknownChannel
}

// seesGuildChannel is channelRoom's test for the guild channel routes: a
// channel of a guild that user may view.
func (a *API) seesGuildChannel(user snowflake.ID) func(s *guild.State, ch *guild.Channel) bool {
	return func(s *guild.State, ch *guild.Channel) bool {
		return s.Kind == guild.KindGuild && s.Permissions(user, ch.ID, a.nowMs()).Has(perm.ViewChannel)
	}
}

// inChannel runs fn on a guild channel the caller can see (VIEW_CHANNEL);
// any other channel answers Unknown Channel. have is the caller's
// permissions in it.
func (a *API) inChannel(ctx context.Context, channelID, user snowflake.ID, fn func(s *guild.State, ch *guild.Channel, have perm.Bits) error) error {
	gid, err := a.channelRoom(ctx, channelID, user, a.seesGuildChannel(user))
	if err != nil {
		return err
	}
	return a.inRoomChannel(ctx, gid, channelID, user, fn)
}

// inRoomChannel is inChannel in a known room.
func (a *API) inRoomChannel(ctx context.Context, gid, channelID, user snowflake.ID, fn func(s *guild.State, ch *guild.Channel, have perm.Bits) error) error {
	err := a.inGuild(ctx, gid, user, func(s *guild.State, _ *guild.Member) error {
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
