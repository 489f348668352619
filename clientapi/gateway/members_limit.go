package gateway

import (
	"sync"
	"time"

	"concord/federation/snowflake"
)

// userBudget counts what each user spends in a fixed window (op 8's guild
// queries), over all of the user's connections. Memory is bounded: spent
// windows are swept when the map grows.
type userBudget struct {
	limit  int
	window time.Duration

	mu   sync.Mutex
	keys map[snowflake.ID]*spent
}

type spent struct {
	end time.Time
	n   int
}

// budgetSweepAt is the map size that triggers a sweep of closed windows.
const budgetSweepAt = 10_000

func newUserBudget(limit int, window time.Duration) *userBudget {
	return &userBudget{limit: limit, window: window, keys: map[snowflake.ID]*spent{}}
}

// take spends one unit of user's budget; when none is left it reports how
// long until the window closes.
func (b *userBudget) take(user snowflake.ID, now time.Time) (ok bool, retryAfter time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.keys[user]
	if s == nil || !now.Before(s.end) {
		if len(b.keys) >= budgetSweepAt {
			for k, v := range b.keys {
				if !now.Before(v.end) {
					delete(b.keys, k)
				}
			}
		}
		s = &spent{end: now.Add(b.window)}
		b.keys[user] = s
	}
	if s.n >= b.limit {
		return false, s.end.Sub(now)
	}
	s.n++
	return true, 0
}
