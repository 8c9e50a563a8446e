#!/usr/bin/env bash
# Everything CI checks, in order, cheapest first. Called by .ci/run.
#
# One build serves every workspace step: clippy checks, `cargo build
# --workspace --bins` and `cargo test --workspace` compile each crate once in
# one feature set (the main job's `cargo run`, the fleet and the smol bot run
# those binaries; `cargo run -p X` or `cargo build -p X` would resolve X's
# features alone and compile wacore again: measured, one more 180 MB waproto
# each). The third-party crate is outside the workspace with its own lock file,
# so it cannot share that build (its own feature set, like any author's crate):
# it builds last, in its own target dir, after the workspace's is removed, so
# the disk holds one build at a time (run this in a clean clone if you want
# to keep your own target/debug). No step builds another profile: the fuzz
# targets' committed inputs are replayed by `cargo test`
# (conformance/lab/tests/fuzz_inputs.rs), and long budgets (fuzzing, crash
# loops, fault sweeps, model runs, benchmarks) are opt-in commands
# (docs/RELIABILITY.md, fuzz/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
step() { echo; echo "== [$(( $(date +%s) - start ))s] $*"; }
third_party=examples/third-party/Cargo.toml
# A one-shot build gains nothing from incremental caches (7 GB here). CI
# builds without debuginfo: line tables alone were two thirds of every test
# binary (82 of 124 MB), ~45 of them, and a CI machine ran out of disk. A
# panic still names its file:line; a backtrace names functions only.
export CARGO_INCREMENTAL=0
export CARGO_PROFILE_DEV_DEBUG=false
disk() { echo "target: $(du -sh target 2>/dev/null | cut -f1), disk free: $(df -h . | awk 'NR==2 {print $4}')"; }

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

step "the workspace's binaries, in the feature set the tests use"
cargo build --workspace --bins --locked
disk

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
disk

step "servers for the kit's CLI: the storage suite on PostgreSQL, and a fleet of two bots"
cargo conformance check --family storage --backend postgres | tail -1
fleet() { target/debug/fleet start --bots 2 --dry-run --schema "ci_fleet_$$"; }
first=$(fleet | sort)
again=$(fleet | sort)
echo "$first"
# Two accounts, distinct identities, each kept across a restart of the fleet.
[ "$(echo "$first" | grep -c 'identity')" -eq 2 ]
[ "$(echo "$first" | awk '{print $NF}' | sort -u | wc -l)" -eq 2 ]
[ "$first" = "$again" ] || { echo "a restarted fleet changed identities:"; echo "$again"; exit 1; }

step "the smol bot example: no tokio in its dependency tree; it starts (--dry-run)"
if cargo tree --locked -p whatsapp-rust-smol-bot -e normal --prefix none | grep -E '^tokio(-[a-z]+)? '; then
  echo "the smol bot's dependency tree holds tokio" >&2
  exit 1
fi
echo "smol bot dependency tree: $(cargo tree --locked -p whatsapp-rust-smol-bot -e normal --prefix none | sort -u | wc -l) crates, no tokio"
target/debug/whatsapp-rust-smol-bot --session "$(mktemp -d)/s.redb" --proxy socks5://bot:secret@127.0.0.1:1080 --dry-run

step "the engine and the kit package for crates.io (cargo package builds each on its own)"
cargo package --locked -p whatsapp-rust-redb-storage -p whatsapp-rust-conformance
disk

step "a third-party crate outside the workspace validates its store with the kit"
# Its own lock file and feature set: nothing of the workspace's build is
# reused, so that build goes first and the disk holds one at a time.
rm -rf target/debug target/package
export CARGO_TARGET_DIR="$PWD/target/third-party"
set +e
cargo test --locked --manifest-path "$third_party" 2>&1 | tee -a "$log"
third_status=${PIPESTATUS[0]}
set -e
step "... and runs the kit's whole command line over its store (examples/conformance.rs)"
third_cli() { cargo run -q --locked --manifest-path "$third_party" --example conformance -- "$@"; }
third_cli check --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["schema"].startswith("whatsapp-rust-conformance/check/"), d; assert d["failed"] == 0, d; print("check:", d["passed"], "passed,", d["unsupported"], "unsupported")'
third_cli model --cases 32 --seed 1
third_cli checks --method put_mutation_macs > /dev/null
third_cli bench --quick --filter get_session --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["results"], d; print("bench:", len(d["results"]), "figures")'
if third_cli crash > /dev/null 2>&1; then echo "crash on a store that cannot reopen should be a usage error" >&2; exit 1; fi
disk

# cargo prints one "test result" line per test binary, the last often a
# doc-test run with 0 tests; print the totals as the closing line.
passed=$(grep -Eo '[0-9]+ passed' "$log" | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s+=$1} END {print s+0}')
rm -f "$log"
step "done in $(( $(date +%s) - start ))s"
echo "$passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$third_status" -eq 0 ]
