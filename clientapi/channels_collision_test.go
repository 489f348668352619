package clientapi

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"concord/federation/guild"
	"concord/federation/snowflake"
	"concord/storage"
	"concord/storage/storagetest"
)

// TestRoomsKeptApart: two guilds on one node carry the same channel,
// message and invite IDs, and the second guild's message event ID is
// ground to be the smaller. Each guild's members see only their own
// objects; a member of both, and a stranger holding the invite code, get
// the objects of the guild this node stored first (spec/client-api.md,
// "IDs in routes").
func TestRoomsKeptApart(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db)
		alice, bob, carol, dave := h.register("alice"), h.register("bob"), h.register("carol"), h.register("dave")
		ctx := context.Background()
		ga, gb, ch := h.core.NewID(), h.core.NewID(), h.core.NewID()
		var msg snowflake.ID
		build := func(g, owner snowflake.ID, name string) {
			h.sendAs(g, owner, guild.TypeGuildCreate, guild.GuildCreate{ID: g, Kind: guild.KindGuild, Name: "guild " + name})
			h.sendAs(g, owner, guild.TypeChannelCreate, guild.ChannelCreate{ID: ch, Type: guild.ChannelText,
				ChannelFields: guild.ChannelFields{Name: &name}})
			h.sendAs(g, owner, guild.TypeInviteCreate, guild.InviteCreate{Code: "same", ChannelID: ch})
			h.sendAs(g, carol.UserID, guild.TypeMemberJoin, guild.MemberJoin{InviteCode: "same"})
		}
		build(ga, alice.UserID, "a")
		build(gb, bob.UserID, "b")
		// A's message is the one of eight whose event ID is largest, so that
		// grinding B's below it takes few tries.
		var first string
		for i := 0; i < 8; i++ {
			id := h.core.NewID()
			ev, err := h.core.Send(ctx, ga, alice.UserID, guild.TypeMessageCreate, guild.MessageCreate{ID: id, ChannelID: ch, Content: "from a"})
			if err != nil {
				t.Fatal(err)
			}
			if ev.ID() > first {
				first, msg = ev.ID(), id
			}
		}
		// B's message with the same ID, its event ID ground below A's: were
		// messages keyed by ID alone, B's would replace A's.
		for i := 0; ; i++ {
			ev, err := h.core.Send(ctx, gb, bob.UserID, guild.TypeMessageCreate,
				guild.MessageCreate{ID: msg, ChannelID: ch, Content: "from b", Nonce: fmt.Sprint(i)})
			if err != nil {
				t.Fatal(err)
			}
			if ev.ID() < first {
				break
			}
			if i == 64 {
				t.Fatal("no smaller event ID in 64 tries")
			}
		}
		c, m := ch.String(), msg.String()
		get := func(token, path string, out any) int {
			t.Helper()
			st, b := h.do("GET", path, token, nil)
			if st == 200 {
				if err := json.Unmarshal(b, out); err != nil {
					t.Fatalf("GET %s: %s", path, b)
				}
			}
			return st
		}
		type messageObj struct{ Content string }
		for _, tc := range []struct {
			who     string
			token   string
			guild   snowflake.ID
			name    string
			content string
		}{
			{"alice", alice.Token, ga, "a", "from a"},
			{"bob", bob.Token, gb, "b", "from b"},
			{"carol (in both)", carol.Token, ga, "a", "from a"},
		} {
			var chObj struct {
				Name    string `json:"name"`
				GuildID string `json:"guild_id"`
			}
			if st := get(tc.token, "/channels/"+c, &chObj); st != 200 || chObj.Name != tc.name || chObj.GuildID != tc.guild.String() {
				t.Errorf("%s: channel = %d %+v, want %s of %s", tc.who, st, chObj, tc.name, tc.guild)
			}
			var one messageObj
			if st := get(tc.token, "/channels/"+c+"/messages/"+m, &one); st != 200 || one.Content != tc.content {
				t.Errorf("%s: message = %d %+v, want %q", tc.who, st, one, tc.content)
			}
			var page []messageObj
			if st := get(tc.token, "/channels/"+c+"/messages", &page); st != 200 || len(page) == 0 {
				t.Errorf("%s: history = %d %+v", tc.who, st, page)
			}
			for _, p := range page {
				if p.Content != tc.content {
					t.Errorf("%s: history holds %q, want only %q", tc.who, p.Content, tc.content)
				}
			}
		}

		// A reaction in B stays in B.
		st, b := h.do("PUT", "/channels/"+c+"/messages/"+m+"/reactions/%F0%9F%91%8D/@me", bob.Token, nil)
		h.want(st, 204, b, nil)
		var seen struct {
			Reactions []json.RawMessage `json:"reactions"`
		}
		get(alice.Token, "/channels/"+c+"/messages/"+m, &seen)
		if len(seen.Reactions) != 0 {
			t.Errorf("alice sees B's reaction: %s", seen.Reactions)
		}
		get(bob.Token, "/channels/"+c+"/messages/"+m, &seen)
		if len(seen.Reactions) != 1 {
			t.Errorf("bob sees reactions %s, want his one", seen.Reactions)
		}

		// Alice renaming the channel renames A's only.
		st, b = h.do("PATCH", "/channels/"+c, alice.Token, `{"name":"a2"}`)
		h.want(st, 200, b, nil)
		var chObj struct{ Name string }
		if get(bob.Token, "/channels/"+c, &chObj); chObj.Name != "b" {
			t.Errorf("bob's channel is now %q", chObj.Name)
		}

		// A stranger with the code joins the guild whose invite was stored first.
		var inv struct {
			Guild struct{ ID string } `json:"guild"`
		}
		if st := get(dave.Token, "/invites/same", &inv); st != 200 || inv.Guild.ID != ga.String() {
			t.Errorf("invite preview = %d %+v, want guild %s", st, inv, ga)
		}
		st, b = h.do("POST", "/invites/same", dave.Token, nil)
		h.want(st, 200, b, nil)
		var n int
		if err := db.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM guild_members WHERE user_id = ? AND guild_id = ?`,
			int64(dave.UserID), int64(ga)).Scan(&n); err != nil || n != 1 {
			t.Errorf("dave in guild a: %d, %v", n, err)
		}

		// Both rooms' rows are there, each its own.
		for g, want := range map[snowflake.ID]string{ga: "from a", gb: "from b"} {
			var content string
			if err := db.Reader().QueryRowContext(ctx, `SELECT content FROM messages WHERE guild_id = ? AND id = ?`,
				int64(g), int64(msg)).Scan(&content); err != nil || content != want {
				t.Errorf("guild %s message = %q, %v; want %q", g, content, err, want)
			}
		}
	})
}
