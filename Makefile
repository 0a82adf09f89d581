# moqgo developer commands. `make test` is what CI runs (.ci/run).

GO ?= go
PKGS := ./...

.PHONY: test vet staticcheck race vectors bench fuzz-smoke fuzz e2e bench-relay

## test: vet, staticcheck and the race-enabled test suite (the CI gate)
test: vet staticcheck race

vet:
	$(GO) vet $(PKGS)

# staticcheck is pinned as a tool in go.mod; `go tool` builds it on first use.
staticcheck:
	$(GO) tool staticcheck $(PKGS)

# The browser suite (./e2e) runs in `make e2e`, not here.
race:
	$(GO) test -race -count=1 $(shell $(GO) list $(PKGS) | grep -v '/e2e$$')

## vectors: run the conformance vector runner (MOQ_VECTORS=dir1:dir2 adds sets)
vectors:
	$(GO) test ./internal/wire -run TestVectors -count=1 -v

## bench: the codec and session benchmarks, as recorded in BENCHMARKS.md
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./internal/wire ./moqt | tee bench.out
	$(GO) tool benchstat bench.out

FUZZTIME ?= 5m
FUZZ_TARGETS := FuzzControlMessage FuzzSubgroupStream FuzzFetchStream FuzzDatagram

## fuzz: run every codec fuzz target for FUZZTIME each (default 5m)
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		echo "== $$t"; \
		$(GO) test ./internal/wire -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) -parallel 1 || exit 1; \
	done

## e2e: browser interop suite: @moq/net (pinned in e2e/web) in headless Chromium
## against moqgo. Installs the page's npm packages and bundles it first.
## E2E_COUNT=10 runs the suite ten times in a row.
E2E_WEB := e2e/web
E2E_COUNT ?= 1
e2e: $(E2E_WEB)/dist/page.js
	$(GO) test -race -count=$(E2E_COUNT) -v ./e2e/

$(E2E_WEB)/node_modules/.package-lock.json: $(E2E_WEB)/package.json $(E2E_WEB)/package-lock.json
	cd $(E2E_WEB) && npm ci --no-audit --no-fund --loglevel=error

$(E2E_WEB)/dist/page.js: $(E2E_WEB)/src/page.ts $(E2E_WEB)/node_modules/.package-lock.json
	cd $(E2E_WEB) && npm run --silent bundle

## bench-relay: the relay fan-out benchmark (1 publisher -> N subscribers vs raw quic-go)
bench-relay:
	$(GO) run ./bench/fanout
