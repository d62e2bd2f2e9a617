#!/usr/bin/env bash
# The BSrE API measurements of docs/benchmarks.md ("BSrE API"), against a fresh release server:
#   (a) v1 POST /api/sign/pdf, passphrase, 1-page PDF, invisible: latency, one client;
#   (b) v2 POST /api/v2/sign/pdf with 100 one-page files: latency, one client;
#   (c) seal throughput, 4 concurrent clients, each alternating seal/get/totp and seal/pdf,
#       with 1, 10, 50 and 100 files per sealing request; and 1 file with 16 clients.
#
#   cargo build --release -p paraf-cli && bash benches/bsre/run.sh
#
# PARAF_BIN picks the binary (default target/release/paraf), PARAF_BENCH_DIR keeps the files,
# SECS the duration of each run (default 20).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
command -v wrk >/dev/null || { echo "needs wrk (apt-get install -y wrk)" >&2; exit 1; }
dir=${PARAF_BENCH_DIR:-$(mktemp -d)}
port=${PORT:-18080}
secs=${SECS:-20}
pid=$("$here/setup.sh" "$dir" "$port" | tail -1)
trap 'kill "$pid" 2>/dev/null || true' EXIT
export BENCH_DIR="$dir" BENCH_LUA="$here"
url="http://127.0.0.1:$port"
echo "== load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== (a) v1 sign, 1 client"
wrk -t1 -c1 -d"${secs}s" --latency -s "$here/v1_sign.lua" "$url"
echo "== (b) v2 sign, 100 files per request, 1 client"
wrk -t1 -c1 -d"${secs}s" --latency -s "$here/v2_bulk.lua" "$url"
for files in 1 10 50 100; do
  echo "== (c) seal, $files files per request, 4 clients"
  FILES=$files wrk -t4 -c4 -d"${secs}s" --latency -s "$here/seal.lua" "$url"
done
echo "== (c) seal, 1 file per request, 16 clients"
FILES=1 wrk -t16 -c16 -d"${secs}s" --latency -s "$here/seal.lua" "$url"
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
