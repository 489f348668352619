// Package node is a whole Concord node: its configuration (node.toml,
// CONCORD_* environment overrides), its identity key, and the wiring of every
// role — storage, HTTP, metrics, and later federation, the client API and the
// SFU — in one struct with one lifecycle. It also holds the concord command,
// which node/cmd/concord only calls. Nothing imports node but that command.
package node
