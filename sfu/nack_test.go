package sfu

import (
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/transport/v5/vnet"
)

// isRTP tells SRTP media from RTCP, DTLS and STUN on the wire (RFC 7983,
// RFC 5761).
func isRTP(b []byte) bool {
	return len(b) > 1 && b[0] >= 128 && b[0] <= 191 && !(b[1] >= 192 && b[1] <= 223)
}

// Every tenth media packet is lost from the publisher to the SFU and from
// the SFU to the viewer: the SFU asks the publisher again (NACK) and
// answers the viewer's NACKs from what it sent, so the viewer ends up
// with every packet.
func TestNACKRecoversLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	n := newTestNet(t, 10_000_000)
	var up, down, upLost, downLost atomic.Int64
	n.router.AddChunkFilter(func(c vnet.Chunk) bool {
		if !isRTP(c.UserData()) {
			return true
		}
		src := c.SourceAddr().(*net.UDPAddr).IP.String()
		dst := c.DestinationAddr().(*net.UDPAddr).IP.String()
		switch {
		case src == "198.51.100.2" && dst == "198.51.100.1":
			if up.Add(1)%10 == 5 {
				upLost.Add(1)
				return false
			}
		case src == "198.51.100.1" && dst == "198.51.100.3":
			if down.Add(1)%10 == 5 {
				downLost.Add(1)
				return false
			}
		}
		return true
	})
	viewer := n.cameraToViewer(t, nil, []int{300_000})
	waitFor(t, "video", 10*time.Second, func() bool { return len(viewer.got(2, "camera")) > 300 })
	ps := inOrder(viewer.got(2, "camera"))
	ps = ps[:len(ps)-50] // the last ones' retransmissions may be on their way
	for i := 1; i < len(ps); i++ {
		if d := ps[i].SequenceNumber - ps[i-1].SequenceNumber; d != 1 {
			t.Fatalf("packet %d of %d: sequence number %d after %d", i, len(ps), ps[i].SequenceNumber, ps[i-1].SequenceNumber)
		}
	}
	if upLost.Load() == 0 || downLost.Load() == 0 {
		t.Fatalf("lost %d packets on the way up and %d on the way down; want some of each", upLost.Load(), downLost.Load())
	}
	t.Logf("%d packets in order; %d lost on the way up and %d on the way down, all recovered", len(ps), upLost.Load(), downLost.Load())
}
