// Command concord runs a Concord node; all of its logic is in package node.
package main

import (
	"os"

	"concord/node"
)

func main() {
	os.Exit(node.Main(os.Args[1:]))
}
