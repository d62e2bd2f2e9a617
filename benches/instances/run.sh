#!/usr/bin/env bash
# Sign throughput of one instance vs two on the same PostgreSQL database and S3-compatible
# bucket (docs/benchmarks.md, "Many instances"): BSrE v1 POST /api/sign/pdf (passphrase,
# 1-page PDF, invisible, B-T with the built-in TSA), the CA in the database, blobs in a
# moto_server bucket. Each instance is pinned to one core (taskset) so that it is CPU-bound on
# it; PostgreSQL, moto_server and wrk share the machine.
#
#   cargo build --release -p paraf-cli && bash benches/instances/run.sh
#
# Needs wrk, taskset, psql (PostgreSQL at 127.0.0.1:5432, trust auth, database `test`),
# moto_server (pip install 'moto[server]'). SECS = duration of each run (default 20),
# CONNS = connections per instance (default 4).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
for t in wrk taskset psql moto_server; do
  command -v "$t" >/dev/null || { echo "needs $t" >&2; exit 1; }
done
bin=${PARAF_BIN:-$root/target/release/paraf}
export PARAF_BIN="$bin"
secs=${SECS:-20}
conns=${CONNS:-4}
dir=$(mktemp -d)
db="paraf_bench_$$"
psql -q -h 127.0.0.1 -U postgres -d test -c "CREATE DATABASE $db"
mport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
moto_server -H 127.0.0.1 -p "$mport" >/dev/null 2>&1 &
moto=$!
pids=()
cleanup() {
  kill "${pids[@]}" "$moto" 2>/dev/null || true
  sleep 1
  psql -q -h 127.0.0.1 -U postgres -d test -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
  rm -rf "$dir"
}
trap cleanup EXIT
for _ in $(seq 150); do curl -s -o /dev/null "http://127.0.0.1:$mport" && break; sleep 0.2; done
curl -s -X PUT -o /dev/null "http://127.0.0.1:$mport/paraf-bench"
export PARAF_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db" PARAF_CA_STORE=database \
  PARAF_CA_PASSPHRASE="bench passphrase of the shared CA" PARAF_BLOB_STORE=s3://paraf-bench/b \
  AWS_ENDPOINT="http://127.0.0.1:$mport" AWS_ALLOW_HTTP=true AWS_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing

# Instance A (core 0) with the credential, identity and request bodies of the BSrE bench.
pids+=("$(PARAF_BENCH_WRAP="taskset -c 0" "$root/benches/bsre/setup.sh" "$dir/a" 18081 | tail -1)")
# Instance B (core 1): another, empty data directory.
taskset -c 1 "$bin" serve --data "$dir/b/data" --listen 127.0.0.1:18082 >"$dir/b.out" 2>&1 &
pids+=("$!")
for _ in $(seq 100); do curl -fs http://127.0.0.1:18082/readyz >/dev/null 2>&1 && break; sleep 0.1; done
export BENCH_DIR="$dir/a" BENCH_LUA="$root/benches/bsre"
rate() { sed -n 's/^Requests\/sec: *//p' "$1"; }
# CPU seconds (user + system) used so far by the processes whose command line matches $1.
cpu() {
  local total=0 p
  for p in $(pgrep -f "$1"); do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "scale=1; $total / $(getconf CLK_TCK)" | bc
}
usage() {
  echo "   CPU seconds over the run: A $(echo "$(cpu 'listen 127.0.0.1:18081') - $1" | bc), B $(echo "$(cpu 'listen 127.0.0.1:18082') - $2" | bc), PostgreSQL $(echo "$(cpu 'postgres') - $3" | bc), moto_server $(echo "$(cpu moto_server) - $4" | bc) (of ${secs} s per core)"
}
snap() { echo "$(cpu 'listen 127.0.0.1:18081') $(cpu 'listen 127.0.0.1:18082') $(cpu 'postgres') $(cpu moto_server)"; }
echo "== load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== warm-up"
wrk -t2 -c"$conns" -d5s -s "$root/benches/bsre/v1_sign.lua" http://127.0.0.1:18081 >/dev/null
wrk -t2 -c"$conns" -d5s -s "$root/benches/bsre/v1_sign.lua" http://127.0.0.1:18082 >/dev/null
echo "== one instance (A, core 0), $conns connections"
before=$(snap)
wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$root/benches/bsre/v1_sign.lua" http://127.0.0.1:18081 | tee "$dir/one.txt"
usage $before
echo "== two instances (A core 0, B core 1), $conns connections each, at the same time"
before=$(snap)
wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$root/benches/bsre/v1_sign.lua" http://127.0.0.1:18081 >"$dir/two-a.txt" &
w=$!
wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$root/benches/bsre/v1_sign.lua" http://127.0.0.1:18082 >"$dir/two-b.txt"
wait "$w"
usage $before
cat "$dir/two-a.txt" "$dir/two-b.txt"
one=$(rate "$dir/one.txt"); a=$(rate "$dir/two-a.txt"); b=$(rate "$dir/two-b.txt")
python3 - "$one" "$a" "$b" <<'PY'
import sys
one, a, b = map(float, sys.argv[1:])
print(f"== one instance: {one:.1f} signatures/s; two: {a:.1f} + {b:.1f} = {a + b:.1f}/s; ratio {(a + b) / one:.2f}")
PY
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
