package media

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// KeyframeInterval is the least time between two keyframe requests the
// Fanout passes to a source for one layer: every subscriber that joins or
// switches asks for one, and a source flooded with PLIs sends nothing but
// keyframes.
const KeyframeInterval = 500 * time.Millisecond

// Fanout forwards one track's packets to its sinks. Sources call Write;
// everything else may be called from any goroutine.
type Fanout struct {
	info     Info
	keyframe func(layer int) // asks the source; nil when it cannot

	mu     sync.Mutex // serialises Write with changes of the sinks
	fwd    []*forwarder
	paused bool
	rates  []rate // per layer, for choosing one

	lastPLI []atomic.Int64 // unix ns of the last keyframe request per layer
	meter   meter
}

// NewFanout returns a Fanout for a track described by info; keyframe asks
// the source for a keyframe of a layer and may be nil.
func NewFanout(info Info, keyframe func(layer int)) *Fanout {
	if info.Layers < 1 {
		info.Layers = 1
	}
	return &Fanout{info: info, keyframe: keyframe, rates: make([]rate, info.Layers),
		lastPLI: make([]atomic.Int64, info.Layers)}
}

// Info describes the track.
func (f *Fanout) Info() Info { return f.info }

// Subscribe starts forwarding to s. A video sink starts at the next
// keyframe, which is asked for.
func (f *Fanout) Subscribe(s Sink) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if slices.ContainsFunc(f.fwd, func(w *forwarder) bool { return w.sink == s }) {
		return
	}
	w := &forwarder{sink: s, layer: -1, target: f.info.Layers - 1, video: f.info.Kind == Video,
		clock: f.info.Codec.ClockRate}
	if p, ok := s.(Pinned); ok {
		w.target, w.pinned = min(max(p.Layer(), 0), f.info.Layers-1), true
	}
	if strings.EqualFold(f.info.Codec.MimeType, "video/VP8") {
		w.vp8 = &vp8IDs{}
	}
	f.fwd = append(slices.Clip(f.fwd), w)
	if w.video {
		if !w.pinned {
			w.target, w.chosen = f.chooseLayer(w, time.Now()), time.Now()
		}
		f.requestKeyframe(w.target)
	}
}

// Unsubscribe stops forwarding to s.
func (f *Fanout) Unsubscribe(s Sink) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fwd = slices.DeleteFunc(slices.Clip(f.fwd), func(w *forwarder) bool { return w.sink == s })
}

// Sinks counts the sinks subscribed.
func (f *Fanout) Sinks() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.fwd)
}

// RequestKeyframe asks the source for a keyframe of every layer a sink
// forwards or waits for.
func (f *Fanout) RequestKeyframe() {
	f.mu.Lock()
	layers := make([]bool, f.info.Layers)
	for _, w := range f.fwd {
		if w.layer >= 0 {
			layers[w.layer] = true
		} else {
			layers[w.target] = true
		}
	}
	f.mu.Unlock()
	for l, want := range layers {
		if want {
			f.requestKeyframe(l)
		}
	}
}

// requestKeyframe asks the source for a keyframe of layer unless one was
// asked for within KeyframeInterval. It never blocks: the request is
// written on its own goroutine.
func (f *Fanout) requestKeyframe(layer int) {
	if f.keyframe == nil || f.info.Kind != Video {
		return
	}
	now := time.Now().UnixNano()
	last := f.lastPLI[layer].Load()
	if now-last < int64(KeyframeInterval) || !f.lastPLI[layer].CompareAndSwap(last, now) {
		return
	}
	go f.keyframe(layer)
}

// SetPaused stops (true) or resumes forwarding, as a mute does. Sinks see
// no gap in sequence numbers when it resumes.
func (f *Fanout) SetPaused(paused bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.paused == paused {
		return
	}
	f.paused = paused
	for _, w := range f.fwd {
		w.resync = true
	}
	if !paused && f.info.Kind == Video {
		for _, w := range f.fwd {
			w.layer = -1
			f.requestKeyframe(w.target)
		}
	}
}

// Write forwards one packet from the source to every sink that wants its
// layer, and returns how many sinks took it.
func (f *Fanout) Write(p *Packet) int {
	now := time.Now()
	if p.HasLevel {
		f.meter.add(p.Level, now)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if p.Layer < 0 || p.Layer >= len(f.rates) {
		return 0
	}
	f.rates[p.Layer].add(len(p.Payload)+12, now)
	if f.paused {
		return 0
	}
	n := 0
	for _, w := range f.fwd {
		if w.video && !w.pinned && now.Sub(w.chosen) > chooseEvery {
			w.target, w.chosen = f.chooseLayer(w, now), now
		}
		sent, wantKey := w.forward(p, now)
		if sent {
			n++
		}
		if wantKey {
			f.requestKeyframe(w.target)
		}
	}
	return n
}

// Speaking says whether the track's audio level shows someone speaking,
// smoothed so that a word's pauses do not flicker.
func (f *Fanout) Speaking(now time.Time) bool { return f.meter.speaking(now) }
