package p2p

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"concord/federation/snowflake"
)

// ProtoFile fetches the bytes of a file from a node that holds them
// (spec/federation.md, "Files"): a message's file, an image of a room's
// state (guild icon, role icon, emoji), or a user's avatar. Events and
// profiles name a file by the SHA-256 of its bytes, and only the node it
// was uploaded to has them at first.
const ProtoFile protocol.ID = "/concord/file/1"

// File bounds.
const (
	maxFileSize  = 1 << 30  // bytes of one file, whatever its event claims
	maxImageSize = 10 << 20 // bytes of an icon, emoji or avatar
	fileDeadline = 2 * time.Minute
	fileTries    = 3 // peers asked for one file before giving up
)

// Files is the node's file store as federation serves it.
type Files interface {
	// Open opens the file of key if a message of the room that is not
	// deleted or hidden names it, or the room's guild icon, a role icon
	// or an emoji is that file; the caller closes it.
	Open(ctx context.Context, room snowflake.ID, key string) (io.ReadCloser, int64, error)
	// Avatar opens the file of key if it is the avatar of user, a user
	// of this node; the caller closes it.
	Avatar(ctx context.Context, user snowflake.ID, key string) (io.ReadCloser, int64, error)
}

// fileReq asks for the bytes of one file of a room, or of a user's
// avatar when UserID is set (GuildID is then 0).
type fileReq struct {
	GuildID snowflake.ID `json:"guild_id,omitzero"`
	UserID  snowflake.ID `json:"user_id,omitzero"`
	Blob    string       `json:"blob"`
}

// fileHead precedes the bytes of a file: then exactly Size bytes follow.
type fileHead struct {
	Size int64 `json:"size"`
}

var errNoFile = errors.New("no peer sent the file")

// isFileKey reports whether key names a file: 64 lower-case hex digits.
func isFileKey(key string) bool {
	if len(key) != sha256.Size*2 {
		return false
	}
	_, err := hex.DecodeString(key)
	return err == nil && strings.ToLower(key) == key
}

// serveFile answers ProtoFile for a member node of the room: a frame with
// the size, then the bytes.
func (f *Federation) serveFile(s network.Stream, req *fileReq) error {
	if f.cfg.Files == nil {
		return errors.New("no files served here")
	}
	ctx, cancel := context.WithTimeout(f.ctx, fileDeadline)
	defer cancel()
	var r io.ReadCloser
	var size int64
	var err error
	if req.UserID != 0 {
		// Avatars are public, as on Discord's CDN.
		r, size, err = f.cfg.Files.Avatar(ctx, req.UserID, req.Blob)
	} else if !f.shares(ctx, req.GuildID, s.Conn().RemotePeer()) {
		return errNotShared
	} else {
		r, size, err = f.cfg.Files.Open(ctx, req.GuildID, req.Blob)
	}
	if err != nil {
		return err
	}
	defer r.Close()
	if err := writeFrame(s, fileHead{Size: size}); err != nil {
		return err
	}
	_, err = io.CopyN(s, r, size)
	return err
}

// FetchFile writes to w the file of key that a message of the room names,
// size bytes long, from the first of the room's peers (or, failing those,
// other connected peers) that sends bytes whose SHA-256 is key. w may have
// received a failed try's bytes: the caller starts afresh on an error.
func (f *Federation) FetchFile(ctx context.Context, room snowflake.ID, key string, size int64, w io.WriterAt) error {
	if size < 0 || size > maxFileSize {
		return fmt.Errorf("file of %d bytes: at most %d", size, maxFileSize)
	}
	_, err := f.fetchFromRoom(ctx, fileReq{GuildID: room, Blob: key}, size, w)
	return err
}

// FetchImage writes to w the image of key that the room's state names (its
// guild icon, a role icon, an emoji), from the room's peers as FetchFile
// does, and returns its size: at most 10 MiB.
func (f *Federation) FetchImage(ctx context.Context, room snowflake.ID, key string, w io.WriterAt) (int64, error) {
	return f.fetchFromRoom(ctx, fileReq{GuildID: room, Blob: key}, -1, w)
}

// FetchAvatar writes to w the avatar of key of user, whose home node is
// home, and returns its size: at most 10 MiB.
func (f *Federation) FetchAvatar(ctx context.Context, home string, user snowflake.ID, key string, w io.WriterAt) (int64, error) {
	p, err := peer.Decode(home)
	if err != nil {
		return 0, fmt.Errorf("home node %q: %w", home, err)
	}
	return f.fetchFileFrom(ctx, p, fileReq{UserID: user, Blob: key}, -1, w)
}

// fetchFromRoom asks the room's peers (or, failing those, other connected
// peers) in turn for a file, size bytes or, when size is negative, an
// image of at most maxImageSize.
func (f *Federation) fetchFromRoom(ctx context.Context, req fileReq, size int64, w io.WriterAt) (int64, error) {
	var topic []peer.ID
	if t := f.lookup(req.GuildID); t != nil {
		topic = t.t.ListPeers()
	}
	errs := []error{errNoFile}
	for _, p := range firstOf(topic, f.host.Network().Peers(), fileTries) {
		n, err := f.fetchFileFrom(ctx, p, req, size, w)
		if err == nil {
			return n, nil
		}
		errs = append(errs, err)
	}
	return 0, errors.Join(errs...)
}

// firstOf is up to n peers: those of topic first, then other connected
// ones.
func firstOf(topic, connected []peer.ID, n int) []peer.ID {
	out := slices.Clone(topic)
	for _, p := range connected {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out[:min(len(out), n)]
}

// fetchFileFrom asks p for one file and checks its length (size, or at
// most maxImageSize when size is negative) and hash; it returns the
// length.
func (f *Federation) fetchFileFrom(ctx context.Context, p peer.ID, req fileReq, size int64, w io.WriterAt) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, fileDeadline)
	defer cancel()
	s, err := f.host.NewStream(ctx, p, ProtoFile)
	if err != nil {
		return 0, fmt.Errorf("%s to %s: %w", ProtoFile, p, err)
	}
	defer s.Close()
	if d, ok := ctx.Deadline(); ok {
		s.SetDeadline(d)
	}
	if err := writeFrame(s, req); err != nil {
		s.Reset()
		return 0, err
	}
	s.CloseWrite()
	br := bufio.NewReader(s)
	var head fileHead
	if err := readFrame(br, maxRequest, &head); err != nil {
		s.Reset()
		return 0, fmt.Errorf("%s from %s: %w", ProtoFile, p, err)
	}
	if size >= 0 && head.Size != size {
		s.Reset()
		return 0, fmt.Errorf("%s from %s: %d bytes, the message says %d", ProtoFile, p, head.Size, size)
	}
	if size < 0 && (head.Size < 0 || head.Size > maxImageSize) {
		s.Reset()
		return 0, fmt.Errorf("%s from %s: an image of %d bytes, at most %d", ProtoFile, p, head.Size, maxImageSize)
	}
	h := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(io.NewOffsetWriter(w, 0), h), br, head.Size); err != nil {
		s.Reset()
		return 0, fmt.Errorf("%s from %s: %w", ProtoFile, p, err)
	}
	if hex.EncodeToString(h.Sum(nil)) != req.Blob {
		return 0, fmt.Errorf("%s from %s: the bytes are not the file asked for", ProtoFile, p)
	}
	return head.Size, nil
}
