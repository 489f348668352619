package room

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"concord/federation/event"
	"concord/federation/guild"
	"concord/federation/resolve"
	"concord/federation/snowflake"
)

// maxBatch bounds how many waiting events one commit takes.
const maxBatch = 512

type localEvent struct {
	typ     string
	sender  snowflake.ID
	content []byte
}

type request struct {
	ctx    context.Context
	local  *localEvent
	remote *event.Event
	// fromLog marks an event replayed from this node's own log: it was
	// accepted once, and may be stored redacted.
	fromLog bool
	done    chan result
}

type result struct {
	ev  *event.Event
	err error
}

// meta is what the writer remembers of an event without reading its body.
type meta struct {
	depth    int64
	state    bool
	sparents []string // nearest state events among its ancestors (itself excluded)
	prevs    []string
	typ      string
	msg      *guild.MessageInfo // for message.create
}

// room is one guild's writer and the state it owns.
type room struct {
	id      snowflake.ID
	core    *Core
	reqs    chan *request
	stopped chan struct{} // closed when the writer has returned

	mu    sync.RWMutex // guards graph for View
	graph *resolve.Graph

	// Owned by the writer goroutine.
	createID    string
	extremities map[string]int64 // forward extremities of the whole DAG → depth
	metas       map[string]*meta
	lastTS      int64
	bans        map[snowflake.ID][]*resolve.Node // every accepted ban, by target
}

func (r *room) submit(ctx context.Context, req *request) (*event.Event, error) {
	req.ctx = ctx
	req.done = make(chan result, 1)
	select {
	case r.reqs <- req:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case res := <-req.done:
		return res.ev, res.err
	case <-ctx.Done():
		// The writer still finishes the event; the caller stops waiting.
		return nil, ctx.Err()
	}
}

// run is the writer: it takes what is waiting, accepts it in memory, commits
// it in one transaction and publishes it.
func (r *room) run() {
	defer close(r.stopped)
	for first := range r.reqs {
		batch := []*request{first}
	drain:
		for len(batch) < maxBatch {
			select {
			case req, ok := <-r.reqs:
				if !ok {
					break drain
				}
				batch = append(batch, req)
			default:
				break drain
			}
		}
		if !r.process(batch) {
			r.core.forget(r)
			for req := range r.reqs {
				req.done <- result{err: ErrClosed}
			}
			return
		}
	}
}

// process accepts a batch; it returns false when the commit failed and the
// in-memory state can no longer be trusted.
func (r *room) process(batch []*request) bool {
	var (
		staged  []*staged
		results = make([]result, len(batch))
	)
	r.mu.Lock()
	tx := newTxn(r)
	for i, req := range batch {
		if err := req.ctx.Err(); err != nil {
			results[i].err = err
			continue
		}
		st, err := r.stage(tx, req)
		if err != nil {
			results[i].err = err
			continue
		}
		staged = append(staged, st)
		results[i].ev = st.ev
	}
	r.mu.Unlock()
	ok := true
	if len(staged) > 0 {
		err := r.signAll(staged)
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err = r.core.store.Write(ctx, tx.commit)
			cancel()
		}
		if err != nil {
			r.core.log.Error("commit events", "guild", r.id, "err", err)
			for i := range results {
				if results[i].err == nil {
					results[i] = result{err: fmt.Errorf("room: commit: %w", err)}
				}
			}
			ok = false
		} else {
			if tx.redacted {
				r.core.store.Checkpoint(context.Background())
			}
			for _, st := range staged {
				r.core.hub.publish(st.accepted)
			}
		}
	}
	for i, req := range batch {
		req.done <- results[i]
	}
	return ok
}

// signAll signs the batch's local events on every core: the signature is
// the costliest step of a local send, and the IDs are already fixed.
func (r *room) signAll(staged []*staged) error {
	workers := min(runtime.GOMAXPROCS(0), len(staged))
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			var err error
			for i := w; i < len(staged); i += workers {
				if st := staged[i]; st.unsigned && err == nil {
					err = event.SignSealed(st.ev, r.core.key)
				}
			}
			errs <- err
		}()
	}
	var err error
	for range workers {
		err = errors.Join(err, <-errs)
	}
	return err
}

