#!/usr/bin/env bash
# Data Import from Excel (integrations.import_xlsx, and import_csv_file of a
# .xlsx path): a workbook openpyxl writes, the same saved again by LibreOffice
# and the CSV of the same table import to the same rows; per-row errors as with CSV; bad files refused with nothing
# written; the bounds are options.
source "$FI_ROOT/test/lib.sh"
W=$FI_TMP/import_xlsx
mkdir -p "$W"
chmod 755 "$W"
setup() {
    newdb "$1"
    q "$1" "INSERT INTO \"tabItem Group\"(name) VALUES ('Products');
            INSERT INTO \"tabUOM\"(name) VALUES ('Nos'), ('Kg')" >/dev/null
}
setup fi_xlsx_a
setup fi_xlsx_b
setup fi_xlsx_c

"$FI_PY" - "$W" <<'PY'
import csv, datetime, sys
import openpyxl
w = sys.argv[1]
header = ["Item Code", "Item Name", "Item Group", "Default Unit of Measure", "Disabled", "Maintain Stock",
          "Opening Stock", "Valuation Rate", "Shelf Life In Days", "End of Life", "Description"]
rows = []
for i in range(1, 201):
    rows.append([f"IT-{i:04d}", f"Item é {i} 😀", "Products", "Nos" if i % 3 else "Kg", i % 7 == 0, i % 2,
                 i * 1.25, 10 + i * 0.5, i * 3, datetime.date(2026, 1 + i % 12, 1 + i % 28),
                 None if i % 5 else f"line one\nline \"two\" {i}"])
wb = openpyxl.Workbook()
ws = wb.active
ws.title = "Items"
ws.append(header)
for r in rows:
    ws.append(r)
ws.append([None] * len(header))          # a blank row is skipped, as Frappe does
wb.save(f"{w}/items.xlsx")
# the same table as a user would save it as CSV
with open(f"{w}/items.csv", "w", newline="", encoding="utf-8") as f:
    out = csv.writer(f)
    out.writerow(header)
    for r in rows:
        out.writerow([("Yes" if v else "No") if isinstance(v, bool) else
                      v.isoformat() if isinstance(v, datetime.date) else "" if v is None else v for v in r])
# per-row errors: a bad whole number, a missing Link target, a missing mandatory value
wb = openpyxl.Workbook()
ws = wb.active
ws.append(header[:4] + ["Shelf Life In Days"])
ws.append(["E-1", "ok", "Products", "Nos", 5])
ws.append(["E-2", "bad int", "Products", "Nos", "five"])
ws.append(["E-3", "no uom", "Products", "Litre", 1])
ws.append(["E-4", "no group", None, "Nos", 1])
wb.save(f"{w}/errors.xlsx")
# dates as text, in a format Frappe guesses from the column (day first)
wb = openpyxl.Workbook()
ws = wb.active
ws.append(header[:4] + ["End of Life"])
for i in range(1, 6):
    ws.append([f"D-{i}", "dated", "Products", "Nos", f"{10 + i}-01-2027"])
