#!/usr/bin/env bash
# Data Export: the Data Import layout, round trips through import_csv (Update
# changes no row; an empty copy of the site gets the same rows), filters and
# options, bad input and SQL injection, server files.
source "$FI_ROOT/test/lib.sh"
DB=fi_export
DB2=fi_export_copy
W=$FI_TMP/export_files
mkdir -p "$W"
chmod 777 "$W"
source "$FI_ROOT/test/export_site.sh"
t_is "$(q $DB "SELECT (SELECT count(*) FROM \"tabItem\") || ' ' || (SELECT count(*) FROM \"tabCustomer\") || ' ' || (SELECT count(*) FROM \"tabSales Invoice\") || ' ' || (SELECT count(*) FROM \"tabSales Invoice Item\")")" \
     "3 2 2 3" "the site's documents are there"

# the layout: ID first, labels, child columns "Label (Table Label)", the first child row on the parent's line
OUT=$(q $DB "SELECT integrations.export_csv('Sales Invoice', '{\"fields\": [\"name\", \"customer\", \"posting_date\", \"posting_time\", \"items.name\", \"items.item_name\", \"items.qty\", \"items.rate\"], \"order_by\": \"posting_date asc\"}')" | tr -d '\r' | sed -E 's/"[0-9a-v]{10}"/"<hash>"/g; s/ACC-SINV-[0-9]{4}-/ACC-SINV-Y-/g')
t_is "$OUT" "\"ID\",\"Customer\",\"Posting Date\",\"Posting Time\",\"ID (Items)\",\"Item Name (Items)\",\"Quantity (Items)\",\"Rate (Items)\"
\"ACC-SINV-Y-00001\",\"CUST-A\",\"2024-05-06\",\"10:30:15.250000\",\"<hash>\",\"Apple\",2.0,10.5
\"\",\"\",\"\",\"\",\"<hash>\",\"Pear\",1.0,3.0
\"ACC-SINV-Y-00002\",\"CUST-B\",\"2024-05-07\",\"09:00:00\",\"<hash>\",\"Plum\",5.0,1.0" \
     "Data Import layout, QUOTE_NONNUMERIC, child rows under their parent"
t_is "$(q $DB "SELECT integrations.export_csv('Item', '{\"fields\": [\"name\", \"item_name\", \"description\", \"is_stock_item\", \"shelf_life_in_days\"], \"order_by\": \"name\", \"header\": \"fieldname\", \"escape_formulas\": true}')" | tr -d '\r')" \
     "\"name\",\"item_name\",\"description\",\"is_stock_item\",\"shelf_life_in_days\"
\"I-1\",\"Apple, \"\"red\"\"\",\"two
lines\",1,30
\"I-2\",\"Pear ü 日本\",\"'=1+2\",0,0
\"I-3\",\"Plum\",\"\",1,0" "fieldname headers, quotes and newlines, formulas made inert"

# format report: Report Builder's layout (Sr, labels, child labels with the child DocType, Owner last)
OUT=$(q $DB "SELECT integrations.export_csv('Sales Invoice', '{\"format\": \"report\", \"fields\": [\"customer\", \"items.item_name\", \"items.qty\"], \"order_by\": \"posting_date asc\"}')" | tr -d '\r' | sed -E 's/ACC-SINV-[0-9]{4}-/ACC-SINV-Y-/g; s/"[0-9a-v]{10}"/"<hash>"/g')
t_is "$OUT" "\"Sr\",\"ID\",\"Customer\",\"name (Sales Invoice Item)\",\"Item Name (Sales Invoice Item)\",\"Quantity (Sales Invoice Item)\",\"owner\"
1,\"ACC-SINV-Y-00001\",\"CUST-A\",\"<hash>\",\"Apple\",2.0,\"Administrator\"
2,\"ACC-SINV-Y-00001\",\"CUST-A\",\"<hash>\",\"Pear\",1.0,\"Administrator\"
3,\"ACC-SINV-Y-00002\",\"CUST-B\",\"<hash>\",\"Plum\",5.0,\"Administrator\"" \
     "format report: a row per child row, serial numbers, the child DocType in the label, owner last (get_field_info: the fieldname where no label)"
