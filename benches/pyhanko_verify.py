"""Times pyHanko's in-process validation of PDF signatures, for `cargo bench -p paraf-verify`.

Usage: python3 benches/pyhanko_verify.py ROOT.pem FILE.pdf [FILE.pdf ...]

For each file: open it, and validate every embedded signature with a ValidationContext that
trusts ROOT.pem and uses the revocation data embedded in the file (DSS) without fetching.
Prints one JSON object per file: {"file", "median_ms", "min_ms", "runs", "summary"}.
"""
import json
import statistics
import sys
import timeit

from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext


def validate(path, root):
    with open(path, "rb") as f:
        reader = PdfFileReader(f)
        dss = reader.root.get("/DSS")
        ocsps, crls = [], []
        if dss is not None:
            dss = dss.get_object()
            ocsps = [o.get_object().data for o in dss.get("/OCSPs", [])]
            crls = [c.get_object().data for c in dss.get("/CRLs", [])]
        vc = ValidationContext(
            trust_roots=[root], allow_fetching=False, ocsps=ocsps, crls=crls, revocation_mode="soft-fail"
        )
        out = []
        for sig in reader.embedded_regular_signatures:
            status = validate_pdf_signature(sig, vc)
            out.append(status.summary())
        return out


def main():
    root = load_cert_from_pemder(sys.argv[1])
    for path in sys.argv[2:]:
        summary = validate(path, root)
        # Aim for about two seconds per file, at least 5 runs.
        one = min(timeit.repeat(lambda: validate(path, root), number=1, repeat=3))
        runs = max(5, min(500, int(2.0 / max(one, 1e-6))))
        times = timeit.repeat(lambda: validate(path, root), number=1, repeat=runs)
        print(json.dumps({
            "file": path,
            "median_ms": statistics.median(times) * 1000,
            "min_ms": min(times) * 1000,
            "runs": runs,
            "summary": summary,
        }), flush=True)


if __name__ == "__main__":
    main()
