//go:build cluster

package scenario

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The cluster's defaults, as examples/cluster/compose.yaml sets them.
const (
	project    = "concord"
	fedNetwork = project + "_fed"
	adminToken = "cluster-admin-token"
)

// node is one node of the cluster: its Compose service, the URL its HTTP
// port is published at, and its container.
type node struct {
	name, url, container string
}

// clusterNodes reads CONCORD_CLUSTER ("a=http://127.0.0.1:8081,…"; the
// default is compose.yaml's three nodes) and finds each node's container.
func clusterNodes(t *testing.T) []*node {
	spec := os.Getenv("CONCORD_CLUSTER")
	if spec == "" {
		spec = "a=http://127.0.0.1:8081,b=http://127.0.0.1:8082,c=http://127.0.0.1:8083"
	}
	var out []*node
	for _, kv := range strings.Split(spec, ",") {
		name, url, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("CONCORD_CLUSTER: %q is not name=url", kv)
		}
		id := strings.TrimSpace(docker(t, "ps", "-aq", "--filter", "label=com.docker.compose.project="+project,
			"--filter", "label=com.docker.compose.service="+name))
		if id == "" {
			t.Fatalf("no container for node %s: start the cluster with `make cluster`", name)
		}
		out = append(out, &node{name: name, url: strings.TrimSuffix(url, "/"), container: id})
	}
	return out
}

// docker runs the Docker CLI and returns its output, failing the test on
// an error.
func docker(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("docker", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// collectLogs writes every node's log under dir when the test has failed,
// so that a failing run can be read after the cluster is gone.
func collectLogs(t *testing.T, nodes []*node) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		dir := filepath.Join(os.TempDir(), fmt.Sprintf("concord-cluster-%s", time.Now().Format("20060102-150405")))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Log(err)
			return
		}
		for _, n := range nodes {
			out, _ := exec.Command("docker", "logs", "--timestamps", n.container).CombinedOutput()
			os.WriteFile(filepath.Join(dir, n.name+".log"), out, 0o644)
		}
		t.Logf("node logs in %s", dir)
	})
}

// call sends a request to a node's HTTP listener and decodes a 2xx answer
// into out; a failed request or any other status is an error.
func (n *node) call(method, path, token string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, n.url+path, r)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s on %s: %w", method, path, n.name, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		var body struct {
			RetryAfter float64 `json:"retry_after"`
		}
		json.Unmarshal(data, &body)
		return &rateLimited{after: time.Duration(body.RetryAfter * float64(time.Second))}
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s on %s: %s %s", method, path, n.name, resp.Status, data)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

// rateLimited is a 429 answer: try again after.
type rateLimited struct{ after time.Duration }

func (e *rateLimited) Error() string { return fmt.Sprintf("rate limited for %v", e.after) }

// api is call under /api/v10, failing the test on an error.
func (n *node) api(t *testing.T, method, path, token string, body, out any) {
	t.Helper()
	if err := n.call(method, "/api/v10"+path, token, body, out); err != nil {
		t.Fatal(err)
	}
}

// admin reads one of the node's /admin routes (spec/admin.md).
func (n *node) admin(path string, out any) error {
	return n.call("GET", "/admin"+path, "Bearer "+adminToken, nil, out)
}

// waitFor polls cond every 100 ms until it holds and returns how long that
// took, failing the test after limit.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return time.Since(start)
}
