package guilds

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"concord/clientapi/httperr"
	"concord/clientapi/ratelimit"
	"concord/federation/snowflake"
)

// messagesBucket names the send limit in X-RateLimit-Bucket; Discord keys
// it by channel, and so do we (the key adds the user).
const messagesBucket = "channel-messages"

// messaging is what the message routes keep between requests: the per-user
// per-channel send limit, slowmode clocks and the sent counter.
type messaging struct {
	now      func() time.Time
	limit    *ratelimit.Limiter
	bucketID string
	sent     prometheus.Counter
	dmMu     sync.Mutex // one DM creation at a time, so two requests make one DM

	mu    sync.Mutex
	last  map[slowKey]time.Time // last send per user and channel, for slowmode
	swept time.Time
}

type slowKey struct{ channel, user snowflake.ID }

func newMessaging(cfg Config, deps Deps) (*messaging, error) {
	per := cfg.MessagesPer10s
	if per <= 0 {
		per = 10
	}
	m := &messaging{
		now:      cfg.Now,
		limit:    ratelimit.New(ratelimit.Config{Limit: per, Window: 10 * time.Second, Now: cfg.Now}),
		bucketID: bucketID(messagesBucket),
		sent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "concord_messages_sent_total", Help: "Messages sent through the client API.",
		}),
		last: map[slowKey]time.Time{},
	}
	if deps.Metrics != nil {
		if err := deps.Metrics.Register(m.sent); err != nil {
			return nil, errors.Join(errors.New("clientapi: register message metrics"), err)
		}
	}
	return m, nil
}

func bucketID(name string) string {
	var h uint64 = 14695981039346656037 // FNV-1a: the ID only has to be stable and opaque
	for i := range len(name) {
		h = (h ^ uint64(name[i])) * 1099511628211
	}
	return strconv.FormatUint(h, 16)
}

// allowSend spends one message of the user's window in the channel and
// writes Discord's headers; false means a 429 was written.
func (m *messaging) allowSend(w http.ResponseWriter, channel, user snowflake.ID) bool {
	res := m.limit.Allow(channel.String() + ":" + user.String())
	ratelimit.WriteHeaders(w, res, m.bucketID)
	if !res.Allowed {
		ratelimit.WriteTooMany(w, res.ResetAfter)
	}
	return res.Allowed
}

// slowmode reports how long the user must still wait in a channel whose
// rate_limit_per_user is seconds; zero means the send may go and the clock
// restarts now.
func (m *messaging) slowmode(channel, user snowflake.ID, seconds int) time.Duration {
	if seconds <= 0 {
		return 0
	}
	now := m.now()
	k := slowKey{channel, user}
	m.mu.Lock()
	defer m.mu.Unlock()
	if wait := m.last[k].Add(time.Duration(seconds) * time.Second).Sub(now); wait > 0 {
		return wait
	}
	m.last[k] = now
	if now.Sub(m.swept) > time.Hour {
		// Slowmode is at most 6 hours; older clocks can no longer refuse.
		for k, t := range m.last {
			if now.Sub(t) > 6*time.Hour {
				delete(m.last, k)
			}
		}
		m.swept = now
	}
	return 0
}

// writeSlowmode sends Discord's slowmode refusal: a 429 carrying code 20016
// beside retry_after, so that libraries wait rather than fail.
func writeSlowmode(w http.ResponseWriter, wait time.Duration) {
	h := w.Header()
	h.Set("Retry-After", strconv.FormatInt(int64((wait+time.Second-1)/time.Second), 10))
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusTooManyRequests)
	json.NewEncoder(w).Encode(struct {
		Message    string  `json:"message"`
		Code       int     `json:"code"`
		RetryAfter float64 `json:"retry_after"`
		Global     bool    `json:"global"`
	}{"This action cannot be performed due to slowmode rate limit.", httperr.CodeSlowmode, wait.Seconds(), false})
}
