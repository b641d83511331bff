#!/usr/bin/env bash
# bench/export: integrations.export_csv_file against COPY (SELECT ...) TO of
# the same columns of the same rows, in the same run.  Run by
# `make bench-export` (test/run.sh starts the throwaway cluster).
#
#  (a) 100,000 Items, the 12 columns of bench/import plus the ID;
#  (b) 20,000 Sales Invoices with 5 item rows each (parent and child
#      columns; COPY joins the two tables);
#  (c) the Items of (a) as an Excel workbook: export_xlsx_file against
#      export_csv_file (target >= 0.3x), and openpyxl writing the same rows
#      as Frappe's make_xlsx does (the time Frappe spends), for scale;
#  median of BENCH_ROUNDS (3) alternating rounds; then the export's peak
#  backend memory for the whole of (a) and for half of it (flat: it streams),
#  as CSV and as Excel.
source "$FI_ROOT/test/lib.sh"
DB=fi_bench_export
W=$FI_TMP/bench_export
mkdir -p "$W"
chmod 777 "$W"
NI=${BENCH_ITEMS:-100000}
NS=${BENCH_INVOICES:-20000}
ROUNDS=${BENCH_ROUNDS:-3}
source "$FI_ROOT/bench/lib.sh"

newdb $DB
"$FI_PY" "$FI_ROOT/bench/import/gen.py" "$W" "$NI" "$NS"
chmod 644 "$W"/*.csv
q $DB "$BENCH_LINKS"
q $DB "SELECT integrations.import_csv_file('Item', '$W/items.csv', 'Insert New Records', '{\"progress_seconds\": -1}')->>'inserted'" >/dev/null
q $DB "SELECT integrations.import_csv_file('Sales Invoice', '$W/si.csv', 'Insert New Records', '{\"progress_seconds\": -1}')->>'inserted'" >/dev/null
q $DB "VACUUM ANALYZE" >/dev/null
echo "bench/export: $(nproc) cores; $(q $DB "SELECT count(*) FROM \"tabItem\"") Items, $(q $DB "SELECT count(*) FROM \"tabSales Invoice\"") Sales Invoices, $(q $DB "SELECT count(*) FROM \"tabSales Invoice Item\"") item rows"

bench_export_columns

# ---- (a) Items
copy_t=() exp_t=()
for r in $(seq 1 "$ROUNDS"); do
    copy_t+=("$(timed -c "COPY (SELECT name, $IF FROM \"tabItem\" ORDER BY creation DESC, name DESC) TO '$W/items_copy.out' CSV HEADER")")
    exp_t+=("$(timed -c "SELECT integrations.export_csv_file('Item', '$W/items_export.csv', '{\"fields\": $IFJ}')")")
done
lines=$(($(wc -l < "$W/items_export.csv") - 1))
[ "$lines" = "$NI" ] || { echo "the export wrote $lines lines, not $NI"; exit 1; }
ct=$(median "${copy_t[@]}") et=$(median "${exp_t[@]}")
target "(a) Items, export/COPY" "$(calc "round($ct / $et, 2)")" ">=" 0.5	# SPEC: at least half of COPY TO
echo "(a) $NI Items x 13 columns:  COPY TO $(calc "round($NI / $ct)") rows/s, export_csv_file $(calc "round($NI / $et)") rows/s  ->  export/COPY = $(calc "round($ct / $et, 2)")   (rounds: COPY ${copy_t[*]} s; export ${exp_t[*]} s; files $(du -h "$W/items_copy.out" | cut -f1) / $(du -h "$W/items_export.csv" | cut -f1))"

# ---- (b) Sales Invoices with their items
NROWS=$((NS * 5))
copy_t=() exp_t=()
for r in $(seq 1 "$ROUNDS"); do
    copy_t+=("$(timed -c "COPY (SELECT p.name, $SFP, c.name, $CFC FROM \"tabSales Invoice\" p JOIN \"tabSales Invoice Item\" c ON c.parent = p.name AND c.parenttype = 'Sales Invoice' AND c.parentfield = 'items' ORDER BY p.creation DESC, p.name DESC, c.idx) TO '$W/si_copy.out' CSV HEADER")")
    exp_t+=("$(timed -c "SELECT integrations.export_csv_file('Sales Invoice', '$W/si_export.csv', '{\"fields\": $SFJ}')")")
done
lines=$(($(wc -l < "$W/si_export.csv") - 1))
[ "$lines" = "$NROWS" ] || { echo "the export wrote $lines lines, not $NROWS"; exit 1; }
ct=$(median "${copy_t[@]}") et=$(median "${exp_t[@]}")
target "(b) Sales Invoices, export/COPY" "$(calc "round($ct / $et, 2)")" ">=" 0.5
echo "(b) $NS Sales Invoices x 5 items ($NROWS lines, 21 columns):  COPY TO $(calc "round($NROWS / $ct)") rows/s, export_csv_file $(calc "round($NROWS / $et)") rows/s  ->  export/COPY = $(calc "round($ct / $et, 2)")   (rounds: COPY ${copy_t[*]} s; export ${exp_t[*]} s)"

# ---- (c) the Items as an Excel workbook
csv_t=() xlsx_t=()
for r in $(seq 1 "$ROUNDS"); do
    csv_t+=("$(timed -c "SELECT integrations.export_csv_file('Item', '$W/items_export.csv', '{\"fields\": $IFJ}')")")
    xlsx_t+=("$(timed -c "SELECT integrations.export_xlsx_file('Item', '$W/items_export.xlsx', '{\"fields\": $IFJ}')")")
done
xrows=$("$FI_PY" -c 'import openpyxl, sys; print(openpyxl.load_workbook(sys.argv[1], read_only=True).active.max_row - 1)' "$W/items_export.xlsx")
[ "$xrows" = "$NI" ] || { echo "the Excel export holds $xrows rows, not $NI"; exit 1; }
# openpyxl writing the same rows, typed, as make_xlsx does (write-only workbook, bold first row)
opx=$("$FI_PY" - "$W/items_export.csv" "$W/items_openpyxl.xlsx" <<'PY'
import csv, datetime, sys, time
import openpyxl
from openpyxl.styles import Font
with open(sys.argv[1], newline="") as f:
    rows = list(csv.reader(f, quoting=csv.QUOTE_NONNUMERIC))
for r in rows[1:]:
    for i, v in enumerate(r):
        if isinstance(v, str) and len(v) == 10 and v[4] == "-" and v[7] == "-":
            r[i] = datetime.date.fromisoformat(v)
t0 = time.time()
wb = openpyxl.Workbook(write_only=True)
ws = wb.create_sheet("Item", 0)
ws.row_dimensions[1].font = Font(name="Calibri", bold=True)
for r in rows:
    ws.append(r)
wb.save(sys.argv[2])
print(round(time.time() - t0, 3))
PY
)
ct=$(median "${csv_t[@]}") xt=$(median "${xlsx_t[@]}")
target "(c) Items to .xlsx, xlsx/CSV" "$(calc "round($ct / $xt, 2)")" ">=" 0.3
echo "(c) $NI Items x 13 columns to a $(calc "round($(stat -c %s "$W/items_export.xlsx") / 1048576, 1)") MB .xlsx:  export_csv_file $(calc "round($NI / $ct)") rows/s, export_xlsx_file $(calc "round($NI / $xt)") rows/s  ->  xlsx/CSV = $(calc "round($ct / $xt, 2)")   (rounds: CSV ${csv_t[*]} s; xlsx ${xlsx_t[*]} s; openpyxl alone writes the same rows as Frappe's make_xlsx in $opx s)"
# ---- peak backend memory: the whole export and half of it
base=$(peak "SELECT 1" "1")
ihalf=$(peak "SELECT 1" "integrations.export_csv_file('Item', '$W/m.csv', '{\"limit\": $((NI / 2))}')")
ifull=$(peak "SELECT 1" "integrations.export_csv_file('Item', '$W/m.csv')")
isize=$(du -h "$W/m.csv" | cut -f1)
half=$(peak "SELECT 1" "integrations.export_csv_file('Sales Invoice', '$W/m.csv', '{\"children\": true, \"limit\": $((NS / 2))}')")
full=$(peak "SELECT 1" "integrations.export_csv_file('Sales Invoice', '$W/m.csv', '{\"children\": true}')")
xhalf=$(peak "SELECT 1" "integrations.export_xlsx_file('Item', '$W/m.xlsx', '{\"limit\": $((NI / 2))}')")
xfull=$(peak "SELECT 1" "integrations.export_xlsx_file('Item', '$W/m.xlsx')")
echo "peak backend memory, Excel: export_xlsx_file of all $NI Items, every column: $xfull MB ($(du -h "$W/m.xlsx" | cut -f1) file), of half of them: $xhalf MB"
echo "peak backend memory (VmHWM less shared memory): idle backend $base MB; export_csv_file of all $NI Items, every column: $ifull MB ($isize file), of half of them: $ihalf MB; of all $NS Sales Invoices with every column and all 9 child tables: $full MB ($(du -h "$W/m.csv" | cut -f1) file), of half of them: $half MB"
bench_verdict
