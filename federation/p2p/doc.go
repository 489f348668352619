// Package p2p carries a node's federation over libp2p (spec/federation.md):
// the host on the node key (TCP and QUIC, Noise, yamux, identify, connection
// and resource limits, a gater that cuts peers off), discovery from
// bootstrap peers and mDNS, one GossipSub topic per room, and the stream
// protocols that make replication correct where gossip is best-effort:
// fetching missing events, exchanging forward extremities, invites,
// joins with partial state and the backfill that completes them, and the
// rest spec/federation.md lists (profiles, files, friends, interactions,
// voice relays).
//
// Every event it receives enters the node through room.Core (Accept,
// AcceptBatch, AcceptEntries); it writes nothing else. Only the node
// imports it.
package p2p
