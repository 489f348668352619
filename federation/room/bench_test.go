package room_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"concord/federation/event"
	"concord/federation/guild"
	"concord/federation/perm"
	"concord/federation/snowflake"
	"concord/storage"
	"concord/storage/storagetest"
)

// BenchmarkLocalSend measures local events accepted per second on SQLite:
// build, sign, auth and commit of message.create from 256 concurrent senders
// into one guild.
func BenchmarkLocalSend(b *testing.B) {
	db := storagetest.Open(b, storage.Config{Driver: storage.SQLite, DSN: filepath.Join(b.TempDir(), "c.db")})
	f := newFixture(&testing.T{}, db)
	ctx := context.Background()
	const senders = 256
	var next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if _, err := f.core.Send(ctx, f.guild, f.owner, guild.TypeMessageCreate,
					guild.MessageCreate{ID: f.core.NewID(), ChannelID: f.text, Content: "benchmark message"}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkRemoteAccept measures events from another node parsed, verified,
// checked and committed per second on SQLite.
func BenchmarkRemoteAccept(b *testing.B) {
	src := storagetest.Open(b, storage.Config{Driver: storage.SQLite, DSN: filepath.Join(b.TempDir(), "src.db")})
	f := newFixture(&testing.T{}, src)
	ctx := context.Background()
	var raws [][]byte
	rows, err := src.Reader().QueryContext(ctx, `SELECT body FROM events ORDER BY seq`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var body []byte
		rows.Scan(&body)
		raws = append(raws, body)
	}
	rows.Close()
	for range b.N {
		ev, err := f.core.Send(ctx, f.guild, f.owner, guild.TypeMessageCreate,
			guild.MessageCreate{ID: f.core.NewID(), ChannelID: f.text, Content: "benchmark message"})
		if err != nil {
			b.Fatal(err)
		}
		raws = append(raws, event.Marshal(ev))
	}
	dst := storagetest.Open(b, storage.Config{Driver: storage.SQLite, DSN: filepath.Join(b.TempDir(), "dst.db")})
	core := newCore(b, dst, newKey(b))
	for _, raw := range raws[:2] {
		if _, err := core.Accept(ctx, raw); err != nil {
			b.Fatal(err)
		}
	}
	raws = raws[2:]
	b.ResetTimer()
	start := time.Now()
	for i, err := range core.AcceptBatch(ctx, raws) {
		if err != nil {
			b.Fatalf("event %d: %v", i, err)
		}
	}
	b.ReportMetric(float64(len(raws))/time.Since(start).Seconds(), "events/s")
}

// BenchmarkHealPartition measures a partition healing through the accept
// path: two nodes each made 5,000 state events (nick changes by an owner
// and by an admin) while apart; one then takes the other's with
// AcceptBatch: verify, check each against the state before it, resolve the
// two forks and commit.
func BenchmarkHealPartition(b *testing.B) {
	const n = 5000
	ctx := context.Background()
	for range b.N {
		b.StopTimer()
		cfg := storage.Config{Driver: storage.SQLite, DSN: filepath.Join(b.TempDir(), "a.db")}
		a := newNode(b, cfg, 1)
		bb := newNode(b, storage.Config{Driver: storage.SQLite, DSN: filepath.Join(b.TempDir(), "b.db")}, 2)
		gid, owner, admin, role := a.core.NewID(), a.core.NewID(), bb.core.NewID(), a.core.NewID()
		must := func(_ *event.Event, err error) {
			if err != nil {
				b.Fatal(err)
			}
		}
		must(a.core.Send(ctx, gid, owner, guild.TypeGuildCreate, guild.GuildCreate{ID: gid, Kind: guild.KindGuild, Name: "heal"}))
		name, all := "general", perm.Administrator
		ch := a.core.NewID()
		must(a.core.Send(ctx, gid, owner, guild.TypeChannelCreate, guild.ChannelCreate{ID: ch, ChannelFields: guild.ChannelFields{Name: &name}}))
		must(a.core.Send(ctx, gid, owner, guild.TypeRoleCreate, guild.RoleChange{ID: role, RoleFields: guild.RoleFields{Permissions: &all}}))
		must(a.core.Send(ctx, gid, owner, guild.TypeInviteCreate, guild.InviteCreate{Code: "heal", ChannelID: ch}))
		syncLog(b, a.db, bb.core, gid)
		must(bb.core.Send(ctx, gid, admin, guild.TypeMemberJoin, guild.MemberJoin{InviteCode: "heal"}))
		syncLog(b, bb.db, a.core, gid)
		must(a.core.Send(ctx, gid, owner, guild.TypeMemberUpdate, guild.MemberUpdate{UserID: admin, RolesAdd: []snowflake.ID{role}}))
		syncLog(b, a.db, bb.core, gid)
		shared := len(logOf(b, a.db, gid))
		for i := range n {
			nick := fmt.Sprintf("owner %d", i)
			must(a.core.Send(ctx, gid, owner, guild.TypeMemberUpdate, guild.MemberUpdate{UserID: owner, Nick: &nick}))
			nick = fmt.Sprintf("admin %d", i)
			must(bb.core.Send(ctx, gid, admin, guild.TypeMemberUpdate, guild.MemberUpdate{UserID: admin, Nick: &nick}))
		}
		fork := logOf(b, a.db, gid)[shared:]
		b.StartTimer()
		for i, err := range bb.core.AcceptBatch(ctx, fork) {
			if err != nil {
				b.Fatalf("event %d: %v", i, err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/heal")
}
