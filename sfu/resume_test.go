package sfu

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestResumeReplaysMissedFrames(t *testing.T) {
	r := newRig(t, 4, nil)
	vs := r.join(t, 2, testVoice)
	a := r.dial(t, 2)
	a.identify(vs)
	a.wait(opReady)
	a.offer(true)
	a.waitConnected()
	a.send(opHeartbeat, map[string]any{"t": 42, "seq_ack": 0})
	var ack struct {
		T int `json:"t"`
	}
	json.Unmarshal(a.wait(opHeartbeatACK).D, &ack)
	if ack.T != 42 {
		t.Errorf("heartbeat ACK t = %d, want 42", ack.T)
	}
	last := *a.wait(opReady).Seq

	// The connection drops; meanwhile someone joins.
	a.ws.Close()
	<-a.done
	r.connect(t, 3, testVoice)
	time.Sleep(200 * time.Millisecond)
	if r.sfu.Sessions() != 2 {
		t.Fatalf("%d sessions: the dropped one should wait for a resume", r.sfu.Sessions())
	}

	ws, _, err := websocket.DefaultDialer.Dial(r.url+"?v=8", nil)
	if err != nil {
		t.Fatal(err)
	}
	a2 := &client{t: t, user: 2, ws: ws, api: a.api, up: a.up, down: a.down, mic: a.mic, received: a.received,
		answers: make(chan string, 4), done: make(chan struct{})}
	go a2.read()
	t.Cleanup(a2.close)
	a2.wait(opHello)
	a2.send(opResume, resume{ServerID: testGuild.String(), SessionID: "gw-2", Token: vs.Token, SeqAck: last})
	a2.wait(opResumed)
	// What happened while away: user 3 connected.
	a2.wait(opClientsConnect)
	a2.send(opResume, resume{ServerID: testGuild.String(), SessionID: "gw-2", Token: vs.Token, SeqAck: last})
	wantClose(t, a2, closeAlreadyAuthed)
}

func TestResumeRefused(t *testing.T) {
	r := newRig(t, 3, func(c *Config) { c.ResumeWindow = 100 * time.Millisecond })
	a := r.connect(t, 2, testVoice)
	a.ws.Close()
	<-a.done
	waitFor(t, "the session ended", 2*time.Second, func() bool { return r.sfu.Sessions() == 0 })
	waitFor(t, "out of voice", 2*time.Second, func() bool { return len(r.hub.VoiceStates(testGuild)) == 0 })
	c := r.dial(t, 2)
	c.send(opResume, resume{ServerID: testGuild.String(), SessionID: "gw-2", Token: "whatever", SeqAck: 0})
	wantClose(t, c, closeSessionInvalid)
}

// A client whose resume failed identifies again while its old connection
// still holds its place: a full channel must not refuse it for that.
func TestIdentifyAgainInFullChannel(t *testing.T) {
	r := newRig(t, 3, nil)
	r.guilds.edit(func(s *guildState) { s.Channels[testVoice].UserLimit = 2 })
	a := r.connect(t, 2, testVoice)
	r.connect(t, 3, testVoice)

	b := r.dial(t, 2)
	b.identify(a.vs)
	b.wait(opReady)
	wantClose(t, a, closeSessionInvalid)
	b.offer(true)
	b.waitConnected()
	if n := r.sfu.Sessions(); n != 2 {
		t.Errorf("%d sessions, want 2", n)
	}
}
