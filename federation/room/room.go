package room

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
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
	group  []*localEvent // SendAll's: accepted all or none
	remote *event.Event
	stub   *Stub // a partial-state join's stub of an event not carried
	// fromLog marks an event replayed from this node's own log: it was
	// accepted once, and may be stored redacted.
	fromLog bool
	// dryRun asks for the verdict on local only (Core.Check).
	dryRun bool
	// alone asks for a batch of its own: the batch it was in failed to
	// commit, and this request's verdict must be its own.
	alone bool
	done  chan result
}

// A room answers these to a request it stopped before deciding (deliver).
var (
	errRetry      = errors.New("room stopped before deciding the event")
	errRetryAlone = fmt.Errorf("%w: its batch failed to commit", errRetry)
)

type result struct {
	ev    *event.Event
	group []*event.Event
	err   error
}

// meta is what the writer remembers of an event without reading its body.
type meta struct {
	depth    int64
	state    bool
	sparents []string // nearest state events among its ancestors (itself excluded)
	prevs    []string
	typ      string
	msg      *guild.MessageInfo // for message.create
	stub     *Stub              // what a partial-state join said of an event not here yet
}

// room is one guild's writer and the state it owns.
type room struct {
	id       snowflake.ID
	core     *Core
	reader   Querier       // storage as the writer reads it
	reqs     chan *request // never closed: a sender may hold the room after it stopped
	quit     chan struct{} // closed to stop the writer (stop)
	stopOnce sync.Once
	stopped  chan struct{} // closed when the writer has returned and answered all it took

	graph *resolve.Graph // the writer's: every event staged, committed or not

	// committed is the state as stored: what View shows. The committer
	// brings it forward by each batch's delta once the batch committed.
	mu        sync.RWMutex
	committed *guild.State

	// Owned by the writer goroutine.
	createID    string
	extremities map[string]int64 // forward extremities of the whole DAG → depth
	metas       map[string]*meta
	lastTS      int64
	bans        map[snowflake.ID][]*resolve.Node // every accepted ban, by target
	messages    map[snowflake.ID]string          // recent message IDs → create event
	stubs       stubDepths                       // events still stubs (partial.go)
	frontiers   map[string]frontier              // ban → its stub frontier (partial.go)

	inflight sync.WaitGroup // batches handed to the committer, not yet committed
	failed   atomic.Bool    // a commit failed: memory is ahead of storage
}

// submit hands req to the writer and waits for its verdict.
func (r *room) submit(ctx context.Context, req *request) result {
	if err := r.send(ctx, req); err != nil {
		return result{err: err}
	}
	return r.wait(ctx, req)
}

// send queues req for the writer.
func (r *room) send(ctx context.Context, req *request) error {
	req.ctx = ctx
	req.done = make(chan result, 1)
	select {
	case r.reqs <- req:
		return nil
	case <-r.stopped:
		return errRetry
	case <-ctx.Done():
		return ctx.Err()
	}
}

// wait returns the verdict on a request send queued. A request still
// queued when the writer stopped was never taken: errRetry.
func (r *room) wait(ctx context.Context, req *request) result {
	select {
	case res := <-req.done:
		return res
	case <-r.stopped:
		select {
		case res := <-req.done:
			return res
		default:
			return result{err: errRetry}
		}
	case <-ctx.Done():
		// The writer still finishes the event; the caller stops waiting.
		return result{err: ctx.Err()}
	}
}

// stop asks the writer to return. It may be called more than once.
func (r *room) stop() { r.stopOnce.Do(func() { close(r.quit) }) }

// work is a staged batch on its way to the committer.
type work struct {
	batch   []*request
	results []result
	staged  []*staged
	tx      *txn
}

