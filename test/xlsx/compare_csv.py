"""A workbook of export_xlsx against the CSV export_csv writes of the same rows (test/t/107).

compare_csv.py CSV < hex: the workbook as psql's \\x hex of the bytea on
standard input, read with openpyxl as Frappe reads it; each cell must be
the CSV's (QUOTE_NONNUMERIC: quoted cells strings, bare ones numbers),
typed: a number the same float, a date or datetime its ISO text, a time
Python's str(), an empty cell "".  Prints the rows, cells and how many
differ, with the first that does.
"""
import csv, datetime, io, subprocess, sys
import openpyxl
raw = sys.stdin.read().strip()
wb = openpyxl.load_workbook(io.BytesIO(bytes.fromhex(raw[2:])), data_only=True)
xl = [[c.value for c in row] for row in wb.active.iter_rows()]
with open(sys.argv[1], newline="") as f:
    text = f.read()
# QUOTE_NONNUMERIC: quoted cells are strings, bare ones numbers
cs = list(csv.reader(io.StringIO(text.rstrip("\r\n")), quoting=csv.QUOTE_NONNUMERIC))
def agree(c, v):
    if v is None:
        return c == ""
    if isinstance(v, datetime.datetime):
        return c in (str(v), str(v.date()) if v.time() == datetime.time() else None)
    if isinstance(v, datetime.time):
        return c == str(v)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return isinstance(c, float) and c == float(v)
    return c == v
bad = [(i, j, c, v) for i, (rc, rv) in enumerate(zip(cs, xl)) for j, (c, v) in
       enumerate(zip(rc, rv + [None] * (len(rc) - len(rv)))) if not agree(c, v)]
cells = sum(len(r) for r in cs)
print(f"{len(cs)} rows {cells} cells, {len(bad)} differ" + (f": first {bad[0]}" if bad else "")
      + ("" if len(cs) == len(xl) else f"; rows {len(cs)} / {len(xl)}"))
