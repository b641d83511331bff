#!/usr/bin/env bash
# MariaDB, part 3 (issue 20, point 1): frappe-integrations import, Frappe's
# Data Import (Insert New Records, CSV) into a site on MariaDB with the
# engines PostgreSQL's import_csv uses: the same files imported into a
# PostgreSQL site and a MariaDB site with the same rows, the results (status,
# counts, every error's row, column, value and message) and the rows written
# compared; --dry-run, --atomic, the exit status; a naming series shared
# with a session that holds its row (SELECT ... FOR UPDATE, as Frappe does).
source "$FI_ROOT/test/lib.sh"
source "$FI_ROOT/test/mariadb/server.sh"
make -s -C "$FI_ROOT" mariadb >/dev/null
DB=fi_mdb_import
newdb $DB
MD=$FI_TMP/mariadb_import
rm -rf "$MD"
mkdir -p "$MD"
chmod 755 "$MD"
trap 'mdb_stop' EXIT
mdb_start "$MD"
mdb_site _imp pw_imp
printf '{"db_name": "_imp", "db_password": "pw_imp", "db_socket": "%s"}\n' "$MDB_SOCK" > "$MD/site_config.json"
chmod 600 "$MD/site_config.json"
FI="$FI_ROOT/bin/frappe-integrations"
m() { mariadb --no-defaults --socket="$MDB_SOCK" -u _imp -ppw_imp -D _imp -N -B -r -e "$1"; }
SEED="INSERT INTO \"tabItem Group\"(name) VALUES ('Products');
      INSERT INTO \"tabUOM\"(name) VALUES ('Nos');
      INSERT INTO \"tabCompany\"(name) VALUES ('ACME Ltd');
      INSERT INTO \"tabCurrency\"(name) VALUES ('INR');
      INSERT INTO \"tabPrice List\"(name) VALUES ('Standard Selling');
      INSERT INTO \"tabAccount\"(name) VALUES ('Debtors - A'), ('Sales - A'), ('VAT - A');
      INSERT INTO \"tabCost Center\"(name) VALUES ('Main - A');
      INSERT INTO \"tabCustomer\"(name, customer_name) VALUES ('C1', 'Customer One'), ('C2', 'Customer Two');
      INSERT INTO \"tabItem\"(name, item_code, item_name, item_group, stock_uom) VALUES ('I-0', 'I-0', 'Zero', 'Products', 'Nos')"
q $DB "$SEED" >/dev/null
mariadb --no-defaults --socket="$MDB_SOCK" -u _imp -ppw_imp -D _imp -e "SET SESSION sql_mode = 'ANSI_QUOTES'; $SEED"

