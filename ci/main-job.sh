#!/usr/bin/env bash
# The project's main job: check the embedded default, the redb engine.
# Until the conformance CLI exists (issue 3) this is the engine's own suite
# plus the pure-Rust dependency check; then it becomes `check --backend redb`.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== pure-Rust check of the engine's dependency tree"
python3 ci/check_pure_rust.py whatsapp-rust-redb-storage
echo "== engine test suite"
cargo test -p whatsapp-rust-redb-storage
