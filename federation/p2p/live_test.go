package p2p_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"concord/federation/canonical"
	"concord/federation/guild"
	"concord/federation/live"
	"concord/federation/snowflake"
	"concord/storage"
)

// typingLog records the typing a node's live state hears.
type typingLog struct {
	mu  sync.Mutex
	got []live.Typing
}

func (l *typingLog) Typing(t live.Typing) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, t)
}
func (*typingLog) Presence(live.Presence)       {}
func (*typingLog) Voice(live.VoiceState)        {}
func (*typingLog) VoiceServer(live.VoiceServer) {}

func (l *typingLog) heard(want live.Typing) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, t := range l.got {
		if t.RoomID == want.RoomID && t.ChannelID == want.ChannelID && t.UserID == want.UserID {
			return true
		}
	}
	return false
}

// TestTypingAcrossNodes: a user typing on b reaches the live state of the
// other nodes of the room; a signal c signs for b's user is refused.
func TestTypingAcrossNodes(t *testing.T) {
	a, b, c, g, ub, uc := triangle(t, storage.SQLite)
	logs := map[*member]*typingLog{}
	for _, m := range []*member{a, b, c} {
		logs[m] = &typingLog{}
		t.Cleanup(m.live.Subscribe(logs[m]))
	}
	typing := live.Typing{RoomID: g.id, ChannelID: g.channel, UserID: ub}
	waitFor(t, "a and c to hear b's user typing", func() bool {
		b.live.Typing(live.Typing{RoomID: g.id, ChannelID: g.channel, UserID: ub, At: time.Now()})
		return logs[a].heard(typing) && logs[c].heard(typing)
	})

	elsewhere, name := a.core.NewID(), "elsewhere"
	made := a.send(t, g.id, g.owner, guild.TypeChannelCreate, guild.ChannelCreate{ID: elsewhere, ChannelFields: guild.ChannelFields{Name: &name}})
	waitFor(t, "every node to hold the new channel", func() bool { return b.holds(g.id, made) && c.holds(g.id, made) })
	signAs(t, c, g.id, map[string]any{"type": "typing", "guild_id": g.id.String(), "channel_id": elsewhere.String(),
		"user_id": ub.String()})
	after := live.Typing{RoomID: g.id, ChannelID: elsewhere, UserID: uc}
	waitFor(t, "a to hear c's own user", func() bool {
		c.live.Typing(live.Typing{RoomID: g.id, ChannelID: elsewhere, UserID: uc, At: time.Now()})
		return logs[a].heard(after)
	})
	if logs[a].heard(live.Typing{RoomID: g.id, ChannelID: elsewhere, UserID: ub}) {
		t.Error("a took c's word for b's user")
	}
}

// TestPresenceAcrossNodes: a user of b coming online, changing status and
// leaving shows on a.
func TestPresenceAcrossNodes(t *testing.T) {
	a, b, _, _, ub, _ := triangle(t, storage.SQLite)
	status := func(m *member) string { return m.live.Presence(ub).Status }
	b.live.Connect(ub, &live.Request{Status: live.StatusDND, Activities: json.RawMessage(`[{"name":"chess","type":0}]`)})
	waitFor(t, "a to show b's user as dnd", func() bool { return status(a) == live.StatusDND })
	if got := string(a.live.Presence(ub).Activities); got != `[{"name":"chess","type":0}]` {
		t.Errorf("activities on a: %s", got)
	}
	b.live.SetPresence(ub, live.Request{Status: live.StatusIdle})
	waitFor(t, "a to show b's user as idle", func() bool { return status(a) == live.StatusIdle })
	b.live.Disconnect(ub)
	waitFor(t, "a to show b's user offline", func() bool { return status(a) == live.StatusOffline })
	if status(b) != live.StatusOffline {
		t.Errorf("b shows its own user %s", status(b))
	}
}

// TestVoiceStateAcrossNodes: a user of b joining a voice channel, muting
// and leaving shows in a's live state as b says, marked as b's; a voice
// signal c signs for b's user is refused.
func TestVoiceStateAcrossNodes(t *testing.T) {
	a, b, c, g, ub, uc := triangle(t, storage.SQLite)
	voice, name := a.core.NewID(), "lounge"
	made := a.send(t, g.id, g.owner, guild.TypeChannelCreate, guild.ChannelCreate{ID: voice, Type: guild.ChannelVoice,
		ChannelFields: guild.ChannelFields{Name: &name}})
	waitFor(t, "every node to hold the voice channel", func() bool { return b.holds(g.id, made) && c.holds(g.id, made) })
	stateOn := func(m *member, user snowflake.ID) *live.VoiceState {
		for _, v := range m.live.VoiceStates(g.id) {
			if v.UserID == user {
				return &v
			}
		}
		return nil
	}

	b.live.SetVoice(live.VoiceState{GuildID: g.id, ChannelID: voice, UserID: ub, SessionID: "s1"})
	waitFor(t, "a to see b's user in voice", func() bool {
		v := stateOn(a, ub)
		return v != nil && v.ChannelID == voice && v.Home == b.host.ID().String() && !v.SelfMute
	})
	b.live.SetVoice(live.VoiceState{GuildID: g.id, ChannelID: voice, UserID: ub, SessionID: "s1", SelfMute: true})
	waitFor(t, "a to see b's user muted", func() bool { v := stateOn(a, ub); return v != nil && v.SelfMute })

	// c speaks for b's user: a keeps b's word.
	signAs(t, c, g.id, map[string]any{"type": "voice", "guild_id": g.id.String(), "user_id": ub.String(), "voice": map[string]any{}})
	c.live.SetVoice(live.VoiceState{GuildID: g.id, ChannelID: voice, UserID: uc, SessionID: "s2"})
	waitFor(t, "a to see c's own user in voice", func() bool { return stateOn(a, uc) != nil })
	if v := stateOn(a, ub); v == nil || v.ChannelID != voice {
		t.Errorf("a took c's word that b's user left voice: %+v", v)
	}

	b.live.SetVoice(live.VoiceState{GuildID: g.id, UserID: ub, SessionID: "s1"})
	waitFor(t, "a to see b's user leave voice", func() bool { return stateOn(a, ub) == nil })
}

// signAs publishes on room gid's live topic the signal fields, signed by m
// as their origin now, as a hostile m would for another node's user.
func signAs(t *testing.T, m *member, gid snowflake.ID, fields map[string]any) {
	t.Helper()
	fields["origin"], fields["ts"] = m.host.ID().String(), time.Now().UnixMilli()
	in, err := canonical.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := m.key.Sign(in)
	if err != nil {
		t.Fatal(err)
	}
	fields["signature"] = base64.RawURLEncoding.EncodeToString(sig)
	body, _ := json.Marshal(fields)
	if err := m.fed.PublishLiveRaw(context.Background(), gid, body); err != nil {
		t.Fatal(err)
	}
}
