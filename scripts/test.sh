#!/usr/bin/env bash
# The whole test suite: installs what it needs, then runs every test of the workspace
# (store and server tests run on SQLite and on PostgreSQL at 127.0.0.1:5432).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
if [ -z "${PARAF_CORPUS:-}" ] && [ -d ../shared/corpus ]; then
  PARAF_CORPUS="$(cd ../shared/corpus && pwd)"
  export PARAF_CORPUS
fi
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
cargo test --workspace --locked --no-fail-fast "$@" 2>&1 | tee "$log" || status=$?
# One closing line over all test binaries.
awk '/^test result:/ { p += $4; f += $6 } END { printf "paraf: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
