package room_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"concord/federation/guild"
	"concord/federation/perm"
	"concord/federation/snowflake"
	"concord/storage"
	"concord/storage/storagetest"
)

// TestCheckAgreesWithSend gives Check and then Send each event of a table:
// Check's verdict must be Send's, and Check must store and change nothing.
func TestCheckAgreesWithSend(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		member, stranger := f.core.NewID(), f.core.NewID()
		f.join(member)
		mine, theirs := f.core.NewID(), f.core.NewID()
		f.send(f.owner, guild.TypeMessageCreate, guild.MessageCreate{ID: mine, ChannelID: f.text, Content: "the owner's"})
		f.send(member, guild.TypeMessageCreate, guild.MessageCreate{ID: theirs, ChannelID: f.text, Content: "the member's"})
		role, name, long, edited := f.core.NewID(), "role", strings.Repeat("n", 101), "edited"
		manage := perm.ManageRoles

		tests := []struct {
			name    string
			guild   snowflake.ID // 0: the fixture's
			sender  snowflake.ID
			typ     string
			content any
			ok      bool
		}{
			{"message", 0, member, guild.TypeMessageCreate, guild.MessageCreate{ID: f.core.NewID(), ChannelID: f.text, Content: "hi"}, true},
			{"message by a stranger", 0, stranger, guild.TypeMessageCreate, guild.MessageCreate{ID: f.core.NewID(), ChannelID: f.text, Content: "hi"}, false},
			{"message to no channel", 0, member, guild.TypeMessageCreate, guild.MessageCreate{ID: f.core.NewID(), ChannelID: f.core.NewID(), Content: "hi"}, false},
			{"message too large for an event", 0, member, guild.TypeMessageCreate, guild.MessageCreate{ID: f.core.NewID(), ChannelID: f.text, Content: strings.Repeat("x", 70000)}, false},
			{"edit of one's own", 0, member, guild.TypeMessageEdit, guild.MessageEdit{ID: theirs, ChannelID: f.text, Content: &edited}, true},
			{"edit of another's", 0, member, guild.TypeMessageEdit, guild.MessageEdit{ID: mine, ChannelID: f.text, Content: &edited}, false},
			{"delete of another's", 0, member, guild.TypeMessageDelete, guild.MessageTarget{ID: mine, ChannelID: f.text}, false},
			{"delete by a moderator", 0, f.owner, guild.TypeMessageDelete, guild.MessageTarget{ID: theirs, ChannelID: f.text}, true},
			{"reaction to no message", 0, member, guild.TypeReactionAdd, guild.Reaction{MessageID: f.core.NewID(), ChannelID: f.text, Emoji: guild.Emoji{Name: "👍"}}, false},
			{"reaction", 0, member, guild.TypeReactionAdd, guild.Reaction{MessageID: mine, ChannelID: f.text, Emoji: guild.Emoji{Name: "👍"}}, true},
			{"role without the right", 0, member, guild.TypeRoleCreate, guild.RoleChange{ID: f.core.NewID(), RoleFields: guild.RoleFields{Name: &name}}, false},
			{"role", 0, f.owner, guild.TypeRoleCreate, guild.RoleChange{ID: role, RoleFields: guild.RoleFields{Name: &name, Permissions: &manage}}, true},
			{"role of a taken ID", 0, f.owner, guild.TypeRoleCreate, guild.RoleChange{ID: role, RoleFields: guild.RoleFields{Name: &name}}, false},
			{"channel name too long", 0, f.owner, guild.TypeChannelUpdate, guild.ChannelUpdate{ID: f.text, ChannelFields: guild.ChannelFields{Name: &long}}, false},
			{"join by a bad invite", 0, stranger, guild.TypeMemberJoin, guild.MemberJoin{InviteCode: "nope"}, false},
			{"content of the wrong shape", 0, f.owner, guild.TypeRoleCreate, []byte(`{"id":"1","name":7}`), false},
			{"unknown type", 0, f.owner, "poll.create", map[string]any{}, false},
			{"second create", 0, f.owner, guild.TypeGuildCreate, guild.GuildCreate{ID: f.guild, Kind: guild.KindGuild, Name: "again"}, false},
			{"unknown guild", f.core.NewID(), f.owner, guild.TypeMessageCreate, guild.MessageCreate{ID: f.core.NewID(), ChannelID: f.text, Content: "hi"}, false},
		}
		for _, tt := range tests {
			gid := tt.guild
			if gid == 0 {
				gid = f.guild
			}
			rows := f.count(`SELECT COUNT(*) FROM events`)
			hash, _ := stateHash(t, f.core, f.guild)
			checked := f.core.Check(ctx, gid, tt.sender, tt.typ, tt.content)
			if n := f.count(`SELECT COUNT(*) FROM events`); n != rows {
				t.Errorf("%s: Check stored %d events", tt.name, n-rows)
			}
			if h, _ := stateHash(t, f.core, f.guild); h != hash {
				t.Errorf("%s: Check changed the state", tt.name)
			}
			_, sent := f.core.Send(ctx, gid, tt.sender, tt.typ, tt.content)
			if fmt.Sprint(checked) != fmt.Sprint(sent) {
				t.Errorf("%s: Check = %v, Send = %v", tt.name, checked, sent)
			}
			if (sent == nil) != tt.ok {
				t.Errorf("%s: Send = %v, want success %v", tt.name, sent, tt.ok)
			}
		}
	})
}
