package media

import "time"

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

// chooseLayer picks the highest layer that is flowing and fits the
// sink's bitrate, or the lowest flowing one when none fits. Before any
// layer was measured it picks the top one. f.mu is held.
func (f *Fanout) chooseLayer(w *forwarder, now time.Time) int {
	budget := w.sink.Bitrate()
	best, lowest := -1, -1
	for l := range f.rates {
		bps := f.rates[l].live(now)
		if bps == 0 {
			continue
		}
		if lowest < 0 {
			lowest = l
		}
		if budget == 0 || bps <= budget {
			best = l
		}
	}
	switch {
	case best >= 0:
		return best
	case lowest >= 0:
		return lowest
	}
	return len(f.rates) - 1
}