// run is the writer: it takes what is waiting, accepts it in memory and
// hands it to the committer, which commits it in one transaction and
// publishes it while the writer stages the next batch. It returns when
// stopped, or after a failed commit; requests it took are answered first,
// and those still queued are retried elsewhere (deliver). When the whole
// core closes it first commits what is queued.
func (r *room) run() {
	defer close(r.stopped)
	// Unbuffered: a staged batch waits for the committer, and the next is
	// drained only once it is taken, so that each batch holds everything
	// that arrived during one commit rather than a few split off early.
	commits := make(chan *work)
	committed := make(chan struct{})
	go func() {
		defer close(committed)
		for w := range commits {
			r.commit(w)
			r.inflight.Done()
		}
	}()
	defer func() {
		close(commits)
		<-committed
	}()
	var next *request // a request that must start a batch of its own
	idle := time.NewTimer(r.core.opts.IdleAfter)
	defer idle.Stop()
	for !r.failed.Load() {
		first := next
		next = nil
		if first == nil {
			select {
			case first = <-r.reqs:
			case <-idle.C:
				// What is staged must be stored before the room may load
				// again from storage.
				r.inflight.Wait()
				if r.core.unload(r) {
					return
				}
				idle.Reset(r.core.opts.IdleAfter)
				continue
			case <-r.quit:
				if r.failed.Load() || !r.core.isClosed() {
					return
				}
				select {
				case first = <-r.reqs:
				default:
					return
				}
			}
		}
		batch := []*request{first}
	drain:
		for !first.alone && len(batch) < maxBatch {
			select {
			case req := <-r.reqs:
				if req.alone {
					next = req
					break drain
				}
				batch = append(batch, req)
			default:
				break drain
			}
		}
		r.trim()
		w := r.stageBatch(batch)
		r.inflight.Add(1)
		commits <- w
		idle.Reset(r.core.opts.IdleAfter)
	}
}

// stageBatch accepts a batch in memory. Dry runs are answered at once:
// they wait for no commit.
func (r *room) stageBatch(batch []*request) *work {
	w := &work{batch: make([]*request, 0, len(batch)), results: make([]result, 0, len(batch)), tx: newTxn(r)}
	held, err := r.holdsAny(context.Background(), batch)
	if err != nil {
		for _, req := range batch {
			req.done <- result{err: err}
		}
		return &work{}
	}
	w.tx.held = held
	for i, req := range batch {
		var res result
		switch {
		case req.ctx.Err() != nil:
			res.err = req.ctx.Err()
		case req.dryRun:
			req.done <- result{err: r.check(req.ctx, w.tx, req.local)}
			continue
		case req.group != nil:
			sts, broken, err := r.stageGroup(req.ctx, w.tx, req.group)
			if broken {
				// Part of the group is in memory but not in the batch:
				// fail the batch, so that the room is reloaded.
				w.batch = append(w.batch, batch[i:]...)
				w.results = append(w.results, make([]result, len(batch)-i)...)
				r.fail(w, err)
				return w
			}
			if err != nil {
				res.err = err
				break
			}
			for _, st := range sts {
				w.staged = append(w.staged, st)
				res.group = append(res.group, st.ev)
			}
		default:
			st, err := r.stage(w.tx, req)
			if err != nil {
				res.err = err
				break
			}
			w.staged = append(w.staged, st)
			res.ev = st.ev
		}
		w.batch = append(w.batch, req)
		w.results = append(w.results, res)
	}
	if len(w.staged) > 0 {
		if err := w.tx.finish(); err != nil {
			r.fail(w, err)
		}
	}
	return w
}

// commit writes a staged batch and answers its callers. After a failure the
// in-memory state is ahead of the database: the room is dropped at once,
// and the batches staged after it are not written but retried in the room
// as reloaded from storage.
func (r *room) commit(w *work) {
	switch {
	case len(w.staged) == 0:
	case r.failed.Load():
		r.abandon(w)
	default:
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := r.core.store.Pipeline(ctx, w.tx.commit)
		cancel()
		if err != nil {
			r.fail(w, err)
			break
		}
		r.mu.Lock()
		r.committed.ApplyDelta(w.tx.delta)
		r.mu.Unlock()
		if w.tx.changesChannels() {
			r.core.channels.Add(1)
		}
		if w.tx.redacted {
			r.core.store.Erased()
		}
		for _, st := range w.staged {
			if st.accepted != nil { // nil for a stub
				r.core.hub.publish(st.accepted)
			}
		}
	}
	for i, req := range w.batch {
		req.done <- w.results[i]
	}
}

// fail marks the room failed and drops it, then answers the batch: a
// request alone in its batch is refused with err, every other is retried
// alone, so that the one at fault is found and refused by itself.
func (r *room) fail(w *work, err error) {
	if !r.failed.Swap(true) {
		r.core.forget(r)
	}
	retried := 0
	for i, req := range w.batch {
		switch {
		case w.results[i].err != nil:
		case req.alone:
			r.core.log.Error("event refused: its commit failed", "guild", r.id, "event", eventOf(w.results[i]), "err", err)
			w.results[i] = result{err: fmt.Errorf("room: commit: %w", err)}
		default:
			w.results[i] = result{err: errRetryAlone}
			retried++
		}
	}
	if retried > 0 {
		r.core.log.Warn("batch failed to commit; its events are retried one by one", "guild", r.id, "requests", retried, "err", err)
	}
}

