package resolve

import (
	"flag"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"concord/federation/guild"
)

var flagSlow = flag.Bool("resolve.slow", false, "also benchmark appending a 5,000-event fork one event at a time")

// forkHistory authors a common base and two forks of n state events each,
// as two nodes partitioned from each other would: nick changes, role
// assignments and edits, channel edits by the owner, the admin and two
// mods. It returns the history and the index where each fork starts.
func forkHistory(b *testing.B, n int) (h *history, startA, startB int) {
	fork := func(seed int64) *author {
		a := newAuthor(rand.New(rand.NewSource(1)), 1)
		a.setup(b)
		a.rng = rand.New(rand.NewSource(seed))
		for made := 0; made < n; {
			if forkStep(a) {
				made++
			}
		}
		return a
	}
	a, c := fork(2), fork(3)
	base := len(a.h.ops) - n
	h = a.h
	for i := base; i < len(c.h.ops); i++ {
		h.index[c.h.ops[i].EventID] = len(h.ops)
		h.ops = append(h.ops, c.h.ops[i])
		h.parents = append(h.parents, c.h.parents[i])
		h.ranks = append(h.ranks, c.h.ranks[i])
	}
	return h, base, base + n
}

func forkStep(a *author) bool {
	senders := []guild.ID{ownerID, 2, 3, 4}
	sender := senders[a.rng.Intn(len(senders))]
	target := guild.ID(5 + a.rng.Intn(4))
	f := fmt.Sprintf
	switch a.rng.Intn(5) {
	case 0:
		return a.emit(0, sender, guild.TypeMemberUpdate, f(`{"user_id":"%d","nick":"n%d"}`, target, a.rng.Intn(1000)))
	case 1:
		verb := "roles_add"
		if a.rng.Intn(2) == 0 {
			verb = "roles_remove"
		}
		return a.emit(0, sender, guild.TypeMemberUpdate, f(`{"user_id":"%d",%q:["%d"]}`, target, verb, lowRole))
	case 2:
		return a.emit(0, sender, guild.TypeRoleUpdate, f(`{"id":"%d","color":%d,"permissions":"%d"}`, lowRole, a.rng.Intn(1<<24), a.bits()&modBits))
	case 3:
		return a.emit(0, sender, guild.TypeChannelUpdate, f(`{"id":"%d","topic":"t%d"}`, general, a.rng.Intn(1000)))
	default:
		return a.emit(0, sender, guild.TypeChannelOverwrite, f(`{"channel_id":"%d","id":"%d","type":1,"allow":"%d","deny":"0"}`,
			general, target, a.bits()&modBits))
	}
}

// nodesOf makes fresh nodes for h[:end], linked as Graph links them.
func nodesOf(h *history, end int) []*Node {
	byID := map[string]*Node{}
	out := make([]*Node, end)
	for i := range end {
		op := h.ops[i]
		n := &Node{ID: op.EventID, Op: op, Rank: h.ranks[i]}
		for _, p := range h.parents[i] {
			n.Parents = append(n.Parents, byID[p])
		}
		byID[n.ID] = n
		out[i] = n
	}
	return out
}

// graphOf returns a graph holding h[:end] appended in order.
func graphOf(h *history, end int) (*Graph, map[string]*Node) {
	g := NewGraph()
	for _, n := range nodesOf(h, end) {
		g.Append(n)
	}
	return g, g.nodes
}

// rest makes nodes for h[from:] whose parents are g's nodes or each other.
func rest(h *history, from int, g *Graph) []*Node {
	byID := map[string]*Node{}
	var out []*Node
	for i := from; i < len(h.ops); i++ {
		op := h.ops[i]
		n := &Node{ID: op.EventID, Op: op, Rank: h.ranks[i]}
		for _, p := range h.parents[i] {
			pn := g.Node(p)
			if pn == nil {
				pn = byID[p]
			}
			n.Parents = append(n.Parents, pn)
		}
		byID[n.ID] = n
		out = append(out, n)
	}
	return out
}

func reportMS(b *testing.B, start time.Time) {
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/resolution")
}

// BenchmarkResolveForks times healing a partition: two forks of 5,000 state
// events from a common base. fold is the definition (Order and Step over
// both forks, from the base's state); batch is a node holding one fork
// taking the other with AppendBatch; append/N takes it one Append at a
// time, which replays at every event (quadratic; 5,000 only with
// -resolve.slow).
func BenchmarkResolveForks(b *testing.B) {
	const n = 5000
	h, startA, startB := forkHistory(b, n)
	want := scratch(h, nil).Hash()

	b.Run("fold", func(b *testing.B) {
		all := nodesOf(h, len(h.ops))
		for _, n := range all {
			for _, p := range n.Parents {
				n.Depth = max(n.Depth, p.Depth+1)
				p.children = append(p.children, n)
			}
		}
		env := ancestry{}
		for _, n := range all {
			env[n.ID] = n
		}
		base := guild.New()
		for _, n := range all[:startA] {
			Step(base, n, env)
		}
		set := all[startA:]
		var s *guild.State
		b.ResetTimer()
		start := time.Now()
		for i := range b.N {
			s = base.Clone()
			for _, n := range Order(set, uint32(i+1)) {
				Step(s, n, env)
			}
		}
		reportMS(b, start)
		b.StopTimer()
		if s.Hash() != want {
			b.Fatal("fold differs")
		}
	})

	b.Run("batch", func(b *testing.B) {
		var elapsed time.Duration
		var g *Graph
		for range b.N {
			g, _ = graphOf(h, startB)
			nodes := rest(h, startB, g)
			start := time.Now()
			g.AppendBatch(nodes)
			elapsed += time.Since(start)
		}
		b.ReportMetric(float64(elapsed.Microseconds())/1000/float64(b.N), "ms/resolution")
		if g.State().Hash() != want {
			b.Fatal("AppendBatch differs")
		}
	})

	sizes := []int{250, 500, 1000}
	if *flagSlow {
		sizes = append(sizes, n)
	}
	for _, m := range sizes {
		b.Run(fmt.Sprintf("append/%d", m), func(b *testing.B) {
			hm, _, startBm := forkHistory(b, m)
			var elapsed time.Duration
			for range b.N {
				g, _ := graphOf(hm, startBm)
				nodes := rest(hm, startBm, g)
				start := time.Now()
				for _, n := range nodes {
					g.Append(n)
				}
				elapsed += time.Since(start)
			}
			b.ReportMetric(float64(elapsed.Microseconds())/1000/float64(b.N), "ms/resolution")
		})
	}
}
