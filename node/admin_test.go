package node

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestAdminRoutes: /admin answers only with the token, lists the node's
// rooms and its peers, and reports a room's state hash and extremities; without
// admin_token there is no /admin at all.
func TestAdminRoutes(t *testing.T) {
	cfg := testConfig(t)
	cfg.HTTP.AdminToken = "a-long-enough-admin-token"
	n := startNode(t, cfg)
	_, alice := register(t, n.URL(), "alice")
	var g struct {
		ID string `json:"id"`
	}
	api(t, n.URL(), "POST", "/guilds", alice, map[string]string{"name": "watched"}, &g)

	admin := func(path, token string) (int, string) {
		t.Helper()
		code, body := apiCall(t, n.URL(), "GET", path, token, nil)
		return code, string(body)
	}
	for _, token := range []string{"", "Bearer wrong", cfg.HTTP.AdminToken, alice} {
		if st, body := admin("/admin/guilds", token); st != http.StatusUnauthorized {
			t.Errorf("GET /admin/guilds with %q = %d %s, want 401", token, st, body)
		}
	}
	bearer := "Bearer " + cfg.HTTP.AdminToken
	st, body := admin("/admin/guilds", bearer)
	var list struct{ Guilds []string }
	if json.Unmarshal([]byte(body), &list); st != http.StatusOK || len(list.Guilds) != 1 || list.Guilds[0] != g.ID {
		t.Fatalf("GET /admin/guilds = %d %s, want [%s]", st, body, g.ID)
	}
	st, body = admin("/admin/guilds/"+g.ID, bearer)
	var rep roomReport
	if json.Unmarshal([]byte(body), &rep); st != http.StatusOK || rep.GuildID != g.ID || len(rep.StateHash) != 64 || len(rep.Extremities) != 1 {
		t.Fatalf("GET /admin/guilds/%s = %d %s", g.ID, st, body)
	}
	for path, want := range map[string]int{"/admin/guilds/1": http.StatusNotFound, "/admin/guilds/x": http.StatusBadRequest} {
		if st, body := admin(path, bearer); st != want {
			t.Errorf("GET %s = %d %s, want %d", path, st, body, want)
		}
	}

	// A second node, without admin_token, bootstrapping from the first.
	cfg2 := testConfig(t)
	cfg2.Federation.Bootstrap = n.p2p.FullAddrs()[:1]
	off := startNode(t, cfg2)
	var peers struct {
		Peers []peerReport
	}
	waitUntil(t, "the second node among the peers", func() bool {
		_, body = admin("/admin/peers", bearer)
		json.Unmarshal([]byte(body), &peers)
		return len(peers.Peers) == 1 && peers.Peers[0].PeerID == off.PeerID().String() && len(peers.Peers[0].Addrs) > 0
	})
	if code, _ := apiCall(t, off.URL(), "GET", "/admin/guilds", bearer, nil); code != http.StatusNotFound {
		t.Errorf("GET /admin/guilds without admin_token configured: %d, want 404", code)
	}
}

// TestPeersCommand: concord peers prints the running node's peers and the
// guilds each shares with it, and says what is missing without a token.
func TestPeersCommand(t *testing.T) {
	cfg := testConfig(t)
	cfg.HTTP.AdminToken = "a-long-enough-admin-token"
	a := startNode(t, cfg)
	cfgB := testConfig(t)
	cfgB.Federation.Bootstrap = []string{a.URL()}
	b := startNode(t, cfgB)
	waitConnected(t, a, b)
	_, alice := register(t, a.URL(), "alice")
	_, bob := register(t, b.URL(), "bob")
	var g, ch, inv struct {
		ID   string `json:"id"`
		Code string `json:"code"`
	}
	api(t, a.URL(), "POST", "/guilds", alice, map[string]string{"name": "shared"}, &g)
	api(t, a.URL(), "POST", "/guilds/"+g.ID+"/channels", alice, map[string]any{"name": "chat", "type": 0}, &ch)
	api(t, a.URL(), "POST", "/channels/"+ch.ID+"/invites", alice, map[string]any{}, &inv)
	api(t, b.URL(), "POST", "/invites/"+inv.Code, bob, nil, nil)

	env := map[string]string{"CONCORD_HTTP_ADMIN_TOKEN": cfg.HTTP.AdminToken}
	var out string
	waitUntil(t, "b and the guild in concord peers", func() bool {
		code, stdout, stderr := runMain(t, env, "peers", "--url", a.URL())
		if code != 0 {
			t.Fatalf("concord peers = %d: %s", code, stderr)
		}
		out = stdout
		return strings.Contains(out, b.PeerID().String()) && strings.Contains(out, g.ID)
	})
	if !strings.HasPrefix(out, "PEER") {
		t.Errorf("concord peers printed %q", out)
	}
	if code, _, stderr := runMain(t, nil, "peers", "--url", a.URL()); code != 1 || !strings.Contains(stderr, "admin_token") {
		t.Errorf("concord peers without a token = %d %q", code, stderr)
	}
}
