#!/usr/bin/env bash
# bench/export: integrations.export_csv_file against COPY (SELECT ...) TO of
# the same columns of the same rows, in the same run.  Run by
# `make bench-export` (test/run.sh starts the throwaway cluster).
#
#  (a) 100,000 Items, the 12 columns of bench/import plus the ID;
#  (b) 20,000 Sales Invoices with 5 item rows each (parent and child
#      columns; COPY joins the two tables);
#  median of BENCH_ROUNDS (3) alternating rounds; then the export's peak
#  backend memory for the whole of (a) and for half of it (flat: it streams).
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

IF='item_code, item_name, item_group, stock_uom, brand, description, is_stock_item, standard_rate, valuation_rate, shelf_life_in_days, weight_per_unit, end_of_life'
IFJ=$(echo "$IF" | "$FI_PY" -c 'import sys, json; print(json.dumps([f.strip() for f in sys.stdin.read().split(",")]))')
SF='customer, company, posting_date, currency, conversion_rate, selling_price_list, price_list_currency, plc_conversion_rate, debit_to, grand_total'
CF='item_code, item_name, qty, rate, amount, uom, conversion_factor, income_account, cost_center'
SFJ=$(echo "$SF" | "$FI_PY" -c 'import sys, json; print(json.dumps([f.strip() for f in sys.stdin.read().split(",")] + ["items." + f.strip() for f in sys.argv[1].split(",")]))' "$CF")
SFP=$(echo "$SF" | sed -E 's/([a-z_]+)/p.\1/g')
CFC=$(echo "$CF" | sed -E 's/([a-z_]+)/c.\1/g')

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

# ---- peak backend memory: the whole export and half of it
base=$(peak "SELECT 1" "1")
ihalf=$(peak "SELECT 1" "integrations.export_csv_file('Item', '$W/m.csv', '{\"limit\": $((NI / 2))}')")
ifull=$(peak "SELECT 1" "integrations.export_csv_file('Item', '$W/m.csv')")
isize=$(du -h "$W/m.csv" | cut -f1)
half=$(peak "SELECT 1" "integrations.export_csv_file('Sales Invoice', '$W/m.csv', '{\"children\": true, \"limit\": $((NS / 2))}')")
full=$(peak "SELECT 1" "integrations.export_csv_file('Sales Invoice', '$W/m.csv', '{\"children\": true}')")
echo "peak backend memory (VmHWM less shared memory): idle backend $base MB; export_csv_file of all $NI Items, every column: $ifull MB ($isize file), of half of them: $ihalf MB; of all $NS Sales Invoices with every column and all 9 child tables: $full MB ($(du -h "$W/m.csv" | cut -f1) file), of half of them: $half MB"
bench_verdict
