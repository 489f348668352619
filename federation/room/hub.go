package room

import "sync"

// hub hands committed events to in-process subscribers (the gateway,
// federation's gossip).
type hub struct {
	mu   sync.RWMutex
	next int
	subs map[int]func(*Accepted)
}

// Subscribe calls fn with every committed event, in commit order per guild,
// from the guild's writer: fn must not block. The returned func unsubscribes.
func (c *Core) Subscribe(fn func(*Accepted)) func() {
	h := &c.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs == nil {
		h.subs = map[int]func(*Accepted){}
	}
	id := h.next
	h.next++
	h.subs[id] = fn
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.subs, id)
	}
}

func (h *hub) publish(a *Accepted) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, fn := range h.subs {
		fn(a)
	}
}
