#!/usr/bin/env bash
# Everything CI checks, in order, cheapest first. Called by .ci/run.
#
# One build serves every step: clippy checks, then `cargo test --workspace`
# compiles each crate once (the main job's `cargo run` and the third-party
# crate reuse those artifacts; the third-party crate shares the target dir).
# No step builds another profile: the fuzz targets' committed inputs are
# replayed by `cargo test` (conformance/lab/tests/fuzz_inputs.rs), and long
# budgets (fuzzing, crash loops, fault sweeps, model runs, benchmarks) are
# opt-in commands (docs/RELIABILITY.md, fuzz/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
step() { echo; echo "== [$(( $(date +%s) - start ))s] $*"; }
third_party=examples/third-party/Cargo.toml
# A one-shot build gains nothing from incremental caches (7 GB here), and the
# third-party crate, whose own manifest sets no profile, must build with the
# workspace's debuginfo level to reuse its artifacts (Cargo.toml explains).
export CARGO_INCREMENTAL=0
export CARGO_PROFILE_DEV_DEBUG=line-tables-only

step "toolchain"
cargo --version
rustc --version

step "database servers for the server-backed tests (installed if missing)"
bash ci/servers.sh install
export CONFORMANCE_REQUIRE_SERVERS=1

step "formatting"
cargo fmt --all -- --check
cargo fmt --manifest-path "$third_party" -- --check

step "pure-Rust check: the engine must not build or link C"
python3 ci/check_pure_rust.py whatsapp-rust-redb-storage
step "pure-Rust check self-test: the SQLite benches crate must be flagged"
python3 ci/check_pure_rust.py whatsapp-rust-storage-benches --expect-impure

step "the kit holds none of the lab (no redb, no SQLite, no engine)"
bash ci/check_kit_deps.sh

step "clippy (every target; also the guard that every store-trait method is overridden)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "main job (the README's first command), then the kit on every backend"
cargo conformance check
cargo conformance check --backend all > /dev/null

step "servers on loopback (the lab's Postgres round trips need POSTGRES_URL)"
eval "$(bash ci/servers.sh start | grep '^export')"

step "tests (the README's test command)"
log=$(mktemp)
set +e
cargo test --workspace --locked 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

step "a third-party crate outside the workspace validates its store with the kit"
set +e
CARGO_TARGET_DIR="$PWD/target" cargo test --locked --manifest-path "$third_party" 2>&1 | tee -a "$log"
third_status=${PIPESTATUS[0]}
set -e
step "... and runs the kit's whole command line over its store (examples/conformance.rs)"
third_cli() { CARGO_TARGET_DIR="$PWD/target" cargo run -q --locked --manifest-path "$third_party" --example conformance -- "$@"; }
third_cli check --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["schema"].startswith("whatsapp-rust-conformance/check/"), d; assert d["failed"] == 0, d; print("check:", d["passed"], "passed,", d["unsupported"], "unsupported")'
third_cli model --cases 32 --seed 1
third_cli checks --method put_mutation_macs > /dev/null
third_cli bench --quick --filter get_session --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["results"], d; print("bench:", len(d["results"]), "figures")'
if third_cli crash > /dev/null 2>&1; then echo "crash on a store that cannot reopen should be a usage error" >&2; exit 1; fi

step "servers for the kit's CLI: the storage suite on PostgreSQL, and a fleet of two bots"
cargo conformance check --family storage --backend postgres | tail -1
fleet() { cargo run -q --locked -p whatsapp-rust-storage-examples --bin fleet -- start --bots 2 --dry-run --schema "ci_fleet_$$"; }
first=$(fleet | sort)
again=$(fleet | sort)
echo "$first"
# Two accounts, distinct identities, each kept across a restart of the fleet.
[ "$(echo "$first" | grep -c 'identity')" -eq 2 ]
[ "$(echo "$first" | awk '{print $NF}' | sort -u | wc -l)" -eq 2 ]
[ "$first" = "$again" ] || { echo "a restarted fleet changed identities:"; echo "$again"; exit 1; }

step "the smol bot example: no tokio in its dependency tree; it builds and starts (--dry-run)"
if cargo tree --locked -p whatsapp-rust-smol-bot -e normal --prefix none | grep -E '^tokio(-[a-z]+)? '; then
  echo "the smol bot's dependency tree holds tokio" >&2
  exit 1
fi
echo "smol bot dependency tree: $(cargo tree --locked -p whatsapp-rust-smol-bot -e normal --prefix none | sort -u | wc -l) crates, no tokio"
cargo run -q --locked -p whatsapp-rust-smol-bot -- --session "$(mktemp -d)/s.redb" --proxy socks5://bot:secret@127.0.0.1:1080 --dry-run

step "the engine and the kit package for crates.io (cargo package)"
cargo package --locked -p whatsapp-rust-redb-storage -p whatsapp-rust-conformance

# cargo prints one "test result" line per test binary, the last often a
# doc-test run with 0 tests; print the totals as the closing line.
passed=$(grep -Eo '[0-9]+ passed' "$log" | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s+=$1} END {print s+0}')
rm -f "$log"
step "disk used by the build"
du -sh target 2>/dev/null || true
step "done in $(( $(date +%s) - start ))s"
echo "$passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$third_status" -eq 0 ]
