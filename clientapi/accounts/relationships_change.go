package accounts

import (
	"context"
	"errors"
	"fmt"

	"concord/clientapi/httperr"
	"concord/clientapi/objects"
	"concord/federation/snowflake"
	"concord/storage"
)

// befriend sends me's friend request to peer, or accepts peer's pending one.
func (a *API) befriend(ctx context.Context, q storage.Querier, me, peer snowflake.ID) ([]relEvent, error) {
	if me == peer {
		return nil, httperr.Field("id", "RELATIONSHIP_SELF", "You cannot send a friend request to yourself.")
	}
	target, err := objects.LoadMe(ctx, q, peer)
	if err != nil {
		return nil, err
	}
	if target.Bot {
		return nil, httperr.FriendsDisabled
	}
	mine, err := relType(ctx, q, me, peer)
	if err != nil {
		return nil, err
	}
	theirs, err := relType(ctx, q, peer, me)
	if err != nil {
		return nil, err
	}
	switch {
	case theirs == relBlocked:
		return nil, httperr.FriendsDisabled
	case mine == relFriend || mine == relOutgoing:
		return nil, nil
	case mine == relIncoming:
		if err := a.setRel(ctx, q, me, peer, relFriend); err != nil {
			return nil, err
		}
		if err := a.setRel(ctx, q, peer, me, relFriend); err != nil {
			return nil, err
		}
		return []relEvent{{me, "RELATIONSHIP_ADD", peer, relFriend}, {peer, "RELATIONSHIP_ADD", me, relFriend}}, nil
	}
	allowed, err := a.mayRequest(ctx, q, me, peer)
	if err != nil {
		return nil, err
	}
	if !allowed {
		return nil, httperr.FriendsDisabled
	}
	// Sending a request to someone I blocked lifts my block.
	if err := a.setRel(ctx, q, me, peer, relOutgoing); err != nil {
		return nil, err
	}
	if err := a.setRel(ctx, q, peer, me, relIncoming); err != nil {
		return nil, err
	}
	return []relEvent{{me, "RELATIONSHIP_ADD", peer, relOutgoing}, {peer, "RELATIONSHIP_ADD", me, relIncoming}}, nil
}

// mayRequest applies peer's friend_source_flags to a request from me.
func (a *API) mayRequest(ctx context.Context, q storage.Querier, me, peer snowflake.ID) (bool, error) {
	s, err := loadSettings(ctx, q, peer)
	if err != nil {
		return false, err
	}
	f := s.FriendSourceFlags
	if f.All {
		return true, nil
	}
	if f.MutualFriends {
		var n int
		if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM relationships a JOIN relationships b ON a.peer_id = b.peer_id
			WHERE a.user_id = ? AND a.type = ? AND b.user_id = ? AND b.type = ?`,
			int64(me), relFriend, int64(peer), relFriend).Scan(&n); err != nil {
			return false, fmt.Errorf("mutual friends: %w", err)
		}
		if n > 0 {
			return true, nil
		}
	}
	if f.MutualGuilds {
		var n int
		if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM guild_members a JOIN guild_members b ON a.guild_id = b.guild_id
			WHERE a.user_id = ? AND b.user_id = ?`, int64(me), int64(peer)).Scan(&n); err != nil {
			return false, fmt.Errorf("mutual guilds: %w", err)
		}
		if n > 0 {
			return true, nil
		}
	}
	return false, nil
}

// block makes me block peer, ending any friendship or request between them.
// peer's own block of me, if any, stays.
func (a *API) block(ctx context.Context, q storage.Querier, me, peer snowflake.ID) ([]relEvent, error) {
	if me == peer {
		return nil, httperr.Field("id", "RELATIONSHIP_SELF", "You cannot block yourself.")
	}
	if _, err := objects.LoadMe(ctx, q, peer); errors.Is(err, httperr.UnknownUser) {
		// A remote user whose profile this node keeps may be blocked: no
		// DM from them starts here (spec/federation.md, "DMs across nodes").
		if _, err := objects.RemoteHome(ctx, q, peer); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	mine, err := relType(ctx, q, me, peer)
	if err != nil {
		return nil, err
	}
	theirs, err := relType(ctx, q, peer, me)
	if err != nil {
		return nil, err
	}
	if err := a.setRel(ctx, q, me, peer, relBlocked); err != nil {
		return nil, err
	}
	if err := a.queueRemoval(ctx, q, me, peer, mine, true); err != nil {
		return nil, err
	}
	events := []relEvent{{me, "RELATIONSHIP_ADD", peer, relBlocked}}
	if theirs != relNone && theirs != relBlocked {
		if err := delRel(ctx, q, peer, me); err != nil {
			return nil, err
		}
		events = append(events, relEvent{peer, "RELATIONSHIP_REMOVE", me, theirs})
	}
	return events, nil
}

// unfriend removes me's relationship with peer: unfriend, cancel, decline
// or unblock. The other side's matching row goes too, except a block.
func (a *API) unfriend(ctx context.Context, q storage.Querier, me, peer snowflake.ID) ([]relEvent, error) {
	mine, err := relType(ctx, q, me, peer)
	if err != nil || mine == relNone {
		return nil, err
	}
	theirs, err := relType(ctx, q, peer, me)
	if err != nil {
		return nil, err
	}
	if err := delRel(ctx, q, me, peer); err != nil {
		return nil, err
	}
	if err := a.queueRemoval(ctx, q, me, peer, mine, false); err != nil {
		return nil, err
	}
	events := []relEvent{{me, "RELATIONSHIP_REMOVE", peer, mine}}
	if mine != relBlocked && theirs != relNone && theirs != relBlocked {
		if err := delRel(ctx, q, peer, me); err != nil {
			return nil, err
		}
		events = append(events, relEvent{peer, "RELATIONSHIP_REMOVE", me, theirs})
	}
	return events, nil
}
