package p2p

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"concord/federation/snowflake"
)

// Interaction streams (spec/federation.md, "Interactions across nodes"): a
// user's node forwards an invocation to the bot's home node, asks it for
// its bots' commands, and the bot's node tells the user's node what only
// that user sees.
const (
	ProtoInvoke   protocol.ID = "/concord/interaction/invoke/1"
	ProtoCommands protocol.ID = "/concord/interaction/commands/1"
	ProtoDeliver  protocol.ID = "/concord/interaction/deliver/1"
)

// Interaction bounds.
const (
	maxDelivery     = 256 << 10 // bytes of one delivery frame: an ephemeral message with its embeds
	deliverQueue    = 256       // deliveries waiting for one peer; beyond, they are dropped and counted
	deliverDeadline = 5 * time.Second
	deliverIdle     = 30 * time.Second // a peer's delivery worker stops after this long without work
	invokeRate      = 20               // invocations per second one node may forward, with bursts of invokeBurst
	invokeBurst     = 100
)

// tooManyInvocations is the answer to a node forwarding invocations faster
// than invokeRate: the user's node passes it on, as Discord's 429.
var tooManyInvocations = InvokeAnswer{Status: 429,
	Error: json.RawMessage(`{"code":0,"message":"Too many interactions from your node; try again shortly.","retry_after":1,"global":false}`)}

// Invocation is POST /interactions forwarded by the invoking user's home
// node, the stream's other end, which chose the interaction's ID.
type Invocation struct {
	ID     snowflake.ID    `json:"id"`
	UserID snowflake.ID    `json:"user_id"`
	Body   json.RawMessage `json:"body"` // the request body as the user sent it
}

// InvokeAnswer is the bot's node's verdict: empty when the interaction
// started, else the HTTP status and Discord error body the user gets.
type InvokeAnswer struct {
	Status int             `json:"status,omitzero"`
	Error  json.RawMessage `json:"error,omitempty"`
}

// CommandsRequest asks a node for the commands of its bots in a room:
// global ones, and those of guild Scope (0: global only).
type CommandsRequest struct {
	RoomID snowflake.ID `json:"room_id"`
	Scope  snowflake.ID `json:"scope"`
}

// Delivery is an event about an interaction for one user alone, sent by
// the bot's node to the user's: the answer arrived or failed, an
// ephemeral message, a modal, autocomplete choices.
type Delivery struct {
	UserID        snowflake.ID    `json:"user_id"`
	InteractionID snowflake.ID    `json:"interaction_id"`
	Type          string          `json:"type"`
	Payload       json.RawMessage `json:"payload"`
}

// Interactions is the node's bot platform as other nodes reach it.
type Interactions interface {
	// Invoke starts an interaction that a user of node from invoked.
	Invoke(ctx context.Context, from string, inv Invocation) (InvokeAnswer, error)
	// Commands answers node from with this node's bots' commands in a
	// room: the application command index's JSON.
	Commands(ctx context.Context, from string, req CommandsRequest) (json.RawMessage, error)
	// Deliver gives a user of this node an event node from sent about an
	// interaction forwarded to it.
	Deliver(ctx context.Context, from string, d Delivery) error
}

// interactionsHolder holds what serves the interaction streams, once set.
type interactionsHolder struct{ h atomic.Pointer[Interactions] }

// ServeInteractions has other nodes' interaction streams served by h.
// Until it is called they are refused.
func (f *Federation) ServeInteractions(h Interactions) { f.bots.h.Store(&h) }

func (f *Federation) interactions() (Interactions, error) {
	h := f.bots.h.Load()
	if h == nil {
		return nil, errors.New("interactions are not served here")
	}
	return *h, nil
}

// Self is this node's peer ID, as rooms record their members' homes.
func (f *Federation) Self() string { return f.host.ID().String() }

