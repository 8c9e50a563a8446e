#!/usr/bin/env bash
# Everything CI checks, in order, cheapest first. Called by .ci/run.
# Long budgets (benchmarks, fuzzing, crash loops) are not run here.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
step() { echo; echo "== [$(( $(date +%s) - start ))s] $*"; }

step "toolchain"
cargo --version
rustc --version

step "formatting"
cargo fmt --all -- --check

step "pure-Rust check: the engine must not build or link C"
python3 ci/check_pure_rust.py whatsapp-rust-redb-storage
step "pure-Rust check self-test: the SQLite benches crate must be flagged"
python3 ci/check_pure_rust.py whatsapp-rust-storage-benches --expect-impure

step "build every crate, example and benchmark (debug)"
cargo build --workspace --all-targets --locked

step "clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "tests (the README's test command)"
cargo test --workspace

step "done in $(( $(date +%s) - start ))s"
