package p2p

import (
	"context"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
)

// Discovery timings.
const (
	dialTimeout = 10 * time.Second
	mdnsService = "concord" // the DNS-SD service name nodes announce on a LAN
)

func (h *Host) dial(ctx context.Context, ai peer.AddrInfo, how string) {
	if ai.ID == h.ID() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	if err := h.Connect(ctx, ai); err != nil && ctx.Err() == nil {
		h.log.Debug("federation: dial failed", "peer", ai.ID, "via", how, "err", err)
	}
}

// mdnsFound dials the peers mDNS finds on the LAN.
type mdnsFound struct {
	ctx context.Context
	h   *Host
}

func (m mdnsFound) HandlePeerFound(ai peer.AddrInfo) {
	if m.h.Network().Connectedness(ai.ID) == network.Connected {
		return
	}
	m.h.wg.Add(1)
	go func() {
		defer m.h.wg.Done()
		m.h.dial(m.ctx, ai, "mdns")
	}()
}

func startMDNS(ctx context.Context, h *Host) (interface{ Close() error }, error) {
	s := mdns.NewMdnsService(h, mdnsService, mdnsFound{ctx: ctx, h: h})
	if err := s.Start(); err != nil {
		return nil, err
	}
	return s, nil
}
