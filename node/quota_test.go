package node

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"concord/storage/storagetest"
)

// A user whose files would go past limits.storage_quota_bytes is refused
// with 413 and code 40005 before anything is stored, a message that fits
// is sent, and deleting a message gives its bytes back.
func TestStorageQuota(t *testing.T) {
	for name, sc := range storagetest.Backends(t) {
		t.Run(name, func(t *testing.T) {
			_, n := startFromFile(t, sc.Driver, sc.DSN, "storage_quota_bytes = 100")
			base := n.URL()
			_, alice := register(t, base, "alice")
			_, bob := register(t, base, "bob")
			var g struct {
				ID string `json:"id"`
			}
			api(t, base, "POST", "/guilds", alice, map[string]string{"name": "quota"}, &g)
			ch := textChannel(t, base, alice, g.ID)
			var inv struct {
				Code string `json:"code"`
			}
			api(t, base, "POST", "/channels/"+ch+"/invites", alice, map[string]any{}, &inv)
			api(t, base, "POST", "/invites/"+inv.Code, bob, nil, nil)

			stored := func(data []byte) bool { return storedOn(t, n, data) }
			refused := func(files ...[]byte) {
				t.Helper()
				code, body := postFile(t, base, alice, ch, files...)
				var e struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				}
				json.Unmarshal(body, &e)
				if code != http.StatusRequestEntityTooLarge || e.Code != 40005 || e.Message != "Request entity too large: storage quota exceeded" {
					t.Fatalf("over quota: %d %s", code, body)
				}
				for i, f := range files {
					if stored(f) {
						t.Errorf("file %d of a refused message is stored", i)
					}
				}
			}
			sixty, fifty := bytes.Repeat([]byte("6"), 60), bytes.Repeat([]byte("5"), 50)
			first := sendFile(t, base, alice, ch, sixty)
			refused(fifty)
			// Two files: the first fits, the second does not; neither stays.
			api(t, base, "DELETE", "/channels/"+ch+"/messages/"+first, alice, nil, nil)
			refused(bytes.Repeat([]byte("7"), 60), fifty)
			// Another user's quota is their own.
			sendFile(t, base, bob, ch, sixty)
			sendFile(t, base, alice, ch, sixty)
			sendFile(t, base, alice, ch, bytes.Repeat([]byte("4"), 40))
			refused([]byte("1"))
		})
	}
}