mimp() {	# mimp <doctype> <file> [options]: the MariaDB import's JSON (its exit status in $MDB_RC)
    local dt=$1 f=$2; shift 2
    MDB_RC=0
    "$FI" import --site-config "$MD/site_config.json" --doctype "$dt" "$@" "$f" 2> "$MD/stderr" || MDB_RC=$?
}
pimp() {	# pimp <doctype> <file> [options jsonb]
    q $DB "SELECT integrations.import_csv_file('$1', '$2', 'Insert New Records', '${3:-{\}}')"
}
# the parts of a result both builds give: status, counts, errors (row, column, value, message)
norm() { "$FI_PY" -c 'import json,sys
r=json.loads(sys.stdin.read())
keep=["status","inserted","failed","rows","documents","dry_run","would_insert","rolled_back"]
print(json.dumps({k: r[k] for k in keep if k in r}, sort_keys=True))
for e in r["errors"]: print(e["row"], e["column"], e["value"], e["message"], sep=" | ")
for w in r["warnings"]: print("warning:", w)'; }
same() {	# same <description> <doctype> <csv text>: both imports of the file agree
    local d=$1 dt=$2 f
    f=$MD/$(echo "$d" | tr -c 'a-z0-9' _).csv
    printf '%s' "$3" > "$f"
    chmod 644 "$f"
    local mres pres
    mres=$("$FI" import --site-config "$MD/site_config.json" --doctype "$dt" --dry-run "$f" 2>/dev/null | norm)
    pres=$(pimp "$dt" "$f" '{"dry_run": true}' | norm)
    t_is "$mres" "$pres" "$d: the result as PostgreSQL's (dry run)"
}

# ---- results compared, file by file (dry runs: both sites stay as seeded)
same "items" Item 'Item Code,Item Name,Item Group,Default Unit of Measure
I-1,Widget,Products,Nos
I-2,Gadget,Products,Nos
'
same "a Link to nothing" Item 'Item Code,Item Name,Item Group,Default Unit of Measure
I-3,Thing,Nope,Nos
I-4,Other,Products,None such
'
same "mandatory values missing" Item 'Item Code,Item Name,Item Group
I-5,,Products
,Nameless,
'
same "cells that are no value" Item 'Item Code,Item Name,Item Group,Default Unit of Measure,Shelf Life In Days,Is Stock Item,Disabled
I-6,Six,Products,Nos,abc,2,yes
I-7,Seven,Products,Nos,12,1,0
'
same "a ragged row and an unterminated quote" Item 'Item Code,Item Name,Item Group
I-8,Eight,Products,extra
I-9,"Nine,Products
'
same "a name already stored, beside new ones" Item 'Item Code,Item Name,Item Group,Default Unit of Measure
I-11,Eleven,Products,Nos
I-0,Zero again,Products,Nos
I-12,Twelve,Products,Nos
'
same "a name twice and a header that names nothing" Item 'Item Code,Item Name,Item Group,Nonsense Column
I-10,Ten,Products,x
I-10,Ten again,Products,y
'
SI_HEAD='Customer,Company,Currency,Price List,Price List Currency,Debit To,Posting Date,Item Name (Items),UOM (Items),Income Account (Items),Cost Center (Items),Rate (Items),Amount (Items),Rate (Company Currency) (Items),Amount (Company Currency) (Items),UOM Conversion Factor (Items),Charge Type (Sales Taxes and Charges),Account Head (Sales Taxes and Charges),Rate (Sales Taxes and Charges)'
SI_ROW='ACME Ltd,INR,Standard Selling,INR,Debtors - A'
same "sales invoices with items and taxes" 'Sales Invoice' "$SI_HEAD
C1,$SI_ROW,05-06-2024,Widget,Nos,Sales - A,Main - A,1,1,1,1,1,On Net Total,VAT - A,5
,,,,,,,Gadget,Nos,Sales - A,Main - A,2,2,2,2,1,,,
C2,$SI_ROW,13-06-2024,Thing,Nos,Sales - A,Main - A,3,3,3,3,1,On Net Total,VAT - A,7
C3,$SI_ROW,2024-06-14,Thing,Nos,Sales - A,Main - A,3,3,3,3,1,Bogus,VAT - A,7
"
same "a Document Status and a date that cannot be" 'Sales Invoice' "Customer,Company,Currency,Debit To,Posting Date,Document Status
C1,ACME Ltd,INR,Debtors - A,31-31-2024,0
C2,ACME Ltd,INR,Debtors - A,01-02-2024,7
"

# ---- Excel: the same workbook (openpyxl's) through both imports
"$FI_PY" -c 'import openpyxl, datetime, sys
wb = openpyxl.Workbook(); ws = wb.active
ws.append(["Item Code", "Item Name", "Item Group", "Default Unit of Measure", "End of Life", "Shelf Life In Days"])
ws.append(["X-1", "Sheet one", "Products", "Nos", datetime.datetime(2030, 12, 31), 12])
ws.append(["X-2", "Sheet two", "Products", "Nos", "31-12-2031", 7.0])
ws.append(["X-3", "Sheet three", "Nope", "Nos", "01-01-2032", None])
ws.append([None, None, None, None, None, None])
ws.append(["X-4", "Sheet four", "Products", "Nos", "2032-13-45", "abc"])
wb.save(sys.argv[1])' "$MD/items.xlsx"
chmod 644 "$MD/items.xlsx"
mres=$("$FI" import --site-config "$MD/site_config.json" --doctype Item --dry-run "$MD/items.xlsx" 2>/dev/null | norm)
t_is "$mres" "$(pimp Item "$MD/items.xlsx" '{"dry_run": true}' | norm)" "an Excel workbook: the result as PostgreSQL's import_xlsx (dry run)"
t_like "$mres" '"inserted": 0, "rows": 4' "(its rows read, the empty one skipped)"
printf 'not a workbook' > "$MD/bad.xlsx"
t_like "$("$FI" import --site-config "$MD/site_config.json" --doctype Item "$MD/bad.xlsx" 2>&1 | tr '\n' ' '; echo "rc ${PIPESTATUS[0]}")" \
       '^ERROR 22023: .*HINT: Excel 2007\+ workbooks .*rc 1$' "a file named .xlsx that is no workbook: refused, saying what is read"
# ---- the rows written: both sites, the same documents
printf '%s\n' "$SI_HEAD" "C1,$SI_ROW,05-06-2024,Widget,Nos,Sales - A,Main - A,1,1,1,1,1,On Net Total,VAT - A,5" \
    ",,,,,,,Gadget,Nos,Sales - A,Main - A,2.5,5,2.5,5,1,,," "C2,$SI_ROW,13-06-2024,Thing,Nos,Sales - A,Main - A,3,3,3,3,1,On Net Total,VAT - A,7" \
    > "$MD/si.csv"
chmod 644 "$MD/si.csv"
mimp 'Sales Invoice' "$MD/si.csv" > "$MD/si.json"
pimp 'Sales Invoice' "$MD/si.csv" > "$MD/si_pg.json"
t_is "$(norm < "$MD/si.json")" "$(norm < "$MD/si_pg.json")" "sales invoices imported: the same result"
t_is "$MDB_RC" 0 "exit status 0 when every document was imported"
SQL_SI="SELECT name, customer, customer_name, title, naming_series, posting_date, docstatus, owner, modified_by, currency, debit_to FROM \"tabSales Invoice\" ORDER BY name"
SQL_IT="SELECT parent, parentfield, parenttype, idx, item_name, uom, rate, amount FROM \"tabSales Invoice Item\" ORDER BY parent, idx"
SQL_TX="SELECT parent, idx, charge_type, account_head, rate FROM \"tabSales Taxes and Charges\" ORDER BY parent, idx"
numfix() { "$FI_PY" -c 'import sys,re
for l in sys.stdin: print("\t".join(str(float(c)) if re.fullmatch(r"-?[0-9]+\.[0-9]+", c) else c for c in l.rstrip("\n").split("\t")))'; }
for s in "$SQL_SI" "$SQL_IT" "$SQL_TX"; do
    t_is "$(mariadb --no-defaults --socket="$MDB_SOCK" -u _imp -ppw_imp -D _imp -N -B -r -e "SET SESSION sql_mode = 'ANSI_QUOTES'; $s" | numfix)" \
         "$(q $DB "$s" | tr '|' '\t' | numfix)" "the rows written as PostgreSQL's: ${s:0:60}"
done
t_is "$(m "SELECT name, current FROM tabSeries")" "$(q $DB "SELECT name, current FROM \"tabSeries\"" | tr '|' '\t')" "tabSeries counted as on PostgreSQL"
t_like "$(m "SELECT MIN(creation) = MAX(modified) FROM \`tabSales Invoice Item\`")" '^1$' "creation and modified: the batch's clock, for every row"

# ---- Update Existing Records: each site's own export changed the same way, both results and rows compared
XOPT='{"children": true, "fields": ["name", "customer", "posting_date", "items.item_name", "items.rate", "items.amount", "taxes.rate"]}'
"$FI" export --site-config "$MD/site_config.json" --doctype 'Sales Invoice' --options "$XOPT" > "$MD/si_m.csv"
q $DB "SELECT integrations.export_csv('Sales Invoice', '$XOPT')" > "$MD/si_p.csv"
chmod 644 "$MD/si_m.csv" "$MD/si_p.csv"
SQL_MOD="SELECT name, modified FROM \"tabSales Invoice\" ORDER BY name"
MOD_BEFORE=$(m "SET SESSION sql_mode = 'ANSI_QUOTES'; $SQL_MOD")
mimp 'Sales Invoice' "$MD/si_m.csv" --update > "$MD/rt.json"
t_is "$(norm < "$MD/rt.json" | head -1)-$MDB_RC" '{"documents": 2, "failed": 0, "inserted": 0, "rows": 3, "status": "Success"}-0' \
     "the round trip: the export imported back with --update changes nothing"
t_is "$(jget 'd["unchanged"], d["updated"]' < "$MD/rt.json")" "(2, 0)" "(both documents unchanged, none updated)"
t_is "$(m "SET SESSION sql_mode = 'ANSI_QUOTES'; $SQL_MOD")" "$MOD_BEFORE" "(and not even modified is touched)"
q $DB "SELECT integrations.import_csv_file('Sales Invoice', '$MD/si_p.csv', 'Update Existing Records')" > "$MD/rt_pg.json"
t_is "$(jget 'd["unchanged"], d["updated"], d["failed"]' < "$MD/rt.json")" "$(jget 'd["unchanged"], d["updated"], d["failed"]' < "$MD/rt_pg.json")" \
     "(as PostgreSQL's round trip)"
cat > "$MD/change.py" <<'PY'
import csv, sys
rows = [r for r in csv.reader(open(sys.argv[1], newline="")) if r]   # (psql adds an empty line)
h = rows[0]
col = {t: h.index(t) for t in h}
docs = [i for i, r in enumerate(rows) if i and r[col["ID"]]]
# the invoice with two items (a continuation line after it), and the other one
first = [i for i in docs if i + 1 < len(rows) and not rows[i + 1][col["ID"]]][0]
second = [i for i in docs if i != first][0]
r = rows[first]
r[col["Rate (Items)"]] = "9"; r[col["Amount (Items)"]] = "9"        # the first item of the first invoice changed
rows[first + 1] = [""] * len(h)                                       # its second item gone (a blank row)
extra = [""] * len(h)
extra[col["Item Name (Items)"]] = "New thing"; extra[col["Rate (Items)"]] = "4"; extra[col["Amount (Items)"]] = "4"
rows[second][col["Customer"]] = "C1"                                  # the other's customer changed
rows.insert(second + 1, extra)                                        # and a new item for it
nope = [""] * len(h); nope[col["ID"]] = "ACC-SINV-NOPE"; nope[col["Customer"]] = "C2"
rows.append(nope)                                                     # an invoice that is not there
csv.writer(sys.stdout, lineterminator="\n").writerows(rows)
PY
"$FI_PY" "$MD/change.py" "$MD/si_m.csv" > "$MD/up_m.csv"
"$FI_PY" "$MD/change.py" "$MD/si_p.csv" > "$MD/up_p.csv"
chmod 644 "$MD/up_m.csv" "$MD/up_p.csv"
mimp 'Sales Invoice' "$MD/up_m.csv" --update > "$MD/up.json"
q $DB "SELECT integrations.import_csv_file('Sales Invoice', '$MD/up_p.csv', 'Update Existing Records')" > "$MD/up_pg.json" 2> "$MD/up_pg.err" || cat "$MD/up_pg.err" >&2
t_is "$(norm < "$MD/up.json")-$(jget 'd["updated"], d["unchanged"]' < "$MD/up.json")" \
     "$(norm < "$MD/up_pg.json")-$(jget 'd["updated"], d["unchanged"]' < "$MD/up_pg.json")" \
     "an Update (a child row changed, one removed, one added, a parent field, an ID not there): the result as PostgreSQL's"
t_like "$(norm < "$MD/up.json")" "Sales Invoice ACC-SINV-NOPE not found" "(the missing one named)"
SQL_IT2="SELECT parent, idx, item_name, rate, amount, owner, docstatus FROM \"tabSales Invoice Item\" ORDER BY parent, idx"
SQL_SI2="SELECT name, customer, modified_by FROM \"tabSales Invoice\" ORDER BY name"
for s in "$SQL_IT2" "$SQL_SI2"; do
    t_is "$(mariadb --no-defaults --socket="$MDB_SOCK" -u _imp -ppw_imp -D _imp -N -B -r -e "SET SESSION sql_mode = 'ANSI_QUOTES'; $s" | numfix)" \
         "$(q $DB "$s" | tr '|' '\t' | numfix)" "after the Update, the rows as PostgreSQL's: ${s:0:50}"
done
t_is "$(m "SELECT COUNT(*) FROM \`tabSales Invoice Item\` i JOIN \`tabSales Invoice\` s ON s.name = i.parent WHERE i.modified = s.modified AND s.modified > s.creation")" 3 \
     "(the rows written by the Update carry its clock)"
# a submitted document: a field without allow_on_submit refused; a cancelled one refused whole
for site in pg mdb; do
    sql="UPDATE \"tabSales Invoice\" SET docstatus = CASE WHEN name LIKE '%1' THEN 1 ELSE 2 END"
    if [ $site = pg ]; then q $DB "$sql" >/dev/null
    else mariadb --no-defaults --socket="$MDB_SOCK" -u _imp -ppw_imp -D _imp -e "SET SESSION sql_mode = 'ANSI_QUOTES'; $sql"; fi
done
N1=$(m "SELECT MIN(name) FROM \`tabSales Invoice\`"); N2=$(m "SELECT MAX(name) FROM \`tabSales Invoice\`")
printf 'ID,Customer,Posting Date\n%s,C2,01-01-2025\n%s,C1,\n' "$N1" "$N2" > "$MD/sub.csv"
chmod 644 "$MD/sub.csv"
mimp 'Sales Invoice' "$MD/sub.csv" --update > "$MD/sub.json"
q $DB "SELECT integrations.import_csv_file('Sales Invoice', '$MD/sub.csv', 'Update Existing Records')" > "$MD/sub_pg.json"
t_is "$(norm < "$MD/sub.json")" "$(norm < "$MD/sub_pg.json")" "a submitted and a cancelled document: refused as PostgreSQL refuses them"
t_like "$(norm < "$MD/sub.json")" "Cannot edit cancelled document" "(the cancelled one in Frappe's words)"
for site in pg mdb; do
    sql="UPDATE \"tabSales Invoice\" SET docstatus = 0"
    if [ $site = pg ]; then q $DB "$sql" >/dev/null
    else mariadb --no-defaults --socket="$MDB_SOCK" -u _imp -ppw_imp -D _imp -e "SET SESSION sql_mode = 'ANSI_QUOTES'; $sql"; fi
done
# a child row's ID of another document
CH=$(m "SELECT name FROM \`tabSales Invoice Item\` WHERE parent = '$N1' ORDER BY idx LIMIT 1")
printf 'ID,ID (Items),Item Name (Items),Rate (Items)\n%s,%s,Moved,1\n' "$N2" "$CH" > "$MD/foreign.csv"
mimp 'Sales Invoice' "$MD/foreign.csv" --update > "$MD/foreign.json"
t_is "$(norm < "$MD/foreign.json" | tail -1)" "2 | ID (Items) | $CH | Items: row $CH belongs to Sales Invoice $N1, not to this document" \
     "a child row's ID of another document: the document fails, naming the row's owner"
t_is "$(m "SELECT parent, item_name FROM \`tabSales Invoice Item\` WHERE name = '$CH'")" "$N1	Widget" "(the row stays where it was)"
printf 'Customer\nC1\n' > "$MD/noid.csv"
mimp 'Sales Invoice' "$MD/noid.csv" --update > "$MD/noid.json"
t_is "$(norm < "$MD/noid.json" | tail -1)" '2 | None | None | an ID is required to update a document (an "ID" column)' "Update without an ID column: each document says so"

# ---- the exit status, --dry-run, --atomic
printf 'Item Code,Item Name,Item Group,Default Unit of Measure\nI-20,Twenty,Products,Nos\nI-21,TwentyOne,Nope,Nos\n' > "$MD/mixed.csv"
mimp Item "$MD/mixed.csv" > "$MD/mixed.json"
t_is "$MDB_RC $(m "SELECT COUNT(*) FROM tabItem WHERE name IN ('I-20', 'I-21')")" "3 1" \
     "a document failed: exit status 3, the others imported (per-row errors, not all-or-nothing)"
printf 'Item Code,Item Name,Item Group,Default Unit of Measure\nI-22,TwentyTwo,Products,Nos\nI-23,TwentyThree,Nope,Nos\n' > "$MD/atomic.csv"
R=$("$FI" import --site-config "$MD/site_config.json" --doctype Item --atomic "$MD/atomic.csv" 2>/dev/null)
t_is "$(printf '%s' "$R" | norm | head -1) $(m "SELECT COUNT(*) FROM tabItem WHERE name = 'I-22'")" \
     '{"documents": 2, "failed": 1, "inserted": 0, "rolled_back": 1, "rows": 2, "status": "Error"} 0' "--atomic: one failure rolls the whole file back"
printf 'Item Code,Item Name,Item Group,Default Unit of Measure\nI-24,TwentyFour,Products,Nos\n' > "$MD/dry.csv"
R=$("$FI" import --site-config "$MD/site_config.json" --doctype Item --dry-run "$MD/dry.csv" 2>/dev/null)
t_is "$(printf '%s' "$R" | norm | head -1) $(m "SELECT COUNT(*) FROM tabItem WHERE name = 'I-24'")" \
     '{"documents": 1, "dry_run": true, "failed": 0, "inserted": 0, "rows": 1, "status": "Success", "would_insert": 1} 0' "--dry-run: checked and written, then rolled back (would_insert, as PostgreSQL's)"
t_like "$("$FI" import --site-config "$MD/site_config.json" --doctype 'Item`; DROP TABLE tabItem; --' "$MD/dry.csv" 2>&1 | tr '\n' ' '; echo "rc ${PIPESTATUS[0]}")" \
       '^ERROR 42704: DocType Item`; DROP TABLE tabItem; -- not found rc 1$' "SQL as the DocType: no such DocType"
t_is "$(m "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '_imp' AND TABLE_NAME = 'tabItem'")" 1 "(tabItem is there)"
t_like "$("$FI" import --site-config "$MD/site_config.json" --doctype DocType "$MD/dry.csv" 2>&1)" 'DocType cannot be imported' "a core DocType: refused as Frappe refuses it"
t_like "$("$FI" import --site-config "$MD/site_config.json" --doctype 'Sales Invoice Item' "$MD/dry.csv" 2>&1)" 'is a child table' "a child table alone: refused"
printf '' > "$MD/empty.csv"
t_like "$("$FI" import --site-config "$MD/site_config.json" --doctype Item "$MD/empty.csv" 2>&1)" 'should contain a Header' "an empty file: Frappe's words"

# ---- tabData Import Log: the same rows as PostgreSQL's (--data-import / options.data_import)
for site in pg mdb; do
    sql="INSERT INTO \"tabData Import\"(name, reference_doctype, import_type, status) VALUES ('DI-1', 'Item', 'Insert New Records', 'Pending'), ('DI-2', 'Item', 'Insert New Records', 'Pending')"
    if [ $site = pg ]; then q $DB "$sql" >/dev/null
    else mariadb --no-defaults --socket="$MDB_SOCK" -u _imp -ppw_imp -D _imp -e "SET SESSION sql_mode = 'ANSI_QUOTES'; $sql"; fi
done
printf 'Item Code,Item Name,Item Group,Default Unit of Measure\nDL-1,One,Products,Nos\nDL-2,Two,,Nos\nDL-3,Three,Nope,"No\"s"\nDL-4,Four,Products,Nos\n' > "$MD/log.csv"
chmod 644 "$MD/log.csv"
mimp Item "$MD/log.csv" --data-import DI-1 --batch-size 2 > "$MD/log.json"
pimp Item "$MD/log.csv" '{"data_import": "DI-1", "batch_size": 2}' > "$MD/log_pg.json"
t_is "$(norm < "$MD/log.json")" "$(norm < "$MD/log_pg.json")" "--data-import: the import's result as PostgreSQL's"
SQL_LOG="SELECT COALESCE(docname, ''), COALESCE(exception, ''), row_indexes, success, log_index, messages, owner, modified_by FROM \"tabData Import Log\" WHERE data_import = 'DI-1' ORDER BY log_index"
t_is "$(mariadb --no-defaults --socket="$MDB_SOCK" -u _imp -ppw_imp -D _imp -N -B -r -e "SET SESSION sql_mode = 'ANSI_QUOTES'; $SQL_LOG")" \
     "$(q $DB "$SQL_LOG" | tr '|' '\t')" "tabData Import Log: a row per document, the same texts as PostgreSQL's (messages, exception, row_indexes)"
t_like "$(m "SELECT messages FROM \`tabData Import Log\` WHERE data_import = 'DI-1' AND row_indexes = '[3]'")" \
     '^\[\{"message": "[^"]+", "title": "Message"\}\]$' "(a missing value: msgprint'ed, no red indicator)"
SQL_DI="SELECT name, status, payload_count FROM \"tabData Import\" WHERE name = 'DI-1'"
t_is "$(m "SET SESSION sql_mode = 'ANSI_QUOTES'; $SQL_DI")" "$(q $DB "$SQL_DI" | tr '|' '\t')" "tabData Import: status and payload_count as PostgreSQL sets them"
t_is "$(m "SELECT COUNT(*), COUNT(DISTINCT name), MIN(LENGTH(name)), MIN(creation) > NOW() - INTERVAL 1 DAY FROM \`tabData Import Log\`")" "4	4	10	1" \
     "(each log row named by a 10-character hash, created now)"
R=$("$FI" import --site-config "$MD/site_config.json" --doctype Item --atomic --data-import DI-2 "$MD/log.csv" 2>/dev/null)
P=$(pimp Item "$MD/log.csv" '{"data_import": "DI-2", "atomic": true}')
SQL_LOG2="SELECT CASE WHEN docname IS NULL THEN 1 ELSE 0 END, success, log_index FROM \"tabData Import Log\" WHERE data_import = 'DI-2' ORDER BY log_index"
t_is "$(mariadb --no-defaults --socket="$MDB_SOCK" -u _imp -ppw_imp -D _imp -N -B -r -e "SET SESSION sql_mode = 'ANSI_QUOTES'; $SQL_LOG2; ${SQL_DI/DI-1/DI-2}")" \
     "$(q $DB "$SQL_LOG2; ${SQL_DI/DI-1/DI-2}" | tr '|' '\t')" "--atomic rolled back: the log kept, the Data Import in Error, as on PostgreSQL"
t_is "$("$FI" import --site-config "$MD/site_config.json" --doctype Item --data-import DI-404 "$MD/log.csv" 2>&1; echo "rc $?")" \
     "ERROR 42704: Data Import DI-404 not found
HINT: --data-import names the tabData Import document to log to.
rc 1" "--data-import of no Data Import: refused before anything is written"

# ---- a naming series shared with a Frappe-style session holding its row
m "INSERT INTO tabSeries (name, current) VALUES ('TS-', 0) ON DUPLICATE KEY UPDATE current = current"
m "UPDATE tabDocType SET autoname = 'TS-.####' WHERE name = 'Item'"
printf 'Item Code,Item Name,Item Group,Default Unit of Measure\nG1,G1,Products,Nos\nG2,G2,Products,Nos\nG3,G3,Products,Nos\n' > "$MD/groups.csv"
hold_series() {	# a Frappe-style session holding the series' row for 1.5 s, then taking a number; returns once it holds it
    ( mariadb --no-defaults --socket="$MDB_SOCK" -u _imp -ppw_imp -D _imp -N -B -e \
        "START TRANSACTION; SELECT current FROM tabSeries WHERE name = 'TS-' FOR UPDATE; DO GET_LOCK('ts_held', 10);
         DO SLEEP(1.5); UPDATE tabSeries SET current = current + 1 WHERE name = 'TS-'; COMMIT; DO RELEASE_LOCK('ts_held')" > /dev/null ) &
    HOLDER=$!
    for _ in $(seq 200); do [ "$(m "SELECT IS_USED_LOCK('ts_held') IS NOT NULL")" = 1 ] && return 0; sleep 0.05; done
}
hold_series
START=$(date +%s.%N)
mimp Item "$MD/groups.csv" > "$MD/groups.json"
END=$(date +%s.%N)
wait $HOLDER
t_is "$(m "SELECT GROUP_CONCAT(name ORDER BY name) FROM tabItem WHERE name LIKE 'TS-%'") $(m "SELECT current FROM tabSeries WHERE name = 'TS-'")" \
     "TS-0002,TS-0003,TS-0004 4" "a series row held by another session: the import waits for it, then takes the next numbers (none twice)"
t_like "$("$FI_PY" -c "print('waited' if $END - $START > 0.9 else 'did not wait')")" '^waited$' "(it waited for the row's lock)"
# two imports at once and the session, on the one series
for k in a b; do
    { echo 'Item Code,Item Name,Item Group,Default Unit of Measure'; for i in 1 2 3 4 5 6 7 8 9 10; do echo "P$k$i,P$k$i,Products,Nos"; done; } > "$MD/par_$k.csv"
done
hold_series
"$FI" import --site-config "$MD/site_config.json" --doctype Item --batch-size 3 "$MD/par_a.csv" > "$MD/par_a.json" 2> "$MD/par_a.err" &
PA=$!
"$FI" import --site-config "$MD/site_config.json" --doctype Item --batch-size 3 "$MD/par_b.csv" > "$MD/par_b.json" 2> "$MD/par_b.err" &
PB=$!
wait $PA; RA=$?
wait $PB; RB=$?
wait $HOLDER
t_is "$RA $RB $(m "SELECT COUNT(*), COUNT(DISTINCT name), MIN(name) > 'TS-0005' FROM tabItem WHERE item_code LIKE 'P%'") $(m "SELECT current FROM tabSeries WHERE name = 'TS-'")" \
     "0 0 20	20	1 25" "two imports (batches of 3) and a Frappe-style session on one series: every number once, none lost"
# ---- autoincrement: the DocType's sequence (Frappe's scrub(doctype)_id_seq, nocache); a supplied ID is not kept
q $DB "INSERT INTO \"tabDocType\"(name, module, autoname, istable, issingle) VALUES ('Counter Thing', 'Stub', 'autoincrement', 0, 0);
       INSERT INTO \"tabDocField\"(name, parent, parenttype, parentfield, idx, fieldname, label, fieldtype)
       VALUES ('ct-title', 'Counter Thing', 'DocType', 'fields', 1, 'title', 'Title', 'Data');
       CREATE TABLE \"tabCounter Thing\" (name bigint PRIMARY KEY, creation timestamp(6), modified timestamp(6),
         modified_by varchar(140), owner varchar(140), docstatus smallint NOT NULL DEFAULT 0, idx bigint NOT NULL DEFAULT 0,
         title varchar(140), _user_tags text, _comments text, _assign text, _liked_by text);
       CREATE SEQUENCE counter_thing_id_seq CACHE 1;
       SELECT setval('counter_thing_id_seq', 41)" >/dev/null
m "INSERT INTO tabDocType (name, module, autoname, istable, issingle) VALUES ('Counter Thing', 'Stub', 'autoincrement', 0, 0);
   INSERT INTO tabDocField (name, parent, parenttype, parentfield, idx, fieldname, label, fieldtype)
   VALUES ('ct-title', 'Counter Thing', 'DocType', 'fields', 1, 'title', 'Title', 'Data');
   CREATE TABLE \`tabCounter Thing\` (name bigint NOT NULL PRIMARY KEY, creation datetime(6), modified datetime(6),
     modified_by varchar(140), owner varchar(140), docstatus int(1) NOT NULL DEFAULT 0, idx int(8) NOT NULL DEFAULT 0,
     title varchar(140), _user_tags text, _comments text, _assign text, _liked_by text) ENGINE=InnoDB;
   CREATE SEQUENCE counter_thing_id_seq START WITH 42 NOCACHE NOCYCLE"
printf 'ID,Title\n7,first\n,second\n,third\n' > "$MD/counter.csv"
chmod 644 "$MD/counter.csv"
mimp 'Counter Thing' "$MD/counter.csv" --batch-size 2 > "$MD/counter.json"
t_is "$(norm < "$MD/counter.json")" "$(pimp 'Counter Thing' "$MD/counter.csv" '{"batch_size": 2}' | norm)" \
     "an autoincrement DocType: the result as PostgreSQL's"
t_is "$(m "SELECT GROUP_CONCAT(CONCAT(name, '=', title) ORDER BY name SEPARATOR ' ') FROM \`tabCounter Thing\`")" \
     "$(q $DB "SELECT string_agg(name || '=' || title, ' ' ORDER BY name) FROM \"tabCounter Thing\"")" \
     "names from the sequence, across batches, the supplied ID not kept: the rows as PostgreSQL's"
t_is "$(m "SELECT GROUP_CONCAT(name ORDER BY name) FROM \`tabCounter Thing\`") $(m "SELECT NEXTVAL(counter_thing_id_seq)")" "42,43,44 45" \
     "(42, 43, 44: the sequence's next values; it moved on)"
t_done
