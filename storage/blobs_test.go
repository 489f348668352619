package storage_test

import (
	"context"
	"fmt"
	"testing"

	"concord/storage"
	"concord/storage/storagetest"
)

// Every column that names a blob keeps it in use, a message's files stop
// naming theirs when the message is erased, and message_attachments knows
// each file's sender and size.
func TestBlobsInUse(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		key := func(n int) string { return fmt.Sprintf("%064x", n) }
		stmts := []string{
			`INSERT INTO users (id, username, created_at, avatar_blob) VALUES (1, 'u', 0, '` + key(1) + `')`,
			`INSERT INTO guilds (id, kind, name, icon, description, owner_id, verification_level, default_message_notifications,
				explicit_content_filter, system_channel_id, afk_channel_id, afk_timeout, deleted, created_by)
				VALUES (2, 'guild', 'g', '` + key(2) + `', '', 1, 0, 0, 0, 0, 0, 0, FALSE, 1)`,
			`INSERT INTO roles (guild_id, id, name, color, hoist, mentionable, permissions, position, icon, unicode_emoji)
				VALUES (2, 3, 'r', 0, FALSE, FALSE, 0, 0, '` + key(3) + `', '')`,
			`INSERT INTO emojis (guild_id, id, name, animated, image, roles, creator_id) VALUES (2, 4, 'e', FALSE, '` + key(4) + `', '[]', 1)`,
			`INSERT INTO webhooks (guild_id, id, channel_id, name, avatar, creator_id, application_id, origin)
				VALUES (2, 5, 6, 'w', '` + key(5) + `', 1, 0, '')`,
			`INSERT INTO applications (id, owner_id, name, icon, created_at) VALUES (1, 1, 'a', '` + key(6) + `', 0)`,
			`INSERT INTO recordings (guild_id, channel_id, started_by, started_at) VALUES (2, 6, 1, 0)`,
			`INSERT INTO recording_blobs (recording_id, blob, size) VALUES ((SELECT MAX(id) FROM recordings), '` + key(7) + `', 10)`,
			`INSERT INTO messages (guild_id, id, channel_id, author_id, event_id, depth, created_at, content, embeds, attachments,
				mentions, mention_roles, mention_everyone, tts, flags, nonce, reference_id, edited_at, edit_order, pinned,
				pin_order, pinned_at, hidden, deleted)
				VALUES (2, 9, 6, 1, 'ev', 1, 0, '', '[]', '[{"id":"10","size":123,"blob":"` + key(8) + `"},{"id":"11","size":7,"blob":"` + key(8) + `"}]',
				'[]', '[]', FALSE, FALSE, 0, '', 0, 0, '', FALSE, '', 0, FALSE, FALSE)`,
		}
		err := db.Write(ctx, func(q storage.Querier) error {
			for _, s := range stmts {
				if _, err := q.ExecContext(ctx, s); err != nil {
					return fmt.Errorf("%s: %w", s, err)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for n := 1; n <= 9; n++ {
			keys = append(keys, key(n))
		}
		used, err := db.BlobsInUse(ctx, keys)
		if err != nil {
			t.Fatal(err)
		}
		for n := 1; n <= 9; n++ {
			if want := n <= 8; used[key(n)] != want {
				t.Errorf("key %d: in use %v, want %v", n, used[key(n)], want)
			}
		}
		var bytes int64
		if err := db.Reader().QueryRowContext(ctx, `SELECT SUM(size) FROM message_attachments WHERE author_id = 1`).Scan(&bytes); err != nil || bytes != 130 {
			t.Fatalf("author 1's files: %d bytes, %v", bytes, err)
		}

		// Erasing the message (as federation/room does) frees its file.
		if err := db.Write(ctx, func(q storage.Querier) error {
			_, err := q.ExecContext(ctx, `UPDATE messages SET deleted = TRUE, attachments = '[]' WHERE guild_id = 2 AND id = 9`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if used, err = db.BlobsInUse(ctx, []string{key(8), key(1)}); err != nil || used[key(8)] || !used[key(1)] {
			t.Fatalf("after erasing: %v %v", used, err)
		}
	})
}
