#!/usr/bin/env bash
# Signing benchmark: Paraf in-process (release build) against pyHanko in-process on the same
# files and identities, then `paraf sign` as a whole process (1-page file) and its peak memory
# (20 MB file). Results: see docs/benchmarks.md.
#
# Usage: bash scripts/bench.sh            (files go to $PARAF_BENCH_DIR, or a temporary directory)
# Needs: cargo, python3 with pyHanko; optional: hyperfine, /usr/bin/time (package `time`).
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
PARAF="$PWD/target/release/paraf"

echo "== Paraf, in-process: Document::load + sign, PAdES B-B invisible"
cargo bench --locked -p paraf-sign --bench sign

echo "== pyHanko $(python3 -c 'import importlib.metadata as m; print(m.version("pyhanko"))'), in-process: parse + sign, PAdES B-B invisible"
python3 benches/pyhanko_sign.py "$DIR"

echo
echo "== ratio (median pyHanko ms / median Paraf ms)"
awk -F'\t' '
  FNR == 1 { next }
  FILENAME ~ /paraf\.tsv$/ { paraf[$1 "\t" $2] = $5; next }
  { py[$1 "\t" $2] = $5; order[++n] = $1 "\t" $2 }
  END {
    printf "%-12s %-8s %12s %12s %8s\n", "case", "key", "paraf ms", "pyhanko ms", "ratio"
    for (i = 1; i <= n; i++) {
      k = order[i]; split(k, p, "\t")
      if (k in paraf && paraf[k] > 0)
        printf "%-12s %-8s %12.3f %12.3f %7.0fx\n", p[1], p[2], paraf[k], py[k], py[k] / paraf[k]
    }
  }' "$DIR/paraf.tsv" "$DIR/pyhanko.tsv"

echo
echo "== \`paraf sign\` as a whole process, 1 page, RSA-2048 (PKCS#12 opened on each run)"
SIGN1=("$PARAF" sign "$DIR/1page.pdf" -o "$DIR/1page-signed-cli.pdf" --p12 "$DIR/rsa2048.p12" --password bench)
if command -v hyperfine >/dev/null; then
  hyperfine --shell=none --warmup 3 --runs 30 --export-csv "$DIR/process.csv" \
    -n "paraf --version" "$PARAF --version" \
    -n "paraf sign 1page.pdf" "${SIGN1[*]}" >/dev/null
  awk -F, 'NR > 1 { printf "%-22s median %8.2f ms  (min %.2f, max %.2f)\n", $1, $4 * 1000, $7 * 1000, $8 * 1000 }' \
    "$DIR/process.csv"
else
  echo "(hyperfine not found: a loop of 30 runs timed with date +%s%N)"
  times=()
  for _ in 1 2 3; do "${SIGN1[@]}" >/dev/null; done
  for _ in $(seq 30); do
    t0=$(date +%s%N)
    "${SIGN1[@]}" >/dev/null
    t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END {
    printf "%-22s median %8.2f ms  (min %.2f, max %.2f)\n", "paraf sign 1page.pdf", a[int((NR + 1) / 2)] / 1000, a[1] / 1000, a[NR] / 1000 }'
fi

echo
echo "== peak memory of \`paraf sign\` (max RSS)"
if [ -x /usr/bin/time ]; then
  for f in 1page 20mb; do
    /usr/bin/time -v "$PARAF" sign "$DIR/$f.pdf" -o "$DIR/$f-signed-cli.pdf" --p12 "$DIR/rsa2048.p12" \
      --password bench 2>"$DIR/time-$f.txt" >/dev/null
    rss_kb=$(awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }' "$DIR/time-$f.txt")
    size=$(stat -c %s "$DIR/$f.pdf")
    echo "$f $size $rss_kb"
  done | awk '
    { size[$1] = $2; rss[$1] = $3 * 1024 }
    END {
      for (f in size)
        printf "%-8s file %9.2f MB  max RSS %7.2f MB  (%.2fx the file)\n", f, size[f] / 1048576, rss[f] / 1048576, rss[f] / size[f]
      printf "20mb over the 1-page baseline: %.2f MB = %.2fx the file\n",
        (rss["20mb"] - rss["1page"]) / 1048576, (rss["20mb"] - rss["1page"]) / size["20mb"]
    }'
else
  echo "/usr/bin/time not found (apt-get install time): skipped"
fi
echo
echo "files, signed outputs and raw results: $DIR"
