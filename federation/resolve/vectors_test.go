package resolve

import (
	"bytes"
	"concord/federation/vectors"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"concord/federation/guild"
	"concord/federation/perm"
)

const srVectorPath = "../../spec/test-vectors/state-resolution.json"

// srNode is a state event in the file (spec/state-resolution.md, "Test
// vectors"): the fields the auth rules see, its state parents and its rank.
type srNode struct {
	EventID    string          `json:"event_id"`
	GuildID    guild.ID        `json:"guild_id"`
	Type       string          `json:"type"`
	Sender     guild.ID        `json:"sender"`
	Origin     string          `json:"origin"`
	OriginTS   int64           `json:"origin_ts"`
	Content    json.RawMessage `json:"content"`
	AuthEvents []string        `json:"auth_events"`
	Parents    []string        `json:"parents"`
	Rank       uint64          `json:"rank,string"`
}

type srCase struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Nodes       []srNode `json:"nodes"`
	Order       []string `json:"order"`
	Applied     []string `json:"applied"`
	State       string   `json:"state"`
	StateSHA256 string   `json:"state_sha256"`
}

type srFile struct {
	Description string   `json:"description"`
	Cases       []srCase `json:"cases"`
}

// srPeer is the libp2p peer ID of test node name, from a fixed seed.
func srPeer(name string) string {
	seed := sha256.Sum256([]byte("concord test vector node " + name))
	priv, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(seed[:]))
	if err == nil {
		var id peer.ID
		if id, err = peer.IDFromPrivateKey(priv); err == nil {
			return id.String()
		}
	}
	// Only a broken key library gets here, and then no vector is right.
	panic("vector node " + name + ": " + err.Error())
}

// The base every case starts from. Users by home node: a: owner 1, admin 2;
// b: mods 3 and 4; c: helper 5, members 6, 7, 8; r: raiders 10–14.
const (
	svGuild                                    = 100
	svAdminRole, svModRole, svHelpRole, svLowR = 200, 201, 202, 203
	svGeneral                                  = 300
	svBase                                     = 1_700_000_000_000
)

var svHomes = map[guild.ID]string{1: "a", 2: "a", 3: "b", 4: "b", 5: "c", 6: "c", 7: "c", 8: "c",
	10: "r", 11: "r", 12: "r", 13: "r", 14: "r"}

const svModBits = perm.KickMembers | perm.BanMembers | perm.ManageRoles | perm.ManageChannels |
	perm.ManageNicknames | perm.ModerateMembers

// svDAG authors one case: every event passes the auth rules against the
// state before its parents and is ranked there, as a node would.
type svDAG struct {
	t      *testing.T
	c      srCase
	w      *Graph
	byName map[string]*Node
	ts     int64
	create string
	last   string
}

func newDAG(t *testing.T, name, desc string) *svDAG {
	return &svDAG{t: t, c: srCase{Name: name, Description: desc}, w: NewGraph(), byName: map[string]*Node{}, ts: svBase}
}

// emit adds event label with the events labelled parents as its state
// parents ("" for the previous event) and returns its label.
func (d *svDAG) emit(label string, parents []string, sender guild.ID, typ, content string, auth ...string) string {
	d.t.Helper()
	if _, dup := d.byName[label]; dup {
		d.t.Fatalf("%s: label %s twice", d.c.Name, label)
	}
	var ps []*Node
	var pids []string
	if parents == nil && d.last != "" {
		parents = []string{d.last}
	}
	for _, p := range parents {
		n := d.byName[p]
		if n == nil {
			d.t.Fatalf("%s: unknown parent %s", d.c.Name, p)
		}
		ps = append(ps, n)
		pids = append(pids, n.ID)
	}
	slices.Sort(pids)
	authIDs := []string{}
	if typ != guild.TypeGuildCreate {
		authIDs = append(authIDs, d.create)
	}
	for _, a := range auth {
		authIDs = append(authIDs, d.byName[a].ID)
	}
	slices.Sort(authIDs)
	d.ts += 1000
	op := &guild.Op{EventID: srEventID(d.c.Name + "/" + label), GuildID: svGuild, Type: typ, Sender: sender,
		Origin: srPeer(svHomes[sender]), TS: d.ts, Content: []byte(content), AuthEvents: authIDs}
	before := d.w.StateBefore(ps)
	if err := guild.Check(before, op); err != nil {
		d.t.Fatalf("%s: %s (%s by %d) refused: %v", d.c.Name, label, typ, sender, err)
	}
	n := &Node{ID: op.EventID, Op: op, Parents: ps, Rank: before.Authority(sender)}
	if pids == nil {
		pids = []string{}
	}
	d.c.Nodes = append(d.c.Nodes, srNode{EventID: op.EventID, GuildID: op.GuildID, Type: typ, Sender: sender,
		Origin: op.Origin, OriginTS: op.TS, Content: json.RawMessage(content), AuthEvents: authIDs,
		Parents: pids, Rank: n.Rank})
	d.w.Append(n)
	d.byName[label] = n
	if typ == guild.TypeGuildCreate {
		d.create = op.EventID
	}
	d.last = label
	return label
}

