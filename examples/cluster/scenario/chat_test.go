//go:build cluster

package scenario

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

// user is an account on one node, with a discordgo session connected to
// that node's gateway when it has one.
type user struct {
	name  string
	id    string
	token string
	home  *node
	dg    *discordgo.Session

	mu   sync.Mutex
	seen map[string]time.Time // message ID → when MESSAGE_CREATE arrived
}

func register(t *testing.T, n *node, name string) *user {
	t.Helper()
	var r struct {
		UserID string `json:"user_id"`
		Token  string `json:"token"`
	}
	n.api(t, "POST", "/auth/register", "", map[string]string{"username": name, "password": "correct horse battery staple"}, &r)
	return &user{name: name, id: r.UserID, token: r.Token, home: n, seen: map[string]time.Time{}}
}

// toNode sends discordgo's requests, addressed to Discord, to a node: each
// session has its own client, so one process can hold sessions on several
// nodes. The gateway URL the node answers with is its own.
type toNode struct{ base *url.URL }

func (r toNode) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host, req.Host = r.base.Scheme, r.base.Host, r.base.Host
	return http.DefaultTransport.RoundTrip(req)
}

// connect opens u's gateway session with discordgo and records when each
// MESSAGE_CREATE arrives.
func (u *user) connect(t *testing.T) {
	t.Helper()
	base, err := url.Parse(u.home.url)
	if err != nil {
		t.Fatal(err)
	}
	s, err := discordgo.New(u.token)
	if err != nil {
		t.Fatal(err)
	}
	s.Client = &http.Client{Transport: toNode{base}, Timeout: 30 * time.Second}
	s.Identify.Intents = discordgo.IntentsGuilds | discordgo.IntentsGuildMessages | discordgo.IntentsMessageContent
	s.ShouldReconnectOnError = true
	s.AddHandler(func(_ *discordgo.Session, m *discordgo.MessageCreate) {
		u.mu.Lock()
		u.seen[m.ID] = time.Now()
		u.mu.Unlock()
	})
	if err := s.Open(); err != nil {
		t.Fatalf("%s: gateway on %s: %v", u.name, u.home.name, err)
	}
	t.Cleanup(func() { s.Close() })
	u.dg = s
}

// sent is a message a node acknowledged: who sent it, and when the
// acknowledgement arrived.
type sent struct {
	id   string
	from *user
	at   time.Time
}

// send posts content as u into channel, through discordgo when u has a
// session and plain HTTP otherwise; both wait out a 429 as Discord's
// clients do.
func (u *user) send(channel, content string) (sent, error) {
	if u.dg != nil {
		m, err := u.dg.ChannelMessageSend(channel, content)
		if err != nil {
			return sent{}, fmt.Errorf("%s on %s: %w", u.name, u.home.name, err)
		}
		return sent{m.ID, u, time.Now()}, nil
	}
	var m struct {
		ID string `json:"id"`
	}
	for tries := 0; ; tries++ {
		err := u.home.call("POST", "/api/v10/channels/"+channel+"/messages", u.token, map[string]string{"content": content}, &m)
		var limited *rateLimited
		if errors.As(err, &limited) && tries < 10 {
			time.Sleep(limited.after)
			continue
		}
		if err != nil {
			return sent{}, err
		}
		return sent{m.ID, u, time.Now()}, nil
	}
}

