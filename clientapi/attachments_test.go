package clientapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"concord/clientapi/auth"
	"concord/clientapi/objects"
	"concord/federation/guild"
	"concord/federation/snowflake"
	"concord/storage"
	"concord/storage/blob"
	"concord/storage/storagetest"
)

// chatFixture is a guild with one text channel, its owner and a member.
type chatFixture struct {
	g, c         snowflake.ID
	owner, other auth.Pair
}

func newChat(h *harness) chatFixture {
	h.t.Helper()
	f := chatFixture{g: h.core.NewID(), c: h.core.NewID(), owner: h.register("owner"), other: h.register("other")}
	name := "general"
	h.sendAs(f.g, f.owner.UserID, guild.TypeGuildCreate, guild.GuildCreate{ID: f.g, Kind: guild.KindGuild, Name: "files"})
	h.sendAs(f.g, f.owner.UserID, guild.TypeChannelCreate, guild.ChannelCreate{ID: f.c, Type: guild.ChannelText, ChannelFields: guild.ChannelFields{Name: &name}})
	h.sendAs(f.g, f.owner.UserID, guild.TypeInviteCreate, guild.InviteCreate{Code: "files", ChannelID: f.c})
	h.sendAs(f.g, f.other.UserID, guild.TypeMemberJoin, guild.MemberJoin{InviteCode: "files"})
	return f
}

type filePart struct {
	field, name, declared string
	data                  []byte
}

// multipartBody is a Discord multipart message: payload_json, then files.
func multipartBody(payload string, files ...filePart) (string, []byte) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	if payload != "" {
		w.WriteField("payload_json", payload)
	}
	for _, f := range files {
		hdr := textproto.MIMEHeader{}
		hdr.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, f.field, f.name))
		hdr.Set("Content-Type", f.declared)
		p, _ := w.CreatePart(hdr)
		p.Write(f.data)
	}
	w.Close()
	return w.FormDataContentType(), b.Bytes()
}

func (h *harness) upload(token string, channel snowflake.ID, contentType string, body io.Reader) (int, []byte) {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.srv.URL+"/api/v10/channels/"+channel.String()+"/messages", body)
	req.Header.Set("Authorization", token)
	req.Header.Set("Content-Type", contentType)
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func testPNG(t *testing.T, w, h int) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// storedBlobs lists the blob files and spool files left on disk.
func storedBlobs(h *harness) []string {
	blobs, _ := filepath.Glob(filepath.Join(h.dataDir, "blobs", "*", "*"))
	spool, _ := filepath.Glob(filepath.Join(h.dataDir, "uploads", "*"))
	var out []string
	for _, f := range append(blobs, spool...) {
		if !strings.HasSuffix(f, ".type") {
			out = append(out, f)
		}
	}
	return out
}

