package guilds

import (
	"bytes"
	"net/http/httptest"
	"testing"

	"concord/federation/snowflake"
)

// FuzzMessageBody feeds message bodies, JSON or multipart, through the
// decoders a send uses: whatever comes in, they answer or refuse without
// panicking, hold no upload afterwards, and what they accept builds a
// message.create.
func FuzzMessageBody(f *testing.F) {
	const boundary = "fuzzboundary"
	for _, seed := range []struct {
		multipart bool
		body      string
	}{
		{false, `{"content":"hi","embeds":[{"title":"t","url":"https://example.org","fields":[{"name":"a","value":"b"}]}]}`},
		{false, `{"content":"a","allowed_mentions":{"parse":["users"]},"message_reference":{"message_id":"1"},"nonce":"x"}`},
		{false, "{\"content\":\"\xff\"}"},
		{true, "--" + boundary + "\r\nContent-Disposition: form-data; name=\"payload_json\"\r\n\r\n{\"content\":\"x\"}\r\n--" + boundary +
			"\r\nContent-Disposition: form-data; name=\"files[0]\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\nPNG\r\n--" + boundary + "--\r\n"},
		{true, "--" + boundary + "\r\nContent-Disposition: form-data; name=\"content\"\r\n\r\nplain\r\n--" + boundary + "--\r\n"},
	} {
		f.Add(seed.multipart, []byte(seed.body))
	}
	u, _ := testUploads(f)
	u.maxFile = 1 << 20
	a := &API{uploads: u, ids: snowflake.NewGenerator(1)}
	f.Fuzz(func(t *testing.T, multipart bool, body []byte) {
		r := httptest.NewRequest("POST", "/channels/1/messages", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		if multipart {
			r.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
		}
		b, files, err := a.readMessageBody(r, 1)
		if err != nil {
			if len(files) != 0 {
				t.Fatalf("refused with %d files held", len(files))
			}
			return
		}
		b.create(1, files)
		a.releaseUploads(files, false)
		u.mu.Lock()
		held := len(u.holds)
		u.mu.Unlock()
		if held != 0 {
			t.Fatalf("%d uploads held after release", held)
		}
	})
}
