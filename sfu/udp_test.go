package sfu

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"concord/federation/snowflake"
	"concord/sfu/udp"
)

// bot is a voice client as Discord's bot libraries are: the voice gateway,
// then IP discovery and RTP over UDP, sealed in the mode it selected.
type bot struct {
	*client
	conn  *net.UDPConn
	ssrc  uint32
	crypt udp.Crypt
	seq   uint16

	mu  sync.Mutex
	got map[uint32][][]byte // payloads by SSRC
}

func withUDP(c *Config) { c.UDPListen = "127.0.0.1:0" }

// dialBot joins user to ch and runs the handshake up to Ready; it returns
// the client and Ready.
func (r *rig) dialBot(t *testing.T, user, ch snowflake.ID) (*client, ready) {
	t.Helper()
	vs := r.join(t, user, ch)
	c := r.dial(t, user)
	c.deaf = true // op 4 is the key, not an offer
	c.identify(vs)
	var rd ready
	if err := json.Unmarshal(c.wait(opReady).D, &rd); err != nil {
		t.Fatal(err)
	}
	return c, rd
}

// discover sends IP discovery for ssrc and returns the address the server
// saw, or "" when no answer came.
func discover(t *testing.T, conn *net.UDPConn, ssrc uint32) string {
	req := make([]byte, 74)
	binary.BigEndian.PutUint16(req, 1)
	binary.BigEndian.PutUint16(req[2:], 70)
	binary.BigEndian.PutUint32(req[4:], ssrc)
	conn.Write(req)
	conn.SetReadDeadline(time.Now().Add(time.Second))
	defer conn.SetReadDeadline(time.Time{})
	b := make([]byte, 100)
	n, err := conn.Read(b)
	if err != nil || n != 74 || binary.BigEndian.Uint16(b) != 2 || binary.BigEndian.Uint32(b[4:]) != ssrc {
		return ""
	}
	return fmt.Sprintf("%s:%d", strings.TrimRight(string(b[8:72]), "\x00"), binary.BigEndian.Uint16(b[72:]))
}

// connectBot runs a bot's whole handshake in mode.
func (r *rig) connectBot(t *testing.T, user, ch snowflake.ID, mode string) *bot {
	t.Helper()
	c, rd := r.dialBot(t, user, ch)
	if rd.Port == 0 || rd.SSRC == 0 || !strings.Contains(strings.Join(rd.Modes, " "), mode) {
		t.Fatalf("Ready %+v", rd)
	}
	conn, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.ParseIP(rd.IP), Port: rd.Port})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	seen := discover(t, conn, rd.SSRC)
	if seen != conn.LocalAddr().String() {
		t.Fatalf("IP discovery said %q, the client is %s", seen, conn.LocalAddr())
	}
	local := conn.LocalAddr().(*net.UDPAddr)
	c.send(opSelectProtocol, map[string]any{"protocol": "udp", "data": map[string]any{"address": local.IP.String(), "port": local.Port, "mode": mode}})
	var sd struct {
		Mode string `json:"mode"`
		Key  []int  `json:"secret_key"`
	}
	if err := json.Unmarshal(c.wait(opSessionDesc).D, &sd); err != nil || sd.Mode != mode || len(sd.Key) != udp.KeySize {
		t.Fatalf("session description %+v %v", sd, err)
	}
	var key [udp.KeySize]byte
	for i, k := range sd.Key {
		key[i] = byte(k)
	}
	cr, err := udp.NewCrypt(mode, &key)
	if err != nil {
		t.Fatal(err)
	}
	b := &bot{client: c, conn: conn, ssrc: rd.SSRC, crypt: cr, got: map[uint32][][]byte{}}
	go b.read()
	return b
}

func (b *bot) read() {
	buf := make([]byte, 1500)
	for {
		n, err := b.conn.Read(buf)
		if err != nil {
			return
		}
		if n < 12 {
			continue
		}
		if payload, ok := b.crypt.Open(buf[:n]); ok {
			b.mu.Lock()
			ssrc := binary.BigEndian.Uint32(buf[8:12])
			b.got[ssrc] = append(b.got[ssrc], payload)
			b.mu.Unlock()
		}
	}
}