t_is "$(q_err $DB "SELECT integrations.export_csv('Sales Invoice', '{\"format\": \"report\", \"children\": true}')")" \
     "22023: the report format takes the fields of one child table at most" "format report: one child table at most"

# filters (dict and list forms), limit
ids() { q $DB "SELECT string_agg(split_part(l, ',', 1), ' ') FROM regexp_split_to_table(integrations.export_csv('Item', '{\"fields\": [\"name\", \"item_name\"], \"order_by\": \"name\", $1}'), E'\r\n') l WHERE l LIKE '\"I-%'"; }
t_is "$(ids '"filters": {"item_group": "Products"}')" '"I-1" "I-3"' "filter: dict form"
t_is "$(ids '"filters": {"standard_rate": [">", 1]}')" '"I-1" "I-2"' "filter: [operator, value]"
t_is "$(ids '"filters": [["Item", "brand", "is", "not set"]]')" '"I-2"' "filter: list form with the DocType, is not set"
t_is "$(ids '"filters": [["item_name", "like", "P%"], ["name", "not in", ["I-3"]]]')" '"I-2"' "filter: like, not in"
t_is "$(ids '"filters": [["valuation_rate", "between", [0, 1]]]')" '"I-1" "I-3"' "filter: between (an empty Currency is stored as 0)"
t_is "$(ids '"filters": {"brand": ["!=", "Acme"]}')" '"I-2"' "filter: != keeps empty values (Frappe's ifnull)"
t_is "$(ids '"filters": {"name": ["in", "I-3, I-1"]}, "limit": 1')" '"I-1"' "filter: in with Frappe's comma string; limit"

# round trip 1: export -> Update changes no row
sum() { q "$1" "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM \"tab$2\" t"; }
for dt in Item Customer "Sales Invoice"; do
    before=$(sum $DB "$dt"); cb=$(sum $DB "Sales Invoice Item")
    CSV=$(q $DB "SELECT integrations.export_csv('$dt', '{\"children\": true}')")
    R=$(imp $DB "$dt" "$CSV" 'Update Existing Records')
    t_like "$R" "^Success 0 [0-9]+ 0$" "$dt: export -> Update: every document unchanged ($R)"
    t_is "$(sum $DB "$dt") $(sum $DB "Sales Invoice Item")" "$before $cb" "$dt: the table is byte for byte the same"
done

# round trip 2: export -> import into an empty copy of the site gives the same rows
rows() { q "$1" "SELECT string_agg((to_jsonb(t) - 'creation' - 'modified' - 'owner' - 'modified_by')::text, E'\n' ORDER BY name) FROM \"tab$2\" t"; }
for dt in Item Customer "Sales Invoice"; do
    CSV=$(q $DB "SELECT integrations.export_csv('$dt', '{\"children\": true}')")
    R=$(imp $DB2 "$dt" "$CSV")
    t_like "$R" "^Success [0-9]+ - 0$" "$dt: export -> import into an empty site ($R)"
    t_is "$(rows $DB2 "$dt")" "$(rows $DB "$dt")" "$dt: the same rows (all but creation/modified/owner/modified_by)"
done
t_is "$(rows $DB2 "Sales Invoice Item")" "$(rows $DB "Sales Invoice Item")" "Sales Invoice Item: the same child rows, names and idx included"

