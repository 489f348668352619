package room_test

import (
	"context"
	"slices"
	"testing"

	"concord/federation/guild"
	"concord/federation/perm"
	"concord/federation/snowflake"
	"concord/storage"
	"concord/storage/storagetest"
)

// busyGuild fills f's guild with every kind of event the projections keep.
// With erase, messages are also deleted (one by one, in bulk and by a ban's
// delete window); with editBeforeDelete the deleted message was edited.
func busyGuild(t *testing.T, f *fixture, erase, editBeforeDelete bool) {
	str := func(s string) *string { return &s }
	num := func(n int) *int { return &n }
	bits := func(b perm.Bits) *perm.Bits { return &b }
	msg := func(author snowflake.ID, channel snowflake.ID, text string) snowflake.ID {
		id := f.core.NewID()
		f.send(author, guild.TypeMessageCreate, guild.MessageCreate{ID: id, ChannelID: channel, Content: text})
		return id
	}
	react := func(user, id snowflake.ID, typ, emoji string) {
		f.send(user, typ, guild.Reaction{MessageID: id, ChannelID: f.text, Emoji: guild.Emoji{Name: emoji}})
	}

	mod, helper := f.core.NewID(), f.core.NewID()
	f.send(f.owner, guild.TypeRoleCreate, guild.RoleChange{ID: mod, RoleFields: guild.RoleFields{Name: str("mod"), Position: num(2),
		Permissions: bits(perm.KickMembers | perm.BanMembers | perm.ManageMessages | perm.ManageRoles), Hoist: new(bool)}})
	f.send(f.owner, guild.TypeRoleCreate, guild.RoleChange{ID: helper, RoleFields: guild.RoleFields{Name: str("helper"), Position: num(1), Color: num(0xff00ff)}})
	f.send(f.owner, guild.TypeRoleUpdate, guild.RoleChange{ID: helper, RoleFields: guild.RoleFields{Mentionable: new(bool), UnicodeEmoji: str("🛟")}})

	category, news, voice := f.core.NewID(), f.core.NewID(), f.core.NewID()
	f.send(f.owner, guild.TypeChannelCreate, guild.ChannelCreate{ID: category, Type: guild.ChannelCategory, ChannelFields: guild.ChannelFields{Name: str("info")}})
	overwrites := []guild.OverwriteFields{
		{ID: f.guild, Type: perm.OverwriteRole, Deny: perm.SendMessages},
		{ID: helper, Type: perm.OverwriteRole, Allow: perm.SendMessages},
	}
	f.send(f.owner, guild.TypeChannelCreate, guild.ChannelCreate{ID: news, Type: guild.ChannelText,
		ChannelFields: guild.ChannelFields{Name: str("news"), Topic: str("read me"), ParentID: (*guild.Ref)(&category), Overwrites: &overwrites}})
	f.send(f.owner, guild.TypeChannelCreate, guild.ChannelCreate{ID: voice, Type: guild.ChannelVoice, ChannelFields: guild.ChannelFields{Name: str("talk"), UserLimit: num(5)}})
	f.send(f.owner, guild.TypeChannelUpdate, guild.ChannelUpdate{ID: f.text, ChannelFields: guild.ChannelFields{Topic: str("chat"), RateLimitPerUser: num(2)}})

	users := make([]snowflake.ID, 6)
	for i := range users {
		users[i] = f.core.NewID()
		f.join(users[i])
	}
	u0, u1, u2, u3, u4, u5 := users[0], users[1], users[2], users[3], users[4], users[5]
	f.send(f.owner, guild.TypeChannelOverwrite, guild.ChannelOverwrite{ChannelID: f.text,
		OverwriteFields: guild.OverwriteFields{ID: u4, Type: perm.OverwriteMember, Deny: perm.AddReactions}})
	f.send(f.owner, guild.TypeChannelOverwriteDelete, guild.ChannelOverwriteDelete{ChannelID: news, ID: f.guild})
	f.send(f.owner, guild.TypeMemberUpdate, guild.MemberUpdate{UserID: u0, RolesAdd: []snowflake.ID{mod}, Nick: str("boss")})
	f.send(f.owner, guild.TypeMemberUpdate, guild.MemberUpdate{UserID: u1, RolesAdd: []snowflake.ID{helper, mod}})
	f.send(f.owner, guild.TypeMemberUpdate, guild.MemberUpdate{UserID: u1, RolesRemove: []snowflake.ID{mod}})
	f.send(u0, guild.TypeMemberUpdate, guild.MemberUpdate{UserID: u4, RolesAdd: []snowflake.ID{helper}})
	f.send(f.owner, guild.TypeEmojiCreate, guild.EmojiCreate{ID: f.core.NewID(), Name: "blob", Image: "sha256-abc"})

	a := msg(u1, f.text, "first")
	b := msg(u1, f.text, "second, to be deleted")
	c := msg(u2, f.text, "from the one who gets banned")
	d := msg(f.owner, f.text, "announcement")
	msg(u1, news, "helpers may post news")
	edited := "first, edited"
	f.send(u1, guild.TypeMessageEdit, guild.MessageEdit{ID: a, ChannelID: f.text, Content: &edited})
	again := "announcement (v3)"
	f.send(f.owner, guild.TypeMessageEdit, guild.MessageEdit{ID: d, ChannelID: f.text, Content: str("announcement (v2)")})
	f.send(f.owner, guild.TypeMessageEdit, guild.MessageEdit{ID: d, ChannelID: f.text, Content: &again})
	if editBeforeDelete {
		f.send(u1, guild.TypeMessageEdit, guild.MessageEdit{ID: b, ChannelID: f.text, Content: str("second, edited")})
	}

	react(f.owner, a, guild.TypeReactionAdd, "👍")
	react(u0, a, guild.TypeReactionAdd, "👍")
	react(u1, a, guild.TypeReactionAdd, "🎉")
	react(u3, a, guild.TypeReactionAdd, "🎉")
	react(u0, a, guild.TypeReactionRemove, "👍")
	f.send(u0, guild.TypeReactionRemoveAll, guild.ReactionRemoveAll{MessageID: a, ChannelID: f.text, Emoji: &guild.Emoji{Name: "🎉"}})
	react(u3, a, guild.TypeReactionAdd, "🎉")
	react(f.owner, c, guild.TypeReactionAdd, "👀")
	f.send(f.owner, guild.TypeReactionRemoveAll, guild.ReactionRemoveAll{MessageID: c, ChannelID: f.text})
	react(u2, c, guild.TypeReactionAdd, "❤")
	react(u3, d, guild.TypeReactionAdd, "🔥")
	f.send(f.owner, guild.TypeReactionRemove, guild.Reaction{MessageID: d, ChannelID: f.text, Emoji: guild.Emoji{Name: "🔥"}, UserID: u3})

	f.send(f.owner, guild.TypePinAdd, guild.Pin{MessageID: a, ChannelID: f.text})
	f.send(f.owner, guild.TypePinAdd, guild.Pin{MessageID: c, ChannelID: f.text})
	f.send(f.owner, guild.TypePinAdd, guild.Pin{MessageID: d, ChannelID: f.text})
	f.send(f.owner, guild.TypePinRemove, guild.Pin{MessageID: d, ChannelID: f.text})

	var window int64
	if erase {
		f.send(u1, guild.TypeMessageDelete, guild.MessageTarget{ID: b, ChannelID: f.text})
		g, h := msg(f.owner, f.text, "bulk one"), msg(f.owner, f.text, "bulk two")
		f.send(u0, guild.TypeMessageBulkDelete, guild.MessageBulkDelete{ChannelID: f.text, IDs: []snowflake.ID{g, h}})
		window = 3600
	}

	msg(u2, f.text, "one more before the ban")
	f.send(u0, guild.TypeMemberKick, guild.MemberTarget{UserID: u3, Reason: "spam"})
	f.send(u0, guild.TypeMemberBan, guild.MemberBan{UserID: u2, Reason: "worse", DeleteMessageSeconds: window})
	f.send(u0, guild.TypeMemberBan, guild.MemberBan{UserID: f.core.NewID(), Reason: "pre-emptive"})
	msg(u5, f.text, "bye")
	f.send(u5, guild.TypeMemberLeave, struct{}{})
	code := "gone" + f.core.NewID().String()
	f.send(f.owner, guild.TypeInviteCreate, guild.InviteCreate{Code: code, ChannelID: f.text, MaxUses: 3, MaxAge: 3600})
	f.send(f.owner, guild.TypeInviteRevoke, guild.InviteRevoke{Code: code})
	f.send(f.owner, guild.TypeGuildUpdate, guild.GuildUpdate{Name: str("renamed guild"), SystemChannelID: (*guild.Ref)(&f.text)})
}