ws.append(["D-6", "dated", "Products", "Nos", "01-13-2027"])   # not day-first: reported
wb.save(f"{w}/datetext.xlsx")
# a sheet whose opening alone takes a while (2,000,000 rows of 120 MB of XML, 400 kB zipped): for a cancel
import zipfile
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
RT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
with zipfile.ZipFile(f"{w}/huge.xlsx", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("_rels/.rels", f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="r1" Type="{RT}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    z.writestr("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="r1" Type="{RT}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
    z.writestr("xl/workbook.xml", f'<workbook {NS}><sheets><sheet name="S" sheetId="1" r:id="r1"/></sheets></workbook>')
    z.writestr("xl/worksheets/sheet1.xml", f'<worksheet {NS}><sheetData>'
               + '<row><c t="inlineStr"><is><t>Item Code</t></is></c></row>'
               + '<row><c t="inlineStr"><is><t>x</t></is></c><c><v>1</v></c></row>' * 2000000 + '</sheetData></worksheet>')
# Excel's widest sheet: 16,384 columns, 16,380 of them no field's; and one cell past it (by hand)
wb = openpyxl.Workbook(write_only=True)
ws = wb.create_sheet()
ws.append(header[:4] + [f"X{i}" for i in range(16380)])
for r in range(10):
    ws.append([f"W-{r}", "wide", "Products", "Nos"] + [r] * 16380)
wb.save(f"{w}/wide.xlsx")
with zipfile.ZipFile(f"{w}/wide.xlsx") as z, zipfile.ZipFile(f"{w}/wider.xlsx", "w", zipfile.ZIP_DEFLATED) as out:
    for n in z.namelist():
        part = z.read(n)
        if n == "xl/worksheets/sheet1.xml":
            part = part.replace(b"</row>", b'<c r="XFE1" t="inlineStr"><is><t>past</t></is></c></row>', 1)
        out.writestr(n, part)
open(f"{w}/notxlsx.xlsx", "w").write("Item Code,Item Group\nX,Products\n")
# 20,000 rows: the sheet inflates to about 4 MB
wb = openpyxl.Workbook()
ws = wb.active
ws.append(header[:4])
for i in range(20000):
    ws.append([f"B-{i}", "x" * 130, "Products", "Nos"])
wb.save(f"{w}/big.xlsx")
PY
chmod 644 "$W"/*

xlsx() {	# xlsx <db> <file> [options]: import_xlsx of the file's bytes, status inserted failed
    q "$1" "SELECT r->>'status', r->>'inserted', r->>'failed' FROM
            integrations.import_xlsx('Item', pg_read_binary_file('$2'), 'Insert New Records', '${3:-{\}}') r" | tr '|' ' '
}
ROWS="SELECT string_agg(concat_ws('|', item_code, item_name, item_group, stock_uom, disabled, is_stock_item,
        opening_stock, valuation_rate, shelf_life_in_days, end_of_life, description), E'\n' ORDER BY item_code)
      FROM \"tabItem\""

t_is "$(xlsx fi_xlsx_a "$W/items.xlsx")" "Success 200 0" "import_xlsx: 200 Items from a workbook openpyxl wrote"
t_is "$(q fi_xlsx_b "SELECT r->>'inserted' FROM integrations.import_csv('Item', pg_read_file('$W/items.csv')) r")" "200" \
     "and the CSV of the same table"
A=$(q fi_xlsx_a "$ROWS"); B=$(q fi_xlsx_b "$ROWS")
t_is "$(echo "$A" | md5sum)" "$(echo "$B" | md5sum)" "the workbook and the CSV import to the same rows"
# the same workbook opened in LibreOffice and saved again: its own styles, date formats, shared strings
LO=$(soffice_xlsx "$W/lo" "$W/items.xlsx")
t_is "$?|$LO" "0|" "LibreOffice saved the workbook again"
chmod 755 "$W/lo"; chmod 644 "$W/lo/items.xlsx"
t_is "$(xlsx fi_xlsx_c "$W/lo/items.xlsx")" "Success 200 0" "import_xlsx: the 200 Items of LibreOffice's workbook"
t_is "$(q fi_xlsx_c "$ROWS" | md5sum)" "$(echo "$A" | md5sum)" "to the same rows as openpyxl's workbook and the CSV"
t_is "$(q fi_xlsx_a "SELECT concat_ws('|', item_name, disabled, is_stock_item, opening_stock, shelf_life_in_days, end_of_life, description)
                     FROM \"tabItem\" WHERE name = 'IT-0035'")" \
     "Item é 35 😀|1|1|43.750000000|105|2026-12-08|line one
line \"two\" 35" "typed cells become values: a boolean Check, an int, a float, a date cell, a string with a line break"
t_is "$(q fi_xlsx_a "SELECT count(*) FROM \"tabItem\" WHERE end_of_life IS NULL OR stock_uom IS NULL")" "0" "every date and Link set"

R=$(q fi_xlsx_a "SELECT integrations.import_xlsx('Item', pg_read_binary_file('$W/errors.xlsx'))")
t_is "$(echo "$R" | "$FI_PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["status"], d["inserted"], d["failed"])')" "Partial Success 1 3" \
     "per-row errors as with CSV: the good row is imported, each bad one reported"
t_is "$(echo "$R" | "$FI_PY" -c 'import json,sys; print(" / ".join(e["message"] for e in json.load(sys.stdin)["errors"]))')" \
     "Shelf Life In Days must be a whole number / Value Litre missing for UOM / Error: Value missing for Item: Item Group" \
     "with Frappe's messages, naming the row's values"
t_is "$(echo "$R" | "$FI_PY" -c 'import json,sys; print(" ".join(str(e["row"]) for e in json.load(sys.stdin)["errors"]))')" \
     "3 4 5" "and the sheet's row numbers"

R=$(q fi_xlsx_a "SELECT integrations.import_xlsx('Item', pg_read_binary_file('$W/datetext.xlsx'))" 2>/dev/null)
t_is "$(q fi_xlsx_a "SELECT string_agg(end_of_life::text, ' ' ORDER BY name) FROM \"tabItem\" WHERE name LIKE 'D-%'")|$(echo "$R" | "$FI_PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["failed"], d["errors"][0]["message"])')" \
     "2027-01-11 2027-01-12 2027-01-13 2027-01-14 2027-01-15|1 Value 01-13-2027 must be in %d-%m-%Y format" \
     "dates as text: the column's format guessed from its values (day first), the odd one reported"
t_is "$(q fi_xlsx_a "SELECT r->>'inserted' FROM integrations.import_csv_file('Item', '$W/big.xlsx') r")" "20000" \
     "import_csv_file reads a .xlsx path as Excel (20,000 rows)"
R=$(q fi_xlsx_c "SELECT integrations.import_xlsx('Item', pg_read_binary_file('$W/wide.xlsx'))")
t_is "$(echo "$R" | "$FI_PY" -c 'import json,sys; d=json.load(sys.stdin); w=d["warnings"]; print(d["status"], d["inserted"], len(w), w[0], "/", w[-1])')" \
     'Success 10 16380 column 5 ("X0") matches no field of Item and is skipped / column 16384 ("X16379") matches no field of Item and is skipped' \
     "a sheet of 16,384 columns imports its 10 rows, each column that is no field skipped with a warning"
BEFORE=$(q fi_xlsx_c "SELECT count(*) FROM \"tabItem\"")
t_like "$(q_err fi_xlsx_c "SELECT integrations.import_xlsx('Item', pg_read_binary_file('$W/wider.xlsx'))")|$(q fi_xlsx_c "SELECT count(*) FROM \"tabItem\"")" \
       "^54000: .*more columns than .*\\|$BEFORE\$" "a cell past column 16,384 (XFE): refused with 54000, nothing written"
BEFORE=$(q fi_xlsx_b "SELECT count(*) FROM \"tabItem\"")
t_is "$(q_err fi_xlsx_b "SELECT integrations.import_xlsx('Item', pg_read_binary_file('$W/notxlsx.xlsx'))")" \
     "22023: the file is not an Excel workbook (.xlsx): not a ZIP archive" "a file that is not a workbook: a clear error"
t_like "$(q_err fi_xlsx_b "SELECT integrations.import_xlsx('Item', pg_read_binary_file('$W/big.xlsx'), 'Insert New Records', '{\"xlsx_max_part\": 1000000}')")" \
     "^54000: the part xl/worksheets/sheet1.xml of the workbook inflates beyond the bound" \
     "a part inflating beyond xlsx_max_part (a ZIP bomb): 54000"
t_is "$(q fi_xlsx_b "SELECT count(*) FROM \"tabItem\"")" "$BEFORE" "and nothing was written by either"
# how long reading that sheet takes outside the server (its opening pass and its rows)
make -s -C "$FI_ROOT" test/unit/xlsx_driver >/dev/null
T0=$(date +%s%N); "$FI_ROOT/test/unit/xlsx_driver" "$W/huge.xlsx" 2000000000 >/dev/null; T1=$(date +%s%N)
OUT=$(q_err fi_xlsx_b "SET statement_timeout = '300ms'; SELECT integrations.import_xlsx('Item', pg_read_binary_file('$W/huge.xlsx'))")
T2=$(date +%s%N)
t_is "$OUT" "57014: canceling statement due to statement timeout" "a statement timeout while the workbook is being opened"
t_is "$("$FI_PY" -c "print(($T2 - $T1) * 3 < ($T1 - $T0))")" "True" \
     "stops the opening pass itself: $(( (T2 - T1) / 1000000 )) ms, where reading the sheet takes $(( (T1 - T0) / 1000000 )) ms"
t_is "$(q fi_xlsx_b "SELECT count(*) FROM \"tabItem\"")" "$BEFORE" "and nothing was written"
t_is "$(q_err fi_xlsx_b "SELECT integrations.import_xlsx('Item', '\\x504b0304'::bytea)")" \
     "22023: the file is not an Excel workbook (.xlsx): not a ZIP archive" "a truncated ZIP"
t_done
