package node

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"concord/federation/p2p"
	"concord/federation/snowflake"
	"concord/storage"
)

// relationship is one entry of GET /users/@me/relationships.
type relationship struct {
	ID   string `json:"id"`
	Type int    `json:"type"`
	User struct {
		Username string `json:"username"`
	} `json:"user"`
}

// relationships returns the caller's relationships by user ID.
func relationships(t *testing.T, base, token string) map[string]relationship {
	t.Helper()
	var list []relationship
	api(t, base, "GET", "/users/@me/relationships", token, nil, &list)
	out := map[string]relationship{}
	for _, r := range list {
		out[r.ID] = r
	}
	return out
}

// TestFriendsAcrossNodes: a user of beta befriends alice of alpha by her
// name@node, she accepts, and she starts a group DM with him; his block
// ends the friendship on both nodes, refuses her requests, and beta
// refuses a group DM from anyone he is not friends with. A friendship
// ended while beta is down reaches beta when it is back.
func TestFriendsAcrossNodes(t *testing.T) {
	cfgA := testConfig(t)
	cfgA.Node.Name = "alpha"
	cfgA.Limits.APIPerMinute = 1 << 20
	a := startNode(t, cfgA)
	cfgB := testConfig(t)
	cfgB.Node.Name = "beta"
	cfgB.Limits.APIPerMinute = 1 << 20
	cfgB.Federation.Bootstrap = a.p2p.FullAddrs()[:1]
	var chat chat
	var bob, bobID string
	t.Run("beta up", func(t *testing.T) {
		b := startNode(t, cfgB)
		waitConnected(t, a, b)
		chat = federatedChat(t, a.URL(), b.URL())
		bob, bobID = chat.tokens[0], chat.ids[0]

		api(t, b.URL(), "POST", "/users/@me/relationships", bob, map[string]string{"username": "Alice@Alpha"}, nil)
		if r := relationships(t, b.URL(), bob)[chat.aliceID]; r.Type != 4 || r.User.Username != "alice@alpha" {
			t.Errorf("bob's request on beta: %+v", r)
		}
		if r := relationships(t, a.URL(), chat.alice)[bobID]; r.Type != 3 || r.User.Username != "user1@beta" {
			t.Errorf("bob's request on alpha: %+v", r)
		}
		api(t, a.URL(), "PUT", "/users/@me/relationships/"+bobID, chat.alice, map[string]any{}, nil)
		if r := relationships(t, a.URL(), chat.alice)[bobID]; r.Type != 1 {
			t.Errorf("alice after accepting: %+v", r)
		}
		if r := relationships(t, b.URL(), bob)[chat.aliceID]; r.Type != 1 {
			t.Errorf("bob after alice accepted: %+v", r)
		}

		// Friends, they share a group DM: it reaches beta.
		var group, sent struct {
			ID string `json:"id"`
		}
		api(t, a.URL(), "POST", "/users/@me/channels", chat.alice, map[string]any{"recipients": []string{bobID}, "name": "pals"}, &group)
		api(t, a.URL(), "POST", "/channels/"+group.ID+"/messages", chat.alice, map[string]string{"content": "hi pal"}, &sent)
		var seen []struct {
			ID string `json:"id"`
		}
		waitUntil(t, "the group DM's message on beta", func() bool {
			return try(t, b.URL(), "GET", "/channels/"+group.ID+"/messages", bob, nil, &seen) == http.StatusOK &&
				len(seen) == 1 && seen[0].ID == sent.ID
		})

		// A DM between them, opened on alpha.
		var dm struct {
			ID string `json:"id"`
		}
		api(t, a.URL(), "POST", "/users/@me/channels", chat.alice, map[string]any{"recipient_id": bobID}, &dm)
		api(t, a.URL(), "POST", "/channels/"+dm.ID+"/messages", chat.alice, map[string]string{"content": "just us"}, nil)

		// Bob blocks alice: alpha hears the friendship ended and the
		// block; her requests and her DMs to him are refused there.
		api(t, b.URL(), "PUT", "/users/@me/relationships/"+chat.aliceID, bob, map[string]any{"type": 2}, nil)
		waitUntil(t, "alpha to hear of the block", func() bool {
			_, ok := relationships(t, a.URL(), chat.alice)[bobID]
			return !ok
		})
		if code, body := apiCall(t, a.URL(), "POST", "/api/v10/channels/"+dm.ID+"/messages", chat.alice, map[string]string{"content": "hello?"}); code != http.StatusForbidden || !strings.Contains(string(body), `"code":50007`) {
			t.Errorf("a DM to whoever blocked you: %d %s, want 403 and code 50007", code, body)
		}
		if code, body := apiCall(t, a.URL(), "PUT", "/api/v10/users/@me/relationships/"+bobID, chat.alice, map[string]any{}); code != http.StatusBadRequest || !strings.Contains(string(body), `"code":80000`) {
			t.Errorf("a request to whoever blocked you: %d %s, want 400 and code 80000", code, body)
		}
		if r := relationships(t, b.URL(), bob)[chat.aliceID]; r.Type != 2 {
			t.Errorf("bob's block: %+v", r)
		}

		// Unblocked but not friends: a group DM from alice, made by an
		// alpha that believes otherwise, is refused by beta.
		api(t, b.URL(), "DELETE", "/users/@me/relationships/"+chat.aliceID, bob, nil, nil)
		waitUntil(t, "alpha to hear of the unblock", func() bool {
			return try(t, a.URL(), "POST", "/channels/"+dm.ID+"/messages", chat.alice, map[string]string{"content": "again"}, nil) == http.StatusOK
		})
		if err := a.db.Write(t.Context(), func(q storage.Querier) error {
			_, err := q.ExecContext(t.Context(), `INSERT INTO relationships (user_id, peer_id, type, since) VALUES (?, ?, 1, 0)`, chat.aliceID, bobID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		var forced struct {
			ID string `json:"id"`
		}
		api(t, a.URL(), "POST", "/users/@me/channels", chat.alice, map[string]any{"recipients": []string{bobID}}, &forced)
		api(t, a.URL(), "POST", "/channels/"+group.ID+"/messages", chat.alice, map[string]string{"content": "later"}, &sent)
		waitUntil(t, "a later message in the first group DM on beta", func() bool {
			return try(t, b.URL(), "GET", "/channels/"+group.ID+"/messages", bob, nil, &seen) == http.StatusOK &&
				len(seen) == 2 && seen[0].ID == sent.ID
		})
		if code := try(t, b.URL(), "GET", "/channels/"+forced.ID+"/messages", bob, nil, nil); code != http.StatusNotFound {
			t.Errorf("beta holds a group DM from a non-friend: status %d", code)
		}

		// Alpha speaking for users it is not home to: beta refuses a
		// request from a user it knows as its own, and from one it does
		// not know, and a removal for bob's friendship from alpha's other
		// user changes nothing.
		for _, from := range []string{bobID, "175928847299117063"} {
			if _, err := a.fed.Befriend(t.Context(), b.PeerID().String(), mustID(t, from), mustID(t, bobID)); !errors.Is(err, p2p.ErrFriendRefused) {
				t.Errorf("a request from %s through alpha: %v, want a refusal", from, err)
			}
		}

		// Friends again, by ID this time, before beta goes down.
		api(t, a.URL(), "DELETE", "/users/@me/relationships/"+bobID, chat.alice, nil, nil)
		api(t, a.URL(), "PUT", "/users/@me/relationships/"+bobID, chat.alice, map[string]any{}, nil)
		api(t, b.URL(), "PUT", "/users/@me/relationships/"+chat.aliceID, bob, map[string]any{}, nil)
		if r := relationships(t, a.URL(), chat.alice)[bobID]; r.Type != 1 {
			t.Errorf("alice befriended again: %+v", r)
		}
	})
	if t.Failed() {
		return
	}

	// Beta is down: alice unfriends bob, and alpha keeps telling beta
	// until it hears.
	api(t, a.URL(), "DELETE", "/users/@me/relationships/"+bobID, chat.alice, nil, nil)
	if _, ok := relationships(t, a.URL(), chat.alice)[bobID]; ok {
		t.Error("alice still lists bob")
	}
	b := startNode(t, cfgB)
	waitConnected(t, a, b)
	waitUntil(t, "beta to hear alice unfriended bob", func() bool {
		_, ok := relationships(t, b.URL(), bob)[chat.aliceID]
		return !ok
	})
}

func mustID(t *testing.T, s string) snowflake.ID {
	t.Helper()
	id, err := snowflake.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
