# fuzzaug: `make demo` and `make test` are the two commands a newcomer needs.
# Both provision libtorch 2.11.0 first (LIBTORCH, LIBTORCH_USE_PYTORCH, or a per-user cache
# filled from PyPI: see scripts/provision-libtorch.py) and build everything in release mode.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
CARGO ?= cargo
BIN := target/release/fuzzaug

# Two groups, built and tested in separate cargo invocations so that cargo does not unify the
# SDK's `tensor` feature across them: plugins that need no tensors must build without libtorch
# and report `none` as their libtorch. Every workspace member is in one group
# (checked by tests/tests/workspace.rs).
TORCH_PKGS := -p fuzzaug-sdk -p fuzzaug-build -p fuzzaug -p fuzzaug-tests -p fuzzaug-noise \
              -p fixture-bad-tensor
PLAIN_PKGS := -p fuzzaug-sdk -p fuzzaug-shapes -p fuzzaug-spatial -p fuzzaug-photometric -p fuzzaug-baselines \
              -p fuzzaug-sensei \
              -p fuzzaug-cifar -p fuzzaug-cifar10c -p fuzzaug-mnist -p fuzzaug-imagefolder \
              -p fixture-bad-fingerprint -p fixture-panicky -p fixture-recording -p fixture-hostile \
              -p fixture-contained -p fixture-foreign-abi -p fixture-abort -p fixture-crashy

# Runs its argument with LIBTORCH pointing at a checked libtorch 2.11.0.
WITH_TORCH = LIBTORCH="$$($(PYTHON) scripts/provision-libtorch.py)"; export LIBTORCH;

.PHONY: all build demo test lint fmt libtorch system bench fuzz clean help
all: build

help:
	@echo "make build   provision libtorch, release-build the host and every plugin (target/release/)"
	@echo "make demo    build, list the plugins, train the quickstart with standard and with sensei (about 2.5 minutes)"
	@echo "make test    install Chromium/Slurm/munge if missing, build, then run every test"
	@echo "make bench   fuzzaug's throughputs and strategy epoch ratios next to a PyTorch reference (about 5 minutes)"
	@echo "make lint    cargo fmt --check, clippy -D warnings, and the SDK's docs without warnings"
	@echo "make fuzz    each cargo-fuzz target for FUZZ_MINUTES minutes (default 1): executions and crashes (nightly, cargo-fuzz)"
	@echo "make libtorch  print the libtorch folder in use (installs it on first use)"

libtorch:
	@$(PYTHON) scripts/provision-libtorch.py

# Chromium, Slurm and munge for the tests: installed when missing, or a stop naming them.
system:
	@bash scripts/provision-system.sh

build:
	@$(WITH_TORCH) echo "libtorch: $$LIBTORCH"; \
	  $(CARGO) build --release $(TORCH_PKGS) && $(CARGO) build --release $(PLAIN_PKGS)

demo: build
	$(BIN) --version
	$(BIN) plugins
	$(BIN) check configs/quickstart-standard.toml
	$(BIN) check configs/quickstart.toml
	$(BIN) run configs/quickstart-standard.toml --overwrite
	$(BIN) run configs/quickstart.toml --overwrite
	@echo
	@$(PYTHON) scripts/runs-side-by-side.py runs/quickstart-standard runs/quickstart

# `system` first, so a machine that lacks a package stops before the build, not after it.
test: system
	@$(MAKE) --no-print-directory build
	@$(WITH_TORCH) $(CARGO) test --release $(PLAIN_PKGS) && $(CARGO) test --release $(TORCH_PKGS)

bench: build
	@$(PYTHON) bench/side-by-side.py --fuzzaug $(BIN)

lint:
	$(CARGO) fmt --all -- --check
	@$(WITH_TORCH) $(CARGO) clippy --release --workspace --all-targets -- -D warnings
	@$(WITH_TORCH) RUSTDOCFLAGS="-D warnings" $(CARGO) doc --release -p fuzzaug-sdk --no-deps

fmt:
	$(CARGO) fmt --all

# The readers, the config loader, the checkpoint reader and the strategies' load_state under
# cargo-fuzz (fuzz/, outside the workspace): FUZZ_MINUTES per target, FUZZ_TARGETS to pick some.
fuzz:
	@FUZZ_MINUTES="$(or $(FUZZ_MINUTES),1)" bash scripts/fuzz.sh

clean:
	$(CARGO) clean
