#!/usr/bin/env python3
"""Writes an XLSX of ROWS rows for Paraf's Signing Today bulk bench: a header row
(Tenant.email, Tenant.name, Tenant.surname, title) then one signer per row.

    python3 make_xlsx.py OUT.xlsx ROWS PREFIX

A minimal Office Open XML workbook (inline strings) written with the standard library, so the
bench needs no spreadsheet package.
"""
import sys
import zipfile
from xml.sax.saxutils import escape

out, rows, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def cell(col, row, text):
    return f'<c r="{col}{row}" t="inlineStr"><is><t>{escape(text)}</t></is></c>'


lines = [["Tenant.email", "Tenant.name", "Tenant.surname", "title"]]
for i in range(1, rows + 1):
    lines.append([f"{prefix}-{i}@example.com", f"Name{i}", f"Surname{i}", f"Lease {prefix} {i}"])
sheet_rows = []
for r, values in enumerate(lines, start=1):
    cells = "".join(cell("ABCD"[c], r, v) for c, v in enumerate(values))
    sheet_rows.append(f'<row r="{r}">{cells}</row>')
sheet = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
         '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
         f'<sheetData>{"".join(sheet_rows)}</sheetData></worksheet>')
files = {
    "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '</Types>',
    "_rels/.rels": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    '</Relationships>',
    "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '</Relationships>',
    "xl/worksheets/sheet1.xml": sheet,
}
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for name, body in files.items():
        z.writestr(name, body)
