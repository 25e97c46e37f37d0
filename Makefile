# Startline: `make run` for a local demo, `make test` for the full suite.
GO        ?= go
BIN       := bin/startline
HTTP_ADDR ?= :8080
export STARTLINE_ENV ?= dev

.PHONY: run build test faults bench bench-micro bench-tools lint vuln migrate services browser haproxy clean

build:
	$(GO) build -o $(BIN) ./cmd/startline

## run: migrate, seed the demo event, start API + web + workers (dev mode)
run: build services
	./$(BIN) migrate
	./$(BIN) seed-demo
	@echo "Startline: open http://127.0.0.1:$(lastword $(subst :, ,$(HTTP_ADDR)))/events/demo-marathon  (dev outbox: /dev/outbox)"
	HTTP_ADDR=$(HTTP_ADDR) ./$(BIN) all

## test: vet and race-test everything against the real PostgreSQL and Redis, and walk the
## pages in Debian's headless Chromium (screenshots in test-output/screenshots); two API
## processes and a worker behind Debian's HAProxy (cmd/startline/lb_test.go)
test: services browser haproxy bench-tools
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 30m ./...

## faults: the fault tests: kill -9 the worker mid-draw and mid-offer-cascade, stop Redis
## and cut PostgreSQL during intake, against the real binary on loopback (cmd/startline/faults_test.go)
faults: services
	$(GO) vet -tags faults ./cmd/startline/
	$(GO) test -tags faults -count=1 -timeout 12m -parallel 5 -run '^TestFault' -v ./cmd/startline/

## bench: the load harness (cmd/loadbench, issue 16): its own database and redis-server, the
## binary in dev mode on a spare loopback port; a bare Gin handler and pgbench as references,
## wrk for reads, a Go client for codes, applies and joins; prints the table (docs/BENCHMARKS.md).
## BENCH_FLAGS passes flags, e.g. BENCH_FLAGS='-md bench-out.md -pprof prof'
BENCH_FLAGS ?=
bench: build services bench-tools
	$(GO) build -o bin/loadbench ./cmd/loadbench
	./bin/loadbench -bin $(BIN) $(BENCH_FLAGS)

## bench-micro: the Go hot-path benchmarks (5 runs each)
bench-micro: services
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./...

## bench-tools: install Debian's wrk, and pgbench's package, when missing
bench-tools:
	@./.ci/bench-tools.sh

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt:"; echo "$$out"; exit 1; fi
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

vuln:
	$(GO) run golang.org/x/vuln/cmd/govulncheck@v1.1.4 ./...

migrate: build
	./$(BIN) migrate

## browser: install Debian's Chromium and a Korean font for the browser tests when missing
browser:
	@./.ci/browser.sh

## haproxy: install Debian's HAProxy for the load-balancer test when missing
haproxy:
	@./.ci/haproxy.sh

## services: start PostgreSQL and Redis when they are down (this machine's commands)
services:
	@./.ci/services.sh

clean:
	rm -rf bin
