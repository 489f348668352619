package node

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/libp2p/go-libp2p/core/network"

	"concord/storage"
	"concord/storage/storagetest"
)

// TestNodeCardAndBootstrap starts two nodes, the second with the first as
// its bootstrap peer taken from the first's node card, and waits until
// they are connected.
func TestNodeCardAndBootstrap(t *testing.T) {
	a := startNode(t, testConfig(t))
	card := nodeCardOf(t, a.URL())
	if card.PeerID != a.PeerID().String() || card.Name != "concord" || card.Version != Version || len(card.Addrs) == 0 {
		t.Fatalf("node card %+v", card)
	}

	cfg := testConfig(t)
	cfg.Federation.Bootstrap = card.Addrs[:1]
	waitConnected(t, a, startNode(t, cfg))
}

// card is a node card.
type card struct {
	Name    string   `json:"name"`
	PeerID  string   `json:"peer_id"`
	Addrs   []string `json:"addrs"`
	Version string   `json:"version"`
}

// nodeCardOf reads the node card of the node at base.
func nodeCardOf(t *testing.T, base string) card {
	t.Helper()
	code, body := get(t, http.DefaultClient, base+"/.well-known/concord/node")
	var c card
	if err := json.Unmarshal([]byte(body), &c); err != nil || code != http.StatusOK {
		t.Fatalf("GET /.well-known/concord/node = %d %s (%v)", code, body, err)
	}
	return c
}

// api calls a node's client API and decodes its answer into out, failing
// the test on any status but 2xx.
func api(t *testing.T, base, method, path, token string, body, out any) {
	t.Helper()
	if code := try(t, base, method, path, token, body, out); code/100 != 2 {
		t.Fatalf("%s %s on %s: status %d", method, path, base, code)
	}
}

