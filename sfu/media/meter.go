package media

import (
	"sync"
	"time"
)

// Speaking detection from the ssrc-audio-level extension: a sender counts
// as speaking once enough recent packets are loud, and stops Hangover after
// the last loud one, so that the pauses inside a sentence do not flicker.
const (
	// LoudLevel is the quietest level (-dBov) that counts as voice.
	LoudLevel = 50
	// Hangover is how long speaking lasts after the last loud packet.
	Hangover = 400 * time.Millisecond
	attack   = 0.4 // the smoothed loudness above which speaking starts
)

type meter struct {
	mu       sync.Mutex
	loudness float64 // exponentially smoothed share of loud packets
	on       bool
	lastLoud time.Time
}

// add counts one packet's level. The V bit is not read: senders set it
// inconsistently.
func (m *meter) add(level uint8, now time.Time) {
	loud := level <= LoudLevel
	m.mu.Lock()
	defer m.mu.Unlock()
	x := 0.0
	if loud {
		x = 1
		m.lastLoud = now
	}
	m.loudness = 0.85*m.loudness + 0.15*x
	if m.loudness >= attack {
		m.on = true
	}
}

func (m *meter) speaking(now time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.on && now.Sub(m.lastLoud) > Hangover {
		m.on = false
		m.loudness = 0
	}
	return m.on
}
