package sfu

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"concord/federation/live"
	"concord/federation/snowflake"
	"concord/sfu/media"
	"concord/sfu/peer"
	"concord/storage"
)

// links joins test SFUs by name, as the federation joins nodes: an offer
// to a peer reaches that SFU's AnswerRelay with the sender's name.
type links struct {
	mu  sync.Mutex
	sfu map[string]*SFU
}

// link is one node's end of links.
type link struct {
	l    *links
	name string
}

func (k link) RelayOffer(ctx context.Context, peer, session, offer string) (string, error) {
	k.l.mu.Lock()
	to := k.l.sfu[peer]
	k.l.mu.Unlock()
	if to == nil {
		return "", errors.New("no route to " + peer)
	}
	return to.AnswerRelay(ctx, k.name, session, offer)
}

// cascadeRigs makes one rig per name, each cascading to the others, with
// members 1 to members in the test guild.
func cascadeRigs(t testing.TB, members int, names ...string) []*rig {
	l := &links{sfu: map[string]*SFU{}}
	var out []*rig
	for _, name := range names {
		r := newRigOn(t, members, nil, storage.Config{Driver: storage.SQLite, DSN: filepath.Join(t.TempDir(), "concord.db")}, link{l, name})
		l.mu.Lock()
		l.sfu[name] = r.sfu
		l.mu.Unlock()
		out = append(out, r)
	}
	return out
}

// tell gives r the voice state of user, whose home is node home, as the
// federation would.
func (r *rig) tell(home string, user, ch snowflake.ID, edit ...func(*live.VoiceState)) {
	v := live.VoiceState{GuildID: testGuild, ChannelID: ch, UserID: user, Home: home}
	for _, e := range edit {
		e(&v)
	}
	r.hub.SetRemoteVoice(v)
}

// relays counts the relays r holds, out and in.
func (r *rig) relays() (out, in int) {
	r.sfu.mu.Lock()
	defer r.sfu.mu.Unlock()
	return len(r.sfu.out), len(r.sfu.in)
}

// TestCascadeAcrossNodes: alice on node a and bob on node b, in one voice
// channel, each connected to their own node's SFU, hear each other
// through the relay between the SFUs; bob is told alice connected and
// when she speaks; her mute at home stops her audio reaching him; a track
// node a relays for a user whose home is another node is not published;
// and when bob leaves, both relays end.
func TestCascadeAcrossNodes(t *testing.T) {
	rigs := cascadeRigs(t, 5, "node-a", "node-b")
	a, b := rigs[0], rigs[1]
	alice := a.connect(t, 2, testVoice)
	carol := a.connect(t, 4, testVoice) // node b believes she lives on node c
	b.tell("node-a", 2, testVoice)
	b.tell("node-c", 4, testVoice)
	bob := b.connect(t, 3, testVoice)
	a.tell("node-b", 3, testVoice)

	go carol.speak("from-carol", 50, 30)
	go alice.speak("from-alice", 50, 30)
	bob.speak("from-bob", 50, 30)
	waitFor(t, "packets both ways across the relay", 10*time.Second, func() bool {
		return len(bob.got(2, "microphone")) > 30 && len(alice.got(3, "microphone")) > 30
	})
	wantFrom(t, bob, 2, "from-alice:")
	if n := len(bob.got(4, "microphone")); n != 0 {
		t.Errorf("bob got %d packets node a relayed for a user of node c", n)
	}
	if n := len(carol.got(3, "microphone")); n < 30 {
		t.Errorf("carol got %d of bob's packets", n)
	}
	connected := func(c *client) []string {
		var ids []string
		for _, f := range c.ops(opClientsConnect) {
			ids = append(ids, string(f.D))
		}
		return ids
	}
	if got := strings.Join(connected(bob), " "); !strings.Contains(got, `"2"`) {
		t.Errorf("bob was told of connections %s, not alice's", got)
	}
	waitFor(t, "bob told that alice speaks", 2*time.Second, func() bool { return slices.Contains(speakingOf(bob, "2"), 1) })

	// alice mutes herself at home: her node stops sending her audio.
	a.hub.SetVoice(live.VoiceState{GuildID: testGuild, ChannelID: testVoice, UserID: 2, SessionID: "gw-2", SelfMute: true})
	b.tell("node-a", 2, testVoice, func(v *live.VoiceState) { v.SelfMute = true })
	time.Sleep(200 * time.Millisecond)
	if n := overheard(bob, alice, 2, "muted"); n != 0 {
		t.Errorf("%d packets of muted alice reached bob", n)
	}

	// alice, unmuted, moves away and back: her track leaves the relay and
	// comes back in another stream on the same connection.
	move := func(ch snowflake.ID) {
		a.hub.SetVoice(live.VoiceState{GuildID: testGuild, ChannelID: ch, UserID: 2, SessionID: "gw-2"})
		b.tell("node-a", 2, ch)
	}
	move(testOther)
	time.Sleep(200 * time.Millisecond)
	if n := overheard(bob, alice, 2, "away"); n != 0 {
		t.Errorf("bob got %d packets of alice from another channel", n)
	}
	move(testVoice)
	hears := func(what string) {
		t.Helper()
		n := len(bob.got(2, "microphone"))
		go alice.speak(what, 50, 30)
		waitFor(t, "bob to hear alice "+what, 10*time.Second, func() bool { return len(bob.got(2, "microphone")) > n+30 })
	}
	hears("back")

	// bob leaves: node b has nobody in the channel, and node a hears it.
	b.hub.SetVoice(live.VoiceState{GuildID: testGuild, UserID: 3, SessionID: "gw-3"})
	a.tell("node-b", 3, 0)
	waitFor(t, "the relays to end", 10*time.Second, func() bool {
		ao, ai := a.relays()
		bo, bi := b.relays()
		return ao+ai+bo+bi == 0
	})
	// He comes back, on new relays.
	bob = b.connect(t, 3, testVoice)
	a.tell("node-b", 3, testVoice)
	hears("again")
}