# bad input: clear errors, never SQL injection
e() { q_err $DB "SELECT integrations.export_csv('Item', '$1')"; }
t_is "$(e '{"fields": ["nope"]}')" '42703: Item has no field "nope"' "unknown field"
t_is "$(e '{"fields": ["qty"]}')" '42703: Item has no field "qty"' "a field of another DocType"
t_is "$(e '{"fields": ["items.qty"]}')" '42703: Item has no table field "items"' "a table field that is not there"
t_is "$(e '{"filters": {"item_name": ["~", "x"]}}')" '22023: unknown filter operator "~" (on "item_name")' "unknown operator"
t_is "$(e '{"filters": {"item_name": ["in", 5]}}')" '22023: the value of the filter on "item_name" (in) must be a list' "in needs a list"
t_is "$(e '{"filters": {"item_name": ["between", [1]]}}')" '22023: the value of the filter on "item_name" (between) must be a list of two values' "between needs two values"
t_is "$(e '{"filters": {"item_name": ["is", "maybe"]}}')" '22023: the value of the filter on "item_name" (is) must be "set" or "not set"' "is needs set / not set"
t_is "$(e '{"filters": {"item_name": {"a": 1}}}')" '22023: the value of the filter on "item_name" (=) must be a string or a number' "a filter value of the wrong shape"
t_is "$(e '{"filters": [["Sales Invoice", "customer", "=", "x"]]}')" '42703: a filter names a field of Sales Invoice, not of Item' "a filter on another DocType"
t_is "$(e '{"order_by": "name; drop table \"tabItem\""}')" '22023: order_by must be fields each with an optional asc or desc' "order_by with SQL"
t_is "$(e '{"order_by": "name desc nulls"}')" '22023: order_by must be fields each with an optional asc or desc' "order_by with a third word"
t_is "$(e '{"order_by": "(select 1)"}')" '22023: order_by must be fields each with an optional asc or desc' "order_by with a subquery"
t_is "$(e '{"order_by": "name;drop"}')" '42703: Item has no field "name;drop"' "order_by: a field that is not one"
t_is "$(e '{"fields": ["item_name\" from \"tabUser\" --"]}')" '42703: Item has no field "item_name" from "tabUser" --"' "a field name with quotes and a comment"
t_is "$(e '{"filters": {"item_name; delete from \"tabItem\"": "x"}}')" '42703: Item has no field "item_name; delete from "tabItem""' "a filter key with SQL"
t_is "$(e '{"limit": -1}')" '22023: option "limit" must be a whole number of at least 0' "a negative limit"
t_is "$(e '{"header": "both"}')" '22023: option "header" must be "label" or "fieldname"' "a bad header option"
t_is "$(e '{"colour": true}')" '22023: unknown option "colour"' "an unknown option"
t_is "$(q $DB "SELECT count(*) FROM \"tabItem\"")" "3" "and the table is untouched"
t_is "$(q $DB "SELECT count(*) FROM regexp_split_to_table(integrations.export_csv('Item', '{\"filters\": {\"item_name\": \"x'' OR ''1''=''1\"}}'), E'\r\n') l WHERE l <> ''")" "1" \
     "a quote in a filter value is a value (only the header comes back)"

# export_json: bench export-json's shape; export_doc: bench export-doc's
J=$(q $DB "SELECT integrations.export_json('Sales Invoice')")
t_is "$($FI_PY -c '
import json, sys
docs = json.loads(sys.argv[1])
d = docs[0]
print(len(docs), d["doctype"], d["customer"], d["posting_date"], d["posting_time"], type(d["grand_total"]).__name__,
      sorted(k for k in ("modified_by", "creation", "owner", "idx", "name", "modified", "docstatus") if k in d),
      len(d["items"]), sorted(set(d["items"][0]) & {"docstatus", "doctype", "modified", "name", "parent", "parentfield", "idx"}),
      d["items"][0]["item_name"], d["items"][0]["qty"], d["taxes"])' "$J")" \
     "2 Sales Invoice CUST-A 2024-05-06 10:30:15.250000 float ['docstatus', 'modified', 'name'] 2 ['idx', 'parent', 'parentfield'] Apple 2.0 []" \
     "export_json: creation order, keys dropped as bench export-json drops them, child rows too"
