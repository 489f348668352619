package sfu

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"concord/federation/guild"
	"concord/federation/live"
	"concord/federation/perm"
	"concord/federation/snowflake"
)

// about lists the frames with op that c received about user, in order.
func about[T any](c *client, op int, user string) []T {
	var out []T
	for _, f := range c.ops(op) {
		var who struct {
			UserID string `json:"user_id"`
		}
		var d T
		if json.Unmarshal(f.D, &who) == nil && who.UserID == user && json.Unmarshal(f.D, &d) == nil {
			out = append(out, d)
		}
	}
	return out
}

// overheard has speaker (user) send 20 packets and counts how many of them
// listener received.
func overheard(listener, speaker *client, user snowflake.ID, what string) int {
	n := len(listener.got(user, "microphone"))
	speaker.speak(what, 20, 30)
	time.Sleep(200 * time.Millisecond)
	return len(listener.got(user, "microphone")) - n
}

// speakingOf lists the speaking flags c heard about user, in order.
func speakingOf(c *client, user string) []int {
	var out []int
	for _, d := range about[speaking](c, opSpeaking, user) {
		out = append(out, int(d.Speaking))
	}
	return out
}

func TestSpeakingFollowsAudioLevel(t *testing.T) {
	r := newRig(t, 3, nil)
	a := r.connect(t, 2, testVoice)
	b := r.connect(t, 3, testVoice)
	a.speak("quiet", 10, 127)
	time.Sleep(200 * time.Millisecond)
	if got := speakingOf(b, "2"); len(got) != 0 {
		t.Fatalf("silence made speaking events %v", got)
	}
	a.speak("loud", 25, 20)
	waitFor(t, "speaking on", 2*time.Second, func() bool { return len(speakingOf(b, "2")) == 1 })
	a.speak("quiet", 40, 127) // 800 ms: past the hangover
	waitFor(t, "speaking off", 2*time.Second, func() bool { return len(speakingOf(b, "2")) == 2 })
	if got := speakingOf(b, "2"); got[0] != 1 || got[1] != 0 {
		t.Errorf("speaking %v, want [1 0]", got)
	}
	if got := speakingOf(a, "2"); len(got) != 0 {
		t.Errorf("a was told of its own speaking: %v", got)
	}
	// Receivers draw rings from the forwarded level too.
	last := b.got(2, "microphone")
	var ext bool
	for _, p := range last {
		if len(p.GetExtensionIDs()) > 0 {
			ext = true
		}
	}
	if !ext {
		t.Error("the audio level was not forwarded")
	}
}

// A screen's sound, however loud, does not make its sharer speak.
func TestScreenAudioIsNotSpeech(t *testing.T) {
	r := newRig(t, 3, nil)
	b := r.connect(t, 3, testVoice)
	vs := r.join(t, 2, testVoice)
	a := r.dial(t, 2)
	a.identify(vs)
	a.wait(opReady)
	a.newUp()
	a.mic, _ = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "screen_audio", "2")
	s, err := a.up.AddTrack(a.mic)
	if err != nil {
		t.Fatal(err)
	}
	go drain(s)
	a.negotiate()
	a.waitConnected()
	b.watch(2, true)
	a.speak("loud", 40, 20)
	if n := len(b.got(2, "screen_audio")); n < 20 {
		t.Fatalf("b got %d packets of the screen's sound", n)
	}
	if got := speakingOf(b, "2"); len(got) != 0 {
		t.Errorf("the screen's sound made speaking events %v", got)
	}
}

func TestMuteStopsForwarding(t *testing.T) {
	for _, tc := range []struct {
		name  string
		apply func(r *rig)
	}{
		{"self mute", func(r *rig) {
			r.hub.SetVoice(live.VoiceState{GuildID: testGuild, ChannelID: testVoice, UserID: 2, SessionID: "gw-2", SelfMute: true})
		}},
		{"server mute", func(r *rig) {
			r.hub.UpdateVoice(testGuild, 2, func(v *live.VoiceState) { v.Mute = true })
		}},
		{"listener deafened", func(r *rig) {
			r.hub.SetVoice(live.VoiceState{GuildID: testGuild, ChannelID: testVoice, UserID: 3, SessionID: "gw-3", SelfDeaf: true})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, 3, nil)
			a := r.connect(t, 2, testVoice)
			b := r.connect(t, 3, testVoice)
			a.speak("before", 20, 30)
			waitFor(t, "audio", 2*time.Second, func() bool { return len(b.got(2, "microphone")) >= 15 })
			tc.apply(r)
			time.Sleep(100 * time.Millisecond)
			if n := overheard(b, a, 2, "muted"); n != 0 {
				t.Fatalf("%d packets forwarded while muted", n)
			}
		})
	}
}

