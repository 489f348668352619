//go:build cluster

package scenario

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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

// clusterNodes finds the cluster's nodes: those CONCORD_CLUSTER names
// ("a=http://127.0.0.1:8081,…"), else every running node of the Compose
// project, in the order of their names (a to z, then n27 on), at the
// loopback port each publishes.
func clusterNodes(t *testing.T) []*node {
	spec := os.Getenv("CONCORD_CLUSTER")
	if spec == "" {
		spec = publishedNodes(t)
	}
	var out []*node
	for _, kv := range strings.Split(spec, ",") {
		name, url, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("CONCORD_CLUSTER: %q is not name=url", kv)
		}
		out = append(out, &node{name: name, url: strings.TrimSuffix(url, "/"), container: container(t, name)})
	}
	return out
}

// container is the ID of a service's container in the project.
func container(t *testing.T, service string) string {
	id := strings.TrimSpace(docker(t, "ps", "-aq", "--filter", "label=com.docker.compose.project="+project,
		"--filter", "label=com.docker.compose.service="+service))
	if id == "" {
		t.Fatalf("no container for node %s: start the cluster with `make cluster`", service)
	}
	return id
}

// publishedNodes lists the project's running nodes as CONCORD_CLUSTER
// would name them.
func publishedNodes(t *testing.T) string {
	names := strings.Fields(docker(t, "ps", "--filter", "label=com.docker.compose.project="+project,
		"--format", `{{.Label "com.docker.compose.service"}}`))
	names = slices.DeleteFunc(names, func(s string) bool { return s == "db" })
	if len(names) == 0 {
		t.Fatal("no node of the cluster is running: start it with `make cluster`")
	}
	slices.SortFunc(names, func(a, b string) int { return cmp.Or(cmp.Compare(len(a), len(b)), strings.Compare(a, b)) })
	spec := make([]string, len(names))
	for i, name := range names {
		addr, _, _ := strings.Cut(strings.TrimSpace(docker(t, "port", container(t, name), "8080/tcp")), "\n")
		spec[i] = name + "=http://" + addr
	}
	return strings.Join(spec, ",")
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
