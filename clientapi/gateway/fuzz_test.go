package gateway

import (
	"encoding/json"
	"testing"
	"time"

	"concord/federation/live"
	"concord/federation/snowflake"
)

// FuzzInboundFrame feeds client frames through the decoding an
// authenticated connection does for presence (op 3), voice state (op 4)
// and member requests (op 8): any bytes are answered or refused with a
// close code, never a panic, and activities the gateway keeps are ones it
// would accept again unchanged.
func FuzzInboundFrame(f *testing.F) {
	for _, seed := range []string{
		`{"op":3,"d":{"status":"dnd","activities":[{"name":"chess","type":0,"created_at":"0001-01-01T00:00:00Z","emoji":{"name":"","id":""}}]}}`,
		`{"op":3,"d":{"status":"online","activities":[{"name":"x","type":1,"url":"https://example.org","timestamps":{"start":1}}]}}`,
		`{"op":4,"d":{"guild_id":"4194304000","channel_id":"4194304001","self_mute":true}}`,
		`{"op":8,"d":{"guild_id":["4194304000","4194304000"],"query":"","limit":0,"presences":true,"nonce":"n"}}`,
		`{"op":8,"d":{"guild_id":"4194304000","user_ids":["1","2"]}}`,
	} {
		f.Add([]byte(seed))
	}
	p := newFakeProvider()
	hub := live.New(0)
	f.Cleanup(hub.Close)
	p.live = hub
	p.addUser("u", Caller{UserID: 1}, guildA)
	g, err := New(Config{}, p, hub, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(g.Close)
	s := &session{g: g, id: "fuzz", caller: Caller{UserID: 1}, intents: allIntents, shard: [2]int{0, 1}}
	g.register(s, &ReadyData{Guilds: []snowflake.ID{guildA}})
	c := &conn{g: g, sess: s}
	f.Fuzz(func(t *testing.T, data []byte) {
		var fr frame
		if json.Unmarshal(data, &fr) != nil || fr.Op == nil {
			return
		}
		switch *fr.Op {
		case opPresenceUpdate, opVoiceStateUpdate, opRequestGuildMembers:
			c.handle(*fr.Op, fr.D)
		}
		s.mu.Lock()
		req := s.presence
		s.replay, s.replayBytes = nil, 0
		s.mu.Unlock()
		if req != nil && req.Activities != nil {
			again, err := activities(req.Activities, time.UnixMilli(0))
			if err != nil {
				t.Fatalf("kept activities %s are refused on a second look: %v", req.Activities, err)
			}
			var a, b []map[string]any
			json.Unmarshal(req.Activities, &a)
			json.Unmarshal(again, &b)
			if len(a) != len(b) {
				t.Fatalf("kept %s, re-rendered %s", req.Activities, again)
			}
		}
	})
}
