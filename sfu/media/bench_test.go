package media

import (
	"testing"

	"github.com/pion/webrtc/v4"
)

// counter is a sink that counts what it takes and keeps nothing.
type counter struct{ n int }

func (c *counter) Write(*Packet) error { c.n++; return nil }
func (c *counter) Bitrate() uint64     { return 0 }

// BenchmarkFanout is the SFU's own share of forwarding one packet to one
// receiver, without pion's interceptors, SRTP and the socket: a speaker's
// packet to the 49 others of a 50-member channel, and a VP8 packet, whose
// picture ID is renumbered per receiver too.
func BenchmarkFanout(b *testing.B) {
	for _, tt := range []struct {
		name string
		info Info
		p    *Packet
	}{
		{"opus", Info{Kind: Audio, Codec: webrtc.RTPCodecCapability{MimeType: "audio/opus", ClockRate: 48000}},
			&Packet{Payload: make([]byte, 80), HasLevel: true, Level: 30}},
		{"vp8", Info{Kind: Video, Layers: 1, Codec: webrtc.RTPCodecCapability{MimeType: "video/VP8", ClockRate: 90000}},
			vp8Packet(0, 0, 1, 1, true)},
	} {
		b.Run(tt.name, func(b *testing.B) {
			f := NewFanout(tt.info, nil)
			for range 49 {
				f.Subscribe(&counter{})
			}
			if f.Sinks() != 49 {
				b.Fatalf("%d sinks", f.Sinks())
			}
			p := tt.p
			b.ResetTimer()
			for i := range b.N {
				p.SequenceNumber, p.Timestamp = uint16(i), uint32(i)*960
				f.Write(p)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*49), "ns/forward")
		})
	}
}