// waitBlobs waits for the server to finish with a request the client gave
// up on, then checks what is stored.
func waitBlobs(t *testing.T, h *harness, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := storedBlobs(h)
		if len(got) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stored files %v, want %d", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAttachmentUploadAndServe(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db, func(c *testConfig) { c.PublicURL = "https://chat.example" })
		f := newChat(h)
		img := testPNG(t, 3, 2)
		page := []byte("<!DOCTYPE html><html><script>alert(1)</script></html>")
		ct, body := multipartBody(`{"content":"look","attachments":[{"id":1,"filename":"notes.html"}]}`,
			filePart{"files[0]", `..\..\my cat.txt`, "text/plain", img}, // the bytes say PNG
			filePart{"files[1]", "x.png", "image/png", page})            // the bytes say HTML
		st, b := h.upload(f.other.Token, f.c, ct, bytes.NewReader(body))
		var msg objects.Message
		h.want(st, 200, b, &msg)
		if msg.Content != "look" || len(msg.Attachments) != 2 {
			t.Fatalf("message %s", b)
		}
		pic, doc := msg.Attachments[0], msg.Attachments[1]
		if pic.ContentType != "image/png" || pic.Width == nil || *pic.Width != 3 || *pic.Height != 2 ||
			pic.Size != int64(len(img)) || pic.Filename != "my_cat.txt" {
			t.Fatalf("image attachment %+v", pic)
		}
		if doc.ContentType != "text/html; charset=utf-8" || doc.Filename != "notes.html" || doc.Width != nil {
			t.Fatalf("html attachment %+v", doc)
		}
		// Attachment IDs carry the time but follow neither their message's
		// ID nor each other, so a file's URL cannot be worked out from them.
		for _, at := range msg.Attachments {
			if at.ID+1 == msg.ID || at.ID+2 == msg.ID || at.ID.Time().Sub(msg.ID.Time()).Abs() > time.Second {
				t.Fatalf("attachment ID %d of message %d", at.ID, msg.ID)
			}
		}
		if pic.ID+1 == doc.ID {
			t.Fatalf("attachment IDs %d and %d follow each other", pic.ID, doc.ID)
		}
		// URLs are signed (ex, is, hm) like Discord's CDN's.
		bare := fmt.Sprintf("/attachments/%s/%s/my_cat.txt", f.c, pic.ID)
		if !strings.HasPrefix(pic.URL, "https://chat.example"+bare+"?ex=") || !strings.Contains(pic.URL, "&hm=") {
			t.Fatalf("url %s", pic.URL)
		}
		path := strings.TrimPrefix(pic.URL, "https://chat.example")
		query := path[strings.Index(path, "?"):]

		// Served without a token, with the sniffed type, whole and by range.
		for _, c := range []struct {
			path, rng, disp string
			status          int
			want            []byte
		}{
			{path, "", `inline; filename=my_cat.txt`, 200, img},
			{path, "bytes=0-3", `inline; filename=my_cat.txt`, 206, img[:4]},
			{strings.TrimPrefix(doc.URL, "https://chat.example"), "", `attachment; filename=notes.html`, 200, page},
		} {
			req, _ := http.NewRequest("GET", h.srv.URL+c.path, nil)
			if c.rng != "" {
				req.Header.Set("Range", c.rng)
			}
			resp, err := h.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			hd := resp.Header
			wantType := "image/png"
			if c.want[0] == '<' {
				wantType = doc.ContentType
			}
			if resp.StatusCode != c.status || !bytes.Equal(got, c.want) || hd.Get("Content-Type") != wantType ||
				hd.Get("Content-Length") != fmt.Sprint(len(c.want)) || hd.Get("X-Content-Type-Options") != "nosniff" ||
				hd.Get("Content-Disposition") != c.disp || !strings.HasPrefix(hd.Get("Cache-Control"), "private, max-age=") {
				t.Fatalf("GET %s (%s): %d %q %v", c.path, c.rng, resp.StatusCode, got, hd)
			}
		}
		for _, bad := range []string{
			bare, // unsigned
			bare + strings.Replace(query, "&hm=", "&hm=00", 1),
			fmt.Sprintf("/attachments/%s/%s/other.txt", f.c, pic.ID) + query,
			fmt.Sprintf("/attachments/%s/%s/my_cat.txt", f.g, pic.ID) + query,
			fmt.Sprintf("/attachments/%s/%s/my_cat.txt", f.c, msg.ID) + query,
		} {
			if resp := h.raw("GET", bad, "", nil); resp.StatusCode != 404 {
				t.Fatalf("GET %s: %d", bad, resp.StatusCode)
			} else {
				resp.Body.Close()
			}
		}

		// A URL expires after a day.
		h.clock.Add(24*time.Hour + time.Second)
		if resp := h.raw("GET", path, "", nil); resp.StatusCode != 404 {
			t.Fatalf("expired URL: %d", resp.StatusCode)
		} else {
			resp.Body.Close()
		}
		h.clock.Add(-24*time.Hour - time.Second)

		// A file stored under an ID minted as every other snowflake (as
		// they were before) is served as before.
		old := guild.Attachment{ID: h.core.NewID(), Filename: "old.png", Size: int64(len(img)), ContentType: "image/png",
			Blob: fmt.Sprintf("%x", sha256.Sum256(img))}
		oldMsg := h.core.NewID()
		h.sendAs(f.g, f.other.UserID, guild.TypeMessageCreate, guild.MessageCreate{ID: oldMsg, ChannelID: f.c, Attachments: []guild.Attachment{old}})
		var got objects.Message
		st, b = h.do("GET", "/channels/"+f.c.String()+"/messages/"+oldMsg.String(), f.owner.Token, nil)
		h.want(st, 200, b, &got)
		if len(got.Attachments) != 1 || got.Attachments[0].ID != old.ID {
			t.Fatalf("message with an old attachment: %s", b)
		}
		if resp := h.raw("GET", strings.TrimPrefix(got.Attachments[0].URL, "https://chat.example"), "", nil); resp.StatusCode != 200 {
			t.Fatalf("old attachment: %d", resp.StatusCode)
		} else {
			resp.Body.Close()
		}

		// Deleting the message stops serving its files.
		h.sendAs(f.g, f.other.UserID, guild.TypeMessageDelete, guild.MessageTarget{ID: msg.ID, ChannelID: f.c})
		if resp := h.raw("GET", path, "", nil); resp.StatusCode != 404 {
			t.Fatalf("deleted message's file: %d", resp.StatusCode)
		} else {
			resp.Body.Close()
		}
	})
}

