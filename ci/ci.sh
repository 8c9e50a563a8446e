#!/usr/bin/env bash
# Everything CI checks, in order, cheapest first. Called by .ci/run.
# Long budgets (benchmarks, crash loops) are not run here; fuzzing and the
# fault sweep run with short budgets.
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

step "the engine overrides every store-trait method"
python3 ci/check_overrides.py

step "build every crate, example and benchmark (debug)"
cargo build --workspace --all-targets --locked

step "clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "main job (the README's first command), then the kit on every backend"
cargo conformance check
cargo conformance check --backend all > /dev/null

step "fuzzing: every target for a short budget (ci/fuzz.sh)"
bash ci/fuzz.sh

step "tests (the README's test command)"
log=$(mktemp)
set +e
cargo test --workspace 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# cargo prints one "test result" line per test binary, the last often a
# doc-test run with 0 tests; print the totals as the closing line.
passed=$(grep -Eo '[0-9]+ passed' "$log" | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s+=$1} END {print s+0}')
rm -f "$log"
step "done in $(( $(date +%s) - start ))s"
echo "$passed passed, $failed failed"
exit "$status"
