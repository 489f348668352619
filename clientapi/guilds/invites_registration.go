package guilds

import (
	"context"
	"errors"

	"concord/federation/guild"
	"concord/federation/room"
)

// InviteUsable reports whether code names an invite that still admits
// someone, in any room: a node whose registration needs an invite takes
// one (accounts.Invites).
func (a *API) InviteUsable(ctx context.Context, code string) (bool, error) {
	gids, err := a.roomsOf(ctx, `SELECT guild_id FROM invites WHERE code = ?`, code)
	if err != nil {
		return false, err
	}
	for _, gid := range gids {
		usable := false
		err := a.core.View(ctx, gid, func(s *guild.State) error {
			inv := s.Invites[code]
			usable = !s.Deleted && inv != nil && inv.Usable(a.nowMs())
			return nil
		})
		if err != nil && !errors.Is(err, room.ErrUnknownRoom) {
			return false, err
		}
		if usable {
			return true, nil
		}
	}
	return false, nil
}
