// Package peer is the SFU's WebRTC endpoint on pion: an Up connection
// receives what a client publishes and turns each received track into a
// media.Track; a Down connection sends the tracks a client subscribes to,
// as media.Sinks. A client holds one of each, so that the client offers
// what it sends and the server offers what it sends, and neither waits for
// the other's renegotiation (no glare). Only the sfu packages import it.
package peer

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/logging"
	"github.com/pion/sdp/v3"
	"github.com/pion/transport/v5"
	"github.com/pion/webrtc/v4"
)

// Config is the media transport of every connection.
type Config struct {
	PortMin, PortMax uint16 // UDP ports, one per connection; ignored with MuxPorts
	// MuxPorts are UDP ports that all connections share (ICE demultiplexes
	// them); one per core spreads the load.
	MuxPorts []int
	// Rewrite maps the node's addresses to those clients reach (NAT).
	Rewrite []webrtc.ICEAddressRewriteRule
	// Loopback lets candidates on loopback addresses through: for tests
	// and a node on one machine.
	Loopback bool
	IPFilter func(net.IP) bool // nil: all addresses
	Net      transport.Net     // nil: the system's; pion's vnet in tests
	// InitialBitrate is a Down connection's bandwidth estimate before
	// feedback, bits/s: 1 Mbps (the middle simulcast layer) when zero.
	// MaxBitrate caps it; zero leaves it to the estimator.
	InitialBitrate, MaxBitrate int
}

// API builds connections. It owns the muxed UDP sockets, if any.
type API struct {
	cfg     Config
	setting webrtc.SettingEngine
	mux     ice.UDPMux
	log     logging.LoggerFactory
}

// Header extensions the SFU reads or writes.
const (
	audioLevelURI = sdp.AudioLevelURI
	twccURI       = sdp.TransportCCURI
)

// NewAPI prepares connections with cfg, binding the muxed ports.
func NewAPI(cfg Config) (*API, error) {
	a := &API{cfg: cfg, log: logging.NewDefaultLoggerFactory()}
	a.log.(*logging.DefaultLoggerFactory).DefaultLogLevel = logging.LogLevelError
	s := webrtc.SettingEngine{LoggerFactory: a.log}
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	s.SetIncludeLoopbackCandidate(cfg.Loopback)
	s.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	if cfg.IPFilter != nil {
		s.SetIPFilter(cfg.IPFilter)
	}
	if cfg.Net != nil {
		s.SetNet(cfg.Net)
	}
	if len(cfg.Rewrite) > 0 {
		if err := s.SetICEAddressRewriteRules(cfg.Rewrite...); err != nil {
			return nil, fmt.Errorf("address rewrite rules: %w", err)
		}
	}
	switch {
	case len(cfg.MuxPorts) > 0:
		var muxes []ice.UDPMux
		for _, port := range cfg.MuxPorts {
			m, err := ice.NewMultiUDPMuxFromPort(port, ice.UDPMuxFromPortWithLoopback(), ice.UDPMuxFromPortWithNetworks(ice.NetworkTypeUDP4))
			if err != nil {
				for _, m := range muxes {
					m.Close()
				}
				return nil, fmt.Errorf("udp port %d: %w", port, err)
			}
			muxes = append(muxes, m)
		}
		a.mux = ice.NewMultiUDPMuxDefault(muxes...)
		s.SetICEUDPMux(a.mux)
	case cfg.PortMin != 0:
		if err := s.SetEphemeralUDPPortRange(cfg.PortMin, cfg.PortMax); err != nil {
			return nil, fmt.Errorf("udp ports: %w", err)
		}
	}
	a.setting = s
	return a, nil
}

// Close releases the muxed ports. Connections must be closed first.
func (a *API) Close() error {
	if a.mux != nil {
		return a.mux.Close()
	}
	return nil
}

