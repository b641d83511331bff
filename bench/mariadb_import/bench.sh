#!/usr/bin/env bash
# bench/mariadb_import: Data Import on MariaDB (issue 20, point 1), as a ratio
# measured in this run (make bench-mariadb-import; a throwaway mariadbd):
# frappe-integrations import of BENCH_ROWS (100,000) Items x 8 columns from a
# CSV file (every rule: header, cells, defaults, mandatory, Link checks of
# Item Group and UOM, names from Item Code, array-bound inserts) vs the
# fastest plain load of the same rows into the same table (plain_load.c:
# a prepared INSERT with array binding, 1,000 rows per execute, the values
# already converted, no check).  Target: import >= 0.5x the plain load's
# rate.  Median of 3 alternating rounds; the table emptied between them.
source "$FI_ROOT/test/lib.sh"
source "$FI_ROOT/bench/lib.sh"
source "$FI_ROOT/test/mariadb/server.sh"
N=${BENCH_ROWS:-100000}
make -s -C "$FI_ROOT" mariadb >/dev/null
MD=$FI_TMP/mariadb_import_bench
rm -rf "$MD"
mkdir -p "$MD"
trap 'mdb_stop' EXIT
mdb_start "$MD"
mdb_site _bimp pw_bimp
printf '{"db_name": "_bimp", "db_password": "pw_bimp", "db_socket": "%s"}\n' "$MDB_SOCK" > "$MD/site_config.json"
chmod 600 "$MD/site_config.json"
mdb "INSERT INTO _bimp.\`tabItem Group\`(name) VALUES ('Products'), ('Services'); INSERT INTO _bimp.tabUOM(name) VALUES ('Nos'), ('Kg')"
gcc -O2 -Wall -Werror -I/usr/include/mariadb -o "$MD/plain_load" "$FI_ROOT/bench/mariadb_import/plain_load.c" -lmariadb

# the same rows twice: the import's CSV, and the plain load's TSV of the values it writes
"$FI_PY" - "$N" "$MD/items.csv" "$MD/items.tsv" <<'PY'
import csv, sys
n = int(sys.argv[1])
with open(sys.argv[2], "w", newline="") as c, open(sys.argv[3], "w") as t:
    w = csv.writer(c)
    w.writerow(["Item Code", "Item Name", "Item Group", "Default Unit of Measure", "Description", "Is Stock Item",
                "Standard Rate", "Shelf Life In Days"])
    t.write("\t".join(["name", "creation", "modified", "modified_by", "owner", "docstatus", "idx", "item_code", "item_name",
                       "item_group", "stock_uom", "description", "is_stock_item", "standard_rate", "shelf_life_in_days"]) + "\n")
    now = "2026-01-01 00:00:00.000000"
    for i in range(1, n + 1):
        code = "ITEM-%07d" % i
        row = [code, "Item %d, the best" % i, "Products" if i % 2 else "Services", "Nos" if i % 3 else "Kg",
               "A description of item %d" % i, str(i % 2), "%.2f" % (i * 1.25), str(i % 365)]
        w.writerow(row)
        t.write("\t".join([code, now, now, "Administrator", "Administrator", "0", "0"] + row) + "\n")
PY

empty() { mdb "TRUNCATE TABLE _bimp.tabItem"; }
ti=() tp=() ratio=()
for round in 1 2 3; do
    empty
    t0=$(now)
    out=$("$FI_ROOT/bin/frappe-integrations" import --site-config "$MD/site_config.json" --doctype Item "$MD/items.csv" 2>/dev/null) || break
    t1=$(now)
    got=$(printf '%s' "$out" | "$FI_PY" -c 'import json,sys; print(json.load(sys.stdin)["inserted"])')
    [ "$got" = "$N" ] && [ "$(mdb "SELECT COUNT(*) FROM _bimp.tabItem")" = "$N" ] || { echo "the import wrote $got of $N" >&2; break; }
    empty
    t2=$(now)
    "$MD/plain_load" "$MDB_SOCK" _bimp root tabItem "$MD/items.tsv" >/dev/null || break
    t3=$(now)
    ti+=("$(calc "$t1 - $t0")"); tp+=("$(calc "$t3 - $t2")")
    ratio+=("$(calc "round(($t3 - $t2) / ($t1 - $t0), 2)")")
done
if [ "${#ratio[@]}" -eq 3 ]; then
    R=$(median "${ratio[@]}")
    echo "Data Import of $N Items x 8 columns: import $(calc "round($N / $(median "${ti[@]}"))") rows/s ($(median "${ti[@]}") s), plain array-bound load $(calc "round($N / $(median "${tp[@]}"))") rows/s ($(median "${tp[@]}") s)  ->  import/plain = $R  (rounds: ${ratio[*]})"
    target "Data Import on MariaDB / plain load with array binding" "$R" ">=" 0.5
else
    echo "bench/mariadb_import: no figure (rounds ${#ratio[@]})" >&2
    target "Data Import on MariaDB (no figure)" "" ">=" 0.5
fi
mdb_stop
bench_verdict
