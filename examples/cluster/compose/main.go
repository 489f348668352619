// Command compose writes the Compose files of a Concord cluster of N nodes
// (default 3): compose.yaml, the nodes on SQLite, and
// compose.postgres.yaml, which layers PostgreSQL under the last node.
// `make cluster NODES=5` runs it into bin/cluster; the files for three
// nodes are kept in examples/cluster for those who start the cluster with
// Compose alone.
//
//	go run ./examples/cluster/compose -nodes 5 -out bin/cluster
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	nodes := flag.Int("nodes", 3, "how many nodes, 1 to 99")
	out := flag.String("out", ".", "the directory to write compose.yaml and compose.postgres.yaml into")
	flag.Parse()
	if err := write(*out, *nodes); err != nil {
		fmt.Fprintln(os.Stderr, "compose:", err)
		os.Exit(1)
	}
}

// write writes both files for n nodes into dir.
func write(dir string, n int) error {
	if n < 1 || n > maxNodes {
		return fmt.Errorf("-nodes %d: between 1 and %d", n, maxNodes)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(cluster(n)), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "compose.postgres.yaml"), []byte(postgres(n)), 0o644)
}
