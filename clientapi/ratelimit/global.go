package ratelimit

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// Global counts every request of a caller against one limit, Discord's
// global rate limit (50 requests a second per bot); a refusal says it is
// global, so that libraries pause every route, not one bucket.
func (l *Limiter) Global(keyOf KeyFunc) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key, ok := keyOf(r)
			if !ok {
				next.ServeHTTP(w, r)
				return
			}
			if res := l.Allow(key); !res.Allowed {
				writeGlobal(w, res.ResetAfter)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func writeGlobal(w http.ResponseWriter, retryAfter time.Duration) {
	h := w.Header()
	h.Set("X-RateLimit-Global", "true")
	h.Set("X-RateLimit-Scope", "global")
	h.Set("Retry-After", strconv.FormatInt(int64((retryAfter+time.Second-1)/time.Second), 10))
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusTooManyRequests)
	json.NewEncoder(w).Encode(struct {
		Message    string  `json:"message"`
		RetryAfter float64 `json:"retry_after"`
		Global     bool    `json:"global"`
	}{"You are being rate limited.", retryAfter.Seconds(), true})
}
