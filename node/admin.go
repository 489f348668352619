package node

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"concord/federation/guild"
	"concord/federation/room"
	"concord/federation/snowflake"

	"github.com/go-chi/chi/v5"
)

// mountAdmin serves the operator's read-only view of the rooms this node
// holds (spec/admin.md), behind [http] admin_token; without a token it
// serves nothing.
func (n *Node) mountAdmin() {
	token := n.cfg.HTTP.AdminToken
	if token == "" {
		return
	}
	n.router.Route("/admin", func(r chi.Router) {
		r.Use(bearer(token))
		r.Get("/guilds", n.adminGuilds)
		r.Get("/guilds/{id}", n.adminGuild)
		r.Get("/peers", n.adminPeers)
	})
}

// peerReport is one connected peer in GET /admin/peers.
type peerReport struct {
	PeerID string   `json:"peer_id"`
	Addrs  []string `json:"addrs"`
	Guilds []string `json:"guilds"`
}

// adminPeers answers GET /admin/peers: the nodes this one is connected to
// over federation, the addresses of those connections, and the guilds and
// DMs each shares with this node (those whose gossip it is in).
func (n *Node) adminPeers(w http.ResponseWriter, _ *http.Request) {
	shared := n.fed.SharedRooms()
	out := []peerReport{}
	for _, p := range n.p2p.Network().Peers() {
		rep := peerReport{PeerID: p.String(), Addrs: []string{}, Guilds: []string{}}
		for _, c := range n.p2p.Network().ConnsToPeer(p) {
			rep.Addrs = append(rep.Addrs, c.RemoteMultiaddr().String())
		}
		for _, g := range shared[p] {
			rep.Guilds = append(rep.Guilds, g.String())
		}
		out = append(out, rep)
	}
	slices.SortFunc(out, func(a, b peerReport) int { return strings.Compare(a.PeerID, b.PeerID) })
	writeJSON(w, http.StatusOK, map[string][]peerReport{"peers": out})
}

// bearer lets through only requests whose Authorization header is
// "Bearer <token>", compared in constant time.
func bearer(token string) func(http.Handler) http.Handler {
	want := sha256.Sum256([]byte("Bearer " + token))
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got := sha256.Sum256([]byte(r.Header.Get("Authorization")))
			if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="concord admin"`)
				writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "admin token required"})
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// adminGuilds answers GET /admin/guilds: the IDs of every guild and DM
// room the node holds.
func (n *Node) adminGuilds(w http.ResponseWriter, r *http.Request) {
	ids, err := n.events.Rooms(r.Context())
	if err != nil {
		n.log.Error("admin: rooms", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
		return
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	writeJSON(w, http.StatusOK, map[string][]string{"guilds": out})
}

// roomReport is what GET /admin/guilds/{id} says of a room: enough for two
// nodes to be compared.
type roomReport struct {
	GuildID     string   `json:"guild_id"`
	StateHash   string   `json:"state_hash"`
	Extremities []string `json:"extremities"`
}

// adminGuild answers GET /admin/guilds/{id}: the room's committed state
// hash and forward extremities.
func (n *Node) adminGuild(w http.ResponseWriter, r *http.Request) {
	id, err := snowflake.Parse(chi.URLParam(r, "id"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "not a guild ID"})
		return
	}
	rep := roomReport{GuildID: id.String()}
	err = n.events.View(r.Context(), id, func(s *guild.State) error {
		h := s.Hash()
		rep.StateHash = hex.EncodeToString(h[:])
		return nil
	})
	if err == nil {
		rep.Extremities, err = n.events.Extremities(r.Context(), id)
	}
	switch {
	case errors.Is(err, room.ErrUnknownRoom):
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "unknown guild"})
	case err != nil:
		n.log.Error("admin: room", "guild", id, "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
	default:
		if rep.Extremities == nil {
			rep.Extremities = []string{}
		}
		writeJSON(w, http.StatusOK, rep)
	}
}

// writeJSON answers with status and v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
