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
	forged := map[string]any{"type": "typing", "guild_id": g.id.String(), "channel_id": elsewhere.String(),
		"user_id": ub.String(), "origin": c.host.ID().String(), "ts": time.Now().UnixMilli()}
	in, err := canonical.Marshal(forged)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := c.key.Sign(in)
	if err != nil {
		t.Fatal(err)
	}
	forged["signature"] = base64.RawURLEncoding.EncodeToString(sig)
	body, _ := json.Marshal(forged)
	if err := c.fed.PublishLiveRaw(context.Background(), g.id, body); err != nil {
		t.Fatal(err)
	}
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
