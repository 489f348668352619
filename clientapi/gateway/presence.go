package gateway

import (
	"encoding/json"

	"concord/federation/live"
)

// presenceData is the d of op 3, and identify's presence.
type presenceData struct {
	Since      *int64          `json:"since"`
	Activities json.RawMessage `json:"activities"`
	Status     string          `json:"status"`
	AFK        bool            `json:"afk"`
}

func (p presenceData) request() *live.Request {
	return &live.Request{Status: p.Status, Activities: p.Activities}
}

// setPresence hands op 3 to the live state, and keeps it so that a
// resumed session shows the same.
func (s *session) setPresence(p presenceData) {
	s.mu.Lock()
	s.presence = p.request()
	s.mu.Unlock()
	s.g.live.SetPresence(s.caller.UserID, *p.request())
}
