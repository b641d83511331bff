#!/usr/bin/env bash
# Data Import beyond pg_regress: server files and who may read them, encodings,
# a 100 MB cell, a 1,000,000-row file, Ctrl-C, concurrent imports sharing a
# naming series with a Frappe-style session, triggers and webhooks, the
# one-document-at-a-time retry, autoincrement.
source "$FI_ROOT/test/lib.sh"
DB=fi_import
newdb $DB
W=$FI_TMP/import_files
mkdir -p "$W"
chmod 755 "$W"
q $DB "INSERT INTO \"tabItem Group\"(name) VALUES ('Products');
       INSERT INTO \"tabUOM\"(name) VALUES ('Nos');
       INSERT INTO \"tabCompany\"(name) VALUES ('ACME Ltd');
       INSERT INTO \"tabCurrency\"(name) VALUES ('INR');
       INSERT INTO \"tabPrice List\"(name) VALUES ('Standard Selling');
       INSERT INTO \"tabAccount\"(name) VALUES ('Debtors - A'), ('Sales - A');
       INSERT INTO \"tabCost Center\"(name) VALUES ('Main - A');
       INSERT INTO \"tabCustomer\"(name, customer_name) VALUES ('C1', 'C1')" >/dev/null
imp() {	# imp <doctype> <file> [options json] [import type]: the result's status/inserted/failed
    q $DB "SELECT r->>'status', r->>'inserted', r->>'failed' FROM
           integrations.import_csv_file('$1', '$2', '${4:-Insert New Records}', '${3:-{\}}') r" | tr '|' ' '
}

