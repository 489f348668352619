package channel

import (
	"time"

	"concord/sfu/media"
)

// watch polls who speaks and tells the members when it changes.
func (c *Channel) watch() {
	defer c.wg.Done()
	tick := time.NewTicker(SpeakingPoll)
	defer tick.Stop()
	for {
		select {
		case <-c.stop:
			return
		case now := <-tick.C:
			c.poll(now)
		}
	}
}

func (c *Channel) poll(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for m := range c.members {
		on := false
		if !m.State.muted() {
			for _, p := range m.tracks {
				// A screen's sound is not speech: a shared video would
				// ring the sharer for as long as it plays.
				if s, ok := p.Track.(Speaker); ok && p.Info().Source == media.Microphone && s.Speaking(now) {
					on = true
				}
			}
		}
		priority, was := c.speaking[m]
		if on == was && (!on || priority == m.State.Priority) {
			continue
		}
		if on {
			c.speaking[m] = m.State.Priority
		} else {
			delete(c.speaking, m)
		}
		for o := range c.members {
			if o.Observer != nil && !m.Hidden {
				o.Observer.Speaking(m.UserID, on, on && m.State.Priority)
			}
		}
	}
}
