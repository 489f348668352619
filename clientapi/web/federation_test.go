package web_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"concord/node"
)

// TestAcrossNodes: Alice on alpha makes a guild; Bob, whose account is on
// beta, pastes its invite code into beta's client, joins the guild that
// lives on alpha, and the two chat, each seeing the other by name@node;
// bob's voice state reaches alpha, and in one voice channel, each through
// their own node's SFU, they hear each other; then they become friends
// across their nodes and share a group DM.
func TestAcrossNodes(t *testing.T) {
	alpha := startNodeWith(t, func(cfg *node.Config) { cfg.Node.Name = "alpha" })
	var card struct {
		PeerID string   `json:"peer_id"`
		Addrs  []string `json:"addrs"`
	}
	if err := json.NewDecoder(get(t, alpha+"/.well-known/concord/node", nil).Body).Decode(&card); err != nil || len(card.Addrs) == 0 {
		t.Fatalf("alpha's node card: %+v, %v", card, err)
	}
	beta := startNodeWith(t, func(cfg *node.Config) {
		cfg.Node.Name = "beta"
		cfg.Federation.Bootstrap = []string{card.Addrs[0] + "/p2p/" + card.PeerID}
	})
	browser := newBrowser(t, voiceFlags...)
	size := [2]int64{1280, 800}
	alice := newPerson(t, browser, alpha, "alice", size)
	bob := newPerson(t, browser, beta, "bob", size)
	for _, p := range []*person{alice, bob} {
		p.before(recordPeerConnections)
	}
	alice.register("correct horse battery")
	bob.register("staple battery horse")
	guildID, channelID := alice.newGuild("Two Nodes")
	code := alice.invite(channelID)

	// Beta finds the invite once the nodes are connected.
	for deadline := time.Now().Add(20 * time.Second); get(t, beta+"/api/v10/invites/"+code, nil).StatusCode != http.StatusOK; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("beta never found alpha's invite")
		}
	}
	bob.click(`.gbtn.add`)
	bob.typeIn(`#ng-code`, code)
	bob.click(`.addguild form:nth-child(2) button[type=submit]`)
	bob.wait(`document.querySelector('.chtitle h1') && document.querySelector('.chtitle h1').textContent === 'general'`)
	bob.wait(`[...document.querySelectorAll('.gbtn')].some((g) => g.getAttribute('aria-label') === 'Two Nodes')`)

	alice.open("/channels/" + guildID + "/" + channelID)
	alice.send("hello from alpha")
	bob.wait(`[...document.querySelectorAll('.msg')].some((m) => m.textContent.includes('hello from alpha') && m.querySelector('.author') && m.querySelector('.author').textContent === 'alice')`)
	bob.send("hello from beta")
	alice.wait(`[...document.querySelectorAll('.msg')].some((m) => m.textContent.includes('hello from beta') && m.querySelector('.author') && m.querySelector('.author').textContent === 'bob')`)
	// Each sees the other online, though their homes differ; the popout
	// tells where the other lives.
	alice.wait(`[...document.querySelectorAll('.members .member.online')].some((m) => m.textContent.includes('bob'))`)
	bob.wait(`[...document.querySelectorAll('.members .member.online')].some((m) => m.textContent.includes('alice'))`)
	bob.click(`.msg .author`)
	bob.wait(`document.querySelector('.profile .handle') && document.querySelector('.profile .handle').textContent === 'alice@alpha'`)
	// Bob joins a voice channel through beta's SFU: alice, on alpha, sees
	// him in it. She joins through alpha's: the SFUs relay to each other,
	// and each hears the other and sees them speak.
	var lounge struct{ ID string }
	alice.api("POST", "/guilds/"+guildID+"/channels", map[string]any{"name": "lounge", "type": 2}, &lounge)
	var bobID string
	bob.eval(`JSON.parse(localStorage.getItem('concord.session')).user_id`, &bobID)
	bob.wait(`document.querySelector('.chan[data-channel="` + lounge.ID + `"]')`)
	bob.click(`.chan[data-channel="` + lounge.ID + `"]`)
	bob.wait(`document.querySelector('.vinfo strong') && document.querySelector('.vinfo strong').textContent === 'Voice Connected'`)
	alice.wait(`document.querySelector('.chrow:has([data-channel="` + lounge.ID + `"]) .voicers li[data-user="` + bobID + `"]')`)
	var aliceID string
	alice.eval(`JSON.parse(localStorage.getItem('concord.session')).user_id`, &aliceID)
	alice.click(`.chan[data-channel="` + lounge.ID + `"]`)
	alice.wait(`document.querySelector('.vinfo strong') && document.querySelector('.vinfo strong').textContent === 'Voice Connected'`)
	bob.audioUntil("audio from alice on alpha", func(s audioStats) bool { return s.Packets > 50 })
	alice.audioUntil("audio from bob on beta", func(s audioStats) bool { return s.Packets > 50 })
	ring := func(id string) string {
		return `document.querySelector('.chrow:has([data-channel="` + lounge.ID + `"]) .voicers li[data-user="` + id + `"].speaking')`
	}
	bob.wait(ring(aliceID))
	alice.wait(ring(bobID))
	bob.shot("federation-beta")
	alice.shot("federation-alpha")
	alice.click(`.voicepanel button[aria-label="Disconnect"]`)
	bob.click(`.voicepanel button[aria-label="Disconnect"]`)
	alice.wait(`!document.querySelector('.chrow:has([data-channel="` + lounge.ID + `"]) .voicers li[data-user="` + bobID + `"]')`)

	// Bob befriends alice by her name@node; she accepts from Pending and,
	// from the new-message dialog with him alone ticked, opens a DM with
	// him, which reaches beta.
	bob.open("/channels/@me")
	bob.click(`.ftabs .primary`)
	bob.typeIn(`#af-name`, "alice@alpha")
	bob.click(`.addfriend button[type=submit]`)
	bob.wait(`document.querySelector('.fok') && document.querySelector('.fok').textContent.includes('alice@alpha')`)
	alice.open("/channels/@me")
	alice.clickX(`//div[@role="tablist"]/button[text()="Pending"]`)
	alice.wait(`[...document.querySelectorAll('.flist li')].some((l) => l.textContent.includes('bob@beta'))`)
	alice.clickX(`//ul[contains(@class,"flist")]//button[text()="Accept"]`)
	alice.wait(`!document.querySelector('.flist li[data-type="3"]')`)
	alice.clickX(`//div[@role="tablist"]/button[text()="All"]`)
	alice.wait(`document.querySelectorAll('.flist li').length === 1`)
	alice.click(`.cathead .catadd`)
	alice.eval(`document.querySelectorAll('dialog form input[type=checkbox]').forEach((c) => c.checked = true)`, nil)
	alice.click(`dialog form button[type=submit]`)
	alice.wait(`document.querySelector('.chtitle h1') && document.querySelector('.chtitle h1').textContent.includes('bob')`)
	alice.send("a group across nodes")
	bob.wait(`[...document.querySelectorAll('.chan.dm')].some((c) => c.textContent.includes('alice'))`)
	bob.eval(`[...document.querySelectorAll('.chan.dm')].find((c) => c.textContent.includes('alice')).click()`, nil)
	bob.wait(`[...document.querySelectorAll('.msg .text')].some((t) => t.textContent === 'a group across nodes')`)
	bob.shot("federation-dm")
	alice.clean()
	bob.clean()
}