// on is a parent list.
func on(labels ...string) []string { return labels }

func srEventID(label string) string {
	sum := sha256.Sum256([]byte("state-res/" + label))
	return "$" + base64.RawURLEncoding.EncodeToString(sum[:])
}

func sf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// base authors the common start: guild, roles admin (4, ADMINISTRATOR), mod
// (3), helper (2: kick, nicknames, channels, roles), low (1); channel
// general; invite "base"; members 2–8; 2 admin, 3 and 4 mods, 5 helper, 6
// low. It returns the label of its last event.
func (d *svDAG) base() string {
	d.emit("create", nil, 1, guild.TypeGuildCreate, sf(`{"id":"%d","kind":"guild","name":"resolution"}`, svGuild))
	d.emit("role admin", nil, 1, guild.TypeRoleCreate, sf(`{"id":"%d","name":"admin","position":4,"permissions":"%d"}`, svAdminRole, perm.Administrator))
	d.emit("role mod", nil, 1, guild.TypeRoleCreate, sf(`{"id":"%d","name":"mod","position":3,"permissions":"%d"}`, svModRole, svModBits))
	d.emit("role helper", nil, 1, guild.TypeRoleCreate, sf(`{"id":"%d","name":"helper","position":2,"permissions":"%d"}`, svHelpRole, perm.KickMembers|perm.ManageNicknames|perm.ManageChannels|perm.ManageRoles))
	d.emit("role low", nil, 1, guild.TypeRoleCreate, sf(`{"id":"%d","name":"low","position":1}`, svLowR))
	d.emit("general", nil, 1, guild.TypeChannelCreate, sf(`{"id":"%d","type":0,"name":"general"}`, svGeneral))
	d.emit("invite base", nil, 1, guild.TypeInviteCreate, sf(`{"code":"base","channel_id":"%d","max_age":0,"max_uses":0}`, svGeneral))
	for u := 2; u <= 8; u++ {
		d.emit(sf("join %d", u), nil, guild.ID(u), guild.TypeMemberJoin, `{"invite_code":"base"}`, "invite base")
	}
	for _, ur := range [][2]int{{2, svAdminRole}, {3, svModRole}, {4, svModRole}, {5, svHelpRole}, {6, svLowR}} {
		d.emit(sf("grant %d", ur[0]), nil, 1, guild.TypeMemberUpdate, sf(`{"user_id":"%d","roles_add":["%d"]}`, ur[0], ur[1]))
	}
	return d.last
}

