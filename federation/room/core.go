// Package room is the single path by which events enter a node
// (spec/accept.md): Accept verifies an event, checks it against the auth
// rules and the state before it, appends it and updates the projections in
// one transaction, then publishes it. Local users' events are built and
// signed by Send, or by SendAll for a group that is accepted whole or not
// at all, and take the same path.
//
// Each guild or DM room has one writer goroutine that owns its state DAG and
// batches what is waiting into one commit; readers see the state as
// committed (View). A room unloads when idle and loads again on demand.
// The node and clientapi import this package; it reaches storage only
// through the Store interface below.
package room

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"concord/federation/event"
	"concord/federation/guild"
	"concord/federation/snowflake"
)

// Querier runs SQL with `?` placeholders (storage.Querier).
type Querier = interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Store is what the core needs of the database (storage.DB satisfies it).
type Store interface {
	Write(ctx context.Context, fn func(q Querier) error) error
	// Pipeline is Write for fn that never reads what an Exec answers: the
	// store may send fn's statements together, and an Exec's error comes
	// with the next query or Pipeline's answer.
	Pipeline(ctx context.Context, fn func(q Querier) error) error
	Reader() Querier
	// Erased tells the store that a committed batch erased text, which
	// its maintenance then takes out of its files (spec/accept.md,
	// "Storage").
	Erased()
}

// Errors callers branch on. Rejections by the auth rules are *guild.Rejection.
var (
	ErrDuplicate     = errors.New("event already accepted")
	ErrMissingEvents = errors.New("prev or auth events are missing")
	ErrUnknownRoom   = errors.New("unknown guild")
	ErrClosed        = errors.New("event core closed")
)

// Core holds every room of this node.
type Core struct {
	opts   Options
	store  Store
	signer *event.Signer
	origin peer.ID
	ids    *snowflake.Generator
	log    *slog.Logger

	mu      sync.Mutex
	rooms   map[snowflake.ID]*room
	unloads int                            // rooms unloaded since rooms was made
	loading map[snowflake.ID]chan struct{} // closed when that guild's load ends
	closed  bool
	wg      sync.WaitGroup

	hub hub

	signQueue chan signJob

	channels atomic.Uint64 // ChannelsVersion
}

type signJob struct {
	ev   *event.Event
	done chan signed
}

// signed is a local event's wire form once it is signed.
type signed struct {
	body []byte
	err  error
}

// Options tune a Core; the zero value is the default.
type Options struct {
	// IdleAfter is how long a room stays in memory after its last
	// request: then it unloads, and loads again from storage on demand.
	// 0 means DefaultIdleAfter.
	IdleAfter time.Duration
}

// DefaultIdleAfter is how long an idle room stays loaded unless Options
// say otherwise.
const DefaultIdleAfter = 5 * time.Minute

// New returns the core of the node whose key is key. ids must be the node's
// one generator, so that no two parts mint the same snowflake. opts holds
// at most one Options.
func New(store Store, key crypto.PrivKey, ids *snowflake.Generator, log *slog.Logger, opts ...Options) (*Core, error) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.IdleAfter <= 0 {
		o.IdleAfter = DefaultIdleAfter
	}
	signer, err := event.NewSigner(key)
	if err != nil {
		return nil, fmt.Errorf("room: node key: %w", err)
	}
	origin, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("room: node key: %w", err)
	}
	c := &Core{
		opts:      o,
		store:     store,
		signer:    signer,
		origin:    origin,
		ids:       ids,
		log:       log,
		rooms:     map[snowflake.ID]*room{},
		loading:   map[snowflake.ID]chan struct{}{},
		signQueue: make(chan signJob, 4*maxBatch),
	}
	for range runtime.GOMAXPROCS(0) {
		go func() {
			for j := range c.signQueue {
				if err := c.signer.Sign(j.ev); err != nil {
					j.done <- signed{err: err}
					continue
				}
				j.done <- signed{body: event.Marshal(j.ev)}
			}
		}()
	}
	return c, nil
}

// sign queues a sealed event for signing by the node key; the answer
// carries its wire form, also made off the writer's and committer's way.
func (c *Core) sign(ev *event.Event) <-chan signed {
	done := make(chan signed, 1)
	c.signQueue <- signJob{ev: ev, done: done}
	return done
}

// Origin is this node's peer ID.
func (c *Core) Origin() peer.ID { return c.origin }

// NewID mints a snowflake on this node.
func (c *Core) NewID() snowflake.ID { return c.ids.Next() }

// Close stops every room's writer after it has committed what it holds.
func (c *Core) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	for _, r := range c.rooms {
		r.stop()
	}
	c.mu.Unlock()
	c.wg.Wait()
	close(c.signQueue)
	return nil
}

