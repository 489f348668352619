package p2p

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"concord/federation/snowflake"
)

// ProtoFriend carries a friend request, its acceptance or the end of a
// friendship from one user's home node to the other's (spec/federation.md,
// "Friends across nodes").
const ProtoFriend protocol.ID = "/concord/friend/1"

// Friend actions.
const (
	FriendRequest = "request" // a request, or the acceptance of the other's
	FriendRemove  = "remove"  // unfriend, cancel, decline, or unblock
	FriendBlock   = "block"   // a remove, and from's node refuses what to sends from
)

// Friend request bounds.
const (
	friendRate  = 5 // friend actions per second one node may send, with bursts of friendBurst
	friendBurst = 50
)

// ErrFriendRefused is the answer of a node whose user does not take the
// request: a block, their friend-request settings, a bot, or no guild or
// DM shared.
var ErrFriendRefused = errors.New("the user's node refused the friend request")

// friendReq is one friend action from user From, whose home is the
// stream's other end, towards user To of the answering node.
type friendReq struct {
	Action string       `json:"action"`
	From   snowflake.ID `json:"from"`
	To     snowflake.ID `json:"to"`
}

// friendResp is To's relationship type with From after the action
// (Discord's numbering: 0 none, 1 friends, 3 a pending request from
// From), or a refusal.
type friendResp struct {
	Type    int  `json:"type"`
	Refused bool `json:"refused,omitempty"`
}

// Friends is the node's relationships as other nodes reach them.
type Friends interface {
	// FriendRequested applies remote user from's request to (or
	// acceptance of a request from) local user to; origin is from's home
	// node. It returns to's relationship type with from afterwards, or
	// ErrFriendRefused.
	FriendRequested(ctx context.Context, origin string, from, to snowflake.ID) (int, error)
	// FriendRemoved ends whatever friendship or request lies between
	// remote user from and local user to; a block of to's stays. With
	// blocked, from blocked to, and to may no longer reach from; without,
	// a block of from's, if any, is lifted.
	FriendRemoved(ctx context.Context, origin string, from, to snowflake.ID, blocked bool) error
}

// friendsHolder holds what serves the friend stream, once set.
type friendsHolder struct{ h atomic.Pointer[Friends] }

// ServeFriends has other nodes' friend requests served by h. Until it is
// called they are refused.
func (f *Federation) ServeFriends(h Friends) { f.friends.h.Store(&h) }

func (f *Federation) serveFriend(s network.Stream, req *friendReq) (any, error) {
	hp := f.friends.h.Load()
	if hp == nil {
		return nil, errors.New("friends are not served here")
	}
	origin := s.Conn().RemotePeer().String()
	if !allow(&f.mu, f.friendRates, origin, friendRate, friendBurst) {
		return nil, errors.New("too many friend requests")
	}
	ctx, cancel := context.WithTimeout(f.ctx, streamDeadline)
	defer cancel()
	h := *hp
	switch req.Action {
	case FriendRequest:
		t, err := h.FriendRequested(ctx, origin, req.From, req.To)
		if errors.Is(err, ErrFriendRefused) {
			return friendResp{Refused: true}, nil
		}
		return friendResp{Type: t}, err
	case FriendRemove, FriendBlock:
		return friendResp{}, h.FriendRemoved(ctx, origin, req.From, req.To, req.Action == FriendBlock)
	}
	return nil, fmt.Errorf("unknown friend action %q", req.Action)
}

// Befriend delivers local user from's friend request to remote user to,
// or from's acceptance of to's request, to home, to's home node. It
// returns to's relationship type with from afterwards: 1 when they are
// friends now, 3 when the request waits for to.
func (f *Federation) Befriend(ctx context.Context, home string, from, to snowflake.ID) (int, error) {
	resp, err := f.friendCall(ctx, home, friendReq{Action: FriendRequest, From: from, To: to})
	if err != nil {
		return 0, err
	}
	if resp.Refused {
		return 0, ErrFriendRefused
	}
	if resp.Type != 1 && resp.Type != 3 {
		return 0, fmt.Errorf("friend request: answer type %d", resp.Type)
	}
	return resp.Type, nil
}

// Unfriend tells home, remote user to's home node, that local user from
// ended their friendship or request or unblocked them, or (blocked)
// blocked them.
func (f *Federation) Unfriend(ctx context.Context, home string, from, to snowflake.ID, blocked bool) error {
	action := FriendRemove
	if blocked {
		action = FriendBlock
	}
	_, err := f.friendCall(ctx, home, friendReq{Action: action, From: from, To: to})
	return err
}

func (f *Federation) friendCall(ctx context.Context, home string, req friendReq) (friendResp, error) {
	var resp friendResp
	p, err := peer.Decode(home)
	if err != nil {
		return resp, fmt.Errorf("home node %q: %w", home, err)
	}
	err = f.call(ctx, p, ProtoFriend, req, &resp)
	return resp, err
}
