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

# The S3 pass: the server tests that write, read and delete blobs (envelopes, signing,
# sealing, archive renewal, downloads — streamed and checked —, proofs, fsck), again with every blob in an S3-compatible bucket
# (moto_server, on a free loopback port). Skipped when arguments narrow the run.
if [ "$#" -eq 0 ]; then
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  moto_server -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
  moto=$!
  trap 'kill "$moto" 2>/dev/null || true; rm -f "$log"' EXIT
  for _ in $(seq 150); do curl -s -o /dev/null "http://127.0.0.1:$port" && break; sleep 0.2; done
  curl -s -X PUT -o /dev/null "http://127.0.0.1:$port/paraf-tests"
  echo "S3 pass: blobs in s3://paraf-tests on moto_server at 127.0.0.1:$port"
  AWS_ENDPOINT="http://127.0.0.1:$port" AWS_ALLOW_HTTP=true AWS_REGION=us-east-1 \
    AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing PARAF_TEST_BLOB_STORE=s3://paraf-tests \
    cargo test -p paraf-server --test http --locked --no-fail-fast -- \
      ext_envelopes:: envelopes:: proof:: gesdocs_proof:: alphasign:: fsck:: downloads:: gesdocs_share:: archive:: 2>&1 | tee -a "$log" || status=$?
fi
# One closing line over all test binaries.
awk '/^test result:/ { p += $4; f += $6 } END { printf "paraf: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