// TestRelayRefusedWithoutSharedVoice: a node with no user in a voice
// channel this node has members in gets no relay.
func TestRelayRefusedWithoutSharedVoice(t *testing.T) {
	rigs := cascadeRigs(t, 5, "node-a", "node-b")
	a := rigs[0]
	a.connect(t, 2, testVoice)
	a.tell("node-b", 3, testOther) // in another channel
	_, err := a.sfu.AnswerRelay(context.Background(), "node-b", "s1", "v=0\r\n")
	if !errors.Is(err, ErrNoRelay) {
		t.Fatalf("offer from a node with nobody here: %v", err)
	}
	if _, err := a.sfu.AnswerRelay(context.Background(), "node-b", "", "v=0\r\n"); err == nil {
		t.Fatal("an offer without a session was answered")
	}
}

// TestRelayThatNeverConnects: a session whose offerer never completes the
// connection ends after ConnectTimeout, as a client's would.
func TestRelayThatNeverConnects(t *testing.T) {
	l := &links{sfu: map[string]*SFU{}}
	a := newRigOn(t, 5, func(c *Config) { c.ConnectTimeout = 300 * time.Millisecond },
		storage.Config{Driver: storage.SQLite, DSN: filepath.Join(t.TempDir(), "concord.db")}, link{l, "node-a"})
	a.connect(t, 2, testVoice)
	a.tell("node-b", 3, testVoice)
	pc, err := newClientAPI(t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
		t.Fatal(err)
	}
	offer, _ := pc.CreateOffer(nil)
	done := webrtc.GatheringCompletePromise(pc)
	pc.SetLocalDescription(offer)
	<-done
	if _, err := a.sfu.AnswerRelay(context.Background(), "node-b", "s1", pc.LocalDescription().SDP); err != nil {
		t.Fatal(err)
	}
	if _, in := a.relays(); in != 1 {
		t.Fatalf("%d sessions in after the offer", in)
	}
	waitFor(t, "the session to end", 5*time.Second, func() bool { _, in := a.relays(); return in == 0 })
}

// TestCascadeThreeNodes: a user on each of three nodes in one channel;
// each node relays its own user straight to both others (never what it
// was relayed), and everyone hears everyone.
func TestCascadeThreeNodes(t *testing.T) {
	names := []string{"node-a", "node-b", "node-c"}
	rigs := cascadeRigs(t, 5, names...)
	users := make([]*client, 3)
	for i, r := range rigs {
		users[i] = r.connect(t, snowflakeOf(i+2), testVoice)
		for j, other := range rigs {
			if j != i {
				other.tell(names[i], snowflakeOf(i+2), testVoice)
			}
		}
	}
	for i, u := range users {
		go u.speak(names[i], 50, 30)
	}
	waitFor(t, "everyone to hear everyone", 10*time.Second, func() bool {
		for i, u := range users {
			for j := range users {
				if i != j && len(u.got(snowflakeOf(j+2), "microphone")) < 30 {
					return false
				}
			}
		}
		return true
	})
	for i, u := range users {
		for j := range users {
			if i != j {
				wantFrom(t, u, snowflakeOf(j+2), names[j]+":")
			}
		}
	}
	for i, r := range rigs {
		if out, in := r.relays(); out != 2 || in != 2 {
			t.Errorf("%s holds %d relays out and %d in, want 2 and 2", names[i], out, in)
		}
		r.sfu.mu.Lock()
		for peer, o := range r.sfu.out {
			if n := o.down.Tracks(); n != 1 {
				t.Errorf("%s relays %d tracks to %s, want its own user's one", names[i], n, peer)
			}
		}
		r.sfu.mu.Unlock()
	}
}

// TestCascadeSimulcast: a camera sent in three simulcast layers on node a
// crosses to node b with all three, so that b chooses a layer for each of
// its receivers as a would; b's viewer receives the camera.
func TestCascadeSimulcast(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	rigs := cascadeRigs(t, 5, "node-a", "node-b")
	a, b := rigs[0], rigs[1]
	pub := a.dial(t, 2)
	pub.identify(a.join(t, 2, testVoice))
	pub.wait(opReady)
	cam := pub.addVideo("camera", []int{150_000, 400_000, 1_200_000}, "q", "h", "f")
	pub.negotiate()
	pub.waitConnected()
	cam.run()
	t.Cleanup(cam.close)
	b.tell("node-a", 2, testVoice)
	viewer := b.connect(t, 3, testVoice)
	a.tell("node-b", 3, testVoice)

	waitFor(t, "the camera on b in three layers", 10*time.Second, func() bool {
		for _, tr := range b.relayedTracks() {
			if tr.Info().Kind == media.Video && tr.Info().Layers == 3 {
				return true
			}
		}
		return false
	})
	waitFor(t, "b's viewer to receive the camera", 10*time.Second, func() bool { return len(viewer.got(2, "camera")) > 100 })
	layers := map[byte]bool{}
	for _, p := range viewer.got(2, "camera") {
		layers[p.Payload[2]] = true
	}
	t.Logf("b's viewer received layers %v", layers)
}

// relayedTracks lists the tracks other nodes relay to r.
func (r *rig) relayedTracks() []*peer.Remote {
	r.sfu.mu.Lock()
	defer r.sfu.mu.Unlock()
	var out []*peer.Remote
	for _, in := range r.sfu.in {
		out = append(out, in.tracks...)
	}
	return out
}
