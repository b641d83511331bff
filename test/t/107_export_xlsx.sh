#!/usr/bin/env bash
# Data Export to Excel (integrations.export_xlsx, export_xlsx_file): the
# layouts of export_csv with typed cells, read back by openpyxl as Frappe
# reads them; the workbook holds the CSV export's values; round trips
# through import_xlsx (Update changes no row; an empty copy of the site
# gets the same rows); Report Builder's layout; server files and their
# privilege; a cancelled export leaves no file behind.
source "$FI_ROOT/test/lib.sh"
DB=fi_export_x
DB2=fi_export_x_copy
W=$FI_TMP/export_xlsx
mkdir -p "$W"
chmod 777 "$W"
source "$FI_ROOT/test/export_site.sh"
RD="$FI_ROOT/test/xlsx/read_export.py"
x() { q $DB "SELECT integrations.export_xlsx($1)" | "$FI_PY" "$RD" - "${2:-rows}"; }

# the layout and the cells' types: numbers, dates, times, strings; empty cells under a parent
OUT=$(x "'Sales Invoice', '{\"fields\": [\"name\", \"customer\", \"posting_date\", \"posting_time\", \"items.name\", \"items.item_name\", \"items.qty\", \"items.rate\"], \"order_by\": \"posting_date asc\"}'" |
      sed -E "s/'[0-9a-v]{10}'/'<hash>'/g; s/ACC-SINV-[0-9]{4}-/ACC-SINV-Y-/g")
t_is "$OUT" "['ID', 'Customer', 'Posting Date', 'Posting Time', 'ID (Items)', 'Item Name (Items)', 'Quantity (Items)', 'Rate (Items)']
['ACC-SINV-Y-00001', 'CUST-A', datetime.datetime(2024, 5, 6, 0, 0), datetime.time(10, 30, 15, 250000), '<hash>', 'Apple', 2, 10.5]
[None, None, None, None, '<hash>', 'Pear', 1, 3]
['ACC-SINV-Y-00002', 'CUST-B', datetime.datetime(2024, 5, 7, 0, 0), datetime.time(9, 0), '<hash>', 'Plum', 5, 1]" \
     "Data Import layout as openpyxl reads it: child rows under their parent, numbers, dates and times typed"
t_is "$(x "'Sales Invoice', '{\"fields\": [\"name\", \"posting_date\", \"posting_time\", \"items.qty\"], \"order_by\": \"posting_date asc\"}'" formats | sed -n 2p)" \
     "str:General datetime:yyyy-mm-dd time:h:mm:ss int:General" "the number formats openpyxl gives dates and times"
t_is "$(x "'Sales Invoice'" meta)" "['Sales Invoice'] Sales Invoice True 3 $(q $DB "SELECT count(*) FROM regexp_split_to_table(split_part(integrations.export_csv('Sales Invoice'), E'\r\n', 1), ',')")" \
     "one sheet named after the DocType, its first row bold, as Frappe's make_xlsx"
t_is "$(x "'Item', '{\"fields\": [\"name\", \"item_name\", \"is_stock_item\", \"shelf_life_in_days\", \"valuation_rate\", \"end_of_life\"], \"order_by\": \"name\"}'" | sed -n 2,4p)" \
     "['I-1', 'Apple, \"red\"', 1, 30, 0.1, datetime.datetime(2030, 12, 31, 0, 0)]
['I-2', 'Pear ü 日本', 0, 0, 1234.567890123, datetime.datetime(2099, 12, 31, 0, 0)]
['I-3', 'Plum', 1, 0, 0, datetime.datetime(2099, 12, 31, 0, 0)]" "Check as 0/1, Int as int, Currency as the float Frappe reads, a date as a datetime"

# the workbook holds what export_csv writes, typed (an oracle over every field of every table)
same_as_csv() {	# same_as_csv <doctype> <options>
    q $DB "SELECT integrations.export_csv('$1', '$2')" > "$W/cmp.csv"
    q $DB "SELECT integrations.export_xlsx('$1', '$2')" | "$FI_PY" "$FI_ROOT/test/xlsx/compare_csv.py" "$W/cmp.csv"
}
for dt in Item Customer "Sales Invoice"; do
    t_like "$(same_as_csv "$dt" '{"children": true}')" "^[0-9]+ rows [0-9]+ cells, 0 differ$" \
           "$dt, every field and child table: each cell is export_csv's value, typed"
