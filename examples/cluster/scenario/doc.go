// Package scenario drives a running Concord cluster (examples/cluster)
// through its nodes' public HTTP APIs, discordgo and the Docker CLI: users
// on different nodes join a guild by invite and chat, a node is cut off
// and written to on both sides, a node is killed and restarted, and after
// each step every node must report the same state hash and hold every
// acknowledged message. The scenarios are tests built only with the
// "cluster" tag: `make cluster` then `make cluster-test`.
package scenario
