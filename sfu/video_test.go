package sfu

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// camera is a client's video track, simulcast when it has several
// layers, sending synthetic VP8: each packet's payload is the VP8
// descriptor, a VP8 header byte (keyframe or not, marked in every packet
// of the frame), the layer's index and the time it was sent.
type camera struct {
	pc     *webrtc.PeerConnection
	sender *webrtc.RTPSender
	layers []*webrtc.TrackLocalStaticRTP
	rates  []int // bits per second per layer
	key    chan struct{}
	sent   atomic.Int64 // packets
	stop   chan struct{}
	wg     sync.WaitGroup
}

var vp8 = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}

// addVideo adds a video track of source to the up connection, one
// encoding per rid (none: no simulcast), sending rates[i] on layer i.
func (c *client) addVideo(source string, rates []int, rids ...string) *camera {
	c.t.Helper()
	c.newUp()
	cam := &camera{pc: c.up, rates: rates, key: make(chan struct{}, 1), stop: make(chan struct{})}
	if len(rids) == 0 {
		rids = []string{""}
	}
	var sender *webrtc.RTPSender
	for _, rid := range rids {
		var opts []func(*webrtc.TrackLocalStaticRTP)
		if rid != "" {
			opts = append(opts, webrtc.WithRTPStreamID(rid))
		}
		tr, err := webrtc.NewTrackLocalStaticRTP(vp8, source, c.user.String(), opts...)
		if err != nil {
			c.t.Fatal(err)
		}
		cam.layers = append(cam.layers, tr)
		if sender == nil {
			if sender, err = c.up.AddTrack(tr); err != nil {
				c.t.Fatal(err)
			}
		} else if err := sender.AddEncoding(tr); err != nil {
			c.t.Fatal(err)
		}
	}
	cam.sender = sender
	// Every encoding's RTCP: a PLI asks for a keyframe.
	for _, enc := range sender.GetParameters().Encodings {
		go func() {
			for {
				pkts, _, err := sender.ReadSimulcastRTCP(enc.RID)
				if err != nil {
					return
				}
				for _, p := range pkts {
					if _, ok := p.(*rtcp.PictureLossIndication); ok {
						select {
						case cam.key <- struct{}{}:
						default:
						}
					}
				}
			}
		}()
	}
	return cam
}

// run sends 30 frames a second until stopped, a keyframe every 2 s and
// whenever one is asked for. Simulcast packets carry the MID and RID
// header extensions, which the receiver sorts layers by (pion's
// TrackLocalStaticRTP does not add them).
func (cam *camera) run() {
	var midID, ridID uint8
	for _, e := range cam.sender.GetParameters().HeaderExtensions {
		switch e.URI {
		case sdp.SDESMidURI:
			midID = uint8(e.ID)
		case sdp.SDESRTPStreamIDURI:
			ridID = uint8(e.ID)
		}
	}
	var mid string
	for _, tr := range cam.pc.GetTransceivers() {
		if tr.Sender() == cam.sender {
			mid = tr.Mid()
		}
	}
	cam.wg.Add(1)
	go func() {
		defer cam.wg.Done()
		tick := time.NewTicker(time.Second / 30)
		defer tick.Stop()
		seq := make([]uint16, len(cam.layers))
		for frame := 0; ; frame++ {
			select {
			case <-cam.stop:
				return
			case <-tick.C:
			}
			key := frame%60 == 0
			select {
			case <-cam.key:
				key = true
			default:
			}
			for l, tr := range cam.layers {
				frameBytes := cam.rates[l] / 8 / 30
				for off := 0; off < frameBytes; off += 1000 {
					n := min(1000, frameBytes-off)
					// Byte 1 is the VP8 header's frame type in the first
					// packet; the test marks every packet of a keyframe so.
					payload := make([]byte, max(n, 11))
					if off == 0 {
						payload[0] = 0x10 // start of partition 0
					}
					if !key {
						payload[1] = 1
					}
					payload[2] = byte(l)
					binary.BigEndian.PutUint64(payload[3:], uint64(time.Now().UnixNano()))
					p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq[l],
						Timestamp: uint32(frame * 3000), Marker: off+n >= frameBytes}, Payload: payload}
					if tr.RID() != "" && midID != 0 && ridID != 0 {
						p.Header.SetExtension(midID, []byte(mid))
						p.Header.SetExtension(ridID, []byte(tr.RID()))
					}
					tr.WriteRTP(p)
					cam.sent.Add(1)
					seq[l]++
				}
			}
		}
	}()
}

func (cam *camera) close() {
	close(cam.stop)
	cam.wg.Wait()
}

func TestScreenShareToTenViewers(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	const viewers = 10
	r := newRig(t, viewers+3, nil)
	pub := r.join(t, 2, testVoice)
	sharer := r.dial(t, 2)
	sharer.identify(pub)
	sharer.wait(opReady)
	screen := sharer.addVideo("screen", []int{500_000})
	sharer.negotiate()
	sharer.waitConnected()
	screen.run()
	defer screen.close()
	var clients []*client
	for i := range viewers {
		c := r.connect(t, snowflakeOf(i+3), testVoice)
		c.watch(2, true)
		clients = append(clients, c)
	}
	other := r.connect(t, snowflakeOf(viewers+3), testVoice) // does not watch
	waitFor(t, "self_stream shown", 2*time.Second, func() bool {
		vs := r.hub.VoiceStates(testGuild)
		return len(vs) > 0 && vs[0].UserID == 2 && vs[0].SelfStream
	})
	waitFor(t, "every viewer receives the screen", 10*time.Second, func() bool {
		for _, c := range clients {
			if len(c.got(2, "screen")) < 30 {
				return false
			}
		}
		return true
	})
	for _, c := range clients {
		ps := c.got(2, "screen")
		if ps[0].Payload[1]&1 != 0 {
			t.Errorf("user %s's screen began without a keyframe", c.user)
		}
		if len(c.ops(opVideo)) == 0 {
			t.Errorf("user %s was not told of the screen share (op 12)", c.user)
		}
	}
	if len(other.ops(opVideo)) == 0 || len(other.got(2, "screen")) != 0 {
		t.Errorf("the member who does not watch: %d op 12, %d packets of the screen; want some and none",
			len(other.ops(opVideo)), len(other.got(2, "screen")))
	}
	waitFor(t, "the sharer told of ten viewers", 2*time.Second, func() bool { return len(lastViewers(sharer, "2")) == viewers })

	// One stops watching: the screen stops reaching them.
	quitter := clients[0]
	quitter.watch(2, false)
	waitFor(t, "nine viewers", 2*time.Second, func() bool { return len(lastViewers(other, "2")) == viewers-1 })
	time.Sleep(100 * time.Millisecond)
	n := len(quitter.got(2, "screen"))
	time.Sleep(300 * time.Millisecond)
	if got := len(quitter.got(2, "screen")); got != n {
		t.Errorf("%d packets of the screen after watching stopped", got-n)
	}
}

// lastViewers is the last viewer list c heard of user's screen share.
func lastViewers(c *client, user string) []string {
	all := about[viewers](c, opViewers, user)
	if len(all) == 0 {
		return nil
	}
	return all[len(all)-1].ViewerIDs
}