done
t_like "$(same_as_csv "Sales Invoice" '{"format": "report", "fields": ["name", "customer", "grand_total", "items.item_name", "items.qty"]}')" \
       "^4 rows 32 cells, 0 differ$" "Report Builder's layout too (Sr, a row per child row, owner last)"
t_is "$(x "'Sales Invoice', '{\"format\": \"report\", \"fields\": [\"customer\", \"items.qty\"], \"order_by\": \"posting_date asc\"}'" | sed -n '1,2p' | sed -E "s/'[0-9a-v]{10}'/'<hash>'/g; s/ACC-SINV-[0-9]{4}-/ACC-SINV-Y-/g")" \
     "['Sr', 'ID', 'Customer', 'name (Sales Invoice Item)', 'Quantity (Sales Invoice Item)', 'owner']
[1, 'ACC-SINV-Y-00001', 'CUST-A', '<hash>', 2, 'Administrator']" "Report Builder's header; Sr a number"

# round trip 1: export -> import_xlsx Update changes no row
sum() { q "$1" "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM \"tab$2\" t"; }
impx() { q "$1" "SELECT r->>'status' || ' ' || (r->>'inserted')::int + (r->>'updated')::int || ' ' || coalesce(r->>'unchanged', '-') || ' ' || (r->>'failed')
                 FROM integrations.import_xlsx('$2', $3, '${4:-Insert New Records}') r"; }
for dt in Item Customer "Sales Invoice"; do
    before=$(sum $DB "$dt"); cb=$(sum $DB "Sales Invoice Item")
    R=$(impx $DB "$dt" "integrations.export_xlsx('$dt', '{\"children\": true}')" 'Update Existing Records')
    t_like "$R" "^Success 0 [0-9]+ 0$" "$dt: export_xlsx -> import_xlsx Update: every document unchanged ($R)"
    t_is "$(sum $DB "$dt") $(sum $DB "Sales Invoice Item")" "$before $cb" "$dt: the table is byte for byte the same"
done

# round trip 2: export_xlsx_file -> import into an empty copy of the site gives the same rows
rows() { q "$1" "SELECT string_agg((to_jsonb(t) - 'creation' - 'modified' - 'owner' - 'modified_by')::text, E'\n' ORDER BY name) FROM \"tab$2\" t"; }
for dt in Item Customer "Sales Invoice"; do
    f="$W/$(echo "$dt" | tr ' ' _).xlsx"
    n=$(q $DB "SELECT integrations.export_xlsx_file('$dt', '$f', '{\"children\": true}')")
    t_is "$n" "$(( $(q $DB "SELECT count(*) FROM regexp_split_to_table(integrations.export_csv('$dt', '{\"children\": true}'), E'\r\n') l WHERE l <> ''") - 1 ))" \
         "$dt: export_xlsx_file returns the lines written after the header, as export_csv_file"
    R=$(impx $DB2 "$dt" "pg_read_binary_file('$f')")
    t_like "$R" "^Success [0-9]+ - 0$" "$dt: export_xlsx_file -> import_xlsx into an empty site ($R)"
    t_is "$(rows $DB2 "$dt")" "$(rows $DB "$dt")" "$dt: the same rows (all but creation/modified/owner/modified_by)"
done
t_is "$(rows $DB2 "Sales Invoice Item")" "$(rows $DB "Sales Invoice Item")" "Sales Invoice Item: the same child rows, names and idx included"

# strings: HTML kept in the import layout (it must import back), as text in the report's; long ones cut, with a warning
q $DB "UPDATE \"tabItem\" SET description = '<p>Hello <b>world</b> &amp; co</p>' WHERE name = 'I-3';
       UPDATE \"tabItem\" SET description = repeat('é', 40000) WHERE name = 'I-2'" >/dev/null
t_is "$(x "'Item', '{\"fields\": [\"name\", \"description\"], \"order_by\": \"name\"}'" | sed -n 4p)|$(x "'Item', '{\"format\": \"report\", \"fields\": [\"description\"], \"order_by\": \"name\"}'" | sed -n 4p)" \
     "['I-3', '<p>Hello <b>world</b> &amp; co</p>']|[3, 'I-3', 'Hello world & co', 'Administrator']" \
     "HTML: as it is in the import layout, as Frappe's handle_html text in Report Builder's"
t_is "$(q $DB "SELECT length(integrations.export_xlsx('Item', '{\"fields\": [\"description\"], \"order_by\": \"name\"}')) > 0" 2>&1 | tr -s ' ')" \
     "WARNING: 1 cell was cut at 32,767 characters, the most an Excel cell holds
DETAIL: The first is in row 3 of the sheet, column \"Description\".
HINT: export_csv keeps every character.
t" "a string longer than a cell holds is cut (as openpyxl cuts it), with a warning"
t_is "$(x "'Item', '{\"fields\": [\"description\"], \"order_by\": \"name\"}'" 2>/dev/null | sed -n 3p | "$FI_PY" -c 'import ast,sys; print(len(ast.literal_eval(sys.stdin.read())[0]))')" \
     "32767" "to 32,767 characters"

# options and errors
t_is "$(q_err $DB "SELECT integrations.export_csv('Item', '{\"zip64\": true}')")" '22023: unknown option "zip64"' "zip64 is the Excel export's option"
t_like "$(q_err $DB "SELECT integrations.export_xlsx('Item', '{\"zip64\": 1}')")" '^22023: option "zip64" must be true or false' "and takes a boolean"
t_is "$(x "'Item', '{\"zip64\": true, \"fields\": [\"name\"], \"order_by\": \"name\"}'" | tr '\n' ' ')" "['ID'] ['I-1'] ['I-2'] ['I-3'] " "a ZIP64 workbook reads the same"
t_is "$(q_err $DB "SELECT integrations.export_csv('Item', '{\"compression_level\": 1}')")" '22023: unknown option "compression_level"' \
     "and so is compression_level"
t_is "$(for v in 0 10 1.5 '"9"'; do q_err $DB "SELECT integrations.export_xlsx('Item', '{\"compression_level\": $v}')"; done | sort | uniq -c | sed 's/^ *//')" \
     '1 22023: option "compression_level" must be a number
1 22023: option "compression_level" must be a whole number from 1 (fastest, the default) to 9 (smallest)
2 22023: option "compression_level" must be between 1 and 9' \
     "compression_level: a whole number from 1 to 9"
t_is "$(q $DB "SELECT encode(integrations.export_xlsx('Item', '{\"compression_level\": 9, \"fields\": [\"name\"], \"order_by\": \"name\"}'), 'base64')" |
        "$FI_PY" -c 'import base64, io, sys, zipfile, openpyxl
b = base64.b64decode(sys.stdin.read())
print(sorted(set(i.flag_bits & 6 for i in zipfile.ZipFile(io.BytesIO(b)).infolist())),
      [r for r in openpyxl.load_workbook(io.BytesIO(b), read_only=True).active.iter_rows(values_only=True)])')|$(
      q $DB "SELECT encode(integrations.export_xlsx('Item', '{\"fields\": [\"name\"]}'), 'base64')" |
        "$FI_PY" -c 'import base64, io, sys, zipfile
print(sorted(set(i.flag_bits & 6 for i in zipfile.ZipFile(io.BytesIO(base64.b64decode(sys.stdin.read()))).infolist())))')" \
     "[2] [('ID',), ('I-1',), ('I-2',), ('I-3',)]|[6]" "compression_level 9 deflates at zlib's best (the same rows); the default is its fastest"
t_is "$(q_err $DB "SELECT integrations.export_xlsx('Item', '{\"fields\": [\"nope\"]}')")" '42703: Item has no field "nope"' "the plan's errors as export_csv's"
t_is "$(q_err $DB "SELECT integrations.export_xlsx('Sales Invoice Item')")" \
     "22023: Sales Invoice Item is a child table and is not exported alone" "a child table alone is refused"
q $DB "CREATE ROLE fi_xexp_writer LOGIN IN ROLE pg_write_server_files; CREATE ROLE fi_xexp_nobody LOGIN;
       GRANT USAGE ON SCHEMA integrations TO fi_xexp_writer, fi_xexp_nobody;
       GRANT SELECT ON ALL TABLES IN SCHEMA public TO fi_xexp_writer, fi_xexp_nobody;
       GRANT EXECUTE ON FUNCTION integrations.export_xlsx_file(text, text, jsonb) TO fi_xexp_writer, fi_xexp_nobody" >/dev/null
t_is "$(PGUSER=fi_xexp_writer q $DB "SELECT integrations.export_xlsx_file('Item', '$W/w.xlsx')")" "3" "a member of pg_write_server_files writes a server file"
t_is "$(PGUSER=fi_xexp_nobody q_err $DB "SELECT integrations.export_xlsx_file('Item', '$W/x.xlsx')") $(ls "$W" | grep -c '^x.xlsx')" \
     "42501: permission denied to write a server file 0" "anyone else is refused, even when granted EXECUTE"
t_is "$(PGUSER=fi_xexp_nobody q $DB "SELECT integrations.export_xlsx('Item', '{\"fields\": [\"name\"], \"order_by\": \"name\"}')" | "$FI_PY" "$RD" - | tr '\n' ' ')" \
     "['ID'] ['I-1'] ['I-2'] ['I-3'] " "export_xlsx needs only SELECT on the tables"
t_is "$(q_err $DB "SELECT integrations.export_xlsx_file('Item', 'relative.xlsx')")" \
     '42602: relative path not allowed for export_xlsx_file: "relative.xlsx"' "a relative path is refused"
t_like "$(q_err $DB "SELECT integrations.export_xlsx_file('Item', '/proc/no/such.xlsx')")" \
     '^58030: could not write the Excel workbook "/proc/no/such.xlsx"' "a path the server cannot write: a clear error"

# a cancelled export: no file at the path, nothing left in the server's temporary directory
newdb fi_export_big
q fi_export_big "INSERT INTO \"tabItem\"(name, item_code, item_name, description, creation, modified)
                 SELECT 'B-' || i, 'B-' || i, 'Item ' || i, repeat('d', 200), now(), now() FROM generate_series(1, 200000) i" >/dev/null
T0=$(date +%s%N)
OUT=$(q_err fi_export_big "SET statement_timeout = '300ms'; SELECT integrations.export_xlsx_file('Item', '$W/big.xlsx', '{\"fields\": [\"name\", \"item_name\", \"description\"]}')")
T1=$(date +%s%N)
t_is "$OUT" "57014: canceling statement due to statement timeout" "a statement timeout stops an export"
t_is "$(ls "$W" | grep -c '^big.xlsx') $(q fi_export_big "SELECT count(*) FROM pg_ls_tmpdir() WHERE name LIKE '%fi_xlsx%'")" "0 0" \
     "and leaves no workbook at the path nor a temporary file ($(( (T1 - T0) / 1000000 )) ms)"
q_err fi_export_big "SET statement_timeout = '300ms'; SELECT length(integrations.export_xlsx('Item', '{\"fields\": [\"name\", \"item_name\", \"description\"]}'))" >/dev/null
t_is "$(q fi_export_big "SELECT count(*) FROM pg_ls_tmpdir() WHERE name LIKE '%fi_xlsx%'")" "0" "export_xlsx too"
t_is "$(q fi_export_big "SELECT integrations.export_xlsx_file('Item', '$W/big.xlsx', '{\"fields\": [\"name\", \"item_name\", \"description\"]}')")" "200000" \
     "without the timeout the 200,000 Items are written"
t_is "$("$FI_PY" "$RD" "$W/big.xlsx" meta)" "['Item'] Item True 200001 3" "and read back by openpyxl"
t_done
