package node

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"

	"concord/storage"
	"concord/storage/storagetest"
)

// TestNodeCardAndBootstrap starts two nodes, the second with the first as
// its bootstrap peer taken from the first's node card, and waits until
// they are connected.
func TestNodeCardAndBootstrap(t *testing.T) {
	a := startNode(t, testConfig(t))
	code, body := get(t, http.DefaultClient, a.URL()+"/.well-known/concord/node")
	var card struct {
		Name    string   `json:"name"`
		PeerID  string   `json:"peer_id"`
		Addrs   []string `json:"addrs"`
		Version string   `json:"version"`
	}
	if err := json.Unmarshal([]byte(body), &card); err != nil || code != http.StatusOK {
		t.Fatalf("GET /.well-known/concord/node = %d %s (%v)", code, body, err)
	}
	if card.PeerID != a.PeerID().String() || card.Name != "concord" || card.Version != Version || len(card.Addrs) == 0 {
		t.Fatalf("node card %+v", card)
	}

	cfg := testConfig(t)
	cfg.Federation.Bootstrap = card.Addrs[:1]
	waitConnected(t, a, startNode(t, cfg))
}

// api calls a node's client API and decodes its answer into out, failing
// the test on any status but 2xx.
func api(t *testing.T, n *Node, method, path, token string, body, out any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, n.URL()+"/api/v10"+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s on %s: %s %s", method, path, n.cfg.Node.Name, resp.Status, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
}

// register makes an account on n and returns its user ID and token.
func register(t *testing.T, n *Node, username string) (id, token string) {
	t.Helper()
	var u struct {
		UserID string `json:"user_id"`
		Token  string `json:"token"`
	}
	api(t, n, "POST", "/auth/register", "", map[string]string{"username": username, "password": "correct horse battery"}, &u)
	return u.UserID, u.Token
}

// TestInviteAcrossNodes: the code an invite gets on node A, used as it is
// on node B, joins B's user to A's guild; then A shows B's message, by
// bob@beta. B runs on PostgreSQL when the tests have it.
func TestInviteAcrossNodes(t *testing.T) {
	cfgA := testConfig(t)
	cfgA.Node.Name = "alpha"
	a := startNode(t, cfgA)
	cfgB := testConfig(t)
	cfgB.Node.Name = "beta"
	cfgB.Federation.Bootstrap = a.p2p.FullAddrs()[:1]
	if pg, ok := storagetest.Backends(t)[storage.Postgres]; ok {
		cfgB.Storage.Driver, cfgB.Storage.DSN = pg.Driver, pg.DSN
	}
	b := startNode(t, cfgB)

	_, alice := register(t, a, "alice")
	bobID, bob := register(t, b, "bob")
	var g, ch, inv struct {
		ID   string `json:"id"`
		Code string `json:"code"`
	}
	api(t, a, "POST", "/guilds", alice, map[string]string{"name": "federated"}, &g)
	api(t, a, "POST", "/guilds/"+g.ID+"/channels", alice, map[string]any{"name": "chat", "type": 0}, &ch)
	api(t, a, "POST", "/channels/"+ch.ID+"/invites", alice, map[string]any{}, &inv)

	waitConnected(t, a, b)
	var preview struct {
		Guild struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"guild"`
		Members int `json:"approximate_member_count"`
	}
	api(t, b, "GET", "/invites/"+inv.Code+"?with_counts=true", bob, nil, &preview)
	if preview.Guild.ID != g.ID || preview.Guild.Name != "federated" || preview.Members != 1 {
		t.Errorf("beta previews alpha's invite as %+v", preview)
	}
	api(t, b, "POST", "/invites/"+inv.Code, bob, nil, nil)
	var guilds []struct {
		ID string `json:"id"`
	}
	api(t, b, "GET", "/users/@me/guilds", bob, nil, &guilds)
	if len(guilds) != 1 || guilds[0].ID != g.ID {
		t.Fatalf("bob's guilds on beta: %+v, want %s", guilds, g.ID)
	}

	var sent struct {
		ID string `json:"id"`
	}
	api(t, b, "POST", "/channels/"+ch.ID+"/messages", bob, map[string]string{"content": "hello from beta"}, &sent)
	type message struct {
		ID     string `json:"id"`
		Author struct {
			ID       string `json:"id"`
			Username string `json:"username"`
		} `json:"author"`
	}
	var seen []message
	waitUntil(t, "bob's message on alpha", func() bool {
		api(t, a, "GET", "/channels/"+ch.ID+"/messages", alice, nil, &seen)
		return len(seen) > 0 && seen[0].ID == sent.ID
	})
	if seen[0].Author.ID != bobID {
		t.Errorf("author on alpha %+v, want bob (%s)", seen[0].Author, bobID)
	}
	// Alpha fetches bob's profile from beta, signed by beta.
	waitUntil(t, "alpha to render bob as bob@beta", func() bool {
		api(t, a, "GET", "/channels/"+ch.ID+"/messages", alice, nil, &seen)
		return seen[0].Author.Username == "bob@beta"
	})
}

// waitConnected waits until a and b hold a libp2p connection.
func waitConnected(t *testing.T, a, b *Node) {
	t.Helper()
	waitUntil(t, "the nodes to connect", func() bool {
		return a.p2p.Network().Connectedness(b.PeerID()) == network.Connected
	})
}

// waitUntil polls cond until it holds, failing the test after 20 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
