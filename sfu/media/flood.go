package media

import "time"

// limit bounds what one layer of a published track may send: more is
// dropped before forwarding, so that one client flooding its track
// cannot make the SFU send the flood to everyone in the channel. Opus
// tops out near 510 kbps and 100 packets a second (10 ms frames);
// 1080p60 screen shares near 8 Mbps.
type limit struct{ pps, bps float64 }

var limits = map[Kind]limit{
	Audio: {pps: 250, bps: 600_000},
	Video: {pps: 2_500, bps: 15_000_000},
}

// Flood admits one layer's packets at its kind's limit, with a second's
// worth of burst (a keyframe comes at once). Sources use it before
// writing to a Fanout; one reader calls it at a time.
type Flood struct {
	lim        limit
	pkts, bits float64
	last       time.Time
}

// NewFlood returns a Flood for a layer of a track of kind k.
func NewFlood(k Kind) *Flood {
	l := limits[k]
	return &Flood{lim: l, pkts: l.pps, bits: l.bps}
}

// Allow reports whether a packet of size bytes may pass now.
func (b *Flood) Allow(size int, now time.Time) bool {
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
