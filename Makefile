# make test: everything CI runs. It installs Debian's python3-numpy for
# /usr/bin/python3 when missing, since the Go<->NumPy tests need it.
PY := /usr/bin/python3
GO ?= go
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: test deps vet race bench fuzz demo

test: deps vet race bench

deps:
	@$(PY) -c 'import numpy' 2>/dev/null || { \
		echo "installing python3-numpy"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-numpy; }

vet:
	$(GO) vet ./...

# -p 1: packages one at a time, since tests of one package run garbage
# collections that could take another package's orphans.
race:
	$(GO) test -race -count=1 -p 1 ./...

# Every benchmark once, so none rots; real figures come from `ndshm bench`.
bench:
	$(GO) test -run '^$$' -bench . -benchtime=1x -count=1 ./...

# A short run of every fuzzer.
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzRead -fuzztime 30s ./internal/npy

demo:
	$(GO) run ./cmd/ndshm demo
