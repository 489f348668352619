package peer

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// description is an SDP of n audio sections, each repeating the same two
// candidates as some browsers do, padded to at least size bytes.
func description(n, size int) string {
	var b strings.Builder
	b.WriteString("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n")
	for i := range n {
		fmt.Fprintf(&b, "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:%d\r\na=rtpmap:111 opus/48000/2\r\n", i)
		b.WriteString("a=candidate:1 1 udp 2130706431 192.0.2.1 50000 typ host\r\n")
		b.WriteString("a=candidate:2 1 udp 1694498815 198.51.100.1 50000 typ srflx raddr 192.0.2.1 rport 50000\r\n")
	}
	for b.Len() < size {
		b.WriteString("a=x-padding:0123456789012345678901234567890123456789\r\n")
	}
	return b.String()
}

func TestCheckSDPLimits(t *testing.T) {
	for _, tt := range []struct {
		name  string
		sdp   string
		offer bool
		lim   sdpLimits
		ok    bool
	}{
		{"an answer for a channel of 150", description(150, 0), false, answerLimits, true},
		{"an offer of 150 sections", description(150, 0), true, offerLimits, false},
		{"an offer of 16 sections", description(16, 0), true, offerLimits, true},
		{"an offer over 64 KiB", description(1, MaxSDP+1), true, offerLimits, false},
		{"an answer over 256 KiB", description(1, MaxAnswer+1), false, answerLimits, false},
		{"a relay's offer of 400 sections", description(400, 0), true, relayLimits, true},
		{"a relay's offer over 1 MiB", description(1, MaxRelaySDP+1), true, relayLimits, false},
		{"a relay's offer of 1,025 sections", description(MaxRelayMedia+1, 0), true, relayLimits, false},
	} {
		err := checkSDP(tt.sdp, tt.offer, tt.lim)
		if (err == nil) != tt.ok || err != nil && !errors.Is(err, ErrSDP) {
			t.Errorf("%s (%d bytes): %v, want ok %v", tt.name, len(tt.sdp), err, tt.ok)
		}
	}
}
