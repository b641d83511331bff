#!/usr/bin/env bash
# MariaDB, part 3 (issue 20, points 1 and 2): import and export started from
# SQL.  import_csv_async / export_csv_async / export_xlsx_async /
# export_json_async / export_doc_async queue a job in the caller's
# transaction (__fi_jobs); the bench's worker runs it after commit in a
# process of its own (frappe-integrations job) and writes the outcome back
# (job_result, job_output, CALL job_wait).  The outcome is compared with the
# import and export commands' own (the same code: the same bytes), and the
# job's life is checked: nothing before commit and nothing after a rollback,
# the arguments refused at queue time, who may queue, once only (two
# processes on one job), a job whose process is killed (failed, never run
# again, its committed batches kept), one lost without the worker, a file
# larger than max_allowed_packet, --jobs 1, --job-retention.
source "$FI_ROOT/test/lib.sh"
source "$FI_ROOT/test/mariadb/server.sh"
make -s -C "$FI_ROOT" mariadb >/dev/null
MD=$FI_TMP/mariadb_jobs
rm -rf "$MD"
mkdir -p "$MD/tmp"
export TMPDIR=$MD/tmp	# where the jobs make their directories
cleanup() {
    for p in "${MDB_WORKERS[@]}"; do kill -KILL "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    pkill -KILL -f "fi-client job --site-config $MD/" 2>/dev/null || true
    mdb_stop
}
trap cleanup EXIT
mdb_start "$MD"
FI="$FI_ROOT/bin/frappe-integrations"
BENCH=$MD/bench
CFG=$BENCH/sites/a.localhost/site_config.json
mkdir -p "$BENCH/sites/a.localhost"
printf '{"db_socket": "%s"}\n' "$MDB_SOCK" > "$BENCH/sites/common_site_config.json"
mdb_site _j1 pw_j1
KEY=$("$FI_PY" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')
printf '{"db_name": "_j1", "db_password": "pw_j1", "encryption_key": "%s"}\n' "$KEY" > "$CFG"
chmod 600 "$CFG"
"$FI" install --socket "$MDB_SOCK" --user root --plugin-dir "$MDB_PLUGIN" --site _j1 --site-user _j1 \
    --key-file "$CFG" >/dev/null || { echo "Bail out! install failed"; exit 1; }
mdb "CREATE USER plain@localhost IDENTIFIED BY 'pw-plain'; GRANT SELECT, INSERT, UPDATE, EXECUTE ON _j1.* TO plain@localhost"
j1() { mariadb --no-defaults --socket="$MDB_SOCK" -u _j1 -ppw_j1 -D _j1 -N -B -r -e "$1" 2>&1; }
j1_err() {
    local out
    if out=$(mariadb --no-defaults --socket="$MDB_SOCK" -u "${2:-_j1}" -p"${3:-pw_j1}" -D _j1 -N -B -r -e "$1" 2>&1); then
        echo "NO ERROR: $out"
    else
        printf '%s\n' "$out" | mdb_sqlstate
    fi
}
# an export job's file, byte for byte (through HEX: the client's -r keeps no trailing newline apart)
output_of() { j1 "SELECT HEX(job_output($1))" | xxd -r -p; }
worker() { mdb_worker "$BENCH" "$@"; }	# worker <log> [options]
stop_worker() { mdb_worker_stop; }
wait_for() {	# wait_for <sql giving 1> [tries of 0.1 s]
    for _ in $(seq "${2:-100}"); do [ "$(j1 "$1")" = 1 ] && return 0; sleep 0.1; done
    return 1
}
j1 "SET SESSION sql_mode = 'ANSI_QUOTES'; INSERT INTO \"tabItem Group\"(name) VALUES ('Products'), ('Services');
    INSERT INTO \"tabUOM\"(name) VALUES ('Nos'), ('Box')" >/dev/null

t_is "$(j1 "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '_j1' AND TABLE_NAME = '__fi_jobs'")" 1 \
     "install made the site's __fi_jobs"

# ---- refused when queued: nothing written
t_is "$(j1_err "SELECT import_csv_async('Item', 'a', NULL, '{\"xlsx_max_part\": 10}')")" \
     '22023: unknown or unsupported import option(s) on MariaDB: ["xlsx_max_part"] (it takes user, atomic, dry_run, submit_after_import, webhooks, batch_size, data_import, column_to_field_map)' \
     "an import option the MariaDB import does not take: 22023, named"
t_is "$(j1_err "SELECT import_csv_async('Item', 'a', NULL, '{\"column_to_field_map\": [\"item_code\"]}')")" \
     '22023: option "column_to_field_map" must be an object of column index to field' "column_to_field_map that is not an object: PostgreSQL's message"
t_is "$(j1_err "SELECT import_csv_async('Item', 'a', NULL, '{\"batch_size\": 0}')")" \
     "22023: options.batch_size must be a number from 1 to 100000" "batch_size out of range"
t_is "$(j1_err "SELECT import_csv_async('Item', 'a', NULL, '{\"atomic\": \"yes\"}')")" \
     "22023: options.atomic, options.dry_run, options.submit_after_import and options.webhooks must be true or false" "a flag that is not a boolean"
t_is "$(j1_err "SELECT import_csv_async('Item', 'a', NULL, '{\"user\": 7}')")" \
     "22023: options.user must be a string (the Frappe user who owns the documents)" "a user that is not a string"
t_is "$(j1_err "SELECT import_csv_async('Item', 'a', NULL, '[1]')")" "22023: options must be a JSON object" "options not an object"
t_is "$(j1_err "SELECT export_csv_async('Item', '{nope')")" "22023: options must be a JSON object" "options not JSON"
t_is "$(j1_err "SELECT import_csv_async('Item', 'a', 'Replace', NULL)")" \
     '22023: import_type must be "Insert New Records" or "Update Existing Records"' "an unknown import type"
t_is "$(j1_err "SELECT import_csv_async('Item', NULL, NULL, NULL)")" "22023: data must be given: the text of the CSV file" "no data"
t_is "$(j1_err "SELECT export_csv_async(NULL, NULL)")" "22023: doctype must be given" "no doctype"
t_is "$(j1_err "SELECT export_csv_async(REPEAT('x', 141), NULL)")" \
     "22023: doctype is longer than 140 characters: no DocType has such a name" "a doctype longer than any"
t_is "$(j1_err "SELECT export_doc_async('Item', '')")" "22023: name must be given: the document to export" "export_doc without a name"
t_is "$(j1 "SELECT COUNT(*) FROM __fi_jobs")" 0 "nothing was queued by the refused calls"
t_is "$(j1_err "SELECT export_csv_async('Item', NULL)" plain pw-plain)" \
     "42501: permission denied: only the site's own database user queues imports and exports" "another account cannot queue a job"
t_is "$(j1_err "INSERT INTO __fi_jobs (kind, doctype, requested_by, created_at) VALUES ('export', 'Item', 'x', NOW())" plain pw-plain)" \
     "42501: permission denied: only the site's own database user queues imports and exports" "nor write the table around the functions"

# ---- with the transaction: nothing before commit, nothing after a rollback
worker "$MD/w1.log"
CSV='Item Code,Item Name,Item Group,Default Unit of Measure
J-1,Widget,Products,Nos
J-2,Gadget,Nope,Nos
J-3,"Gizmo, large",Services,Box
'
printf '%s' "$CSV" > "$MD/items.csv"
j1 "START TRANSACTION; SELECT import_csv_async('Item', '$CSV', NULL, '{\"user\": \"ann@example.com\", \"batch_size\": 2}'); DO SLEEP(0.8); ROLLBACK" >/dev/null
sleep 0.5
t_is "$(j1 "SELECT COUNT(*) FROM __fi_jobs")-$(j1 "SELECT COUNT(*) FROM tabItem")" "0-0" \
     "a job of a transaction rolled back never runs (nor while it was open): no row, no Item"
OPEN=$(j1 "START TRANSACTION; SELECT import_csv_async('Item', '$CSV', NULL, '{\"user\": \"ann@example.com\", \"batch_size\": 2}') INTO @j;
           DO SLEEP(0.8); SELECT COUNT(*) FROM tabItem; COMMIT; SELECT @j")
t_is "$(printf '%s\n' "$OPEN" | head -1)" 0 "queued in an open transaction: nothing imported before it commits"
ID=$(printf '%s\n' "$OPEN" | tail -1)
R=$(j1 "CALL job_wait($ID, 60000)")
t_is "$(printf '%s' "$R" | jget 'd["kind"], d["doctype"], d["status"], d["error"], d["result"]["status"], d["result"]["inserted"], d["result"]["failed"]')" \
     "('import', 'Item', 'done', None, 'Partial Success', 2, 1)" "committed: the worker ran it; job_wait gives the import's result"
t_is "$(printf '%s' "$R" | jget 'list(d.keys())')" \
     "['id', 'kind', 'doctype', 'status', 'result', 'error', 'created_at', 'started_at', 'finished_at']" "job_result's keys"
t_is "$(j1 "SELECT GROUP_CONCAT(CONCAT(name, '/', item_name, '/', owner) ORDER BY name SEPARATOR ' ') FROM tabItem")" \
     "J-1/Widget/ann@example.com J-3/Gizmo, large/ann@example.com" "the documents written, owned by options.user"
# the same file through the command (a dry run: nothing written twice) gives the same result
CLI=$("$FI" import --site-config "$CFG" --doctype Item --dry-run --as ann@example.com "$MD/items.csv" 2>/dev/null)
DRY=$(j1 "SELECT import_csv_async('Item', '$CSV', NULL, '{\"dry_run\": true, \"user\": \"ann@example.com\"}') INTO @j; CALL job_wait(@j, 10000)")
t_is "$(printf '%s' "$DRY" | jget 'json.dumps(d["result"], sort_keys=True)')" \
     "$(printf '%s' "$CLI" | jget 'json.dumps(d, sort_keys=True)')" "a dry run's result: the import command's, key for key"
t_like "$(printf '%s' "$DRY" | jget 'd["result"]["errors"]')" "Value Nope missing for Item Group" "(its errors name the value)"
j1 "INSERT INTO \`tabData Import\`(name, reference_doctype, import_type, status) VALUES ('DI-J', 'Item', 'Insert New Records', 'Pending')"
R=$(j1 "SELECT import_csv_async('Item', '${CSV//J-/L-}', NULL, '{\"dry_run\": true, \"data_import\": \"DI-J\"}') INTO @j; CALL job_wait(@j, 10000)")
t_is "$(j1 "SELECT GROUP_CONCAT(CONCAT(row_indexes, ':', success) ORDER BY log_index) FROM \`tabData Import Log\` WHERE data_import = 'DI-J'")-$(j1 "SELECT status FROM \`tabData Import\` WHERE name = 'DI-J'")" \
     "[2]:1,[3]:0,[4]:1-Partial Success" "options.data_import: the job logs each document to tabData Import Log and sets the Data Import's status"
t_is "$(j1_err "SELECT import_csv_async('Item', 'a', NULL, '{\"data_import\": 1}')")" \
     "22023: options.data_import must be a string (the tabData Import document to log to)" "a data_import that is not a string"
R=$(j1 "SELECT import_csv_async('Item', 'ID,Item Name
J-1,Widget Mk II
J-3,\"Gizmo, large\"
', 'Update Existing Records', NULL) INTO @j; CALL job_wait(@j, 10000)")
t_is "$(printf '%s' "$R" | jget 'd["status"], d["result"]["status"], d["result"]["updated"], d["result"]["unchanged"]')-$(j1 "SELECT item_name FROM tabItem WHERE name = 'J-1'")" \
     "('done', 'Success', 1, 1)-Widget Mk II" "Update Existing Records from SQL: one document changed, one left as it was"
t_is "$(j1 "SELECT status, started_at >= created_at, finished_at >= started_at, requested_by LIKE '_j1@%' FROM __fi_jobs WHERE id = $ID")" \
     "done	1	1	1" "the row: done, its times in order, the caller"
t_is "$(j1_err "SELECT job_output($ID)")" "22023: job $ID is an import: its outcome is job_result($ID)" "an import has no file"
t_is "$(j1_err "SELECT job_result(99999)")" \
     "P0002: no import or export job 99999 (finished jobs are deleted a day after they finished)" "no such job"

# ---- exports: the command's bytes
same_export() {	# same_export <description> <async call's SQL> <the command's options...>
    local d=$1 call=$2; shift 2
    local id
    id=$(j1 "SELECT $call")
    j1 "CALL job_wait($id, 10000)" >/dev/null
    output_of "$id" > "$MD/job.out"
    "$FI" export --site-config "$CFG" "$@" > "$MD/cli.out" 2>&1
    if cmp -s "$MD/job.out" "$MD/cli.out"; then t_is same same "$d: the same bytes as the export command"
    else t_is "$(head -c 300 "$MD/job.out")" "$(head -c 300 "$MD/cli.out")" "$d: the same bytes as the export command"; fi
}
same_export "CSV, every field" "export_csv_async('Item', NULL)" --doctype Item
same_export "CSV, fields, filters, order" \
    "export_csv_async('Item', '{\"fields\": [\"name\", \"item_name\"], \"filters\": {\"item_group\": \"Services\"}, \"order_by\": \"name asc\"}')" \
    --doctype Item --options '{"fields": ["name", "item_name"], "filters": {"item_group": "Services"}, "order_by": "name asc"}'
same_export "CSV, every child table" "export_csv_async('Item', '{\"children\": true}')" \
    --doctype Item --options '{"children": true}'
same_export "CSV, Report Builder's layout, formulas escaped" \
    "export_csv_async('Item', '{\"format\": \"report\", \"fields\": [\"name\", \"item_name\"], \"escape_formulas\": true}')" \
    --doctype Item --options '{"format": "report", "fields": ["name", "item_name"], "escape_formulas": true}'
same_export "JSON (export_json)" "export_json_async('Item', '{\"filters\": {\"item_group\": \"Products\"}}')" \
    --doctype Item --file-type json --options '{"filters": {"item_group": "Products"}}'
ID=$(j1 "SELECT export_doc_async('Item', 'J-3')")
j1 "CALL job_wait($ID, 60000)" >/dev/null
t_is "$(output_of "$ID" | md5sum)" "$("$FI" export-doc --site-config "$CFG" --doctype Item --name J-3 | md5sum)" \
     "export_doc: the same bytes as export-doc"
ID=$(j1 "SELECT export_xlsx_async('Item', '{\"fields\": [\"name\", \"item_name\", \"item_group\"]}')")
R=$(j1 "CALL job_wait($ID, 60000)")
output_of "$ID" > "$MD/job.xlsx"
"$FI" export --site-config "$CFG" --doctype Item --options '{"fields": ["name", "item_name", "item_group"]}' --output "$MD/cli.xlsx" >/dev/null
cells() { "$FI_PY" -c 'import openpyxl,sys
ws = openpyxl.load_workbook(sys.argv[1]).active
print([[c.value for c in r] for r in ws.iter_rows()])' "$1"; }
t_is "$(cells "$MD/job.xlsx")" "$(cells "$MD/cli.xlsx")" "export_xlsx: a workbook with the export command's cells"
t_like "$(cells "$MD/job.xlsx")" "'Gizmo, large', 'Services'" "(read by openpyxl: the documents are there)"
t_is "$(printf '%s' "$R" | jget 'd["result"]')" "{'doctype': 'Item', 'documents': 2, 'lines': 2}" "an export's result: its counts"
ID=$(j1 "SELECT export_csv_async('Item\`; DROP TABLE \`tabItem', '{\"filters\": {\"name\": \"x'' OR 1=1 -- \"}}')")
t_is "$(j1 "CALL job_wait($ID, 60000)" | jget 'd["status"], d["error"]["sqlstate"], d["error"]["message"]')" \
     "('failed', '42704', 'DocType \"Item\`; DROP TABLE \`tabItem\" not found')" "SQL in the doctype: a DocType not found"
t_is "$(j1 "SELECT COUNT(*) FROM tabItem")" 2 "(tabItem is still there)"
ID=$(j1 "SELECT export_csv_async('Item', '{\"filters\": {\"name\": \"x'' OR 1=1 -- \"}}')")
j1 "CALL job_wait($ID, 60000)" >/dev/null
t_is "$(output_of "$ID" | wc -l)" 1 "SQL in a filter's value: a value (the header, no document)"
ID=$(j1 "SELECT export_csv_async('Item', '{\"fields\": [\"nope\"]}')")
t_is "$(j1 "CALL job_wait($ID, 60000)" | jget 'd["status"], d["error"]["sqlstate"], d["error"]["message"]')" \
     "$("$FI" export --site-config "$CFG" --doctype Item --options '{"fields": ["nope"]}' 2>&1 | "$FI_PY" -c 'import sys
l = sys.stdin.readline().rstrip("\n"); print(("failed", l[6:11], l[13:]))')" "a refused export: the command's SQLSTATE and message"
t_is "$(j1_err "SELECT job_output($ID)")" "55000: job $ID failed (42703): Item has no field \"nope\"" "job_output of a failed job: 55000 with the job's error"
stop_worker

# ---- a queued job waits for a worker; job_output says so
ID=$(j1 "SELECT export_csv_async('Item', NULL)")
t_is "$(j1_err "SELECT job_output($ID)")" "55000: job $ID is queued (CALL job_wait($ID, milliseconds) waits for it)" "not run yet: 55000, what to do"
t_is "$(j1 "CALL job_wait($ID, 300)" | jget 'd["status"]')" queued "job_wait gives up after wait_ms, the job still queued"
# ---- once: two processes on one job
ID=$(j1 "SELECT import_csv_async('Item', 'Item Code,Item Name,Item Group,Default Unit of Measure
K-1,One,Products,Nos
K-2,Two,Products,Nos
', NULL, NULL)")
"$FI" job --site-config "$CFG" --job "$ID" 2> "$MD/job1.err" & P1=$!
"$FI" job --site-config "$CFG" --job "$ID" 2> "$MD/job2.err" & P2=$!
wait $P1; wait $P2
t_is "$(j1 "SELECT COUNT(*) FROM tabItem WHERE name LIKE 'K-%'")-$(j1 "SELECT JSON_VALUE(job_result($ID), '\$.result.inserted')")" "2-2" \
     "two processes started on one job: it ran once (2 documents, not 4)"
t_like "$(cat "$MD/job1.err" "$MD/job2.err")" "job $ID (is run by another process|is done, not queued: nothing to do)" \
     "the second said why it did nothing"
t_is "$("$FI" job --site-config "$CFG" --job "$ID" 2>&1; echo "rc $?")" "fi-client: job $ID is done, not queued: nothing to do
rc 0" "a finished job run again by hand: nothing done"
t_is "$("$FI" job --site-config "$CFG" --job 0 2>&1; echo "rc $?")" "fi-client: --job takes the job's id (a positive number)
rc 2" "a bad --job"
t_is "$("$FI" job --site-config "$CFG" --job 424242 2>&1; echo "rc $?")" "ERROR P0002: no import or export job 424242
rc 1" "no such job"

# ---- a job's process killed: failed, never run again, its committed batches kept
"$FI_PY" -c 'import sys
print("Item Code,Item Name,Item Group,Default Unit of Measure")
for i in range(60000): print("B-%05d,Bulk %d,Products,Nos" % (i, i))' > "$MD/bulk.csv"
printf "SELECT import_csv_async('Item', FROM_BASE64('%s'), NULL, '{\"batch_size\": 20}')" "$(base64 -w0 < "$MD/bulk.csv")" \
    | mariadb --no-defaults --socket="$MDB_SOCK" -u _j1 -ppw_j1 -D _j1 -N -B > "$MD/bulk.id"
BULK=$(cat "$MD/bulk.id")
worker "$MD/w2.log" --jobs 1
wait_for "SELECT COUNT(*) > 0 FROM tabItem WHERE name LIKE 'B-%'" 200
JP=$(sed -n "s/.*job $BULK started (process \([0-9]*\)).*/\1/p" "$MD/w2.log")
t_like "$JP" '^[0-9]+$' "the worker started the import in a process of its own (logged with its pid)"
kill -KILL "$JP" 2>/dev/null
wait_for "SELECT status = 'failed' FROM __fi_jobs WHERE id = $BULK" 100
t_is "$(j1 "SELECT status, error_sqlstate, error FROM __fi_jobs WHERE id = $BULK")" \
     "failed	57000	the job's process ended before it finished (killed, or the server or the worker stopped)" \
     "its process killed: the job failed, saying why"
KEPT=$(j1 "SELECT COUNT(*) FROM tabItem WHERE name LIKE 'B-%'")
t_is "$(( KEPT > 0 && KEPT < 60000 && KEPT % 20 == 0 ))" 1 "the batches committed before stay, whole batches only ($KEPT documents)"
t_like "$(cat "$MD/w2.log")" "job $BULK's process ended by signal 9" "the worker logged the signal"
t_is "$(ls "$TMPDIR" | wc -l)" 0 "the killed job's directory (its copy of the file) removed by the worker"
sleep 0.5
t_is "$(j1 "SELECT COUNT(*) FROM tabItem WHERE name LIKE 'B-%'")" "$KEPT" "and never started it again"
# --jobs 1: one after the other
A=$(j1 "SELECT export_csv_async('Item', '{\"fields\": [\"name\"]}')")
B=$(j1 "SELECT export_json_async('Item', '{\"limit\": 3}')")
j1 "CALL job_wait($B, 60000)" >/dev/null
t_is "$(j1 "SELECT a.status, b.status, b.started_at >= a.finished_at FROM __fi_jobs a, __fi_jobs b WHERE a.id = $A AND b.id = $B")" \
     "done	done	1" "--jobs 1: two queued jobs ran one after the other"
t_is "$(output_of "$A" | wc -l)" "$((KEPT + 5))" "(the export after the kill has every document kept, one line each)"
# a job lost without the worker (its process gone with a server restart, say)
j1 "INSERT INTO __fi_jobs (kind, doctype, status, requested_by, created_at, started_at)
    VALUES ('export', 'Item', 'running', USER(), UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))"
LOST=$(j1 "SELECT MAX(id) FROM __fi_jobs")
t_ok "a running job whose lock is free: marked failed by the worker's next look" wait_for "SELECT status = 'failed' FROM __fi_jobs WHERE id = $LOST" 80
# a file larger than the server lets one statement write (2,000 Items more: how many bulk rows
# the kill above kept varies, as few as one batch)
j1 "INSERT INTO tabItem (name, item_code, item_name, item_group, stock_uom)
    SELECT CONCAT('MP-', seq), CONCAT('MP-', seq), REPEAT('x', 40), 'Products', 'Nos' FROM seq_1_to_2000"
mdb "SET GLOBAL max_allowed_packet = 65536"
ID=$(j1 "SELECT export_csv_async('Item', NULL)")
R=$(j1 "CALL job_wait($ID, 60000)")
mdb "SET GLOBAL max_allowed_packet = 268435456"
t_like "$(printf '%s' "$R" | jget 'd["status"], (d.get("error") or {}).get("sqlstate"), (d.get("error") or {}).get("message"), (d.get("error") or {}).get("hint")')" \
     "^\('failed', '54000', \"the export's file is [0-9]+ bytes, more than the server's max_allowed_packet \(65536 bytes\) lets one statement write into the job's row\", 'Export to a file with frappe-integrations export --output FILE" \
     "an export larger than max_allowed_packet: failed with the sizes and what to do"
stop_worker
t_is "$(ls "$TMPDIR" | wc -l)" 0 "no job left a directory behind"

# ---- a 1,000,000-row file, imported from SQL
"$FI_PY" -c 'import sys
print("Role Name")
for i in range(1000000): print("R-%07d" % i)' > "$MD/million.csv"
worker "$MD/w4.log"
printf "SELECT import_csv_async('Role', FROM_BASE64('%s'), NULL, NULL)" "$(base64 -w0 < "$MD/million.csv")" \
    | mariadb --no-defaults --max-allowed-packet=64M --socket="$MDB_SOCK" -u _j1 -ppw_j1 -D _j1 -N -B > "$MD/million.id"
ID=$(cat "$MD/million.id")
R=$(j1 "CALL job_wait($ID, 300000)")
t_is "$(printf '%s' "$R" | jget 'd["status"], d["result"]["status"], d["result"]["rows"], d["result"]["inserted"], d["result"]["failed"]')" \
     "('done', 'Success', 1000000, 1000000, 0)" "a file of 1,000,000 rows imported by a job"
t_is "$(j1 "SELECT COUNT(*), MIN(name), MAX(name) FROM tabRole WHERE name LIKE 'R-%'")" "1000000	R-0000000	R-0999999" \
     "all 1,000,000 documents are there"
stop_worker
rm -f "$MD/million.csv"

# ---- the import's webhooks and column_to_field_map options (PostgreSQL's), by the command and by a job
j1 "INSERT INTO tabWebhook (name, webhook_doctype, webhook_docevent, request_url, enabled) VALUES ('wh-imp', 'Item', 'after_insert', 'http://127.0.0.1:9/x', 1)"
j1 "CALL sync_webhooks()" >/dev/null
printf 'Code,Name,Group,UOM\nCM-1,Mapped One,Products,Nos\nCM-2,Mapped Two,Services,Box\n' > "$MD/cmap.csv"
MAP='{"0": "item_code", "1": "item_name", "2": "item_group", "3": "stock_uom"}'
"$FI" import --site-config "$CFG" --doctype Item --column-map "$MAP" "$MD/cmap.csv" > "$MD/cmap.json"
t_is "$(jget 'd["status"], d["inserted"]' < "$MD/cmap.json") $(j1 "SELECT GROUP_CONCAT(CONCAT_WS(':', name, item_name, item_group, stock_uom) ORDER BY name) FROM tabItem WHERE name LIKE 'CM-%'")" \
     "('Success', 2) CM-1:Mapped One:Products:Nos,CM-2:Mapped Two:Services:Box" "--column-map: columns whose titles match no field, mapped by their index"
t_is "$(j1 "SELECT COUNT(*) FROM __fi_webhook_outbox WHERE doctype = 'Item' AND name LIKE 'CM-%'")" 0 \
     "an import fires no webhook for its documents by default (Frappe's Data Import: none)"
printf 'Code,Name,Group,UOM\nCM-3,Mapped Three,Products,Nos\n' > "$MD/cmap3.csv"
"$FI" import --site-config "$CFG" --doctype Item --column-map "$MAP" --webhooks "$MD/cmap3.csv" > /dev/null
t_is "$(j1 "SELECT GROUP_CONCAT(CONCAT(op, ' ', name)) FROM __fi_webhook_outbox WHERE doctype = 'Item' AND name LIKE 'CM-%'")" "I CM-3" \
     "--webhooks: the site's webhooks capture the imported documents (PostgreSQL's options.webhooks)"
t_is "$("$FI" import --site-config "$CFG" --doctype Item --column-map '{"0": 5}' "$MD/cmap.csv" 2>&1 >/dev/null | tail -1)" \
     'ERROR 22023: column_to_field_map["0"] must be a string' "a field that is not a string: PostgreSQL's message"
worker "$MD/w5.log"
printf 'Code,Name,Group,UOM\nCM-4,Mapped Four,Products,Nos\n' > "$MD/cmap4.csv"
ID=$(printf "SELECT import_csv_async('Item', FROM_BASE64('%s'), NULL, '{\"webhooks\": true, \"column_to_field_map\": %s}')" "$(base64 -w0 < "$MD/cmap4.csv")" "$MAP" \
     | mariadb --no-defaults --socket="$MDB_SOCK" -u _j1 -ppw_j1 -D _j1 -N -B)
t_is "$(j1 "CALL job_wait($ID, 30000)" | jget 'd["status"], d["result"]["inserted"]') $(j1 "SELECT item_name FROM tabItem WHERE name = 'CM-4'")" \
     "('done', 1) Mapped Four" "a job with options webhooks and column_to_field_map: mapped"
# (the running worker folds the outbox into its queue: the event is looked for there)
wait_for "SELECT COUNT(*) = 1 FROM __fi_webhook_queue WHERE webhook = 'wh-imp' AND docname = 'CM-4'" 100
t_is "$(j1 "SELECT GROUP_CONCAT(event) FROM __fi_webhook_queue WHERE webhook = 'wh-imp' AND docname = 'CM-4'")" "after_insert" \
     "and captured: the worker queued the webhook's after_insert for the job's document"
stop_worker

# ---- finished jobs deleted after --job-retention
sleep 1.1
BEFORE=$(j1 "SELECT COUNT(*) FROM __fi_jobs WHERE finished_at IS NOT NULL")
worker "$MD/w3.log" --job-retention 1
wait_for "SELECT COUNT(*) = 0 FROM __fi_jobs WHERE finished_at IS NOT NULL" 50
t_is "$(( BEFORE > 5 ))-$(j1 "SELECT COUNT(*) FROM __fi_jobs WHERE finished_at IS NOT NULL")" "1-0" \
     "--job-retention 1: the finished jobs deleted ($BEFORE of them)"
stop_worker

# ---- uninstall --site: the functions and triggers gone, the jobs' rows kept (they are data)
j1 "SELECT export_csv_async('Item', NULL)" >/dev/null
"$FI" uninstall --socket "$MDB_SOCK" --user root --site _j1 >/dev/null
t_is "$(mdb "SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = '_j1'")-$(mdb "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '_j1'")-$(j1 "SELECT COUNT(*) FROM __fi_jobs")" \
     "0-0-1" "uninstall --site: no job function or trigger left, the queued job's row kept"

t_done
