package p2p

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	routedhost "github.com/libp2p/go-libp2p/p2p/host/routed"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	"github.com/multiformats/go-multiaddr"
	"github.com/prometheus/client_golang/prometheus"
)

// HostConfig is the [federation] section as the host needs it.
type HostConfig struct {
	Listen    []string // multiaddrs
	Bootstrap []string // multiaddrs ending in /p2p/<peer ID>, or nodes' URLs
	MDNS      bool
	// LowWater and HighWater bound the connection manager: above HighWater
	// it trims back to LowWater. 0 means the defaults below.
	LowWater, HighWater int
}

// Connection manager defaults; the resource manager's hard caps sit
// connSlack above the high-water mark, since the two do not know each
// other and the manager trims only after the fact.
const (
	// dhtPrefix keeps our Kademlia DHT apart from IPFS's: only peer
	// routing, no records or providers.
	dhtPrefix = "/concord"

	defaultLowWater  = 100
	defaultHighWater = 400
	connSlack        = 64
)

// Host is the node's libp2p host with its gater and discovery. Dialling a
// peer whose addresses it does not know asks the DHT.
type Host struct {
	host.Host
	base host.Host // the host without routing
	dht  *dht.IpfsDHT
	gate *Gate
	log  *slog.Logger

	stop context.CancelFunc
	wg   sync.WaitGroup
	mdns interface{ Close() error }
}

// NewHost starts a libp2p host with key as its identity, listening on
// cfg.Listen, and starts discovery: it dials the bootstrap peers (and again
// whenever it has lost them) and, with cfg.MDNS, finds peers on the LAN.
// Its metrics register on reg.
func NewHost(key crypto.PrivKey, cfg HostConfig, reg prometheus.Registerer, log *slog.Logger) (*Host, error) {
	low, high := cfg.LowWater, cfg.HighWater
	if low <= 0 {
		low = defaultLowWater
	}
	if high <= low {
		high = max(defaultHighWater, low+1)
	}
	boot, err := parseBootstrap(cfg.Bootstrap)
	if err != nil {
		return nil, err
	}
	cm, err := connmgr.NewConnManager(low, high, connmgr.WithGracePeriod(time.Minute))
	if err != nil {
		return nil, fmt.Errorf("connection manager: %w", err)
	}
	rm, err := newResourceManager(high + connSlack)
	if err != nil {
		return nil, fmt.Errorf("resource manager: %w", err)
	}
	gate := newGate()
	var built atomic.Pointer[host.Host] // the relay finder's candidates are its peers
	relays := func(ctx context.Context, num int) <-chan peer.AddrInfo {
		out := make(chan peer.AddrInfo, num)
		defer close(out)
		if h := built.Load(); h != nil {
			peers := (*h).Network().Peers()
			for _, p := range peers[:min(num, len(peers))] {
				out <- (*h).Peerstore().PeerInfo(p)
			}
		}
		return out
	}
	listen := libp2p.ListenAddrStrings(cfg.Listen...)
	if len(cfg.Listen) == 0 {
		listen = libp2p.NoListenAddrs // dial out only
	}
	h, err := libp2p.New(
		libp2p.Identity(key),
		listen,
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.ConnectionManager(cm),
		libp2p.ResourceManager(rm),
		libp2p.ConnectionGater(gate),
		libp2p.PrometheusRegisterer(reg),
		libp2p.UserAgent("concord"),
		// Behind NAT: map a port on the router (UPnP, NAT-PMP), learn
		// reachability from peers, punch holes, and failing that take a
		// relay reservation on a connected node; every node serves AutoNAT
		// and relays for others, within libp2p's relay limits.
		libp2p.NATPortMap(),
		libp2p.EnableNATService(),
		libp2p.EnableAutoNATv2(),
		libp2p.EnableHolePunching(),
		libp2p.EnableRelayService(),
		libp2p.EnableAutoRelayWithPeerSource(relays),
	)
	if err != nil {
		rm.Close()
		return nil, fmt.Errorf("libp2p host: %w", err)
	}
	built.Store(&h)
	ctx, cancel := context.WithCancel(context.Background())
	kad, err := dht.New(h, dht.Mode(dht.ModeServer), dht.ProtocolPrefix(dhtPrefix),
		dht.BootstrapPeers(known(boot)...), dht.DisableProviders(), dht.DisableValues())
	if err != nil {
		cancel()
		h.Close()
		return nil, fmt.Errorf("dht: %w", err)
	}
	hh := &Host{Host: routedhost.Wrap(h, kad), base: h, dht: kad, gate: gate, log: log, stop: cancel}
	gate.host = h
	if len(boot) > 0 {
		hh.wg.Add(1)
		go func() {
			defer hh.wg.Done()
			hh.keepBootstrap(ctx, boot)
		}()
	}
	if cfg.MDNS {
		if hh.mdns, err = startMDNS(ctx, hh); err != nil {
			hh.Close()
			return nil, fmt.Errorf("mdns: %w", err)
		}
	}
	return hh, nil
}

// newResourceManager scales libp2p's default limits to this machine and
// caps connections at maxConns.
func newResourceManager(maxConns int) (network.ResourceManager, error) {
	scaled := rcmgr.DefaultLimits.AutoScale()
	caps := rcmgr.PartialLimitConfig{System: rcmgr.ResourceLimits{
		Conns:         rcmgr.LimitVal(maxConns),
		ConnsInbound:  rcmgr.LimitVal(maxConns),
		ConnsOutbound: rcmgr.LimitVal(maxConns),
	}}
	return rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(caps.Build(scaled)))
}

// Gate is the host's connection gater.
func (h *Host) Gate() *Gate { return h.gate }

// FullAddrs is where other nodes reach this one: the listen addresses, each
// ending in /p2p/<peer ID>.
func (h *Host) FullAddrs() []string {
	suffix, err := multiaddr.NewMultiaddr("/p2p/" + h.ID().String())
	if err != nil {
		return nil
	}
	var out []string
	for _, a := range h.Addrs() {
		out = append(out, a.Encapsulate(suffix).String())
	}
	return out
}

// Close stops discovery, the DHT and the host.
func (h *Host) Close() error {
	h.stop()
	if h.mdns != nil {
		h.mdns.Close()
	}
	h.wg.Wait()
	h.dht.Close()
	return h.base.Close()
}
