package p2p

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// Stream protocols (spec/federation.md, "Streams"). Each stream carries one
// request frame and one response frame; a frame is its length as an
// unsigned varint, then that many bytes of JSON.
const (
	ProtoHeads   protocol.ID = "/concord/heads/1"
	ProtoMissing protocol.ID = "/concord/missing/1"
	ProtoInvite  protocol.ID = "/concord/invite/1"
	ProtoJoin    protocol.ID = "/concord/join/2"
	ProtoSend    protocol.ID = "/concord/send/1"
	ProtoProfile protocol.ID = "/concord/profile/1"
)

// Bounds every stream keeps (spec/federation.md, "Limits").
const (
	maxRequest     = 64 << 10 // bytes of a request frame: the largest is a send of one event
	maxResponse    = 8 << 20  // bytes of a response frame
	streamDeadline = 15 * time.Second
	maxHeads       = 1000 // extremities in a heads answer
	maxMissingIDs  = 100  // latest or earliest IDs in a missing request
	maxMissing     = 100  // events in a missing answer
	maxJoinPage    = 2000 // entries in a join answer
	pageBytes      = 4 << 20
	maxInbound     = 32 // streams of one protocol served at once
)

var errFrameTooLarge = errors.New("frame too large")

// writeFrame writes v as one frame.
func writeFrame(w io.Writer, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	buf := binary.AppendUvarint(make([]byte, 0, len(body)+binary.MaxVarintLen64), uint64(len(body)))
	_, err = w.Write(append(buf, body...))
	return err
}

// readFrame reads one frame of at most limit bytes into v.
func readFrame(r *bufio.Reader, limit int, v any) error {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return err
	}
	if n > uint64(limit) {
		return fmt.Errorf("%w: %d bytes, at most %d", errFrameTooLarge, n, limit)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return err
	}
	return json.Unmarshal(body, v)
}

// serve runs handle for each inbound stream of proto, at most maxInbound
// at once (a stream beyond that is reset), with the stream's deadline set
// and its request read before handle runs: handle answers it.
func serve[Req any](f *Federation, proto protocol.ID, handle func(s network.Stream, req *Req) (any, error)) {
	serveLimit(f, proto, maxRequest, handle)
}

// serveLimit is serve with requests of up to limit bytes.
func serveLimit[Req any](f *Federation, proto protocol.ID, limit int, handle func(s network.Stream, req *Req) (any, error)) {
	serveRaw(f, proto, limit, streamDeadline, func(s network.Stream, req *Req) error {
		resp, err := handle(s, req)
		if err == nil {
			err = writeFrame(s, resp)
		}
		return err
	})
}

// serveRaw runs handle for each inbound stream of proto, at most
// maxInbound at once (a stream beyond that is reset), with the stream's
// deadline set and its request read: handle writes the answer. A stream
// handle fails is reset, else closed.
func serveRaw[Req any](f *Federation, proto protocol.ID, limit int, deadline time.Duration, handle func(s network.Stream, req *Req) error) {
	slots := make(chan struct{}, maxInbound)
	f.host.SetStreamHandler(proto, func(s network.Stream) {
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
		default:
			f.metrics.streamsRefused.WithLabelValues(string(proto)).Inc()
			s.Reset()
			return
		}
		s.SetDeadline(time.Now().Add(deadline))
		var req Req
		if err := readFrame(bufio.NewReader(s), limit, &req); err != nil {
			f.log.Debug("federation: bad request", "proto", proto, "peer", s.Conn().RemotePeer(), "err", err)
			s.Reset()
			return
		}
		if err := handle(s, &req); err != nil {
			f.log.Debug("federation: refused", "proto", proto, "peer", s.Conn().RemotePeer(), "err", err)
			s.Reset()
			return
		}
		s.Close()
	})
}

// call sends req to p over proto and reads its answer into resp. A peer
// that is connected but does not answer in time is disconnected: its
// connection is most likely dead (a cut link leaves it open for as long
// as keep-alives take to notice), and the next call dials afresh.
func (f *Federation) call(outer context.Context, p peer.ID, proto protocol.ID, req, resp any) error {
	ctx, cancel := context.WithTimeout(outer, streamDeadline)
	defer cancel()
	err := f.exchange(ctx, p, proto, req, resp)
	if err != nil && ctx.Err() != nil && outer.Err() == nil && f.host.Network().Connectedness(p) == network.Connected {
		f.log.Info("federation: closing the connections of a peer that does not answer", "peer", p, "proto", proto)
		f.metrics.reconnects.WithLabelValues("unresponsive").Inc()
		f.host.Network().ClosePeer(p)
	}
	return err
}

// exchange is call's one request and answer.
func (f *Federation) exchange(ctx context.Context, p peer.ID, proto protocol.ID, req, resp any) error {
	s, err := f.host.NewStream(ctx, p, proto)
	if err != nil {
		return fmt.Errorf("%s to %s: %w", proto, p, err)
	}
	defer s.Close()
	if d, ok := ctx.Deadline(); ok {
		s.SetDeadline(d)
	}
	if err := writeFrame(s, req); err != nil {
		s.Reset()
		return fmt.Errorf("%s to %s: %w", proto, p, err)
	}
	s.CloseWrite()
	if err := readFrame(bufio.NewReader(s), maxResponse, resp); err != nil {
		s.Reset()
		return fmt.Errorf("%s from %s: %w", proto, p, err)
	}
	return nil
}
