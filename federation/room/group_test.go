package room_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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

func role(id snowflake.ID, name string) guild.RoleChange {
	return guild.RoleChange{ID: id, RoleFields: guild.RoleFields{Name: &name}}
}

func channel(id snowflake.ID, name string) guild.ChannelCreate {
	return guild.ChannelCreate{ID: id, Type: guild.ChannelText, ChannelFields: guild.ChannelFields{Name: &name}}
}

// checkChain requires a group's events to be stored, each on the one before
// it, in consecutive places of the log.
func checkChain(t *testing.T, f *fixture, evs []*event.Event) {
	t.Helper()
	var last int64
	for i, ev := range evs {
		if i > 0 && !slices.Equal(ev.PrevEvents, []string{evs[i-1].ID()}) {
			t.Errorf("group event %d has prev_events %v, want the event before it", i, ev.PrevEvents)
		}
		var seq int64
		if err := f.db.Reader().QueryRowContext(context.Background(), `SELECT seq FROM events WHERE event_id = ?`, ev.ID()).Scan(&seq); err != nil {
			t.Fatalf("group event %d: %v", i, err)
		}
		if i > 0 && seq != last+1 {
			t.Errorf("group event %d stored at %d, after %d", i, seq, last)
		}
		last = seq
	}
}

// A group whose second event is refused leaves no trace: no event stored,
// no projection written, the state and the heads as they were, nothing
// published.
func TestGroupRefusedLeavesNothing(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		var heard atomic.Int32
		defer f.core.Subscribe(func(*room.Accepted) { heard.Add(1) })()
		rows := f.count(`SELECT COUNT(*) FROM events`)
		hash, _ := stateHash(t, f.core, f.guild)
		heads, _ := headsOf(t, db, f.guild)

		first := f.core.NewID()
		evs, err := f.core.SendAll(ctx, f.guild, f.owner, []room.Local{
			{guild.TypeRoleCreate, role(first, "first")},
			{guild.TypeRoleCreate, role(first, "same ID again")},
			{guild.TypeChannelCreate, channel(f.core.NewID(), "third")},
		})
		var rej *guild.Rejection
		if !errors.As(err, &rej) || rej.Reason != guild.ReasonIDInUse {
			t.Fatalf("SendAll = %v, want the second event's id_in_use", err)
		}
		if !strings.Contains(err.Error(), "group event 1") {
			t.Errorf("error %q does not say which event was refused", err)
		}
		if evs != nil {
			t.Errorf("SendAll returned %d events", len(evs))
		}
		if n := f.count(`SELECT COUNT(*) FROM events`); n != rows {
			t.Errorf("%d events stored", n-rows)
		}
		if n := f.count(`SELECT COUNT(*) FROM roles WHERE id = ?`, int64(first)); n != 0 {
			t.Error("the first event's role was projected")
		}
		if h, _ := stateHash(t, f.core, f.guild); h != hash {
			t.Error("state changed")
		}
		if n := heard.Load(); n != 0 {
			t.Errorf("subscribers heard %d events", n)
		}
		// The room goes on from the same heads, and the role ID is free.
		ev, err := f.core.Send(ctx, f.guild, f.owner, guild.TypeRoleCreate, role(first, "first"))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ev.PrevEvents, heads) {
			t.Errorf("next event's prev_events = %v, want %v", ev.PrevEvents, heads)
		}
	})
}

