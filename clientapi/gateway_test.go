package clientapi

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"concord/clientapi/auth"
	"concord/clientapi/dispatch"
	"concord/storage"
	"concord/storage/storagetest"
)

// startGateway starts the translator that feeds h's gateway from the
// event core and the live state, and points discordgo's gateway endpoint
// at h's server.
func startGateway(t testing.TB, h *harness) {
	t.Helper()
	tr, err := dispatch.NewTranslator(dispatch.Config{}, h.deps, h.gw)
	if err != nil {
		t.Fatal(err)
	}
	saved := []string{discordgo.EndpointGateway, discordgo.EndpointGatewayBot}
	discordgo.EndpointGateway = h.srv.URL + "/api/v9/gateway"
	discordgo.EndpointGatewayBot = discordgo.EndpointGateway + "/bot"
	t.Cleanup(func() {
		discordgo.EndpointGateway, discordgo.EndpointGatewayBot = saved[0], saved[1]
		tr.Close()
		h.gw.Close()
		h.srv.CloseClientConnections()
	})
}

// events collects the dispatches a discordgo session sees. discordgo runs
// handlers on their own goroutines, so arrival order is not dispatch order:
// want searches everything seen so far.
type events struct {
	ch   chan string
	seen []string
}

func watch(t *testing.T, s *discordgo.Session) *events {
	ev := &events{ch: make(chan string, 256)}
	s.AddHandler(func(_ *discordgo.Session, e *discordgo.Event) {
		if e.Type != "" {
			ev.ch <- e.Type + " " + string(e.RawData)
		}
	})
	return ev
}

// want waits for a dispatch of typ whose payload contains every of has.
func (ev *events) want(t *testing.T, typ string, has ...string) string {
	t.Helper()
	match := func(e string) bool {
		if !strings.HasPrefix(e, typ+" ") {
			return false
		}
		for _, s := range has {
			if !strings.Contains(e, s) {
				return false
			}
		}
		return true
	}
	for i, e := range ev.seen {
		if match(e) {
			ev.seen = append(ev.seen[:i], ev.seen[i+1:]...)
			return e
		}
	}
	deadline := time.After(3 * time.Second)
	for {
		select {
		case e := <-ev.ch:
			if match(e) {
				return e
			}
			ev.seen = append(ev.seen, e)
		case <-deadline:
			t.Fatalf("no %s with %q within 3 s", typ, has)
		}
	}
}

// drain returns everything seen and arrived so far.
func (ev *events) drain() []string {
	for {
		select {
		case e := <-ev.ch:
			ev.seen = append(ev.seen, e)
		default:
			return ev.seen
		}
	}
}

