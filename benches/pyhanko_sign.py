#!/usr/bin/env python3
"""pyHanko side of the signing benchmark: signs, in-process, the files that
`cargo bench -p paraf-sign --bench sign` wrote to DIR (1page.pdf, 100pages.pdf, 20mb.pdf)
with the same RSA-2048 and P-256 identities (KEY-key.pem, KEY-cert.pem, chain.pem).

Each iteration parses the bytes (IncrementalPdfFileWriter) and signs them as a PAdES
B-B invisible signature into memory, as Paraf's benchmark times Document::load + sign.
Prints the same table shape and writes DIR/pyhanko.tsv.

Usage: python3 benches/pyhanko_sign.py DIR
"""

import os
import statistics
import sys
import time
from io import BytesIO

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

CASES = ["1page", "100pages", "20mb"]
KEYS = ["rsa2048", "p256"]
BUDGET_S = 3.0
MIN_ITERS = 5
MAX_ITERS = 500


def measure(f):
    """Warm up, then run until the budget is spent; returns the sorted times in ms."""
    for _ in range(2):
        f()
    times = []
    start = time.perf_counter()
    while len(times) < MIN_ITERS or (
        time.perf_counter() - start < BUDGET_S and len(times) < MAX_ITERS
    ):
        t = time.perf_counter()
        f()
        times.append((time.perf_counter() - t) * 1e3)
    return sorted(times)


def human_size(n):
    if n >= 1 << 20:
        return f"{n / (1 << 20):.1f} MB"
    return f"{n / 1024:.1f} KB"


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: pyhanko_sign.py DIR (the directory the Rust benchmark wrote)")
    d = sys.argv[1]
    signer_of = {
        key: signers.SimpleSigner.load(
            os.path.join(d, f"{key}-key.pem"),
            os.path.join(d, f"{key}-cert.pem"),
            ca_chain_files=(os.path.join(d, "chain.pem"),),
        )
        for key in KEYS
    }
    meta = signers.PdfSignatureMetadata(
        field_name="Signature1", subfilter=fields.SigSeedSubFilter.PADES
    )
    rows = []
    for case in CASES:
        with open(os.path.join(d, f"{case}.pdf"), "rb") as fh:
            data = fh.read()
        for key in KEYS:
            signer = signer_of[key]

            def run():
                w = IncrementalPdfFileWriter(BytesIO(data))
                out = signers.sign_pdf(w, meta, signer=signer, output=BytesIO())
                return out

            if key == KEYS[0]:
                with open(os.path.join(d, f"{case}-signed-pyhanko.pdf"), "wb") as fh:
                    fh.write(run().getvalue())
            times = measure(run)
            rows.append((case, key, len(data), len(times), statistics.median(times), times[0]))

    print(f"\n{'case':<12} {'key':<12} {'size':>10} {'iters':>6} {'median ms':>11} {'min ms':>9}")
    for case, key, size, iters, median, best in rows:
        print(f"{case:<12} {key:<12} {human_size(size):>10} {iters:>6} {median:>11.3f} {best:>9.3f}")
    with open(os.path.join(d, "pyhanko.tsv"), "w") as fh:
        fh.write("case\tkey\tbytes\titers\tmedian_ms\tmin_ms\n")
        for case, key, size, iters, median, best in rows:
            fh.write(f"{case}\t{key}\t{size}\t{iters}\t{median:.3f}\t{best:.3f}\n")


if __name__ == "__main__":
    main()
