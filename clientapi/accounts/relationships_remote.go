package accounts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"concord/clientapi/httperr"
	"concord/clientapi/objects"
	"concord/federation/p2p"
	"concord/federation/snowflake"
	"concord/storage"
)

// Remote reaches users' home nodes (federation/p2p): friend requests to
// and from their users (spec/federation.md, "Friends across nodes"), and
// their avatars.
type Remote interface {
	// Befriend delivers from's friend request, or acceptance of to's, to
	// home, to's home node, and returns to's relationship type with from
	// afterwards: 1 friends, 3 a request waiting for to. It fails with
	// p2p.ErrFriendRefused when to's node refuses.
	Befriend(ctx context.Context, home string, from, to snowflake.ID) (int, error)
	// Unfriend tells home, to's home node, that from ended their
	// friendship or request or unblocked them, or (blocked) blocked them.
	Unfriend(ctx context.Context, home string, from, to snowflake.ID, blocked bool) error
	// FetchAvatar writes to w the avatar of key of user, whose home node
	// is home, and returns its size.
	FetchAvatar(ctx context.Context, home string, user snowflake.ID, key string, w io.WriterAt) (int64, error)
}

// Remote friend bounds.
const (
	// maxRelationships is how many relationships a user may hold before
	// requests from other nodes are refused: a node cannot fill a user's
	// list with requests from users it makes up.
	maxRelationships = 1000
	outboxEvery      = 10 * time.Second // retries of undelivered removals
	outboxBatch      = 100
	outboxDeadline   = 10 * time.Second // for one delivery
)

// unreachableNode is the answer when the other user's node cannot be
// reached.
var unreachableNode = &httperr.Error{Status: http.StatusBadGateway, Code: httperr.CodeGeneral,
	Message: "The user's node cannot be reached; try again shortly."}

// remoteHome returns peer's home node when peer is a user of another node
// whose profile this node keeps, "" for a user of this node.
func remoteHome(ctx context.Context, q storage.Querier, peer snowflake.ID) (string, error) {
	if _, err := objects.LoadMe(ctx, q, peer); !errors.Is(err, httperr.UnknownUser) {
		return "", err
	}
	return objects.RemoteHome(ctx, q, peer)
}

// befriendRemote sends me's friend request to remote user peer, or
// accepts theirs. The other node decides first, outside any transaction;
// this node then records what it answered.
func (a *API) befriendRemote(ctx context.Context, me, peer snowflake.ID, home string) ([]relEvent, error) {
	if a.remote == nil {
		return nil, unreachableNode
	}
	users, err := objects.LoadUsers(ctx, a.db.Reader(), []snowflake.ID{peer})
	if err != nil {
		return nil, err
	}
	if users[peer].Bot {
		return nil, httperr.FriendsDisabled
	}
	if mine, err := relType(ctx, a.db.Reader(), me, peer); err != nil || mine == relFriend {
		return nil, err
	}
	theirs, err := a.remote.Befriend(ctx, home, me, peer)
	if errors.Is(err, p2p.ErrFriendRefused) {
		return nil, httperr.FriendsDisabled
	}
	if err != nil {
		a.log.Info("friend request to another node", "peer", peer, "home", home, "err", err)
		return nil, unreachableNode
	}
	t := relOutgoing
	if theirs == relFriend {
		t = relFriend
	}
	err = a.db.Write(ctx, func(q storage.Querier) error {
		// A removal still waiting to be told is overtaken by this request.
		if _, err := q.ExecContext(ctx, `DELETE FROM friend_outbox WHERE user_id = ? AND peer_id = ?`, int64(me), int64(peer)); err != nil {
			return fmt.Errorf("friend outbox: %w", err)
		}
		return a.setRel(ctx, q, me, peer, t)
	})
	if err != nil {
		return nil, err
	}
	return []relEvent{{me, "RELATIONSHIP_ADD", peer, t}}, nil
}

// queueRemoval records, in the transaction that changes me's relationship
// mine with peer, that peer's node is to be told, when peer is a remote
// user and there was a friendship, request or block to end, or (blocked)
// me blocks peer now. The outbox delivers it once changeRelationships has
// committed and kicked it, and retries until the other node has heard;
// a newer removal of the pair overtakes one not yet told.
func (a *API) queueRemoval(ctx context.Context, q storage.Querier, me, peer snowflake.ID, mine int, blocked bool) error {
	if mine == relNone && !blocked {
		return nil
	}
	home, err := remoteHome(ctx, q, peer)
	if err != nil || home == "" {
		return nil // a local user, or one of whom this node knows nothing
	}
	_, err = q.ExecContext(ctx, `INSERT INTO friend_outbox (user_id, peer_id, home, queued, blocked) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (user_id, peer_id) DO UPDATE SET home = excluded.home, queued = excluded.queued, blocked = excluded.blocked`,
		int64(me), int64(peer), home, a.cfg.Now().UnixMilli(), blocked)
	if err != nil {
		return fmt.Errorf("friend outbox: %w", err)
	}
	return nil
}

// kickOutbox has the outbox try its deliveries now; it never blocks.
func (a *API) kickOutbox() {
	select {
	case a.outbox <- struct{}{}:
	default:
	}
}

// runOutbox delivers queued removals after each kick and every outboxEvery
// until ctx ends.
func (a *API) runOutbox(ctx context.Context) {
	t := time.NewTicker(outboxEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-a.outbox:
		}
		if err := a.deliverRemovals(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("friend outbox", "err", err)
		}
	}
}