func TestServerMuteFromMemberState(t *testing.T) {
	r := newRig(t, 3, nil)
	a := r.connect(t, 2, testVoice)
	b := r.connect(t, 3, testVoice)
	a.speak("before", 20, 30)
	waitFor(t, "audio", 2*time.Second, func() bool { return len(b.got(2, "microphone")) >= 15 })
	r.guilds.commit(func(s *guildState) { s.Members[2].Mute = true }, guild.Key{Kind: "member", ID: "2"})
	waitFor(t, "voice state muted", 2*time.Second, func() bool {
		vs := r.hub.VoiceStates(testGuild)
		return len(vs) == 2 && vs[0].UserID == 2 && vs[0].Mute
	})
	time.Sleep(50 * time.Millisecond)
	if n := overheard(b, a, 2, "muted"); n != 0 {
		t.Fatalf("%d packets forwarded while server-muted", n)
	}
	// A client's op 4 does not lift a server mute.
	r.hub.SetVoice(live.VoiceState{GuildID: testGuild, ChannelID: testVoice, UserID: 2, SessionID: "gw-2"})
	if vs := r.hub.VoiceStates(testGuild); !vs[0].Mute {
		t.Error("op 4 lifted the server mute")
	}
}

func TestLosingConnectDisconnects(t *testing.T) {
	r := newRig(t, 3, nil)
	a := r.connect(t, 2, testVoice)
	r.guilds.commit(func(s *guildState) {
		ch := s.Channels[testVoice]
		ch.Overwrites = append(ch.Overwrites, perm.Overwrite{ID: 2, Type: perm.OverwriteMember, Deny: perm.Connect})
	}, guild.Key{Kind: "channel", ID: testVoice.String()})
	wantClose(t, a, closeDisconnected)
	waitFor(t, "out of voice", 2*time.Second, func() bool { return len(r.hub.VoiceStates(testGuild)) == 0 })
}

func TestMoveKeepsTheConnection(t *testing.T) {
	r := newRig(t, 4, nil)
	a := r.connect(t, 2, testVoice)
	b := r.connect(t, 3, testVoice)
	c := r.connect(t, 4, testOther)
	r.hub.SetVoice(live.VoiceState{GuildID: testGuild, ChannelID: testOther, UserID: 2, SessionID: "gw-2"})
	waitFor(t, "b told a left", 2*time.Second, func() bool { return len(b.ops(opClientDisconnect)) == 1 })
	a.speak("moved", 30, 30)
	waitFor(t, "c hears a", 2*time.Second, func() bool { return len(c.got(2, "microphone")) >= 20 })
	if n := len(b.got(2, "microphone")); n != 0 {
		t.Errorf("b, in the old channel, got %d packets", n)
	}
}

// A client asks to speak as a priority speaker with op 5's flag 4; it
// counts only with PRIORITY_SPEAKER.
func TestPrioritySpeaker(t *testing.T) {
	r := newRig(t, 3, nil)
	r.guilds.edit(func(s *guildState) {
		ch := s.Channels[testVoice]
		ch.Overwrites = append(ch.Overwrites, perm.Overwrite{ID: 2, Type: perm.OverwriteMember, Allow: perm.PrioritySpeaker})
	})
	a := r.connect(t, 2, testVoice)
	b := r.connect(t, 3, testVoice)
	for _, c := range []*client{a, b} {
		c.send(opSpeaking, map[string]any{"speaking": true}) // an older client's: harmless
		c.send(opSpeaking, speaking{Speaking: speakingMicrophone | speakingPriority})
	}
	go a.speak("loud", 25, 20)
	b.speak("loud", 25, 20)
	waitFor(t, "speaking", 2*time.Second, func() bool {
		return len(speakingOf(b, "2")) > 0 && len(speakingOf(a, "3")) > 0
	})
	if got := speakingOf(b, "2")[0]; got != speakingMicrophone|speakingPriority {
		t.Errorf("a, a priority speaker, speaks with flags %d", got)
	}
	if got := speakingOf(a, "3")[0]; got != speakingMicrophone {
		t.Errorf("b, without PRIORITY_SPEAKER, speaks with flags %d", got)
	}
}
