// Package ratelimit is the client API's in-memory fixed-window limiter and
// the HTTP middleware that applies it with Discord's rate-limit headers and
// 429 body. Any package under clientapi may import it (REST routes, the
// gateway's HTTP endpoints).
//
// A key's window opens at its first request and lasts Window; once Limit
// requests are spent the key is refused until the window closes, however
// often it retries. Memory is bounded: closed windows are swept, and when
// MaxKeys live windows exist an arbitrary one is dropped.
package ratelimit

import (
	"sync"
	"time"
)

// Config sizes a limiter.
type Config struct {
	Limit   int           // requests per window
	Window  time.Duration // window length
	MaxKeys int           // live keys kept at most; 0 means 100,000
	Now     func() time.Time
}

// Limiter counts requests per key. It is safe for concurrent use.
type Limiter struct {
	cfg       Config
	mu        sync.Mutex
	keys      map[string]*window
	nextSweep time.Time
}

type window struct {
	end   time.Time
	count int
}

// Result is the outcome of one request, with what Discord's headers report.
type Result struct {
	Allowed    bool
	Limit      int
	Remaining  int
	Reset      time.Time     // when the window closes
	ResetAfter time.Duration // Reset minus now
}

// New returns a limiter for cfg.
func New(cfg Config) *Limiter {
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = 100_000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Limiter{cfg: cfg, keys: map[string]*window{}}
}

// Allow spends one request of key's window, if any is left.
func (l *Limiter) Allow(key string) Result {
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if !now.Before(l.nextSweep) || len(l.keys) >= l.cfg.MaxKeys {
		l.sweep(now)
	}
	w := l.keys[key]
	if w == nil || !now.Before(w.end) {
		w = &window{end: now.Add(l.cfg.Window)}
		l.keys[key] = w
	}
	res := Result{Limit: l.cfg.Limit, Reset: w.end, ResetAfter: w.end.Sub(now)}
	if w.count < l.cfg.Limit {
		w.count++
		res.Allowed = true
	}
	res.Remaining = l.cfg.Limit - w.count
	return res
}

// Left reports how many requests key may still make in its window, without
// spending one: for limits counted only when something succeeds.
func (l *Limiter) Left(key string) int {
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.keys[key]
	if w == nil || !now.Before(w.end) {
		return l.cfg.Limit
	}
	return l.cfg.Limit - w.count
}

// sweep drops closed windows and, if the map is still full, enough others
// to make room: under a flood of new keys the limiter forgets some keys
// rather than grow without bound.
func (l *Limiter) sweep(now time.Time) {
	for k, w := range l.keys {
		if !now.Before(w.end) {
			delete(l.keys, k)
		}
	}
	for k := range l.keys {
		if len(l.keys) < l.cfg.MaxKeys {
			break
		}
		delete(l.keys, k)
	}
	l.nextSweep = now.Add(l.cfg.Window)
}

// Len reports how many keys hold a window, for tests and metrics.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}
