package interactions

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"

	"concord/clientapi/httperr"
	"concord/clientapi/objects"
	"concord/federation/snowflake"
)

// Discord's clocks: a bot answers within 3 s; its token then serves
// follow-ups and edits for 15 minutes.
const (
	firstAnswer = 3 * time.Second
	tokenLife   = 15 * time.Minute
)

// maxLive bounds the interactions a node holds at once; past it, invoking
// is refused until some expire.
const maxLive = 100_000

// Interaction types, Discord's numbering.
const (
	typeCommand      = 2
	typeComponent    = 3
	typeAutocomplete = 4
	typeModalSubmit  = 5
)

// interaction is one invocation, held in memory while its token lives.
// Nothing of it is history: what stays is the messages it produced.
type interaction struct {
	id, app, user       snowflake.ID
	home                string       // the user's home node; "" for this node's users
	guild, channel      snowflake.ID // guild 0 in a DM
	room                snowflake.ID // the guild, or the DM room
	typ                 int
	name                string           // the command, with its subcommands
	message             snowflake.ID     // a component's message
	component           *objects.Message // that message, as the bot gets it
	token, nonce        string
	created             time.Time
	payload             map[string]any // INTERACTION_CREATE as the bot gets it
	failure             *time.Timer    // tells the user the bot did not answer
	mu                  sync.Mutex
	answered            bool
	original            snowflake.ID // the first answer's message
	ephemeral           map[snowflake.ID]objects.Message
	updatesComponentMsg bool // answered by updating (or deferring an update of) the component's message
}

// registry holds live interactions by ID and by token, and forgets them
// when their tokens die.
type registry struct {
	mu      sync.Mutex
	byID    map[snowflake.ID]*interaction
	byToken map[string]*interaction
	order   []*interaction // oldest first, for expiry
	modals  map[modalKey]time.Time
}

// modalKey is a modal a bot opened for a user, which that user may submit
// once within the token's life.
type modalKey struct {
	app, user snowflake.ID
	customID  string
}

func newRegistry() *registry {
	return &registry{byID: map[snowflake.ID]*interaction{}, byToken: map[string]*interaction{}, modals: map[modalKey]time.Time{}}
}

func newToken() string {
	var b [48]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return "aW50ZXJhY3Rpb246" + base64.RawURLEncoding.EncodeToString(b[:])
}

// add registers i, forgetting expired ones first; it fails when the node
// holds as many as it may, or when another node chose an ID in use.
func (g *registry) add(i *interaction, now time.Time) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.expire(now)
	if len(g.byID) >= maxLive {
		return httperr.TooManyInteractions
	}
	if g.byID[i.id] != nil {
		return httperr.Field("id", "INTERACTION_ID_IN_USE", "An interaction with this ID is live.")
	}
	g.byID[i.id], g.byToken[i.token] = i, i
	g.order = append(g.order, i)
	return nil
}

// expire forgets interactions and modals whose time is up. g.mu is held.
func (g *registry) expire(now time.Time) {
	n := 0
	for n < len(g.order) && now.Sub(g.order[n].created) > tokenLife {
		i := g.order[n]
		delete(g.byID, i.id)
		delete(g.byToken, i.token)
		if i.failure != nil {
			i.failure.Stop()
		}
		g.order[n] = nil
		n++
	}
	g.order = g.order[n:]
	for k, opened := range g.modals {
		if now.Sub(opened) > tokenLife {
			delete(g.modals, k)
		}
	}
}

// byIDToken finds a live interaction by ID and token.
func (g *registry) byIDToken(id snowflake.ID, token string, now time.Time) *interaction {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.expire(now)
	i := g.byID[id]
	if i == nil || subtle.ConstantTimeCompare([]byte(i.token), []byte(token)) != 1 {
		return nil
	}
	return i
}

// ephemeralMessage finds an answer of app's that only user sees, in
// channel, among the live interactions' messages.
func (g *registry) ephemeralMessage(app, user, channel, id snowflake.ID) (objects.Message, bool) {
	g.mu.Lock()
	live := make([]*interaction, 0, len(g.order))
	for _, i := range g.order {
		if i.app == app && i.user == user && i.channel == channel {
			live = append(live, i)
		}
	}
	g.mu.Unlock()
	for _, i := range live {
		i.mu.Lock()
		m, ok := i.ephemeral[id]
		i.mu.Unlock()
		if ok && m.ID != 0 {
			return m, true
		}
	}
	return objects.Message{}, false
}

// find finds a live interaction by its application and token.
func (g *registry) find(app snowflake.ID, token string, now time.Time) *interaction {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.expire(now)
	i := g.byToken[token]
	if i == nil || i.app != app {
		return nil
	}
	return i
}

// openModal remembers a modal a bot showed a user.
func (g *registry) openModal(k modalKey, now time.Time) {
	g.mu.Lock()
	g.modals[k] = now
	g.mu.Unlock()
}

// submitModal takes an open modal; false when there is none.
func (g *registry) submitModal(k modalKey, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.expire(now)
	if _, ok := g.modals[k]; !ok {
		return false
	}
	delete(g.modals, k)
	return true
}

// close stops every failure timer, for shutdown.
func (g *registry) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, i := range g.order {
		if i.failure != nil {
			i.failure.Stop()
		}
	}
}
