package room_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"concord/federation/event"
	"concord/federation/guild"
	"concord/federation/perm"
	"concord/federation/room"
	"concord/federation/snowflake"
	"concord/storage"
	"concord/storage/storagetest"
)

// The replica property (spec/state-resolution.md, "The properties"):
// nodes that each author events from their own view, partitioned from one
// another for random stretches, and exchange them in random orders, end
// with byte-identical state and the same visible messages once every node
// holds every event.

const replicaNodes = 5

// replicaBits are the permissions the workload hands out and takes away.
var replicaBits = []perm.Bits{perm.ManageRoles, perm.KickMembers, perm.BanMembers, perm.ManageMessages,
	perm.ManageChannels, perm.SendMessages, perm.ViewChannel, perm.AddReactions, perm.Administrator}

type replicaUser struct {
	id   snowflake.ID
	home int // index of the node that signs for the user
}

type pooled struct {
	id  string
	raw []byte
}

// replicaRun is one case: the nodes, the events any of them authored, and
// which node holds which.
type replicaRun struct {
	t       *testing.T
	rng     *rand.Rand
	nodes   []*node
	gid     snowflake.ID
	owner   snowflake.ID
	general snowflake.ID
	code    string
	users   []replicaUser
	pool    []pooled
	have    []map[string]bool
	cutTill []int // a node is partitioned while step < cutTill
	step    int
	refused int
}

func newReplicaRun(t *testing.T, rng *rand.Rand, cfgs []storage.Config) *replicaRun {
	r := &replicaRun{t: t, rng: rng, cutTill: make([]int, len(cfgs))}
	for i, cfg := range cfgs {
		r.nodes = append(r.nodes, newNode(t, cfg, uint16(i+1)))
		r.have = append(r.have, map[string]bool{})
	}
	n0 := r.nodes[0].core
	r.gid, r.owner, r.general = n0.NewID(), n0.NewID(), n0.NewID()
	r.users = append(r.users, replicaUser{r.owner, 0})
	r.mustSend(0, r.owner, guild.TypeGuildCreate, guild.GuildCreate{ID: r.gid, Kind: guild.KindGuild, Name: "replicas"})
	name := "general"
	r.mustSend(0, r.owner, guild.TypeChannelCreate, guild.ChannelCreate{ID: r.general, ChannelFields: guild.ChannelFields{Name: &name}})
	roles := []struct {
		name string
		pos  int
		bits perm.Bits
	}{
		{"admin", 3, perm.Administrator},
		{"mod", 2, perm.KickMembers | perm.BanMembers | perm.ManageRoles | perm.ManageChannels | perm.ManageMessages},
		{"low", 1, perm.None},
	}
	var roleIDs []snowflake.ID
	for _, ro := range roles {
		id := n0.NewID()
		roleIDs = append(roleIDs, id)
		r.mustSend(0, r.owner, guild.TypeRoleCreate, guild.RoleChange{ID: id,
			RoleFields: guild.RoleFields{Name: &ro.name, Position: &ro.pos, Permissions: &ro.bits}})
	}
	r.code = "open" + n0.NewID().String()
	r.mustSend(0, r.owner, guild.TypeInviteCreate, guild.InviteCreate{Code: r.code, ChannelID: r.general})
	r.syncAll()

	// Two users on every node, one more on the owner's.
	for i := range r.nodes {
		for range 2 - min(i, 1) + 1 {
			u := replicaUser{r.nodes[i].core.NewID(), i}
			r.users = append(r.users, u)
			r.mustSend(i, u.id, guild.TypeMemberJoin, guild.MemberJoin{InviteCode: r.code})
		}
	}
	r.syncAll()
	// Authority spread over the nodes: admins and mods live on several.
	for i, u := range r.users[1:] {
		role := roleIDs[i%len(roleIDs)]
		r.mustSend(0, r.owner, guild.TypeMemberUpdate, guild.MemberUpdate{UserID: u.id, RolesAdd: []snowflake.ID{role}})
	}
	r.syncAll()
	return r
}

// mustSend authors an event that must pass.
func (r *replicaRun) mustSend(n int, sender snowflake.ID, typ string, content any) {
	r.t.Helper()
	if err := r.send(n, sender, typ, content); err != nil {
		r.t.Fatalf("setup %s on node %d: %v", typ, n, err)
	}
}