// A group that passes is committed whole and published in order.
func TestGroupCommitsAll(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db)
		var mu sync.Mutex
		var heard []string
		defer f.core.Subscribe(func(a *room.Accepted) {
			mu.Lock()
			heard = append(heard, a.Event.ID())
			mu.Unlock()
		})()
		bot, botRole := f.core.NewID(), f.core.NewID()
		all := perm.ManageMessages
		evs, err := f.core.SendAll(context.Background(), f.guild, f.owner, []room.Local{
			{guild.TypeMemberAdd, guild.MemberAdd{UserID: bot, Bot: true}},
			{guild.TypeRoleCreate, guild.RoleChange{ID: botRole, RoleFields: guild.RoleFields{Permissions: &all}}},
			{guild.TypeMemberUpdate, guild.MemberUpdate{UserID: bot, RolesAdd: []snowflake.ID{botRole}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 3 {
			t.Fatalf("SendAll returned %d events", len(evs))
		}
		checkChain(t, f, evs)
		want := []string{evs[0].ID(), evs[1].ID(), evs[2].ID()}
		mu.Lock()
		defer mu.Unlock()
		if !slices.Equal(heard, want) {
			t.Errorf("subscribers heard %v, want %v", heard, want)
		}
		if n := f.count(`SELECT COUNT(*) FROM guild_members WHERE guild_id = ? AND user_id = ? AND roles LIKE ?`,
			int64(f.guild), int64(bot), "%"+botRole.String()+"%"); n != 1 {
			t.Error("the bot's member row lacks its role")
		}
	})
}

// Groups and single events sent at once from many goroutines: every group
// is whole and contiguous, refused groups leave nothing, and the log
// rebuilds to the same state.
func TestGroupsInterleaved(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		const senders, messages, groupers, groups = 4, 25, 3, 12
		var wg sync.WaitGroup
		errs := make(chan error, senders*messages+groupers*groups)
		for range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range messages {
					_, err := f.core.Send(ctx, f.guild, f.owner, guild.TypeMessageCreate,
						guild.MessageCreate{ID: f.core.NewID(), ChannelID: f.text, Content: "between the groups"})
					errs <- err
				}
			}()
		}
		var mu sync.Mutex
		var accepted [][]*event.Event
		var refusedRoles []snowflake.ID
		for g := range groupers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range groups {
					id := f.core.NewID()
					second := role(id, "renamed")
					refuse := (g+i)%3 == 0
					if refuse {
						second = role(f.core.NewID(), strings.Repeat("x", 101)) // a name too long
					}
					evs, err := f.core.SendAll(ctx, f.guild, f.owner, []room.Local{
						{guild.TypeRoleCreate, role(id, "made")},
						{guild.TypeRoleUpdate, second},
						{guild.TypeChannelUpdate, guild.ChannelUpdate{ID: f.text, ChannelFields: guild.ChannelFields{Topic: new(fmt.Sprint(g, i))}}},
					})
					mu.Lock()
					switch {
					case refuse && err == nil:
						err = errors.New("a group with a bad role name was accepted")
					case refuse:
						refusedRoles = append(refusedRoles, id)
						err = nil
					case err == nil:
						accepted = append(accepted, evs)
					}
					mu.Unlock()
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		for _, evs := range accepted {
			checkChain(t, f, evs)
		}
		for _, id := range refusedRoles {
			if n := f.count(`SELECT COUNT(*) FROM events WHERE body LIKE ?`, "%"+id.String()+"%"); n != 0 {
				t.Errorf("refused group's role %s is in %d stored events", id, n)
			}
		}
		if want, n := 2+senders*messages+3*len(accepted), f.count(`SELECT COUNT(*) FROM events`); n != want {
			t.Errorf("%d events stored, want %d", n, want)
		}
		checkRebuild(t, f)
	})
}

