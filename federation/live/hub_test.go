package live

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"concord/federation/snowflake"
)

// recorder is a Listener that writes down what it hears.
type recorder struct {
	mu  sync.Mutex
	got []string
	hub *Hub // when set, every callback also reads the hub
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.got = append(r.got, s)
	r.mu.Unlock()
}

func (r *recorder) Presence(p Presence) {
	if r.hub != nil {
		r.hub.Presence(p.UserID)
	}
	r.add(fmt.Sprintf("presence %s %s %s", p.UserID, p.Status, p.Activities))
}

func (r *recorder) Typing(t Typing) {
	r.add(fmt.Sprintf("typing %s %s %s", t.RoomID, t.ChannelID, t.UserID))
}

func (r *recorder) Voice(v VoiceState) {
	if r.hub != nil {
		r.hub.VoiceStates(v.GuildID)
	}
	r.add(fmt.Sprintf("voice %s %s %s", v.GuildID, v.ChannelID, v.UserID))
}

func (r *recorder) VoiceServer(s VoiceServer) {
	r.add(fmt.Sprintf("server %s %s %s %s", s.GuildID, s.UserID, s.Token, s.Endpoint))
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.got
	r.got = nil
	return out
}

func (r *recorder) wait(t *testing.T, want ...string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	var got []string
	for time.Now().Before(deadline) {
		r.mu.Lock()
		got = append([]string(nil), r.got...)
		r.mu.Unlock()
		if len(got) >= len(want) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	r.take()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("heard %q, want %q", got, want)
	}
}

func newHub(t *testing.T, grace time.Duration) (*Hub, *recorder) {
	h := New(grace)
	rec := &recorder{hub: h}
	h.Subscribe(rec)
	t.Cleanup(h.Close)
	return h, rec
}

func TestPresence(t *testing.T) {
	h, rec := newHub(t, time.Hour)
	const u snowflake.ID = 7
	h.SetPresence(u, Request{Status: StatusDND}) // not connected: ignored
	h.Connect(u, nil)
	rec.wait(t, "presence 7 online []")
	h.SetPresence(u, Request{Status: StatusDND, Activities: json.RawMessage(`[{"name":"chess","type":0}]`)})
	h.SetPresence(u, Request{Status: "nonsense"})
	h.SetPresence(u, Request{Status: StatusDND, Activities: json.RawMessage(`[{"name":"chess","type":0}]`)}) // no change
	rec.wait(t, `presence 7 dnd [{"name":"chess","type":0}]`)
	h.SetPresence(u, Request{Status: StatusOffline, Activities: json.RawMessage(`[{"name":"x"}]`)})
	rec.wait(t, "presence 7 offline []")
	if p := h.Presence(u); p.Status != StatusOffline {
		t.Errorf("invisible user shows %q", p.Status)
	}
	h.SetPresence(u, Request{Status: StatusIdle, Activities: json.RawMessage("null")})
	rec.wait(t, "presence 7 idle []")

	// A second connection with an identify presence takes over.
	h.Connect(u, &Request{Status: StatusOnline})
	rec.wait(t, "presence 7 online []")
	if got := h.Presence(8); got.Status != StatusOffline || string(got.Activities) != "[]" {
		t.Errorf("unknown user: %+v", got)
	}
}

func TestGrace(t *testing.T) {
	h, rec := newHub(t, 30*time.Millisecond)
	h.Connect(1, nil)
	h.SetVoice(VoiceState{GuildID: 10, ChannelID: 11, UserID: 1, SessionID: "s"})
	h.SetVoice(VoiceState{GuildID: 20, ChannelID: 21, UserID: 1, SessionID: "s"})
	rec.wait(t, "presence 1 online []", "voice 10 11 1", "voice 20 21 1")

	// Back within the grace period: nobody notices.
	h.Disconnect(1)
	h.Connect(1, nil)
	time.Sleep(60 * time.Millisecond)
	if got := rec.take(); len(got) != 0 {
		t.Fatalf("a reconnect within grace was heard: %q", got)
	}

	// Gone for good: offline, and out of every voice channel.
	h.Disconnect(1)
	h.Disconnect(1) // one too many changes nothing
	if p := h.Presence(1); p.Status != StatusOnline {
		t.Errorf("during grace: %q", p.Status)
	}
	rec.wait(t, "presence 1 offline []", "voice 10 0 1", "voice 20 0 1")
	if v := h.VoiceStates(10); len(v) != 0 {
		t.Errorf("voice after offline: %+v", v)
	}
	h.mu.Lock()
	users, guilds := len(h.users), len(h.voice)
	h.mu.Unlock()
	if users != 0 || guilds != 0 {
		t.Errorf("hub keeps %d users and %d voice guilds of nobody", users, guilds)
	}
}

