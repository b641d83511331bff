"""The XLSX writer against openpyxl, Frappe's own library (test/t/086).

For each table of Python values (what Frappe's exporter hands make_xlsx:
str, int, float, Decimal, date, datetime, time, timedelta, None), writes
the workbook twice: as Frappe's make_xlsx would (openpyxl's write-only
workbook, the sheet from the name with INVALID_TITLE_REGEX, the first row's
font, control characters removed) and through the C writer
(test/unit/xlsxw_driver).  Both are read back with openpyxl as Frappe's
importer reads them (load_workbook data_only, wb.active, iter_rows); each
cell's value, its Python type and its number format must agree, and the
sheet titles.  The cases where we differ from openpyxl on purpose are
checked apart: a string starting with "=" (openpyxl makes a formula of it,
we keep the text), a time finer than a millisecond (openpyxl's serial
reads back rounded; we write str() of it) and a carriage return (written
_x000D_ as Excel writes it; openpyxl wrote the character).  Prints one line per table,
then a summary.
"""
import datetime
import decimal
import random
import re
import subprocess
import sys

import openpyxl
from openpyxl.styles import Font

DRIVER, WORK = sys.argv[1], sys.argv[2]
ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
BAD_TITLE = re.compile(r"[\\*?:/\[\]]")


def as_frappe(path, name, rows):
    """The workbook Frappe's make_xlsx writes for these rows (written here from its facts)."""
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet(BAD_TITLE.sub(" ", name)[:31], 0)
    ws.row_dimensions[1].font = Font(name="Calibri", bold=True)
    for row in rows:
        ws.append([ILLEGAL.sub("", v) if isinstance(v, str) else v for v in row])
    wb.save(path)