// A group may open with the guild.create of a new room; a refused one
// leaves no room behind.
func TestGroupCreatesRoom(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		gid, general := f.core.NewID(), f.core.NewID()
		create := room.Local{Type: guild.TypeGuildCreate, Content: guild.GuildCreate{ID: gid, Kind: guild.KindGuild, Name: "made whole"}}

		_, err := f.core.SendAll(ctx, gid, f.owner, []room.Local{create,
			{guild.TypeChannelCreate, channel(general, strings.Repeat("x", 101))}})
		var rej *guild.Rejection
		if !errors.As(err, &rej) {
			t.Fatalf("group with a bad channel = %v", err)
		}
		if n := f.count(`SELECT COUNT(*) FROM events WHERE guild_id = ?`, int64(gid)); n != 0 {
			t.Fatalf("refused group stored %d events", n)
		}
		if _, err := f.core.Send(ctx, gid, f.owner, guild.TypeChannelCreate, channel(f.core.NewID(), "x")); !errors.Is(err, room.ErrUnknownRoom) {
			t.Fatalf("send to the guild a refused group would have made = %v", err)
		}

		evs, err := f.core.SendAll(ctx, gid, f.owner, []room.Local{create, {guild.TypeChannelCreate, channel(general, "general")}})
		if err != nil {
			t.Fatal(err)
		}
		checkChain(t, f, evs)
		if slices.Equal(evs[1].AuthEvents, []string{evs[0].ID()}) == false {
			t.Errorf("channel's auth_events = %v, want the create", evs[1].AuthEvents)
		}
		if err := f.core.View(ctx, gid, func(s *guild.State) error {
			if s.Channels[general] == nil || s.OwnerID() != f.owner {
				return errors.New("the created room lacks its channel or owner")
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.core.SendAll(ctx, gid, f.owner, []room.Local{create}); !errors.As(err, &rej) || rej.Reason != guild.ReasonIDInUse {
			t.Fatalf("second create = %v", err)
		}
	})
}

// Later events of a group are checked against what the earlier ones did,
// ancestry included: an unban lifts a ban made earlier in the group or
// before it.
func TestGroupSeesItsOwnEvents(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		user := f.core.NewID()
		ban := room.Local{Type: guild.TypeMemberBan, Content: guild.MemberBan{UserID: user}}
		unban := room.Local{Type: guild.TypeMemberUnban, Content: guild.MemberTarget{UserID: user}}
		add := room.Local{Type: guild.TypeMemberAdd, Content: guild.MemberAdd{UserID: user, Bot: true}}
		kick := room.Local{Type: guild.TypeMemberKick, Content: guild.MemberTarget{UserID: user}}
		code := "groupinvite"
		invite := room.Local{Type: guild.TypeInviteCreate, Content: guild.InviteCreate{Code: code, ChannelID: f.text}}

		if _, err := f.core.SendAll(ctx, f.guild, f.owner, []room.Local{ban, unban, add, kick}); err != nil {
			t.Fatalf("ban, unban, add, kick: %v", err)
		}
		f.send(f.owner, guild.TypeMemberBan, guild.MemberBan{UserID: user})
		if _, err := f.core.SendAll(ctx, f.guild, f.owner, []room.Local{unban, add}); err != nil {
			t.Fatalf("unban, add after a ban: %v", err)
		}
		evs, err := f.core.SendAll(ctx, f.guild, f.owner, []room.Local{invite, kick})
		if err != nil {
			t.Fatal(err)
		}
		// A join by the invite the group made names it in its auth events.
		joined, err := f.core.Send(ctx, f.guild, user, guild.TypeMemberJoin, guild.MemberJoin{InviteCode: code})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(joined.AuthEvents, evs[0].ID()) {
			t.Errorf("join's auth_events %v lack the invite", joined.AuthEvents)
		}
	})
}

// Message-level events may not be grouped.
func TestGroupRefusesMessages(t *testing.T) {
	db := storagetest.Open(t, storage.Config{Driver: storage.SQLite, DSN: filepath.Join(t.TempDir(), "c.db")})
	f := newFixture(t, db)
	rows := f.count(`SELECT COUNT(*) FROM events`)
	_, err := f.core.SendAll(context.Background(), f.guild, f.owner, []room.Local{
		{guild.TypeRoleCreate, role(f.core.NewID(), "r")},
		{guild.TypeMessageCreate, guild.MessageCreate{ID: f.core.NewID(), ChannelID: f.text, Content: "hi"}},
	})
	if err == nil || !strings.Contains(err.Error(), "only state events") {
		t.Fatalf("group with a message = %v", err)
	}
	if n := f.count(`SELECT COUNT(*) FROM events`); n != rows {
		t.Errorf("%d events stored", n-rows)
	}
}

// A group that passed its checks but cannot be staged (storage fails
// half-way) fails its batch, is tried again alone, and answers its caller
// with the failure.
func TestGroupBrokenHalfWay(t *testing.T) {
	db := storagetest.Open(t, storage.Config{Driver: storage.SQLite, DSN: filepath.Join(t.TempDir(), "c.db")})
	f := newFixture(t, db)
	db.Close() // the ban's staging reads the target's messages, and fails

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := f.core.SendAll(ctx, f.guild, f.owner, []room.Local{
		{guild.TypeRoleCreate, role(f.core.NewID(), "r")},
		{guild.TypeMemberBan, guild.MemberBan{UserID: f.core.NewID()}},
	})
	if err == nil || ctx.Err() != nil {
		t.Fatalf("SendAll = %v (context: %v)", err, ctx.Err())
	}
	if !strings.Contains(err.Error(), "database is closed") {
		t.Errorf("SendAll = %v, want the storage failure", err)
	}
}
