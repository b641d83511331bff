#!/usr/bin/env bash
# MariaDB, part 2 (issue 19, point 1): webhook capture.  sync_webhooks()
# attaches the row triggers the enabled webhooks need (their DocType's table
# and its child tables), keeps them in step and never stalls the site; the
# triggers write one outbox row per changed row in the user's transaction,
# for every write path, by transaction.
source "$FI_ROOT/test/lib.sh"
source "$FI_ROOT/test/mariadb/server.sh"
make -s -C "$FI_ROOT" mariadb >/dev/null
MD=$FI_TMP/mariadb_capture
rm -rf "$MD"
trap 'mdb_stop' EXIT
# with the binary log on, as a site with replicas or point-in-time backups runs
mdb_start "$MD" --server-id=1 --log-bin=fi-bin --log-bin-trust-function-creators=1
"$FI_ROOT/bin/frappe-integrations" install --socket "$MDB_SOCK" --user root --plugin-dir "$MDB_PLUGIN" >/dev/null
mdb_site _s1 pw-s1
"$FI_PY" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())' > "$MD/s1.key"
"$FI_ROOT/bin/frappe-integrations" install --socket "$MDB_SOCK" --user root --plugin-dir "$MDB_PLUGIN" \
    --site _s1 --site-user _s1 --key-file "$MD/s1.key" >/dev/null
ms() {	# SQL as the site's own user, tab-separated, no header
    mariadb --no-defaults --socket="$MDB_SOCK" -u _s1 -ppw-s1 -D _s1 -N -B -r -e "$1"
}
ms_err() {
    local out
    out=$(mariadb --no-defaults --socket="$MDB_SOCK" -u _s1 -ppw-s1 -D _s1 -N -B -e "$1" 2>&1) && { echo "no error: $out"; return; }
    echo "$out" | sed -n 's/^ERROR [0-9]* (\([0-9A-Z]*\))[^:]*: /\1: /p' | head -1
}
trg() {	# the capture triggers: table and event, sorted
    ms "SELECT CONCAT(EVENT_OBJECT_TABLE, ':', EVENT_MANIPULATION) FROM information_schema.TRIGGERS
         WHERE TRIGGER_SCHEMA = '_s1' AND TRIGGER_NAME LIKE '\\_\\_fi\\_wh\\_%' ORDER BY 1" | tr '\n' ' '
}
ob() {	# the outbox since id $1: op doctype name old_name docstatus parent parenttype parentfield
    ms "SELECT CONCAT_WS(' ', op, doctype, name, IFNULL(old_name, '-'), CONCAT(IFNULL(docstatus_old, '-'), '>', IFNULL(docstatus_new, '-')),
                         IFNULL(parent, '-'), IFNULL(parenttype, '-'), IFNULL(parentfield, '-'))
          FROM __fi_webhook_outbox WHERE id > ${1:-0} ORDER BY id" | tr '\n' ';'
}
last() { ms "SELECT COALESCE(MAX(id), 0) FROM __fi_webhook_outbox"; }

# ---- sync_webhooks(): which tables, idempotent, in step with tabWebhook
t_is "$(ms "CALL sync_webhooks()")" "0	0	NULL	NULL" "no enabled webhook: nothing attached"
ms "INSERT INTO tabWebhook (name, webhook_doctype, webhook_docevent, request_url, enabled)
    VALUES ('wh-item', 'Item', 'on_update', 'http://127.0.0.1:9/i', 1)"
t_is "$(ms "CALL sync_webhooks()")" "27	27	NULL	NULL" "Item and its 8 child tables: 3 triggers each"
t_like "$(trg)" "^tabItem Barcode:DELETE tabItem Barcode:INSERT tabItem Barcode:UPDATE .*tabItem:DELETE tabItem:INSERT tabItem:UPDATE .*tabUOM Conversion Detail:UPDATE $" \
     "the DocType's table and each Table field's table"
