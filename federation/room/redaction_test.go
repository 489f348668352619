package room_test

import (
	"context"
	"testing"

	"concord/federation/guild"
	"concord/storage"
	"concord/storage/storagetest"
)

// TestLateEditOfDeletedMessageIsRedacted delivers an edit made on one node
// to a node that had already deleted the message: the edit's text must not
// be stored there either.
func TestLateEditOfDeletedMessageIsRedacted(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		p := newPair(t, db)
		m := p.message("original")
		if _, err := p.b.core.Send(context.Background(), p.guild, p.member, guild.TypeMessageCreate, m); err != nil {
			t.Fatal(err)
		}
		syncLog(t, p.b.db, p.core, p.guild)
		p.send(p.owner, guild.TypeMessageDelete, guild.MessageTarget{ID: m.ID, ChannelID: p.text})
		secret := "edited after the delete"
		if _, err := p.b.core.Send(context.Background(), p.guild, p.member, guild.TypeMessageEdit,
			guild.MessageEdit{ID: m.ID, ChannelID: p.text, Content: &secret}); err != nil {
			t.Fatal(err)
		}
		syncLog(t, p.b.db, p.core, p.guild)
		if n := p.count(`SELECT COUNT(*) FROM events WHERE guild_id = ? AND type = 'message.edit'`, int64(p.guild)); n != 1 {
			t.Fatalf("node a holds %d edits, want 1", n)
		}
		if n := p.count(`SELECT COUNT(*) FROM messages WHERE id = ? AND deleted = TRUE AND content = ''`, int64(m.ID)); n != 1 {
			t.Error("the late edit brought the deleted message back")
		}
		if n := p.count(`SELECT COUNT(*) FROM events WHERE guild_id = ? AND body LIKE ?`, int64(p.guild), "%"+secret+"%"); n != 0 {
			t.Error("the text of an edit to a deleted message is stored")
		}
	})
}
