package sfu

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// post sends an offer to a WHIP or WHEP URL and returns the response.
func post(t *testing.T, url, token, offer string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(offer))
	req.Header.Set("Content-Type", "application/sdp")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// offerOf makes pc's offer with all its candidates.
func offerOf(t *testing.T, pc *webrtc.PeerConnection) string {
	o, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	done := webrtc.GatheringCompletePromise(pc)
	pc.SetLocalDescription(o)
	<-done
	return pc.LocalDescription().SDP
}

// obs publishes H.264 and Opus over WHIP, as OBS does, until the test
// ends; it returns the resource's URL.
func obs(t *testing.T, r *rig, user string) string {
	pc, err := newClientAPI(t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	video, _ := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
		SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}, "obs-video", "obs")
	audio, _ := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "obs-audio", "obs")
	for _, tr := range []*webrtc.TrackLocalStaticRTP{video, audio} {
		tx, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			t.Fatal(err)
		}
		go drain(tx.Sender())
	}
	resp := post(t, r.http+"/voice/whip/"+testGuild.String()+"/"+testVoice.String(), "token-"+user, offerOf(t, pc))
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Location") == "" {
		t.Fatalf("WHIP POST: %s %s", resp.Status, body)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(body)}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	t.Cleanup(func() { close(stop); <-done })
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			nal := byte(0x41) // a non-IDR slice
			if i%25 == 0 {
				nal = 0x65 // IDR, every half second
			}
			video.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(i), Timestamp: uint32(i * 1800), Marker: true},
				Payload: []byte{nal, 0xaa, byte(i)}})
			audio.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(i), Timestamp: uint32(i * 960)},
				Payload: []byte("obs-audio")})
		}
	}()
	return r.http + resp.Header.Get("Location")
}

func TestWHIPPublishWHEPPlay(t *testing.T) {
	r := newRig(t, 4, nil)
	viewer := r.connect(t, 3, testVoice) // a voice client in the channel
	location := obs(t, r, "2")
	viewer.wait(opVideo) // the stream started: watch it
	viewer.watch(2, true)
	waitFor(t, "the voice client gets the stream", 10*time.Second, func() bool {
		return len(viewer.got(2, "screen")) > 10 && len(viewer.got(2, "screen_audio")) > 10
	})
	if ps := viewer.got(2, "screen"); ps[0].Payload[0] != 0x65 {
		t.Errorf("the voice client's stream began with NAL % x, want an IDR", ps[0].Payload[:1])
	}

	// WHEP: a player offers to receive video and audio.
	pc, err := newClientAPI(t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly})
	}
	var video, audio atomic.Int32
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			if tr.Kind() == webrtc.RTPCodecTypeVideo && len(p.Payload) == 3 {
				video.Add(1)
			} else if string(p.Payload) == "obs-audio" {
				audio.Add(1)
			}
		}
	})
	resp := post(t, r.http+"/voice/whep/"+testGuild.String()+"/"+testVoice.String(), "token-4", offerOf(t, pc))
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("WHEP POST: %s %s", resp.Status, body)
	}
	pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(body)})
	waitFor(t, "the WHEP player gets video and audio", 10*time.Second, func() bool {
		return video.Load() > 10 && audio.Load() > 10
	})

	// DELETE ends the ingest: the voice client hears that the screen
	// stopped.
	req, _ := http.NewRequest(http.MethodDelete, location, nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE: %v %v", resp, err)
	}
	resp.Body.Close()
	waitFor(t, "stream stopped (op 12 inactive)", 5*time.Second, func() bool {
		for _, f := range viewer.ops(opVideo) {
			if strings.Contains(string(f.D), `"active":false`) {
				return true
			}
		}
		return false
	})
}

func TestWHIPRefusals(t *testing.T) {
	r := newRig(t, 3, nil)
	url := r.http + "/voice/whip/" + testGuild.String() + "/" + testVoice.String()
	for _, tt := range []struct {
		name, url, token, offer string
		want                    int
	}{
		{"no token", url, "", "v=0", http.StatusUnauthorized},
		{"bad token", url, "nope", "v=0", http.StatusUnauthorized},
		{"not a member", url, "token-9", "v=0", http.StatusForbidden},
		{"text channel", r.http + "/voice/whip/" + testGuild.String() + "/" + testText.String(), "token-2", "v=0", http.StatusForbidden},
		{"malformed SDP", url, "token-2", "v=0\r\nnonsense", http.StatusBadRequest},
		{"unknown resource", url + "/nope", "token-2", "", http.StatusNotFound},
		{"nothing to watch", r.http + "/voice/whep/" + testGuild.String() + "/" + testVoice.String(), "token-2", pcmuOffer(t), http.StatusNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp := post(t, tt.url, tt.token, tt.offer)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("got %s, want %d", resp.Status, tt.want)
			}
		})
	}
}

// One user holds at most maxResources streams and players; ending one
// makes room.
func TestWHIPResourceLimit(t *testing.T) {
	r := newRig(t, 3, nil)
	publish := func() *http.Response { return whipAudio(t, r) }
	var first string
	for i := range maxResources {
		resp := publish()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("stream %d: %s", i, resp.Status)
		}
		if i == 0 {
			first = resp.Header.Get("Location")
		}
	}
	if resp := publish(); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("one stream too many: %s, want 429", resp.Status)
	}
	req, _ := http.NewRequest(http.MethodDelete, r.http+first, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE: %v %v", resp.Status, err)
	}
	resp.Body.Close()
	if resp := publish(); resp.StatusCode != http.StatusCreated {
		t.Fatalf("after a DELETE: %s", resp.Status)
	}
}

// whipAudio POSTs user 2's WHIP offer of an audio track, which never
// connects.
func whipAudio(t *testing.T, r *rig) *http.Response {
	pc, err := newClientAPI(t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	resp := post(t, r.http+"/voice/whip/"+testGuild.String()+"/"+testVoice.String(), "token-2", offerOf(t, pc))
	resp.Body.Close()
	return resp
}

// Trickled candidates are bounded over all of a resource's PATCHes.
func TestWHIPTrickleBounded(t *testing.T) {
	r := newRig(t, 3, nil)
	resp := whipAudio(t, r)
	if resp.StatusCode != http.StatusCreated {
		t.Fatal(resp.Status)
	}
	patch := func(from int) int {
		var frag strings.Builder
		for i := range 40 {
			fmt.Fprintf(&frag, "a=candidate:%d 1 udp 2130706431 127.0.0.1 %d typ host\r\n", from+i, 40000+from+i)
		}
		req, _ := http.NewRequest(http.MethodPatch, r.http+resp.Header.Get("Location"), strings.NewReader(frag.String()))
		req.Header.Set("Content-Type", "application/trickle-ice-sdpfrag")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := patch(0); got != http.StatusNoContent {
		t.Fatalf("first 40 candidates: %d, want 204", got)
	}
	if got := patch(40); got != http.StatusBadRequest {
		t.Fatalf("40 more: %d, want 400", got)
	}
}
