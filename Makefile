# moqgo developer commands. `make test` is what CI runs (.ci/run).

GO ?= go
PKGS := ./...

.PHONY: test vet staticcheck race vectors bench fuzz-smoke fuzz

## test: vet, staticcheck and the race-enabled test suite (the CI gate)
test: vet staticcheck race

vet:
	$(GO) vet $(PKGS)

# staticcheck is pinned as a tool in go.mod; `go tool` builds it on first use.
staticcheck:
	$(GO) tool staticcheck $(PKGS)

race:
	$(GO) test -race -count=1 $(PKGS)

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
