package interactions

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"concord/clientapi/httperr"
	"concord/federation/guild"
	"concord/federation/p2p"
	"concord/federation/snowflake"
)

// Remote reaches other nodes (spec/federation.md, "Interactions across
// nodes"): a bot's home node, which alone holds its commands and runs its
// interactions, and a user's home node, which alone delivers to them what
// only they see. Federation implements it.
type Remote interface {
	// Self is this node's peer ID, as rooms record their members' homes.
	Self() string
	// Invoke forwards an invocation to the bot's home node.
	Invoke(ctx context.Context, home string, inv p2p.Invocation) (p2p.InvokeAnswer, error)
	// Commands asks a bot's home node for its bots' commands in a room.
	Commands(ctx context.Context, home string, req p2p.CommandsRequest) (json.RawMessage, error)
	// Deliver queues an event for a user whose home is another node.
	Deliver(home string, d p2p.Delivery)
}

// remoteWait bounds how long reading the command index waits for other
// nodes.
const remoteWait = 2 * time.Second

// unreachable is the answer when a bot's home node cannot be reached.
var unreachable = &httperr.Error{Status: http.StatusBadGateway, Code: httperr.CodeGeneral,
	Message: "The application's node cannot be reached; try again shortly."}

// appHome is the home node of application app's bot in a room, when that
// is another node; "" when the application is this node's. A bot that is
// not in the room offers no commands there.
func (a *API) appHome(ctx context.Context, roomID, app snowflake.ID) (string, error) {
	var local bool
	err := a.db.Reader().QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM applications WHERE id = ?)`, int64(app)).Scan(&local)
	if err != nil || local {
		return "", err
	}
	home := ""
	err = a.core.View(ctx, roomID, func(s *guild.State) error {
		if m := s.Members[app]; m != nil && m.Bot {
			home = s.Homes[app]
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if home == "" || a.remote == nil || home == a.remote.Self() {
		return "", httperr.UnknownCommand
	}
	return home, nil
}

// forward hands an invocation of user's to the bot's home node, which
// checks it again and starts it; that node's verdict is the user's answer.
func (a *API) forward(ctx context.Context, user snowflake.ID, home string, body *invokeBody) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	id := a.ids.Next()
	if !a.forwards.add(forwarded{id: id, user: user, home: home, channel: body.ChannelID, created: a.cfg.Now()}) {
		return httperr.TooManyInteractions
	}
	ans, err := a.remote.Invoke(ctx, home, p2p.Invocation{ID: id, UserID: user, Body: raw})
	if err != nil {
		a.forwards.remove(id)
		a.log.Warn("interactions: forward", "home", home, "err", err)
		return unreachable
	}
	if ans.Status != 0 {
		a.forwards.remove(id)
		return remoteError(ans)
	}
	a.forwards.announce(id, func(d p2p.Delivery) { a.events.UserEvent(d.UserID, d.Type, d.Payload) },
		p2p.Delivery{UserID: user, Type: "INTERACTION_CREATE", Payload: mustJSON(map[string]any{"id": id, "nonce": body.Nonce})})
	return nil
}

// mustJSON encodes v, which cannot fail to encode.
func mustJSON(v any) json.RawMessage {
	raw, _ := json.Marshal(v)
	return raw
}

// remoteError is the error another node answered, as this node's: a
// status outside 4xx and 5xx, or a body that is no Discord error, is the
// other node's fault.
func remoteError(ans p2p.InvokeAnswer) error {
	e := &httperr.Error{}
	if ans.Status < 400 || ans.Status > 599 || json.Unmarshal(ans.Error, e) != nil || e.Message == "" {
		return unreachable
	}
	e.Status = ans.Status
	return e
}

// tell gives an interaction's user an event: through the gateway when the
// user is this node's, else through their home node.
func (a *API) tell(i *interaction, eventType string, payload any) {
	if i.home == "" {
		a.events.UserEvent(i.user, eventType, payload)
		return
	}
	raw, err := json.Marshal(payload)
	if err != nil {
		a.log.Error("interactions: delivery", "type", eventType, "err", err)
		return
	}
	a.remote.Deliver(i.home, p2p.Delivery{UserID: i.user, InteractionID: i.id, Type: eventType, Payload: raw})
}

// Peers serves other nodes' interaction streams.
func (a *API) Peers() p2p.Interactions { return peers{a} }

type peers struct{ a *API }

// Invoke starts an interaction a user of node from invoked with one of
// this node's bots, after the checks a local invocation meets, and that
// from is the user's home.
func (p peers) Invoke(ctx context.Context, from string, inv p2p.Invocation) (p2p.InvokeAnswer, error) {
	a := p.a
	err := func() error {
		var body invokeBody
		if json.Unmarshal(inv.Body, &body) != nil {
			return httperr.Field("body", "BASE_TYPE_BAD_TYPE", "Must be an invocation.")
		}
		place, err := a.mayInvoke(ctx, inv.UserID, &body)
		if err != nil {
			return err
		}
		person := false
		if err := a.core.View(ctx, place.Room, func(s *guild.State) error {
			m := s.Members[inv.UserID]
			person = m != nil && !m.Bot && s.Homes[inv.UserID] == from
			return nil
		}); err != nil {
			return err
		}
		if !person {
			return httperr.MissingAccess
		}
		if home, err := a.appHome(ctx, place.Room, body.ApplicationID); err != nil || home != "" {
			return httperr.UnknownCommand
		}
		_, err = a.start(ctx, inv.UserID, from, inv.ID, place, &body)
		return err
	}()
	if err == nil {
		return p2p.InvokeAnswer{}, nil
	}
	var e *httperr.Error
	if !errors.As(err, &e) {
		a.log.Error("interactions: remote invoke", "from", from, "err", err)
		e = httperr.Internal
	}
	raw, merr := json.Marshal(e)
	return p2p.InvokeAnswer{Status: e.Status, Error: raw}, merr
}

// Commands answers node from with this node's bots' commands in a room.
func (p peers) Commands(ctx context.Context, _ string, req p2p.CommandsRequest) (json.RawMessage, error) {
	idx, err := p.a.localIndex(ctx, req.RoomID, req.Scope)
	if err != nil {
		return nil, err
	}
	return json.Marshal(idx)
}

// Delivered event types: what an interaction's user alone is told.
var deliverable = map[string]bool{
	"INTERACTION_SUCCESS": true, "INTERACTION_FAILURE": true, "INTERACTION_MODAL_CREATE": true,
	"APPLICATION_COMMAND_AUTOCOMPLETE_RESPONSE": true,
	"MESSAGE_CREATE": true, "MESSAGE_UPDATE": true, "MESSAGE_DELETE": true,
}

// Deliver gives a user of this node an event about an interaction this
// node forwarded to from; anything else from is refused.
func (p peers) Deliver(_ context.Context, from string, d p2p.Delivery) error {
	a := p.a
	f, ok := a.forwards.get(d.InteractionID, a.cfg.Now())
	if !ok || f.home != from || f.user != d.UserID {
		return errors.New("no such interaction forwarded to this peer")
	}
	if !deliverable[d.Type] {
		return errors.New("not an interaction event")
	}
	var in struct {
		ChannelID snowflake.ID `json:"channel_id"`
	}
	if len(d.Payload) == 0 || d.Payload[0] != '{' || json.Unmarshal(d.Payload, &in) != nil {
		return errors.New("payload is not an object")
	}
	if in.ChannelID != 0 && in.ChannelID != f.channel {
		return errors.New("payload names another channel")
	}
	a.forwards.deliver(d, func(d p2p.Delivery) { a.events.UserEvent(d.UserID, d.Type, d.Payload) })
	return nil
}

// forwarded is an interaction this node forwarded to a bot's home node:
// what that node may tell whom about it.
type forwarded struct {
	id, user, channel snowflake.ID
	home              string
	created           time.Time
	announced         bool           // the user was told INTERACTION_CREATE
	early             []p2p.Delivery // what arrived before that, in order
}

// maxEarly bounds what one interaction's bot node may deliver before the
// user's node has told the user the interaction began.
const maxEarly = 16

// forwards holds the interactions forwarded while their tokens live.
type forwards struct {
	mu    sync.Mutex
	byID  map[snowflake.ID]*forwarded
	order []snowflake.ID
}

// announce tells the user an interaction began (first), then what its bot's
// node delivered before this node heard its answer.
func (g *forwards) announce(id snowflake.ID, tell func(p2p.Delivery), first p2p.Delivery) {
	g.mu.Lock()
	defer g.mu.Unlock()
	f := g.byID[id]
	if f == nil {
		return
	}
	f.announced = true
	tell(first)
	for _, d := range f.early {
		tell(d)
	}
	f.early = nil
}

// deliver tells the user d, or keeps it until the interaction is
// announced.
func (g *forwards) deliver(d p2p.Delivery, tell func(p2p.Delivery)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	f := g.byID[d.InteractionID]
	switch {
	case f == nil:
	case f.announced:
		tell(d)
	case len(f.early) < maxEarly:
		f.early = append(f.early, d)
	}
}

// add records f, forgetting those whose time is up; false when as many are
// held as a node may.
func (g *forwards) add(f forwarded) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.expire(f.created)
	if len(g.byID) >= maxLive {
		return false
	}
	if g.byID == nil {
		g.byID = map[snowflake.ID]*forwarded{}
	}
	g.byID[f.id] = &f
	g.order = append(g.order, f.id)
	return true
}

// get returns what the forwarded interaction id may be told and by whom.
func (g *forwards) get(id snowflake.ID, now time.Time) (forwarded, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.expire(now)
	f, ok := g.byID[id]
	if !ok {
		return forwarded{}, false
	}
	return forwarded{id: f.id, user: f.user, channel: f.channel, home: f.home, created: f.created}, true
}

func (g *forwards) remove(id snowflake.ID) {
	g.mu.Lock()
	delete(g.byID, id)
	g.mu.Unlock()
}

// expire forgets what is older than a token's life. g.mu is held.
func (g *forwards) expire(now time.Time) {
	n := 0
	for ; n < len(g.order); n++ {
		f, ok := g.byID[g.order[n]]
		if ok && now.Sub(f.created) <= tokenLife {
			break
		}
		delete(g.byID, g.order[n])
	}
	g.order = g.order[n:]
}