t_is "$(ms "CALL sync_webhooks()")" "0	27	NULL	NULL" "a second sync changes nothing"
ms "INSERT INTO tabWebhook (name, webhook_doctype, webhook_docevent, request_url, enabled) VALUES
    ('wh-child', 'Item Barcode', 'on_update', 'http://127.0.0.1:9/c', 1),
    ('wh-none', 'No Such DocType', 'on_update', 'http://127.0.0.1:9/n', 1),
    ('wh-single', 'System Settings', 'on_update', 'http://127.0.0.1:9/s', 1),
    ('wh-off', 'Customer', 'on_update', 'http://127.0.0.1:9/o', 0)"
t_is "$(ms "CALL sync_webhooks()")" "0	27	NULL	NULL" \
     "a webhook on a child DocType (Frappe never fires it), on a missing table, on a Single, or disabled: no trigger"
ms "UPDATE tabWebhook SET enabled = 0 WHERE name = 'wh-item'"
t_is "$(ms "CALL sync_webhooks()")" "27	0	NULL	NULL" "the webhook disabled: its triggers dropped"
ms "UPDATE tabWebhook SET enabled = 1 WHERE name = 'wh-item'; INSERT INTO tabWebhook (name, webhook_doctype, webhook_docevent, request_url, enabled)
    VALUES ('wh-si', 'Sales Invoice', 'on_submit', 'http://127.0.0.1:9/si', 1)"