// send authors an event on node n and adds it to the pool.
func (r *replicaRun) send(n int, sender snowflake.ID, typ string, content any) error {
	ev, err := r.nodes[n].core.Send(context.Background(), r.gid, sender, typ, content)
	if err != nil {
		return err
	}
	r.pool = append(r.pool, pooled{ev.ID(), event.Marshal(ev)})
	r.have[n][ev.ID()] = true
	return nil
}

func (r *replicaRun) connected(n int) bool { return r.step >= r.cutTill[n] }

// deliver offers node n the events it lacks that some node it can reach
// holds: each with probability p, in a random order, one by one or as one
// batch. Events whose prev or auth events n lacks stay for a later round.
func (r *replicaRun) deliver(n int, p float64) (progress bool) {
	var todo []pooled
	for _, e := range r.pool {
		if r.have[n][e.id] || r.rng.Float64() >= p {
			continue
		}
		for m := range r.nodes {
			if m != n && r.have[m][e.id] && (r.connected(m) || r.step < 0) {
				todo = append(todo, e)
				break
			}
		}
	}
	r.rng.Shuffle(len(todo), func(i, j int) { todo[i], todo[j] = todo[j], todo[i] })
	errs := make([]error, len(todo))
	if r.rng.IntN(2) == 0 {
		raws := make([][]byte, len(todo))
		for i, e := range todo {
			raws[i] = e.raw
		}
		errs = r.nodes[n].core.AcceptBatch(context.Background(), raws)
	} else {
		for i, e := range todo {
			_, errs[i] = r.nodes[n].core.Accept(context.Background(), e.raw)
		}
	}
	for i, err := range errs {
		switch {
		case err == nil:
			progress = true
			r.have[n][todo[i].id] = true
		case errors.Is(err, room.ErrMissingEvents), errors.Is(err, room.ErrUnknownRoom):
			// Its ancestors, or the guild itself, have not come yet.
		default:
			r.t.Fatalf("node %d refused %s, which its origin accepted: %v\n%s", n, todo[i].id, err, todo[i].raw)
		}
	}
	return progress
}

// syncAll delivers every event everywhere.
func (r *replicaRun) syncAll() {
	r.t.Helper()
	saved := r.step
	r.step = -1
	defer func() { r.step = saved }()
	for {
		progress := false
		for n := range r.nodes {
			if r.deliver(n, 1) {
				progress = true
			}
		}
		if !progress {
			break
		}
	}
	for n := range r.nodes {
		if len(r.have[n]) != len(r.pool) {
			r.t.Fatalf("after a full sync node %d holds %d of %d events", n, len(r.have[n]), len(r.pool))
		}
	}
}

// view is what node n knows of the guild: its state and its live messages.
type view struct {
	members  []snowflake.ID
	banned   []snowflake.ID
	roles    []snowflake.ID
	channels []snowflake.ID
	messages []viewMessage
}

type viewMessage struct{ id, channel, author snowflake.ID }

func (r *replicaRun) view(n int) view {
	var v view
	c := r.nodes[n].core
	if err := c.View(context.Background(), r.gid, func(s *guild.State) error {
		for id := range s.Members {
			v.members = append(v.members, id)
		}
		for id := range s.Bans {
			v.banned = append(v.banned, id)
		}
		for id := range s.Roles {
			if id != r.gid {
				v.roles = append(v.roles, id)
			}
		}
		for id, ch := range s.Channels {
			if ch.Type == guild.ChannelText {
				v.channels = append(v.channels, id)
			}
		}
		return nil
	}); err != nil {
		r.t.Fatal(err)
	}
	// Map order must not leak into the workload: the run replays from its seed.
	for _, l := range [][]snowflake.ID{v.members, v.banned, v.roles, v.channels} {
		slices.Sort(l)
	}
	rows, err := r.nodes[n].db.Reader().QueryContext(context.Background(), `SELECT id, channel_id, author_id FROM messages
		WHERE guild_id = ? AND deleted = FALSE AND hidden = FALSE ORDER BY id`, int64(r.gid))
	if err != nil {
		r.t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, ch, author int64
		if err := rows.Scan(&id, &ch, &author); err != nil {
			r.t.Fatal(err)
		}
		v.messages = append(v.messages, viewMessage{snowflake.ID(id), snowflake.ID(ch), snowflake.ID(author)})
	}
	return v
}

