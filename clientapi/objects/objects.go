// Package objects is Discord's JSON objects as Concord renders them —
// users, guilds, roles, channels, members, messages, DM channels — and the
// reads from storage that fill them in. The REST routes (accounts, guilds)
// and the gateway's dispatches (dispatch) share it, so that an object looks
// the same wherever a client meets it.
//
// discordgo decodes strictly into typed structs: IDs and permissions are
// strings, flags, types and counts numbers, and lists are never null. Any
// package under clientapi may import this one; it imports none of them but
// httperr.
package objects

import (
	"slices"
	"time"

	"concord/federation/snowflake"
)

// ISOTime renders unix milliseconds as Discord's timestamps do.
func ISOTime(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000000+00:00")
}

// NonEmpty is nil for "", which Discord sends as null.
func NonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// NonZero is nil for a zero ID, which Discord sends as null.
func NonZero(id snowflake.ID) *snowflake.ID {
	if id == 0 {
		return nil
	}
	return &id
}

// OrEmpty copies list, never nil, so that it renders as [] rather than null.
func OrEmpty[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return slices.Clone(list)
}

// Int64Args turns IDs into query arguments.
func Int64Args(ids []snowflake.ID) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = int64(id)
	}
	return out
}

// Placeholders is ", ?" n times, to follow a first "?" in an IN list.
func Placeholders(n int) string {
	b := make([]byte, 0, 3*n)
	for range n {
		b = append(b, ", ?"...)
	}
	return string(b)
}

// IconHash is the Discord icon hash of a stored image key: its first 32 hex
// digits, as avatars use.
func IconHash(key string) string {
	if len(key) < 32 {
		return key
	}
	return key[:32]
}
