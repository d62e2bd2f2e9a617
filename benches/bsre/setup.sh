#!/usr/bin/env bash
# Starts a release `paraf serve` on a fresh data directory with what the BSrE load scripts need:
# an application credential, an identity (passphrase), an organisation seal, a one-page PDF and
# the request bodies (multipart for v1, JSON with base64 for v2). Prints the server's pid.
#
#   benches/bsre/setup.sh DIR [PORT]      (default port 18080; the binary: $PARAF_BIN or target/release/paraf)
#
# Then run the wrk scripts in this folder (see docs/benchmarks.md, "BSrE API").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dir=${1:?usage: setup.sh DIR [PORT]}
port=${2:-18080}
bin=${PARAF_BIN:-$root/target/release/paraf}
[ -x "$bin" ] || { echo "build first: cargo build --release -p paraf-cli" >&2; exit 1; }
rm -rf "$dir"; mkdir -p "$dir"
data="$dir/data"
# PARAF_BENCH_WRAP prefixes the server's command (e.g. `taskset -c 0`); the server and
# `paraf admin` take the rest of their settings (PARAF_DATABASE_URL…) from the environment.
${PARAF_BENCH_WRAP:-} "$bin" serve --data "$data" --listen "127.0.0.1:$port" >"$dir/serve.out" 2>"$dir/serve.err" &
pid=$!
echo "$pid" >"$dir/serve.pid"
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
admin() { "$bin" admin --data "$data" "$@" >/dev/null; }
admin app-credential create --org default --username bench --password 'Rahasia-Bench-2026' --allow-ip 127.0.0.1/32
admin identity create --org default --name "Budi Santoso" --email budi@example.go.id \
  --nik 3171012345678901 --passphrase 'passphrase-budi'
admin seal create --org default --id-subscriber SEAL-001 --name "Dinas X" --email segel@example.go.id

python3 "$here/make_pdf.py" "$dir/1page.pdf"
python3 - "$dir" <<'PY'
import base64, json, sys
d = sys.argv[1]
pdf = open(f"{d}/1page.pdf", "rb").read()
b64 = base64.b64encode(pdf).decode()
# v1 multipart: passphrase, invisible.
boundary = "----parafbench7d1f"
parts = []
for name, value in [("nik", "3171012345678901"), ("passphrase", "passphrase-budi"), ("tampilan", "invisible")]:
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="1page.pdf"\r\n'
             f'Content-Type: application/pdf\r\n\r\n'.encode() + pdf + b"\r\n")
parts.append(f"--{boundary}--\r\n".encode())
open(f"{d}/v1.body", "wb").write(b"".join(parts))
open(f"{d}/v1.boundary", "w").write(boundary)
# v2 bulk: 100 one-page files, one property for all, passphrase.
def v2(n):
    return json.dumps({"nik": "3171012345678901", "passphrase": "passphrase-budi",
                       "signatureProperties": [{"tampilan": "INVISIBLE"}], "file": [b64] * n})
open(f"{d}/v2-100.json", "w").write(v2(100))
open(f"{d}/v2-1.json", "w").write(v2(1))
# seal bodies: the OTP is filled in per request (placeholder OTP_HERE).
for n in (1, 10, 50, 100):
    open(f"{d}/seal-{n}.json", "w").write(json.dumps({
        "idSubscriber": "SEAL-001", "totp": "OTP_HERE",
        "signatureProperties": [{"tampilan": "INVISIBLE"}], "file": [b64] * n}))
PY
# Activate the seal: the activation TOTP comes from the development outbox.
base="http://127.0.0.1:$port"
curl -fs -u 'bench:Rahasia-Bench-2026' -H 'Content-Type: application/json' \
  -d '{"idSubscriber":"SEAL-001"}' "$base/api/v2/seal/get/activation" >/dev/null
act=$("$bin" admin --data "$data" outbox list --org default --limit 1 --full \
  | sed -n 's/^TOTP aktivasi segel elektronik .*: \([0-9]*\)$/\1/p')
[ -n "$act" ] || { echo "no activation TOTP in the outbox" >&2; exit 1; }
echo "$act" >"$dir/activation.totp"
echo "$pid"