// try calls a node's client API and returns the status, decoding a 2xx
// answer into out.
func try(t *testing.T, base, method, path, token string, body, out any) int {
	t.Helper()
	code, data := apiCall(t, base, method, "/api/v10"+path, token, body)
	if code/100 != 2 {
		t.Logf("%s %s on %s: %d %s", method, path, base, code, data)
		return code
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
	return code
}

// register makes an account on n and returns its user ID and token.
func register(t *testing.T, base, username string) (id, token string) {
	t.Helper()
	var u struct {
		UserID string `json:"user_id"`
		Token  string `json:"token"`
	}
	api(t, base, "POST", "/auth/register", "", map[string]string{"username": username, "password": "correct horse battery"}, &u)
	return u.UserID, u.Token
}

// TestInviteAcrossNodes: the code an invite gets on node A, used as it is
// on node B, joins B's user to A's guild (federatedChat). B runs on
// PostgreSQL when the tests have it.
func TestInviteAcrossNodes(t *testing.T) {
	a, b := twoNodes(t, func(cfg *Config) {
		if pg, ok := storagetest.Backends(t)[storage.Postgres]; ok {
			cfg.Storage.Driver, cfg.Storage.DSN = pg.Driver, pg.DSN
		}
	})
	chat := federatedChat(t, a.URL(), b.URL())

	// Beta's user renames themselves: alpha shows their message by the new
	// names at once, not when its copy of the profile grows old.
	api(t, b.URL(), "PATCH", "/users/@me", chat.tokens[0], map[string]string{"username": "uno", "global_name": "Uno",
		"password": "correct horse battery"}, nil)
	var renamed []struct {
		Author struct {
			Username   string `json:"username"`
			GlobalName string `json:"global_name"`
		} `json:"author"`
	}
	waitUntil(t, "the new names on alpha", func() bool {
		api(t, a.URL(), "GET", "/channels/"+chat.channel+"/messages", chat.alice, nil, &renamed)
		return len(renamed) > 0 && renamed[0].Author.Username == "uno@beta" && renamed[0].Author.GlobalName == "Uno"
	})

	// Beta's user takes an avatar, alice gives the guild an icon and an
	// emoji: each node serves the other's pictures, fetched from the node
	// that has them.
	var me struct {
		Avatar string `json:"avatar"`
	}
	avatar := pngOf(7)
	api(t, b.URL(), "PATCH", "/users/@me", chat.tokens[0], map[string]string{"avatar": dataURI(avatar)}, &me)
	var pictured []struct {
		Author struct {
			Avatar string `json:"avatar"`
		} `json:"author"`
	}
	waitUntil(t, "the new avatar on alpha", func() bool {
		api(t, a.URL(), "GET", "/channels/"+chat.channel+"/messages", chat.alice, nil, &pictured)
		return len(pictured) > 0 && pictured[0].Author.Avatar == me.Avatar
	})
	if code, got := apiCall(t, a.URL(), "GET", "/avatars/"+chat.ids[0]+"/"+me.Avatar+".png", "", nil); code != http.StatusOK || !bytes.Equal(got, avatar) {
		t.Errorf("alpha serves beta's user's avatar: %d, %d bytes, want %d", code, len(got), len(avatar))
	}
	var ch, g struct {
		GuildID string `json:"guild_id"`
		Icon    string `json:"icon"`
	}
	api(t, a.URL(), "GET", "/channels/"+chat.channel, chat.alice, nil, &ch)
	icon := pngOf(9)
	api(t, a.URL(), "PATCH", "/guilds/"+ch.GuildID, chat.alice, map[string]string{"icon": dataURI(icon)}, &g)
	waitUntil(t, "the icon on beta", func() bool {
		var seen struct {
			Icon string `json:"icon"`
		}
		api(t, b.URL(), "GET", "/guilds/"+ch.GuildID, chat.tokens[0], nil, &seen)
		return seen.Icon == g.Icon
	})
	if code, got := apiCall(t, b.URL(), "GET", "/icons/"+ch.GuildID+"/"+g.Icon+".png", "", nil); code != http.StatusOK || !bytes.Equal(got, icon) {
		t.Errorf("beta serves the guild's icon: %d, %d bytes, want %d", code, len(got), len(icon))
	}
	var emoji struct {
		ID string `json:"id"`
	}
	face := pngOf(11)
	api(t, a.URL(), "POST", "/guilds/"+ch.GuildID+"/emojis", chat.alice, map[string]string{"name": "wave", "image": dataURI(face)}, &emoji)
	waitUntil(t, "the emoji on beta", func() bool {
		return try(t, b.URL(), "GET", "/guilds/"+ch.GuildID+"/emojis/"+emoji.ID, chat.tokens[0], nil, nil) == http.StatusOK
	})
	if code, got := apiCall(t, b.URL(), "GET", "/emojis/"+emoji.ID+".png", "", nil); code != http.StatusOK || !bytes.Equal(got, face) {
		t.Errorf("beta serves the guild's emoji: %d, %d bytes, want %d", code, len(got), len(face))
	}
	var role struct {
		ID   string `json:"id"`
		Icon string `json:"icon"`
	}
	badge := pngOf(13)
	api(t, a.URL(), "POST", "/guilds/"+ch.GuildID+"/roles", chat.alice, map[string]string{"name": "badged", "icon": dataURI(badge)}, &role)
	waitUntil(t, "the role on beta", func() bool {
		var roles []struct{ ID string }
		api(t, b.URL(), "GET", "/guilds/"+ch.GuildID+"/roles", chat.tokens[0], nil, &roles)
		return slices.Contains(roles, struct{ ID string }{role.ID})
	})
	if code, got := apiCall(t, b.URL(), "GET", "/role-icons/"+role.ID+"/"+role.Icon+".png", "", nil); code != http.StatusOK || !bytes.Equal(got, badge) {
		t.Errorf("beta serves the role's icon: %d, %d bytes, want %d", code, len(got), len(badge))
	}

	// Alice typing on alpha shows on beta's gateway, to beta's user.
	gw, _, err := websocket.DefaultDialer.Dial(strings.Replace(b.URL(), "http", "ws", 1)+"/gateway?v=10&encoding=json", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	gw.WriteJSON(map[string]any{"op": 2, "d": map[string]any{"token": chat.tokens[0], "intents": 1 << 11,
		"properties": map[string]string{"os": "linux", "browser": "test", "device": "test"}}})
	gw.SetReadDeadline(time.Now().Add(20 * time.Second))
	for ready := false; ; {
		var f struct {
			T string `json:"t"`
			D struct {
				UserID    string `json:"user_id"`
				ChannelID string `json:"channel_id"`
			} `json:"d"`
		}
		if err := gw.ReadJSON(&f); err != nil {
			t.Fatalf("beta's gateway: %v", err)
		}
		if f.T == "READY" && !ready {
			ready = true
			api(t, a.URL(), "POST", "/channels/"+chat.channel+"/typing", chat.alice, nil, nil)
		}
		if f.T == "TYPING_START" && f.D.UserID == chat.aliceID && f.D.ChannelID == chat.channel {
			break
		}
	}

	// Alice opens a DM with beta's user, whom alpha knows by profile: the
	// room reaches beta, and so does her message.
	var dm, sent struct {
		ID string `json:"id"`
	}
	api(t, a.URL(), "POST", "/users/@me/channels", chat.alice, map[string]string{"recipient_id": chat.ids[0]}, &dm)
	api(t, a.URL(), "POST", "/channels/"+dm.ID+"/messages", chat.alice, map[string]string{"content": "psst"}, &sent)
	var seen []struct {
		ID     string `json:"id"`
		Author struct {
			Username string `json:"username"`
		} `json:"author"`
	}
	waitUntil(t, "alice's DM on beta", func() bool {
		return try(t, b.URL(), "GET", "/channels/"+dm.ID+"/messages", chat.tokens[0], nil, &seen) == http.StatusOK &&
			len(seen) == 1 && seen[0].ID == sent.ID && seen[0].Author.Username == "alice@alpha"
	})

}

// twoNodes starts alpha and beta, beta bootstrapped from alpha, with API
// limits lifted, beta's config changed by tweak (nil: none), and waits
// until they are connected.
func twoNodes(t *testing.T, tweak func(*Config)) (a, b *Node) {
	t.Helper()
	cfgA := testConfig(t)
	cfgA.Node.Name = "alpha"
	cfgA.Limits.APIPerMinute, cfgA.Limits.ChannelMessagesPer10s = 1<<20, 1000
	a = startNode(t, cfgA)
	cfgB := testConfig(t)
	cfgB.Node.Name = "beta"
	cfgB.Limits.APIPerMinute = 1 << 20
	cfgB.Federation.Bootstrap = a.p2p.FullAddrs()[:1]
	if tweak != nil {
		tweak(&cfgB)
	}
	b = startNode(t, cfgB)
	waitConnected(t, a, b)
	return a, b
}

// chat is what federatedChat made: the channel, alice on the home node
// and the other nodes' users' tokens.
type chat struct {
	channel, aliceID, alice string
	ids, tokens             []string
}

// federatedChat drives nodes through their client APIs alone: alice on
// the first makes a guild and an invite; in turn, a user of each other
// node previews the invite, joins with its code, sees the guild among
// theirs and posts; alice sees each post by its author's name@node.
func federatedChat(t *testing.T, home string, others ...string) chat {
	t.Helper()
	aliceID, alice := register(t, home, "alice")
	var g, ch, inv struct {
		ID   string `json:"id"`
		Code string `json:"code"`
	}
	api(t, home, "POST", "/guilds", alice, map[string]string{"name": "federated"}, &g)
	api(t, home, "POST", "/guilds/"+g.ID+"/channels", alice, map[string]any{"name": "chat", "type": 0}, &ch)
	api(t, home, "POST", "/channels/"+ch.ID+"/invites", alice, map[string]any{}, &inv)
	out := chat{channel: ch.ID, aliceID: aliceID, alice: alice}
	for i, base := range others {
		name, node := fmt.Sprintf("user%d", i+1), nodeCardOf(t, base).Name
		id, token := register(t, base, name)
		out.ids, out.tokens = append(out.ids, id), append(out.tokens, token)
		var preview struct {
			Guild struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"guild"`
			Members int `json:"approximate_member_count"`
		}
		waitUntil(t, node+" to preview the invite", func() bool {
			return try(t, base, "GET", "/invites/"+inv.Code+"?with_counts=true", token, nil, &preview) == http.StatusOK
		})
		if preview.Guild.ID != g.ID || preview.Guild.Name != "federated" || preview.Members != i+1 {
			t.Errorf("%s previews the invite as %+v", node, preview)
		}
		api(t, base, "POST", "/invites/"+inv.Code, token, nil, nil)
		var guilds []struct {
			ID string `json:"id"`
		}
		api(t, base, "GET", "/users/@me/guilds", token, nil, &guilds)
		if len(guilds) != 1 || guilds[0].ID != g.ID {
			t.Fatalf("%s's guilds on %s: %+v, want %s", name, node, guilds, g.ID)
		}
		var sent struct {
			ID string `json:"id"`
		}
		api(t, base, "POST", "/channels/"+ch.ID+"/messages", token, map[string]string{"content": "hello from " + node}, &sent)
		var seen []struct {
			ID     string `json:"id"`
			Author struct {
				ID       string `json:"id"`
				Username string `json:"username"`
			} `json:"author"`
		}
		// The home node fetches the author's profile, signed by their node.
		waitUntil(t, name+"'s message on the home node, by "+name+"@"+node, func() bool {
			api(t, home, "GET", "/channels/"+ch.ID+"/messages", alice, nil, &seen)
			return len(seen) > 0 && seen[0].ID == sent.ID && seen[0].Author.ID == id && seen[0].Author.Username == name+"@"+node
		})
	}
	return out
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