func srCases(t *testing.T) []*svDAG {
	var out []*svDAG

	d := newDAG(t, "linear history", "One chain: the base, then settings with characters the canonical state escapes, a channel with overwrites, a role taken away, an emoji, a kick, a ban and a departure. Every event takes effect.")
	d.base()
	d.emit("rename", nil, 2, guild.TypeGuildUpdate, `{"name":"Caf\u00e9 <&> \"q\" \ud83d\ude00","description":"tab\tnl\ncr\r ls\u2028 del\u007f slash/ back\\","afk_timeout":300}`)
	d.emit("news", nil, 3, guild.TypeChannelCreate, sf(`{"id":"301","type":0,"name":"news","topic":"n","permission_overwrites":[{"id":"7","type":1,"allow":"0","deny":"%d"},{"id":"%d","type":0,"allow":"0","deny":"%d"}]}`, perm.SendMessages, svGuild, perm.AddReactions))
	d.emit("overwrite gone", nil, 3, guild.TypeChannelOverwriteDelete, `{"channel_id":"301","id":"7"}`)
	d.emit("overwrite gone too", nil, 3, guild.TypeChannelOverwriteDelete, sf(`{"channel_id":"301","id":"%d"}`, svGuild))
	d.emit("untitle 6", nil, 3, guild.TypeMemberUpdate, sf(`{"user_id":"6","roles_remove":["%d"],"nick":"six"}`, svLowR))
	d.emit("emoji", nil, 2, guild.TypeEmojiCreate, sf(`{"id":"400","name":"blob","image":"sha256:blob","roles":["%d"]}`, svModRole))
	d.emit("kick 8", nil, 3, guild.TypeMemberKick, `{"user_id":"8","reason":"noise"}`)
	d.emit("ban 7", nil, 4, guild.TypeMemberBan, `{"user_id":"7","reason":"spam","delete_message_seconds":60}`)
	d.emit("6 leaves", nil, 6, guild.TypeMemberLeave, `{}`)
	d.emit("timeout 5", nil, 2, guild.TypeMemberUpdate, sf(`{"user_id":"5","communication_disabled_until":%d}`, svBase+3_600_000))
	out = append(out, d)

	d = newDAG(t, "demotion against a grant by the demoted", "Admin 2 takes the mod role from 3 while, concurrently, 3 gives member 7 the low role and bans member 6; 7 then changes its nick on top of both. The admin's branch folds first, so 3's grant is re-checked without the mod role and has no effect; 3's ban stands (bans win).")
	b := d.base()
	a1 := d.emit("demote 3", on(b), 2, guild.TypeMemberUpdate, sf(`{"user_id":"3","roles_remove":["%d"]}`, svModRole))
	b1 := d.emit("3 grants 7", on(b), 3, guild.TypeMemberUpdate, sf(`{"user_id":"7","roles_add":["%d"]}`, svLowR))
	b2 := d.emit("3 bans 6", on(b1), 3, guild.TypeMemberBan, `{"user_id":"6"}`)
	d.emit("7 nick", on(a1, b2), 7, guild.TypeMemberUpdate, `{"user_id":"7","nick":"seven"}`)
	out = append(out, d)

	d = newDAG(t, "concurrent bans, an unban that descends from one", "Mods 3 and 4 ban member 7 concurrently; 3 then unbans 7 on its own branch. The unban descends from 3's ban only, so whichever order the equal-rank branches fold in, 7 ends banned: either 4's ban is recorded beside 3's and the unban fails, or the unban lifts 3's ban and 4's ban is applied after it.")
	b = d.base()
	a1 = d.emit("3 bans 7", on(b), 3, guild.TypeMemberBan, `{"user_id":"7","reason":"three"}`)
	d.emit("3 unbans 7", on(a1), 3, guild.TypeMemberUnban, `{"user_id":"7"}`)
	d.emit("4 bans 7", on(b), 4, guild.TypeMemberBan, `{"user_id":"7","reason":"four"}`)
	out = append(out, d)

	d = newDAG(t, "an unban after both bans lifts them", "As before, then admin 2 unbans 7 in an event that merges both branches: it descends from both bans and lifts them.")
	b = d.base()
	a1 = d.emit("3 bans 7", on(b), 3, guild.TypeMemberBan, `{"user_id":"7","reason":"three"}`)
	a2 := d.emit("3 unbans 7", on(a1), 3, guild.TypeMemberUnban, `{"user_id":"7"}`)
	b1 = d.emit("4 bans 7", on(b), 4, guild.TypeMemberBan, `{"user_id":"7","reason":"four"}`)
	d.emit("2 unbans 7", on(a2, b1), 2, guild.TypeMemberUnban, `{"user_id":"7"}`)
	out = append(out, d)

	d = newDAG(t, "concurrent ownership transfers", "Owner 1 transfers the guild to admin 2 on one branch and to mod 3 on another. Both transfers have the owner's rank, so the event ID decides which folds first: that one moves ownership, and the other is re-checked and fails, as 1 no longer owns the guild. On the second branch mod 4 bans member 8, which stands either way. The new owner then renames the guild in an event that merges both branches.")
	b = d.base()
	a1 = d.emit("1 to 2", on(b), 1, guild.TypeGuildTransfer, `{"new_owner_id":"2"}`)
	b1 = d.emit("1 to 3", on(b), 1, guild.TypeGuildTransfer, `{"new_owner_id":"3"}`)
	b2 = d.emit("4 bans 8", on(b1), 4, guild.TypeMemberBan, `{"user_id":"8"}`)
	d.emit("new owner renames", on(a1, b2), d.w.StateBefore([]*Node{d.byName[a1], d.byName[b2]}).OwnerID(), guild.TypeGuildUpdate, `{"name":"new hands"}`)
	out = append(out, d)

	d = newDAG(t, "raid joins over a limited invite", "The owner creates an invite of three uses; five users join through it on three concurrent branches (two, two and one: each branch sees only its own uses). All rank 0, so event IDs order them; the fold counts uses across branches and admits exactly three. The owner then revokes the invite in a merge of all branches.")
	d.base()
	inv := d.emit("invite raid", nil, 1, guild.TypeInviteCreate, sf(`{"code":"raid","channel_id":"%d","max_age":0,"max_uses":3}`, svGeneral))
	d.emit("10 joins", on(inv), 10, guild.TypeMemberJoin, `{"invite_code":"raid"}`, "invite raid")
	a2 = d.emit("11 joins", nil, 11, guild.TypeMemberJoin, `{"invite_code":"raid"}`, "invite raid")
	d.emit("12 joins", on(inv), 12, guild.TypeMemberJoin, `{"invite_code":"raid"}`, "invite raid")
	b2 = d.emit("13 joins", nil, 13, guild.TypeMemberJoin, `{"invite_code":"raid"}`, "invite raid")
	c1 := d.emit("14 joins", on(inv), 14, guild.TypeMemberJoin, `{"invite_code":"raid"}`, "invite raid")
	d.emit("revoke", on(a2, b2, c1), 1, guild.TypeInviteRevoke, `{"code":"raid"}`)
	out = append(out, d)

	d = newDAG(t, "priority pulled through a non-merge chain", "Helper 5 sets general's topic and admin 2 then renames the guild on the same branch; concurrently mod 3 sets the topic. The helper's event takes its branch's priority (the admin's rank) and folds before the mod's, so the mod's topic is written last. The owner's nick change merges the helper's first event with the mod's: a merge lends its priority to no parent, so it does not lift the mod's branch.")
	b = d.base()
	a1 = d.emit("helper topic", on(b), 5, guild.TypeChannelUpdate, sf(`{"id":"%d","topic":"from the helper"}`, svGeneral))
	d.emit("admin renames", on(a1), 2, guild.TypeGuildUpdate, `{"name":"renamed"}`)
	b1 = d.emit("mod topic", on(b), 3, guild.TypeChannelUpdate, sf(`{"id":"%d","topic":"from the mod"}`, svGeneral))
	d.emit("owner nick", on(a1, b1), 1, guild.TypeMemberUpdate, `{"user_id":"1","nick":"boss"}`)
	out = append(out, d)

	d = newDAG(t, "ties broken by event ID", "Mods 3 and 4 (same role, same rank) concurrently each create a channel with ID 310 and each set general's topic. All four events have the same priority and rank, so they fold in event ID order: the first channel create keeps ID 310 (the other is id_in_use), and the last topic is the one that stays.")
	b = d.base()
	d.emit("3 creates 310", on(b), 3, guild.TypeChannelCreate, `{"id":"310","type":0,"name":"three"}`)
	d.emit("4 creates 310", on(b), 4, guild.TypeChannelCreate, `{"id":"310","type":2,"name":"four"}`)
	d.emit("3 topic", on(b), 3, guild.TypeChannelUpdate, sf(`{"id":"%d","topic":"three"}`, svGeneral))
	d.emit("4 topic", on(b), 4, guild.TypeChannelUpdate, sf(`{"id":"%d","topic":"four"}`, svGeneral))
	out = append(out, d)
	return out
}

