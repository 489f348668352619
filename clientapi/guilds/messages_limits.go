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
// it by channel, and so do we (the key adds the user). webhookBucket is a
// webhook's own limit, keyed by the webhook.
const (
	messagesBucket = "channel-messages"
	webhookBucket  = "webhook-messages"
)

// messaging is what the message routes keep between requests: the per-user
// per-channel send limit, slowmode clocks and the sent counter.
type messaging struct {
	now      func() time.Time
	limit    *ratelimit.Limiter
	bucketID string
	hooks    *ratelimit.Limiter // posts per webhook
	hookID   string             // webhookBucket's ID
	sent     prometheus.Counter
	dmMu     sync.Mutex // one DM creation at a time, so two requests make one DM

	mu     sync.Mutex
	last   map[slowKey]time.Time // last send per user and channel, for slowmode
	swept  time.Time
	nonces map[nonceKey]*nonceEntry // recent enforced nonces
}

// nonceWindow is how long a nonce stays enforced, as on Discord ("a few
// minutes").
const nonceWindow = 2 * time.Minute

type nonceKey struct {
	channel, user snowflake.ID
	nonce         string
}

// nonceEntry is the send that first used a nonce: done closes when it
// ended, with the message it made (0 if it failed).
type nonceEntry struct {
	done chan struct{}
	id   snowflake.ID
	at   time.Time
}

// claimNonce returns the entry of k's first send; first says this caller
// makes it and must settle it.
func (m *messaging) claimNonce(k nonceKey) (e *nonceEntry, first bool) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	for key, e := range m.nonces {
		if now.Sub(e.at) > nonceWindow {
			delete(m.nonces, key)
		}
	}
	if e := m.nonces[k]; e != nil {
		return e, false
	}
	e = &nonceEntry{done: make(chan struct{}), at: now}
	m.nonces[k] = e
	return e, true
}

// settleNonce ends k's first send with the message it made; a failed one
// (id 0) frees the nonce for another try.
func (m *messaging) settleNonce(k nonceKey, e *nonceEntry, id snowflake.ID) {
	m.mu.Lock()
	e.id = id
	if id == 0 {
		delete(m.nonces, k)
	}
	m.mu.Unlock()
	close(e.done)
}

type slowKey struct{ channel, user snowflake.ID }

func newMessaging(cfg Config, deps Deps) (*messaging, error) {
	per := cfg.MessagesPer10s
	if per <= 0 {
		per = 10
	}
	perHook := cfg.WebhookMessagesPer2s
	if perHook <= 0 {
		perHook = 5
	}
	m := &messaging{
		now:      cfg.Now,
		limit:    ratelimit.New(ratelimit.Config{Limit: per, Window: 10 * time.Second, Now: cfg.Now}),
		bucketID: bucketID(messagesBucket),
		hooks:    ratelimit.New(ratelimit.Config{Limit: perHook, Window: 2 * time.Second, Now: cfg.Now}),
		hookID:   bucketID(webhookBucket),
		sent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "concord_messages_sent_total", Help: "Messages sent through the client API.",
		}),
		last:   map[slowKey]time.Time{},
		nonces: map[nonceKey]*nonceEntry{},
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
	return spend(w, m.limit, channel.String()+":"+user.String(), m.bucketID)
}

// allowWebhook spends one post of a webhook's window, as allowSend does.
func (m *messaging) allowWebhook(w http.ResponseWriter, webhook snowflake.ID) bool {
	return spend(w, m.hooks, webhook.String(), m.hookID)
}

func spend(w http.ResponseWriter, l *ratelimit.Limiter, key, bucket string) bool {
	res := l.Allow(key)
	ratelimit.WriteHeaders(w, res, bucket)
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
