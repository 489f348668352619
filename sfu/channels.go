package sfu

import (
	"concord/federation/snowflake"
	"concord/sfu/channel"
)

// channel returns the voice channel id, made if need be; each call is
// paired with a release.
func (s *SFU) channel(id snowflake.ID) *channel.Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.channels[id]
	if r == nil {
		r = &channelRef{ch: channel.New()}
		s.channels[id] = r
	}
	r.refs++
	return r.ch
}

// release drops a reference to a channel; the last one closes it.
func (s *SFU) release(id snowflake.ID, ch *channel.Channel) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.channels[id]
	if r == nil || r.ch != ch {
		return
	}
	r.refs--
	if r.refs == 0 {
		delete(s.channels, id)
		ch.Close()
	}
}

// channelRef counts the holders of a channel: sessions in it and calls
// between channel and release.
type channelRef struct {
	ch   *channel.Channel
	refs int
}

// present counts who other than user is in voice channel id here.
func (s *SFU) present(id, user snowflake.ID) int {
	s.mu.Lock()
	r := s.channels[id]
	s.mu.Unlock()
	if r == nil {
		return 0
	}
	return r.ch.Others(uint64(user))
}
