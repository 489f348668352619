package clientapi

import (
	"fmt"
	"slices"
	"testing"

	"github.com/bwmarrin/discordgo"

	"concord/clientapi/accounts"
	"concord/storage"
	"concord/storage/storagetest"
)

// TestDiscordgoGuildScenario drives the guild routes through discordgo's
// own methods: its strict decoding checks every object's JSON types.
func TestDiscordgoGuildScenario(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db)
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

		g, err := as.GuildCreate("Scenario")
		check("GuildCreate", err)
		if g.Name != "Scenario" || g.OwnerID != fmt.Sprint(alice.UserID) || len(g.Roles) != 1 || g.Roles[0].ID != g.ID {
			t.Fatalf("guild %+v", g)
		}
		chans, err := as.GuildChannels(g.ID)
		check("GuildChannels", err)
		if len(chans) != 1 || chans[0].Name != "general" {
			t.Fatalf("channels %+v", chans)
		}
		cat, err := as.GuildChannelCreate(g.ID, "Text", discordgo.ChannelTypeGuildCategory)
		check("category", err)
		text, err := as.GuildChannelCreateComplex(g.ID, discordgo.GuildChannelCreateData{Name: "chat", Type: discordgo.ChannelTypeGuildText, ParentID: cat.ID, Topic: "talk"})
		check("GuildChannelCreateComplex", err)
		if text.ParentID != cat.ID || text.Topic != "talk" {
			t.Fatalf("channel %+v", text)
		}
		voice, err := as.GuildChannelCreate(g.ID, "Voice", discordgo.ChannelTypeGuildVoice)
		check("voice", err)
		if voice.Bitrate != 64000 {
			t.Fatalf("voice %+v", voice)
		}
		slow := 10
		text, err = as.ChannelEdit(text.ID, &discordgo.ChannelEdit{RateLimitPerUser: &slow})
		check("ChannelEdit", err)
		if text.RateLimitPerUser != 10 {
			t.Fatalf("edited %+v", text)
		}

		perms := int64(discordgo.PermissionKickMembers | discordgo.PermissionBanMembers | discordgo.PermissionViewChannel)
		mods, err := as.GuildRoleCreate(g.ID, &discordgo.RoleParams{Name: "mods", Permissions: &perms})
		check("GuildRoleCreate", err)
		if mods.Permissions != perms || mods.Name != "mods" {
			t.Fatalf("role %+v", mods)
		}
		check("ChannelPermissionSet", as.ChannelPermissionSet(text.ID, mods.ID, discordgo.PermissionOverwriteTypeRole, discordgo.PermissionSendMessages, 0))
		text, err = as.Channel(text.ID)
		check("Channel", err)
		if len(text.PermissionOverwrites) != 1 || text.PermissionOverwrites[0].Allow != discordgo.PermissionSendMessages {
			t.Fatalf("overwrites %+v", text.PermissionOverwrites)
		}

		inv, err := as.ChannelInviteCreate(text.ID, discordgo.Invite{MaxAge: 3600, MaxUses: 5})
		check("ChannelInviteCreate", err)
		if len(inv.Code) != 20 || inv.Guild.ID != g.ID || inv.MaxUses != 5 {
			t.Fatalf("invite %+v", inv)
		}
		preview, err := bs.InviteWithCounts(inv.Code)
		check("InviteWithCounts", err)
		if preview.Guild.Name != "Scenario" || preview.ApproximateMemberCount != 1 {
			t.Fatalf("preview %+v", preview)
		}
		_, err = bs.InviteAccept(inv.Code)
		check("InviteAccept", err)
		bobID := fmt.Sprint(bob.UserID)
		check("GuildMemberRoleAdd", as.GuildMemberRoleAdd(g.ID, bobID, mods.ID))
		m, err := bs.GuildMember(g.ID, bobID)
		check("GuildMember", err)
		if !slices.Contains(m.Roles, mods.ID) || m.User.Username != "bob" {
			t.Fatalf("member %+v", m)
		}
		check("GuildMemberNickname", bs.GuildMemberNickname(g.ID, "@me", "bobby"))
		members, err := as.GuildMembers(g.ID, "", 1000)
		check("GuildMembers", err)
		if len(members) != 2 {
			t.Fatalf("members %+v", members)
		}
		ugs, err := bs.UserGuilds(100, "", "", false)
		check("UserGuilds", err)
		if len(ugs) != 1 || ugs[0].ID != g.ID || ugs[0].Owner || ugs[0].Permissions&discordgo.PermissionKickMembers == 0 {
			t.Fatalf("user guilds %+v", ugs)
		}

		check("GuildMemberDelete", as.GuildMemberDelete(g.ID, bobID))
		if _, err := bs.Guild(g.ID); err == nil {
			t.Fatal("kicked member still sees the guild")
		}
		check("GuildBanCreateWithReason", as.GuildBanCreateWithReason(g.ID, bobID, "spam", 1))
		ban, err := as.GuildBan(g.ID, bobID)
		check("GuildBan", err)
		if ban.Reason != "spam" || ban.User.ID != bobID {
			t.Fatalf("ban %+v", ban)
		}
		if _, err := bs.InviteAccept(inv.Code); err == nil {
			t.Fatal("banned user joined")
		}
		log, err := as.GuildAuditLog(g.ID, "", "", int(discordgo.AuditLogActionMemberBanAdd), 10)
		check("GuildAuditLog", err)
		if len(log.AuditLogEntries) != 1 || log.AuditLogEntries[0].TargetID != bobID || log.AuditLogEntries[0].Reason != "spam" {
			t.Fatalf("audit log %+v", log.AuditLogEntries)
		}
		check("GuildBanDelete", as.GuildBanDelete(g.ID, bobID))

		var app accounts.Application
		st, b := h.do("POST", "/applications", alice.Token, map[string]any{"name": "Helper"})
		h.want(st, 201, b, &app)
		st, b = h.do("POST", fmt.Sprintf("/oauth2/authorize?client_id=%d&scope=bot&permissions=3072", app.ID), alice.Token, map[string]any{"guild_id": g.ID, "authorize": true})
		h.want(st, 200, b, nil)
		botMember, err := as.GuildMember(g.ID, fmt.Sprint(app.ID))
		check("bot member", err)
		if !botMember.User.Bot || len(botMember.Roles) != 1 {
			t.Fatalf("bot member %+v roles %v", botMember.User, botMember.Roles)
		}
		roles, err := as.GuildRoles(g.ID)
		check("GuildRoles", err)
		for _, r := range roles {
			if r.ID == botMember.Roles[0] && (r.Name != "Helper" || r.Permissions != 3072) {
				t.Fatalf("bot role %+v", r)
			}
		}

		_, err = as.ChannelDelete(voice.ID)
		check("ChannelDelete", err)
		check("GuildRoleDelete", as.GuildRoleDelete(g.ID, mods.ID))
		check("GuildDelete", as.GuildDelete(g.ID))
		if _, err := as.Guild(g.ID); err == nil {
			t.Fatal("deleted guild still answers")
		}
	})
}
