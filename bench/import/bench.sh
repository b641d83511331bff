#!/usr/bin/env bash
# bench/import: integrations.import_csv_file against COPY FROM of the same rows
# into the same tables, in the same run.  Run by `make bench-import`
# (test/run.sh starts the throwaway cluster).
#
#  (a) 100,000 Items: 12 columns, label headers, named by item_code, 3 Link
#      columns checked (Item Group, UOM, Brand); COPY gets the same rows with
#      fieldname columns, the names and the standard columns.
#  (b) 20,000 Sales Invoices with 5 item rows each, named by the naming
#      series through tabSeries; COPY gets both tables' rows, names made.
#  (c) the same Items as an Excel workbook (typed cells) through the XLSX
#      reader, against the CSV import (target >= 0.5x); openpyxl's own read
#      of the workbook, as Frappe does it, for scale.
#  Each is the median of BENCH_ROUNDS (3) rounds, COPY and import alternating,
#  the table emptied before each.  Then the import's peak backend memory:
#  VmHWM of the backend less the shared memory it touched, against the size
#  of the file.
source "$FI_ROOT/test/lib.sh"
DB=fi_bench_import
W=$FI_TMP/bench_import
mkdir -p "$W"
chmod 755 "$W"
NI=${BENCH_ITEMS:-100000}
NS=${BENCH_INVOICES:-20000}
ROUNDS=${BENCH_ROUNDS:-3}
source "$FI_ROOT/bench/lib.sh"

