// Package resolve is Concord's state resolution (spec/state-resolution.md):
// the deterministic order in which a guild's state events are folded into
// its state, whatever order they arrived in, and the fold itself.
//
// The state of a set of events is the fold, through the guild auth rules, of
// its state events in resolution order: a topological order of the state
// DAG in which, among events that are ready together (concurrent), the one
// whose branch carries the most authority goes first. Graph keeps one
// guild's state DAG and the current state incrementally: an event that
// extends the single head is applied in O(1); an event that forks replays
// only from the last checkpoint every event is ordered against.
//
// Only the federation core imports it.
package resolve

import (
	"container/heap"

	"concord/federation/guild"
)

// Node is one state event in the state DAG.
type Node struct {
	ID      string
	Op      *guild.Op
	Parents []*Node // nearest state events among the event's ancestors
	Rank    uint64  // the sender's authority in the state before the event
	Depth   int     // 1 + the deepest parent; 0 for guild.create

	children []*Node
	index    int // arrival order in its Graph
	cp       int // index of the newest checkpoint this node descends from (or is)

	// scratch for Order
	prio  uint64
	indeg int
	mark  uint32
}

// merge reports whether n joins branches: it has more than one parent.
func (n *Node) merge() bool { return len(n.Parents) > 1 }

// Order returns the resolution order of the nodes in set, which must be
// closed under "parent in set and after the base" (every parent is either in
// set or ordered before all of it). See spec/state-resolution.md, "Order".
func Order(set []*Node, epoch uint32) []*Node {
	for _, n := range set {
		n.mark = epoch
	}
	// Priority: the highest rank on the node's own branch, i.e. on the node
	// and the chain of its descendants that merge nothing else in.
	byDepth := make([]*Node, len(set))
	copy(byDepth, set)
	sortByDepthDesc(byDepth)
	for _, n := range byDepth {
		n.prio = n.Rank
		for _, c := range n.children {
			if c.mark == epoch && !c.merge() && c.prio > n.prio {
				n.prio = c.prio
			}
		}
	}
	ready := &readyHeap{}
	for _, n := range set {
		n.indeg = 0
		for _, p := range n.Parents {
			if p.mark == epoch {
				n.indeg++
			}
		}
		if n.indeg == 0 {
			heap.Push(ready, n)
		}
	}
	out := make([]*Node, 0, len(set))
	for ready.Len() > 0 {
		n := heap.Pop(ready).(*Node)
		out = append(out, n)
		for _, c := range n.children {
			if c.mark == epoch {
				if c.indeg--; c.indeg == 0 {
					heap.Push(ready, c)
				}
			}
		}
	}
	return out
}

// readyHeap pops the node to fold next: highest branch priority, then
// highest own rank, then the smallest event ID (a hash no sender can steer
// without grinding, and which only ever orders equals).
type readyHeap []*Node

func (h readyHeap) Len() int { return len(h) }
func (h readyHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if a.prio != b.prio {
		return a.prio > b.prio
	}
	if a.Rank != b.Rank {
		return a.Rank > b.Rank
	}
	return a.ID < b.ID
}
func (h readyHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *readyHeap) Push(x any)   { *h = append(*h, x.(*Node)) }
func (h *readyHeap) Pop() any {
	old := *h
	n := old[len(old)-1]
	*h = old[:len(old)-1]
	return n
}

func sortByDepthDesc(nodes []*Node) {
	// Counting sort: depths are small dense integers.
	maxDepth := 0
	for _, n := range nodes {
		maxDepth = max(maxDepth, n.Depth)
	}
	buckets := make([][]*Node, maxDepth+1)
	for _, n := range nodes {
		buckets[n.Depth] = append(buckets[n.Depth], n)
	}
	i := 0
	for d := maxDepth; d >= 0; d-- {
		for _, n := range buckets[d] {
			nodes[i] = n
			i++
		}
	}
}

// Step folds one state event into s: bans stand once they passed the auth
// rules against the state before them; an unban lifts only a ban it
// descends from; everything else is re-checked against s. It reports
// whether the event changed s.
func Step(s *guild.State, n *Node, env guild.Env) (guild.Changes, bool) {
	op := n.Op
	if err := op.Prepare(); err != nil {
		return nil, false
	}
	switch op.Type {
	case guild.TypeMemberBan:
		return guild.ApplyBan(s, op)
	case guild.TypeMemberUnban:
		if guild.Check(s, op) != nil || !guild.CheckUnbanLifts(s, op, env) {
			return nil, false
		}
	default:
		if guild.Check(s, op) != nil {
			return nil, false
		}
	}
	return guild.Apply(s, op), true
}
