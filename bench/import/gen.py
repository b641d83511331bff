"""Generate the import benchmark's files (stdlib only).

    gen.py DIR N_ITEMS N_INVOICES

DIR/items.csv       Data Import file: N_ITEMS Items, 12 columns, label headers,
                    3 Link columns (Item Group, UOM, Brand)
DIR/items_copy.csv  the same rows as COPY takes them: fieldname columns, name,
                    the standard columns
DIR/si.csv          N_INVOICES Sales Invoices with 5 item rows each (the first
                    on the invoice's line), named by the naming series
DIR/si_copy.csv, DIR/sii_copy.csv   the same rows for COPY (names precomputed)
"""
import csv
import os
import sys

d, n_items, n_inv = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
groups = ["Products", "Services", "Raw Material", "Sub Assemblies"]
uoms = ["Nos", "Kg", "Box"]
brands = ["Acme", "Globex", "Initech", "Umbrella"]
STD = ["2024-05-06 10:00:00", "2024-05-06 10:00:00", "Administrator", "Administrator", 0, 0]

with open(os.path.join(d, "items.csv"), "w", newline="", encoding="utf-8") as f, \
        open(os.path.join(d, "items_copy.csv"), "w", newline="", encoding="utf-8") as g:
    w, c = csv.writer(f), csv.writer(g)
    w.writerow(["Item Code", "Item Name", "Item Group", "Default Unit of Measure", "Brand",
                "Description", "Maintain Stock", "Standard Selling Rate", "Valuation Rate",
                "Shelf Life In Days", "Weight Per Unit", "End of Life"])
    for i in range(n_items):
        code = "ITEM-%07d" % i
        row = [code, "Item number %d, \"quoted\"" % i, groups[i % 4], uoms[i % 3], brands[i % 4],
               "A description of item %d" % i, "Yes" if i % 2 else "No",
               "%d,%03d.50" % (i // 1000, i % 1000), "%.2f" % (i * 0.37), str(i % 365),
               "%.3f" % (i % 50 / 7), "2099-12-31"]
        w.writerow(row)
        c.writerow([code] + STD + [code, row[1], row[2], row[3], row[4], row[5],
                                   1 if i % 2 else 0, row[7].replace(",", ""), row[8], row[9],
                                   row[10], row[11]])

with open(os.path.join(d, "si.csv"), "w", newline="", encoding="utf-8") as f, \
        open(os.path.join(d, "si_copy.csv"), "w", newline="", encoding="utf-8") as g, \
        open(os.path.join(d, "sii_copy.csv"), "w", newline="", encoding="utf-8") as h:
    w, c, ch = csv.writer(f), csv.writer(g), csv.writer(h)
    w.writerow(["Customer", "Company", "Posting Date", "Currency", "Exchange Rate", "Price List",
                "Price List Currency", "Price List Exchange Rate", "Debit To", "Grand Total",
                "Item (Items)", "Item Name (Items)", "Quantity (Items)", "Rate (Items)",
                "Amount (Items)", "UOM (Items)", "UOM Conversion Factor (Items)",
                "Income Account (Items)", "Cost Center (Items)"])
    for i in range(n_inv):
        name = "ACC-SINV-BENCH-%05d" % (i + 1)
        cust = "Customer %d" % (i % 50)
        lines = []
        total = 0
        for j in range(5):
            k = (i * 5 + j) % max(n_items, 1)
            qty, rate = j + 1, 10 + (k % 90)
            total += qty * rate
            lines.append(["ITEM-%07d" % k, "Item number %d" % k, qty, rate, qty * rate,
                          uoms[k % 3], 1, "Sales - A", "Main - A"])
        parent = [cust, "ACME Ltd", "2024-05-06", "INR", 1, "Standard Selling", "INR", 1,
                  "Debtors - A", total]
        for j, line in enumerate(lines):
            w.writerow((parent if j == 0 else [""] * len(parent)) + line)
            ch.writerow(["%s-%d" % (name, j)] + list(STD[:4]) + [0, j + 1, name, "items",
                                                               "Sales Invoice"] + line)
        c.writerow([name] + list(STD) + ["ACC-SINV-BENCH-", cust] + parent[1:])