func TestVoice(t *testing.T) {
	h, rec := newHub(t, time.Hour)
	h.SetVoice(VoiceState{GuildID: 1, ChannelID: 2, UserID: 3})
	h.SetVoice(VoiceState{GuildID: 1, ChannelID: 2, UserID: 4, SelfMute: true})
	h.SetVoice(VoiceState{GuildID: 1, ChannelID: 5, UserID: 3}) // a move
	h.SetVoice(VoiceState{GuildID: 1, UserID: 9})               // leaving when not in: nothing
	rec.wait(t, "voice 1 2 3", "voice 1 2 4", "voice 1 5 3")
	if got := h.InChannel(1, 2); fmt.Sprint(got) != "[4]" {
		t.Errorf("in channel 2: %v", got)
	}
	if got := h.VoiceStates(1); len(got) != 2 || got[0].UserID != 3 || !got[1].SelfMute {
		t.Errorf("voice states: %+v", got)
	}
	h.LeaveGuild(1, 4)
	h.LeaveGuild(1, 4)
	rec.wait(t, "voice 1 0 4")
	h.DropGuild(1)
	if got := h.VoiceStates(1); len(got) != 0 {
		t.Errorf("after drop: %+v", got)
	}
	if got := rec.take(); len(got) != 0 {
		t.Errorf("a dropped guild was heard: %q", got)
	}
	h.Typing(Typing{RoomID: 1, ChannelID: 2, UserID: 3})
	rec.wait(t, "typing 1 2 3")
}

func TestPresences(t *testing.T) {
	h, _ := newHub(t, time.Hour)
	for _, id := range []snowflake.ID{5, 3, 1, 2} {
		h.Connect(id, nil)
	}
	h.SetPresence(2, Request{Status: StatusInvisible})
	members := map[snowflake.ID]bool{1: true, 2: true, 3: true, 4: true}
	check := func(limit int, want string) {
		t.Helper()
		var ids []snowflake.ID
		for _, p := range Presences(h, members, limit) {
			ids = append(ids, p.UserID)
		}
		if fmt.Sprint(ids) != want {
			t.Errorf("presences(limit %d) = %v, want %s", limit, ids, want)
		}
	}
	check(10, "[1 3]")
	check(1, "[1]")
	// Walking the hub's side instead of the members' gives the same.
	for i := range 10 {
		members[snowflake.ID(100+i)] = true
	}
	check(10, "[1 3]")
}

// TestOrder makes changes from many goroutines with a listener that reads
// the hub: every change is heard once, each user's in order, and nothing
// deadlocks.
func TestOrder(t *testing.T) {
	h, rec := newHub(t, time.Hour)
	var wg sync.WaitGroup
	const users, rounds = 8, 50
	for u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := snowflake.ID(u + 1)
			h.Connect(id, nil)
			for i := range rounds {
				h.SetPresence(id, Request{Status: StatusOnline, Activities: json.RawMessage(fmt.Sprintf(`[%d]`, i))})
			}
		}()
	}
	wg.Wait()
	last := map[string]int{}
	n := 0
	for _, s := range rec.take() {
		var id string
		var status string
		var i int
		if _, err := fmt.Sscanf(s, "presence %s %s [%d]", &id, &status, &i); err != nil {
			continue // each user's first online []
		}
		if prev, ok := last[id]; ok && i != prev+1 {
			t.Fatalf("user %s heard %d after %d", id, i, prev)
		}
		last[id] = i
		n++
	}
	if n != users*rounds {
		t.Errorf("heard %d changes, want %d", n, users*rounds)
	}
}

func TestUnsubscribeAndClose(t *testing.T) {
	h := New(time.Millisecond)
	rec := &recorder{}
	stop := h.Subscribe(rec)
	h.Connect(1, nil)
	stop()
	h.Connect(2, nil)
	if got := rec.take(); fmt.Sprint(got) != "[presence 1 online []]" {
		t.Errorf("heard %q", got)
	}
	h.Subscribe(rec)
	h.Disconnect(1)
	h.Close() // stops the grace timer: nobody hears user 1 go
	time.Sleep(10 * time.Millisecond)
	h.Connect(3, nil)
	if got := rec.take(); len(got) != 0 {
		t.Errorf("heard after close: %q", got)
	}
}

func TestVoiceServerHeldFlags(t *testing.T) {
	h, rec := newHub(t, time.Hour)
	h.SetVoice(VoiceState{GuildID: 1, ChannelID: 2, UserID: 3, SessionID: "s"})
	if h.UpdateVoice(1, 9, func(v *VoiceState) { v.Mute = true }) {
		t.Error("updated a user not in voice")
	}
	h.UpdateVoice(1, 3, func(v *VoiceState) { v.Mute, v.SelfStream, v.ChannelID = true, true, 7 })
	h.UpdateVoice(1, 3, func(v *VoiceState) { v.Mute = true }) // no change: not heard
	h.SetVoiceServer(VoiceServer{GuildID: 1, UserID: 3, SessionID: "s", Token: "tok", Endpoint: "example.org/voice"})
	rec.wait(t, "voice 1 2 3", "voice 1 2 3", "server 1 3 tok example.org/voice")

	h.SetVoice(VoiceState{GuildID: 1, ChannelID: 2, UserID: 3, SessionID: "s", SelfMute: true})
	h.SetVoice(VoiceState{GuildID: 1, ChannelID: 5, UserID: 3, SessionID: "s"})
	rec.wait(t, "voice 1 2 3", "voice 1 5 3")
	got := h.VoiceStates(1)[0]
	if !got.Mute || got.SelfStream || got.SelfMute {
		t.Errorf("after a client's requests: %+v; want the server's mute kept and the stream ended by the move", got)
	}
}