# ---- server files: superuser, pg_read_server_files, nobody else
printf 'Item Code,Item Group,Default Unit of Measure\nF1,Products,Nos\n' > "$W/f1.csv"
chmod 644 "$W"/*.csv
t_is "$(imp Item "$W/f1.csv")" "Success 1 0" "a superuser imports a server file"
q $DB "CREATE ROLE fi_reader LOGIN IN ROLE pg_read_server_files; CREATE ROLE fi_nobody LOGIN;
       GRANT USAGE ON SCHEMA integrations TO fi_reader, fi_nobody;
       GRANT INSERT, SELECT ON ALL TABLES IN SCHEMA public TO fi_reader, fi_nobody;
       GRANT EXECUTE ON FUNCTION integrations.import_csv_file(text, text, text, jsonb) TO fi_reader, fi_nobody"
printf 'Item Code,Item Group,Default Unit of Measure\nF2,Products,Nos\n' > "$W/f2.csv"; chmod 644 "$W/f2.csv"
t_is "$(PGUSER=fi_reader q $DB "SELECT integrations.import_csv_file('Item', '$W/f2.csv')->>'inserted'")" "1" \
     "a member of pg_read_server_files imports a server file"
t_is "$(PGUSER=fi_nobody q_err $DB "SELECT integrations.import_csv_file('Item', '$W/f2.csv')")" \
     "42501: permission denied to read a server file" "anyone else is refused, even when granted EXECUTE"
t_is "$(q_err $DB "SELECT integrations.import_csv_file('Item', '$W/none.csv')")" \
     "58P01: could not open file \"$W/none.csv\" for reading: No such file or directory" "a missing file: a clear error"
q $DB "REVOKE INSERT ON \"tabItem\" FROM fi_reader"
t_is "$(PGUSER=fi_reader q_err $DB "SELECT integrations.import_csv_file('Item', '$W/f2.csv')")" \
     "42501: permission denied for table tabItem" "the caller's own table privileges apply"

# ---- encodings
printf 'Item Code,Item Name,Item Group,Default Unit of Measure\r\nW1,Caf\xe9 cr\xe8me \x80,Products,Nos\r\n' > "$W/cp1252.csv"
printf '\xef\xbb\xbfItem Code,Item Name,Item Group,Default Unit of Measure\nU1,Café crème €,Products,Nos\n' > "$W/utf8bom.csv"
printf 'Item Code,Item Group\nN1,Prod\x00ucts\n' > "$W/nul.csv"
printf 'Item Code,Item Group\nX1,\x81\xe9\n' > "$W/neither.csv"
chmod 644 "$W"/*.csv
imp Item "$W/cp1252.csv" >/dev/null
imp Item "$W/utf8bom.csv" >/dev/null
t_is "$(q $DB "SELECT string_agg(name || '=' || item_name, ' ' ORDER BY name) FROM \"tabItem\" WHERE name IN ('U1', 'W1')")" \
     "U1=Café crème € W1=Café crème €" "windows-1252 (CRLF) and UTF-8 with a BOM read the same text"
t_is "$(q_err $DB "SELECT integrations.import_csv_file('Item', '$W/nul.csv')")" \
     "22021: the file contains a NUL byte (line 2)" "a NUL byte: a clear error with the line"
t_is "$(q_err $DB "SELECT integrations.import_csv_file('Item', '$W/neither.csv')")" \
     "22021: the file is neither UTF-8 nor windows-1252" "bytes that are neither UTF-8 nor windows-1252: a clear error"

# ---- a 100 MB cell: refused in a varchar(140) column (its row), kept in a text one
"$FI_PY" - "$W/big.csv" <<'PY'
import sys
big = "x" * (100 * 1024 * 1024)
with open(sys.argv[1], "w") as f:
    f.write("Item Code,Item Name,Description,Item Group,Default Unit of Measure\n")
    f.write('BIG1,"%s",short,Products,Nos\n' % big)
    f.write('BIG2,fine,"%s",Products,Nos\n' % big)
PY
chmod 644 "$W/big.csv"
R=$(q $DB "SELECT r->>'inserted', r->'errors'->0->>'row', length(r->'errors'->0->>'value'), r->'errors'->0->>'message'
           FROM integrations.import_csv_file('Item', '$W/big.csv') r")
t_is "$R" "1|2|203|Item Name will get truncated, as max characters allowed is 140" \
     "a 100 MB cell in a varchar(140) field fails its row (the value clipped in the report)"
t_is "$(q $DB "SELECT length(description) FROM \"tabItem\" WHERE name = 'BIG2'")" "104857600" \
     "a 100 MB cell in a text field is imported whole"
rm -f "$W/big.csv"

# ---- 1,000,000 rows; then Ctrl-C during one: nothing of it stays
"$FI_PY" -c "
import sys
with open(sys.argv[1], 'w') as f:
    f.write('ID\n')
    for i in range(1000000): f.write('B-%07d\n' % i)" "$W/million.csv"
chmod 644 "$W/million.csv"
t_is "$(imp Brand "$W/million.csv" '{"progress_seconds": -1}')" "Success 1000000 0" "a file of 1,000,000 rows"
t_is "$(q $DB "SELECT count(*), min(name), max(name) FROM \"tabBrand\"")" "1000000|B-0000000|B-0999999" \
     "all 1,000,000 documents are there"
q $DB "TRUNCATE \"tabBrand\""
( q $DB "SELECT integrations.import_csv_file('Brand', '$W/million.csv')" > "$W/cancel.out" 2>&1 ) &
BG=$!
for i in $(seq 1 100); do
    [ "$(q $DB "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%import_csv_file(''Brand''%' AND pid <> pg_backend_pid() AND state = 'active'")" = 1 ] && break
    sleep 0.05
done
sleep 0.5
q $DB "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE '%import_csv_file(''Brand''%' AND pid <> pg_backend_pid()" >/dev/null
wait $BG
t_like "$(cat "$W/cancel.out")" "canceling statement due to user request" "Ctrl-C cancels an import"
t_is "$(q $DB "SELECT count(*) FROM \"tabBrand\"")" "0" "and leaves nothing of it behind"
rm -f "$W/million.csv"

# ---- progress: a NOTICE per batch with progress_seconds 0
OUT=$("$FI_PGBIN/psql" -X -q -d $DB -c "SELECT integrations.import_csv('UOM', 'ID' || chr(10) || (SELECT string_agg('U-' || g, chr(10)) FROM generate_series(1, 2500) g), 'Insert New Records', '{\"batch_size\": 1000, \"progress_seconds\": 0}') IS NOT NULL" 2>&1 >/dev/null)
t_is "$(printf '%s\n' "$OUT" | sed -E 's/[0-9]+ rows\/s/N rows\/s/')" "NOTICE:  import of UOM: 1001 rows read, 1000 documents done (0 failed), N rows/s
NOTICE:  import of UOM: 2001 rows read, 2000 documents done (0 failed), N rows/s
NOTICE:  import of UOM: 2500 rows read, 2500 documents done (0 failed), N rows/s" "progress NOTICEs: rows, documents, failures, rate"

# ---- concurrent imports and a Frappe-style session share the naming series
"$FI_PY" - "$W" <<'PY'
import sys
hdr = ("Customer,Company,Currency,Price List,Price List Currency,Debit To,Item Name (Items),"
       "UOM (Items),Income Account (Items),Cost Center (Items)\n")
for k in (1, 2):
    with open("%s/si%d.csv" % (sys.argv[1], k), "w") as f:
        f.write(hdr)
        for i in range(3000):
            f.write("C1,ACME Ltd,INR,Standard Selling,INR,Debtors - A,Thing %d,Nos,Sales - A,Main - A\n" % i)
PY
chmod 644 "$W"/si*.csv
KEY=$(q $DB "SELECT 'ACC-SINV-' || to_char(now() AT TIME ZONE 'Asia/Kolkata', 'YYYY') || '-'")
cat > "$W/frappe.sql" <<SQL
-- Frappe's getseries, one document a transaction
BEGIN;
SELECT current FROM "tabSeries" WHERE name = '$KEY' FOR UPDATE;
UPDATE "tabSeries" SET current = current + 1 WHERE name = '$KEY' RETURNING current AS n \gset
INSERT INTO "tabSales Invoice"(name, naming_series, company) VALUES ('$KEY' || lpad(:'n', 5, '0'), 'ACC-SINV-.YYYY.-', 'frappe');
COMMIT;
SQL
q $DB "INSERT INTO \"tabSeries\" VALUES ('$KEY', 0)"
( imp "Sales Invoice" "$W/si1.csv" '{"batch_size": 100}' > "$W/c1.out" 2>&1 ) &
P1=$!
( imp "Sales Invoice" "$W/si2.csv" '{"batch_size": 100}' > "$W/c2.out" 2>&1 ) &
P2=$!
for i in $(seq 1 300); do "$FI_PGBIN/psql" -X -q -d $DB -f "$W/frappe.sql" >/dev/null 2>&1; done
wait $P1 $P2
t_is "$(cat "$W/c1.out") / $(cat "$W/c2.out")" "Success 3000 0 / Success 3000 0" "two imports ran beside Frappe-style numbering"
t_is "$(q $DB "SELECT count(*), count(DISTINCT name), max(name) = '$KEY' || '06300', (SELECT current FROM \"tabSeries\" WHERE name = '$KEY'), count(*) FILTER (WHERE company = 'frappe') FROM \"tabSales Invoice\"")" \
     "6300|6300|t|6300|300" "6,300 invoices, no name twice, no gap, the counter at 6,300"

# ---- triggers fire; an error in one fails that document alone (the batch is redone one by one)
q $DB "CREATE FUNCTION pg_temp.x() RETURNS void LANGUAGE sql AS 'SELECT 1';
       CREATE TABLE public.item_audit (name text);
       CREATE FUNCTION public.item_guard() RETURNS trigger LANGUAGE plpgsql AS \$\$
       BEGIN
         IF NEW.item_name = 'boom' THEN RAISE EXCEPTION 'the guard refuses %', NEW.name; END IF;
         INSERT INTO public.item_audit VALUES (NEW.name);
         RETURN NEW;
       END \$\$;
       CREATE TRIGGER item_guard AFTER INSERT ON \"tabItem\" FOR EACH ROW EXECUTE FUNCTION public.item_guard()" >/dev/null
R=$(q $DB "SELECT r->>'inserted', r->'errors'->0->>'row', r->'errors'->0->>'message'
           FROM integrations.import_csv('Item', E'Item Code,Item Name,Item Group,Default Unit of Measure\nT1,a,Products,Nos\nT2,boom,Products,Nos\nT3,c,Products,Nos\n') r")
t_is "$R" "2|3|the guard refuses T2" "a trigger's error fails its document alone, with its message"
t_is "$(q $DB "SELECT string_agg(name, ',' ORDER BY name) FROM public.item_audit")" "T1,T3" "the table's triggers fire for imported rows"
q $DB "DROP TRIGGER item_guard ON \"tabItem\"" >/dev/null

# ---- webhooks: only with options.webhooks
q $DB "INSERT INTO \"tabWebhook\" (name, webhook_doctype, webhook_docevent, request_url, request_structure, webhook_json, enabled)
       VALUES ('imp', 'Item', 'after_insert', 'http://127.0.0.1:9/', 'JSON', '{\"n\": \"{{ doc.name }}\"}', 1);
       SELECT integrations.sync_webhooks()" >/dev/null
q $DB "SELECT integrations.import_csv('Item', E'Item Code,Item Group,Default Unit of Measure\nH1,Products,Nos\n')" >/dev/null
q $DB "SELECT integrations.import_csv('Item', E'Item Code,Item Group,Default Unit of Measure\nH2,Products,Nos\nH3,Products,Nos\n', 'Insert New Records', '{\"webhooks\": true}')" >/dev/null
t_is "$(q $DB "SELECT string_agg(docname, ',' ORDER BY docname) FROM integrations.webhook_queue WHERE webhook = 'imp'")" "H2,H3" \
     "webhooks fire for imported documents only with options.webhooks"

# ---- autoincrement: the DocType's sequence; a supplied ID is not kept (Frappe)
q $DB "INSERT INTO \"tabDocType\"(name, module, autoname, istable, issingle) VALUES ('Counter Thing', 'Stub', 'autoincrement', 0, 0);
       INSERT INTO \"tabDocField\"(name, parent, parenttype, parentfield, idx, fieldname, label, fieldtype)
       VALUES ('ct-title', 'Counter Thing', 'DocType', 'fields', 1, 'title', 'Title', 'Data');
       CREATE TABLE \"tabCounter Thing\" (name bigint PRIMARY KEY, creation timestamp(6), modified timestamp(6),
         modified_by varchar(140), owner varchar(140), docstatus smallint NOT NULL DEFAULT 0, idx bigint NOT NULL DEFAULT 0,
         title varchar(140), _user_tags text, _comments text, _assign text, _liked_by text);
       CREATE SEQUENCE counter_thing_id_seq CACHE 1;
       SELECT setval('counter_thing_id_seq', 41)" >/dev/null
t_is "$(q $DB "SELECT integrations.import_csv('Counter Thing', E'Title\nfirst\nsecond\n')->>'inserted'")" "2" "an autoincrement DocType imports"
t_is "$(q $DB "SELECT string_agg(name || '=' || title, ' ' ORDER BY name) FROM \"tabCounter Thing\"")" "42=first 43=second" \
     "names come from its sequence"
t_done
