#!/usr/bin/env bash
# Signing benchmark: Paraf in-process (release build) against pyHanko in-process on the same
# files and identities, then `paraf sign` as a whole process (1-page file) and its peak memory
# (20 MB file). Results: see docs/benchmarks.md.
#
# Usage: bash scripts/bench.sh    Files and raw results go to $PARAF_BENCH_DIR (default: a new
#        temporary directory). PARAF_BENCH_NO_JITTER=1 also builds `paraf` without aws-lc's CPU
#        jitter entropy (target/nojitter, a second release build) and times it.
# Needs: cargo, python3 with pyHanko, openssl; optional: hyperfine, /usr/bin/time (package `time`).
set -euo pipefail
cd "$(dirname "$0")/.."

DIR="${PARAF_BENCH_DIR:-}"
if [ -z "$DIR" ]; then
  DIR="$(mktemp -d /tmp/paraf-bench.XXXXXX)"
fi
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
export PARAF_BENCH_DIR="$DIR"

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "== build (release)"
cargo build --release --locked -p paraf-cli
PARAF="${CARGO_TARGET_DIR:-$PWD/target}/release/paraf"

echo "== Paraf, in-process: Document::load + sign, PAdES B-B invisible"
cargo bench --locked -p paraf-sign --bench sign
BENCH_BIN="$(cargo bench --locked -p paraf-sign --bench sign --no-run 2>&1 |
  sed -n 's/.*Executable .*(\(.*\)).*/\1/p')"
case "$BENCH_BIN" in /*) ;; *) BENCH_BIN="$PWD/$BENCH_BIN" ;; esac

echo "== pyHanko $(python3 -c 'import importlib.metadata as m; print(m.version("pyhanko"))'), in-process: parse + sign, PAdES B-B invisible"
python3 benches/pyhanko_sign.py "$DIR"

echo
echo "== ratio: median pyHanko ms / median Paraf ms (sign, and sign_owned)"
awk -F'\t' '
  FNR == 1 { next }
  FILENAME ~ /paraf\.tsv$/ { paraf[$1 "\t" $2] = $5; next }
  { py[$1 "\t" $2] = $5; order[++n] = $1 "\t" $2 }
  END {
    printf "%-10s %-8s %10s %10s %11s %8s %8s\n", "case", "key", "sign ms", "owned ms", "pyhanko ms", "ratio", "owned"
    for (i = 1; i <= n; i++) {
      k = order[i]; split(k, p, "\t"); o = k ":owned"
      if (k in paraf && paraf[k] > 0 && o in paraf && paraf[o] > 0)
        printf "%-10s %-8s %10.3f %10.3f %11.3f %7.1fx %7.1fx\n", p[1], p[2], paraf[k], paraf[o], py[k], py[k] / paraf[k], py[k] / paraf[o]
    }
  }' "$DIR/paraf.tsv" "$DIR/pyhanko.tsv"

echo
echo "== \`paraf sign\` as a whole process, 1 page, RSA-2048"
# A PKCS#12 with a 1-round KDF (same key) shows what the 100 000-round PBKDF2 of ours costs.
if command -v openssl >/dev/null; then
  openssl pkcs12 -export -inkey "$DIR/rsa2048-key.pem" -in "$DIR/rsa2048-cert.pem" \
    -certfile "$DIR/chain.pem" -passout pass:bench -iter 1 -nomaciter -out "$DIR/rsa2048-fastkdf.p12"
fi
NAMES=()
CMDS=()
add() { NAMES+=("$1"); CMDS+=("$2"); }
sign_cmd() { echo "$1 sign $DIR/1page.pdf -o $DIR/1page-signed-cli.pdf --p12 $DIR/$2 --password bench"; }
add_signs() {
  add "$2 sign (p12 100k-round KDF)" "$(sign_cmd "$1" rsa2048.p12)"
  if [ -f "$DIR/rsa2048-fastkdf.p12" ]; then
    add "$2 sign (p12 1-round KDF)" "$(sign_cmd "$1" rsa2048-fastkdf.p12)"
  fi
}
add "paraf --version" "$PARAF --version"
add_signs "$PARAF" "paraf"
# Opt-in: aws-lc seeds its RNG from CPU jitter once per process (tens of ms); a build without it
# (AWS_LC_SYS_NO_JITTER_ENTROPY=1) shows the difference. A second full release build: minutes.
if [ "${PARAF_BENCH_NO_JITTER:-0}" = 1 ]; then
  AWS_LC_SYS_NO_JITTER_ENTROPY=1 CARGO_TARGET_DIR=target/nojitter \
    cargo build --release --locked -p paraf-cli
  add_signs "$PWD/target/nojitter/release/paraf" "no-jitter"
fi
if command -v hyperfine >/dev/null; then
  args=()
  for i in "${!NAMES[@]}"; do args+=(-n "${NAMES[$i]}" "${CMDS[$i]}"); done
  hyperfine --shell=none --warmup 3 --runs 30 --export-csv "$DIR/process.csv" "${args[@]}" >/dev/null
  awk -F, 'NR > 1 { printf "%-36s median %8.2f ms  (min %.2f, max %.2f)\n", $1, $4 * 1000, $7 * 1000, $8 * 1000 }' \
    "$DIR/process.csv"
else
  echo "(hyperfine not found: 30 runs each, timed with date +%s%N)"
  for i in "${!NAMES[@]}"; do
    read -r -a cmd <<<"${CMDS[$i]}"
    for _ in 1 2 3; do "${cmd[@]}" >/dev/null; done
    for _ in $(seq 30); do
      t0=$(date +%s%N)
      "${cmd[@]}" >/dev/null
      t1=$(date +%s%N)
      echo $(((t1 - t0) / 1000))
    done | sort -n | awk -v name="${NAMES[$i]}" '{ a[NR] = $1 } END {
      printf "%-36s median %8.2f ms  (min %.2f, max %.2f)\n", name, a[int((NR + 1) / 2)] / 1000, a[1] / 1000, a[NR] / 1000 }'
  done
fi

echo
echo "== peak memory (max RSS) signing the 20 MB file, over the same command on the 1-page file"
if [ -x /usr/bin/time ]; then
  size=$(stat -c %s "$DIR/20mb.pdf")
  for mode in cli sign owned; do
    rss=()
    for f in 1page 20mb; do
      if [ "$mode" = cli ]; then
        cmd=("$PARAF" sign "$DIR/$f.pdf" -o "$DIR/$f-signed-cli.pdf" --p12 "$DIR/rsa2048.p12" --password bench)
      else
        cmd=("$BENCH_BIN" --sign-once "$mode" "$DIR/$f.pdf" "$DIR/rsa2048.p12")
      fi
      /usr/bin/time -f "%M" -o "$DIR/maxrss.txt" "${cmd[@]}" >/dev/null
      rss+=("$(($(tail -1 "$DIR/maxrss.txt") * 1024))")
    done
    case $mode in
      cli) what="paraf sign (CLI)" ;;
      sign) what="sign (bench --sign-once)" ;;
      owned) what="sign_owned (bench --sign-once)" ;;
    esac
    awk -v w="$what" -v base="${rss[0]}" -v big="${rss[1]}" -v size="$size" 'BEGIN {
      printf "%-31s %6.2f MB for a %.2f MB file = %.2fx the file; %.2fx over its 1-page run (%.2f MB)\n",
        w, big / 1048576, size / 1048576, big / size, (big - base) / size, base / 1048576 }'
  done
else
  echo "/usr/bin/time not found (apt-get install time): skipped"
fi
echo
echo "files, signed outputs and raw results: $DIR"
