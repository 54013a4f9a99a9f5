# make test: everything CI runs. It installs the Debian packages it needs
# when /usr/bin/python3 lacks them (NumPy for the Go<->NumPy tests; pip,
# venv, setuptools and wheel to install python/ offline; libatomic), installs the
# Python package into a throw-away venv and runs the Go tests with that
# venv's python (NDSHM_PYTHON), so the Python side is tested as installed.
PY := /usr/bin/python3
GO ?= go
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEBS := python3-numpy python3-pip python3-venv python3-setuptools python3-wheel libatomic1 iproute2

.PHONY: test deps vet venv race bench fuzz demo

# The venv lives in a fresh temporary directory, removed when the tests
# end however they end; it is world-readable since some tests run Python
# as a throw-away user.
test: deps vet
	@dir=$$(mktemp -d) && trap 'rm -rf "$$dir"' EXIT && chmod 755 "$$dir" && \
	$(MAKE) --no-print-directory venv VENV="$$dir" && \
	$(MAKE) --no-print-directory race bench NDSHM_PYTHON="$$dir/venv/bin/python"

# ensurepip is what python3-venv adds to Debian's Python; libatomic is what
# Python's ndshm.add calls for the atomics Go's lock.Add* use; iproute2's ip
# and tc make the network-namespace hosts of the tests across machines
# (internal/hosts). One import a run: setuptools imported after pip trips
# Debian's distutils hack.
deps:
	@ok=1; for m in numpy pip setuptools wheel ensurepip; do \
		$(PY) -c "import $$m" 2>/dev/null || ok=0; done; \
	$(PY) -c 'import ctypes.util, sys; sys.exit(ctypes.util.find_library("atomic") is None)' || ok=0; \
	[ -x /sbin/ip ] && [ -x /sbin/tc ] || ok=0; \
	[ $$ok = 1 ] || { echo "installing $(DEBS)"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(DEBS); }

# make venv VENV=DIR: DIR/venv, a venv that sees Debian's NumPy, with the
# package ndshm installed offline from a copy of python/ (setuptools
# builds in the source tree, and a stale build/ there could leak into the
# wheel).
venv:
	@test -n "$(VENV)" || { echo "usage: make venv VENV=DIR"; exit 2; }
	@start=$$(date +%s%N) && \
	$(PY) -m venv --system-site-packages "$(VENV)/venv" && \
	cp -R python "$(VENV)/src" && \
	"$(VENV)/venv/bin/python" -m pip install -q --no-index --no-build-isolation "$(VENV)/src" && \
	echo "installed $$("$(VENV)/venv/bin/python" -c 'import ndshm; print("ndshm", ndshm.__version__, "in", ndshm.__file__)') ($$(( ($$(date +%s%N) - start) / 1000000 )) ms)"

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
