package node

import (
	"bytes"
	"crypto/rand"
	"io"
	"net/http"
	"testing"

	"concord/federation/p2p"
	"concord/storage/blob"
)

// TestFilesAcrossNodes: a file sent on beta opens on alpha, which fetches
// its bytes from beta the first time; beta sends no file that no message
// of a room it shares with the asker names.
func TestFilesAcrossNodes(t *testing.T) {
	a, b := twoNodes(t, nil)
	chat := federatedChat(t, a.URL(), b.URL())

	data := make([]byte, 300<<10)
	rand.Read(data)
	if code, body := postFile(t, b.URL(), chat.tokens[0], chat.channel, data); code != http.StatusOK {
		t.Fatalf("send with a file on beta: %d %s", code, body)
	}

	var seen []struct {
		Content     string `json:"content"`
		Attachments []struct {
			URL  string `json:"url"`
			Size int64  `json:"size"`
		} `json:"attachments"`
	}
	waitUntil(t, "the message with its file on alpha", func() bool {
		api(t, a.URL(), "GET", "/channels/"+chat.channel+"/messages?limit=1", chat.alice, nil, &seen)
		return len(seen) == 1 && seen[0].Content == "a file" && len(seen[0].Attachments) == 1
	})
	if storedOn(t, a, data) {
		t.Fatal("alpha holds the file before anyone opened it")
	}
	got, err := http.Get(a.URL() + seen[0].Attachments[0].URL)
	if err != nil {
		t.Fatal(err)
	}
	fetched, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if got.StatusCode != http.StatusOK || !bytes.Equal(fetched, data) {
		t.Fatalf("the file on alpha: %d, %d bytes, equal %v", got.StatusCode, len(fetched), bytes.Equal(fetched, data))
	}
	if !storedOn(t, a, data) {
		t.Error("alpha did not keep the fetched file")
	}

	// Beta sends a file only for a room both share whose message names it.
	var g struct {
		GuildID string `json:"guild_id"`
	}
	api(t, a.URL(), "GET", "/channels/"+chat.channel, chat.alice, nil, &g)
	other := make([]byte, 1000)
	rand.Read(other)
	if err := b.blobs.Put(t.Context(), blob.Key(other), bytes.NewReader(other), int64(len(other)), ""); err != nil {
		t.Fatal(err)
	}
	req2 := map[string]string{"guild_id": g.GuildID, "blob": blob.Key(other)}
	if answer := rawCall(t, a, b, p2p.ProtoFile, req2); len(answer) > 0 {
		t.Errorf("beta sent a file no message names: %d bytes", len(answer))
	}
	// The file beta did send is sent again to a node that shares the room.
	req2["blob"] = blob.Key(data)
	if answer := rawCall(t, a, b, p2p.ProtoFile, req2); len(answer) < len(data) {
		t.Errorf("beta did not send alpha a file of their room: %d bytes", len(answer))
	}
}