// loadRoom rebuilds a room's state DAG from the stored state events.
func loadRoom(ctx context.Context, c *Core, guildID snowflake.ID) (*room, error) {
	r := &room{
		id:          guildID,
		core:        c,
		reqs:        make(chan *request, 4*maxBatch),
		stopped:     make(chan struct{}),
		graph:       resolve.NewGraph(),
		extremities: map[string]int64{},
		metas:       map[string]*meta{},
		bans:        map[snowflake.ID][]*resolve.Node{},
	}
	q := c.store.Reader()
	rows, err := q.QueryContext(ctx, `SELECT event_id, state_parents, auth_rank, body FROM events
		WHERE guild_id = ? AND is_state = TRUE ORDER BY seq`, int64(guildID))
	if err != nil {
		return nil, fmt.Errorf("room: load %s: %w", guildID, err)
	}
	defer rows.Close()
	// One batch: a history with forks replays once, not once per event.
	var nodes []*resolve.Node
	byID := map[string]*resolve.Node{}
	for rows.Next() {
		var (
			id, parents string
			rank        int64
			body        []byte
		)
		if err := rows.Scan(&id, &parents, &rank, &body); err != nil {
			return nil, err
		}
		ev, err := event.Parse(body)
		if err != nil {
			return nil, fmt.Errorf("room: stored event %s: %w", id, err)
		}
		n := &resolve.Node{ID: id, Op: opOf(ev), Rank: uint64(rank)}
		if err := n.Op.Prepare(); err != nil {
			return nil, fmt.Errorf("room: stored event %s: %w", id, err)
		}
		for _, p := range splitIDs(parents) {
			n.Parents = append(n.Parents, byID[p])
		}
		byID[id] = n
		nodes = append(nodes, n)
		if ev.Type == guild.TypeGuildCreate {
			r.createID = id
		}
		if b, ok := n.Op.Body().(*guild.MemberBan); ok {
			r.bans[b.UserID] = append(r.bans[b.UserID], n)
		}
	}
	r.graph.AppendBatch(nodes)
	if err := rows.Err(); err != nil {
		return nil, err
	}
	ext, err := q.QueryContext(ctx, `SELECT e.event_id, e.depth FROM guild_extremities x
		JOIN events e ON e.event_id = x.event_id WHERE x.guild_id = ?`, int64(guildID))
	if err != nil {
		return nil, err
	}
	defer ext.Close()
	for ext.Next() {
		var id string
		var depth int64
		if err := ext.Scan(&id, &depth); err != nil {
			return nil, err
		}
		r.extremities[id] = depth
	}
	return r, ext.Err()
}

// metaOf returns what the room knows of an event, reading storage when it is
// not in memory; nil when the event is unknown.
func (r *room) metaOf(ctx context.Context, id string) (*meta, error) {
	if m := r.metas[id]; m != nil {
		return m, nil
	}
	var (
		state   bool
		parents string
		body    []byte
	)
	err := r.core.store.Reader().QueryRowContext(ctx, `SELECT is_state, state_parents, body FROM events
		WHERE event_id = ? AND guild_id = ?`, id, int64(r.id)).Scan(&state, &parents, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	ev, err := event.Parse(body)
	if err != nil {
		return nil, err
	}
	m := metaFor(ev, state, splitIDs(parents))
	r.remember(id, m)
	return m, nil
}

// remember caches an event's meta, keeping the cache bounded: the oldest
// events are rarely referenced again and are read back from storage.
func (r *room) remember(id string, m *meta) {
	if len(r.metas) >= 1<<16 {
		for k := range r.metas {
			if _, ext := r.extremities[k]; !ext {
				delete(r.metas, k)
			}
			if len(r.metas) < 1<<15 {
				break
			}
		}
	}
	r.metas[id] = m
}

func metaFor(ev *event.Event, state bool, sparents []string) *meta {
	m := &meta{depth: ev.Depth, state: state, sparents: sparents, prevs: ev.PrevEvents, typ: ev.Type}
	if ev.Type == guild.TypeMessageCreate {
		var c struct {
			ID        snowflake.ID `json:"id"`
			ChannelID snowflake.ID `json:"channel_id"`
		}
		if json.Unmarshal(ev.Content, &c) == nil {
			m.msg = &guild.MessageInfo{ID: c.ID, ChannelID: c.ChannelID, AuthorID: ev.Sender, TS: ev.OriginTS}
		}
	}
	return m
}

func opOf(ev *event.Event) *guild.Op {
	return &guild.Op{EventID: ev.ID(), GuildID: ev.GuildID, Type: ev.Type, Sender: ev.Sender,
		Origin: ev.Origin.String(), TS: ev.OriginTS, Content: ev.Content, AuthEvents: ev.AuthEvents}
}

func splitIDs(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, " ")
}

func jsonContent(v any) ([]byte, error) {
	switch b := v.(type) {
	case []byte:
		return b, nil
	case json.RawMessage:
		return b, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("room: content: %w", err)
	}
	return b, nil
}
