package media

import (
	"slices"
	"time"
)

// rate measures one layer's bitrate over windows of a second.
type rate struct {
	start time.Time
	bytes int
	bps   uint64 // of the last full window
}

func (r *rate) add(n int, now time.Time) {
	if d := now.Sub(r.start); d >= time.Second {
		if d < 2*time.Second {
			r.bps = uint64(float64(r.bytes*8) / d.Seconds())
		} else {
			r.bps = 0 // the layer paused
		}
		r.start, r.bytes = now, 0
	}
	r.bytes += n
}

// live reports the layer's bitrate, 0 when it sent nothing for a while.
func (r *rate) live(now time.Time) uint64 {
	if now.Sub(r.start) > 2*time.Second {
		return 0
	}
	return r.bps
}

// Probing a layer up. A sender-side estimate (GCC) rises to at most half
// again what the receiver takes, so a receiver of a low layer never shows
// room for the next: after a layer has been chosen probeAfter, the next
// one up is tried. It is kept until the estimate falls by a tenth from its
// best (the link is congested: back down, and the next try of that layer
// waits twice as long); once the estimate fits it, it is chosen as any
// other. An estimate that climbs slowly keeps the try going: sending the
// layer without congestion is what a probe is for.
const (
	probeAfter    = 4 * time.Second
	maxProbeAfter = 64 * time.Second
)

// probe is one sink's trying of higher layers.
type probe struct {
	since  time.Time       // the target was last changed
	after  []time.Duration // per layer, to wait before trying it; 0: probeAfter
	trying bool            // the target is on trial
	floor  uint64          // the estimate below which the try failed
}

// wait is how long a layer must wait to be tried.
func (p *probe) wait(layer int) time.Duration {
	if p.after[layer] == 0 {
		return probeAfter
	}
	return p.after[layer]
}

// chooseLayer picks the sink's layer: the highest that is flowing and
// fits its bitrate, or the lowest flowing one when none fits, or one up
// to probe for room. Before any layer was measured it picks the top one.
// f.mu is held.
func (f *Fanout) chooseLayer(w *forwarder, now time.Time) int {
	budget := w.sink.Bitrate()
	best, lowest := -1, -1
	var flowing []int
	for l := range f.rates {
		bps := f.rates[l].live(now)
		if bps == 0 {
			continue
		}
		flowing = append(flowing, l)
		if lowest < 0 {
			lowest = l
		}
		if budget == 0 || bps <= budget {
			best = l
		}
	}
	choice := best
	switch {
	case best < 0 && lowest >= 0:
		choice = lowest
	case best < 0:
		return len(f.rates) - 1
	}
	p := &w.probe
	if p.after == nil {
		p.after = make([]time.Duration, len(f.rates))
	}
	if p.trying {
		switch {
		case choice >= w.target:
			p.after[w.target] = 0 // the estimate caught up
		case budget >= p.floor:
			p.floor = max(p.floor, budget*9/10)
			return w.target // no sign of congestion
		default:
			p.after[w.target] = min(2*p.wait(w.target), maxProbeAfter)
		}
		p.since, p.trying = now, false
	}
	if choice != w.target {
		p.since = now
		return choice
	}
	// Try the next flowing layer up once this one has held long enough.
	i := slices.Index(flowing, choice)
	if budget == 0 || best != choice || i+1 >= len(flowing) || now.Sub(p.since) < p.wait(flowing[i+1]) {
		return choice
	}
	p.since, p.trying, p.floor = now, true, budget*9/10
	return flowing[i+1]
}