func TestAttachmentFailuresLeaveNoBlob(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		const limit = 4096
		h := newHarness(t, db, func(c *testConfig) { c.MaxUploadBytes = limit })
		f := newChat(h)
		small := bytes.Repeat([]byte("a"), 1000)
		big := bytes.Repeat([]byte("b"), limit+1)

		// Kept: one accepted file, to check that a failed request sharing
		// its bytes leaves it alone.
		ct, body := multipartBody(`{"content":"keep"}`, filePart{"files[0]", "keep.txt", "text/plain", small})
		st, b := h.upload(f.owner.Token, f.c, ct, bytes.NewReader(body))
		h.want(st, 200, b, nil)
		waitBlobs(t, h, 1)

		fresh := bytes.Repeat([]byte("c"), 1000)
		cases := map[string]struct {
			token   string
			payload string
			files   []filePart
			status  int
			code    int
		}{
			"file over the limit":   {f.owner.Token, `{"content":"x"}`, []filePart{{"files[0]", "big", "text/plain", big}}, 413, 40005},
			"files add up too much": {f.owner.Token, `{"content":"x"}`, []filePart{{"files[0]", "a", "text/plain", fresh}, {"files[1]", "b", "text/plain", bytes.Repeat([]byte("d"), limit-500)}}, 413, 40005},
			"content too long":      {f.owner.Token, `{"content":"` + strings.Repeat("x", 2001) + `"}`, []filePart{{"files[0]", "a", "text/plain", fresh}}, 400, 50035},
			"bad payload_json":      {f.owner.Token, `{"content":`, []filePart{{"files[0]", "a", "text/plain", fresh}}, 400, 50035},
			"outsider":              {h.register("outsider").Token, `{"content":"x"}`, []filePart{{"files[0]", "a", "text/plain", fresh}}, 404, 10003},
			"same bytes as kept":    {f.owner.Token, `{"content":"` + strings.Repeat("x", 2001) + `"}`, []filePart{{"files[0]", "a", "text/plain", small}}, 400, 50035},
			"eleven files": {f.owner.Token, `{"content":"x"}`, func() []filePart {
				var fs []filePart
				for i := range 11 {
					fs = append(fs, filePart{fmt.Sprintf("files[%d]", i), "f", "text/plain", []byte{byte('A' + i)}})
				}
				return fs
			}(), 400, 50035},
		}
		for name, c := range cases {
			ct, body := multipartBody(c.payload, c.files...)
			st, b := h.upload(c.token, f.c, ct, bytes.NewReader(body))
			if st != c.status || !bytes.Contains(b, []byte(fmt.Sprint(c.code))) {
				t.Fatalf("%s: %d %s", name, st, b)
			}
			waitBlobs(t, h, 1)
		}

		// The client goes away halfway through the second file.
		ct, body = multipartBody(`{"content":"x"}`, filePart{"files[0]", "a", "text/plain", fresh},
			filePart{"files[1]", "b", "text/plain", bytes.Repeat([]byte("e"), 3000)})
		pr, pw := io.Pipe()
		go func() {
			pw.Write(body[:len(body)-1500])
			time.Sleep(50 * time.Millisecond)
			pw.CloseWithError(errors.New("client gone"))
		}()
		if st, _ := h.upload(f.owner.Token, f.c, ct, pr); st == 200 {
			t.Fatal("a cut-off upload was accepted")
		}
		waitBlobs(t, h, 1)

		// The kept file is still served.
		var list []objects.Message
		st, b = h.do("GET", "/channels/"+f.c.String()+"/messages", f.owner.Token, nil)
		h.want(st, 200, b, &list)
		if len(list) != 1 || len(list[0].Attachments) != 1 {
			t.Fatalf("messages %s", b)
		}
		at := list[0].Attachments[0]
		resp := h.raw("GET", at.URL, "", nil)
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Equal(got, small) {
			t.Fatalf("kept file: %d %d bytes", resp.StatusCode, len(got))
		}
	})
}

