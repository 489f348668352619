package gateway

import (
	"encoding/json"
	"errors"
	"net/url"
	"time"
	"unicode/utf8"

	"concord/federation/live"
	"concord/federation/snowflake"
)

// presenceData is the d of op 3, and identify's presence.
type presenceData struct {
	Since      *int64          `json:"since"`
	Activities json.RawMessage `json:"activities"`
	Status     string          `json:"status"`
	AFK        bool            `json:"afk"`
}

// Limits on what a client may show others as its activities; Discord's
// where it documents them.
const (
	maxActivities    = 5
	maxActivityText  = 128 // name, state, details
	maxActivityURL   = 512
	maxActivityType  = 5 // 0 playing … 4 custom, 5 competing
	maxEmojiNameRune = 32
)

// errBadActivity refuses a presence whose activities are not Discord's
// shape; the connection is closed with 4002.
var errBadActivity = errors.New("gateway: invalid activity")

// activityIn is what a client may say of an activity. created_at is
// anything (discordgo sends an RFC 3339 string, Discord's clients a
// number): the gateway sets its own. Fields not listed are dropped.
type activityIn struct {
	Name       *string         `json:"name"`
	Type       int             `json:"type"`
	URL        string          `json:"url"`
	CreatedAt  json.RawMessage `json:"created_at"`
	State      string          `json:"state"`
	Details    string          `json:"details"`
	Timestamps *struct {
		Start int64 `json:"start,omitempty"`
		End   int64 `json:"end,omitempty"`
	} `json:"timestamps"`
	// discordgo sends an emoji on every activity, empty fields and all.
	Emoji *struct {
		Name     string `json:"name"`
		ID       string `json:"id"`
		Animated bool   `json:"animated"`
	} `json:"emoji"`
}

// emojiOut is an activity's emoji (a custom status's).
type emojiOut struct {
	Name     string        `json:"name"`
	ID       *snowflake.ID `json:"id,omitempty"`
	Animated bool          `json:"animated,omitempty"`
}

// activityOut is an activity as others see it: created_at in Unix
// milliseconds, as Discord sends it and as discordgo reads it.
type activityOut struct {
	Name       string `json:"name"`
	Type       int    `json:"type"`
	URL        string `json:"url,omitempty"`
	CreatedAt  int64  `json:"created_at"`
	State      string `json:"state,omitempty"`
	Details    string `json:"details,omitempty"`
	Timestamps any    `json:"timestamps,omitempty"`
	Emoji      any    `json:"emoji,omitempty"`
}

// activities checks raw, the activities a client sent, and renders the
// list others will see: only known fields, text within Discord's lengths,
// URLs only http(s).
func activities(raw json.RawMessage, now time.Time) (json.RawMessage, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var in []activityIn
	if json.Unmarshal(raw, &in) != nil || len(in) > maxActivities {
		return nil, errBadActivity
	}
	out := make([]activityOut, 0, len(in))
	for _, a := range in {
		if a.Name == nil || !text(*a.Name, 1, maxActivityText) || !text(a.State, 0, maxActivityText) ||
			!text(a.Details, 0, maxActivityText) || a.Type < 0 || a.Type > maxActivityType || !webURL(a.URL) {
			return nil, errBadActivity
		}
		o := activityOut{Name: *a.Name, Type: a.Type, URL: a.URL, CreatedAt: now.UnixMilli(), State: a.State, Details: a.Details}
		if a.Timestamps != nil {
			o.Timestamps = a.Timestamps
		}
		if e := a.Emoji; e != nil && (e.Name != "" || e.ID != "") {
			out := emojiOut{Name: e.Name, Animated: e.Animated}
			if e.ID != "" {
				id, err := snowflake.Parse(e.ID)
				if err != nil {
					return nil, errBadActivity
				}
				out.ID = &id
			}
			if !text(e.Name, 0, maxEmojiNameRune) {
				return nil, errBadActivity
			}
			o.Emoji = out
		}
		out = append(out, o)
	}
	b, err := json.Marshal(out)
	return b, err
}

// text reports whether s is valid UTF-8 of lo to hi characters with no
// control characters.
func text(s string, lo, hi int) bool {
	n := utf8.RuneCountInString(s)
	if !utf8.ValidString(s) || n < lo || n > hi {
		return false
	}
	for _, r := range s {
		if r < 0x20 || (r >= 0x7f && r < 0xa0) {
			return false
		}
	}
	return true
}

// webURL accepts an empty URL or an absolute http(s) one.
func webURL(s string) bool {
	if s == "" {
		return true
	}
	u, err := url.Parse(s)
	return err == nil && len(s) <= maxActivityURL && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func (p presenceData) request(now time.Time) (*live.Request, error) {
	acts, err := activities(p.Activities, now)
	if err != nil {
		return nil, err
	}
	return &live.Request{Status: p.Status, Activities: acts}, nil
}

// setPresence hands op 3 to the live state, and keeps it so that a
// resumed session shows the same.
func (s *session) setPresence(req *live.Request) {
	s.mu.Lock()
	s.presence = req
	s.mu.Unlock()
	s.g.live.SetPresence(s.caller.UserID, *req)
}