// checkRebuild dumps every projection of f's guild, rebuilds them from the
// log and requires the same rows and state, then a working guild.
func checkRebuild(t *testing.T, f *fixture) {
	ctx := context.Background()
	before := dump(t, f.db, f.guild)
	firstSeqs := `SELECT CAST(id AS TEXT), first_seq FROM channels WHERE guild_id = ? UNION ALL SELECT code, first_seq FROM invites WHERE guild_id = ?`
	seqsBefore := dumpQuery(t, f.db, firstSeqs, int64(f.guild), int64(f.guild))
	hashBefore, _ := stateHash(t, f.core, f.guild)
	if err := f.core.Rebuild(ctx, f.guild); err != nil {
		t.Fatalf("rebuild: %v", err)
	}
	if d := diffDumps(before, dump(t, f.db, f.guild)); d != "" {
		t.Errorf("projections differ after rebuild:\n%s", d)
	}
	// Where bare IDs lead does not move (spec/client-api.md, "IDs in routes").
	if after := dumpQuery(t, f.db, firstSeqs, int64(f.guild), int64(f.guild)); !slices.Equal(after, seqsBefore) {
		t.Errorf("first_seq moved: %v, was %v", after, seqsBefore)
	}
	if hashAfter, _ := stateHash(t, f.core, f.guild); hashAfter != hashBefore {
		t.Error("state differs after rebuild")
	}

	// The rebuilt room takes new events, local and from the log again.
	id := f.core.NewID()
	f.send(f.owner, guild.TypeMessageCreate, guild.MessageCreate{ID: id, ChannelID: f.text, Content: "after the rebuild"})
	if n := f.count(`SELECT COUNT(*) FROM messages WHERE id = ? AND content = 'after the rebuild'`, int64(id)); n != 1 {
		t.Error("message sent after the rebuild is not projected")
	}
	user := f.core.NewID()
	f.join(user)
	if n := f.count(`SELECT COUNT(*) FROM guild_members WHERE guild_id = ? AND user_id = ?`, int64(f.guild), int64(user)); n != 1 {
		t.Error("join after the rebuild is not projected")
	}
}

// TestRebuildProjections rebuilds a guild where no message was deleted.
func TestRebuildProjections(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db)
		busyGuild(t, f, false, false)
		checkRebuild(t, f)
	})
}

// TestRebuildDeletedMessages rebuilds a guild whose log holds redacted
// events: messages deleted by their author, in bulk and by a ban.
func TestRebuildDeletedMessages(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db)
		busyGuild(t, f, true, false)
		if n := f.count(`SELECT COUNT(*) FROM messages WHERE guild_id = ? AND deleted = TRUE`, int64(f.guild)); n < 5 {
			t.Fatalf("fixture deleted %d messages, want at least 5", n)
		}
		checkRebuild(t, f)
	})
}

// TestRebuildEditedThenDeleted rebuilds a guild where a message was edited
// and then deleted: its edit is redacted in the log, so the projection of
// a deleted message must not keep what only the edit said.
func TestRebuildEditedThenDeleted(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db)
		busyGuild(t, f, true, true)
		checkRebuild(t, f)
	})
}
