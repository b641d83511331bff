#!/usr/bin/env bash
# MariaDB, part 3 (issue 20, point 2): Data Export for a site on MariaDB
# (frappe-integrations export): the site of test/t/100 made on PostgreSQL,
# its documents copied row for row into a MariaDB site, and every export
# compared byte for byte with the PostgreSQL build's export_csv of the same
# options; the refusals in the same words; SQL in every argument; the
# caller's privileges; a file that appears only when complete.
source "$FI_ROOT/test/lib.sh"
source "$FI_ROOT/test/mariadb/server.sh"
DB=fi_export_mdb
DB2=fi_export_mdb_copy
source "$FI_ROOT/test/export_site.sh"
make -s -C "$FI_ROOT" mariadb >/dev/null
MD=$FI_TMP/mariadb_export
rm -rf "$MD"
trap 'mdb_stop' EXIT
mdb_start "$MD"
mdb_site _site1 pw-site1
# a bench's layout: the socket in sites/common_site_config.json, the site's database and password in its own
mkdir -p "$MD/sites/site1.local"
printf '{"db_socket": "%s", "background_workers": 1}\n' "$MDB_SOCK" > "$MD/sites/common_site_config.json"
printf '{"db_name": "_site1", "db_password": "pw-site1"}\n' > "$MD/sites/site1.local/site_config.json"
chmod 600 "$MD/sites/site1.local/site_config.json"
SC=$MD/sites/site1.local/site_config.json

# the PostgreSQL site's documents, row for row (pg_dump's INSERTs, read with ANSI quotes and no backslash escapes)
for t in "tabItem" "tabCustomer" "tabSales Invoice" "tabSales Invoice Item"; do
    "$FI_PGBIN/pg_dump" --data-only --column-inserts --table "\"$t\"" "$DB"
done | grep -v -e '^SET ' -e '^SELECT pg_catalog' -e '^--' -e '^\\' | sed 's/^INSERT INTO public\./INSERT INTO /' > "$MD/rows.sql"
{ echo "SET SESSION sql_mode = 'ANSI_QUOTES,NO_BACKSLASH_ESCAPES,STRICT_ALL_TABLES';"; cat "$MD/rows.sql"; } \
    | mariadb --no-defaults --socket="$MDB_SOCK" -u root _site1
