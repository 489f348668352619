package p2p

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"concord/federation/canonical"
	"concord/federation/event"
	"concord/federation/guild"
	"concord/federation/room"
	"concord/federation/snowflake"
	"concord/federation/vectors"
)

const vectorFile = "../../spec/test-vectors/federation.json"

// vectorSeed is the Ed25519 seed of the node that signs the vectors' event,
// as in spec/test-vectors/events.json.
const vectorSeed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"

type frameVector struct {
	Protocol string          `json:"protocol"`
	Name     string          `json:"name"`
	Message  json.RawMessage `json:"message"`
	FrameHex string          `json:"frame_hex"`
}

type vectorFileT struct {
	Description string        `json:"description"`
	Topic       topicVector   `json:"topic"`
	Invite      inviteVector  `json:"invite"`
	Live        []liveVector  `json:"live"`
	Frames      []frameVector `json:"frames"`
}

// inviteVector is a room's guild.create, its invite tag and a code bound
// to it.
type inviteVector struct {
	Create   string `json:"create"`
	CreateID string `json:"create_id"`
	Tag      string `json:"tag"`
	Code     string `json:"code"`
}

// vectorCreate is the guild.create of the vectors' guild, signed by the
// vector node, and vectorCode an invite code bound to it.
func vectorCreate(t *testing.T) *event.Event {
	t.Helper()
	body, err := json.Marshal(guild.GuildCreate{ID: 175928847299117062, Kind: guild.KindGuild, Name: "federated"})
	if err != nil {
		t.Fatal(err)
	}
	content, err := canonical.Canonicalize(body)
	if err != nil {
		t.Fatal(err)
	}
	ev := &event.Event{GuildID: 175928847299117062, Type: guild.TypeGuildCreate, Sender: 175928847299117063,
		OriginTS: 1700000000000, Content: content}
	if err := event.Sign(ev, vectorKey(t)); err != nil {
		t.Fatal(err)
	}
	return ev
}

func vectorCode(t *testing.T) string { return "AbCd1234" + guild.InviteTag(vectorCreate(t).ID()) }

type topicVector struct {
	GuildID   string `json:"guild_id"`
	Topic     string `json:"topic"`
	MessageID string `json:"message_id"`
	Message   string `json:"message"`
}

func vectorKey(t *testing.T) crypto.PrivKey {
	t.Helper()
	seed, _ := hex.DecodeString(vectorSeed)
	key, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(seed))
	if err != nil {
		t.Fatal(err)
	}
	return key
}

type liveVector struct {
	Topic        string `json:"topic"`
	SigningInput string `json:"signing_input"`
	Message      string `json:"message"`
}

// vectorSignals are a typing, a presence, a profile and a voice signal
// signed by the vector node, with their signing inputs.
func vectorSignals(t *testing.T) []liveVector {
	t.Helper()
	var out []liveVector
	for _, s := range []signal{
		{Type: typingSignal, GuildID: 175928847299117062, ChannelID: 175928847299117064, UserID: 175928847299117063,
			Origin: "12D3KooWQK1wnefoLrcVHbbnf5tLzbopUd3K3bFAoJpA7YJgL5pV", TS: 1700000000000},
		{Type: presenceSignal, GuildID: 175928847299117062, UserID: 175928847299117063, Status: "dnd",
			Activities: json.RawMessage(`[{"name":"chess","type":0}]`),
			Origin:     "12D3KooWQK1wnefoLrcVHbbnf5tLzbopUd3K3bFAoJpA7YJgL5pV", TS: 1700000000000},
		{Type: profileSignal, GuildID: 175928847299117062, UserID: 175928847299117063,
			Origin: "12D3KooWQK1wnefoLrcVHbbnf5tLzbopUd3K3bFAoJpA7YJgL5pV", TS: 1700000000000},
		{Type: voiceSignal, GuildID: 175928847299117062, ChannelID: 175928847299117065, UserID: 175928847299117063,
			Voice: &voiceFlags{SelfMute: true, SelfStream: true}, Origin: "12D3KooWQK1wnefoLrcVHbbnf5tLzbopUd3K3bFAoJpA7YJgL5pV", TS: 1700000000000},
	} {
		in, err := s.signingInput()
		if err == nil {
			s.Signature, err = signBytes(vectorKey(t), in)
		}
		msg, merr := json.Marshal(s)
		if err != nil || merr != nil {
			t.Fatal(err, merr)
		}
		out = append(out, liveVector{Topic: LiveTopicName(s.GuildID), SigningInput: string(in), Message: string(msg)})
	}
	return out
}