t_is "$(ms "CALL sync_webhooks()" | cut -f1,2)" "57	57" "two DocTypes (Sales Invoice: 10 tables)"
ms "INSERT INTO tabDocType (name, module, istable) VALUES ('Item Note', 'Stock', 1);
    CREATE TABLE \`tabItem Note\` (name VARCHAR(140) PRIMARY KEY, modified DATETIME(6), docstatus INT(1) NOT NULL DEFAULT 0, idx INT(8) NOT NULL DEFAULT 0,
        parent VARCHAR(140), parenttype VARCHAR(140), parentfield VARCHAR(140), note TEXT) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
    INSERT INTO \`tabCustom Field\` (name, dt, fieldname, fieldtype, options) VALUES ('Item-notes', 'Item', 'notes', 'Table', 'Item Note')"
t_is "$(ms "CALL sync_webhooks()" | cut -f1,2)" "3	60" "a Custom Field of type Table: its table watched too"
t_like "$(ms "SELECT ACTION_STATEMENT FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '_s1' AND EVENT_OBJECT_TABLE = 'tabItem Note' AND EVENT_MANIPULATION = 'INSERT'")" \
     "AND NEW.parenttype IN \('Item'\) THEN" "a child table's trigger keeps only the watched parents' rows"
ms "CREATE TABLE \`tabItem Odd\` (name VARCHAR(140) PRIMARY KEY, note TEXT) ENGINE=InnoDB;
    INSERT INTO \`tabCustom Field\` (name, dt, fieldname, fieldtype, options) VALUES ('Item-odd', 'Item', 'odd', 'Table', 'Item Odd')"
t_is "$(ms "CALL sync_webhooks()")" "0	60	NULL	tabItem Odd" "a table without name/docstatus/modified/parent columns: left alone, reported"
# a trigger changed by hand is put back
ms "CREATE OR REPLACE TRIGGER \`__fi_wh_i_$(ms "SELECT LEFT(MD5('tabItem'), 16)")\` AFTER INSERT ON tabItem FOR EACH ROW SET @x = 1"
t_is "$(ms "CALL sync_webhooks()" | cut -f1,2)" "1	60" "a capture trigger whose body was changed is replaced"
ms "CREATE TRIGGER \`__fi_wh_x_stray\` AFTER INSERT ON tabCustomer FOR EACH ROW SET @x = 1"
t_is "$(ms "CALL sync_webhooks()" | cut -f1,2)" "1	60" "a stray __fi_wh_ trigger is dropped"
t_is "$(ms "CALL sync_webhooks()" | cut -f1,2)" "0	60" "and then nothing to do"

# ---- the events' rows: every kind of row change
b=$(last)
ms "INSERT INTO tabItem (name, item_code, item_name, docstatus, modified) VALUES ('IT-1', 'IT-1', 'One', 0, NOW(6)), ('IT-2', 'IT-2', 'Two', 1, NOW(6))"
ms "UPDATE tabItem SET item_name = 'Uno' WHERE name = 'IT-1'"
ms "UPDATE tabItem SET docstatus = 1 WHERE name = 'IT-1'; UPDATE tabItem SET item_name = 'Ein' WHERE name = 'IT-1'; UPDATE tabItem SET docstatus = 2 WHERE name = 'IT-1'"
ms "DELETE FROM tabItem WHERE name = 'IT-2'"
t_is "$(ob "$b")" "I Item IT-1 - ->0 - - -;I Item IT-2 - ->1 - - -;U Item IT-1 - 0>0 - - -;U Item IT-1 - 0>1 - - -;U Item IT-1 - 1>1 - - -;U Item IT-1 - 1>2 - - -;D Item IT-2 - 1>- - - -;" \
     "INSERT (docstatus 0 and 1), UPDATE 0>0, 0>1, 1>1, 1>2, DELETE: one row each with the docstatus before and after"
b=$(last)
ms "INSERT INTO \`tabItem Barcode\` (name, parent, parenttype, parentfield, idx) VALUES ('bc-1', 'IT-1', 'Item', 'barcodes', 1), ('bc-2', 'X-1', 'Other', 'barcodes', 1);
    UPDATE \`tabItem Barcode\` SET idx = 2 WHERE name = 'bc-1'; UPDATE \`tabItem Barcode\` SET idx = 2 WHERE name = 'bc-2';
    DELETE FROM \`tabItem Barcode\` WHERE name IN ('bc-1', 'bc-2')"
t_is "$(ob "$b")" "I Item Barcode bc-1 - ->0 IT-1 Item barcodes;U Item Barcode bc-1 - 0>0 IT-1 Item barcodes;D Item Barcode bc-1 - 0>- IT-1 Item barcodes;" \
     "child rows: insert, update, delete with their parent; a row of another parent DocType in the same table: none"
b=$(last)
ms "UPDATE tabItem SET name = 'IT-1b' WHERE name = 'IT-1'"
t_is "$(ob "$b")" "U Item IT-1b IT-1 2>2 - - -;" "a rename (UPDATE of name): the new name and the old"
b=$(last)
ms "REPLACE INTO tabItem (name, item_code, item_name, modified) VALUES ('IT-1b', 'IT-1b', 'Replaced', NOW(6))"
ms "INSERT INTO tabItem (name, item_code, item_name) VALUES ('IT-1b', 'IT-1b', 'x') ON DUPLICATE KEY UPDATE item_name = 'Upserted'"
ms "INSERT INTO tabItem (name, item_code, item_name) VALUES ('IT-3', 'IT-3', 'x') ON DUPLICATE KEY UPDATE item_name = 'Upserted'"
t_is "$(ob "$b")" "D Item IT-1b - 2>- - - -;I Item IT-1b - ->0 - - -;U Item IT-1b - 0>0 - - -;I Item IT-3 - ->0 - - -;" \
     "REPLACE: DELETE + INSERT; ON DUPLICATE KEY UPDATE: UPDATE when the key exists, else INSERT"
b=$(last)
ms "INSERT INTO tabItem (name, item_code, item_name) SELECT CONCAT('B-', seq), CONCAT('B-', seq), 'bulk' FROM seq_1_to_1000;
    UPDATE tabItem SET item_name = 'bulk2' WHERE name LIKE 'B-%'; DELETE FROM tabItem WHERE name LIKE 'B-%'"
t_is "$(ms "SELECT CONCAT(op, COUNT(*)) FROM __fi_webhook_outbox WHERE id > $b GROUP BY op ORDER BY op" | tr '\n' ' ')" "D1000 I1000 U1000 " \
     "bulk INSERT … SELECT, UPDATE and DELETE of 1,000 rows: a row per changed row"
b=$(last)
ms "UPDATE tabItem SET item_name = item_name WHERE name = 'IT-3'"
t_is "$(ob "$b")" "U Item IT-3 - 0>0 - - -;" "an UPDATE that changes no value still fires (Frappe's save always sets modified)"

# ---- the user's transaction
b=$(last)
ms "START TRANSACTION; INSERT INTO tabItem (name, item_code) VALUES ('RB-1', 'RB-1'); ROLLBACK"
t_is "$(ob "$b")" "" "ROLLBACK: no outbox row"
ms "START TRANSACTION; INSERT INTO tabItem (name, item_code) VALUES ('SP-1', 'SP-1'); SAVEPOINT a;
    INSERT INTO tabItem (name, item_code) VALUES ('SP-2', 'SP-2'); UPDATE tabItem SET item_name = 'x' WHERE name = 'SP-1';
    ROLLBACK TO SAVEPOINT a; INSERT INTO tabItem (name, item_code) VALUES ('SP-3', 'SP-3'); COMMIT"
t_is "$(ob "$b")" "I Item SP-1 - ->0 - - -;I Item SP-3 - ->0 - - -;" "ROLLBACK TO SAVEPOINT: only what was kept"
t_is "$(ms "SELECT COUNT(DISTINCT connection_id, trx) FROM __fi_webhook_outbox WHERE id > $b")" "1" "the rows of one transaction share its connection_id and trx"
b=$(last)
ms "INSERT INTO tabItem (name, item_code) VALUES ('TX-1', 'TX-1'); INSERT INTO tabItem (name, item_code) VALUES ('TX-2', 'TX-2')"
t_is "$(ms "SELECT COUNT(DISTINCT connection_id, trx) FROM __fi_webhook_outbox WHERE id > $b")" "2" "two autocommit statements of one connection: two transactions"
t_is "$(ms "SELECT COUNT(DISTINCT connection_id) FROM __fi_webhook_outbox WHERE id > $b") $(ms "SELECT COUNT(*) FROM __fi_webhook_outbox WHERE connection_id = CONNECTION_ID()")" "1 0" \
     "the writing connection's id is kept (one connection; not this one)"
b=$(last)
ms "SET @frappe_integrations_webhooks = 'off'; INSERT INTO tabItem (name, item_code) VALUES ('OFF-1', 'OFF-1');
    SET @frappe_integrations_webhooks = 'on'; INSERT INTO tabItem (name, item_code) VALUES ('ON-1', 'ON-1')"
t_is "$(ob "$b")" "I Item ON-1 - ->0 - - -;" "SET @frappe_integrations_webhooks = 'off' turns capture off for the session"

# ---- concurrent writers: every committed row, each transaction apart
b=$(last)
pids=()
for c in 1 2 3 4 5 6 7 8; do
    (for k in $(seq 25); do
        echo "START TRANSACTION; INSERT INTO tabItem (name, item_code) VALUES ('C$c-$k', 'C$c-$k');
              INSERT INTO \`tabItem Barcode\` (name, parent, parenttype, parentfield, idx) VALUES ('C$c-$k-b', 'C$c-$k', 'Item', 'barcodes', $k);
              UPDATE tabItem SET item_name = 'n' WHERE name = 'C$c-$k'; $( [ $((k % 5)) -eq 0 ] && echo ROLLBACK || echo COMMIT );"
     done | mariadb --no-defaults --socket="$MDB_SOCK" -u _s1 -ppw-s1 -D _s1) &
    pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
t_is "$(ms "SELECT CONCAT(COUNT(*), ' ', COUNT(DISTINCT connection_id, trx), ' ', MIN(n), ' ', MAX(n))
            FROM (SELECT connection_id, trx, COUNT(*) AS n FROM __fi_webhook_outbox WHERE id > $b GROUP BY connection_id, trx) t")" "160 160 3 3" \
     "8 connections x 25 transactions (every 5th rolled back): 160 transactions of exactly 3 rows each"
t_is "$(ms "SELECT COUNT(*) FROM tabItem WHERE name LIKE 'C_-%'") $(ms "SELECT COUNT(DISTINCT name) FROM __fi_webhook_outbox WHERE id > $b AND op = 'I' AND doctype = 'Item'")" "160 160" \
     "an outbox row for each committed document, none for the rolled-back ones"

# ---- on_trash: a delete keeps the row as it was (the document and its children)
t_is "$(ms "SELECT COUNT(*) FROM __fi_webhook_outbox WHERE doc IS NOT NULL")" "0" "no on_trash webhook: no row is copied"
ms "INSERT INTO tabWebhook (name, webhook_doctype, webhook_docevent, request_url, enabled)
    VALUES ('wh-trash', 'Item', 'on_trash', 'http://127.0.0.1:9/t', 1)"
t_is "$(ms "CALL sync_webhooks()" | cut -f1,2)" "10	60" "an on_trash webhook: the DELETE triggers of Item and its 9 child tables rewritten"
ms "INSERT INTO tabItem (name, item_code, item_name, description, item_group, docstatus, modified, disabled)
    VALUES ('TR-1', 'TR-1', 'Trashed \"one\"', 'it''s gone', 'Products', 1, '2026-01-02 03:04:05.678901', 1);
    INSERT INTO \`tabItem Barcode\` (name, parent, parenttype, parentfield, idx) VALUES ('TR-1-b', 'TR-1', 'Item', 'barcodes', 7)"
b=$(last)
ms "DELETE FROM \`tabItem Barcode\` WHERE parent = 'TR-1'; DELETE FROM tabItem WHERE name = 'TR-1'"
t_is "$(ms "SELECT CONCAT_WS(' ', op, doctype, JSON_VALUE(doc, '$.name'), JSON_VALUE(doc, '$.item_name'), JSON_VALUE(doc, '$.description'),
                               JSON_VALUE(doc, '$.docstatus'), JSON_VALUE(doc, '$.modified'), JSON_VALUE(doc, '$.disabled'),
                               JSON_VALUE(doc, '$.parent'), JSON_VALUE(doc, '$.idx'))
            FROM __fi_webhook_outbox WHERE id > $b ORDER BY id" | tr '\n' ';')" \
     "D Item Barcode TR-1-b 0 TR-1 7;D Item TR-1 Trashed \"one\" it's gone 1 2026-01-02 03:04:05.678901 1 0;" \
     "the deleted child row and document as they were (every column, quotes kept)"
t_is "$(ms "SELECT JSON_LENGTH(doc) = (SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '_s1' AND TABLE_NAME = 'tabItem')
            FROM __fi_webhook_outbox WHERE id > $b AND doctype = 'Item'")" "1" "every column of tabItem, by name"

# ---- a migration changes the table: writes go on
ms "ALTER TABLE tabItem DROP COLUMN description, CHANGE COLUMN item_group item_group_renamed VARCHAR(140)"
b=$(last)
t_ok "an INSERT after a field was dropped and another renamed" ms "INSERT INTO tabItem (name, item_code) VALUES ('MG-1', 'MG-1')"
t_ok "an UPDATE and a DELETE after it (the on_trash trigger names the old columns)" ms "UPDATE tabItem SET item_name = 'm' WHERE name = 'MG-1'; DELETE FROM tabItem WHERE name = 'MG-1'"
t_is "$(ob "$b")" "I Item MG-1 - ->0 - - -;U Item MG-1 - 0>0 - - -;D Item MG-1 - 0>- - - -;" "and their rows captured"
t_is "$(ms "SELECT IFNULL(doc, 'no copy') FROM __fi_webhook_outbox WHERE id > $b AND op = 'D'")" "no copy" \
     "the delete is captured without its copy until the next sync"
t_is "$(ms "CALL sync_webhooks()" | cut -f1,2)" "1	60" "sync rewrites the DELETE trigger for the new columns"
b=$(last)
ms "INSERT INTO tabItem (name, item_code, item_group_renamed) VALUES ('MG-2', 'MG-2', 'G'); DELETE FROM tabItem WHERE name = 'MG-2'"
t_is "$(ms "SELECT CONCAT(JSON_VALUE(doc, '$.item_group_renamed'), ' ', JSON_EXISTS(doc, '$.description')) FROM __fi_webhook_outbox WHERE id > $b AND op = 'D'")" "G 0" \
     "and the next delete is copied with them"

# ---- a long transaction on the table: sync waits at most about a second a try, and says so
ms "UPDATE tabWebhook SET enabled = 0 WHERE name = 'wh-si'"
mkfifo "$MD/hold"
(mariadb --no-defaults --socket="$MDB_SOCK" -u _s1 -ppw-s1 -D _s1 < "$MD/hold" > /dev/null) &
hold_pid=$!
exec 7> "$MD/hold"
echo "START TRANSACTION; SELECT COUNT(*) FROM \`tabSales Invoice\`;" >&7
for i in $(seq 50); do
    [ "$(mdb "SELECT COUNT(*) FROM information_schema.INNODB_TRX WHERE trx_mysql_thread_id IN
              (SELECT ID FROM information_schema.PROCESSLIST WHERE USER = '_s1' AND COMMAND = 'Sleep')")" -ge 1 ] && break
    sleep 0.1
done
t0=$(date +%s.%N)
res=$(ms "CALL sync_webhooks()")
t1=$(date +%s.%N)
t_like "$res" "^[0-9]+	[0-9]+	tabSales Invoice	tabItem Odd$" "a table held by an open transaction: reported as waiting, the rest done"
t_ok "sync gave up within 6 s ($("$FI_PY" -c "print(round($t1 - $t0, 1))") s: three 1 s waits)" "$FI_PY" -c "import sys; sys.exit(0 if $t1 - $t0 < 6 else 1)"
t_is "$(trg | grep -o 'tabSales Invoice:' | wc -l)" "3" "its triggers still there meanwhile"
echo "COMMIT;" >&7
exec 7>&-
wait "$hold_pid"
t_is "$(ms "CALL sync_webhooks()" | cut -f3)" "NULL" "once the transaction ended, the next sync finishes"
t_is "$(trg | grep -c 'tabSales Invoice:' )" "0" "and the disabled webhook's triggers are gone"

# ---- webhook-pending: the outbox as the worker delivers it (SPEC 1's table, per transaction)
printf 'pw-s1' > "$MD/pw"
pending() {	# one line per document: events and webhooks
    "$FI_ROOT/bin/frappe-integrations" webhook-pending --socket "$MDB_SOCK" --user _s1 --password-file "$MD/pw" --site _s1 "$@" \
        | "$FI_PY" -c '
import json, sys
for line in sys.stdin:
    d = json.loads(line)
    if "transactions" in d:
        print("total %d %d %d" % (d["transactions"], d["documents"], d["deliveries"]))
    else:
        print("%s %s %s %s %s" % (d["doctype"], d["name"], ",".join(d["events"]), d["row"], ",".join(w["name"] for w in d["webhooks"]) or "-"))'
}
ms "DELETE FROM __fi_webhook_outbox; DELETE FROM tabWebhook;
    INSERT INTO tabWebhook (name, webhook_doctype, webhook_docevent, request_url, enabled, \`condition\`) VALUES
    ('p-ins', 'Item', 'after_insert', 'http://127.0.0.1:9/a', 1, NULL),
    ('p-upd', 'Item', 'on_update', 'http://127.0.0.1:9/b', 1, 'doc.disabled == 0'),
    ('p-sub', 'Item', 'on_submit', 'http://127.0.0.1:9/c', 1, NULL),
    ('p-can', 'Item', 'on_cancel', 'http://127.0.0.1:9/d', 1, NULL),
    ('p-uas', 'Item', 'on_update_after_submit', 'http://127.0.0.1:9/e', 1, NULL),
    ('p-chg', 'Item', 'on_change', 'http://127.0.0.1:9/f', 1, NULL),
    ('p-trash', 'Item', 'on_trash', 'http://127.0.0.1:9/g', 1, NULL),
    ('p-off', 'Item', 'on_update', 'http://127.0.0.1:9/h', 0, NULL);
    CALL sync_webhooks();"
ms "INSERT INTO tabItem (name, item_code, docstatus) VALUES ('PW-1', 'PW-1', 0);
    INSERT INTO tabItem (name, item_code, docstatus) VALUES ('PW-2', 'PW-2', 1);
    UPDATE tabItem SET item_name = 'a' WHERE name = 'PW-1';
    UPDATE tabItem SET docstatus = 1 WHERE name = 'PW-1';
    UPDATE tabItem SET item_name = 'b' WHERE name = 'PW-1';
    UPDATE tabItem SET docstatus = 2 WHERE name = 'PW-1';
    DELETE FROM tabItem WHERE name = 'PW-1'"
t_is "$(pending)" "Item PW-1 after_insert,on_update at commit p-ins,p-upd
Item PW-2 after_insert,on_update,on_submit at commit p-ins,p-sub,p-upd
Item PW-1 on_update,on_change at commit p-chg,p-upd
Item PW-1 on_update,on_submit,on_change at commit p-chg,p-sub,p-upd
Item PW-1 on_update_after_submit,on_change at commit p-chg,p-uas
Item PW-1 on_cancel,on_change at commit p-can,p-chg
Item PW-1 on_trash gone p-trash
total 7 7 15" "SPEC 1's table, one transaction each: insert (draft, submitted), 0>0, 0>1, 1>1, 1>2, delete; a disabled webhook: none"
ms "DELETE FROM __fi_webhook_outbox;
    START TRANSACTION; INSERT INTO tabItem (name, item_code) VALUES ('PW-3', 'PW-3'); UPDATE tabItem SET item_name = 'x' WHERE name = 'PW-3';
    UPDATE tabItem SET item_name = 'y' WHERE name = 'PW-3';
    INSERT INTO \`tabItem Barcode\` (name, parent, parenttype, parentfield) VALUES ('PW-3-b', 'PW-3', 'Item', 'barcodes'); COMMIT;
    UPDATE tabItem SET docstatus = 1 WHERE name = 'PW-2';
    INSERT INTO \`tabItem Barcode\` (name, parent, parenttype, parentfield) VALUES ('PW-2-b', 'PW-2', 'Item', 'barcodes');
    START TRANSACTION; UPDATE \`tabItem Barcode\` SET idx = 3 WHERE name = 'PW-3-b'; DELETE FROM \`tabItem Barcode\` WHERE name = 'PW-3-b'; COMMIT"
t_is "$(pending)" "Item PW-3 after_insert,on_update,on_change at commit p-chg,p-ins,p-upd
Item PW-2 on_update_after_submit,on_change at commit p-chg,p-uas
Item PW-2 on_update_after_submit,on_change read now p-chg,p-uas
Item PW-3 on_update,on_change read now p-chg,p-upd
total 4 4 9" \
     "a transaction's changes of one document fold into one delivery per webhook; child rows alone are the parent's save, by its docstatus (submitted: on_update_after_submit)"
t_is "$(pending --limit 2 | tail -1)" "total 2 2 5" "--limit: the first transactions only"
t_is "$(pending --limit 0 2>&1)" "ERROR 22023: --limit must be a positive number of transactions" "--limit 0 refused"

# ---- the binary log: every write of the triggers is in it, readable (0.7.0's
# outbox, system-versioned by transaction, wrote events no replica could read)
t_is "$(mariadb --no-defaults --socket="$MDB_SOCK" -u root -N -B -e "SELECT @@log_bin, @@binlog_format")" "1	MIXED" "the server writes a binary log (MariaDB's default format)"
mariadb-binlog --no-defaults "$MD"/data/fi-bin.0* > "$MD/binlog.sql" 2> "$MD/binlog.err"
t_is "$? $(grep -c . "$MD/binlog.err") $(grep -c '^INSERT INTO .__fi_webhook_outbox' "$MD/binlog.sql")" "0 0 0" \
     "mariadb-binlog reads it all: no error, no trigger statement logged on its own"
t_like "$(grep -c 'Write_rows' "$MD/binlog.sql")" "^[1-9]" "... the outbox rows are in it as row events"

# ---- an outbox made by 0.7.0: upgraded in place, its rows' transactions kept apart
mdb_site _s2 pw-s2
mariadb --no-defaults --socket="$MDB_SOCK" -u root _s2 -e "CREATE TABLE __fi_webhook_outbox (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, doctype VARCHAR(140) NOT NULL, name VARCHAR(140) NOT NULL,
    old_name VARCHAR(140) NULL, op CHAR(1) CHARSET ascii NOT NULL, docstatus_old TINYINT NULL, docstatus_new TINYINT NULL,
    parent VARCHAR(140) NULL, parenttype VARCHAR(140) NULL, parentfield VARCHAR(140) NULL, modified DATETIME(6) NULL,
    connection_id BIGINT UNSIGNED NOT NULL,
    trx_id BIGINT UNSIGNED GENERATED ALWAYS AS ROW START INVISIBLE, trx_end BIGINT UNSIGNED GENERATED ALWAYS AS ROW END INVISIBLE,
    PERIOD FOR SYSTEM_TIME (trx_id, trx_end)) ENGINE=InnoDB WITH SYSTEM VERSIONING;
  SET sql_log_bin = 0;
  START TRANSACTION; INSERT INTO __fi_webhook_outbox (doctype, name, op, connection_id) VALUES ('Item', 'A', 'I', 7), ('Item', 'B', 'I', 7); COMMIT;
  INSERT INTO __fi_webhook_outbox (doctype, name, op, connection_id) VALUES ('Item', 'A', 'U', 7)"
"$FI_ROOT/bin/frappe-integrations" install --socket "$MDB_SOCK" --user root --plugin-dir "$MDB_PLUGIN" \
    --site _s2 --site-user _s2 --key-file "$MD/s1.key" >/dev/null
t_is "$(mariadb --no-defaults --socket="$MDB_SOCK" -u root -N -B _s2 -e "SELECT TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = '_s2' AND TABLE_NAME = '__fi_webhook_outbox';
        SELECT COUNT(*), COUNT(DISTINCT trx), MIN(trx LIKE 'v%') FROM __fi_webhook_outbox;
        SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '_s2' AND TABLE_NAME = '__fi_webhook_outbox' AND COLUMN_NAME LIKE 'trx\_%'" | tr '\n\t' '; ')" \
     "BASE TABLE;3 2 1;0;" "install --site upgrades 0.7.0's outbox: no versioning, its 3 rows kept, their 2 transactions apart in trx"

# ---- privileges and uninstall
t_like "$(mariadb --no-defaults --socket="$MDB_SOCK" -u root -N -B -e "CREATE USER other@localhost IDENTIFIED BY 'o'; GRANT SELECT ON _s1.* TO other@localhost" 2>&1; \
          mariadb --no-defaults --socket="$MDB_SOCK" -u other -po -D _s1 -N -B -e "CALL sync_webhooks()" 2>&1)" \
       "ERROR 1370|execute command denied" "a user without EXECUTE cannot call sync_webhooks"
n_ob=$(ms "SELECT COUNT(*) FROM __fi_webhook_outbox")
"$FI_ROOT/bin/frappe-integrations" uninstall --socket "$MDB_SOCK" --user root --site _s1 >/dev/null
t_is "$(trg)" "" "uninstall --site drops the capture triggers"
t_is "$(ms "SELECT COUNT(*) FROM __fi_webhook_outbox")" "$n_ob" "and keeps the outbox's rows (events not yet delivered are data)"
t_ok "writes after uninstall" ms "INSERT INTO tabItem (name, item_code) VALUES ('UN-1', 'UN-1')"
mdb_stop
t_done
