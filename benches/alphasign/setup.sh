#!/usr/bin/env bash
# Starts a release `paraf serve` on a fresh data directory with what the Alphasign load scripts
# need: an organisation `bench` on the Nusantara plan, its admin, TOKENS API tokens (one per
# line in DIR/tokens.txt; default 400) and the multipart body of a one-page upload.
# Prints the server's pid.
#
#   benches/alphasign/setup.sh DIR [PORT]   (default port 18081; the binary: $PARAF_BIN or target/release/paraf)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dir=${1:?usage: setup.sh DIR [PORT]}
port=${2:-18081}
tokens=${TOKENS:-400}
bin=${PARAF_BIN:-$root/target/release/paraf}
[ -x "$bin" ] || { echo "build first: cargo build --release -p paraf-cli" >&2; exit 1; }
rm -rf "$dir"; mkdir -p "$dir"
data="$dir/data"
"$bin" serve --data "$data" --listen "127.0.0.1:$port" >"$dir/serve.out" 2>"$dir/serve.err" &
pid=$!
echo "$pid" >"$dir/serve.pid"
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
admin() { "$bin" admin --data "$data" "$@"; }
admin org create --name "PT Bench" --slug bench --plan nusantara >/dev/null
admin user create --org bench --name "Bench Admin" --email admin@bench.example --role admin \
  --password 'Rahasia-Bench-2026' >/dev/null
: >"$dir/tokens.txt"
for i in $(seq 1 "$tokens"); do
  admin token create --org bench --user admin@bench.example --name "bench $i" >>"$dir/tokens.txt"
done
python3 "$root/benches/bsre/make_pdf.py" "$dir/1page.pdf"
python3 - "$dir" <<'PY'
import sys
d = sys.argv[1]
pdf = open(f"{d}/1page.pdf", "rb").read()
boundary = "----parafbenchalpha"
parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nKontrak Kerja\r\n'.encode()]
for i, (name, email) in enumerate([("John Doe", "john@example.com"), ("Jane Smith", "jane@example.com")]):
    for k, v in (("name", name), ("email", email)):
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="signers[{i}][{k}]"\r\n\r\n{v}\r\n'.encode())
parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="kontrak.pdf"\r\n'
             f'Content-Type: application/pdf\r\n\r\n'.encode() + pdf + b"\r\n")
parts.append(f"--{boundary}--\r\n".encode())
open(f"{d}/upload.body", "wb").write(b"".join(parts))
open(f"{d}/upload.boundary", "w").write(boundary)
PY
echo "$pid"