// vectorProfile is a profile signed by the vector node.
func vectorProfile(t *testing.T) Profile {
	t.Helper()
	p := Profile{ID: 175928847299117063, Username: "bob", GlobalName: "Bob", Node: "beta",
		Origin: "12D3KooWQK1wnefoLrcVHbbnf5tLzbopUd3K3bFAoJpA7YJgL5pV", SignedTS: 1700000000000}
	if err := p.signWith(vectorKey(t)); err != nil {
		t.Fatal(err)
	}
	return p
}

// vectorEvent is the event the vectors carry: a message signed by the
// vector node.
func vectorEvent(t *testing.T) *event.Event {
	t.Helper()
	key := vectorKey(t)
	ev := &event.Event{GuildID: 175928847299117062, Type: "message.create", Sender: 175928847299117063,
		OriginTS: 1700000000000, Depth: 3,
		PrevEvents: []string{"$47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"},
		AuthEvents: []string{"$LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564"},
		Content:    json.RawMessage(`{"channel_id":"175928847299117064","content":"hello","id":"175928847299117065"}`)}
	if err := event.Sign(ev, key); err != nil {
		t.Fatal(err)
	}
	return ev
}

// vectorMessages are one of each wire message (spec/federation.md).
func vectorMessages(t *testing.T) []struct {
	proto, name string
	msg         any
} {
	ev := vectorEvent(t)
	raw := json.RawMessage(event.Marshal(ev))
	return []struct {
		proto, name string
		msg         any
	}{
		{string(ProtoHeads), "request", &headsReq{GuildID: ev.GuildID}},
		{string(ProtoHeads), "answer", &headsResp{Extremities: []string{ev.ID()}}},
		{string(ProtoMissing), "request", &missingReq{GuildID: ev.GuildID, Latest: []string{ev.ID()}, Earliest: ev.AuthEvents, Limit: 100}},
		{string(ProtoMissing), "answer", &eventsResp{Events: []json.RawMessage{raw}}},
		{string(ProtoInvite), "request", &inviteReq{Code: vectorCode(t)}},
		{string(ProtoInvite), "answer, found", &inviteResp{GuildID: ev.GuildID, Create: event.Marshal(vectorCreate(t)), Preview: &InvitePreview{GuildName: "federated",
			ChannelID: 175928847299117064, ChannelName: "general", Members: 3, InviterID: ev.Sender, Uses: 1, MaxAge: 86400,
			CreatedAt: 1700000000000}}},
		{string(ProtoInvite), "answer, not held", &inviteResp{}},
		{string(ProtoJoin), "request, first page", &joinReq{GuildID: ev.GuildID, InviteCode: vectorCode(t)}},
		{string(ProtoJoin), "request, next page", &joinReq{GuildID: ev.GuildID, InviteCode: vectorCode(t),
			After: room.Pos{Depth: 7, Seq: 42}, WholeFrom: 1180}},
		{string(ProtoJoin), "request, after a stub the responder holds", &joinReq{GuildID: ev.GuildID, InviteCode: vectorCode(t),
			After: room.Pos{Depth: 7, Seq: math.MaxInt64, ID: ev.PrevEvents[0]}, WholeFrom: 1180}},
		{string(ProtoJoin), "answer", &joinResp{Entries: []joinEntry{
			{Stub: &wireStub{ID: ev.PrevEvents[0], Type: guild.TypeMessageCreate, Sender: ev.Sender, OriginTS: 1699999999000,
				Depth: ev.Depth - 1, StateParents: ev.AuthEvents, MessageID: 175928847299117071, ChannelID: 175928847299117064}},
			{Event: raw}}, Next: room.Pos{Depth: ev.Depth, Seq: 42}, WholeFrom: 1180}},
		{string(ProtoJoin), "answer, end of log", &joinResp{Entries: []joinEntry{}, Next: room.Pos{Depth: ev.Depth, Seq: 42}, WholeFrom: 1180}},
		{string(ProtoBackfill), "request", &backfillReq{GuildID: ev.GuildID, Before: room.End}},
		{string(ProtoBackfill), "request, next page", &backfillReq{GuildID: ev.GuildID, Before: room.Pos{Depth: ev.Depth, Seq: 42}}},
		{string(ProtoBackfill), "answer", &backfillResp{Events: []json.RawMessage{raw}, Next: room.Pos{Depth: ev.Depth, Seq: 42}}},
		{string(ProtoSend), "request", &sendReq{Event: raw}},
		{string(ProtoSend), "answer", &sendResp{Verdict: "accepted"}},
		{string(ProtoProfile), "request", &profileReq{UserIDs: []snowflake.ID{ev.Sender}}},
		{string(ProtoProfile), "answer", &profileResp{Profiles: []Profile{vectorProfile(t)}}},
		{string(ProtoInvoke), "request", &Invocation{ID: 175928847299117070, UserID: ev.Sender,
			Body: json.RawMessage(`{"type":2,"application_id":"175928847299117066","channel_id":"175928847299117064","nonce":"n1","data":{"id":"175928847299117067","name":"ping","type":1}}`)}},
		{string(ProtoInvoke), "answer, started", &InvokeAnswer{}},
		{string(ProtoInvoke), "answer, refused", &InvokeAnswer{Status: 404, Error: json.RawMessage(`{"code":10063,"message":"Unknown application command"}`)}},
		{string(ProtoCommands), "request", &CommandsRequest{RoomID: ev.GuildID, Scope: ev.GuildID}},
		{string(ProtoCommands), "answer", rawJSON(`{"applications":[{"id":"175928847299117066","name":"Helper","description":"","icon":null,"bot_id":"175928847299117066"}],"application_commands":[{"id":"175928847299117067","application_id":"175928847299117066","guild_id":"175928847299117062","name":"ping","description":"Ping","type":1,"version":"175928847299117068"}]}`)},
		{string(ProtoDeliver), "request", &Delivery{UserID: ev.Sender, InteractionID: 175928847299117070, Type: "INTERACTION_SUCCESS",
			Payload: json.RawMessage(`{"id":"175928847299117070","nonce":"n1"}`)}},
		{string(ProtoDeliver), "answer", &struct{}{}},
		{string(ProtoFriend), "request", &friendReq{Action: FriendRequest, From: ev.Sender, To: 175928847299117069}},
		{string(ProtoFriend), "answer, waiting", &friendResp{Type: 3}},
		{string(ProtoFriend), "answer, refused", &friendResp{Refused: true}},
		{string(ProtoFriend), "request, remove", &friendReq{Action: FriendRemove, From: ev.Sender, To: 175928847299117069}},
		{string(ProtoFriend), "answer, removed", &friendResp{}},
		{string(ProtoFriend), "request, block", &friendReq{Action: FriendBlock, From: ev.Sender, To: 175928847299117069}},
		{string(ProtoVoice), "offer", &voiceReq{Session: "9f2c4e1a7b3d5f60", SDP: voiceOffer}},
		{string(ProtoVoice), "answer", &voiceResp{SDP: voiceAnswer}},
		{string(ProtoVoice), "answer, refused", &voiceResp{Refused: "no voice channel shared with that node"}},
		{string(ProtoVoice), "end of the session", &voiceReq{Session: "9f2c4e1a7b3d5f60"}},
		{string(ProtoFile), "request", &fileReq{GuildID: ev.GuildID, Blob: "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"}},
		{string(ProtoFile), "request, an avatar", &fileReq{UserID: ev.Sender, Blob: "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"}},
		{string(ProtoFile), "answer, before the bytes", &fileHead{Size: 3}},
	}
}

