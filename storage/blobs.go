package storage

import (
	"context"
	"strings"
)

// blobColumns are the places a row names a blob key: a message's files, a
// user's avatar, a guild's icon, a role's icon, an emoji's image, a
// webhook's avatar, an application's icon, a recording's files and
// manifest. A new column that holds a blob key belongs here, or the blob
// sweep (storage/blob/sweep.go) deletes what it names.
var blobColumns = []struct{ table, column string }{
	{"message_attachments", "blob"},
	{"users", "avatar_blob"},
	{"guilds", "icon"},
	{"roles", "icon"},
	{"emojis", "image"},
	{"webhooks", "avatar"},
	{"applications", "icon"},
	{"recording_blobs", "blob"},
}

// BlobsInUse reports which of keys some row names. Keys are asked about
// as one list, each column answering from its index.
func (db *DB) BlobsInUse(ctx context.Context, keys []string) (map[string]bool, error) {
	used := map[string]bool{}
	if len(keys) == 0 {
		return used, nil
	}
	var q strings.Builder
	q.WriteString(`WITH k (key) AS (VALUES (?)`)
	q.WriteString(strings.Repeat(`, (?)`, len(keys)-1))
	q.WriteString(`) SELECT key FROM k WHERE `)
	for i, c := range blobColumns {
		if i > 0 {
			q.WriteString(` OR `)
		}
		q.WriteString(`EXISTS (SELECT 1 FROM ` + c.table + ` WHERE ` + c.column + ` = k.key)`)
	}
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = k
	}
	rows, err := db.Reader().QueryContext(ctx, q.String(), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		used[k] = true
	}
	return used, rows.Err()
}
