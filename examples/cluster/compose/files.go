package main

import (
	"fmt"
	"strings"
)

// maxNodes bounds a cluster: each node publishes port 8080+i on loopback.
const maxNodes = 99

// name is the i-th node's (0-based) service name: a to z, then n27 on.
func name(i int) string {
	if i < 26 {
		return string(rune('a' + i))
	}
	return fmt.Sprintf("n%d", i+1)
}

// bootstrap is the nodes node i names to meet the cluster: the next two
// around the ring, so that every node is named by two others and the
// cluster stays connected when any one is down.
func bootstrap(i, n int) []string {
	var out []string
	for k := 1; k <= 2 && k < n; k++ {
		out = append(out, "http://"+name((i+k)%n)+":8080")
	}
	return out
}

const header = `# %d Concord nodes, each with its own data volume, written by
# examples/cluster/compose (make cluster NODES=%d). make cluster builds the
# image and starts them; make cluster-down removes them with their volumes.
# Node a answers on http://127.0.0.1:8081, b on 8082, and so on.
#
# The nodes meet on one network, fed, and nowhere else: each also has a
# network of its own that carries only its published HTTP port. Taking a
# node off fed (docker network disconnect concord_fed <container>) cuts it
# off from the others while its users still reach it.
version: "3.8"

x-node: &node
  image: concord:dev
  restart: "no"
  stop_grace_period: 15s

x-env: &env
  CONCORD_HTTP_ADMIN_TOKEN: cluster-admin-token
  CONCORD_LOG_LEVEL: info
  # Discord's limits unless the benchmarks (make cluster-bench) lift them.
  CONCORD_LIMITS_API_PER_MINUTE: ${CONCORD_API_PER_MINUTE:-60}
  CONCORD_LIMITS_CHANNEL_MESSAGES_PER_10S: ${CONCORD_MESSAGES_PER_10S:-10}

services:
`

const service = `  %[1]s:
    <<: *node
    hostname: %[1]s
    networks: [fed, front_%[1]s]
    environment:
      <<: *env
      CONCORD_NODE_NAME: %[1]s
      CONCORD_HTTP_PUBLIC_URL: http://127.0.0.1:%[2]d
      CONCORD_FEDERATION_BOOTSTRAP: %[3]s
    ports: ["127.0.0.1:%[2]d:8080"]
    volumes: ["%[1]s:/data"]
`

// cluster is compose.yaml for n nodes.
func cluster(n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, header, n, n)
	for i := range n {
		boot := strings.Join(bootstrap(i, n), ",")
		if boot == "" {
			boot = `""`
		}
		fmt.Fprintf(&b, service, name(i), 8081+i, boot)
	}
	b.WriteString("\nnetworks:\n  fed:\n    internal: true\n")
	for i := range n {
		fmt.Fprintf(&b, "  front_%s: {}\n", name(i))
	}
	b.WriteString("\nvolumes:\n")
	for i := range n {
		fmt.Fprintf(&b, "  %s: {}\n", name(i))
	}
	return b.String()
}

// postgres is compose.postgres.yaml: the last of n nodes on PostgreSQL.
func postgres(n int) string {
	return fmt.Sprintf(`# The variant with node %[1]s on PostgreSQL, layered over compose.yaml:
#   docker-compose -f compose.yaml -f compose.postgres.yaml up -d
# (make cluster-postgres). The server runs in its own container from the
# image make image-postgres assembles, with its own volume.
version: "3.8"

services:
  db:
    image: concord-postgres:dev
    # On %[1]s's own network: cutting %[1]s off from the other nodes leaves it
    # its database.
    networks: [front_%[1]s]
    environment:
      POSTGRES_USER: concord
      POSTGRES_PASSWORD: concord
    volumes: ["db:/data"]
  %[1]s:
    # The node waits up to 15 s for the server to answer.
    depends_on: [db]
    environment:
      CONCORD_STORAGE_DRIVER: postgres
      CONCORD_STORAGE_DSN: postgres://concord:concord@db:5432/concord?sslmode=disable

volumes:
  db: {}
`, name(n-1))
}
