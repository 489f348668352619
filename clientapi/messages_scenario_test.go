package clientapi

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"concord/federation/guild"
	"concord/federation/snowflake"
	"concord/storage"
	"concord/storage/storagetest"
)

// TestDiscordgoMessageScenario drives the message routes through
// discordgo's own methods; its strict decoding checks every object.
func TestDiscordgoMessageScenario(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db, func(c *testConfig) { c.MessagesPer10s = 1000 })
		pointDiscordgo(t, h.srv.URL)
		alice, bob := h.register("alice"), h.register("bob")
		as, _ := discordgo.New(alice.Token)
		bs, _ := discordgo.New(bob.Token)
		check := func(what string, err error) {
			t.Helper()
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}
		g, err := as.GuildCreate("Talk")
		check("GuildCreate", err)
		chans, err := as.GuildChannels(g.ID)
		check("GuildChannels", err)
		c := chans[0].ID
		inv, err := as.ChannelInviteCreate(c, discordgo.Invite{})
		check("invite", err)
		_, err = bs.InviteAccept(inv.Code)
		check("InviteAccept", err)

		m1, err := as.ChannelMessageSend(c, fmt.Sprintf("hello <@%d>", bob.UserID))
		check("ChannelMessageSend", err)
		if m1.Content == "" || m1.GuildID != g.ID || m1.Author.Username != "alice" || len(m1.Mentions) != 1 ||
			m1.Mentions[0].ID != fmt.Sprint(bob.UserID) || m1.Member == nil || m1.Type != discordgo.MessageTypeDefault {
			t.Fatalf("sent %+v", m1)
		}
		reply, err := bs.ChannelMessageSendReply(c, "hi back", m1.Reference())
		check("ChannelMessageSendReply", err)
		if reply.Type != discordgo.MessageTypeReply || reply.ReferencedMessage == nil || reply.ReferencedMessage.ID != m1.ID ||
			len(reply.Mentions) != 1 || reply.Mentions[0].ID != fmt.Sprint(alice.UserID) {
			t.Fatalf("reply %+v", reply)
		}
		edited, err := as.ChannelMessageEdit(c, m1.ID, "hello, edited")
		check("ChannelMessageEdit", err)
		if edited.Content != "hello, edited" || edited.EditedTimestamp == nil {
			t.Fatalf("edited %+v", edited)
		}
		if _, err := bs.ChannelMessageEdit(c, m1.ID, "not mine"); err == nil {
			t.Fatal("bob edited alice's message")
		}

		check("MessageReactionAdd unicode", bs.MessageReactionAdd(c, m1.ID, "👍"))
		check("MessageReactionAdd unicode again", as.MessageReactionAdd(c, m1.ID, "👍"))
		emoji := h.core.NewID()
		h.sendAs(snowflakeOf(t, g.ID), alice.UserID, guild.TypeEmojiCreate, guild.EmojiCreate{ID: emoji, Name: "blob", Image: "x"})
		check("MessageReactionAdd custom", bs.MessageReactionAdd(c, m1.ID, "blob:"+emoji.String()))
		got, err := as.ChannelMessage(c, m1.ID)
		check("ChannelMessage", err)
		if len(got.Reactions) != 2 || got.Reactions[0].Count != 2 || !got.Reactions[0].Me || got.Reactions[0].Emoji.Name != "👍" ||
			got.Reactions[1].Emoji.ID != emoji.String() || got.Reactions[1].Me {
			t.Fatalf("reactions %+v", got.Reactions)
		}
		users, err := as.MessageReactions(c, m1.ID, "👍", 10, "", "")
		check("MessageReactions", err)
		if len(users) != 2 {
			t.Fatalf("reaction users %+v", users)
		}
		check("MessageReactionRemove", as.MessageReactionRemove(c, m1.ID, "👍", fmt.Sprint(bob.UserID)))
		check("MessageReactionsRemoveEmoji", as.MessageReactionsRemoveEmoji(c, m1.ID, "blob:"+emoji.String()))
		got, err = as.ChannelMessage(c, m1.ID)
		check("ChannelMessage", err)
		if len(got.Reactions) != 1 || got.Reactions[0].Count != 1 {
			t.Fatalf("reactions after removal %+v", got.Reactions)
		}
		if err := as.MessageReactionAdd(c, m1.ID, "notanemoji"); err == nil {
			t.Fatal("a word was taken as an emoji")
		}

		check("ChannelMessagePin", as.ChannelMessagePin(c, m1.ID))
		pins, err := bs.ChannelMessagesPinned(c)
		check("ChannelMessagesPinned", err)
		if len(pins) != 1 || pins[0].ID != m1.ID || !pins[0].Pinned {
			t.Fatalf("pins %+v", pins)
		}
		check("ChannelMessageUnpin", as.ChannelMessageUnpin(c, m1.ID))

		var ids []string
		for i := range 10 {
			m, err := as.ChannelMessageSend(c, fmt.Sprint("n", i))
			check("send", err)
			ids = append(ids, m.ID)
		}
		page, err := bs.ChannelMessages(c, 3, "", "", "")
		check("ChannelMessages", err)
		if len(page) != 3 || page[0].ID != ids[9] || page[2].ID != ids[7] {
			t.Fatalf("latest page %v", msgIDs(page))
		}
		page, err = bs.ChannelMessages(c, 3, ids[5], "", "")
		check("ChannelMessages before", err)
		if len(page) != 3 || page[0].ID != ids[4] || page[2].ID != ids[2] {
			t.Fatalf("before page %v", msgIDs(page))
		}
		page, err = bs.ChannelMessages(c, 3, "", ids[5], "")
		check("ChannelMessages after", err)
		if len(page) != 3 || page[0].ID != ids[8] || page[2].ID != ids[6] {
			t.Fatalf("after page %v", msgIDs(page))
		}
		page, err = bs.ChannelMessages(c, 4, "", "", ids[5])
		check("ChannelMessages around", err)
		if len(page) != 4 || page[0].ID != ids[7] || page[1].ID != ids[6] || page[2].ID != ids[5] || page[3].ID != ids[4] {
			t.Fatalf("around page %v", msgIDs(page))
		}

		check("ChannelMessageDelete", as.ChannelMessageDelete(c, ids[9]))
		if _, err := as.ChannelMessage(c, ids[9]); err == nil {
			t.Fatal("deleted message still answers")
		}
		check("ChannelMessagesBulkDelete", as.ChannelMessagesBulkDelete(c, ids[:5]))
		page, err = as.ChannelMessages(c, 100, "", "", "")
		check("ChannelMessages after deletes", err)
		if len(page) != 6 { // m1, the reply, n5..n8
			t.Fatalf("left %v", msgIDs(page))
		}
		got, err = as.ChannelMessage(c, reply.ID)
		check("reply after deletes", err)
		if got.ReferencedMessage == nil {
			t.Fatalf("reply lost its message: %+v", got)
		}
		check("ChannelMessageDelete m1", as.ChannelMessageDelete(c, m1.ID))
		st, b := h.do("GET", "/channels/"+c+"/messages/"+reply.ID, alice.Token, nil)
		if st != 200 || !strings.Contains(string(b), `"referenced_message":null`) {
			t.Fatalf("reply to a deleted message: %d %s", st, b)
		}
		check("ChannelTyping", bs.ChannelTyping(c))

		dm, err := as.UserChannelCreate(fmt.Sprint(bob.UserID))
		check("UserChannelCreate", err)
		if dm.Type != discordgo.ChannelTypeDM || len(dm.Recipients) != 1 || dm.Recipients[0].ID != fmt.Sprint(bob.UserID) {
			t.Fatalf("dm %+v", dm)
		}
		again, err := bs.UserChannelCreate(fmt.Sprint(alice.UserID))
		check("UserChannelCreate again", err)
		if again.ID != dm.ID {
			t.Fatalf("second DM %s, want the first %s", again.ID, dm.ID)
		}
		dmMsg, err := bs.ChannelMessageSend(dm.ID, "psst")
		check("send in DM", err)
		if dmMsg.GuildID != "" || dmMsg.ChannelID != dm.ID || dmMsg.Member != nil {
			t.Fatalf("dm message %+v", dmMsg)
		}
		check("react in DM", as.MessageReactionAdd(dm.ID, dmMsg.ID, "🎉"))
		if err := as.ChannelMessageDelete(dm.ID, dmMsg.ID); err == nil {
			t.Fatal("alice deleted bob's DM message")
		}
		var dms []*discordgo.Channel
		st, b = h.do("GET", "/users/@me/channels", alice.Token, nil)
		h.want(st, 200, b, &dms) // discordgo has no method for this route
		if len(dms) != 1 || dms[0].ID != dm.ID || dms[0].LastMessageID != dmMsg.ID {
			t.Fatalf("dms %+v", dms)
		}
		history, err := as.ChannelMessages(dm.ID, 10, "", "", "")
		check("DM history", err)
		if len(history) != 1 || history[0].Content != "psst" || len(history[0].Reactions) != 1 {
			t.Fatalf("dm history %+v", history)
		}
	})
}

func msgIDs(ms []*discordgo.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Content
	}
	return out
}

func snowflakeOf(t *testing.T, s string) snowflake.ID {
	t.Helper()
	id, err := snowflake.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