func pick[T any](rng *rand.Rand, list []T) (T, bool) {
	var zero T
	if len(list) == 0 {
		return zero, false
	}
	return list[rng.IntN(len(list))], true
}

// act has a random user author a random event from its home node's view.
func (r *replicaRun) act() {
	u := r.users[r.rng.IntN(len(r.users))]
	n := u.home
	v := r.view(n)
	rng := r.rng
	core := r.nodes[n].core
	emojis := []string{"👍", "🎉", "🔥"}
	var (
		typ     string
		content any
	)
	switch k := rng.IntN(100); {
	case k < 8:
		role, ok := pick(rng, v.roles)
		if !ok {
			return
		}
		f := guild.RoleFields{}
		switch rng.IntN(3) {
		case 0:
			bits := perm.None
			for _, b := range replicaBits {
				if rng.IntN(3) == 0 {
					bits |= b
				}
			}
			f.Permissions = &bits
		case 1:
			pos := 1 + rng.IntN(4)
			f.Position = &pos
		default:
			name := fmt.Sprintf("role%d", rng.IntN(100))
			f.Name = &name
		}
		typ, content = guild.TypeRoleUpdate, guild.RoleChange{ID: role, RoleFields: f}
	case k < 16:
		target, ok1 := pick(rng, v.members)
		role, ok2 := pick(rng, v.roles)
		if !ok1 || !ok2 {
			return
		}
		c := guild.MemberUpdate{UserID: target}
		if rng.IntN(2) == 0 {
			c.RolesAdd = []snowflake.ID{role}
		} else {
			c.RolesRemove = []snowflake.ID{role}
		}
		typ, content = guild.TypeMemberUpdate, c
	case k < 20:
		name := fmt.Sprintf("chan%d", rng.IntN(100))
		typ, content = guild.TypeChannelCreate, guild.ChannelCreate{ID: core.NewID(), ChannelFields: guild.ChannelFields{Name: &name}}
	case k < 22:
		ch, ok := pick(rng, v.channels)
		if !ok || ch == r.general {
			return
		}
		typ, content = guild.TypeChannelDelete, guild.ChannelDelete{ID: ch}
	case k < 27:
		ch, ok := pick(rng, v.channels)
		if !ok {
			return
		}
		o := guild.OverwriteFields{Type: perm.OverwriteRole}
		if rng.IntN(2) == 0 {
			o.ID, _ = pick(rng, append(v.roles, r.gid))
		} else {
			o.Type = perm.OverwriteMember
			o.ID, _ = pick(rng, v.members)
		}
		for _, b := range []perm.Bits{perm.ViewChannel, perm.SendMessages, perm.AddReactions} {
			switch rng.IntN(3) {
			case 0:
				o.Allow |= b
			case 1:
				o.Deny |= b
			}
		}
		typ, content = guild.TypeChannelOverwrite, guild.ChannelOverwrite{ChannelID: ch, OverwriteFields: o}
	case k < 30:
		target, ok := pick(rng, v.members)
		if !ok {
			return
		}
		typ, content = guild.TypeMemberKick, guild.MemberTarget{UserID: target}
	case k < 33:
		target, ok := pick(rng, v.members)
		if !ok {
			return
		}
		var window int64
		if rng.IntN(2) == 0 {
			window = 60
		}
		typ, content = guild.TypeMemberBan, guild.MemberBan{UserID: target, DeleteMessageSeconds: window}
	case k < 36:
		target, ok := pick(rng, v.banned)
		if !ok {
			return
		}
		typ, content = guild.TypeMemberUnban, guild.MemberTarget{UserID: target}
	case k < 42:
		if slices.Contains(v.members, u.id) {
			return
		}
		typ, content = guild.TypeMemberJoin, guild.MemberJoin{InviteCode: r.code}
	case k < 65:
		ch, ok := pick(rng, v.channels)
		if !ok {
			return
		}
		typ, content = guild.TypeMessageCreate, guild.MessageCreate{ID: core.NewID(), ChannelID: ch,
			Content: fmt.Sprintf("m%d from %d", rng.IntN(1000), n)}
	case k < 72:
		var own []viewMessage
		for _, m := range v.messages {
			if m.author == u.id {
				own = append(own, m)
			}
		}
		m, ok := pick(rng, own)
		if !ok {
			return
		}
		text := fmt.Sprintf("edit %d", rng.IntN(1000))
		typ, content = guild.TypeMessageEdit, guild.MessageEdit{ID: m.id, ChannelID: m.channel, Content: &text}
	case k < 77:
		m, ok := pick(rng, v.messages)
		if !ok {
			return
		}
		typ, content = guild.TypeMessageDelete, guild.MessageTarget{ID: m.id, ChannelID: m.channel}
	case k < 92:
		m, ok := pick(rng, v.messages)
		if !ok {
			return
		}
		e, _ := pick(rng, emojis)
		switch rng.IntN(5) {
		case 0, 1, 2:
			typ, content = guild.TypeReactionAdd, guild.Reaction{MessageID: m.id, ChannelID: m.channel, Emoji: guild.Emoji{Name: e}}
		case 3:
			typ, content = guild.TypeReactionRemove, guild.Reaction{MessageID: m.id, ChannelID: m.channel, Emoji: guild.Emoji{Name: e}}
		default:
			c := guild.ReactionRemoveAll{MessageID: m.id, ChannelID: m.channel}
			if rng.IntN(2) == 0 {
				c.Emoji = &guild.Emoji{Name: e}
			}
			typ, content = guild.TypeReactionRemoveAll, c
		}
	default:
		m, ok := pick(rng, v.messages)
		if !ok {
			return
		}
		typ = guild.TypePinAdd
		if rng.IntN(3) == 0 {
			typ = guild.TypePinRemove
		}
		content = guild.Pin{MessageID: m.id, ChannelID: m.channel}
	}
	err := r.send(n, u.id, typ, content)
	var rej *guild.Rejection
	switch {
	case err == nil:
	case errors.As(err, &rej):
		r.refused++ // the user's own node refused it: a random workload asks for much it may not do
	default:
		r.t.Fatalf("send %s by %s on node %d: %v", typ, u.id, n, err)
	}
}

