#!/usr/bin/env bash
# The Signing Today measurements of docs/benchmarks.md ("Signing Today API"), against a fresh
# release server (SQLite, files on disk, default settings):
#   (b) POST /api/DST/{template}/instantiate/byFile with an XLSX of 1,000 rows (one DST per
#       row), ten times in a row: the time of each (curl's time_total); this also fills the
#       organisation with ~10,000 DSTs (the Nusantara plan's 10,000 documents a month end the
#       last file one row early: reported as that row's error);
#   (a) GET /api/DSTs?$top=50 latency with those ~10,000 DSTs: one connection, wrk, tokens in
#       turn (so the plan's per-token rate limit never refuses).
#
#   cargo build --release -p paraf-cli && bash benches/signingtoday/run.sh
#
# PARAF_BIN picks the binary, PARAF_BENCH_DIR keeps the files, SECS the wrk duration (10).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
command -v wrk >/dev/null || { echo "needs wrk (apt-get install -y wrk)" >&2; exit 1; }
dir=${PARAF_BENCH_DIR:-$(mktemp -d)}
port=${PORT:-18083}
secs=${SECS:-10}
pid=$(TOKENS=60 "$root/benches/alphasign/setup.sh" "$dir" "$port" | tail -1)
trap 'kill "$pid" 2>/dev/null || true' EXIT
export BENCH_DIR="$dir"
url="http://127.0.0.1:$port"
token=$(head -1 "$dir/tokens.txt")
# The template: one page, one role (Tenant) with a signature form.
python3 - "$dir" <<'PY'
import base64, json, sys
d = sys.argv[1]
pdf = base64.b64encode(open(f"{d}/1page.pdf", "rb").read()).decode()
body = {"title": "Lease", "template": True, "documents": [{
    "resource": {"filename": "lease.pdf", "resourceType": "PDF_Document",
                 "source": {"type": "Embedded", "embeddedData": pdf}},
    "forms": [{"id": 0, "type": "SignatureForm", "positionX": 10, "positionY": 70, "width": 30,
               "height": 8, "page": 1, "signerId": 0}],
    "signatureRequests": [{"id": 0, "signerId": 0, "signProfile": "PAdES"}],
    "signerGroups": [{"label": "Tenant", "signers": [{"id": 0, "name": "T", "surname": "T",
        "email": "tenant@example.com", "templateLabel": "Tenant"}]}]}]}
open(f"{d}/template.json", "w").write(json.dumps(body))
PY
tid=$(curl -fs -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  --data-binary @"$dir/template.json" "$url/api/DSTs" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
echo "== load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== (b) instantiate/byFile, XLSX of 1,000 rows, 10 times"
for round in $(seq 1 10); do
  python3 "$here/make_xlsx.py" "$dir/rows-$round.xlsx" 1000 "r$round"
  curl -s -o "$dir/byfile-$round.json" -w "round $round: %{time_total} s, HTTP %{http_code}, " \
    -H "Authorization: Bearer $token" -F "file=@$dir/rows-$round.xlsx" -F "title=Round $round" \
    "$url/api/DST/$tid/instantiate/byFile"
  python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); print(len(v.get("dstIDs", [])), "DSTs,", len(v.get("errors", [])), "row errors")' "$dir/byfile-$round.json"
done
curl -fs -H "Authorization: Bearer $token" "$url/api/DSTs?\$top=1&\$count=true" \
  | python3 -c 'import json,sys; print("DSTs in the organisation:", json.load(sys.stdin)["count"])'
echo "== (a) GET /api/DSTs?\$top=50, 1 connection"
wrk -t1 -c1 -d"${secs}s" --latency -s "$here/list.lua" "$url"
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