// speak says it speaks (op 5) and sends n packets 20 ms apart, sealed
// with crypt.
func (b *bot) speak(text string, n int, crypt udp.Crypt) {
	b.send(opSpeaking, map[string]any{"speaking": 1, "delay": 0, "ssrc": b.ssrc})
	for i := range n {
		b.seq++
		h := make([]byte, 12)
		h[0], h[1] = 0x80, 0x78
		binary.BigEndian.PutUint16(h[2:], b.seq)
		binary.BigEndian.PutUint32(h[4:], uint32(b.seq)*960)
		binary.BigEndian.PutUint32(h[8:], b.ssrc)
		b.conn.Write(crypt.Seal(nil, h, []byte(fmt.Sprintf("%s:%d", text, i))))
		time.Sleep(20 * time.Millisecond)
	}
}

// from lists the payloads the bot received of user's microphone, whose
// SSRC the server's op 5 named.
func (b *bot) from(user string) []string {
	var ssrc uint32
	for _, d := range about[speaking](b.client, opSpeaking, user) {
		ssrc = d.SSRC
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, p := range b.got[ssrc] {
		out = append(out, string(p))
	}
	return out
}

// TestUDPVoice: a bot on the UDP protocol and a WebRTC client hear each
// other in every encryption mode; the WebRTC client sees the bot speak,
// and the bot learns the SSRC of the other's audio from op 5.
func TestUDPVoice(t *testing.T) {
	for _, mode := range udp.Modes {
		t.Run(mode, func(t *testing.T) {
			r := newRig(t, 3, withUDP)
			b := r.connectBot(t, 2, testVoice, mode)
			web := r.connect(t, 3, testVoice)
			go web.speak("from-web", 50, 20)
			b.speak("from-bot", 50, b.crypt)
			waitFor(t, "audio both ways", 5*time.Second, func() bool {
				return len(web.got(2, "microphone")) > 30 && len(b.from("3")) > 30
			})
			for _, p := range web.got(2, "microphone") {
				if !strings.HasPrefix(string(p.Payload), "from-bot:") {
					t.Fatalf("the web client got %q", p.Payload)
				}
			}
			for _, p := range b.from("3") {
				if !strings.HasPrefix(p, "from-web:") {
					t.Fatalf("the bot got %q", p)
				}
			}
			if got := speakingOf(web, "2"); len(got) == 0 || got[0] != speakingMicrophone {
				t.Errorf("the web client heard of the bot speaking %v", got)
			}
		})
	}
}

// TestUDPVoiceRefusals: an unknown mode closes with 4016; discovery for an
// SSRC nobody holds gets no answer; packets sealed with another key, or
// from another address than the discovery's unless they authenticate,
// are not forwarded; a second Select Protocol closes with 4020.
func TestUDPVoiceRefusals(t *testing.T) {
	r := newRig(t, 4, withUDP)
	c, _ := r.dialBot(t, 2, testVoice)
	c.send(opSelectProtocol, map[string]any{"protocol": "udp", "data": map[string]any{"address": "127.0.0.1", "port": 1, "mode": "plain"}})
	wantClose(t, c, closeUnknownMode)

	b := r.connectBot(t, 3, testVoice, udp.ModeAES256GCM)
	web := r.connect(t, 4, testVoice)
	if got := discover(t, b.conn, b.ssrc+1); got != "" {
		t.Errorf("discovery for an unknown SSRC answered %q", got)
	}
	var other [udp.KeySize]byte
	forged, _ := udp.NewCrypt(udp.ModeAES256GCM, &other)
	b.speak("forged", 20, forged)
	time.Sleep(100 * time.Millisecond)
	if n := len(web.got(3, "microphone")); n != 0 {
		t.Fatalf("%d packets sealed with another key were forwarded", n)
	}
	b.speak("real", 20, b.crypt)
	waitFor(t, "the bot's audio", 2*time.Second, func() bool { return len(web.got(3, "microphone")) >= 15 })
	b.send(opSelectProtocol, map[string]any{"protocol": "udp", "data": map[string]any{"address": "127.0.0.1", "port": 1, "mode": udp.ModeAES256GCM}})
	wantClose(t, b.client, closeBadRequest)
}