func (c *Core) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// room returns the room of guildID, loading it from storage on first use.
// create allows a room with no events yet (for guild.create). A load reads
// the guild's state events without holding c.mu, so other guilds go on
// meanwhile; callers asking for a guild being loaded wait for that load.
func (c *Core) room(ctx context.Context, guildID snowflake.ID, create bool) (*room, error) {
	r, done, err := c.claim(ctx, guildID, false)
	if err != nil || r != nil {
		return r, err
	}
	r, err = loadRoom(ctx, c, guildID)
	if err == nil && r.createID == "" && !create {
		err = ErrUnknownRoom
	}
	c.mu.Lock()
	delete(c.loading, guildID)
	if err == nil && c.closed {
		err = ErrClosed
	}
	if err == nil {
		c.rooms[guildID] = r
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			r.run()
		}()
	}
	c.mu.Unlock()
	close(done)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// forget drops a room from memory so that it is reloaded from storage next
// time, and stops its writer: after a failed commit its in-memory state is
// ahead of the database. Requests it has not answered are retried in the
// room loaded afresh (deliver).
func (c *Core) forget(r *room) {
	c.mu.Lock()
	if c.rooms[r.id] == r {
		delete(c.rooms, r.id)
	}
	c.mu.Unlock()
	r.stop()
}

// claim waits until no load of guildID is under way. Then it returns the
// room in memory, unless there is none or take is set: it then marks the
// guild as loading (done is closed when that ends) and returns the room it
// took out of memory, if any.
func (c *Core) claim(ctx context.Context, guildID snowflake.ID, take bool) (r *room, done chan struct{}, err error) {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return nil, nil, ErrClosed
		}
		wait := c.loading[guildID]
		if wait == nil {
			break
		}
		c.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
	defer c.mu.Unlock()
	r = c.rooms[guildID]
	if r != nil && !take {
		return r, nil, nil
	}
	done = make(chan struct{})
	c.loading[guildID] = done
	delete(c.rooms, guildID)
	return r, done, nil
}

// hold unloads a guild's room and keeps it from loading until release is
// called; requests for the guild wait meanwhile (the room they were sent to
// stopped, and deliver finds the next one loading).
func (c *Core) hold(ctx context.Context, guildID snowflake.ID) (release func(), err error) {
	r, done, err := c.claim(ctx, guildID, true)
	if err != nil {
		return nil, err
	}
	if r != nil {
		r.stop()
		<-r.stopped
	}
	return func() {
		c.mu.Lock()
		delete(c.loading, guildID)
		c.mu.Unlock()
		close(done)
	}, nil
}

// unload drops r from memory if it is still the guild's room and nothing
// waits for it; then its writer returns. A request queued after the check
// is delivered again, to the room loaded afresh.
func (c *Core) unload(r *room) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rooms[r.id] != r || len(r.reqs) > 0 {
		return false
	}
	delete(c.rooms, r.id)
	// A Go map keeps the room its largest size took: once most rooms are
	// idle, a fresh map holds the rest.
	if c.unloads++; c.unloads > 1024 && c.unloads > 2*len(c.rooms) {
		c.rooms, c.unloads = maps.Clone(c.rooms), 0
	}
	return true
}

// ChannelsVersion changes once a commit that created, changed or removed
// a channel in any room is stored, and once a rebuild ends: a reader that
// read it before a lookup of which rooms hold a channel ID may keep the
// answer for as long as it has not changed.
func (c *Core) ChannelsVersion() uint64 { return c.channels.Load() }

// Loaded is how many rooms are in memory.
func (c *Core) Loaded() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.rooms)
}

// maxAttempts bounds how often deliver hands one request to a room that
// then stops or fails before deciding it.
const maxAttempts = 8

// deliver hands req to the writer of its room and waits for the verdict.
// A room that stops before deciding req (it unloaded, or a batch before
// req's failed) answers errRetry, and req goes to the room as loaded
// afresh from storage. When req's own batch failed to commit it answers
// errRetryAlone, and req is tried again in a batch of its own: so an event
// whose commit fails fails alone and never takes the rest of its batch
// with it (spec/accept.md, "One event, one verdict").
func (c *Core) deliver(ctx context.Context, guildID snowflake.ID, create bool, req *request) result {
	for attempt := 1; ; attempt++ {
		r, err := c.room(ctx, guildID, create)
		if err != nil {
			return result{err: err}
		}
		res := r.submit(ctx, req)
		switch {
		case errors.Is(res.err, errRetryAlone):
			req.alone = true
		case !errors.Is(res.err, errRetry):
			return res
		}
		if attempt == maxAttempts {
			return result{err: fmt.Errorf("room: %s stopped %d times before deciding an event: %w", guildID, attempt, ErrClosed)}
		}
	}
}