t_is "$(q $DB "SELECT jsonb_array_length(integrations.export_json('Item', '{\"filters\": {\"item_group\": \"Products\"}, \"limit\": 1}'))")" "1" "export_json: filters and limit"
D=$(q $DB "SELECT integrations.export_doc('Sales Invoice', (SELECT name FROM \"tabSales Invoice\" ORDER BY name LIMIT 1))")
t_is "$($FI_PY -c '
import json, sys
d = json.loads(sys.argv[1])
print(d["name"], d["owner"], "remarks" in d, None in d.values(),
      sorted(set(d["items"][0]) & {"doctype", "name", "owner", "creation", "modified", "modified_by", "docstatus", "idx", "parent", "parentfield", "parenttype"}),
      d["items"][0]["qty"], d["items"][1]["item_name"])' "$D" | sed -E 's/ACC-SINV-[0-9]{4}-/ACC-SINV-Y-/')" \
     "ACC-SINV-Y-00001 Administrator False False [] 2.0 Pear" \
     "export_doc: no nulls, child rows without their standard keys"
t_is "$(q_err $DB "SELECT integrations.export_doc('Item', 'nope')")" "P0002: Item nope not found" "export_doc: a missing document"

# a Custom Field whose column is not there yet (before bench migrate): left out, or a clear error when asked for
q $DB "INSERT INTO \"tabCustom Field\"(name, dt, fieldname, label, fieldtype, insert_after) VALUES ('Item-custom_nocol', 'Item', 'custom_nocol', 'No Column', 'Data', 'item_name')" >/dev/null
t_is "$(q $DB "SELECT count(*) FROM regexp_split_to_table(integrations.export_csv('Item'), E'\r\n') l WHERE l <> ''") $(q $DB "SELECT position('No Column' IN integrations.export_csv('Item'))")" \
     "4 0" "a Custom Field without a column is left out of the default fields"
t_is "$(q_err $DB "SELECT integrations.export_csv('Item', '{\"fields\": [\"custom_nocol\"]}')")" \
     '42703: field "custom_nocol" of Item has no column in its table' "and a clear error when asked for"
q $DB "DELETE FROM \"tabCustom Field\" WHERE name = 'Item-custom_nocol'" >/dev/null

# server files
t_is "$(q $DB "SELECT integrations.export_csv_file('Sales Invoice', '$W/si.csv', '{\"children\": true}')")" "3" "export_csv_file: the lines written"
t_is "$(tr -d '\r' < "$W/si.csv" | head -c 30)" '"ID","Title","Series","Custome' "the file holds the CSV"
q $DB "CREATE ROLE fi_exp_writer LOGIN IN ROLE pg_write_server_files; CREATE ROLE fi_exp_nobody LOGIN;
       GRANT USAGE ON SCHEMA integrations TO fi_exp_writer, fi_exp_nobody;
       GRANT SELECT ON ALL TABLES IN SCHEMA public TO fi_exp_writer, fi_exp_nobody;
       GRANT EXECUTE ON FUNCTION integrations.export_csv_file(text, text, jsonb) TO fi_exp_writer, fi_exp_nobody"
t_is "$(PGUSER=fi_exp_writer q $DB "SELECT integrations.export_csv_file('Item', '$W/items.csv')")" "3" "a member of pg_write_server_files writes a server file"
t_is "$(PGUSER=fi_exp_nobody q_err $DB "SELECT integrations.export_csv_file('Item', '$W/x.csv')")" \
     "42501: permission denied to write a server file" "anyone else is refused, even when granted EXECUTE"
t_like "$(q_err $DB "SELECT integrations.export_csv_file('Item', '/proc/no/such.csv')")" \
     '^58P01: could not open file "/proc/no/such.csv" for writing' "a path the server cannot write: a clear error"
t_is "$(q_err $DB "SELECT integrations.export_csv('Sales Invoice Item')")" \
     "22023: Sales Invoice Item is a child table and is not exported alone" "a child table alone is refused"
t_is "$(q_err $DB "SELECT integrations.export_csv_file('Item', 'relative.csv')")" \
     '42602: relative path not allowed for export_csv_file: "relative.csv"' "a relative path is refused"
t_done
