package resolve

import (
	"math/bits"
	"slices"
	"sort"

	"concord/federation/guild"
)

// snapshotEvery is how many state events may pass between two snapshots of
// the state at a checkpoint; a fork replays at most this many plus its own
// branch. A variable so that tests can make checkpoints frequent.
var snapshotEvery = 64

// checkpoint is a node every other node was ordered against when it became
// the single head, with the state after it.
type checkpoint struct {
	index int // the node's arrival index; -1 for the empty state
	state *guild.State
}

// Graph is one guild's state DAG with its current state. It is not safe for
// concurrent use: the guild's writer owns it.
type Graph struct {
	nodes       map[string]*Node
	list        []*Node // arrival order
	heads       map[*Node]struct{}
	cur         *guild.State
	checkpoints []checkpoint // increasing index; [0] is the empty state
	sinceSnap   int
	epoch       uint32

	// dirty: events were added that cur does not include yet (Settle).
	dirty bool
	// branch is the state after the event branchOf along its ancestry (not
	// the current state): the next event of a branch that is being
	// appended, a partition healing, is checked against it in O(1).
	branchOf *Node
	branch   *guild.State
	// scratch is the last state StateBefore folded, and for which parents.
	scratchFor []*Node
	scratch    *guild.State
}

// NewGraph returns the graph of a guild that has no events yet.
func NewGraph() *Graph {
	return &Graph{
		nodes:       map[string]*Node{},
		heads:       map[*Node]struct{}{},
		cur:         guild.New(),
		checkpoints: []checkpoint{{index: -1, state: guild.New()}},
	}
}

// State is the current state: the fold of every state event. Callers must
// not modify it.
func (g *Graph) State() *guild.State { return g.cur }

// Node returns the node of a state event, or nil.
func (g *Graph) Node(id string) *Node { return g.nodes[id] }

// Len is the number of state events.
func (g *Graph) Len() int { return len(g.list) }