def commands(rows):
    out = []
    for row in rows:
        for v in row:
            if v is None:
                out.append("e")
            elif isinstance(v, str):
                out.append("s " + v.encode().hex() if v else "s")
            elif isinstance(v, bool):
                raise TypeError("no booleans in Frappe's rows")
            elif isinstance(v, (int, float, decimal.Decimal)):
                out.append("n " + repr(float(v)))
            elif isinstance(v, datetime.datetime):
                out.append("D %d %d %d %d %d %d %d" % (v.year, v.month, v.day, v.hour, v.minute,
                                                       v.second, v.microsecond))
            elif isinstance(v, datetime.date):
                out.append("d %d %d %d" % (v.year, v.month, v.day))
            elif isinstance(v, datetime.time):
                out.append("t %d %d %d %d" % (v.hour, v.minute, v.second, v.microsecond))
            elif isinstance(v, datetime.timedelta):
                out.append("T %d" % (v // datetime.timedelta(microseconds=1)))
        out.append("r")
    return "\n".join(out) + "\n"


def ours(path, name, rows, *extra):
    return subprocess.run([DRIVER, path, name, *extra], input=commands(rows), capture_output=True,
                          text=True, check=True).stdout.strip()


def read(path):
    wb = openpyxl.load_workbook(filename=path, data_only=True)
    ws = wb.active
    cells = [[(c.value, type(c.value).__name__, c.number_format if c.value is not None else None)
              for c in row] for row in ws.iter_rows()]
    # trailing empty cells: openpyxl's write-only file keeps "" cells, ours leaves them out
    for row in cells:
        while row and row[-1][0] is None:
            row.pop()
    return ws.title, ws.row_dimensions[1].font.b, cells


def compare(label, name, rows, *extra):
    theirs_path, ours_path = f"{WORK}/{label}.frappe.xlsx", f"{WORK}/{label}.ours.xlsx"
    as_frappe(theirs_path, name, rows)
    status = ours(ours_path, name, rows, *extra)
    a, b = read(theirs_path), read(ours_path)
    if a == b:
        print(f"same {label}: {len(rows)} rows ({status})")
        return True
    print(f"DIFFER {label}: {status}")
    print(f"  title {a[0]!r} / {b[0]!r}, bold {a[1]} / {b[1]}")
    for i, (ra, rb) in enumerate(zip(a[2], b[2])):
        if ra != rb:
            print(f"  row {i + 1}: frappe {ra!r}")
            print(f"  row {i + 1}: ours   {rb!r}")
            break
    if len(a[2]) != len(b[2]):
        print(f"  rows {len(a[2])} / {len(b[2])}")
    return False


D, DT, T, TD = datetime.date, datetime.datetime, datetime.time, datetime.timedelta
tables = {
    "types": ("Sales Invoice", [
        ["ID", "Customer", "Qty", "Rate", "Posting Date", "Posting Time", "Created", "Duration"],
        ["SINV-0001", "Acme  ", 5, decimal.Decimal("100.000000000"), D(2024, 5, 6), T(10, 30), DT(2024, 5, 6, 10, 11, 12), "1d 2h"],
        ["SINV-0002", " lead space", 0, decimal.Decimal("-0.000060000"), D(1999, 12, 31), T(0, 0), DT(2024, 5, 6, 10, 11, 12, 345000), None],
        ["SINV-0003", "multi\nline\ttab", 1, 1.1, None, T(23, 59, 59, 999000), None, ""],
        [None, None, None, None, None, None, None, None],
        ["", "", 2 ** 53 + 1, 1 / 3, D(9999, 12, 31), None, DT(1, 1, 1), "x"],
    ]),
    "numbers": ("Item", [["n"]] + [[v] for v in [
        0, -0.0, 1, -1, 7.0, 0.1, 0.2 + 0.1, 1e-05, 6e-05, 1e16, 1e20, 1.5e300, -2.5e-300, 123456789.123456789,
        decimal.Decimal("1234567890123.123456789"), decimal.Decimal("0.000000001"), 2 ** 31, -2 ** 63,
        float("nan"), float("inf"), 5e-324]]),
    "dates": ("Holiday List", [["d", "dt"]] + [[D(y, m, d), DT(y, m, d, 12, 0, 0)] for y, m, d in [
        (1899, 12, 30), (1899, 12, 31), (1900, 1, 1), (1900, 2, 28), (1900, 3, 1), (1800, 1, 1),
        (1904, 1, 1), (2000, 2, 29), (2024, 12, 31), (1, 1, 1), (9999, 12, 31)]]),
    "times": ("Shift Type", [["t", "td"]] + [[T(h, m, s, us), TD(days=dd, seconds=ss)] for h, m, s, us, dd, ss in [
        (0, 0, 0, 0, 0, 0), (0, 0, 1, 0, 0, 1), (12, 0, 0, 0, 1, 0), (23, 59, 59, 0, 2, 3600), (6, 30, 0, 500000, 0, 59)]]),
    "strings": ("Note", [["s"]] + [[v] for v in [
        "plain", "<b>html</b> &amp; stays", "ünïcødé ✓ 日本語 🎉", "ctl\x00\x01\x08\x0b\x0c\x0e\x1f gone", "#N/A",
        "'quoted", "  ", "a" * 40000, "🎉" * 33000, "é" * 32767 + "tail"]]),
    "wide": ("Wide", [[f"c{i}" for i in range(300)], [i for i in range(300)], [None] * 299 + ["last"]]),
    "title": ("A/B\\C*D?E:F[G]H and a name longer than thirty-one", [["x"], [1]]),
}
rnd = random.Random(15)
tables["random"] = ("Random", [["a", "b", "c", "d"]] + [
    [rnd.choice([None, "", rnd.random() * 10 ** rnd.randint(-8, 12), rnd.randint(-10 ** 9, 10 ** 9),
                 "".join(rnd.choice("ab \n<>&\"'é€") for _ in range(rnd.randint(0, 12))),
                 D(rnd.randint(1900, 2100), rnd.randint(1, 12), rnd.randint(1, 28)),
                 DT(rnd.randint(1900, 2100), rnd.randint(1, 12), rnd.randint(1, 28), rnd.randint(0, 23),
                    rnd.randint(0, 59), rnd.randint(0, 59), rnd.randint(0, 999) * 1000)])
     for _ in range(4)] for _ in range(2000)])

same = sum(compare(label, name, rows) for label, (name, rows) in tables.items())
print(f"{len(tables)} tables: {same} agree with openpyxl, {len(tables) - same} differ")

# on purpose: "=..." stays text (openpyxl would write a formula with no cached value), and
# microseconds stay whole (openpyxl's serial reads back to the millisecond)
# and a carriage return is written as Excel writes it, _x000D_ (openpyxl reads that as it is)
ours(f"{WORK}/purpose.xlsx", "Purpose", [["f", "dt", "t", "cr"],
                                         ["=1+1", DT(2024, 5, 6, 10, 11, 12, 345678), T(1, 2, 3, 4), "a\r\nb"]])
_, _, cells = read(f"{WORK}/purpose.xlsx")
print("purpose:", [c[0] for c in cells[1]])

# the limits: rows past the sheet are refused, and a workbook abandoned leaves no file
print("limit:", ours(f"{WORK}/limit.xlsx", "Limit", [["h"], [1], [2]], "2"))
print("abandon:", subprocess.run([DRIVER, f"{WORK}/abandoned.xlsx", "X"], input="s 41\nr\na\n",
                                 capture_output=True, text=True).stdout.strip())
