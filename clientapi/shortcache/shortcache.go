// Package shortcache remembers database answers for a few seconds. The
// time to live bounds how stale a change made elsewhere (another process on
// the same database) can be seen; changes this process makes drop their
// entries at once.
package shortcache

import (
	"sync"
	"time"
)

// Cache maps keys to values fetched at most a time to live ago, holding at
// most max entries. It is safe for concurrent use.
type Cache[K comparable, V any] struct {
	ttl time.Duration
	max int

	mu sync.Mutex
	m  map[K]entry[V]
}

type entry[V any] struct {
	v       V
	fetched time.Time
}

// New returns an empty cache.
func New[K comparable, V any](ttl time.Duration, max int) *Cache[K, V] {
	return &Cache[K, V]{ttl: ttl, max: max, m: map[K]entry[V]{}}
}

// Get returns k's value if it was fetched less than the time to live
// before now.
func (c *Cache[K, V]) Get(k K, now time.Time) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || now.Sub(e.fetched) >= c.ttl {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Put remembers v, fetched at now, for k. A full cache first sheds its
// expired entries, then as many others as it must.
func (c *Cache[K, V]) Put(k K, v V, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for key, e := range c.m {
			if now.Sub(e.fetched) >= c.ttl {
				delete(c.m, key)
			}
		}
		for key := range c.m {
			if len(c.m) < c.max {
				break
			}
			delete(c.m, key)
		}
	}
	c.m[k] = entry[V]{v, now}
}

// Delete forgets k.
func (c *Cache[K, V]) Delete(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, k)
}

// Drop forgets every entry match accepts.
func (c *Cache[K, V]) Drop(match func(K, V) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if match(k, e.v) {
			delete(c.m, k)
		}
	}
}
