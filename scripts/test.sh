#!/usr/bin/env bash
# The one test command (README, .ci/run): sets up the machine, then runs every check.
# Fails loudly at the first failing step.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { echo; echo "=== $* ==="; }

step "machine set-up"
./scripts/setup-machine.sh
./tests/nix/setup-nix.sh

step "format"
cargo fmt --all --check

step "nixfmt"
./scripts/nixfmt.sh

step "clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo tests"
cargo test --workspace --locked

step "release binaries for end-to-end and Nix tests"
cargo build --release --locked -p resolver -p dbgen -p crawler

step "sample DB is reproducible from the bundled crawl state"
./sample/build-db.sh --check

step "sample job"
./scripts/sample.sh

step "publication job, end to end on a loopback index"
./tests/e2e/publish-test.sh

step "workflow lint"
./scripts/actionlint.sh

step "real-nixpkgs scripts: syntax, shellcheck, skip without PINION_NIXPKGS, flake pins"
./tests/real-nixpkgs/selftest.sh

step "rust-version fits the resolver's locked dependencies and the oldest supported nixpkgs' rustc"
./scripts/rust-version.sh

step "Nix library tests"
PINION_REQUIRE_RESOLVER=1 ./tests/nix/run.sh

echo; echo "all checks passed"
