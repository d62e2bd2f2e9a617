#!/usr/bin/env bash
# The whole test suite: installs what it needs, then runs every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
if [ -z "${PARAF_CORPUS:-}" ] && [ -d ../shared/corpus ]; then
  PARAF_CORPUS="$(cd ../shared/corpus && pwd)"
  export PARAF_CORPUS
fi
cargo test --workspace --locked --no-fail-fast "$@" 2>&1