// Codecs the SFU forwards, with the payload types it offers. Audio is Opus
// only; video is VP8, VP9 or H.264 (what browsers and OBS send).
var codecs = []webrtc.RTPCodecParameters{
	{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
		SDPFmtpLine: "minptime=10;useinbandfec=1"}, PayloadType: 111},
	{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, PayloadType: 96},
	{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP9, ClockRate: 90000,
		SDPFmtpLine: "profile-id=0"}, PayloadType: 98},
	h264("42e01f", 102), // constrained baseline: browsers
	h264("42001f", 104), // baseline
	h264("4d001f", 106), // main
	h264("64001f", 108), // high: OBS's x264 default
}

func h264(profile string, pt webrtc.PayloadType) webrtc.RTPCodecParameters {
	return webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264,
		ClockRate: 90000, SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=" + profile},
		PayloadType: pt}
}

var videoFeedback = []webrtc.RTCPFeedback{{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"},
	{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: webrtc.TypeRTCPFBTransportCC}}

// newPC builds one PeerConnection with its own interceptors; estimate, if
// not nil, receives the send-side bandwidth estimator (GCC) of a
// connection that sends.
func (a *API) newPC(estimate func(cc.BandwidthEstimator)) (*webrtc.PeerConnection, error) {
	m := &webrtc.MediaEngine{}
	for _, c := range codecs {
		kind := webrtc.RTPCodecTypeVideo
		if c.MimeType == webrtc.MimeTypeOpus {
			kind = webrtc.RTPCodecTypeAudio
			c.RTCPFeedback = []webrtc.RTCPFeedback{{Type: webrtc.TypeRTCPFBTransportCC}}
		} else {
			c.RTCPFeedback = videoFeedback
		}
		if err := m.RegisterCodec(c, kind); err != nil {
			return nil, err
		}
	}
	if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: audioLevelURI}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	// pion's defaults less its stats interceptor, which costs on every
	// packet and which nothing here reads.
	reg := &interceptor.Registry{}
	if err := webrtc.ConfigureNack(m, reg); err != nil {
		return nil, err
	}
	if err := webrtc.ConfigureRTCPReports(reg); err != nil {
		return nil, err
	}
	if err := webrtc.ConfigureSimulcastExtensionHeaders(m); err != nil {
		return nil, err
	}
	if err := webrtc.ConfigureTWCCSender(m, reg); err != nil {
		return nil, err
	}
	if estimate != nil {
		f, err := cc.NewInterceptor(func() (cc.BandwidthEstimator, error) {
			initial := a.cfg.InitialBitrate
			if initial <= 0 {
				initial = initialBitrate
			}
			// No pacer: GCC's leaky bucket queues behind its estimate,
			// and audio waiting there is late audio (seconds, in a busy
			// channel). Forwarded video is already paced by its senders.
			opts := []gcc.Option{gcc.SendSideBWEInitialBitrate(initial), gcc.SendSideBWEPacer(gcc.NewNoOpPacer())}
			if a.cfg.MaxBitrate > 0 {
				opts = append(opts, gcc.SendSideBWEMaxBitrate(a.cfg.MaxBitrate))
			}
			return gcc.NewSendSideBWE(opts...)
		})
		if err != nil {
			return nil, err
		}
		f.OnNewPeerConnection(func(_ string, e cc.BandwidthEstimator) { estimate(e) })
		reg.Add(f)
		if err := webrtc.ConfigureTWCCHeaderExtensionSender(m, reg); err != nil {
			return nil, err
		}
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(a.setting))
	return api.NewPeerConnection(webrtc.Configuration{})
}

const initialBitrate = 1_000_000

// Errors an offer or answer is refused with.
var (
	ErrSDP   = errors.New("malformed SDP")
	ErrCodec = errors.New("no supported codec")
)

