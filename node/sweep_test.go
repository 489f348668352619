package node

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"concord/storage/blob"
	"concord/storage/storagetest"
)

// The blob sweep over a real node: files of deleted messages, replaced
// avatars and replaced icons go once they are older than the grace period,
// and not before; a file another message still carries stays, as does a
// fresh upload nothing names yet. The sweep is the operator's command, run
// beside the running node.
func TestBlobSweep(t *testing.T) {
	for name, sc := range storagetest.Backends(t) {
		t.Run(name, func(t *testing.T) {
			conf, n := startFromFile(t, sc.Driver, sc.DSN, "")
			base := n.URL()
			_, alice := register(t, base, "alice")
			avatar1, avatar2, avatar3, icon1, icon2 := pngOf(1), pngOf(2), pngOf(3), pngOf(4), pngOf(5)
			api(t, base, "PATCH", "/users/@me", alice, map[string]string{"avatar": dataURI(avatar1)}, nil)
			api(t, base, "PATCH", "/users/@me", alice, map[string]string{"avatar": dataURI(avatar2)}, nil)
			var g struct {
				ID string `json:"id"`
			}
			api(t, base, "POST", "/guilds", alice, map[string]string{"name": "gallery", "icon": dataURI(icon1)}, &g)
			api(t, base, "PATCH", "/guilds/"+g.ID, alice, map[string]string{"icon": dataURI(icon2)}, nil)
			ch := textChannel(t, base, alice, g.ID)
			shared, gone := []byte("kept by a second message"), []byte("only in a deleted message")
			first := sendFile(t, base, alice, ch, shared)
			sendFile(t, base, alice, ch, shared)
			last := sendFile(t, base, alice, ch, gone)
			api(t, base, "DELETE", "/channels/"+ch+"/messages/"+first, alice, nil, nil)
			api(t, base, "DELETE", "/channels/"+ch+"/messages/"+last, alice, nil, nil)

			stored := func(data []byte) bool { return storedOn(t, n, data) }
			sweep := func() string {
				out, _ := operator(t, "", "blobs", "sweep", "--config", conf)
				return out
			}
			if out := sweep(); !strings.HasPrefix(out, "deleted 0 of 6 blobs") {
				t.Errorf("a sweep within the grace period: %q", out)
			}
			for i, b := range [][]byte{avatar1, avatar2, icon1, icon2, shared, gone} {
				if !stored(b) {
					t.Errorf("file %d went within the grace period", i)
				}
			}

			ageBlobs(t, filepath.Join(n.cfg.Node.DataDir, "blobs"), 2*time.Hour)
			if out := sweep(); !strings.HasPrefix(out, "deleted 3 of 6 blobs") {
				t.Errorf("a sweep past the grace period: %q", out)
			}
			for what, b := range map[string][]byte{"old avatar": avatar1, "old icon": icon1, "deleted message's file": gone} {
				if stored(b) {
					t.Errorf("the %s is still stored", what)
				}
			}
			for what, b := range map[string][]byte{"avatar": avatar2, "icon": icon2, "file of a message left": shared} {
				if !stored(b) {
					t.Errorf("the %s was swept", what)
				}
			}

			// A fresh upload nothing names survives a sweep; an hour on, it
			// is counted as the sweep deletes it.
			api(t, base, "PATCH", "/users/@me", alice, map[string]string{"avatar": dataURI(avatar3)}, nil)
			api(t, base, "PATCH", "/users/@me", alice, map[string]string{"avatar": dataURI(avatar2)}, nil)
			if out := sweep(); !strings.HasPrefix(out, "deleted 0 of 4 blobs") || !stored(avatar3) {
				t.Errorf("a fresh upload: %q, stored %v", out, stored(avatar3))
			}
			s, err := newBlobSweep(n.blobs, n.db, time.Hour, prometheus.NewRegistry())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.once(t.Context(), time.Now().Add(90*time.Minute)); err != nil {
				t.Fatal(err)
			}
			if got, bytes := testutil.ToFloat64(s.deleted), testutil.ToFloat64(s.bytes); got != 1 || bytes != float64(len(avatar3)) || stored(avatar3) {
				t.Errorf("counted %v blobs, %v bytes; want 1, %d", got, bytes, len(avatar3))
			}
		})
	}
}

// storedOn reports whether n's blob store holds data.
func storedOn(t *testing.T, n *Node, data []byte) bool {
	f, _, err := n.blobs.Get(t.Context(), blob.Key(data))
	if err == nil {
		f.Close()
	}
	return err == nil
}

// startFromFile writes a node.toml for a node on driver and dsn, with
// limits added to its [limits], and starts the node from it.
func startFromFile(t *testing.T, driver, dsn, limits string) (string, *Node) {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, "node.toml")
	text := fmt.Sprintf(`[node]
data_dir = %q
[http]
listen = "127.0.0.1:0"
[storage]
driver = %q
dsn = %q
[federation]
listen = ["/ip4/127.0.0.1/tcp/0"]
mdns = false
[limits]
api_per_minute = 100000
channel_messages_per_10s = 1000
%s
[log]
level = "warn"
`, filepath.Join(dir, "data"), driver, dsn, limits)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(conf, envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	return conf, startNode(t, cfg)
}

// pngOf is a distinct small PNG for each n.
func pngOf(n int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	img.Set(0, 0, color.RGBA{uint8(n), 0, 0, 255})
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

func dataURI(png []byte) string {
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
}

// textChannel is the first text channel of guild gid.
func textChannel(t *testing.T, base, token, gid string) string {
	t.Helper()
	var chans []struct {
		ID   string `json:"id"`
		Type int    `json:"type"`
	}
	api(t, base, "GET", "/guilds/"+gid+"/channels", token, nil, &chans)
	for _, c := range chans {
		if c.Type == 0 {
			return c.ID
		}
	}
	t.Fatalf("guild %s has no text channel", gid)
	return ""
}

// postFile sends a message carrying files and returns the status and the
// body of the answer.
func postFile(t *testing.T, base, token, channel string, files ...[]byte) (int, []byte) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("content", "a file")
	for i, data := range files {
		fw, _ := mw.CreateFormFile(fmt.Sprintf("files[%d]", i), "file.txt")
		fw.Write(data)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", base+"/api/v10/channels/"+channel+"/messages", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	out.ReadFrom(resp.Body)
	return resp.StatusCode, out.Bytes()
}

// sendFile is postFile that must succeed; it returns the message's ID.
func sendFile(t *testing.T, base, token, channel string, data []byte) string {
	t.Helper()
	code, body := postFile(t, base, token, channel, data)
	var m struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &m); code != http.StatusOK || err != nil {
		t.Fatalf("send a file: %d %s", code, body)
	}
	return m.ID
}

// ageBlobs makes every file of a local blob store d older, as if that
// much time had passed since each was stored.
func ageBlobs(t *testing.T, dir string, d time.Duration) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		then := info.ModTime().Add(-d)
		return os.Chtimes(path, then, then)
	})
	if err != nil {
		t.Fatal(err)
	}
}
