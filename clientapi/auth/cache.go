package auth

import (
	"sync"
	"time"
)

// shortCache remembers database answers for a few seconds, bounding how
// stale a revocation made by another node sharing the database can be.
// Local revocations delete their entry at once.
type shortCache[K comparable, V any] struct {
	ttl time.Duration
	max int

	mu sync.Mutex
	m  map[K]cached[V]
}

type cached[V any] struct {
	v       V
	fetched time.Time
}

func newShortCache[K comparable, V any](ttl time.Duration, max int) *shortCache[K, V] {
	return &shortCache[K, V]{ttl: ttl, max: max, m: map[K]cached[V]{}}
}

func (c *shortCache[K, V]) get(k K, now time.Time) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || now.Sub(e.fetched) >= c.ttl {
		var zero V
		return zero, false
	}
	return e.v, true
}

func (c *shortCache[K, V]) put(k K, v V, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for key, e := range c.m {
			if now.Sub(e.fetched) >= c.ttl || len(c.m) >= c.max {
				delete(c.m, key)
			}
		}
	}
	c.m[k] = cached[V]{v, now}
}

func (c *shortCache[K, V]) drop(match func(K, V) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if match(k, e.v) {
			delete(c.m, k)
		}
	}
}
