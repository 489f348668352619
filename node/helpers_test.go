package node

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// buildConcord builds the concord binary into a temp dir and returns its
// path; the build cache makes every build after the first quick.
func buildConcord(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "concord")
	cmd := exec.Command("go", "build", "-o", bin, "concord/node/cmd/concord")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
