#!/usr/bin/env bash
# `paraf sign` of a 1-page PDF as a whole process, side by side with poppler's `pdfsig
# -add-signature` in one hyperfine run, both with the same RSA-2048 key and certificate: a
# PKCS#12 written by `paraf ca issue` (2048 PBKDF2 rounds, OpenSSL 3's default), imported into
# an NSS database for pdfsig. Both write a PAdES B-B (pdfsig: adbe.pkcs7.detached) signature.
#
# Usage: bash benches/sign_process/run.sh    (PARAF_BIN=… to use another binary; RUNS=50)
# Needs: a release build (`cargo build --release -p paraf-cli`), hyperfine, pdfsig, pk12util,
# certutil, python3. Results: docs/benchmarks.md ("paraf sign as a process").
set -euo pipefail
cd "$(dirname "$0")/../.."
PARAF="${PARAF_BIN:-$PWD/target/release/paraf}"
RUNS="${RUNS:-50}"
DIR="$(mktemp -d /tmp/paraf-signproc.XXXXXX)"
trap 'rm -rf "$DIR"' EXIT

"$PARAF" ca init --dir "$DIR/ca" --public-url http://127.0.0.1:9 >/dev/null
"$PARAF" ca issue --dir "$DIR/ca" --cn "Budi Santoso" --key-type rsa2048 \
  --password rahasia --out "$DIR/budi.p12" >/dev/null
python3 benches/bsre/make_pdf.py "$DIR/one.pdf"
mkdir -p "$DIR/nss"
certutil -N --empty-password -d "sql:$DIR/nss"
pk12util -d "sql:$DIR/nss" -W rahasia -i "$DIR/budi.p12" >/dev/null 2>&1
NICK="$(certutil -L -d "sql:$DIR/nss" | awk '/u,u,u/ { $NF=""; sub(/ +$/, ""); print; exit }')"

hyperfine -N -w 5 -r "$RUNS" \
  -n "paraf sign" "$PARAF sign $DIR/one.pdf -o $DIR/paraf-out.pdf --p12 $DIR/budi.p12 --password rahasia" \
  -n "pdfsig -add-signature" "pdfsig -nssdir sql:$DIR/nss -add-signature -nick '$NICK' -new-signature-field-name Sig1 $DIR/one.pdf $DIR/pdfsig-out.pdf"
