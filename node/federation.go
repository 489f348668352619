package node

import (
	"net/http"

	"concord/federation/p2p"
)

// buildFederation starts the libp2p host on the node key from [federation]
// and federation over it, and serves the node card.
func (n *Node) buildFederation() error {
	f := n.cfg.Federation
	h, err := p2p.NewHost(n.key, p2p.HostConfig{Listen: f.Listen, Bootstrap: f.Bootstrap, MDNS: f.MDNS}, n.metrics, n.log)
	if err != nil {
		return err
	}
	n.p2p = h
	n.closers = append(n.closers, closer{"federation host", h.Close})
	if n.fed, err = p2p.New(h, n.events, p2p.Config{NodeName: n.cfg.Node.Name, Directory: directory{n}, Live: n.live,
		Files: files{n.db, n.blobs}},
		n.metrics, n.log); err != nil {
		return err
	}
	n.closers = append(n.closers, closer{"federation", n.fed.Close})
	n.router.Get("/.well-known/concord/node", n.nodeCard)
	return nil
}

// nodeCard answers GET /.well-known/concord/node (spec/federation.md,
// "Node card"): how another node or an operator reaches this one.
func (n *Node) nodeCard(w http.ResponseWriter, _ *http.Request) {
	card := struct {
		Name    string   `json:"name"`
		PeerID  string   `json:"peer_id"`
		Addrs   []string `json:"addrs"`
		Version string   `json:"version"`
	}{n.cfg.Node.Name, n.peerID.String(), n.p2p.FullAddrs(), Version}
	if card.Addrs == nil {
		card.Addrs = []string{}
	}
	writeJSON(w, http.StatusOK, card)
}