// chat has each user send n messages into channel, in an order drawn from
// rng, one user at a time per turn but the users concurrently, and returns
// what was acknowledged. Sends that fail are returned as errors.
func chat(rng *rand.Rand, users []*user, channel string, n int, label string) ([]sent, []error) {
	type job struct {
		u *user
		i int
	}
	var jobs []job
	for _, u := range users {
		for i := range n {
			jobs = append(jobs, job{u, i})
		}
	}
	rng.Shuffle(len(jobs), func(i, j int) { jobs[i], jobs[j] = jobs[j], jobs[i] })
	var mu sync.Mutex
	var acked []sent
	var errs []error
	var wg sync.WaitGroup
	for _, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, j := range jobs {
				if j.u != u {
					continue
				}
				s, err := u.send(channel, fmt.Sprintf("%s %d from %s", label, j.i, u.name))
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					acked = append(acked, s)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return acked, errs
}

// history is every message ID of channel as a member on n sees it.
func history(n *node, token, channel string) (map[string]bool, error) {
	out := map[string]bool{}
	before := ""
	for range 1000 {
		var page []struct {
			ID string `json:"id"`
		}
		path := "/api/v10/channels/" + channel + "/messages?limit=100"
		if before != "" {
			path += "&before=" + before
		}
		if err := n.call("GET", path, token, nil, &page); err != nil {
			return nil, err
		}
		for _, m := range page {
			out[m.ID] = true
		}
		if len(page) < 100 {
			return out, nil
		}
		before = page[len(page)-1].ID
	}
	return out, nil
}

// hashReport is what a node's /admin/guilds/{id} says.
type hashReport struct {
	StateHash   string   `json:"state_hash"`
	Extremities []string `json:"extremities"`
}

// converged tells whether every node reports the same state hash and
// extremities for guild, and every node's member sees every message of
// acked; when not, it says what differs.
func converged(members []*user, guild, channel string, acked []sent) (bool, string) {
	var first hashReport
	for i, u := range members {
		var r hashReport
		if err := u.home.admin("/guilds/"+guild, &r); err != nil {
			return false, err.Error()
		}
		if i == 0 {
			first = r
		} else if r.StateHash != first.StateHash || !slices.Equal(r.Extremities, first.Extremities) {
			return false, fmt.Sprintf("%s reports %s %v, %s %s %v", u.home.name, r.StateHash[:12], r.Extremities,
				members[0].home.name, first.StateHash[:12], first.Extremities)
		}
	}
	for _, u := range members {
		ids, err := history(u.home, u.token, channel)
		if err != nil {
			return false, err.Error()
		}
		var missing []string
		for _, s := range acked {
			if !ids[s.id] {
				missing = append(missing, s.id)
			}
		}
		if len(missing) > 0 {
			return false, fmt.Sprintf("%s lacks %d of %d acknowledged messages", u.home.name, len(missing), len(acked))
		}
	}
	return true, ""
}

// waitConverged waits until converged holds, failing the test after limit
// with what still differs, and returns how long it took.
func waitConverged(t *testing.T, members []*user, guild, channel string, acked []sent, limit time.Duration) time.Duration {
	t.Helper()
	var why string
	start := time.Now()
	for {
		ok, w := converged(members, guild, channel, acked)
		if ok {
			return time.Since(start)
		}
		why = w
		if time.Since(start) > limit {
			t.Fatalf("not converged after %v: %s", limit, why)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// latencies are the times from each of acked's acknowledgement to its
// MESSAGE_CREATE on the gateway of each watcher on another node.
func latencies(acked []sent, watchers []*user) []time.Duration {
	var lat []time.Duration
	for _, d := range delivered(acked, watchers) {
		lat = append(lat, d.took)
	}
	return lat
}

// delivery is one acknowledged message reaching one watcher.
type delivery struct {
	s    sent
	to   *user
	took time.Duration
}

// delivered lists when the acknowledged messages reached the watchers of
// other nodes.
func delivered(acked []sent, watchers []*user) []delivery {
	var out []delivery
	for _, w := range watchers {
		w.mu.Lock()
		for _, s := range acked {
			if s.from.home == w.home {
				continue
			}
			if at, ok := w.seen[s.id]; ok {
				out = append(out, delivery{s, w, at.Sub(s.at)})
			}
		}
		w.mu.Unlock()
	}
	return out
}

// percentile is the p-th percentile of ds (0 < p ≤ 100).
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