// run authors about events events while partitions come and go and nodes
// gossip, then heals every partition and syncs.
func (r *replicaRun) run(events int) {
	start := len(r.pool)
	for r.step = 0; len(r.pool)-start < events && r.step < events*20; r.step++ {
		switch k := r.rng.IntN(100); {
		case k < 8:
			n := r.rng.IntN(len(r.nodes))
			r.cutTill[n] = r.step + 5 + r.rng.IntN(25)
		case k < 30:
			n := r.rng.IntN(len(r.nodes))
			if r.connected(n) {
				r.deliver(n, 0.2+0.8*r.rng.Float64())
			}
		default:
			r.act()
		}
	}
	r.syncAll()
}

// check compares every node with node 0. Unless strict, the hidden flag
// of deleted messages is left out: either way they are not shown.
func (r *replicaRun) check(strict bool) {
	r.t.Helper()
	ctx := context.Background()
	wantHash, wantCanon := stateHash(r.t, r.nodes[0].core, r.gid)
	messages := `SELECT id, content, deleted, hidden AND NOT deleted AS hidden, pinned FROM messages WHERE guild_id = ?`
	if strict {
		messages = `SELECT id, content, deleted, hidden, pinned FROM messages WHERE guild_id = ?`
	}
	queries := []struct{ name, query string }{
		{"messages", messages},
		{"reactions", `SELECT r.message_id, r.emoji, r.user_id, r.present FROM reactions r
			JOIN messages m ON m.id = r.message_id WHERE m.guild_id = ?`},
		{"guilds", `SELECT * FROM guilds WHERE id = ?`},
		{"roles", `SELECT * FROM roles WHERE guild_id = ?`},
		{"channels", `SELECT * FROM channels WHERE guild_id = ?`},
		{"members", `SELECT * FROM guild_members WHERE guild_id = ?`},
		{"bans", `SELECT * FROM bans WHERE guild_id = ?`},
		{"invites", `SELECT * FROM invites WHERE guild_id = ?`},
		{"extremities", `SELECT event_id FROM guild_extremities WHERE guild_id = ?`},
	}
	want := make([][]string, len(queries))
	for i, q := range queries {
		want[i] = dumpQuery(r.t, r.nodes[0].db, q.query, int64(r.gid))
	}
	for n, nd := range r.nodes {
		var count int
		if err := nd.db.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE guild_id = ?`, int64(r.gid)).Scan(&count); err != nil {
			r.t.Fatal(err)
		}
		if count != len(r.pool) {
			r.t.Errorf("node %d stores %d events, want %d", n, count, len(r.pool))
		}
		if n == 0 {
			continue
		}
		if h, canon := stateHash(r.t, nd.core, r.gid); h != wantHash {
			r.t.Errorf("node %d state differs from node 0:\n%s\n%s", n, canon, wantCanon)
		}
		for i, q := range queries {
			got := dumpQuery(r.t, nd.db, q.query, int64(r.gid))
			if d := diffDumps(map[string][]string{"messages": want[i]}, map[string][]string{"messages": got}); d != "" {
				r.t.Errorf("node %d %s differ from node 0 (- node 0, + node %d):\n%s", n, q.name, n, d)
			}
		}
	}
}

// replicaParams is how many cases of how many events run: a few seconds'
// worth by default, many more with CONCORD_LONG=1.
func replicaParams() (cases, events int, budget time.Duration) {
	if os.Getenv("CONCORD_LONG") != "" {
		return 300, 150, 10 * time.Minute
	}
	return 30, 60, 11 * time.Second
}

func replicaSeed() uint64 {
	if s := os.Getenv("CONCORD_SEED"); s != "" {
		var v uint64
		fmt.Sscan(s, &v)
		return v
	}
	return uint64(time.Now().UnixNano())
}

func runReplicaCases(t *testing.T, cases, events int, budget time.Duration, strict bool, configs func(t *testing.T) []storage.Config) {
	runCases(t, cases, budget, func(t *testing.T, rng *rand.Rand) {
		r := newReplicaRun(t, rng, configs(t))
		r.run(events)
		r.check(strict)
	})
}

// runCases plays up to cases seeded cases within budget, each from its
// own random source, and says how to replay one that fails.
func runCases(t *testing.T, cases int, budget time.Duration, play func(t *testing.T, rng *rand.Rand)) {
	seed := replicaSeed()
	deadline := time.Now().Add(budget)
	ran := 0
	for c := range cases {
		if time.Now().After(deadline) {
			break
		}
		ok := t.Run(fmt.Sprintf("case%d", c), func(t *testing.T) { play(t, rand.New(rand.NewPCG(seed, uint64(c)))) })
		ran++
		if !ok {
			t.Fatalf("replay with CONCORD_SEED=%d -run '%s/case%d'", seed, t.Name(), c)
		}
	}
	t.Logf("%d cases, seed %d", ran, seed)
}

func TestReplicasConverge(t *testing.T) {
	cases, events, budget := replicaParams()
	runReplicaCases(t, cases, events, budget, false, sqliteConfigs)
}

// TestReplicasHiddenFlag holds the hidden flag of deleted messages to the
// same property: it is part of the projection every node must share.
func TestReplicasHiddenFlag(t *testing.T) {
	runReplicaCases(t, 10, 60, 4*time.Second, true, sqliteConfigs)
}

func sqliteConfigs(t *testing.T) []storage.Config { return sqliteNodes(t, replicaNodes) }

// sqliteNodes is n fresh SQLite databases.
func sqliteNodes(t *testing.T, n int) []storage.Config {
	dir := t.TempDir()
	cfgs := make([]storage.Config, n)
	for i := range cfgs {
		cfgs[i] = storage.Config{Driver: storage.SQLite, DSN: filepath.Join(dir, fmt.Sprintf("node%d.db", i))}
	}
	return cfgs
}

// postgresNodes is n fresh PostgreSQL databases.
func postgresNodes(t *testing.T, n int) []storage.Config {
	cfgs := make([]storage.Config, n)
	for i := range cfgs {
		cfgs[i] = storagetest.Backends(t)[storage.Postgres]
	}
	return cfgs
}

func TestReplicasConvergePostgres(t *testing.T) {
	if os.Getenv(storagetest.EnvPostgres) == "" {
		t.Skip(storagetest.EnvPostgres + " is not set")
	}
	cases, events := 2, 40
	if os.Getenv("CONCORD_LONG") != "" {
		cases, events = 20, 100
	}
	runReplicaCases(t, cases, events, time.Minute, false, func(t *testing.T) []storage.Config { return postgresNodes(t, replicaNodes) })
}
