package sfu

import "encoding/json"

// Voice gateway opcodes, Discord's (spec/voice.md).
const (
	opIdentify          = 0
	opSelectProtocol    = 1
	opReady             = 2
	opHeartbeat         = 3
	opSessionDesc       = 4
	opSpeaking          = 5
	opHeartbeatACK      = 6
	opResume            = 7
	opHello             = 8
	opResumed           = 9
	opClientsConnect    = 11
	opVideo             = 12
	opClientDisconnect  = 13
	opClientFlags       = 18 // sent by Discord's clients; ignored
	opClientPlatform    = 20 // likewise
	opRecording         = 50 // Concord's: the channel is being recorded
	opWatch             = 51 // Concord's: the client watches a screen share, or stops
	opViewers           = 52 // Concord's: who watches a screen share
	voiceGatewayVersion = 8
)

// Close codes, Discord's voice gateway's; the reason says more.
const (
	closeUnknownOpcode   = 4001
	closeDecode          = 4002
	closeNotAuthed       = 4003
	closeAuthFailed      = 4004
	closeAlreadyAuthed   = 4005
	closeSessionInvalid  = 4006
	closeTimeout         = 4009
	closeUnknownProtocol = 4012
	closeDisconnected    = 4014
	closeServerCrashed   = 4015
	closeUnknownMode     = 4016
	closeBadRequest      = 4020
	closeRateLimited     = 4021
)

// frame is one voice gateway message. Seq numbers what the server sends
// (v8), so that a resume replays what the client missed.
type frame struct {
	Op  int             `json:"op"`
	D   json.RawMessage `json:"d"`
	Seq *int64          `json:"seq,omitempty"`
}

type identify struct {
	ServerID  string `json:"server_id"`
	UserID    string `json:"user_id"`
	SessionID string `json:"session_id"`
	Token     string `json:"token"`
}

type resume struct {
	ServerID  string `json:"server_id"`
	SessionID string `json:"session_id"`
	Token     string `json:"token"`
	SeqAck    int64  `json:"seq_ack"`
}

type heartbeat struct {
	T      json.RawMessage `json:"t"`
	SeqAck *int64          `json:"seq_ack"`
}

// selectProtocol accepts the SDP where Discord's browser client puts it
// (data.sdp, or data as a string) and at the top level.
type selectProtocol struct {
	Protocol string          `json:"protocol"`
	Data     json.RawMessage `json:"data"`
	SDP      string          `json:"sdp"`
}

func (s selectProtocol) offer() string {
	if s.SDP != "" {
		return s.SDP
	}
	var text string
	if json.Unmarshal(s.Data, &text) == nil {
		return text
	}
	var d struct {
		SDP string `json:"sdp"`
	}
	json.Unmarshal(s.Data, &d)
	return d.SDP
}

// sessionDesc is op 4 both ways: the server's answer to an offer (op 1 or
// a client's op 4 offer), and the server's offer of what the client
// receives with the client's answer.
type sessionDesc struct {
	Type       string `json:"type"` // "offer" or "answer"
	SDP        string `json:"sdp"`
	AudioCodec string `json:"audio_codec,omitempty"`
	VideoCodec string `json:"video_codec,omitempty"`
	Mode       string `json:"mode,omitempty"`
	MediaSID   string `json:"media_session_id,omitempty"`
}

// ready is op 2. ssrc, ip and port are the UDP voice protocol's (zero
// when the node serves none); heartbeat_interval repeats Hello's for
// clients of versions before it.
type ready struct {
	SSRC              uint32      `json:"ssrc"`
	IP                string      `json:"ip"`
	Port              int         `json:"port"`
	Modes             []string    `json:"modes"`
	HeartbeatInterval int64       `json:"heartbeat_interval"`
	Streams           []any       `json:"streams"`
	ICEServers        []ICEServer `json:"ice_servers"`
}

// udpSelect is Select Protocol's data for the UDP protocol: the
// encryption mode the client chose. Its address and port, which its IP
// discovery told it, are not read: the server sends to where the
// discovery came from, whatever they say.
type udpSelect struct {
	Mode string `json:"mode"`
}

// udpSession is op 4 for the UDP protocol: the mode and its key, as an
// array of numbers.
type udpSession struct {
	Mode       string `json:"mode"`
	SecretKey  []int  `json:"secret_key"`
	AudioCodec string `json:"audio_codec"`
}

// ICEServer is a STUN or TURN server handed to clients, as WebRTC's
// RTCIceServer.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

type speaking struct {
	UserID   string        `json:"user_id,omitempty"` // the server's; clients send none
	SSRC     uint32        `json:"ssrc"`
	Speaking speakingFlags `json:"speaking"`
	Delay    int           `json:"delay"`
}

// speakingFlags are op 5's flags, below; older clients send a boolean,
// which is the microphone flag.
type speakingFlags int

func (f *speakingFlags) UnmarshalJSON(b []byte) error {
	var on bool
	if json.Unmarshal(b, &on) == nil {
		*f = 0
		if on {
			*f = speakingMicrophone
		}
		return nil
	}
	return json.Unmarshal(b, (*int)(f))
}

// Speaking flags, Discord's.
const (
	speakingMicrophone = 1
	speakingPriority   = 4
)

type videoState struct {
	UserID  string   `json:"user_id"`
	Streams []stream `json:"streams"`
}

type stream struct {
	Type   string `json:"type"` // the track's source: camera, screen …
	Active bool   `json:"active"`
}

type watch struct {
	UserID string `json:"user_id"`
	Watch  bool   `json:"watch"`
}

type viewers struct {
	UserID    string   `json:"user_id"`
	ViewerIDs []string `json:"viewer_ids"`
}
