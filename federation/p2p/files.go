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
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"concord/federation/snowflake"
)

// ProtoFile fetches the bytes of a message's file from a node that holds
// them (spec/federation.md, "Files"): events name a file by the SHA-256
// of its bytes, and only the node it was uploaded to has them at first.
const ProtoFile protocol.ID = "/concord/file/1"

// File bounds.
const (
	maxFileSize  = 1 << 30 // bytes of one file, whatever its event claims
	fileDeadline = 2 * time.Minute
	fileTries    = 3 // peers asked for one file before giving up
)

// Files is the node's file store as federation serves it.
type Files interface {
	// Open opens the file of key if a message of the room that is not
	// deleted or hidden names it; the caller closes it.
	Open(ctx context.Context, room snowflake.ID, key string) (io.ReadCloser, int64, error)
}

// fileReq asks for the bytes of one file of a room.
type fileReq struct {
	GuildID snowflake.ID `json:"guild_id"`
	Blob    string       `json:"blob"`
}

// fileHead precedes the bytes of a file: then exactly Size bytes follow.
type fileHead struct {
	Size int64 `json:"size"`
}

var errNoFile = errors.New("no peer sent the file")

// serveFile answers ProtoFile for a member node of the room: a frame with
// the size, then the bytes.
func (f *Federation) serveFile(s network.Stream, req *fileReq) error {
	if f.cfg.Files == nil {
		return errors.New("no files served here")
	}
	ctx, cancel := context.WithTimeout(f.ctx, fileDeadline)
	defer cancel()
	if !f.shares(ctx, req.GuildID, s.Conn().RemotePeer()) {
		return errNotShared
	}
	r, size, err := f.cfg.Files.Open(ctx, req.GuildID, req.Blob)
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
	var topic []peer.ID
	if t := f.lookup(room); t != nil {
		topic = t.t.ListPeers()
	}
	errs := []error{errNoFile}
	for _, p := range firstOf(topic, f.host.Network().Peers(), fileTries) {
		err := f.fetchFileFrom(ctx, p, room, key, size, w)
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
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

// fetchFileFrom asks p for one file and checks its length and hash.
func (f *Federation) fetchFileFrom(ctx context.Context, p peer.ID, room snowflake.ID, key string, size int64, w io.WriterAt) error {
	ctx, cancel := context.WithTimeout(ctx, fileDeadline)
	defer cancel()
	s, err := f.host.NewStream(ctx, p, ProtoFile)
	if err != nil {
		return fmt.Errorf("%s to %s: %w", ProtoFile, p, err)
	}
	defer s.Close()
	if d, ok := ctx.Deadline(); ok {
		s.SetDeadline(d)
	}
	if err := writeFrame(s, fileReq{GuildID: room, Blob: key}); err != nil {
		s.Reset()
		return err
	}
	s.CloseWrite()
	br := bufio.NewReader(s)
	var head fileHead
	if err := readFrame(br, maxRequest, &head); err != nil {
		s.Reset()
		return fmt.Errorf("%s from %s: %w", ProtoFile, p, err)
	}
	if head.Size != size {
		s.Reset()
		return fmt.Errorf("%s from %s: %d bytes, the message says %d", ProtoFile, p, head.Size, size)
	}
	h := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(io.NewOffsetWriter(w, 0), h), br, size); err != nil {
		s.Reset()
		return fmt.Errorf("%s from %s: %w", ProtoFile, p, err)
	}
	if hex.EncodeToString(h.Sum(nil)) != key {
		return fmt.Errorf("%s from %s: the bytes are not the file asked for", ProtoFile, p)
	}
	return nil
}
