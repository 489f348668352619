package peer

import (
	"strconv"
	"sync/atomic"

	"github.com/pion/interceptor/pkg/cc"

	"concord/sfu/media"
)

// budget shares a sending connection's bandwidth estimate among its
// tracks. Tracks read it under their own lock while forwarding, so it has
// none: its fields are atomic.
type budget struct {
	est          atomic.Pointer[cc.BandwidthEstimator]
	audio, video atomic.Int32
}

func (b *budget) set(e cc.BandwidthEstimator) { b.est.Store(&e) }

func (b *budget) count(k media.Kind, n int32) {
	if k == media.Video {
		b.video.Add(n)
	} else {
		b.audio.Add(n)
	}
}

// audioShare is what a connection keeps of its estimate for each audio
// track.
const audioShare = 64_000

// bitrate is one video track's share of the estimate; 0 before there is
// one.
func (b *budget) bitrate() uint64 {
	e := b.est.Load()
	if e == nil {
		return 0
	}
	total := uint64(max((*e).GetTargetBitrate(), 0))
	total -= min(total, uint64(b.audio.Load())*audioShare)
	return total / uint64(max(b.video.Load(), 1))
}

// newLocal makes t a track a connection sends in stream, sharing the
// connection's budget b.
func newLocal(t media.Track, b *budget, stream string) *Local {
	return &Local{track: t, budget: b, info: t.Info(), stream: stream}
}

// ownerStream is the stream ID clients receive a track in: its owner's
// user ID.
func ownerStream(t media.Track) string { return strconv.FormatUint(t.Info().Owner, 10) }
