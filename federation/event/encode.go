package event

import (
	"crypto/sha256"
	"encoding/base64"
	"strconv"

	"concord/federation/canonical"
)

// b64 is the only encoding of hashes, IDs and signatures: unpadded
// base64url, strict so that each value has exactly one spelling.
var b64 = base64.RawURLEncoding.Strict()

var idHashLen = b64.EncodedLen(sha256.Size)

// Marshal returns the canonical wire and storage form of e.
func Marshal(e *Event) []byte {
	return e.appendForm(e.buffer(), formWire)
}

// buffer returns an empty slice large enough for any form of e, so that
// building one costs one allocation.
func (e *Event) buffer() []byte {
	n := 640 + len(e.Content) + len(e.Unsigned) + 48*(len(e.PrevEvents)+len(e.AuthEvents))
	return make([]byte, 0, n)
}

// form selects which top-level fields appendForm writes.
type form int

const (
	formWire        form = iota // everything
	formSigned                  // redacted content, no signatures, no unsigned: the ID hash and signature input
	formContentHash             // no hashes, signatures or unsigned: the content hash input
)

// appendForm writes one of e's canonical forms. The envelope has a fixed key
// set, so its members are written in canonical order directly rather than
// canonicalising a generic value; formSigned writes the redacted content in
// place, without building a redacted copy of the event.
func (e *Event) appendForm(dst []byte, f form) []byte {
	dst = append(dst, `{"auth_events":`...)
	dst = appendIDs(dst, e.AuthEvents)
	dst = append(dst, `,"content":`...)
	if f == formSigned {
		dst = redactContent(dst, e.Type, e.Content)
	} else {
		dst = append(dst, e.Content...)
	}
	dst = append(dst, `,"depth":`...)
	dst = strconv.AppendInt(dst, e.Depth, 10)
	dst = append(dst, `,"guild_id":"`...)
	dst = strconv.AppendUint(dst, uint64(e.GuildID), 10)
	dst = append(dst, '"')
	if f != formContentHash {
		dst = append(dst, `,"hashes":{"sha256":"`...)
		dst = b64.AppendEncode(dst, e.ContentHash[:])
		dst = append(dst, `"}`...)
	}
	origin := e.OriginString()
	dst = append(dst, `,"origin":"`...)
	dst = append(dst, origin...)
	dst = append(dst, `","origin_ts":`...)
	dst = strconv.AppendInt(dst, e.OriginTS, 10)
	dst = append(dst, `,"prev_events":`...)
	dst = appendIDs(dst, e.PrevEvents)
	dst = append(dst, `,"sender":"`...)
	dst = strconv.AppendUint(dst, uint64(e.Sender), 10)
	dst = append(dst, '"')
	if f == formWire {
		dst = append(dst, `,"signatures":{"`...)
		dst = append(dst, origin...)
		dst = append(dst, `":"`...)
		dst = b64.AppendEncode(dst, e.Signature[:])
		dst = append(dst, `"}`...)
	}
	dst = append(dst, `,"type":`...)
	dst = canonical.AppendString(dst, e.Type)
	if f == formWire && e.Unsigned != nil {
		dst = append(dst, `,"unsigned":`...)
		dst = append(dst, e.Unsigned...)
	}
	return append(dst, '}')
}

func appendIDs(dst []byte, ids []string) []byte {
	dst = append(dst, '[')
	for i, id := range ids {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = append(dst, id...)
		dst = append(dst, '"')
	}
	return append(dst, ']')
}