// TestUploadsConcurrentSameBytes races a refused and an accepted upload of
// one file: whatever the order, the accepted message keeps its blob.
func TestUploadsConcurrentSameBytes(t *testing.T) {
	db := storagetest.Open(t, storagetest.Backends(t)[storage.SQLite])
	h := newHarness(t, db, func(c *testConfig) { c.MessagesPer10s = 1000 })
	f := newChat(h)
	for i := range 20 {
		data := []byte(fmt.Sprintf("race %d", i))
		done := make(chan int, 2)
		for _, content := range []string{"ok", strings.Repeat("x", 2001)} {
			go func() {
				ct, body := multipartBody(`{"content":"`+content+`"}`, filePart{"files[0]", "r.txt", "text/plain", data})
				st, _ := h.upload(f.owner.Token, f.c, ct, bytes.NewReader(body))
				done <- st
			}()
		}
		if st1, st2 := <-done, <-done; st1+st2 != 200+400 {
			t.Fatalf("round %d: statuses %d and %d", i, st1, st2)
		}
		f, _, err := h.blobs.Get(context.Background(), blob.Key(data))
		if err != nil {
			t.Fatalf("round %d: accepted file lost: %v", i, err)
		}
		f.Close()
	}
}

// TestDiscordgoFileSend uploads through discordgo's own multipart encoder.
func TestDiscordgoFileSend(t *testing.T) {
	db := storagetest.Open(t, storagetest.Backends(t)[storage.SQLite])
	h := newHarness(t, db)
	pointDiscordgo(t, h.srv.URL)
	f := newChat(h)
	s, _ := discordgo.New(f.owner.Token)
	img := testPNG(t, 5, 4)
	m, err := s.ChannelFileSend(f.c.String(), "pic.png", bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Attachments) != 1 || m.Attachments[0].Width != 5 || m.Attachments[0].Height != 4 || m.Attachments[0].Size != len(img) {
		t.Fatalf("attachments %+v", m.Attachments)
	}
	resp, err := h.srv.Client().Get(h.srv.URL + m.Attachments[0].URL)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, img) || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("served %d bytes as %s", len(got), resp.Header.Get("Content-Type"))
	}
}
