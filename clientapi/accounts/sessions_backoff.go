package accounts

import (
	"sync"
	"time"
)

// Per-account login backoff: the per-address limit stops one client
// guessing fast, this stops many addresses guessing one account. After
// backoffFree failures in a row an account's logins are refused for a
// delay that doubles with every further failure, up to backoffMax; a
// success clears it. Unknown accounts are tracked alike, so the answer does
// not tell them apart.
const (
	backoffFree    = 5
	backoffFirst   = time.Second
	backoffMax     = 15 * time.Minute
	backoffForget  = time.Hour // failures older than this are forgotten
	backoffMaxKeys = 100_000
)

type backoff struct {
	mu   sync.Mutex
	now  func() time.Time
	keys map[string]*failures
}

type failures struct {
	n     int
	until time.Time // no attempt before this
	last  time.Time
}

func newBackoff(now func() time.Time) *backoff {
	return &backoff{now: now, keys: map[string]*failures{}}
}

// wait reports how long login must wait before trying account again; zero
// means it may try now.
func (b *backoff) wait(account string) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	f := b.keys[account]
	if f == nil {
		return 0
	}
	return max(0, f.until.Sub(b.now()))
}

// fail records a failed attempt on account.
func (b *backoff) fail(account string) {
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	f := b.keys[account]
	if f == nil || now.Sub(f.last) > backoffForget {
		if f == nil && len(b.keys) >= backoffMaxKeys {
			b.sweep(now)
		}
		f = &failures{}
		b.keys[account] = f
	}
	f.n++
	f.last = now
	if f.n >= backoffFree {
		d := backoffFirst << min(f.n-backoffFree, 20)
		f.until = now.Add(min(d, backoffMax))
	}
}

// succeed clears account's failures.
func (b *backoff) succeed(account string) {
	b.mu.Lock()
	delete(b.keys, account)
	b.mu.Unlock()
}

// sweep drops forgotten accounts and, if that is not enough, any others:
// under a flood of names the limiter forgets some rather than grow. b.mu
// is held.
func (b *backoff) sweep(now time.Time) {
	for k, f := range b.keys {
		if now.Sub(f.last) > backoffForget {
			delete(b.keys, k)
		}
	}
	for k := range b.keys {
		if len(b.keys) < backoffMaxKeys {
			break
		}
		delete(b.keys, k)
	}
}