func TestGatewayEndToEnd(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db, func(c *testConfig) { c.MessagesPer10s = 1000 })
		pointDiscordgo(t, h.srv.URL)
		startGateway(t, h)
		alice, bob := h.register("alice"), h.register("bob")
		as, _ := discordgo.New(alice.Token)
		bs, _ := discordgo.New(bob.Token)
		as.Identify.Intents, bs.Identify.Intents = discordgo.IntentsAll, discordgo.IntentsAll
		aev, bev := watch(t, as), watch(t, bs)
		for _, s := range []*discordgo.Session{as, bs} {
			if err := s.Open(); err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer s.Close()
		}
		aev.want(t, "READY", `"username":"alice"`)
		bev.want(t, "READY", `"username":"bob"`)

		check := func(what string, err error) {
			t.Helper()
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}
		g, err := as.GuildCreate("Talk")
		check("GuildCreate", err)
		aev.want(t, "GUILD_CREATE", `"name":"Talk"`)
		chans, err := as.GuildChannels(g.ID)
		check("GuildChannels", err)
		c := chans[0].ID
		inv, err := as.ChannelInviteCreate(c, discordgo.Invite{})
		check("invite", err)
		aev.want(t, "INVITE_CREATE", inv.Code)
		_, err = bs.InviteAccept(inv.Code)
		check("InviteAccept", err)
		aev.want(t, "GUILD_MEMBER_ADD", `"username":"bob"`)
		bev.want(t, "GUILD_CREATE", `"name":"Talk"`, `"username":"alice"`)

		start := time.Now()
		m, err := as.ChannelMessageSend(c, fmt.Sprintf("hello <@%d>", bob.UserID))
		check("ChannelMessageSend", err)
		bev.want(t, "MESSAGE_CREATE", m.ID, `"content":"hello `)
		if d := time.Since(start); d > time.Second {
			t.Errorf("MESSAGE_CREATE after %v", d)
		}
		check("react", bs.MessageReactionAdd(c, m.ID, "👍"))
		aev.want(t, "MESSAGE_REACTION_ADD", m.ID, "👍")
		_, err = as.ChannelMessageEdit(c, m.ID, "edited")
		check("edit", err)
		bev.want(t, "MESSAGE_UPDATE", "edited")
		check("delete", as.ChannelMessageDelete(c, m.ID))
		bev.want(t, "MESSAGE_DELETE", m.ID)

		secret, err := as.GuildChannelCreateComplex(g.ID, discordgo.GuildChannelCreateData{Name: "secret",
			PermissionOverwrites: []*discordgo.PermissionOverwrite{{ID: g.ID, Type: discordgo.PermissionOverwriteTypeRole, Deny: discordgo.PermissionViewChannel}}})
		check("secret channel", err)
		aev.want(t, "CHANNEL_CREATE", secret.ID)
		_, err = as.ChannelMessageSend(secret.ID, "for alice only")
		check("secret message", err)
		aev.want(t, "MESSAGE_CREATE", "for alice only")
		role, err := as.GuildRoleCreate(g.ID, &discordgo.RoleParams{Name: "mods"})
		check("role", err)
		bev.want(t, "GUILD_ROLE_CREATE", role.ID)
		// Bob never saw the secret channel or its message.
		for _, e := range bev.drain() {
			if strings.Contains(e, secret.ID) {
				t.Fatalf("bob saw %s", e)
			}
		}

		// Live state: typing, presence and voice reach the guild.
		check("typing", bs.ChannelTyping(c))
		aev.want(t, "TYPING_START", fmt.Sprintf(`"user_id":"%d"`, bob.UserID), `"member":{"user":{"id":"`+fmt.Sprint(bob.UserID))
		// discordgo sends created_at as an RFC 3339 string and reads it
		// only as milliseconds: the activity it gets back must decode.
		presences := make(chan *discordgo.PresenceUpdate, 16)
		as.AddHandler(func(_ *discordgo.Session, p *discordgo.PresenceUpdate) { presences <- p })
		check("status", bs.UpdateStatusComplex(discordgo.UpdateStatusData{Status: "dnd",
			Activities: []*discordgo.Activity{{Name: "chess", Type: discordgo.ActivityTypeGame}}}))
		aev.want(t, "PRESENCE_UPDATE", fmt.Sprintf(`"id":"%d"`, bob.UserID), `"status":"dnd"`, "chess")
		select {
		case p := <-presences:
			if len(p.Activities) != 1 || p.Activities[0].Name != "chess" || p.Activities[0].CreatedAt.Year() < 2020 {
				t.Errorf("discordgo decoded the presence as %+v", p.Presence)
			}
		case <-time.After(3 * time.Second):
			t.Error("discordgo could not decode the PRESENCE_UPDATE")
		}
		voice, err := as.GuildChannelCreate(g.ID, "lounge", discordgo.ChannelTypeGuildVoice)
		check("voice channel", err)
		check("voice join", bs.ChannelVoiceJoinManual(g.ID, voice.ID, true, false))
		aev.want(t, "VOICE_STATE_UPDATE", voice.ID, `"self_mute":true`)
		// A moderator moves bob (PATCH member channel_id); his own flags stay.
		stage, err := as.GuildChannelCreate(g.ID, "stage", discordgo.ChannelTypeGuildVoice)
		check("second voice channel", err)
		check("move", as.GuildMemberMove(g.ID, fmt.Sprint(bob.UserID), &stage.ID))
		aev.want(t, "VOICE_STATE_UPDATE", stage.ID, `"self_mute":true`)
		if err := as.GuildMemberMove(g.ID, fmt.Sprint(alice.UserID), &stage.ID); err == nil || !strings.Contains(err.Error(), "40032") {
			t.Errorf("moving someone not in voice: %v, want 40032", err)
		}

		check("ban", as.GuildBanCreate(g.ID, fmt.Sprint(bob.UserID), 0))
		aev.want(t, "GUILD_BAN_ADD", `"username":"bob"`)
		aev.want(t, "GUILD_MEMBER_REMOVE", fmt.Sprint(bob.UserID))
		aev.want(t, "VOICE_STATE_UPDATE", `"channel_id":null`) // a banned member leaves voice
		bev.want(t, "GUILD_DELETE", g.ID)
	})
}

// TestFriendPresence: friends who share no guild see each other's
// presence, in READY and as PRESENCE_UPDATE without a guild_id.
func TestFriendPresence(t *testing.T) {
	db := storagetest.Open(t, storage.Config{Driver: storage.SQLite, DSN: t.TempDir() + "/db"})
	h := newHarness(t, db)
	pointDiscordgo(t, h.srv.URL)
	startGateway(t, h)
	ann, ben, cal := h.register("ann"), h.register("ben"), h.register("cal")
	for _, step := range []struct {
		token string
		to    auth.Pair
	}{{ann.Token, ben}, {ben.Token, ann}} {
		st, body := h.do("PUT", fmt.Sprintf("/users/@me/relationships/%d", step.to.UserID), step.token, nil)
		h.want(st, 204, body, nil)
	}
	open := func(p auth.Pair, status string) (*discordgo.Session, *events) {
		s, _ := discordgo.New(p.Token)
		s.Identify.Intents = discordgo.IntentsAll
		s.Identify.Presence.Status = status
		ev := watch(t, s)
		if err := s.Open(); err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s, ev
	}
	bs, _ := open(ben, "idle")
	_, aev := open(ann, "online")
	aev.want(t, "READY", fmt.Sprintf(`"presences":[{"user":{"id":"%d"},"status":"idle"`, ben.UserID))
	_, cev := open(cal, "online")
	cev.want(t, "READY", `"presences":[]`)
	if err := bs.UpdateStatusComplex(discordgo.UpdateStatusData{Status: "dnd"}); err != nil {
		t.Fatal(err)
	}
	e := aev.want(t, "PRESENCE_UPDATE", fmt.Sprintf(`"id":"%d"`, ben.UserID), `"status":"dnd"`)
	if strings.Contains(e, "guild_id") {
		t.Errorf("a friend's presence came with a guild: %s", e)
	}
	for _, e := range cev.drain() {
		if strings.HasPrefix(e, "PRESENCE_UPDATE") {
			t.Errorf("a stranger saw %s", e)
		}
	}
}
