package p2p

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	"github.com/multiformats/go-multiaddr"
)

// Bootstrap timings and bounds.
const (
	// bootstrapEvery is how often a bootstrap peer the node is not
	// connected to is dialled again: often, so that a link that comes back
	// after a partition is used within seconds. It costs a dial attempt per
	// lost bootstrap peer and round, and nothing while connected.
	bootstrapEvery = 2 * time.Second
	cardTimeout    = 5 * time.Second
	maxCardBytes   = 64 << 10
	cardPath       = "/.well-known/concord/node"
)

// bootPeer is one entry of [federation] bootstrap: a multiaddr naming its
// peer, or the URL of a node whose node card names it.
type bootPeer struct {
	url string // "" for a multiaddr

	mu sync.Mutex
	ai peer.AddrInfo // for a URL: from the last card read
}

// ParseBootstrap checks one [federation] bootstrap entry: a multiaddr
// ending in /p2p/<peer ID>, or an http:// or https:// URL of a node.
func ParseBootstrap(s string) error {
	_, err := parseBootPeer(s)
	return err
}

func parseBootPeer(s string) (*bootPeer, error) {
	if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") {
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("%q is not a node's URL", s)
		}
		return &bootPeer{url: strings.TrimSuffix(u.String(), "/")}, nil
	}
	ai, err := peer.AddrInfoFromString(s)
	if err != nil {
		return nil, fmt.Errorf("%q is neither a node's URL nor a multiaddr ending in /p2p/<peer ID>: %w", s, err)
	}
	return &bootPeer{ai: *ai}, nil
}

func parseBootstrap(entries []string) ([]*bootPeer, error) {
	out := make([]*bootPeer, 0, len(entries))
	for _, s := range entries {
		b, err := parseBootPeer(s)
		if err != nil {
			return nil, fmt.Errorf("federation.bootstrap: %w", err)
		}
		out = append(out, b)
	}
	return out, nil
}

// known is the bootstrap peers whose IDs are known before any card is
// read: those given as multiaddrs.
func known(boot []*bootPeer) []peer.AddrInfo {
	var out []peer.AddrInfo
	for _, b := range boot {
		if b.url == "" {
			out = append(out, b.ai)
		}
	}
	return out
}

// keepBootstrap dials every bootstrap peer the node is not connected to,
// every bootstrapEvery, until ctx ends; a round waits for its dials.
func (h *Host) keepBootstrap(ctx context.Context, boot []*bootPeer) {
	t := time.NewTicker(bootstrapEvery)
	defer t.Stop()
	for {
		var wg sync.WaitGroup
		for _, b := range boot {
			b.mu.Lock()
			id := b.ai.ID
			b.mu.Unlock()
			if id != "" && h.Network().Connectedness(id) == network.Connected {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				h.reach(ctx, b)
			}()
		}
		wg.Wait()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// reach dials a bootstrap peer, reading its node card first if it is
// given by URL. The swarm's dial backoff, which grows to minutes after
// failures, is cleared: the node wants the link back as soon as it works.
func (h *Host) reach(ctx context.Context, b *bootPeer) {
	if b.url != "" {
		ai, err := readCard(ctx, b.url)
		if err != nil {
			h.log.Debug("federation: bootstrap node card", "url", b.url, "err", err)
			return
		}
		b.mu.Lock()
		b.ai = ai
		b.mu.Unlock()
	}
	b.mu.Lock()
	ai := b.ai
	b.mu.Unlock()
	if ai.ID == h.ID() {
		return
	}
	h.ConnManager().Protect(ai.ID, "bootstrap")
	if sw, ok := h.Network().(*swarm.Swarm); ok {
		sw.Backoff().Clear(ai.ID)
	}
	h.dial(ctx, ai, "bootstrap")
}

// readCard reads the node card at base (spec/federation.md, "Node card")
// and returns the peer and addresses it names.
func readCard(ctx context.Context, base string) (peer.AddrInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, cardTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+cardPath, nil)
	if err != nil {
		return peer.AddrInfo{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return peer.AddrInfo{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return peer.AddrInfo{}, fmt.Errorf("node card: %s", resp.Status)
	}
	var card struct {
		PeerID string   `json:"peer_id"`
		Addrs  []string `json:"addrs"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxCardBytes)).Decode(&card); err != nil {
		return peer.AddrInfo{}, fmt.Errorf("node card: %w", err)
	}
	id, err := peer.Decode(card.PeerID)
	if err != nil {
		return peer.AddrInfo{}, fmt.Errorf("node card: peer_id: %w", err)
	}
	ai := peer.AddrInfo{ID: id}
	for _, s := range card.Addrs {
		a, err := multiaddr.NewMultiaddr(s)
		if err != nil {
			continue
		}
		transport, last := peer.SplitAddr(a)
		if transport == nil || (last != "" && last != id) {
			continue // an address of some other peer
		}
		ai.Addrs = append(ai.Addrs, transport)
	}
	if len(ai.Addrs) == 0 {
		return peer.AddrInfo{}, fmt.Errorf("node card: no address of %s", id)
	}
	return ai, nil
}
