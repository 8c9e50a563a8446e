#!/usr/bin/env bash
# The project's main job (the README's first set-up command): the conformance
# kit against the embedded default, our redb engine.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo conformance check "$@"