t_is "$(mdb "SELECT CONCAT((SELECT COUNT(*) FROM _site1.tabItem), ' ', (SELECT COUNT(*) FROM _site1.tabCustomer), ' ', (SELECT COUNT(*) FROM _site1.\`tabSales Invoice\`), ' ', (SELECT COUNT(*) FROM _site1.\`tabSales Invoice Item\`))")" \
     "3 2 2 3" "the PostgreSQL site's documents are in the MariaDB site"

FI=("$FI_ROOT/bin/frappe-integrations")
# FI_VALGRIND=1: every export under valgrind (memory errors exit 99 and fail the checks)
[ -n "${FI_VALGRIND:-}" ] && FI=(valgrind -q --error-exitcode=99 --leak-check=no "$FI_ROOT/build/mariadb/fi-client")
mexp() { "${FI[@]}" export --site-config "$SC" --doctype "$1" --options "${2:-{\}}"; }
pexp() { echo "SELECT integrations.export_csv(:'d', :'o'::jsonb)" \
             | "$FI_PGBIN/psql" -X -A -t -q -v ON_ERROR_STOP=1 -d "$DB" -v d="$1" -v o="${2:-{\}}" | head -c -1; }
mjson() { "${FI[@]}" export --site-config "$SC" --doctype "$1" --file-type json --options "$2" 2>&1; }
pjson() { echo "SELECT integrations.export_json(:'d', :'o'::jsonb)" \
             | "$FI_PGBIN/psql" -X -A -t -q -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -d "$DB" -v d="$1" -v o="$2" 2>&1; }
same() {	# same <description> <doctype> [options]: the same bytes from both builds (stderr shown when not)
    mexp "$2" "${3:-{\}}" > "$MD/same.m" 2> "$MD/same.m.err"
    pexp "$2" "${3:-{\}}" > "$MD/same.p" 2> "$MD/same.p.err"
    if [ -s "$MD/same.p" ] && cmp -s "$MD/same.m" "$MD/same.p"; then
        _t_result 0 "$1"
    else
        _t_result 1 "$1" "$(diff "$MD/same.m" "$MD/same.p" | head -20; echo "mariadb's stderr: $(head -c 600 "$MD/same.m.err")"; echo "postgresql's stderr: $(head -c 600 "$MD/same.p.err")")"
    fi
}
same "Items, every field: the same bytes as PostgreSQL's export_csv" Item
same "Sales Invoices with every child table" "Sales Invoice" '{"children": true}'
same "fields, child fields, order_by" "Sales Invoice" '{"fields": ["name", "customer", "posting_date", "posting_time", "items.name", "items.item_name", "items.qty", "items.rate"], "order_by": "posting_date asc"}'
same "fieldname headers, quotes, newlines, formulas made inert" Item '{"fields": ["name", "item_name", "description", "is_stock_item", "shelf_life_in_days"], "order_by": "name", "header": "fieldname", "escape_formulas": true}'
same "Report Builder's layout with a child table" "Sales Invoice" '{"format": "report", "fields": ["customer", "items.item_name", "items.qty"], "order_by": "posting_date asc"}'
same "Report Builder's layout, documents only" Item '{"format": "report", "fields": ["item_name", "standard_rate", "end_of_life"]}'
same "filters as an object" Item '{"filters": {"item_group": "Products", "standard_rate": [">", 1]}, "fields": ["name", "standard_rate"]}'
same "filters as a list: in, not in, like, between, is set" Item '{"filters": [["name", "in", ["I-1", "I-3"]], ["Item", "item_name", "like", "%l%"], ["brand", "is", "set"], ["shelf_life_in_days", "between", [0, 40]], ["item_group", "not in", ["Services"]]], "fields": ["name"]}'
same "!= keeps the empty values (IS DISTINCT FROM)" Item '{"filters": [["brand", "!=", "Acme"]], "fields": ["name", "brand"]}'
same "limit and order" Item '{"limit": 2, "order_by": "standard_rate desc", "fields": ["name", "standard_rate"]}'
same "limit with child rows" "Sales Invoice" '{"limit": 1, "children": ["items"], "fields": ["customer"], "order_by": "posting_date desc"}'
same "Customers" Customer

# a tree DocType with Durations, tiny floats, HTML, datetimes and times (test/t/105's), made alike on both
META="INSERT INTO \"tabDocType\"(name, module, autoname, istable, issingle, is_tree) VALUES ('Test Tree', 'Test Module', 'field:title', 0, 0, 1);
  INSERT INTO \"tabDocField\"(name, parent, parenttype, parentfield, idx, fieldname, label, fieldtype, options, hide_days) VALUES
    ('tt-1', 'Test Tree', 'DocType', 'fields', 1, 'title', 'Title', 'Data', NULL, 0),
    ('tt-2', 'Test Tree', 'DocType', 'fields', 2, 'parent_test_tree', 'Parent Test Tree', 'Link', 'Test Tree', 0),
    ('tt-3', 'Test Tree', 'DocType', 'fields', 3, 'lft', 'Left', 'Int', NULL, 0),
    ('tt-4', 'Test Tree', 'DocType', 'fields', 4, 'rgt', 'Right', 'Int', NULL, 0),
    ('tt-5', 'Test Tree', 'DocType', 'fields', 5, 'spent', 'Time Spent', 'Duration', NULL, 0),
    ('tt-6', 'Test Tree', 'DocType', 'fields', 6, 'spent_hours', 'Time Spent', 'Duration', NULL, 1),
    ('tt-7', 'Test Tree', 'DocType', 'fields', 7, 'weight', 'Weight', 'Float', NULL, 0),
    ('tt-8', 'Test Tree', 'DocType', 'fields', 8, 'notes', 'Notes', 'Text Editor', NULL, 0),
    ('tt-9', 'Test Tree', 'DocType', 'fields', 9, 'seen_at', 'Seen At', 'Datetime', NULL, 0),
    ('tt-10', 'Test Tree', 'DocType', 'fields', 10, 'starts', 'Starts', 'Time', NULL, 0),
    ('tt-11', 'Test Tree', 'DocType', 'fields', 11, 'due', 'Due', 'Date', NULL, 0);
  INSERT INTO \"tabCustom Field\"(name, dt, fieldname, label, fieldtype, insert_after, idx) VALUES
    ('Test Tree-extra', 'Test Tree', 'extra', 'Extra', 'Data', 'title', 1);
  INSERT INTO \"tabProperty Setter\"(name, doctype_or_field, doc_type, field_name, property, value, creation) VALUES
    ('ps-1', 'DocField', 'Test Tree', 'weight', 'label', 'Heft', '2024-01-01 00:00:00')"
ROWS="INSERT INTO \"tabTest Tree\"(name, creation, modified, owner, title, extra, parent_test_tree, lft, rgt, spent, spent_hours, weight, notes, seen_at, starts, due) VALUES
    ('Leaf B', '2024-01-01 10:00', '2024-01-01 10:00', 'Administrator', 'Leaf B', NULL, 'Root', 4, 5, 0, NULL, 0.00006, '<p>Hello <b>World</b></p><p>x &amp; y&nbsp;z</p>', '2024-02-29 23:59:59.5', '09:05:00', '2024-02-29'),
    ('Leaf A', '2024-01-02 10:00', '2024-01-02 10:00', 'Administrator', 'Leaf A', '=HYPERLINK(\"x\")', 'Root', 2, 3, 90061.9, 90061.9, 0.000012, 'a<br>b', '2024-01-01 00:00:00', '00:00:00.000001', NULL),
    ('Root', '2024-01-03 10:00', '2024-01-03 10:00', 'Administrator', 'Root', '', NULL, 1, 6, -59.99, 3600, 123456789012.5, 'plain <not a tag', NULL, '23:59:59.999999', '1999-12-31')"
q $DB "$META; CREATE TABLE \"tabTest Tree\" (name varchar(140) PRIMARY KEY, creation timestamp(6), modified timestamp(6),
         modified_by varchar(140), owner varchar(140), docstatus smallint NOT NULL DEFAULT 0, idx bigint NOT NULL DEFAULT 0,
         title varchar(140), extra varchar(140), parent_test_tree varchar(140), lft bigint NOT NULL DEFAULT 0, rgt bigint NOT NULL DEFAULT 0,
         spent decimal(21,9), spent_hours decimal(21,9), weight decimal(21,9) NOT NULL DEFAULT 0, notes text,
         seen_at timestamp(6), starts time(6), due date); $ROWS" >/dev/null
mariadb --no-defaults --socket="$MDB_SOCK" -u root _site1 -e "SET SESSION sql_mode = 'ANSI_QUOTES,NO_BACKSLASH_ESCAPES,STRICT_ALL_TABLES'; $META;
  CREATE TABLE \"tabTest Tree\" (name varchar(140) PRIMARY KEY, creation datetime(6), modified datetime(6),
         modified_by varchar(140), owner varchar(140), docstatus int(1) NOT NULL DEFAULT 0, idx int(8) NOT NULL DEFAULT 0,
         title varchar(140), extra varchar(140), parent_test_tree varchar(140), lft int(11) NOT NULL DEFAULT 0, rgt int(11) NOT NULL DEFAULT 0,
         spent decimal(21,9), spent_hours decimal(21,9), weight decimal(21,9) NOT NULL DEFAULT 0, notes longtext,
         seen_at datetime(6), starts time(6), due date) ENGINE=InnoDB ROW_FORMAT=DYNAMIC CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci; $ROWS"
same "a tree by lft; Durations (truncated, hide_days, negative); 6e-05; a Custom Field in its place; a Property Setter's label" "Test Tree"
same "datetimes with and without microseconds, times before 10:00, dates" "Test Tree" '{"fields": ["name", "seen_at", "starts", "due"], "order_by": "creation asc"}'
same "Report Builder: HTML as text, a 0 Duration a number" "Test Tree" '{"format": "report", "fields": ["title", "notes", "spent", "extra"], "order_by": "lft asc"}'
same "escape_formulas on a Custom Field" "Test Tree" '{"fields": ["extra"], "escape_formulas": true, "order_by": "name"}'
same "filters on dates, datetimes and numbers" "Test Tree" '{"filters": [["due", "<", "2024-01-01"], ["seen_at", "is", "not set"]], "fields": ["name"]}'
same "filters: >= on a datetime, like on a number" "Test Tree" '{"filters": [["seen_at", ">=", "2024-01-01 00:00:00"], ["lft", "like", "%4%"]], "fields": ["name"]}'
same "an empty result: the header only" Item '{"filters": {"name": "nothing"}}'

# many documents (more than one 1 MB write, more than one JSON batch), made alike on both
q $DB "INSERT INTO \"tabItem\" (name, creation, modified, owner, item_code, item_name, item_group, stock_uom, description, standard_rate, end_of_life)
       SELECT 'BULK-' || lpad(g::text, 5, '0'), '2023-01-01'::timestamp + g * interval '1 second', '2023-01-01'::timestamp + g * interval '1 second',
              'Administrator', 'BULK-' || lpad(g::text, 5, '0'), 'Bulk \"' || g || '\", item', 'Products', 'Nos',
              repeat('x, y', g % 50) || chr(10) || 'line ' || g, g * 0.37, date '2030-01-01' + g % 400 FROM generate_series(1, 6000) g" >/dev/null
mdb "INSERT INTO _site1.tabItem (name, creation, modified, owner, item_code, item_name, item_group, stock_uom, description, standard_rate, end_of_life)
     SELECT CONCAT('BULK-', LPAD(seq, 5, '0')), '2023-01-01' + INTERVAL seq SECOND, '2023-01-01' + INTERVAL seq SECOND,
            'Administrator', CONCAT('BULK-', LPAD(seq, 5, '0')), CONCAT('Bulk \"', seq, '\", item'), 'Products', 'Nos',
            CONCAT(REPEAT('x, y', seq % 50), CHAR(10), 'line ', seq), seq * 0.37, '2030-01-01' + INTERVAL (seq % 400) DAY FROM _site1.seq_1_to_6000"
same "6,003 Items, every field (several writes of 1 MB)" Item
same "6,003 Items in Report Builder's layout, numbered" Item '{"format": "report", "fields": ["item_name", "description", "standard_rate"]}'
t_is "$(mjson Item '{}' | md5sum)" "$(pjson Item '{}' | md5sum)" "6,003 Items as JSON (13 batches of 500): the same text"
q $DB "DELETE FROM \"tabItem\" WHERE name LIKE 'BULK-%'" >/dev/null
mdb "DELETE FROM _site1.tabItem WHERE name LIKE 'BULK-%'"

# the same refusals, in the same words and SQLSTATEs
merr() { "${FI[@]}" export --site-config "$SC" --doctype "$1" --options "$2" 2>&1 >/dev/null | sed -n 's/^ERROR \([0-9A-Z]*\): /\1: /p' | head -1; }
perr() { echo "SELECT integrations.export_csv(:'d', :'o'::jsonb)" \
             | "$FI_PGBIN/psql" -X -A -t -q -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -d "$DB" -v d="$1" -v o="$2" 2>&1 \
             | sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\): \(.*\)$/\1: \2/p' | head -1; }
while IFS='|' read -r dt o; do
    p=$(perr "$dt" "$o")
    m=$(merr "$dt" "$o")
    if [ -n "$p" ] && [ "$m" == "$p" ]; then _t_result 0 "refused as on PostgreSQL: $dt $o ($p)"
    else _t_result 1 "refused as on PostgreSQL: $dt $o" "mariadb:    $m
postgresql: $p"; fi
done <<'CASES'
Item|{"nope": 1}
Item|[1]
Item|{"limit": -1}
Item|{"limit": 1.5}
Item|{"limit": "3"}
Item|{"fields": "name"}
Item|{"fields": [1]}
Item|{"fields": ["no_such_field"]}
Item|{"fields": ["name`; DROP TABLE tabItem; --"]}
Item|{"format": "xml"}
Item|{"header": 1}
Item|{"escape_formulas": "yes"}
Item|{"filters": [["name"]]}
Item|{"filters": "name"}
Item|{"filters": {"name": ["=", "a", "b"]}}
Item|{"filters": [["name", "regexp", "x"]]}
Item|{"filters": [["Customer", "name", "=", "x"]]}
Item|{"filters": [["no_such", "=", "x"]]}
Item|{"filters": [["name", "between", ["a"]]]}
Item|{"order_by": "name; DROP TABLE tabItem"}
Item|{"order_by": "no_such desc"}
Item|{"order_by": 1}
Item|{"children": ["nope"]}
Item|{"children": "yes"}
Sales Invoice|{"format": "report", "children": true}
Sales Invoice Item|{}
No Such DocType|{}
Item`; DROP TABLE tabItem; --|{}
CASES

# SQL in values: literals escaped by the connection, nothing runs
t_is "$(mexp Item '{"filters": [["name", "=", "x'"'"' OR '"'"'1'"'"'='"'"'1"]], "fields": ["name"]}' | tr -d '\r')" '"ID"' "a quote in a filter value is a value"
t_is "$(mexp Item '{"filters": [["name", "in", ["\\'"'"' OR 1=1 -- ", "I-1"]]], "fields": ["name"]}' | tr -d '\r')" '"ID"
"I-1"' "a backslash and a quote in a filter value are a value"
t_is "$(mdb "SELECT COUNT(*) FROM _site1.tabItem")" "3" "tabItem is still there, with its rows"

# the site's own keys win over common_site_config.json's; from inside the site's folder the common file is one up
printf '{"db_name": "_site1", "db_password": "pw-site1", "db_socket": "%s"}\n' "$MD/nowhere.sock" > "$MD/sites/site1.local/other.json"
t_like "$("${FI[@]}" export --site-config "$MD/sites/site1.local/other.json" --doctype Item 2>&1)" "^ERROR HY000: could not connect to the site's database \"_site1\": Can't connect to local server through socket '$MD/nowhere.sock'" \
       "the site's db_socket wins over common_site_config.json's"
t_is "$(cd "$MD/sites/site1.local" && "${FI[@]}" export --site-config site_config.json --doctype Customer --options '{"fields": ["name"], "order_by": "name"}' | tr -d '\r')" '"ID"
"CUST-A"
"CUST-B"' "run from the site's folder: ../common_site_config.json"

# on a terminal (script(1) gives it one), the progress on stderr; none when stderr is not a terminal
t_like "$(script -qec "$FI_ROOT/bin/frappe-integrations export --site-config $SC --doctype 'Sales Invoice' --options '{\"children\": true}' --output $MD/tty.csv" /dev/null | tr '\r' '|')" \
       '\|2 documents, 3 lines, [0-9]+ documents/s, [0-9.]+ s' "on a terminal: documents, lines, rate and time on stderr"
t_is "$("${FI[@]}" export --site-config "$SC" --doctype "Sales Invoice" --output "$MD/notty.csv" 2>&1 >/dev/null)" "" "not a terminal: no progress"
t_is "$(cd "$MD" && "${FI[@]}" export --site site1.local --doctype Customer --options '{"fields": ["name"], "order_by": "name"}' | tr -d '\r')" '"ID"
"CUST-A"
"CUST-B"' "from the bench directory: --site names the site, as bench does (sites/site1.local/site_config.json)"

# the caller's privileges: a user that may read the meta but not tabItem
mdb "CREATE USER reader@localhost IDENTIFIED BY 'pw-reader';
     GRANT SELECT ON _site1.\`tabDocType\` TO reader@localhost; GRANT SELECT ON _site1.\`tabDocField\` TO reader@localhost;
     GRANT SELECT ON _site1.\`tabCustom Field\` TO reader@localhost; GRANT SELECT ON _site1.\`tabProperty Setter\` TO reader@localhost;
     GRANT SELECT ON _site1.\`tabCustomer\` TO reader@localhost"
printf 'pw-reader\n' > "$MD/reader.pw"
rexp() { "${FI[@]}" export --socket "$MDB_SOCK" --site _site1 --user reader --password-file "$MD/reader.pw" --doctype "$1" 2>&1; }
t_like "$(rexp Item)" "^ERROR 42000: reading the documents: SELECT command denied to user 'reader'@'localhost' for table .*tabItem" \
       "the caller's SELECT privileges apply (42000, the server's words)"
t_is "$(rexp Customer | od -An -c)" "$(pexp Customer | od -An -c)" "a table the user may read exports (as another user, with --password-file)"
t_is "$(MYSQL_PWD=pw-reader "${FI[@]}" export --socket "$MDB_SOCK" --site _site1 --user reader --doctype Customer --options '{"fields": ["name"], "order_by": "name"}' 2>&1 | tr -d '\r')" \
     '"ID"
"CUST-A"
"CUST-B"' "the password from MYSQL_PWD"
t_like "$( ("${FI[@]}" export --site _site1 --socket "$MDB_SOCK" --user reader --password pw-reader --doctype Item 2>&1; echo " rc=$?") | tr '\n' ' ')" \
       "not taken on the command line.* rc=2" "a password on the command line is refused"
t_like "$("${FI[@]}" export --socket "$MDB_SOCK" --site _site1 --user reader --doctype Item 2>&1)" \
       "^ERROR 28000: could not connect to the site's database \"_site1\": Access denied for user 'reader'@'localhost' \(using password: NO\)" \
       "no password: the server's refusal"

# --output: a file that appears when complete, the result as JSON on stdout
t_is "$("${FI[@]}" export --site-config "$SC" --doctype "Sales Invoice" --options '{"children": ["items"], "fields": ["customer"]}' --output "$MD/si.csv")" \
     '{"doctype": "Sales Invoice", "documents": 2, "lines": 3}' "--output: documents and lines written, as JSON"
t_is "$(od -An -c < "$MD/si.csv")" "$(pexp "Sales Invoice" '{"children": ["items"], "fields": ["customer"]}' | od -An -c)" "the file holds the export"
t_like "$("${FI[@]}" export --site-config "$SC" --doctype Item --output "$MD/no/such/dir/x.csv" 2>&1)" \
       "^ERROR 58030: could not create \"$MD/no/such/dir/x.csv.part\"" "a file that cannot be made: 58030"
t_like "$( ("${FI[@]}" export --site-config "$SC" --doctype Item --options '{"fields": ["nope"]}' --output "$MD/bad.csv" 2>&1; ls "$MD" | grep -c 'bad.csv') | tr '\n' ' ')" \
       "^ERROR 42703.* 0 $" "a refused export leaves no file"

# Excel: the workbook of the PostgreSQL build's export_xlsx, cell for cell (value, type, number format) as openpyxl reads both
pxlsx() { echo "SELECT encode(integrations.export_xlsx(:'d', :'o'::jsonb), 'hex')" \
             | "$FI_PGBIN/psql" -X -A -t -q -v ON_ERROR_STOP=1 -d "$DB" -v d="$1" -v o="$2" \
             | "$FI_PY" -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read().strip()))' > "$3"; }
cells() { "$FI_PY" -c '
import sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
ws = wb.active
print(ws.title)
for row in ws.iter_rows():
    print([(c.value, c.data_type, c.number_format) for c in row])' "$1" 2>&1; }
xsame() {	# xsame <description> <doctype> <options>
    rm -f "$MD/m.xlsx"
    "${FI[@]}" export --site-config "$SC" --doctype "$2" --options "$3" --output "$MD/m.xlsx" >/dev/null
    pxlsx "$2" "$3" "$MD/p.xlsx"
    local m p
    m=$(cells "$MD/m.xlsx") p=$(cells "$MD/p.xlsx")
    if [ -n "$p" ] && [ "$m" == "$p" ] && [ "$(echo "$p" | wc -l)" -gt 1 ]; then _t_result 0 "$1"
    else _t_result 1 "$1" "$(diff <(echo "$m") <(echo "$p") | head -20)"; fi
}
xsame "Excel: Items, every field, the same cells as PostgreSQL's export_xlsx" Item '{}'
xsame "Excel: Sales Invoices with every child table" "Sales Invoice" '{"children": true}'
xsame "Excel: Durations, datetimes, times, dates, HTML in Report Builder's layout" "Test Tree" '{"format": "report", "fields": ["title", "notes", "spent", "spent_hours", "seen_at", "starts", "due", "weight"], "order_by": "lft asc"}'
xsame "Excel: formulas made inert, a Custom Field" "Test Tree" '{"fields": ["name", "extra", "seen_at"], "escape_formulas": true, "compression_level": 9}'
t_like "$("${FI[@]}" export --site-config "$SC" --doctype Item --file-type xlsx 2>&1)" \
       "^ERROR 22023: an Excel workbook is written to a file" "Excel needs --output"
t_is "$(merr Item '{"zip64": true}')" '22023: unknown option "zip64"' "zip64 is an Excel option only"
t_is "$("${FI[@]}" export --site-config "$SC" --doctype Item --options '{"compression_level": 10}' --output "$MD/x.xlsx" 2>&1)" \
     'ERROR 22023: option "compression_level" must be between 1 and 9' "compression_level checked as on PostgreSQL"
t_is "$(ls "$MD" | grep -c 'x.xlsx')" "0" "a refused workbook leaves no file"
"${FI[@]}" export --site-config "$SC" --doctype Item --file-type csv --output "$MD/items.xlsx" >/dev/null
t_is "$(head -c 4 "$MD/items.xlsx")" '"ID"' "--file-type csv wins over the file's name"

# JSON: bench export-json's and export-doc's shapes, the text of PostgreSQL's export_json / export_doc
mdoc() { "${FI[@]}" export-doc --site-config "$SC" --doctype "$1" --name "$2" 2>&1; }
pdoc() { echo "SELECT integrations.export_doc(:'d', :'n')" \
             | "$FI_PGBIN/psql" -X -A -t -q -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -d "$DB" -v d="$1" -v n="$2" 2>&1; }
jsame() {	# jsame <description> <mariadb output> <postgresql output>
    if [ -n "$3" ] && [ "$2" == "$3" ] && [ "${3:0:1}" != "E" ]; then _t_result 0 "$1"
    else _t_result 1 "$1" "mariadb:    ${2:0:600}
postgresql: ${3:0:600}"; fi
}
jsame "export_json: Sales Invoices with their items, the same text as PostgreSQL's" "$(mjson "Sales Invoice" '{}')" "$(pjson "Sales Invoice" '{}')"
jsame "export_json: Items" "$(mjson Item '{}')" "$(pjson Item '{}')"
jsame "export_json: Durations, datetimes, times, a Custom Field" "$(mjson "Test Tree" '{}')" "$(pjson "Test Tree" '{}')"
jsame "export_json: filters, order_by, limit" "$(mjson Item '{"filters": [["standard_rate", ">", 0]], "order_by": "standard_rate desc", "limit": 1}')" \
      "$(pjson Item '{"filters": [["standard_rate", ">", 0]], "order_by": "standard_rate desc", "limit": 1}')"
jsame "export_json: name" "$(mjson Customer '{"name": "CUST-B"}')" "$(pjson Customer '{"name": "CUST-B"}')"
jsame "export_json: nothing matches: []" "$(mjson Customer '{"name": "nobody"}')" "$(pjson Customer '{"name": "nobody"}')"
SI1=$(mdb "SELECT name FROM _site1.\`tabSales Invoice\` ORDER BY name LIMIT 1")
jsame "export_doc: a Sales Invoice, no nulls, child rows without their standard keys" "$(mdoc "Sales Invoice" "$SI1")" "$(pdoc "Sales Invoice" "$SI1")"
jsame "export_doc: an Item" "$(mdoc Item I-2)" "$(pdoc Item I-2)"
jsame "export_doc: a Test Tree" "$(mdoc "Test Tree" "Leaf A")" "$(pdoc "Test Tree" "Leaf A")"
t_is "$(mdoc Item nope | sed 's/^ERROR //')" "P0002: Item nope not found" "export_doc: a missing document, PostgreSQL's words"
t_is "$(mjson Item '{"fields": ["name"]}' | head -1)" 'ERROR 22023: unknown option "fields"' "export_json's options: name, filters, order_by, limit"
t_is "$(mjson Item '{"name": 1}' | head -1)" 'ERROR 22023: option "name" must be a document name' "export_json: a name that is not a string"
t_is "$("${FI[@]}" export --site-config "$SC" --doctype Customer --output "$MD/c.json")" '{"doctype": "Customer", "documents": 2}' \
     "--output FILE.json: export_json into a file"
t_is "$(cat "$MD/c.json")" "$(pjson Customer '{}')" "the file holds export_json's text"

# one consistent read: while transactions move 1 from an invoice's first item's qty to its grand_total (their sum
# constant), every export of the invoice with its items shows the same sum (the document and its child rows from
# one snapshot: the UNION ALL is one statement)
SUM0=$(mdb "SELECT p.grand_total + SUM(c.qty) FROM _site1.\`tabSales Invoice\` p JOIN _site1.\`tabSales Invoice Item\` c ON c.parent = p.name WHERE p.name = '$SI1' GROUP BY p.name")
for i in $(seq 3000); do
    echo "START TRANSACTION; UPDATE \`tabSales Invoice\` SET grand_total = grand_total + 1 WHERE name = '$SI1';
          UPDATE \`tabSales Invoice Item\` SET qty = qty - 1 WHERE parent = '$SI1' AND idx = 1; COMMIT;"
done | mariadb --no-defaults --socket="$MDB_SOCK" -u root _site1 &
WRITER=$!
sums="" totals="" n=0
# exports for as long as the writer runs (at least 5, at most 400)
while [ $n -lt 5 ] || { kill -0 $WRITER 2>/dev/null && [ $n -lt 400 ]; }; do
    got=$(mexp "Sales Invoice" "{\"fields\": [\"grand_total\", \"items.qty\"], \"filters\": {\"name\": \"$SI1\"}}" \
          | "$FI_PY" -c 'import csv, sys; r = list(csv.reader(sys.stdin))[1:]; print(float(r[0][0]) + sum(float(x[1]) for x in r), r[0][0])')
    sums+="${got% *} " totals+="${got#* } "
    n=$((n + 1))
done
wait $WRITER
t_is "$(echo $sums | tr ' ' '\n' | sort -u | tr '\n' ' ')" "$("$FI_PY" -c "print(float($SUM0))") " \
     "$n exports during 3,000 committed changes: the document and its items always from one moment"
t_like "$(echo $totals | tr ' ' '\n' | sort -u | wc -l)" "^([2-9]|[1-9][0-9]+)$" \
       "the exports saw the changes going on (distinct grand totals: $(echo $totals | tr ' ' '\n' | sort -u | wc -l))"
t_done