newdb $DB
"$FI_PY" "$FI_ROOT/bench/import/gen.py" "$W" "$NI" "$NS"
chmod 644 "$W"/*.csv
q $DB "$BENCH_LINKS"
echo "bench/import: $(nproc) cores; tabItem $(q $DB "SELECT count(*) FROM information_schema.columns WHERE table_name = 'tabItem'") columns, tabSales Invoice $(q $DB "SELECT count(*) FROM information_schema.columns WHERE table_name = 'tabSales Invoice'"), tabSales Invoice Item $(q $DB "SELECT count(*) FROM information_schema.columns WHERE table_name = 'tabSales Invoice Item'"); files: items $(du -h "$W/items.csv" | cut -f1), invoices $(du -h "$W/si.csv" | cut -f1)"

ITEM_COLS='name, creation, modified, owner, modified_by, docstatus, idx, item_code, item_name, item_group, stock_uom, brand, description, is_stock_item, standard_rate, valuation_rate, shelf_life_in_days, weight_per_unit, end_of_life'
SI_COLS='name, creation, modified, owner, modified_by, docstatus, idx, naming_series, customer, company, posting_date, currency, conversion_rate, selling_price_list, price_list_currency, plc_conversion_rate, debit_to, grand_total'
SII_COLS='name, creation, modified, owner, modified_by, docstatus, idx, parent, parentfield, parenttype, item_code, item_name, qty, rate, amount, uom, conversion_factor, income_account, cost_center'
RESET_ITEMS='TRUNCATE "tabItem"; CHECKPOINT;'
RESET_SI='TRUNCATE "tabSales Invoice", "tabSales Invoice Item"; DELETE FROM "tabSeries"; CHECKPOINT;'

# ---- (a) Items
CPU=$(cpu_snap)
copy_t=() imp_t=()
for r in $(seq 1 "$ROUNDS"); do
    q $DB "$RESET_ITEMS" >/dev/null
    copy_t+=("$(timed -c "COPY \"tabItem\" ($ITEM_COLS) FROM '$W/items_copy.csv' CSV")")
    q $DB "$RESET_ITEMS" >/dev/null
    imp_t+=("$(timed -c "SELECT integrations.import_csv_file('Item', '$W/items.csv', 'Insert New Records', '{\"progress_seconds\": -1}')")")
done
got=$(q $DB "SELECT count(*) FROM \"tabItem\" WHERE item_group IS NOT NULL AND standard_rate > 0")
[ "$got" = "$NI" ] || { echo "the import wrote $got Items, not $NI"; exit 1; }
ct=$(median "${copy_t[@]}") it=$(median "${imp_t[@]}")
target "(a) Items, import/COPY" "$(calc "round($ct / $it, 2)")" ">=" 0.5	# SPEC: at least half of COPY
echo "(a) $NI Items:  COPY $(calc "round($NI / $ct)") rows/s, import_csv_file $(calc "round($NI / $it)") rows/s  ->  import/COPY = $(calc "round($ct / $it, 2)")   (rounds: COPY ${copy_t[*]} s; import ${imp_t[*]} s; $(cpu_since "$CPU"))"

# ---- (b) Sales Invoices with 5 items each (the Items stay: Item is a Link)
CPU=$(cpu_snap)
copy_t=() imp_t=()
NROWS=$((NS * 6))
for r in $(seq 1 "$ROUNDS"); do
    q $DB "$RESET_SI" >/dev/null
    copy_t+=("$(timed -c "COPY \"tabSales Invoice\" ($SI_COLS) FROM '$W/si_copy.csv' CSV" \
                      -c "COPY \"tabSales Invoice Item\" ($SII_COLS) FROM '$W/sii_copy.csv' CSV")")
    q $DB "$RESET_SI" >/dev/null
    imp_t+=("$(timed -c "SELECT integrations.import_csv_file('Sales Invoice', '$W/si.csv', 'Insert New Records', '{\"progress_seconds\": -1}')")")
done
q $DB 'ANALYZE "tabSales Invoice", "tabSales Invoice Item"' >/dev/null
got=$(q $DB "SELECT count(*) FROM (SELECT s.name FROM \"tabSales Invoice\" s JOIN \"tabSales Invoice Item\" i ON i.parent = s.name GROUP BY s.name HAVING count(*) = 5) x")
[ "$got" = "$NS" ] || { echo "the import wrote $got invoices with 5 items, not $NS"; exit 1; }
series=$(q $DB "SELECT name || '=' || current FROM \"tabSeries\"")
ct=$(median "${copy_t[@]}") it=$(median "${imp_t[@]}")
target "(b) Sales Invoices, import/COPY" "$(calc "round($ct / $it, 2)")" ">=" 0.5
echo "(b) $NS Sales Invoices + $((NS * 5)) items ($NROWS rows):  COPY $(calc "round($NROWS / $ct)") rows/s, import_csv_file $(calc "round($NROWS / $it)") rows/s  ->  import/COPY = $(calc "round($ct / $it, 2)")   (series $series; rounds: COPY ${copy_t[*]} s; import ${imp_t[*]} s; $(cpu_since "$CPU"))"

# ---- (c) the Items as an Excel workbook: import_xlsx (import_csv_file of the .xlsx) vs the CSV
"$FI_PY" "$FI_ROOT/bench/import/gen_xlsx.py" "$W"
chmod 644 "$W/items.xlsx"
CPU=$(cpu_snap)
csv_t=() xlsx_t=()
for r in $(seq 1 "$ROUNDS"); do
    q $DB "$RESET_ITEMS" >/dev/null
    csv_t+=("$(timed -c "SELECT integrations.import_csv_file('Item', '$W/items.csv', 'Insert New Records', '{\"progress_seconds\": -1}')")")
    q $DB "$RESET_ITEMS" >/dev/null
    xlsx_t+=("$(timed -c "SELECT integrations.import_csv_file('Item', '$W/items.xlsx', 'Insert New Records', '{\"progress_seconds\": -1}')")")
done
got=$(q $DB "SELECT count(*) FROM \"tabItem\" WHERE item_group IS NOT NULL AND standard_rate > 0 AND end_of_life = '2099-12-31'")
[ "$got" = "$NI" ] || { echo "the Excel import wrote $got Items, not $NI"; exit 1; }
ct=$(median "${csv_t[@]}") xt=$(median "${xlsx_t[@]}")
opx=$("$FI_PY" "$FI_ROOT/bench/import/gen_xlsx.py" "$W" read | cut -d' ' -f1)
target "(c) Items from .xlsx, xlsx/CSV" "$(calc "round($ct / $xt, 2)")" ">=" 0.5
echo "(c) $NI Items from a $(calc "round($(stat -c %s "$W/items.xlsx") / 1048576, 1)") MB .xlsx:  CSV import $(calc "round($NI / $ct)") rows/s, .xlsx import $(calc "round($NI / $xt)") rows/s  ->  xlsx/CSV = $(calc "round($ct / $xt, 2)")   (rounds: CSV ${csv_t[*]} s; xlsx ${xlsx_t[*]} s; openpyxl alone reads the workbook as Frappe does in $opx s; $(cpu_since "$CPU"))"

# ---- peak backend memory of an import
base=$(peak "SELECT 1" "1")
head -n $((NI / 2 + 1)) "$W/items.csv" > "$W/items_half.csv"; chmod 644 "$W/items_half.csv"
ph=$(peak "$RESET_ITEMS" "integrations.import_csv_file('Item', '$W/items_half.csv', 'Insert New Records', '{\"progress_seconds\": -1}')")
pi=$(peak "$RESET_ITEMS" "integrations.import_csv_file('Item', '$W/items.csv', 'Insert New Records', '{\"progress_seconds\": -1}')")
ps=$(peak "$RESET_SI" "integrations.import_csv_file('Sales Invoice', '$W/si.csv', 'Insert New Records', '{\"progress_seconds\": -1}')")
px=$(peak "$RESET_ITEMS" "integrations.import_csv_file('Item', '$W/items.xlsx', 'Insert New Records', '{\"progress_seconds\": -1}')")
echo "peak backend memory (VmHWM less shared memory): idle backend $base MB; Items import $pi MB for a $(calc "round($(stat -c %s "$W/items.csv") / 1048576, 1)") MB file ($ph MB for its first half, $(calc "round($(stat -c %s "$W/items_half.csv") / 1048576, 1)") MB); Sales Invoice import $ps MB for a $(calc "round($(stat -c %s "$W/si.csv") / 1048576, 1)") MB file; Items from .xlsx $px MB for a $(calc "round($(stat -c %s "$W/items.xlsx") / 1048576, 1)") MB workbook"
bench_verdict
