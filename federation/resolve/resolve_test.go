package resolve

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand"
	"runtime"
	"slices"
	"testing"
	"time"

	"concord/federation/guild"
	"concord/federation/perm"
)

var (
	flagCases  = flag.Int("resolve.cases", 2000, "random histories TestConvergence builds")
	flagEvents = flag.Int("resolve.events", 40, "authoring steps per random history")
	flagSeed   = flag.Int64("resolve.seed", 0, "first seed of TestConvergence (0: from the clock)")
)

const gid = 100

// Users 1..12; user u's home is node n(u mod origins). User 1 creates the
// guild. Roles and channels get IDs from 200 and 300 up.
const (
	ownerID   = 1
	lastUser  = 12
	adminRole = 200
	modRole   = 201
	helpRole  = 202
	lowRole   = 203
	general   = 300
)

const modBits = perm.KickMembers | perm.BanMembers | perm.ManageRoles | perm.ManageChannels |
	perm.ManageNicknames | perm.ModerateMembers

// palette is what random roles and overwrites grant.
var palette = []perm.Bits{perm.KickMembers, perm.BanMembers, perm.ManageRoles, perm.ManageChannels,
	perm.ManageNicknames, perm.ViewChannel, perm.SendMessages, perm.CreateInstantInvite, perm.ManageGuild}

// history is a guild's state events in the order they were authored
// (parents first), with the rank each author computed.
type history struct {
	ops     []*guild.Op
	parents [][]string
	ranks   []uint64
	index   map[string]int
}

func (h *history) add(op *guild.Op, parents []*Node, rank uint64) {
	ids := make([]string, len(parents))
	for i, p := range parents {
		ids[i] = p.ID
	}
	h.index[op.EventID] = len(h.ops)
	h.ops = append(h.ops, op)
	h.parents = append(h.parents, ids)
	h.ranks = append(h.ranks, rank)
}

// author builds random histories the way nodes do: each replica authors on
// top of its own heads, checking every event against the state before it,
// and now and then learns another replica's heads (its next event merges).
type author struct {
	rng     *rand.Rand
	w       *Graph // every event, as authored
	h       *history
	origins int
	heads   [][]*Node // per replica
	ts      int64
	nextID  guild.ID
	create  string
	view    *guild.State // StateBefore(heads[viewOf]), until the next event
	viewOf  int
}

func newAuthor(rng *rand.Rand, replicas int) *author {
	return &author{rng: rng, w: NewGraph(), h: &history{index: map[string]int{}}, origins: replicas,
		heads: make([][]*Node, replicas), ts: 1_600_000_000_000, nextID: 1000}
}

func (a *author) home(u guild.ID) string { return fmt.Sprintf("n%d", int(u)%a.origins) }

// emit authors an event on replica k's view if the auth rules allow it.
func (a *author) emit(k int, sender guild.ID, typ, content string, auth ...string) bool {
	parents := a.heads[k]
	st := a.state(k)
	a.ts += int64(1 + a.rng.Intn(1000))
	op := &guild.Op{EventID: fmt.Sprintf("$%016x", a.rng.Uint64()), GuildID: gid, Type: typ, Sender: sender,
		Origin: a.home(sender), TS: a.ts, Content: []byte(content)}
	if typ != guild.TypeGuildCreate {
		op.AuthEvents = append([]string{a.create}, auth...)
	}
	if guild.Check(st, op) != nil {
		return false
	}
	n := &Node{ID: op.EventID, Op: op, Parents: parents, Rank: st.Authority(sender)}
	a.h.add(op, parents, n.Rank)
	a.view = nil
	a.w.Append(n)
	a.heads[k] = []*Node{n}
	if typ == guild.TypeGuildCreate {
		a.create = op.EventID
	}
	return true
}

func (a *author) must(t testing.TB, k int, sender guild.ID, typ, content string, auth ...string) {
	t.Helper()
	if !a.emit(k, sender, typ, content, auth...) {
		op := &guild.Op{EventID: "$x", GuildID: gid, Type: typ, Sender: sender, Origin: a.home(sender), TS: a.ts,
			Content: []byte(content), AuthEvents: append([]string{a.create}, auth...)}
		t.Fatalf("setup %s by %d refused: %v", typ, sender, guild.Check(a.w.StateBefore(a.heads[k]), op))
	}
}

