"""The Items file of the import benchmark as an Excel workbook (openpyxl,
write-only), with typed cells as a user's spreadsheet has them: the rates
and weights as numbers, Maintain Stock as booleans, End of Life as a date.

    gen_xlsx.py DIR        reads DIR/items.csv, writes DIR/items.xlsx
    gen_xlsx.py DIR read   reads DIR/items.xlsx as Frappe does (the time openpyxl takes)
"""
import csv
import datetime
import os
import sys
import time

import openpyxl

d = sys.argv[1]
if len(sys.argv) > 2:
    t = time.monotonic()
    wb = openpyxl.load_workbook(filename=os.path.join(d, "items.xlsx"), data_only=True)
    rows = [[c.value for c in row] for row in wb.active.iter_rows()]
    print(round(time.monotonic() - t, 3), len(rows))
    sys.exit(0)
wb = openpyxl.Workbook(write_only=True)
ws = wb.create_sheet("Item")
with open(os.path.join(d, "items.csv"), newline="", encoding="utf-8") as f:
    for i, row in enumerate(csv.reader(f)):
        if i > 0:
            row[6] = row[6] == "Yes"
            row[7] = float(row[7].replace(",", ""))
            row[8] = float(row[8])
            row[9] = int(row[9])
            row[10] = float(row[10])
            row[11] = datetime.date.fromisoformat(row[11])
        ws.append(row)
wb.save(os.path.join(d, "items.xlsx"))