// TestWireVectors renders spec/test-vectors/federation.json from the code,
// then reads every frame of the file back as the code would.
func TestWireVectors(t *testing.T) {
	ev := vectorEvent(t)
	file := vectorFileT{
		Description: "Federation wire vectors (spec/federation.md). topic: a room's GossipSub topic and a message on it, whose ID is the event ID. invite: a room's guild.create, its invite tag and an invite code bound to it. frames: one of each stream message; frame_hex is the unsigned-varint length then the JSON, message is that JSON.",
		Topic: topicVector{GuildID: ev.GuildID.String(), Topic: TopicName(ev.GuildID), MessageID: ev.ID(),
			Message: string(event.Marshal(ev))},
	}
	create := vectorCreate(t)
	file.Invite = inviteVector{Create: string(event.Marshal(create)), CreateID: create.ID(), Tag: guild.InviteTag(create.ID()), Code: vectorCode(t)}
	file.Live = vectorSignals(t)
	for _, v := range vectorMessages(t) {
		var buf bytes.Buffer
		if err := writeFrame(&buf, v.msg); err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(v.msg)
		file.Frames = append(file.Frames, frameVector{Protocol: v.proto, Name: v.name, Message: body, FrameHex: hex.EncodeToString(buf.Bytes())})
	}
	var got vectorFileT
	if err := json.Unmarshal(vectors.Sync(t, vectorFile, vectors.Encode(t, file)), &got); err != nil {
		t.Fatal(err)
	}
	if id := messageID(pbMessage([]byte(got.Topic.Message))); id != got.Topic.MessageID {
		t.Errorf("message ID %s, file says %s", id, got.Topic.MessageID)
	}
	if inv := got.Invite; guild.InviteTag(inv.CreateID) != inv.Tag || !guild.InviteNames(inv.Code, inv.CreateID) ||
		guild.InviteNames(inv.Code, got.Topic.MessageID) {
		t.Errorf("the invite vector's code is not bound to its room alone")
	}
	for _, v := range got.Live {
		var s signal
		if err := json.Unmarshal([]byte(v.Message), &s); err != nil {
			t.Fatal(err)
		}
		if in, err := s.signingInput(); err != nil || string(in) != v.SigningInput || verifyBytes(mustDecode(t, s.Origin), in, s.Signature) != nil {
			t.Errorf("the %s vector's signature does not verify (%v)", s.Type, err)
		}
	}
	want := vectorMessages(t)
	for i, v := range got.Frames {
		frame, err := hex.DecodeString(v.FrameHex)
		if err != nil {
			t.Fatal(err)
		}
		into := reflect.New(reflect.TypeOf(want[i].msg).Elem()).Interface()
		if err := readFrame(bufio.NewReader(bytes.NewReader(frame)), maxResponse, into); err != nil {
			t.Fatalf("%s %s: %v", v.Protocol, v.Name, err)
		}
		if !reflect.DeepEqual(into, want[i].msg) {
			t.Errorf("%s %s: read %+v, want %+v", v.Protocol, v.Name, into, want[i].msg)
		}
	}
}