// setup builds the common base on replica 0's view and gives it to every
// replica: owner 1, admin 2, mods 3 and 4, helper 5, member 6 with the low
// role, members 7 and 8; users 9..12 may join later.
func (a *author) setup(t testing.TB) {
	a.must(t, 0, ownerID, guild.TypeGuildCreate, `{"id":"100","kind":"guild","name":"raid test"}`)
	a.must(t, 0, ownerID, guild.TypeRoleCreate, fmt.Sprintf(`{"id":"%d","name":"admin","position":4,"permissions":"%d"}`, adminRole, perm.Administrator))
	a.must(t, 0, ownerID, guild.TypeRoleCreate, fmt.Sprintf(`{"id":"%d","name":"mod","position":3,"permissions":"%d"}`, modRole, modBits))
	a.must(t, 0, ownerID, guild.TypeRoleCreate, fmt.Sprintf(`{"id":"%d","name":"helper","position":2,"permissions":"%d"}`, helpRole, perm.KickMembers|perm.ManageNicknames|perm.ManageRoles))
	a.must(t, 0, ownerID, guild.TypeRoleCreate, fmt.Sprintf(`{"id":"%d","name":"low","position":1}`, lowRole))
	a.must(t, 0, ownerID, guild.TypeChannelCreate, fmt.Sprintf(`{"id":"%d","type":0,"name":"general"}`, general))
	a.must(t, 0, ownerID, guild.TypeInviteCreate, fmt.Sprintf(`{"code":"base","channel_id":"%d","max_age":0,"max_uses":0}`, general))
	inv := a.w.State().Invites["base"].EventID
	for u := guild.ID(2); u <= 8; u++ {
		a.must(t, 0, u, guild.TypeMemberJoin, `{"invite_code":"base"}`, inv)
	}
	for u, r := range map[guild.ID]guild.ID{2: adminRole, 3: modRole, 4: modRole, 5: helpRole, 6: lowRole} {
		a.must(t, 0, ownerID, guild.TypeMemberUpdate, fmt.Sprintf(`{"user_id":"%d","roles_add":["%d"]}`, u, r))
	}
	for k := range a.heads {
		a.heads[k] = a.heads[0]
	}
	a.view = nil
}

// state is the state before an event replica k would author now.
func (a *author) state(k int) *guild.State {
	if a.view == nil || a.viewOf != k {
		a.view, a.viewOf = a.w.StateBefore(a.heads[k]), k
	}
	return a.view
}

