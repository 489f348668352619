package sfu

import (
	"cmp"
	"encoding/binary"
	"slices"
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/rtp"
	"github.com/pion/transport/v5/vnet"

	"concord/federation/snowflake"
)

// A virtual network for media: the SFU, a publisher and a viewer whose
// downlink is a token bucket. Addresses are from TEST-NET-2 and never
// leave the process.
type testNet struct {
	router           *vnet.Router
	sfu, pub, viewer *vnet.Net
	downlink         *vnet.TBFQueue
}

func newTestNet(t *testing.T, downBitrate int) *testNet {
	logs := logging.NewDefaultLoggerFactory()
	logs.DefaultLogLevel = logging.LogLevelDisabled
	router, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "198.51.100.0/24", LoggerFactory: logs})
	if err != nil {
		t.Fatal(err)
	}
	n := &testNet{router: router}
	mk := func(ip string) *vnet.Net {
		v, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{ip}})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	n.sfu, n.pub, n.viewer = mk("198.51.100.1"), mk("198.51.100.2"), mk("198.51.100.3")
	n.downlink = vnet.NewTBFQueue(downBitrate, 20_000, 50_000)
	q, err := vnet.NewQueue(n.viewer, n.downlink)
	if err != nil {
		t.Fatal(err)
	}
	for _, nic := range []vnet.NIC{n.sfu, n.pub, q} {
		if err := router.AddNet(nic); err != nil {
			t.Fatal(err)
		}
	}
	if err := router.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { router.Stop(); q.Close() })
	return n
}

// cameraToViewer publishes user 2's camera, sending rates (one layer per
// rid), from the publisher's address and connects user 3 from the
// viewer's, through an SFU on the test network tuned by tune.
func (n *testNet) cameraToViewer(t *testing.T, tune func(*Config), rates []int, rids ...string) *client {
	r := newRig(t, 3, func(c *Config) {
		c.Peer.Net, c.Peer.IPFilter, c.Peer.Loopback = n.sfu, nil, false
		if tune != nil {
			tune(c)
		}
	})
	pub := r.connectOn(t, 2, n.pub, false)
	cam := pub.addVideo("camera", rates, rids...)
	pub.negotiate()
	pub.waitConnected()
	cam.run()
	t.Cleanup(cam.close)
	viewer := r.connectOn(t, 3, n.viewer, true)
	viewer.waitConnected()
	return viewer
}

// connectOn is connect with the client's media on vn.
func (r *rig) connectOn(t *testing.T, user snowflake.ID, vn *vnet.Net, mic bool) *client {
	t.Helper()
	vs := r.join(t, user, testVoice)
	c := r.dial(t, user)
	c.api = newClientAPIOn(t, vn, true)
	c.identify(vs)
	c.wait(opReady)
	if mic {
		c.offer(true)
	}
	return c
}

func TestSimulcastFollowsBandwidth(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	// Layers of 150 kbps, 400 kbps and 1.2 Mbps; the viewer's link takes
	// 700 kbps. The estimate starts high (the top layer) and must come
	// down to what fits.
	n := newTestNet(t, 700_000)
	viewer := n.cameraToViewer(t, func(c *Config) { c.Peer.InitialBitrate = 2_000_000 },
		[]int{150_000, 400_000, 1_200_000}, "q", "h", "f")

	waitFor(t, "the viewer settles below the top layer", 20*time.Second, func() bool {
		ps := viewer.got(2, "camera")
		return len(ps) > 0 && ps[len(ps)-1].Payload[2] < 2 && len(ps) > 200
	})
	ps := inOrder(viewer.got(2, "camera"))
	seen := map[byte]bool{}
	for i, p := range ps {
		seen[p.Payload[2]] = true
		if i > 0 && p.Payload[2] != ps[i-1].Payload[2] {
			// The congested link may drop the keyframe's first packets
			// (and NACK not bring them back in time): then the receiver
			// sees the gap and asks for a keyframe. What the SFU must
			// never do is switch without one and leave no gap (the
			// exact rule is sfu/media's test).
			d := p.SequenceNumber - ps[i-1].SequenceNumber
			if d == 1 && p.Payload[1]&1 != 0 {
				t.Fatalf("packet %d: layer %d → %d without a keyframe or a gap", i, ps[i-1].Payload[2], p.Payload[2])
			}
			if d == 0 || d > 20 {
				t.Errorf("packet %d: sequence jumps by %d at the switch", i, d)
			}
		}
	}
	if !seen[2] {
		t.Errorf("never forwarded the top layer while the estimate allowed it: %v", seen)
	}
	t.Logf("layers seen %v over %d packets", seen, len(ps))

	// The link widens: the top layer must come back, and stay.
	n.downlink.SetRate(5_000_000)
	start := time.Now()
	waitFor(t, "the viewer back on the top layer for 2 s", 60*time.Second, func() bool {
		recent := 0
		for _, p := range viewer.got(2, "camera") {
			if sent := time.Unix(0, int64(binary.BigEndian.Uint64(p.Payload[3:]))); time.Since(sent) < 2*time.Second {
				if p.Payload[2] != 2 {
					return false
				}
				recent++
			}
		}
		return recent > 100
	})
	t.Logf("on the top layer for 2 s %v after the link widened", time.Since(start).Round(100*time.Millisecond))
}

// inOrder sorts packets by sequence number, as a receiver's jitter buffer
// would (retransmissions arrive late), dropping duplicates.
func inOrder(ps []*rtp.Packet) []*rtp.Packet {
	type ext struct {
		n int64
		p *rtp.Packet
	}
	var all []ext
	var n int64
	for i, p := range ps {
		if i > 0 {
			n += int64(int16(p.SequenceNumber - ps[i-1].SequenceNumber))
		}
		all = append(all, ext{n, p})
	}
	slices.SortStableFunc(all, func(a, b ext) int { return cmp.Compare(a.n, b.n) })
	var out []*rtp.Packet
	for i, e := range all {
		if i == 0 || e.n != all[i-1].n {
			out = append(out, e.p)
		}
	}
	return out
}
