// Package concord holds what the module ships at its root: the commented
// example configuration, embedded so that `concord init` writes exactly the
// file that node.toml.example documents. Only package node imports it; the
// code lives in node/, federation/, storage/, clientapi/ and sfu/.
package concord

import _ "embed"

// ExampleConfig is node.toml.example: every configuration key with its
// default value and what it means.
//
//go:embed node.toml.example
var ExampleConfig string
