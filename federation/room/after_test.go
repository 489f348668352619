package room_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"concord/federation/guild"
	"concord/federation/room"
	"concord/federation/snowflake"
	"concord/storage"
	"concord/storage/storagetest"
)

// heard collects what a subscriber is told of one guild.
type heard struct {
	mu  sync.Mutex
	acc []*room.Accepted
}

func listen(t *testing.T, c *room.Core, gid snowflake.ID) *heard {
	h := &heard{}
	t.Cleanup(c.Subscribe(func(a *room.Accepted) {
		if a.Event.GuildID == gid {
			h.mu.Lock()
			h.acc = append(h.acc, a)
			h.mu.Unlock()
		}
	}))
	return h
}

func (h *heard) take() []*room.Accepted {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.acc
	h.acc = nil
	return out
}

func members(s *guild.State) []snowflake.ID {
	var out []snowflake.ID
	for id := range s.Members {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

func sorted(ids ...snowflake.ID) []snowflake.ID {
	return slices.Sorted(slices.Values(ids))
}

// A dispatch rendered from After shows each event's own effect, even when
// the next event, committed in the same batch, changed the same object.
func TestAfterIsEachEventsOwn(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		id := f.core.NewID()
		f.send(f.owner, guild.TypeRoleCreate, role(id, "made"))
		h := listen(t, f.core, f.guild)
		first, second, red := "first", "second", 0xff0000
		if _, err := f.core.SendAll(ctx, f.guild, f.owner, []room.Local{
			{guild.TypeRoleUpdate, guild.RoleChange{ID: id, RoleFields: guild.RoleFields{Name: &first, Color: &red}}},
			{guild.TypeRoleUpdate, guild.RoleChange{ID: id, RoleFields: guild.RoleFields{Name: &second}}},
		}); err != nil {
			t.Fatal(err)
		}
		got := h.take()
		if len(got) != 2 {
			t.Fatalf("heard %d events", len(got))
		}
		for i, want := range []string{first, second} {
			r := got[i].After.Roles[id]
			if r == nil || r.Name != want || r.Color != red {
				t.Errorf("event %d: After holds role %+v, want name %q", i, r, want)
			}
			if got[i].After.OwnerID() != f.owner || got[i].After.Name != "test guild" {
				t.Errorf("event %d: After lacks the guild's own fields", i)
			}
			if len(got[i].After.Channels)+len(got[i].After.Members) != 0 {
				t.Errorf("event %d: After holds what the event did not change", i)
			}
		}
		third := "third"
		f.send(f.owner, guild.TypeRoleUpdate, guild.RoleChange{ID: id, RoleFields: guild.RoleFields{Name: &third}})
		if got[0].After.Roles[id].Name != first {
			t.Error("a later event changed an earlier event's After")
		}
	})
}

// A message's After holds the members it shows: its sender's and those it
// names; a new DM room's holds every member.
func TestAfterOfMessagesAndRooms(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		member, other := f.core.NewID(), f.core.NewID()
		f.join(member)
		f.join(other)
		nick := "nick"
		f.send(f.owner, guild.TypeMemberUpdate, guild.MemberUpdate{UserID: member, Nick: &nick})
		h := listen(t, f.core, f.guild)
		msg := f.core.NewID()
		f.send(member, guild.TypeMessageCreate, guild.MessageCreate{ID: msg, ChannelID: f.text, Content: "hi", Mentions: []snowflake.ID{f.owner}})
		f.send(other, guild.TypeReactionAdd, guild.Reaction{MessageID: msg, ChannelID: f.text, Emoji: guild.Emoji{Name: "👍"}})
		f.send(f.owner, guild.TypeReactionRemove, guild.Reaction{MessageID: msg, ChannelID: f.text, Emoji: guild.Emoji{Name: "👍"}, UserID: other})
		got := h.take()
		wants := [][]snowflake.ID{sorted(member, f.owner), {other}, sorted(f.owner, other)}
		if len(got) != len(wants) {
			t.Fatalf("heard %d events", len(got))
		}
		for i, want := range wants {
			if m := members(got[i].After); !slices.Equal(m, want) {
				t.Errorf("%s: After holds members %v, want %v", got[i].Event.Type, m, want)
			}
			if len(got[i].After.Roles)+len(got[i].After.Channels) != 0 {
				t.Errorf("%s: After holds roles or channels", got[i].Event.Type)
			}
		}
		if m := got[0].After.Members[member]; m == nil || m.Nick != nick {
			t.Errorf("message's After shows its sender as %+v", m)
		}

		dm := f.core.NewID()
		origin := f.core.Origin().String()
		hd := listen(t, f.core, dm)
		if _, err := f.core.Send(ctx, dm, f.owner, guild.TypeGuildCreate, guild.GuildCreate{ID: dm, Kind: guild.KindGroupDM,
			Recipients: []guild.Recipient{{UserID: f.owner, Origin: origin}, {UserID: member, Origin: origin}, {UserID: other, Origin: origin}}}); err != nil {
			t.Fatal(err)
		}
		got = hd.take()
		if len(got) != 1 || !slices.Equal(members(got[0].After), sorted(f.owner, member, other)) {
			t.Errorf("group DM's create: After holds members %v", members(got[0].After))
		}
	})
}

// State events that forked and were settled together: the last reports
// the changes of the refold and the state after it; the others hold the
// guild's own fields.
func TestAfterOfAFork(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		p := newPair(t, db)
		ctx := context.Background()
		shared := len(logOf(t, p.db, p.guild))
		for i := range 3 {
			nick := fmt.Sprintf("owner's %d", i)
			p.send(p.owner, guild.TypeMemberUpdate, guild.MemberUpdate{UserID: p.owner, Nick: &nick})
			nick = fmt.Sprintf("member's %d", i)
			if _, err := p.b.core.Send(ctx, p.guild, p.member, guild.TypeMemberUpdate, guild.MemberUpdate{UserID: p.member, Nick: &nick}); err != nil {
				t.Fatal(err)
			}
		}
		h := listen(t, p.b.core, p.guild)
		for i, err := range p.b.core.AcceptBatch(ctx, logOf(t, p.db, p.guild)[shared:]) {
			if err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
		}
		got := h.take()
		if len(got) != 3 {
			t.Fatalf("heard %d events", len(got))
		}
		last := got[len(got)-1]
		if m := last.After.Members[p.owner]; m == nil || m.Nick != "owner's 2" {
			t.Errorf("the refold's After holds the owner as %+v", m)
		}
		for _, a := range got[:len(got)-1] {
			if a.After == nil || len(a.After.Members) != 0 || a.After.ID != p.guild {
				t.Errorf("an event set aside has After %+v", a.After)
			}
		}
	})
}
