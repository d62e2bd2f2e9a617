#!/usr/bin/env python3
"""Writes a small one-page (or N-page) A4 PDF in Helvetica: `make_pdf.py OUT [TEXT] [PAGES]`.

TEXT may contain a BSrE `tag_koordinat` marker such as `$`. Used by the BSrE examples in
docs/bsre.md and by the load scripts in this folder."""
import sys


def pdf(text: str, pages: int) -> bytes:
    objs = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [%s] /Count %d >>"
        % (" ".join("%d 0 R" % (4 + 2 * i) for i in range(pages)), pages),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    for i in range(pages):
        esc = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        content = (
            "BT /F1 14 Tf 72 770 Td (%s) Tj ET\nBT /F1 12 Tf 400 150 Td (Hormat kami, $) Tj ET\n"
            % esc
        )
        objs.append(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            "/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (5 + 2 * i)
        )
        objs.append("<< /Length %d >>\nstream\n%s\nendstream" % (len(content) + 1, content))
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += ("%d 0 obj\n%s\nendobj\n" % (n, o)).encode("latin-1")
    xref = len(out)
    out += ("xref\n0 %d\n0000000000 65535 f\r\n" % (len(objs) + 1)).encode()
    for o in offsets:
        out += ("%010d 00000 n\r\n" % o).encode()
    out += (
        "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    ).encode()
    return bytes(out)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: make_pdf.py OUT [TEXT] [PAGES]")
    text = sys.argv[2] if len(sys.argv) > 2 else "Surat Keputusan Nomor 1/2026"
    pages = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    with open(sys.argv[1], "wb") as f:
        f.write(pdf(text, pages))
