package media

import "time"

// chooseEvery is how often a video sink's layer is chosen again.
const chooseEvery = time.Second

// forwarder is one sink of one track: the layer it receives and the
// offsets that make its sequence numbers and timestamps continuous
// across pauses and layer switches.
type forwarder struct {
	sink  Sink
	video bool
	clock uint32 // RTP clock rate

	layer  int  // forwarded now; -1 before the first keyframe
	target int  // wanted; switched to at its next keyframe
	pinned bool // the sink takes target only (Pinned)
	chosen time.Time
	probe  probe

	started bool
	resync  bool   // the next packet forwarded starts a new run
	base    uint16 // the source sequence number that began this run
	seqOff  uint16
	tsOff   uint32
	lastSeq uint16 // last sent, in the sink's numbering
	lastTS  uint32
	lastAt  time.Time

	vp8 *vp8IDs // nil unless the track is VP8
}

// forward sends p to the sink if it belongs to the layer the sink
// receives, switching to the target layer at its keyframe. It reports
// whether it sent, and whether the sink waits for a keyframe of the
// target (which the Fanout asks for, throttled).
func (w *forwarder) forward(p *Packet, now time.Time) (sent, wantKey bool) {
	if w.video {
		switch {
		case p.Layer == w.target && w.layer != w.target && p.Keyframe:
			prev := w.layer
			w.layer, w.resync = p.Layer, true
			defer func() {
				if !sent {
					// The sink missed the keyframe (not ready yet, say):
					// what follows would not decode.
					w.layer, wantKey = prev, true
				}
			}()
		case p.Layer != w.layer || w.layer < 0:
			return false, w.layer != w.target
		}
		wantKey = w.layer != w.target
	}
	if w.resync || !w.started {
		w.startRun(p, now)
	} else if int16(p.SequenceNumber-w.base) < 0 {
		return false, wantKey // from before this run: its numbering is gone
	}
	seq, ts := p.SequenceNumber, p.Timestamp
	p.SequenceNumber, p.Timestamp = seq+w.seqOff, ts+w.tsOff
	var u undo
	if w.vp8 != nil {
		if d, ok := parseVP8(p.Payload); ok {
			w.vp8.rewrite(p.Payload, d, &u)
		}
	}
	err := w.sink.Write(p)
	u.restore(p.Payload)
	if int16(p.SequenceNumber-w.lastSeq) > 0 {
		w.lastSeq, w.lastTS, w.lastAt = p.SequenceNumber, p.Timestamp, now
	}
	p.SequenceNumber, p.Timestamp = seq, ts
	return err == nil, wantKey
}

// startRun makes p follow the last packet sent: the next sequence number,
// and a timestamp as far on as the wall clock moved.
func (w *forwarder) startRun(p *Packet, now time.Time) {
	w.resync, w.base = false, p.SequenceNumber
	if w.vp8 != nil {
		w.vp8.sync = true
	}
	if !w.started {
		w.started = true
		w.lastSeq, w.lastTS, w.lastAt = p.SequenceNumber-1, p.Timestamp, now
		return
	}
	w.seqOff = w.lastSeq + 1 - p.SequenceNumber
	elapsed := uint32(now.Sub(w.lastAt).Seconds() * float64(w.clock))
	w.tsOff = w.lastTS + max(elapsed, 1) - p.Timestamp
}