// srAncestry answers IsAncestor from the file's parent lists.
type srAncestry map[string][]string

func (a srAncestry) IsAncestor(x, y string) bool {
	seen := map[string]bool{}
	stack := slices.Clone(a[y])
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n == x {
			return true
		}
		if !seen[n] {
			seen[n] = true
			stack = append(stack, a[n]...)
		}
	}
	return false
}

// srBuild makes nodes of the file's nodes, linked as a Graph would link
// them but without one.
func srBuild(t *testing.T, c *srCase) ([]*Node, srAncestry) {
	t.Helper()
	byID := map[string]*Node{}
	anc := srAncestry{}
	var nodes []*Node
	for i := range c.Nodes {
		v := &c.Nodes[i]
		n := &Node{ID: v.EventID, Op: v.op(), Rank: v.Rank}
		for _, p := range v.Parents {
			pn := byID[p]
			if pn == nil {
				t.Fatalf("%s: parent %s of %s is not earlier in nodes", c.Name, p, v.EventID)
			}
			n.Parents = append(n.Parents, pn)
			n.Depth = max(n.Depth, pn.Depth+1)
			pn.children = append(pn.children, n)
		}
		anc[n.ID] = v.Parents
		byID[n.ID] = n
		nodes = append(nodes, n)
	}
	return nodes, anc
}