// sync gives replica k what replica j knows: its heads become the newest
// events of both views.
func (a *author) sync(k, j int) {
	all := append(slices.Clone(a.heads[k]), a.heads[j]...)
	var heads []*Node
	for _, n := range all {
		if slices.Contains(heads, n) {
			continue
		}
		covered := false
		for _, m := range all {
			if m != n && a.w.IsAncestor(n.ID, m.ID) {
				covered = true
				break
			}
		}
		if !covered {
			heads = append(heads, n)
		}
	}
	slices.SortFunc(heads, func(x, y *Node) int { return cmpStr(x.ID, y.ID) })
	a.heads[k] = heads
	a.view = nil
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (a *author) pick(ids []guild.ID) guild.ID {
	if len(ids) == 0 {
		return 0
	}
	return ids[a.rng.Intn(len(ids))]
}

func (a *author) bits() perm.Bits {
	var b perm.Bits
	for _, p := range palette {
		if a.rng.Intn(3) == 0 {
			b |= p
		}
	}
	if a.rng.Intn(10) == 0 {
		b |= perm.Administrator
	}
	return b
}

func sortedKeys[V any](m map[guild.ID]V) []guild.ID {
	out := make([]guild.ID, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// step tries one random action on replica k's view; most tries are refused
// by the auth rules and leave no event.
func (a *author) step(k int) bool {
	st := a.state(k)
	members := sortedKeys(st.Members)
	var local []guild.ID
	for _, u := range members {
		if a.home(u) == fmt.Sprintf("n%d", k) {
			local = append(local, u)
		}
	}
	roles := sortedKeys(st.Roles)
	channels := sortedKeys(st.Channels)
	sender := a.pick(local)
	target := a.pick(members)
	role := a.pick(roles)
	channel := a.pick(channels)
	f := fmt.Sprintf
	switch a.rng.Intn(17) {
	case 0, 1: // join through an invite this view knows
		var joiners []guild.ID
		for u := guild.ID(2); u <= lastUser; u++ {
			if a.home(u) == fmt.Sprintf("n%d", k) && st.Members[u] == nil {
				joiners = append(joiners, u)
			}
		}
		codes := make([]string, 0, len(st.Invites))
		for c := range st.Invites {
			codes = append(codes, c)
		}
		slices.Sort(codes)
		if len(joiners) == 0 || len(codes) == 0 {
			return false
		}
		inv := st.Invites[codes[a.rng.Intn(len(codes))]]
		return a.emit(k, a.pick(joiners), guild.TypeMemberJoin, f(`{"invite_code":%q}`, inv.Code), inv.EventID)
	case 2:
		if a.rng.Intn(2) == 0 {
			target = sender
		}
		return a.emit(k, sender, guild.TypeMemberUpdate, f(`{"user_id":"%d","nick":"nick%d"}`, target, a.rng.Intn(100)))
	case 3, 4:
		verb := "roles_add"
		if a.rng.Intn(3) == 0 {
			verb = "roles_remove"
		}
		return a.emit(k, sender, guild.TypeMemberUpdate, f(`{"user_id":"%d",%q:["%d"]}`, target, verb, role))
	case 5:
		a.nextID++
		return a.emit(k, sender, guild.TypeRoleCreate, f(`{"id":"%d","position":%d,"permissions":"%d"}`, a.nextID, 1+a.rng.Intn(5), a.bits()))
	case 6:
		if a.rng.Intn(2) == 0 || role == gid {
			return a.emit(k, sender, guild.TypeRoleUpdate, f(`{"id":"%d","permissions":"%d"}`, role, a.bits()))
		}
		return a.emit(k, sender, guild.TypeRoleUpdate, f(`{"id":"%d","position":%d}`, role, 1+a.rng.Intn(5)))
	case 7:
		return a.emit(k, sender, guild.TypeRoleDelete, f(`{"id":"%d"}`, role))
	case 8:
		a.nextID++
		return a.emit(k, sender, guild.TypeChannelCreate, f(`{"id":"%d","type":0,"name":"c%d"}`, a.nextID, a.nextID))
	case 9:
		return a.emit(k, sender, guild.TypeChannelDelete, f(`{"id":"%d"}`, channel))
	case 10:
		typ, id := 0, role
		if a.rng.Intn(2) == 0 {
			typ, id = 1, target
		}
		return a.emit(k, sender, guild.TypeChannelOverwrite, f(`{"channel_id":"%d","id":"%d","type":%d,"allow":"%d","deny":"%d"}`,
			channel, id, typ, a.bits()&perm.ChannelMask, a.bits()&perm.ChannelMask))
	case 11:
		return a.emit(k, sender, guild.TypeMemberKick, f(`{"user_id":"%d"}`, target))
	case 12, 13:
		if a.rng.Intn(3) == 0 {
			target = guild.ID(2 + a.rng.Intn(lastUser-1))
		}
		return a.emit(k, sender, guild.TypeMemberBan, f(`{"user_id":"%d"}`, target))
	case 14:
		return a.emit(k, sender, guild.TypeMemberUnban, f(`{"user_id":"%d"}`, a.pick(sortedKeys(st.Bans))))
	case 15:
		a.nextID++
		return a.emit(k, sender, guild.TypeInviteCreate, f(`{"code":"i%d","channel_id":"%d","max_age":0,"max_uses":%d}`, a.nextID, channel, a.rng.Intn(3)))
	default:
		if a.rng.Intn(2) == 0 {
			return a.emit(k, st.OwnerID(), guild.TypeGuildTransfer, f(`{"new_owner_id":"%d"}`, target))
		}
		return a.emit(k, sender, guild.TypeMemberLeave, `{}`)
	}
}

// randomHistory authors a guild history with replicas concurrent branches.
func randomHistory(t testing.TB, rng *rand.Rand, replicas, steps int) *author {
	a := newAuthor(rng, replicas)
	a.setup(t)
	for range steps {
		k := rng.Intn(replicas)
		if rng.Intn(5) == 0 {
			a.sync(k, rng.Intn(replicas))
			continue
		}
		for range 20 {
			if a.step(k) {
				break
			}
		}
	}
	return a
}

// topo returns the indices of in (a set closed under parents, apart from
// those in done) in a random order with parents first.
func topo(rng *rand.Rand, h *history, in []bool, done []bool) []int {
	indeg := make([]int, len(h.ops))
	children := make([][]int, len(h.ops))
	var ready, out []int
	for i := range h.ops {
		if !in[i] {
			continue
		}
		for _, p := range h.parents[i] {
			if j := h.index[p]; in[j] && !done[j] {
				indeg[i]++
				children[j] = append(children[j], i)
			}
		}
		if indeg[i] == 0 {
			ready = append(ready, i)
		}
	}
	for len(ready) > 0 {
		r := rng.Intn(len(ready))
		i := ready[r]
		ready[r] = ready[len(ready)-1]
		ready = ready[:len(ready)-1]
		out = append(out, i)
		for _, c := range children[i] {
			if indeg[c]--; indeg[c] == 0 {
				ready = append(ready, c)
			}
		}
	}
	return out
}

// arrival is a random order in which a node may receive h: parents first,
// and with a partition, first everything some events descend from, then the
// rest.
func arrival(rng *rand.Rand, h *history) []int {
	all := make([]bool, len(h.ops))
	none := make([]bool, len(h.ops))
	for i := range all {
		all[i] = true
	}
	if rng.Intn(2) == 0 {
		return topo(rng, h, all, none)
	}
	first := make([]bool, len(h.ops))
	var mark func(i int)
	mark = func(i int) {
		if first[i] {
			return
		}
		first[i] = true
		for _, p := range h.parents[i] {
			mark(h.index[p])
		}
	}
	for range 1 + rng.Intn(2) {
		mark(rng.Intn(len(h.ops)))
	}
	order := topo(rng, h, first, none)
	rest := make([]bool, len(h.ops))
	for i := range rest {
		rest[i] = !first[i]
	}
	return append(order, topo(rng, h, rest, first)...)
}

// replicate appends h to a new Graph in the given order, one by one or in
// random batches, and checks that each event is accepted with the rank its
// author computed, as a receiving node would.
func replicate(t testing.TB, rng *rand.Rand, h *history, order []int, verify bool) *Graph {
	t.Helper()
	g := NewGraph()
	batch := rng.Intn(3) == 0
	var pending []*Node
	for _, i := range order {
		op := h.ops[i]
		n := &Node{ID: op.EventID, Op: op, Rank: h.ranks[i]}
		for _, p := range h.parents[i] {
			pn := g.Node(p)
			if pn == nil {
				for _, q := range pending {
					if q.ID == p {
						pn = q
					}
				}
			}
			n.Parents = append(n.Parents, pn)
		}
		if verify && len(pending) == 0 {
			st := g.StateBefore(n.Parents)
			if err := guild.Check(st, op); err != nil {
				t.Fatalf("event %d (%s) refused by a receiver: %v", i, op.Type, err)
			}
			if r := st.Authority(op.Sender); r != n.Rank {
				t.Fatalf("event %d (%s): receiver ranks %x, author %x", i, op.Type, r, n.Rank)
			}
		}
		if !batch {
			g.Append(n)
			continue
		}
		pending = append(pending, n)
		if rng.Intn(8) == 0 {
			g.AppendBatch(pending)
			pending = nil
		}
	}
	if len(pending) > 0 {
		g.AppendBatch(pending)
	}
	return g
}

// ancestry answers IsAncestor from parent links alone.
type ancestry map[string]*Node

func (a ancestry) IsAncestor(x, y string) bool {
	seen := map[*Node]bool{}
	stack := slices.Clone(a[y].Parents)
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n.ID == x {
			return true
		}
		if !seen[n] {
			seen[n] = true
			stack = append(stack, n.Parents...)
		}
	}
	return false
}

// scratch is the definition: the fold of Order over every event, on nodes
// of its own. check sees the state before and after each step.
func scratch(h *history, check func(before, after *guild.State, n *Node, applied bool)) *guild.State {
	nodes := ancestry{}
	all := make([]*Node, len(h.ops))
	for i, op := range h.ops {
		n := &Node{ID: op.EventID, Op: op, Rank: h.ranks[i]}
		for _, p := range h.parents[i] {
			pn := nodes[p]
			n.Parents = append(n.Parents, pn)
			n.Depth = max(n.Depth, pn.Depth+1)
			pn.children = append(pn.children, n)
		}
		nodes[n.ID] = n
		all[i] = n
	}
	s := guild.New()
	for _, n := range Order(all, 1) {
		var before *guild.State
		if check != nil {
			before = s.Clone()
		}
		_, ok := Step(s, n, nodes)
		if check != nil {
			check(before, s, n, ok)
		}
	}
	return s
}

// checkInvariants checks the properties of spec/state-resolution.md ("The
// properties") on the fold of h.
func checkInvariants(t testing.TB, h *history, final *guild.State) {
	t.Helper()
	nodes := ancestry{}
	transferred := map[guild.ID]bool{ownerID: true}
	scratch(h, func(before, after *guild.State, n *Node, applied bool) {
		nodes[n.ID] = n
		if after.OwnerID() != before.OwnerID() && n.Op.Type != guild.TypeGuildCreate {
			if n.Op.Type != guild.TypeGuildTransfer || n.Op.Sender != before.OwnerID() {
				t.Fatalf("owner moved from %d to %d by %s from %d", before.OwnerID(), after.OwnerID(), n.Op.Type, n.Op.Sender)
			}
		}
		if n.Op.Type == guild.TypeGuildTransfer && applied {
			transferred[n.Op.Body().(*guild.GuildTransfer).NewOwnerID] = true
		}
	})
	// Bans win: every ban stands unless an unban of the same user descends
	// from it, or its target was an owner (whom no ban removes).
	for _, n := range nodes {
		if n.Op.Type != guild.TypeMemberBan {
			continue
		}
		u := n.Op.Body().(*guild.MemberBan).UserID
		if final.Bans[u] != nil || transferred[u] {
			continue
		}
		lifted := false
		for _, m := range nodes {
			if m.Op.Type == guild.TypeMemberUnban && m.Op.Body().(*guild.MemberTarget).UserID == u && nodes.IsAncestor(n.ID, m.ID) {
				lifted = true
				break
			}
		}
		if !lifted {
			t.Fatalf("ban %s of %d fell away without an unban descending from it", n.ID, u)
		}
	}
	for u := range final.Bans {
		if final.Members[u] != nil {
			t.Fatalf("banned user %d is a member", u)
		}
	}
}

func TestConvergence(t *testing.T) {
	seed := *flagSeed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	t.Logf("seeds from %d (-resolve.seed to repeat)", seed)
	// Checkpoints every 64 events (as nodes run) and every 3, so that the
	// small histories here replay from checkpoints too.
	for _, every := range []int{64, 3} {
		t.Run(fmt.Sprintf("snapshotEvery=%d", every), func(t *testing.T) {
			saved := snapshotEvery
			snapshotEvery = every
			t.Cleanup(func() { snapshotEvery = saved })
			workers := max(1, runtime.GOMAXPROCS(0))
			for w := range workers {
				t.Run(fmt.Sprint(w), func(t *testing.T) {
					t.Parallel()
					events := 0
					for c := w; c < *flagCases/2; c += workers {
						events += convergeOnce(t, seed+int64(c))
						if t.Failed() {
							return
						}
					}
					t.Logf("%d state events", events)
				})
			}
		})
	}
}

// convergeOnce authors one random history and checks that five receivers,
// the authoring graph and the fold of Order agree on its state.
func convergeOnce(t *testing.T, seed int64) int {
	t.Helper()
	rng := rand.New(rand.NewSource(seed))
	steps := *flagEvents
	a := randomHistory(t, rng, 3+rng.Intn(3), steps/2+rng.Intn(steps/2+1))
	h := a.h
	want := scratch(h, nil).Canonical()
	if got := a.w.State().Canonical(); !bytes.Equal(got, want) {
		t.Fatalf("seed %d: authoring graph differs from the fold of Order:\n got %s\nwant %s", seed, got, want)
	}
	for r := range 5 {
		g := replicate(t, rng, h, arrival(rng, h), r == 0)
		if got := g.State().Canonical(); !bytes.Equal(got, want) {
			t.Fatalf("seed %d: receiver %d differs:\n got %s\nwant %s", seed, r, got, want)
		}
		if g.State().Hash() != a.w.State().Hash() {
			t.Fatalf("seed %d: receiver %d hash differs", seed, r)
		}
	}
	checkInvariants(t, h, a.w.State())
	return len(h.ops)
}

// A long single-head history keeps O(log n) checkpoints, the newest ones
// among them, and the state stays that of the definition.
func TestCheckpointsThinned(t *testing.T) {
	a := newAuthor(rand.New(rand.NewSource(1)), 1)
	a.setup(t)
	for i := range 5000 {
		a.must(t, 0, ownerID, guild.TypeMemberUpdate, fmt.Sprintf(`{"user_id":"5","nick":"n%d"}`, i))
	}
	g := a.w
	if n := len(g.checkpoints); n > keepRecent+2+12 {
		t.Errorf("%d checkpoints for %d events", n, g.Len())
	}
	if !slices.IsSortedFunc(g.checkpoints, func(a, b checkpoint) int { return a.index - b.index }) {
		t.Error("checkpoints out of order")
	}
	if last := g.checkpoints[len(g.checkpoints)-1].index; g.Len()-1-last >= snapshotEvery {
		t.Errorf("newest checkpoint at %d of %d events", last, g.Len())
	}
	want := NewGraph()
	want.AppendBatch(nodesOf(a.h, len(a.h.ops)))
	if g.State().Hash() != want.State().Hash() {
		t.Error("state differs from the batch fold")
	}
}
