#!/usr/bin/env bash
# The Alphasign measurements of docs/benchmarks.md ("Alphasign API"), against a fresh release
# server (SQLite, files on disk):
#   (a) GET /api/v1/me throughput with the plan's rate limits on: 2 wrk threads, 32 connections,
#       requests spread over 400 tokens of a Nusantara organisation;
#   (b) POST /api/v1/documents latency: a one-page PDF with two signers, one client, one request
#       every 20 ms over the same tokens (no rate limit or quota in the way).
#
#   cargo build --release -p paraf-cli && bash benches/alphasign/run.sh
#
# PARAF_BIN picks the binary, PARAF_BENCH_DIR keeps the files, SECS the duration (default 10).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
command -v wrk >/dev/null || { echo "needs wrk (apt-get install -y wrk)" >&2; exit 1; }
dir=${PARAF_BENCH_DIR:-$(mktemp -d)}
port=${PORT:-18081}
secs=${SECS:-10}
pid=$("$here/setup.sh" "$dir" "$port" | tail -1)
trap 'kill "$pid" 2>/dev/null || true' EXIT
export BENCH_DIR="$dir"
url="http://127.0.0.1:$port"
echo "== load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== (a) GET /api/v1/me, 400 tokens, 32 connections"
wrk -t2 -c32 -d"${secs}s" --latency -s "$here/me.lua" "$url"
echo "== (b) POST /api/v1/documents, 1 page, 1 client"
wrk -t1 -c1 -d"${secs}s" --latency -s "$here/upload.lua" "$url"
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
