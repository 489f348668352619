package peer

import (
	"time"

	"concord/sfu/media"
)

// limit bounds what one layer of a published track may send: more is
// dropped before forwarding, so that one client flooding its track
// cannot make the SFU send the flood to everyone in the channel. Opus
// tops out near 510 kbps and 100 packets a second (10 ms frames);
// 1080p60 screen shares near 8 Mbps.
type limit struct{ pps, bps float64 }

var limits = map[media.Kind]limit{
	media.Audio: {pps: 250, bps: 600_000},
	media.Video: {pps: 2_500, bps: 15_000_000},
}

// bucket admits packets at a limit's rates, with a second's worth of
// burst (a keyframe comes at once).
type bucket struct {
	lim        limit
	pkts, bits float64
	last       time.Time
}

func newBucket(l limit) *bucket { return &bucket{lim: l, pkts: l.pps, bits: l.bps} }

func (b *bucket) allow(size int, now time.Time) bool {
	if !b.last.IsZero() {
		dt := now.Sub(b.last).Seconds()
		b.pkts = min(b.lim.pps, b.pkts+dt*b.lim.pps)
		b.bits = min(b.lim.bps, b.bits+dt*b.lim.bps)
	}
	b.last = now
	bits := float64(size * 8)
	if b.pkts < 1 || b.bits < bits {
		return false
	}
	b.pkts--
	b.bits -= bits
	return true
}
