package ratelimit

import (
	"net/http"
	"sync"
	"time"
)

// Concurrency bounds how many heavy requests (large or unsized bodies:
// uploads, images) one caller has in flight, so that one account cannot
// hold many bodies in memory or on disk at once. A request beyond the
// bound is refused with 429 at once rather than queued.
type Concurrency struct {
	max   int
	light int64 // bodies declared at most this long are not counted

	mu       sync.Mutex
	inFlight map[string]int
}

// NewConcurrency allows limit heavy requests per key at once; a request
// whose Content-Length is at most light bytes is not heavy.
func NewConcurrency(limit int, light int64) *Concurrency {
	return &Concurrency{max: limit, light: light, inFlight: map[string]int{}}
}

// Middleware counts heavy requests against keyOf(r).
func (c *Concurrency) Middleware(keyOf KeyFunc) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key, ok := keyOf(r)
			if !ok || r.Body == nil || r.Body == http.NoBody || (r.ContentLength >= 0 && r.ContentLength <= c.light) {
				next.ServeHTTP(w, r)
				return
			}
			if !c.Acquire(key) {
				WriteTooMany(w, time.Second)
				return
			}
			defer c.Release(key)
			next.ServeHTTP(w, r)
		})
	}
}

// Acquire counts one more of key's, unless it has the most it may.
func (c *Concurrency) Acquire(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inFlight[key] >= c.max {
		return false
	}
	c.inFlight[key]++
	return true
}

// Release uncounts one of key's.
func (c *Concurrency) Release(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inFlight[key]--; c.inFlight[key] <= 0 {
		delete(c.inFlight, key)
	}
}
