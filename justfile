# Every task a person runs. `just --list` shows them.
set shell := ["bash", "-euo", "pipefail", "-c"]

# Tools installed by scripts/setup.sh: wasm-opt from npm binaryen (pinned), cargo-installed ones.
export PATH := justfile_directory() / "e2e/node_modules/.bin" + ":" + env_var_or_default("HOME", "/root") / ".cargo/bin" + ":" + env_var("PATH")

default:
    @just --list

# Install whatever is missing on this machine (idempotent).
setup:
    scripts/setup.sh

# Release server and release SPA.
build: spa
    cargo build --release -p vitesse-api

# The SPA alone (frontend/dist).
spa:
    trunk build --release

# Run the product on embedded SQLite (data/), UI and API on one port; demo admin on first run.
run bind="127.0.0.1:8080": build
    ./target/release/vitesse-identity serve --bind {{bind}} --demo

# Every test: formatting, lints, unit + integration (SQLite and PostgreSQL), OpenAPI, browser.
test: fmt-check lint
    scripts/ensure-postgres.sh
    cargo test --workspace --exclude vitesse-frontend
    # Tests that measure time run alone, so the others do not share the cores with them, and
    # against the release binary, as operators run it (the SPA built first: it goes inside).
    just build
    VITESSE_TEST_BIN={{justfile_directory()}}/target/release/vitesse-identity cargo test -p vitesse-api --test it -- --ignored --test-threads 1
    VITESSE_RELEASE_BIN={{justfile_directory()}}/target/release/vitesse-identity just e2e
    # The operator's tarball, unpacked into an empty directory and run.
    just dist
    scripts/dist.sh check

# Browser and HTTP tests against the real binary and the release SPA.
e2e: spa
    cargo build -p vitesse-api
    cd e2e && VITESSE_BIN=../target/debug/vitesse-identity npm test

# The operator's release: the optimised binary (SPA inside), README, LICENSE, docs, deploy/,
# as target/package/vitesse-identity-VERSION-ARCH-linux.tar.gz with its SHA-256.
dist: spa
    cargo build --profile dist -p vitesse-api
    scripts/dist.sh

fmt:
    cargo fmt --all

fmt-check:
    cargo fmt --all -- --check

lint:
    python3 scripts/module-graph.py > /dev/null
    cargo clippy --workspace --exclude vitesse-frontend --all-targets -- -D warnings
    cargo clippy -p vitesse-frontend --target wasm32-unknown-unknown -- -D warnings

# Regenerate the committed OpenAPI document from the code.
openapi:
    cargo run -q -p vitesse-api -- openapi > openapi/openapi.json

# Benchmarks: the token service on SQLite and PostgreSQL (wrk: warm, cold, under a storm),
# what usage counting costs it (on vs off),
# the client list at 100,000 clients per account (p50/p99 of every kind of query), then the SPA's budget (wasm size, first render of 1,000 clients).
bench: spa
    bench/run.sh
    bench/usage-cost.sh
    python3 bench/list-scale.py
    cargo build -p vitesse-api
    cd e2e && VITESSE_BIN=../target/debug/vitesse-identity node bench-spa.mjs
