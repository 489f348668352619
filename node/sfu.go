package node

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"

	"github.com/pion/webrtc/v4"

	"concord/clientapi"
	"concord/clientapi/ratelimit"
	"concord/federation/snowflake"
	"concord/sfu"
	"concord/sfu/peer"
)

// voicePath is where the voice gateway is served.
const voicePath = "/voice"

// buildSFU wires the voice server to the live state and the event core
// and mounts its voice gateway.
func (n *Node) buildSFU() error {
	vc := n.cfg.Voice
	// A node serving only loopback is one for trying things on one machine:
	// its media may use loopback too.
	pc := peer.Config{PortMin: uint16(vc.UDPPortMin), PortMax: uint16(vc.UDPPortMax), Loopback: isLoopback(n.cfg.HTTP.Listen)}
	for i := range vc.UDPMuxPorts {
		if vc.UDPMuxPort != 0 {
			pc.MuxPorts = append(pc.MuxPorts, vc.UDPMuxPort+i)
		}
	}
	if len(vc.PublicIPs) > 0 {
		pc.Rewrite = append(pc.Rewrite, webrtc.ICEAddressRewriteRule{External: vc.PublicIPs,
			AsCandidateType: webrtc.ICECandidateTypeHost, Mode: webrtc.ICEAddressRewriteReplace})
	}
	for _, r := range vc.NATRules {
		ext, local, _ := natRule(r) // Validate checked it
		pc.Rewrite = append(pc.Rewrite, webrtc.ICEAddressRewriteRule{External: []string{ext.String()}, Local: local.String(),
			AsCandidateType: webrtc.ICECandidateTypeHost, Mode: webrtc.ICEAddressRewriteReplace})
	}
	// Recordings are written here, then moved into the blob store.
	recordDir := filepath.Join(n.cfg.Node.DataDir, "recordings")
	if err := os.MkdirAll(recordDir, 0o700); err != nil {
		return err
	}
	cfg := sfu.Config{Endpoint: voiceEndpoint(n.URL()), Peer: pc, RecordDir: recordDir}
	if vc.UDPVoicePort >= 0 {
		// On the HTTP listener's address when it names one (loopback, say).
		host, _, _ := net.SplitHostPort(n.cfg.HTTP.Listen)
		if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
			host = ""
		}
		cfg.UDPListen = net.JoinHostPort(host, strconv.Itoa(vc.UDPVoicePort))
		if len(vc.PublicIPs) > 0 {
			cfg.UDPAddress = vc.PublicIPs[0]
		}
	}
	if len(vc.TURNURLs) > 0 {
		cfg.ICEServers = []sfu.ICEServer{{URLs: vc.TURNURLs, Username: vc.TURNUsername, Credential: vc.TURNPassword}}
	}
	// The voice gateway's connections count per client address, as the
	// gateway's do, behind the same trusted proxies.
	conns := ratelimit.NewConcurrency(n.cfg.Limits.GatewayConnectionsPerAddress, 0)
	admit := func(r *http.Request) (func(), bool) {
		key := clientapi.ClientKey(r)
		if !conns.Acquire(key) {
			return nil, false
		}
		return func() { conns.Release(key) }, true
	}
	proxies, err := ratelimit.ParseProxies(n.cfg.HTTP.TrustedProxies)
	if err != nil {
		return fmt.Errorf("http.trusted_proxies: %w", err)
	}
	// Voice channels with users on other nodes cascade: the SFUs relay
	// to each other, their offers and answers carried by the federation.
	s, err := sfu.New(cfg, sfu.Deps{Live: n.live, Guilds: n.events, Auth: n.streamAuth, Blobs: n.blobs, DB: n.db, Log: n.log,
		Admit: admit, Relay: n.fed})
	if err != nil {
		return err
	}
	n.sfu = s
	n.fed.ServeVoice(s)
	n.closers = append(n.closers, closer{"sfu", s.Close})
	h := proxies.RealIP(s.Handler())
	n.router.Handle(voicePath, h)
	n.router.Handle(voicePath+"/*", h)
	return nil
}

// streamAuth tells whose a WHIP or WHEP bearer token is: a user's access
// token, or a bot's token as OBS is given it (without "Bot ").
func (n *Node) streamAuth(ctx context.Context, token string) (snowflake.ID, error) {
	c, err := n.auth.Authenticate(ctx, "Bearer "+token)
	if err != nil {
		c, err = n.auth.Authenticate(ctx, "Bot "+token)
	}
	return c.UserID, err
}

// voiceEndpoint is VOICE_SERVER_UPDATE's endpoint: the node's host and
// the voice gateway's path, without a scheme (clients add wss://, or ws://
// when their gateway URL is plain).
func voiceEndpoint(nodeURL string) string {
	u, err := url.Parse(nodeURL)
	if err != nil {
		return nodeURL + voicePath
	}
	return u.Host + voicePath
}