func mustDecode(t *testing.T, id string) peer.ID {
	t.Helper()
	p, err := peer.Decode(id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func rawJSON(s string) *json.RawMessage {
	r := json.RawMessage(s)
	return &r
}

func pbMessage(data []byte) *pb.Message { return &pb.Message{Data: data} }

// TestProfileSignature: a profile verifies against its home only, and not
// once changed.
func TestProfileSignature(t *testing.T) {
	p := vectorProfile(t)
	home, err := peer.Decode(p.Origin)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.verify(home); err != nil {
		t.Fatalf("vector profile: %v", err)
	}
	forged := p
	forged.Username = "mallory"
	if forged.verify(home) == nil {
		t.Error("a changed profile verifies")
	}
	other, _, _ := crypto.GenerateEd25519Key(nil)
	otherID, _ := peer.IDFromPrivateKey(other)
	if p.verify(otherID) == nil {
		t.Error("a profile verifies as another node's")
	}
	long := p
	long.Username = strings.Repeat("x", maxUsername+1)
	long.signWith(vectorKey(t))
	if long.verify(home) == nil {
		t.Error("an oversized profile verifies")
	}
}

// voiceOffer and voiceAnswer are a relay session's descriptions carrying
// one user's microphone, cut to what the stream needs of them: the
// track's stream ID names the guild, voice channel and user.
const (
	voiceOffer = "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n" +
		"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\n" +
		"a=msid:175928847299117056-175928847299117058-175928847299117061 microphone\r\n" +
		"a=rtpmap:111 opus/48000/2\r\na=ssrc:1842393125 cname:relay\r\n" +
		"a=candidate:1 1 udp 2130706431 192.0.2.10 50000 typ host\r\na=end-of-candidates\r\n"
	voiceAnswer = "v=0\r\no=- 3 4 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n" +
		"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=recvonly\r\n" +
		"a=rtpmap:111 opus/48000/2\r\n" +
		"a=candidate:1 1 udp 2130706431 198.51.100.20 50000 typ host\r\na=end-of-candidates\r\n"
)
