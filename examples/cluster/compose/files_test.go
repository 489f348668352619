package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeptFiles: examples/cluster holds what the command writes for three
// nodes.
func TestKeptFiles(t *testing.T) {
	dir := t.TempDir()
	if err := write(dir, 3); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"compose.yaml", "compose.postgres.yaml"} {
		want, _ := os.ReadFile(filepath.Join(dir, f))
		kept, err := os.ReadFile(filepath.Join("..", f))
		if err != nil {
			t.Fatal(err)
		}
		if string(kept) != string(want) {
			t.Errorf("examples/cluster/%s is not what `go run ./examples/cluster/compose -out examples/cluster` writes", f)
		}
	}
}

// TestRing: every node is named by two others, none names itself, and the
// names stay distinct past z.
func TestRing(t *testing.T) {
	for _, n := range []int{1, 2, 3, 5, 30} {
		named := map[string]int{}
		for i := range n {
			for _, url := range bootstrap(i, n) {
				if url == "http://"+name(i)+":8080" {
					t.Errorf("n=%d: %s bootstraps from itself", n, name(i))
				}
				named[url]++
			}
		}
		for i := range n {
			if want := min(2, n-1); named["http://"+name(i)+":8080"] != want {
				t.Errorf("n=%d: %s is named by %d nodes, want %d", n, name(i), named["http://"+name(i)+":8080"], want)
			}
		}
	}
	if name(25) != "z" || name(26) != "n27" {
		t.Errorf("names %s, %s", name(25), name(26))
	}
	if err := write(t.TempDir(), 0); err == nil || !strings.Contains(err.Error(), "between") {
		t.Errorf("0 nodes: %v", err)
	}
}
