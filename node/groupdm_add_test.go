package node

import (
	"net/http"
	"testing"

	"concord/storage"
)

// TestAddRemoteFriendToGroupDM: alice on alpha has a group DM with carol,
// also on alpha, and adds bob of beta, her friend: beta fetches the group
// and bob sees it with its history, writes in it, and alpha's users read
// him. Beta's other user, eve, not alice's friend, added by an alpha
// that believes otherwise, is taken out again by beta.
func TestAddRemoteFriendToGroupDM(t *testing.T) {
	a, b := twoNodes(t, nil)
	chat := federatedChat(t, a.URL(), b.URL(), b.URL())
	bob, bobID := chat.tokens[0], chat.ids[0]
	eveID := chat.ids[1]
	carolID, carol := register(t, a.URL(), "carol")
	befriend := func(base, token, otherBase, otherToken, otherID, name string) {
		api(t, base, "POST", "/users/@me/relationships", token, map[string]string{"username": name}, nil)
		waitUntil(t, "the request to arrive", func() bool { return relationships(t, otherBase, otherToken)[otherID].Type == 3 })
	}
	// carol and bob ask alice; she accepts both.
	befriend(a.URL(), carol, a.URL(), chat.alice, carolID, "alice")
	api(t, a.URL(), "PUT", "/users/@me/relationships/"+carolID, chat.alice, map[string]any{}, nil)
	befriend(b.URL(), bob, a.URL(), chat.alice, bobID, "alice@alpha")
	api(t, a.URL(), "PUT", "/users/@me/relationships/"+bobID, chat.alice, map[string]any{}, nil)
	waitUntil(t, "bob to hear alice accepted", func() bool { return relationships(t, b.URL(), bob)[chat.aliceID].Type == 1 })

	var group, first struct {
		ID string `json:"id"`
	}
	api(t, a.URL(), "POST", "/users/@me/channels", chat.alice, map[string]any{"recipients": []string{carolID}, "name": "crew"}, &group)
	api(t, a.URL(), "POST", "/channels/"+group.ID+"/messages", carol, map[string]string{"content": "before bob"}, &first)
	api(t, a.URL(), "PUT", "/channels/"+group.ID+"/recipients/"+bobID, chat.alice, nil, nil)

	type message struct {
		ID      string `json:"id"`
		Content string `json:"content"`
	}
	var seen []message
	waitUntil(t, "the group's history on beta", func() bool {
		return try(t, b.URL(), "GET", "/channels/"+group.ID+"/messages", bob, nil, &seen) == http.StatusOK &&
			len(seen) == 1 && seen[0].ID == first.ID
	})
	var channels []struct {
		ID         string `json:"id"`
		Name       string `json:"name"`
		Recipients []struct {
			ID string `json:"id"`
		} `json:"recipients"`
	}
	api(t, b.URL(), "GET", "/users/@me/channels", bob, nil, &channels)
	found := false
	for _, c := range channels {
		if c.ID == group.ID {
			found = c.Name == "crew" && len(c.Recipients) == 2
		}
	}
	if !found {
		t.Errorf("bob's channels on beta: %+v", channels)
	}

	var reply message
	api(t, b.URL(), "POST", "/channels/"+group.ID+"/messages", bob, map[string]string{"content": "hi from beta"}, &reply)
	waitUntil(t, "bob's message on alpha", func() bool {
		return try(t, a.URL(), "GET", "/channels/"+group.ID+"/messages", carol, nil, &seen) == http.StatusOK &&
			len(seen) == 2 && seen[0].ID == reply.ID
	})

	// alpha believes alice and eve are friends; beta knows better.
	if err := a.db.Write(t.Context(), func(q storage.Querier) error {
		_, err := q.ExecContext(t.Context(), `INSERT INTO relationships (user_id, peer_id, type, since) VALUES (?, ?, 1, 0)`, chat.aliceID, eveID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	api(t, a.URL(), "PUT", "/channels/"+group.ID+"/recipients/"+eveID, chat.alice, nil, nil)
	recipients := func() int {
		api(t, a.URL(), "GET", "/users/@me/channels", carol, nil, &channels)
		for _, c := range channels {
			if c.ID == group.ID {
				return len(c.Recipients)
			}
		}
		return -1
	}
	waitUntil(t, "eve to leave the group again", func() bool { return recipients() == 2 })
	if code := try(t, b.URL(), "GET", "/channels/"+group.ID+"/messages", chat.tokens[1], nil, nil); code/100 == 2 {
		t.Errorf("eve reads a group DM from a non-friend: status %d", code)
	}
}
