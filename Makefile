# Concord. `make` alone lists the targets.

GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X concord/node.Version=$(VERSION)
BENCHTIME ?= 1s
ARGS      ?=

# mattn/go-sqlite3 is C: every build needs cgo and a C compiler.
export CGO_ENABLED := 1

.DEFAULT_GOAL := help
.PHONY: help run test build bench lint fuzz image image-postgres cluster-files cluster cluster-postgres cluster-test cluster-bench cluster-down

# The container image: a static binary (cgo SQLite included) FROM scratch.
IMAGE     ?= concord:dev
STATIC    := -tags 'netgo osusergo sqlite_omit_load_extension' -ldflags '$(LDFLAGS) -s -w -extldflags -static'
COMPOSE   ?= $(shell docker compose version >/dev/null 2>&1 && echo 'docker compose' || echo docker-compose)
NODES     ?= 3
CLUSTERDIR := bin/cluster
CLUSTER   := $(COMPOSE) -p concord -f $(CLUSTERDIR)/compose.yaml
CLUSTERPG := $(CLUSTER) -f $(CLUSTERDIR)/compose.postgres.yaml

# Fuzz targets as package:target. make test runs each for a count of
# inputs (-fuzztime Nx), not a duration: Go 1.26's fuzzing coordinator can
# fail a timed run at its deadline without any crasher.
FUZZ      := ./clientapi/jsonio:FuzzDecode ./clientapi/guilds:FuzzMessageBody ./clientapi/gateway:FuzzInboundFrame \
             ./federation/canonical:FuzzCanonicalize ./federation/event:FuzzParseVerify ./federation/event:FuzzSign \
             ./sfu/udp:FuzzPacket
FUZZSHORT ?= 20000x
FUZZTIME  ?= 30m

help: ## list the targets
	@awk 'BEGIN { FS = ":.*## " } /^[a-z-]+:.*## / { printf "  make %-12s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

run: build ## start a node on the built-in defaults (./data, http://127.0.0.1:8080); ARGS='--config node.toml'
	./bin/concord run $(ARGS)

test: ## run the whole test suite and a short run of each fuzz target; PostgreSQL too when CONCORD_TEST_POSTGRES is set
	$(GO) test -timeout 20m ./...
	@for t in $(FUZZ); do $(GO) test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZSHORT) "$${t%%:*}" || exit 1; done

fuzz: ## run each fuzz target for FUZZTIME (30m); crashers land in the package's testdata/fuzz
	@for t in $(FUZZ); do $(GO) test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 2s "$${t%%:*}" || exit 1; done

build: ## build bin/concord with the version stamped in
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/concord ./node/cmd/concord

bench: ## run every benchmark, node cold start and idle RSS included, and the cluster's with Docker; BENCH=long adds the slow ones
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) -timeout 60m ./...
	@if docker info >/dev/null 2>&1; then $(MAKE) --no-print-directory cluster-bench; else echo "no Docker engine: make cluster-bench skipped"; fi

lint: ## fail on files gofmt would change, then go vet
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt -l found unformatted files:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

image: ## build the container image $(IMAGE): a static concord in an otherwise empty image
	rm -rf bin/image && mkdir -p bin/image/rootfs/tmp bin/image/rootfs/etc/ssl/certs bin/image/data
	chmod 1777 bin/image/rootfs/tmp
	[ ! -e /etc/ssl/certs/ca-certificates.crt ] || cp /etc/ssl/certs/ca-certificates.crt bin/image/rootfs/etc/ssl/certs/
	$(GO) build $(STATIC) -o bin/image/concord ./node/cmd/concord
	docker build -q -t $(IMAGE) -f examples/cluster/Dockerfile bin/image

cluster-files: ## write the Compose files of NODES nodes (3) into bin/cluster
	$(GO) run ./examples/cluster/compose -nodes $(NODES) -out $(CLUSTERDIR)

cluster: image cluster-files ## start NODES nodes (3) in containers (examples/cluster): http://127.0.0.1:8081, 8082, …
	$(CLUSTER) up -d

image-postgres: ## build concord-postgres:dev from this machine's PostgreSQL (apt-get install postgresql)
	examples/cluster/postgres/rootfs.sh bin/image-postgres
	docker build -q -t concord-postgres:dev -f examples/cluster/postgres/Dockerfile bin/image-postgres

cluster-postgres: image image-postgres cluster-files ## the cluster with its last node on PostgreSQL in a container of its own
	$(CLUSTERPG) up -d

cluster-test: ## run the scenarios (examples/cluster/scenario) against the cluster make cluster started
	$(GO) test -tags cluster -count=1 -v -run 'TestCluster$$' -timeout 15m ./examples/cluster/scenario

cluster-bench: ## start a fresh cluster with rate limits lifted and measure it, then remove it
	-@$(MAKE) --no-print-directory cluster-down >/dev/null 2>&1
	@started=$$(date +%s%N); \
	CONCORD_API_PER_MINUTE=1000000 CONCORD_MESSAGES_PER_10S=1000000 $(MAKE) --no-print-directory cluster >/dev/null && \
	CONCORD_CLUSTER_STARTED=$$started $(GO) test -tags cluster -count=1 -v -run 'TestClusterBench$$' -timeout 15m ./examples/cluster/scenario; \
	status=$$?; $(CLUSTERPG) down -v >/dev/null 2>&1; exit $$status

cluster-down: ## stop the cluster the last make cluster started (either variant) and remove its containers, networks and volumes
	@[ -e $(CLUSTERDIR)/compose.yaml ] || $(GO) run ./examples/cluster/compose -nodes $(NODES) -out $(CLUSTERDIR)
	$(CLUSTERPG) down -v --remove-orphans