// View runs fn with the current state of a guild as stored: events not
// committed yet are not in it. fn must not keep or modify the state.
func (c *Core) View(ctx context.Context, guildID snowflake.ID, fn func(s *guild.State) error) error {
	r, err := c.room(ctx, guildID, false)
	if err != nil {
		return err
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return fn(r.committed)
}

// Send builds, signs and accepts an event by a local user. content is
// marshalled to JSON. Message targets and invites are filled into
// auth_events by the room's writer.
func (c *Core) Send(ctx context.Context, guildID, sender snowflake.ID, typ string, content any) (*event.Event, error) {
	body, err := jsonContent(content)
	if err != nil {
		return nil, err
	}
	res := c.deliver(ctx, guildID, typ == guild.TypeGuildCreate, &request{local: &localEvent{typ: typ, sender: sender, content: body}})
	return res.ev, res.err
}

// Check returns the verdict Send would meet for the same event now, without
// sending anything: nil, or the error Send would return (a
// *guild.Rejection, ErrUnknownRoom …). It makes exactly accept's checks
// against the room's current state, so a handler can refuse a request
// before a side effect (storing an upload) rather than after. The verdict
// holds for that state only: a Send that follows is checked again.
func (c *Core) Check(ctx context.Context, guildID, sender snowflake.ID, typ string, content any) error {
	body, err := jsonContent(content)
	if err != nil {
		return err
	}
	return c.deliver(ctx, guildID, typ == guild.TypeGuildCreate,
		&request{local: &localEvent{typ: typ, sender: sender, content: body}, dryRun: true}).err
}

// Accept takes an event from elsewhere (another node, a backfill) through
// the same path: it is parsed, its hash and signature verified, then checked
// and stored.
func (c *Core) Accept(ctx context.Context, raw []byte) (*event.Event, error) {
	ev, err := event.Parse(raw)
	if err != nil {
		return nil, err
	}
	if err := verify(ev); err != nil {
		return nil, err
	}
	res := c.deliver(ctx, ev.GuildID, ev.Type == guild.TypeGuildCreate, &request{remote: ev})
	return res.ev, res.err
}

// AcceptBatch accepts many events of one guild, in the order given (a
// backfill, a sync after a partition): signatures are verified on every
// core, then the writer takes them in order, batching commits. It returns
// one error per event.
func (c *Core) AcceptBatch(ctx context.Context, raws [][]byte) []error {
	entries := make([]Entry, len(raws))
	for i, raw := range raws {
		entries[i].Raw = raw
	}
	return c.AcceptEntries(ctx, entries)
}

// AcceptEntries is AcceptBatch for a partial-state join, whose entries are
// events or stubs of events (partial.go).
func (c *Core) AcceptEntries(ctx context.Context, entries []Entry) []error {
	errs := make([]error, len(entries))
	evs := make([]*event.Event, len(entries))
	workers := min(runtime.GOMAXPROCS(0), len(entries))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(entries); i += workers {
				if entries[i].Stub != nil {
					continue
				}
				ev, err := event.Parse(entries[i].Raw)
				if err == nil {
					err = verify(ev)
				}
				evs[i], errs[i] = ev, err
			}
		}()
	}
	wg.Wait()
	// Queue every event before waiting for any, so that the writer batches
	// them; one that its room did not decide is delivered again, in order.
	rooms := make([]*room, len(entries))
	reqs := make([]*request, len(entries))
	for i, e := range entries {
		if errs[i] != nil {
			continue
		}
		req := &request{remote: evs[i], stub: e.Stub}
		guildID, create := req.guild()
		r, err := c.room(ctx, guildID, create)
		if err != nil {
			errs[i] = err
			continue
		}
		if errs[i] = r.send(ctx, req); errs[i] == nil {
			rooms[i], reqs[i] = r, req
		}
	}
	for i, req := range reqs {
		if req == nil {
			continue
		}
		res := rooms[i].wait(ctx, req)
		if errors.Is(res.err, errRetryAlone) {
			req.alone = true
		}
		if errors.Is(res.err, errRetry) {
			guildID, create := req.guild()
			res = c.deliver(ctx, guildID, create, req)
		}
		errs[i] = res.err
	}
	return errs
}

// guild names the room a remote event or a stub belongs to, and whether it
// creates it.
func (req *request) guild() (snowflake.ID, bool) {
	if req.stub != nil {
		return req.stub.GuildID, false
	}
	return req.remote.GuildID, req.remote.Type == guild.TypeGuildCreate
}

// verify is event.Verify, but lets through a message event whose content
// was erased before it came (spec/accept.md, "Envelope"): the rules judge
// what redaction keeps of it, and it is stored as it came.
func verify(ev *event.Event) error {
	err := event.Verify(ev)
	if errors.Is(err, event.ErrRedacted) && (ev.Type == guild.TypeMessageCreate || ev.Type == guild.TypeMessageEdit) {
		return nil
	}
	return err
}