// abandon answers a batch staged after one that failed: it was checked
// against a state that is not stored, so it is tried again afresh.
func (r *room) abandon(w *work) {
	for i := range w.results {
		if w.results[i].err == nil {
			w.results[i] = result{err: errRetry}
		}
	}
}

// eventOf names the event a result is for, for logs.
func eventOf(res result) string {
	switch {
	case res.ev != nil:
		return res.ev.ID()
	case len(res.group) > 0:
		return res.group[0].ID()
	}
	return ""
}

// newRoom is the room of a guild that has no events yet, reading storage
// through reader.
func newRoom(c *Core, guildID snowflake.ID, reader Querier) *room {
	return &room{
		id:          guildID,
		core:        c,
		reader:      reader,
		reqs:        make(chan *request, 4*maxBatch),
		quit:        make(chan struct{}),
		stopped:     make(chan struct{}),
		graph:       resolve.NewGraph(),
		extremities: map[string]int64{},
		metas:       map[string]*meta{},
		bans:        map[snowflake.ID][]*resolve.Node{},
		messages:    map[snowflake.ID]string{},
	}
}

// loadRoom rebuilds a room's state DAG from the stored state events.
func loadRoom(ctx context.Context, c *Core, guildID snowflake.ID) (*room, error) {
	q := c.store.Reader()
	r := newRoom(c, guildID, q)
	rows, err := q.QueryContext(ctx, `SELECT event_id, state_parents, auth_rank, body FROM events
		WHERE guild_id = ? AND is_state ORDER BY seq`, int64(guildID))
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
			// Logged under older rules: in the DAG without effect, as
			// Rebuild keeps it (admit).
			c.log.Warn("logged event refused by today's rules: kept without effect", "guild", guildID, "event", id, "err", err)
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
	r.committed = r.graph.State().Clone()
	if err := r.loadStubs(ctx, q); err != nil {
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
	err := r.reader.QueryRowContext(ctx, `SELECT is_state, state_parents, body FROM events
		WHERE event_id = ? AND guild_id = ?`, id, int64(r.id)).Scan(&state, &parents, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return r.stubOf(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	ev, err := event.Parse(body)
	if err != nil {
		return nil, err
	}
	m := metaFor(ev, opOf(ev), state, splitIDs(parents))
	r.remember(id, m)
	return m, nil
}

// remember caches an event's meta.
func (r *room) remember(id string, m *meta) { r.metas[id] = m }

// trim keeps the caches bounded: old events are rarely referenced again and
// are read back from storage. Only committed events may be forgotten, so it
// first waits for the committer; the writer calls it between batches.
func (r *room) trim() {
	if len(r.metas) < 1<<16 && len(r.messages) < 1<<16 {
		return
	}
	r.inflight.Wait()
	clear(r.messages)
	for k := range r.metas {
		if _, ext := r.extremities[k]; !ext {
			delete(r.metas, k)
		}
		if len(r.metas) < 1<<15 {
			break
		}
	}
}

// metaFor is the meta of ev, whose decoded content is op (or not yet
// decoded, when it came from storage).
func metaFor(ev *event.Event, op *guild.Op, state bool, sparents []string) *meta {
	m := &meta{depth: ev.Depth, state: state, sparents: sparents, prevs: ev.PrevEvents, typ: ev.Type}
	if ev.Type == guild.TypeMessageCreate && op.Prepare() == nil {
		c := op.Body().(*guild.MessageCreate)
		m.msg = &guild.MessageInfo{ID: c.ID, ChannelID: c.ChannelID, AuthorID: ev.Sender, TS: ev.OriginTS}
	}
	return m
}

func opOf(ev *event.Event) *guild.Op {
	return &guild.Op{EventID: ev.ID(), GuildID: ev.GuildID, Type: ev.Type, Sender: ev.Sender,
		Origin: ev.OriginString(), TS: ev.OriginTS, Content: ev.Content, AuthEvents: ev.AuthEvents}
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