func (v *srNode) op() *guild.Op {
	return &guild.Op{EventID: v.EventID, GuildID: v.GuildID, Type: v.Type, Sender: v.Sender, Origin: v.Origin,
		TS: v.OriginTS, Content: slices.Clone(v.Content), AuthEvents: v.AuthEvents}
}

// srResolve orders and folds a case's nodes from scratch.
func srResolve(t *testing.T, c *srCase) (order, applied []string, state *guild.State) {
	t.Helper()
	nodes, anc := srBuild(t, c)
	state = guild.New()
	order, applied = []string{}, []string{}
	for _, n := range Order(nodes, 1) {
		order = append(order, n.ID)
		if _, ok := Step(state, n, anc); ok {
			applied = append(applied, n.ID)
		}
	}
	return order, applied, state
}

func renderSRVectors(t *testing.T) []byte {
	t.Helper()
	f := srFile{
		Description: "State resolution test vectors (spec/state-resolution.md, \"Test vectors\"). Each case is a state DAG: nodes in an order where parents come first, each with the fields the auth rules see, its state parents and its rank (a decimal string: the sender's authority in the state before its parents). order is the resolution order of all nodes; applied lists, in that order, the events that took effect in the fold; state is the canonical state after the fold (spec/state-resolution.md, \"Canonical state\") and state_sha256 its SHA-256.",
	}
	for _, d := range srCases(t) {
		c := d.c
		order, applied, s := srResolve(t, &c)
		c.Order, c.Applied = order, applied
		c.State = string(s.Canonical())
		c.StateSHA256 = srHash(s)
		if !bytes.Equal(s.Canonical(), d.w.State().Canonical()) {
			t.Fatalf("%s: the authoring graph's state differs from the fold", c.Name)
		}
		f.Cases = append(f.Cases, c)
	}
	return vectors.Encode(t, f)
}

func srHash(s *guild.State) string {
	h := s.Hash()
	return hex.EncodeToString(h[:])
}

func TestStateResolutionVectors(t *testing.T) {
	want := renderSRVectors(t)
	got := vectors.Sync(t, srVectorPath, want)

	// Check the code against the file on its own terms, as another
	// implementation would.
	var f srFile
	if err := json.Unmarshal(got, &f); err != nil {
		t.Fatal(err)
	}
	for i := range f.Cases {
		c := &f.Cases[i]
		t.Run(c.Name, func(t *testing.T) {
			if sum := sha256.Sum256([]byte(c.State)); hex.EncodeToString(sum[:]) != c.StateSHA256 {
				t.Errorf("state_sha256 is not the SHA-256 of state")
			}
			order, applied, s := srResolve(t, c)
			if !slices.Equal(order, c.Order) {
				t.Errorf("order = %v\nwant %v", order, c.Order)
			}
			if !slices.Equal(applied, c.Applied) {
				t.Errorf("applied = %v\nwant %v", applied, c.Applied)
			}
			if got := string(s.Canonical()); got != c.State {
				t.Errorf("fold: state = %s\nwant %s", got, c.State)
			}

			// Each node is accepted and ranked against the state before
			// its parents, and the incremental graph fed in file order,
			// one by one or as one batch, ends in the same state.
			g, batch := NewGraph(), NewGraph()
			var fresh []*Node
			freshByID := map[string]*Node{}
			for j := range c.Nodes {
				v := &c.Nodes[j]
				n := &Node{ID: v.EventID, Op: v.op(), Rank: v.Rank}
				for _, p := range v.Parents {
					n.Parents = append(n.Parents, g.Node(p))
				}
				before := g.StateBefore(n.Parents)
				if err := guild.Check(before, n.Op); err != nil {
					t.Errorf("%s (%s) is not accepted against the state before it: %v", v.EventID, v.Type, err)
				}
				if r := before.Authority(v.Sender); r != v.Rank {
					t.Errorf("%s: rank = %d, file says %d", v.EventID, r, v.Rank)
				}
				g.Append(n)
				m := &Node{ID: v.EventID, Op: v.op(), Rank: v.Rank}
				for _, p := range v.Parents {
					m.Parents = append(m.Parents, freshByID[p])
				}
				fresh = append(fresh, m)
				freshByID[m.ID] = m
			}
			batch.AppendBatch(fresh)
			if got := string(g.State().Canonical()); got != c.State {
				t.Errorf("Graph.Append: state = %s\nwant %s", got, c.State)
			}
			if got := string(batch.State().Canonical()); got != c.State {
				t.Errorf("Graph.AppendBatch: state = %s\nwant %s", got, c.State)
			}
		})
	}
}
