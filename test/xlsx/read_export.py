"""Read a workbook as Frappe's Data Import reads it (test/t/107).

read_export.py FILE|-  [rows|formats|meta|csv]: the workbook at FILE, or
psql's \\x hex of a bytea on standard input, read with openpyxl
(load_workbook data_only, wb.active, iter_rows); prints each row as
Python's repr of its values (rows), of (value type, number format) pairs
(formats), the sheet names, the active title and whether the first row is
bold (meta), or the rows as CSV the way a user saves the sheet (csv: dates
ISO, times with their microseconds, numbers as Python writes them).
"""
import csv
import datetime
import io
import sys

import openpyxl

src, what = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "rows")
if src == "-":
    text = sys.stdin.read().strip()
    data = io.BytesIO(bytes.fromhex(text[2:] if text.startswith("\\x") else text))
else:
    data = src
wb = openpyxl.load_workbook(filename=data, data_only=True)
ws = wb.active
rows = [[c.value for c in row] for row in ws.iter_rows()]
if what == "rows":
    for r in rows:
        print(repr(r))
elif what == "formats":
    for row in ws.iter_rows():
        print(" ".join(f"{type(c.value).__name__}:{c.number_format}" for c in row))
elif what == "meta":
    print(wb.sheetnames, ws.title, ws.row_dimensions[1].font.b, ws.max_row, ws.max_column)
elif what == "csv":
    out = csv.writer(sys.stdout, lineterminator="\n")
    for r in rows:
        out.writerow(["" if v is None else v.isoformat(sep=" ") if isinstance(v, datetime.datetime)
                      else v.isoformat() if isinstance(v, (datetime.date, datetime.time)) else v for v in r])
