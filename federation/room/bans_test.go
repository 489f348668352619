package room_test

import (
	"testing"

	"concord/federation/guild"
	"concord/storage"
	"concord/storage/storagetest"
)

// TestBanWindowEndsWithTheBan checks that a ban's delete window erases the
// messages sent before the ban only: a member unbanned and invited back
// posts normally.
func TestBanWindowEndsWithTheBan(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db)
		user := f.core.NewID()
		f.join(user)
		before := f.core.NewID()
		f.send(user, guild.TypeMessageCreate, guild.MessageCreate{ID: before, ChannelID: f.text, Content: "spam"})
		f.send(f.owner, guild.TypeMemberBan, guild.MemberBan{UserID: user, DeleteMessageSeconds: 3600})
		if n := f.count(`SELECT COUNT(*) FROM messages WHERE id = ? AND deleted = TRUE`, int64(before)); n != 1 {
			t.Fatal("the ban did not erase the message in its window")
		}
		f.send(f.owner, guild.TypeMemberUnban, guild.MemberTarget{UserID: user})
		f.join(user)
		after := f.core.NewID()
		f.send(user, guild.TypeMessageCreate, guild.MessageCreate{ID: after, ChannelID: f.text, Content: "sorry"})
		if n := f.count(`SELECT COUNT(*) FROM messages WHERE id = ? AND deleted = FALSE AND content = 'sorry'`, int64(after)); n != 1 {
			t.Error("a message posted after the unban was erased by the old ban's window")
		}
	})
}
