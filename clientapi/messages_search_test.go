package clientapi

import (
	"context"
	"fmt"
	"net/url"
	"testing"

	"concord/clientapi/objects"
	"concord/federation/guild"
	"concord/federation/perm"
	"concord/federation/snowflake"
	"concord/storage"
	"concord/storage/storagetest"
)

// searchResult is what GET /guilds/{id}/messages/search answers.
type searchResult struct {
	TotalResults int                 `json:"total_results"`
	Messages     [][]objects.Message `json:"messages"`
}

func TestMessageSearch(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := newHarness(t, db)
		f := newChat(h)
		owner, other := f.owner.UserID, f.other.UserID
		secret := h.core.NewID()
		name := "secret"
		h.sendAs(f.g, owner, guild.TypeChannelCreate, guild.ChannelCreate{ID: secret, Type: guild.ChannelText, ChannelFields: guild.ChannelFields{Name: &name}})
		h.sendAs(f.g, owner, guild.TypeChannelOverwrite, guild.ChannelOverwrite{ChannelID: secret,
			OverwriteFields: guild.OverwriteFields{ID: f.g, Type: perm.OverwriteRole, Deny: perm.ViewChannel}})
		post := func(ch, author snowflake.ID, content string, files ...guild.Attachment) snowflake.ID {
			id := h.core.NewID()
			h.sendAs(f.g, author, guild.TypeMessageCreate, guild.MessageCreate{ID: id, ChannelID: ch, Content: content, Attachments: files})
			return id
		}
		fox := post(f.c, owner, "The quick brown fox")
		lazy := post(f.c, other, "lazy dog sleeps quickly")
		link := post(f.c, other, "quick link https://example.com/x")
		post(secret, owner, "quick secret plans")
		pic := post(f.c, owner, "a quick picture", guild.Attachment{ID: h.core.NewID(), Filename: "p.png", Size: 1, ContentType: "image/png", Blob: "00"})

		search := func(token string, q url.Values) (int, searchResult, []byte) {
			st, b := h.do("GET", "/guilds/"+f.g.String()+"/messages/search?"+q.Encode(), token, nil)
			var r searchResult
			if st == 200 {
				h.want(st, 200, b, &r)
			}
			return st, r, b
		}
		ids := func(r searchResult) []snowflake.ID {
			var out []snowflake.ID
			for _, m := range r.Messages {
				out = append(out, m[0].ID)
			}
			return out
		}
		for _, c := range []struct {
			name  string
			token string
			q     url.Values
			want  []snowflake.ID
		}{
			{"word", f.other.Token, url.Values{"content": {"QUICK"}}, []snowflake.ID{pic, link, fox}},
			{"two words", f.other.Token, url.Values{"content": {"quick fox!"}}, []snowflake.ID{fox}},
			{"owner sees the secret channel", f.owner.Token, url.Values{"content": {"secret"}}, nil},
			{"member asks for the secret channel", f.other.Token, url.Values{"content": {"quick"}, "channel_id": {secret.String()}}, nil},
			{"author", f.other.Token, url.Values{"author_id": {other.String()}}, []snowflake.ID{link, lazy}},
			{"has link", f.other.Token, url.Values{"has": {"link"}}, []snowflake.ID{link}},
			{"has image", f.other.Token, url.Values{"has": {"image"}}, []snowflake.ID{pic}},
			{"has video", f.other.Token, url.Values{"has": {"video"}}, nil},
			{"before", f.other.Token, url.Values{"content": {"quick"}, "max_id": {link.String()}}, []snowflake.ID{fox}},
			{"after, ascending", f.other.Token, url.Values{"content": {"quick"}, "min_id": {fox.String()}, "sort_order": {"asc"}}, []snowflake.ID{link, pic}},
			{"page", f.other.Token, url.Values{"content": {"quick"}, "limit": {"1"}, "offset": {"1"}}, []snowflake.ID{link}},
			{"punctuation only", f.other.Token, url.Values{"content": {"?!"}}, nil},
		} {
			st, r, b := search(c.token, c.q)
			got := ids(r)
			if c.name == "owner sees the secret channel" {
				if st != 200 || len(got) != 1 || r.Messages[0][0].ChannelID != secret {
					t.Fatalf("%s: %d %s", c.name, st, b)
				}
				continue
			}
			if st != 200 || fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Fatalf("%s: %d got %v want %v; %s", c.name, st, got, c.want, b)
			}
		}
		if _, r, _ := search(f.other.Token, url.Values{"content": {"quick"}, "limit": {"1"}}); r.TotalResults != 3 || r.Messages[0][0].Author.ID != owner {
			t.Fatalf("total %+v", r)
		}

		// Deleted text leaves the index, not only the results.
		h.sendAs(f.g, other, guild.TypeMessageDelete, guild.MessageTarget{ID: lazy, ChannelID: f.c})
		if _, r, _ := search(f.other.Token, url.Values{"content": {"lazy"}}); len(r.Messages) != 0 || r.TotalResults != 0 {
			t.Fatalf("deleted message found: %+v", r)
		}
		var n int
		q := `SELECT COUNT(*) FROM messages_fts WHERE messages_fts MATCH 'lazy'`
		if db.Driver() == storage.Postgres {
			q = `SELECT COUNT(*) FROM messages WHERE content_tsv @@ plainto_tsquery('simple', 'lazy')`
		}
		if err := db.Reader().QueryRowContext(context.Background(), q).Scan(&n); err != nil || n != 0 {
			t.Fatalf("index still matches deleted text: %d %v", n, err)
		}

		for _, c := range []struct {
			token  string
			q      url.Values
			status int
			code   int
		}{
			{f.other.Token, url.Values{"limit": {"26"}}, 400, 50035},
			{f.other.Token, url.Values{"has": {"poll"}}, 400, 50035},
			{f.other.Token, url.Values{"author_id": {"me"}}, 400, 50035},
			{h.register("stranger").Token, url.Values{"content": {"quick"}}, 404, 10004},
		} {
			st, _, b := search(c.token, c.q)
			wantError(t, st, b, c.status, c.code)
		}
	})
}
