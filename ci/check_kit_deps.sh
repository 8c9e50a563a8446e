#!/usr/bin/env bash
# The kit a backend author depends on holds none of our lab: no redb, no
# SQLite (libsqlite3-sys), no engine, in its normal dependency tree with every
# feature on. Prints the offending lines and fails if any is there.
set -euo pipefail
cd "$(dirname "$0")/.."
tree=$(cargo tree -p whatsapp-rust-conformance -e normal --all-features --locked --prefix none)
bad=$(grep -E '^(redb|libsqlite3-sys|whatsapp-rust-redb-storage|whatsapp-rust-sqlite-storage|whatsapp-rust-conformance-lab) ' <<<"$tree" || true)
if [ -n "$bad" ]; then
  echo "the kit's dependency tree holds lab crates:" >&2
  echo "$bad" >&2
  exit 1
fi
echo "kit dependency tree: $(sort -u <<<"$tree" | wc -l) crates, none of redb, libsqlite3-sys, the engine, SqliteStore, the lab"