// Heads lists the state events no other state event descends from, sorted
// by ID.
func (g *Graph) Heads() []*Node {
	out := make([]*Node, 0, len(g.heads))
	for n := range g.heads {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// isHeadSet reports whether parents are exactly the current heads.
func (g *Graph) isHeadSet(parents []*Node) bool {
	if len(parents) != len(g.heads) {
		return false
	}
	for _, p := range parents {
		if _, ok := g.heads[p]; !ok {
			return false
		}
	}
	return true
}

// StateBefore is the state of the events that parents and their ancestors
// are: the state an event with those state parents is checked against.
// The result must not be modified, and is valid until the next Append or
// Defer; it may be the current state.
func (g *Graph) StateBefore(parents []*Node) *guild.State {
	if !g.dirty && g.isHeadSet(parents) {
		return g.cur
	}
	if len(parents) == 1 && parents[0] == g.branchOf {
		return g.branch
	}
	if slices.Equal(parents, g.scratchFor) {
		return g.scratch
	}
	base := g.baseFor(cpOf(parents))
	set := g.ancestorsAfter(parents, base.index)
	s := base.state.Clone()
	g.fold(s, set)
	g.scratchFor, g.scratch = slices.Clone(parents), s
	return s
}

// Append adds a state event whose parents are all in the graph and updates
// the current state. It returns the objects whose projection may have
// changed and whether the event itself took effect in the current state.
//
// An event whose parents are exactly the current heads descends from every
// event, so it folds last and, whether it merges (which lends its priority
// to no branch) or extends the single head (whose chain holds only events
// nothing else is ready beside), it reorders nothing: it is applied to the
// current state directly. Any other event forks and replays.
func (g *Graph) Append(n *Node) (guild.Changes, bool) {
	if changes, applied, decided := g.Defer(n); decided {
		return changes, applied
	}
	changes, applied := g.Settle()
	return changes, applied[n]
}

// Defer adds a state event like Append, but when it forks it leaves the
// current state to Settle, so that many events (a healed partition) cost one
// replay. decided reports whether the event was folded already, and then
// changes and applied are Append's.
func (g *Graph) Defer(n *Node) (changes guild.Changes, applied, decided bool) {
	if g.link(n) {
		changes, applied = Step(g.cur, n, g)
		g.snapshot(n)
		return changes, applied, true
	}
	// Keep the state after n along its ancestry for n's successor.
	s := g.StateBefore(n.Parents)
	if s == g.cur {
		s = s.Clone()
	}
	Step(s, n, g)
	g.branchOf, g.branch = n, s
	g.scratchFor, g.scratch = nil, nil
	g.dirty = true
	return nil, false, false
}

// Settle folds what Defer left into the current state. It returns the
// objects whose projection may have changed and which deferred events took
// effect.
func (g *Graph) Settle() (guild.Changes, map[*Node]bool) {
	if !g.dirty {
		return nil, nil
	}
	s, applied := g.replay()
	changes := guild.Diff(g.cur, s)
	g.cur = s
	g.dirty = false
	g.snapshot(g.list[len(g.list)-1])
	return changes, applied
}

// AppendBatch adds state events in an order where parents come first
// (parents in the graph or earlier in nodes) and updates the current state
// once: a healed partition costs one replay instead of one per event. It
// returns the objects whose projection may have changed and, per node,
// whether it took effect in the current state.
func (g *Graph) AppendBatch(nodes []*Node) (guild.Changes, []bool) {
	var changes guild.Changes
	applied := make([]bool, len(nodes))
	var deferred []int
	for i, n := range nodes {
		ch, ok, decided := g.Defer(n)
		changes = append(changes, ch...)
		applied[i] = ok
		if !decided {
			deferred = append(deferred, i)
		}
	}
	ch, settled := g.Settle()
	for _, i := range deferred {
		applied[i] = settled[nodes[i]]
	}
	return append(changes, ch...), applied
}

// link adds n to the graph without folding it and reports whether it may
// be applied to the current state directly (its parents were the heads).
// When it forks, the checkpoints it does not descend from no longer order
// every event and are dropped.
func (g *Graph) link(n *Node) bool {
	fast := !g.dirty && g.isHeadSet(n.Parents)
	n.index = len(g.list)
	n.cp = cpOf(n.Parents)
	for _, p := range n.Parents {
		n.Depth = max(n.Depth, p.Depth+1)
		p.children = append(p.children, n)
		delete(g.heads, p)
	}
	g.nodes[n.ID] = n
	g.list = append(g.list, n)
	g.heads[n] = struct{}{}
	if !fast {
		i := sort.Search(len(g.checkpoints), func(i int) bool { return g.checkpoints[i].index > n.cp })
		g.checkpoints = g.checkpoints[:i]
	}
	g.sinceSnap++
	return fast
}

// replay folds every event after the newest checkpoint onto a copy of its
// state.
func (g *Graph) replay() (*guild.State, map[*Node]bool) {
	base := g.checkpoints[len(g.checkpoints)-1]
	s := base.state.Clone()
	return s, g.fold(s, g.list[base.index+1:])
}

// snapshot makes n, the newest event, a checkpoint when it is the single
// head and enough events passed since the last one, then thins the older
// ones.
func (g *Graph) snapshot(n *Node) {
	if len(g.heads) == 1 && g.sinceSnap >= snapshotEvery {
		g.checkpoints = append(g.checkpoints, checkpoint{index: n.index, state: g.cur.Clone()})
		n.cp = n.index
		g.sinceSnap = 0
		g.thin()
	}
}

// keepRecent is how many of the newest checkpoints thin always keeps.
const keepRecent = 4

// thin keeps the empty state, the keepRecent newest checkpoints, and of
// the older ones the newest in each span of ages from 2^k to 2^(k+1)
// snapshot intervals: O(log n) states in memory rather than one per 64
// events. A fork far back then replays from further back; dropping a
// checkpoint never changes a result (spec/state-resolution.md,
// "Checkpoints").
func (g *Graph) thin() {
	cps := g.checkpoints
	if len(cps) <= keepRecent+2 {
		return
	}
	newest := cps[len(cps)-1].index
	var older []checkpoint // newest first
	lastSpan := -1
	for i := len(cps) - keepRecent - 1; i >= 1; i-- {
		span := bits.Len(uint((newest - cps[i].index) / snapshotEvery))
		if span != lastSpan {
			lastSpan = span
			older = append(older, cps[i])
		}
	}
	slices.Reverse(older)
	kept := append(append([]checkpoint{cps[0]}, older...), cps[len(cps)-keepRecent:]...)
	g.checkpoints = kept
}

// fold replays set in resolution order onto s and reports which nodes took
// effect.
func (g *Graph) fold(s *guild.State, set []*Node) map[*Node]bool {
	g.epoch++
	applied := make(map[*Node]bool, len(set))
	for _, n := range Order(set, g.epoch) {
		if _, ok := Step(s, n, g); ok {
			applied[n] = true
		}
	}
	return applied
}

// baseFor returns the newest checkpoint at or before index cp.
func (g *Graph) baseFor(cp int) checkpoint {
	i := sort.Search(len(g.checkpoints), func(i int) bool { return g.checkpoints[i].index > cp })
	return g.checkpoints[i-1]
}

// ancestorsAfter lists parents and their ancestors that arrived after index.
func (g *Graph) ancestorsAfter(parents []*Node, index int) []*Node {
	g.epoch++
	var out []*Node
	stack := append([]*Node(nil), parents...)
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n.index <= index || n.mark == g.epoch {
			continue
		}
		n.mark = g.epoch
		out = append(out, n)
		stack = append(stack, n.Parents...)
	}
	return out
}

// IsAncestor reports whether state event a is an ancestor of state event b.
func (g *Graph) IsAncestor(a, b string) bool {
	na, nb := g.nodes[a], g.nodes[b]
	if na == nil || nb == nil || na == nb {
		return false
	}
	seen := map[*Node]bool{}
	stack := append([]*Node(nil), nb.Parents...)
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n == na {
			return true
		}
		if seen[n] || n.Depth <= na.Depth {
			continue
		}
		seen[n] = true
		stack = append(stack, n.Parents...)
	}
	return false
}

// cpOf is the newest checkpoint an event with these parents descends from.
func cpOf(parents []*Node) int {
	cp := -1
	for _, p := range parents {
		cp = max(cp, p.cp)
	}
	return cp
}
