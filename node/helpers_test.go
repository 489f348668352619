package node

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
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

// apiCall sends body as JSON to a node's API at base and returns the status
// and the response body.
func apiCall(t *testing.T, base, method, path, token string, body any) (int, []byte) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}