// Limits on a session description from a client. An answer to the
// server's offer has a section per track the client receives, which a
// busy channel makes many of: it may be larger, and the server's offer
// bounds what it holds. Candidates are counted once each, however many
// sections repeat them.
//
// A relay between two nodes' SFUs carries every track one node's users
// publish in the voice channels both share, four sources a user: its
// descriptions, offer and answer alike, may be larger still.
const (
	MaxSDP        = 64 << 10 // an offer
	MaxAnswer     = 256 << 10
	MaxMedia      = 16 // m= sections of an offer
	MaxCandidates = 64
	MaxRelaySDP   = 1 << 20
	MaxRelayMedia = 1024
)

// sdpLimits bound one kind of description: its bytes and media sections.
type sdpLimits struct{ bytes, media int }

var (
	offerLimits  = sdpLimits{MaxSDP, MaxMedia}
	answerLimits = sdpLimits{MaxAnswer, MaxRelayMedia}
	relayLimits  = sdpLimits{MaxRelaySDP, MaxRelayMedia}
)

// checkSDP parses a peer's description and applies the limits; an offer
// must hold at least one codec the SFU forwards in each media section.
func checkSDP(text string, offer bool, lim sdpLimits) error {
	if len(text) > lim.bytes {
		return fmt.Errorf("%w: more than %d bytes", ErrSDP, lim.bytes)
	}
	var d sdp.SessionDescription
	if err := d.UnmarshalString(text); err != nil {
		return fmt.Errorf("%w: %v", ErrSDP, err)
	}
	if len(d.MediaDescriptions) > lim.media {
		return fmt.Errorf("%w: more than %d media sections", ErrSDP, lim.media)
	}
	candidates := map[string]bool{}
	for _, md := range d.MediaDescriptions {
		for _, a := range md.Attributes {
			if a.Key == "candidate" {
				candidates[a.Value] = true
			}
		}
		if !offer || md.MediaName.Media == "application" || isInactive(md) {
			continue
		}
		if !supported(md) {
			return fmt.Errorf("%w in the %s section", ErrCodec, md.MediaName.Media)
		}
		if err := checkRIDs(md); err != nil {
			return err
		}
	}
	if len(candidates) > MaxCandidates {
		return fmt.Errorf("%w: more than %d candidates", ErrSDP, MaxCandidates)
	}
	return nil
}

// checkRIDs accepts the simulcast encodings the SFU knows how to rank
// (rids), one per layer.
func checkRIDs(md *sdp.MediaDescription) error {
	var taken [3]bool
	for _, a := range md.Attributes {
		if a.Key != "rid" {
			continue
		}
		id, _, _ := strings.Cut(a.Value, " ")
		layer, ok := rids[strings.ToLower(id)]
		if !ok {
			return fmt.Errorf("%w: simulcast RID %q is none of q, h, f (or l, m; r0 to r2; 0 to 2)", ErrSDP, id)
		}
		if taken[layer] {
			return fmt.Errorf("%w: two simulcast RIDs for one layer", ErrSDP)
		}
		taken[layer] = true
	}
	return nil
}

func isInactive(md *sdp.MediaDescription) bool {
	_, ok := md.Attribute("inactive")
	return ok || md.MediaName.Port.Value == 0
}

func supported(md *sdp.MediaDescription) bool {
	for _, a := range md.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		_, enc, _ := strings.Cut(a.Value, " ")
		enc, _, _ = strings.Cut(enc, "/")
		for _, c := range codecs {
			_, name, _ := strings.Cut(c.MimeType, "/")
			if strings.EqualFold(enc, name) {
				return true
			}
		}
	}
	return false
}

// gatherTimeout bounds the wait for candidates; what was gathered by then
// is sent.
const gatherTimeout = 2 * time.Second

// waitGathered sets desc as the local description and waits until ICE
// gathering ends, so that the SDP carries every candidate (the protocol
// has no trickle).
func waitGathered(pc *webrtc.PeerConnection, desc webrtc.SessionDescription) (string, error) {
	done := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(desc); err != nil {
		return "", err
	}
	select {
	case <-done:
	case <-time.After(gatherTimeout):
	}
	return pc.LocalDescription().SDP, nil
}