// Invoke forwards an invocation to the bot's home node.
func (f *Federation) Invoke(ctx context.Context, home string, inv Invocation) (InvokeAnswer, error) {
	var out InvokeAnswer
	p, err := peer.Decode(home)
	if err != nil {
		return out, fmt.Errorf("home %q: %w", home, err)
	}
	err = f.call(ctx, p, ProtoInvoke, inv, &out)
	return out, err
}

// Commands asks a bot's home node for its bots' commands in a room.
func (f *Federation) Commands(ctx context.Context, home string, req CommandsRequest) (json.RawMessage, error) {
	var out json.RawMessage
	p, err := peer.Decode(home)
	if err != nil {
		return nil, fmt.Errorf("home %q: %w", home, err)
	}
	err = f.call(ctx, p, ProtoCommands, req, &out)
	return out, err
}

func (f *Federation) serveInvoke(s network.Stream, req *Invocation) (any, error) {
	h, err := f.interactions()
	if err != nil {
		return nil, err
	}
	if !allow(&f.mu, f.invokeRates, s.Conn().RemotePeer().String(), invokeRate, invokeBurst) {
		return tooManyInvocations, nil
	}
	ctx, cancel := context.WithTimeout(f.ctx, streamDeadline)
	defer cancel()
	return h.Invoke(ctx, s.Conn().RemotePeer().String(), *req)
}

func (f *Federation) serveCommands(s network.Stream, req *CommandsRequest) (any, error) {
	h, err := f.interactions()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(f.ctx, streamDeadline)
	defer cancel()
	if !f.shares(ctx, req.RoomID, s.Conn().RemotePeer()) {
		return nil, errNotShared
	}
	return h.Commands(ctx, s.Conn().RemotePeer().String(), *req)
}

func (f *Federation) serveDeliver(s network.Stream, req *Delivery) (any, error) {
	h, err := f.interactions()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(f.ctx, deliverDeadline)
	defer cancel()
	return struct{}{}, h.Deliver(ctx, s.Conn().RemotePeer().String(), *req)
}

// deliveries sends each peer its deliveries one after another, in the
// order they were queued, on a worker per peer that stops when idle.
type deliveries struct {
	mu     sync.Mutex
	queues map[peer.ID]chan Delivery
}

// Deliver queues d for the user's home node; it never blocks. A full
// queue drops d and counts it.
func (f *Federation) Deliver(home string, d Delivery) {
	p, err := peer.Decode(home)
	if err != nil {
		f.log.Debug("federation: delivery", "home", home, "err", err)
		return
	}
	f.out.mu.Lock()
	defer f.out.mu.Unlock()
	q := f.out.queues[p]
	if q == nil {
		q = make(chan Delivery, deliverQueue)
		f.out.queues[p] = q
		f.goRun(func() { f.deliverTo(p, q) })
	}
	select {
	case q <- d:
	default:
		f.metrics.drops.WithLabelValues("delivery").Inc()
	}
}

// deliverTo sends q's deliveries to p until q stays empty for deliverIdle.
func (f *Federation) deliverTo(p peer.ID, q chan Delivery) {
	idle := time.NewTimer(deliverIdle)
	defer idle.Stop()
	for {
		select {
		case <-f.ctx.Done():
			return
		case d := <-q:
			ctx, cancel := context.WithTimeout(f.ctx, deliverDeadline)
			var ok struct{}
			if err := f.call(ctx, p, ProtoDeliver, d, &ok); err != nil && f.ctx.Err() == nil {
				f.metrics.drops.WithLabelValues("delivery").Inc()
				f.log.Debug("federation: delivery", "peer", p, "type", d.Type, "err", err)
			}
			cancel()
			idle.Reset(deliverIdle)
		case <-idle.C:
			f.out.mu.Lock()
			if len(q) > 0 { // queued between the timer firing and the lock
				f.out.mu.Unlock()
				idle.Reset(deliverIdle)
				continue
			}
			delete(f.out.queues, p)
			f.out.mu.Unlock()
			return
		}
	}
}