// deliverRemovals tells other nodes of the removals waiting in the
// outbox; a delivered one leaves it.
func (a *API) deliverRemovals(ctx context.Context) error {
	type removal struct {
		user, peer snowflake.ID
		home       string
		blocked    bool
	}
	rows, err := a.db.Reader().QueryContext(ctx, `SELECT user_id, peer_id, home, blocked FROM friend_outbox ORDER BY queued LIMIT ?`, outboxBatch)
	if err != nil {
		return err
	}
	var todo []removal
	for rows.Next() {
		var r removal
		if err := rows.Scan(&r.user, &r.peer, &r.home, &r.blocked); err != nil {
			rows.Close()
			return err
		}
		todo = append(todo, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range todo {
		dctx, cancel := context.WithTimeout(ctx, outboxDeadline)
		err := a.remote.Unfriend(dctx, r.home, r.user, r.peer, r.blocked)
		cancel()
		if err != nil {
			a.log.Debug("friend outbox: not delivered yet", "peer", r.peer, "home", r.home, "err", err)
			continue
		}
		if err := a.db.Write(ctx, func(q storage.Querier) error {
			_, err := q.ExecContext(ctx, `DELETE FROM friend_outbox WHERE user_id = ? AND peer_id = ? AND home = ? AND blocked = ?`,
				int64(r.user), int64(r.peer), r.home, r.blocked)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

// FriendRequested applies remote user from's friend request to local user
// to, or from's acceptance of to's request (p2p.Friends). origin, the
// node that sent it, must be from's home as this node knows it; to must
// share a guild or DM with from, hold fewer than maxRelationships, and
// take requests from them.
func (a *API) FriendRequested(ctx context.Context, origin string, from, to snowflake.ID) (int, error) {
	var t int
	var events []relEvent
	err := a.db.Write(ctx, func(q storage.Querier) error {
		target, err := objects.LoadMe(ctx, q, to)
		if errors.Is(err, httperr.UnknownUser) {
			return p2p.ErrFriendRefused
		}
		if err != nil {
			return err
		}
		if target.Bot {
			return p2p.ErrFriendRefused
		}
		if home, err := objects.RemoteHome(ctx, q, from); err != nil || home != origin {
			return p2p.ErrFriendRefused
		}
		// Asking means from no longer blocks to.
		if err := setBlockedBy(ctx, q, to, from, false, 0); err != nil {
			return err
		}
		mine, err := relType(ctx, q, to, from)
		if err != nil {
			return err
		}
		switch mine {
		case relBlocked:
			return p2p.ErrFriendRefused
		case relFriend, relIncoming:
			t = mine
			return nil
		case relOutgoing:
			t = relFriend
			events = []relEvent{{to, "RELATIONSHIP_ADD", from, relFriend}}
			return a.setRel(ctx, q, to, from, relFriend)
		}
		if ok, err := a.mayTakeRemote(ctx, q, from, to); err != nil || !ok {
			return errors.Join(err, p2p.ErrFriendRefused)
		}
		t = relIncoming
		events = []relEvent{{to, "RELATIONSHIP_ADD", from, relIncoming}}
		return a.setRel(ctx, q, to, from, relIncoming)
	})
	if err != nil {
		return 0, err
	}
	a.sendRelEvents(ctx, events)
	return t, nil
}

// mayTakeRemote reports whether local user to takes a new friend request
// from remote user from: they share a guild or DM, to's list is not full,
// and to's friend request settings allow it.
func (a *API) mayTakeRemote(ctx context.Context, q storage.Querier, from, to snowflake.ID) (bool, error) {
	var shared, held int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM guild_members a JOIN guild_members b ON a.guild_id = b.guild_id
		WHERE a.user_id = ? AND b.user_id = ?`, int64(from), int64(to)).Scan(&shared); err != nil {
		return false, fmt.Errorf("shared rooms: %w", err)
	}
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM relationships WHERE user_id = ?`, int64(to)).Scan(&held); err != nil {
		return false, fmt.Errorf("count relationships: %w", err)
	}
	if shared == 0 || held >= maxRelationships {
		return false, nil
	}
	return a.mayRequest(ctx, q, from, to)
}

// FriendRemoved ends the friendship or request between remote user from
// and local user to (p2p.Friends); to's block of from, if any, stays.
// blocked records that from blocked to, so that this node refuses what to
// would send from (Blocked); without it, such a record goes.
func (a *API) FriendRemoved(ctx context.Context, origin string, from, to snowflake.ID, blocked bool) error {
	var events []relEvent
	err := a.db.Write(ctx, func(q storage.Querier) error {
		if home, err := objects.RemoteHome(ctx, q, from); err != nil || home != origin {
			return fmt.Errorf("user %s does not live on %s", from, origin)
		}
		if err := setBlockedBy(ctx, q, to, from, blocked, a.cfg.Now().UnixMilli()); err != nil {
			return err
		}
		mine, err := relType(ctx, q, to, from)
		if err != nil || mine == relNone || mine == relBlocked {
			return err
		}
		events = []relEvent{{to, "RELATIONSHIP_REMOVE", from, mine}}
		return delRel(ctx, q, to, from)
	})
	if err != nil {
		return err
	}
	a.sendRelEvents(ctx, events)
	return nil
}

// setBlockedBy records that remote user by blocks local user user, or
// (not blocked) that they do not.
func setBlockedBy(ctx context.Context, q storage.Querier, user, by snowflake.ID, blocked bool, now int64) error {
	query, args := `DELETE FROM blocked_by WHERE user_id = ? AND by_id = ?`, []any{int64(user), int64(by)}
	if blocked {
		query = `INSERT INTO blocked_by (user_id, by_id, since) VALUES (?, ?, ?) ON CONFLICT (user_id, by_id) DO NOTHING`
		args = append(args, now)
	}
	if _, err := q.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("blocked by: %w", err)
	}
	return nil
}
