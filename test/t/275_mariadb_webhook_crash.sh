#!/usr/bin/env bash
# MariaDB, part 2 (issue 19, point 5): what the worker survives.  A primary
# with its binary log and a replica (a second mariadbd replicating from it,
# writable, so only its replication tells it apart); a worker per server.
#   - the worker killed with -9 while 10,000 events are in flight, and then
#     mariadbd killed with -9 while 10,000 more are: every committed event
#     delivered afterwards; a duplicate only with the same webhook-id and body
#   - the worker killed with -9 between the committed slices of one large
#     transaction's fold: its events queued once each, delivered
#   - the replica's worker sends nothing (stands by) while the primary's
#     delivers, and the replica's queue ends as the primary's
#   - a hanging receiver times out without holding up other deliveries
#   - a column dropped from a watched table while writes go on: no write
#     fails, every event delivered
source "$FI_ROOT/test/lib.sh"
source "$FI_ROOT/test/mariadb/server.sh"
source "$FI_ROOT/test/receiver.sh"
make -s -C "$FI_ROOT" mariadb >/dev/null
MD=$FI_TMP/mariadb_crash
rm -rf "$MD"
mkdir -p "$MD"
chmod 755 "$MD"
WPIDS=()
cleanup() {
    for p in "${WPIDS[@]}" ${RPID:-} ${WRITER:-}; do kill -KILL "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    [ -n "${R_PID:-}" ] && { MDB_PID=$R_PID; mdb_stop; }
    [ -n "${P_PID:-}" ] && { MDB_PID=$P_PID; mdb_stop; }
}
trap cleanup EXIT
FI="$FI_ROOT/bin/frappe-integrations"

# ---- the primary (binary log, GTIDs) and the replica
PP=$(free_port)
mdb_start "$MD/p" --port=$PP --server-id=1 --log-bin=fi-bin --log-bin-trust-function-creators=1
P_PID=$MDB_PID P_SOCK=$MDB_SOCK P_PLUGIN=$MDB_PLUGIN P_DIR=$MDB_DIR P_OPTS=("${MDB_OPTS[@]}")
mp() { mariadb --no-defaults --socket="$P_SOCK" -u root -N -B -r -e "$1"; }
mp "CREATE USER repl@'127.0.0.1' IDENTIFIED BY 'pw-repl'; GRANT REPLICATION SLAVE ON *.* TO repl@'127.0.0.1'"
# the replica loads the UDFs the primary's CREATE FUNCTION names from the same plugin folder
mdb_start "$MD/r" --server-id=2 --plugin-dir="$P_PLUGIN" --log-bin-trust-function-creators=1 --relay-log=fi-relay
R_PID=$MDB_PID R_SOCK=$MDB_SOCK
mr() { mariadb --no-defaults --socket="$R_SOCK" -u root -N -B -r -e "$1"; }
mr "CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = $PP, MASTER_USER = 'repl', MASTER_PASSWORD = 'pw-repl',
        MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1; START SLAVE"
caught_up() {	# the replica has applied all the primary has written
    local pos; pos=$(mp "SELECT @@gtid_binlog_pos")
    mr "SELECT MASTER_GTID_WAIT('$pos', 60)"
}
slave() {	# slave <field>...: those of SHOW SLAVE STATUS, space-separated
    local f out=() all; all=$(mariadb --no-defaults --socket="$R_SOCK" -u root -e "SHOW SLAVE STATUS\G")
    for f in "$@"; do out+=("$(printf '%s\n' "$all" | sed -n "s/^ *$f: //p")"); done
    echo "${out[*]}"
}
# back to the primary for mdb_site, mdb_run (restart after kill -9), mdb_stop
MDB_PID=$P_PID MDB_SOCK=$P_SOCK MDB_PLUGIN=$P_PLUGIN MDB_DIR=$P_DIR MDB_OPTS=("${P_OPTS[@]}")

"$FI" install --socket "$P_SOCK" --user root --plugin-dir "$P_PLUGIN" >/dev/null
mdb_site _c1 pw_c1
KEY=$("$FI_PY" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')
echo "$KEY" > "$MD/_c1.key"
"$FI" install --socket "$P_SOCK" --user root --plugin-dir "$P_PLUGIN" --site _c1 --site-user _c1 \
    --key-file "$MD/_c1.key" >/dev/null
for b in bp br; do
    mkdir -p "$MD/$b/sites/c1.localhost"
    printf '{"db_name": "_c1", "db_password": "pw_c1", "encryption_key": "%s"}\n' "$KEY" > "$MD/$b/sites/c1.localhost/site_config.json"
    chmod 600 "$MD/$b/sites/c1.localhost/site_config.json"
done
printf '{"db_socket": "%s"}\n' "$P_SOCK" > "$MD/bp/sites/common_site_config.json"
printf '{"db_socket": "%s"}\n' "$R_SOCK" > "$MD/br/sites/common_site_config.json"
m1() { mariadb --no-defaults --socket="$P_SOCK" -u _c1 -ppw_c1 -D _c1 -N -B -r -e "$1"; }
t_is "$(caught_up)" "0" "the replica caught up with the site's install"
t_is "$(mr "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '_c1' AND TABLE_NAME LIKE '\\_\\_fi\\_webhook\\_%'") $(slave Slave_SQL_Running)" \
     "2 Yes" "the replica has the site, its outbox and queue (replicated)"

# ---- the receiver: each request takes 20 ms, so 10,000 events stay in flight for seconds
PORT=$(free_port)
RLOG=$MD/received.jsonl
: > "$RLOG"
receiver_start "$PORT" "$RLOG" s3cr3t
U=http://127.0.0.1:$PORT
lines() { wc -l < "$RLOG"; }
worker() {	# worker <bench> <log>: a worker in the background
    "$FI" worker --bench "$1" --retry-base-ms 200 2> "$2" &
    WPIDS+=($!)
    WPID=$!
}
# delivered <prefix>: "<distinct documents> <requests> <bad>" of the requests
# to /hang/0.02/ for documents named <prefix>-...; bad counts a webhook-id seen with another body, a
# signature that does not verify, and a document under two webhook-ids
delivered() {
    "$FI_PY" - "$RLOG" "$1" <<'PY'
import json, sys
ids, docs, n, bad = {}, {}, 0, 0
for l in open(sys.argv[1]):
    r = json.loads(l)
    if not r["path"].startswith("/hang/0.02/"):
        continue
    wid, body = r["headers"].get("webhook-id"), r["body"]
    if not json.loads(body)["n"].startswith(sys.argv[2] + "-"):
        continue
    n += 1
    if ids.setdefault(wid, body) != body or r["sig_ok"] is not True:
        bad += 1
    doc = json.loads(body)["n"]
    if docs.setdefault(doc, wid) != wid:
        bad += 1
print(len(docs), n, bad)
PY
}
ndocs() { delivered "$1" | cut -d' ' -f1; }	# documents of prefix $1 delivered
all_of() { [ "$(ndocs "$1")" = "$2" ] && echo 1; }
some_of() { [ "$(ndocs "$1")" -ge "$2" ] && echo 1; }

m1 "INSERT INTO tabWebhook (name, webhook_doctype, webhook_docevent, request_url, request_structure, webhook_json, enable_security, enabled, timeout) VALUES
    ('n', 'Customer', 'on_update', '$U/hang/0.02/c', 'JSON', '{\"n\": \"{{ doc.name }}\"}', 1, 1, 2);
    CALL set_password('Webhook', 'n', 'webhook_secret', 's3cr3t')"
worker "$MD/bp" "$MD/wp.log"
WP=$WPID
t_ok "the primary's worker serves the site" wait_for 10 sh -c "grep -q 'serving it' '$MD/wp.log' && echo 1"
worker "$MD/br" "$MD/wr.log"
WR=$WPID
t_ok "the replica's worker stands by: the server replicates from a primary" \
     wait_for 10 sh -c "grep -q 'replicates from a primary: its primary.s worker serves it; standing by' '$MD/wr.log' && echo 1"
t_ok "the capture triggers made on the primary, replicated" wait_for 10 sh -c "[ \$(mariadb --no-defaults --socket='$R_SOCK' -u root -N -e \"SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '_c1' AND EVENT_OBJECT_TABLE = 'tabCustomer'\") -ge 1 ] && echo 1"

insert_10000() {	# insert_10000 <prefix>: 20 transactions of 500 new Customers
    local t
    for t in $(seq 0 19); do
        m1 "INSERT INTO tabCustomer (name, customer_name, modified) SELECT CONCAT('$1-', $t * 500 + seq), 'c', NOW(6) FROM seq_1_to_500"
    done
}

# ---- the worker killed with -9 while 10,000 events are in flight
insert_10000 A
t_is "$(m1 "SELECT COUNT(*) FROM tabCustomer WHERE name LIKE 'A-%'")" "10000" "10,000 Customers committed (20 transactions)"
wait_for 60 sh -c "[ \$(wc -l < '$RLOG') -ge 1000 ] && echo 1"
kill -KILL "$WP"; wait "$WP" 2>/dev/null
AT_KILL=$(lines)
t_ok "the worker killed with -9 after $AT_KILL of them (not all yet)" test "$AT_KILL" -ge 1000 -a "$AT_KILL" -lt 10000
echo "# queue at the kill: $(m1 "SELECT GROUP_CONCAT(CONCAT(status, ' ', n) SEPARATOR ', ') FROM (SELECT status, COUNT(*) n FROM __fi_webhook_queue GROUP BY status) s"), outbox $(m1 "SELECT COUNT(*) FROM __fi_webhook_outbox")"
worker "$MD/bp" "$MD/wp2.log"
WP=$WPID
t_ok "started again, every committed event delivered" wait_for 120 all_of A 10000
read -r DOCS REQS BAD <<< "$(delivered A)"
t_is "$DOCS $BAD" "10000 0" "... each document under one webhook-id; a duplicate only with the same webhook-id, body and a valid signature ($((REQS - DOCS)) sent twice)"
t_is "$(m1 "SELECT COUNT(*) FROM __fi_webhook_queue WHERE docname LIKE 'A-%' AND status = 'delivered'")" "10000" "... the queue: 10,000 delivered"

# ---- mariadbd killed with -9 while 10,000 events are in flight
insert_10000 B
BASE=$(lines)
wait_for 60 sh -c "[ \$(wc -l < '$RLOG') -ge $((BASE + 1000)) ] && echo 1"
kill -KILL "$P_PID"; wait "$P_PID" 2>/dev/null
AT_KILL=$(( $(lines) - BASE ))
t_ok "mariadbd killed with -9 after $AT_KILL of them (not all yet)" test "$AT_KILL" -ge 1000 -a "$AT_KILL" -lt 10000
sleep 1
mdb_run
P_PID=$MDB_PID
t_ok "mariadbd up again: the worker serves the site again" wait_for 30 sh -c "[ \$(grep -c 'serving it' '$MD/wp2.log') -ge 2 ] && echo 1"
t_ok "every committed event delivered" wait_for 120 all_of B 10000
read -r DOCS REQS BAD <<< "$(delivered B)"
t_is "$DOCS $BAD" "10000 0" "... each document under one webhook-id; a duplicate only with the same webhook-id, body and a valid signature ($((REQS - DOCS)) sent twice)"
t_like "$(grep -c 'WARNING' "$MD/wp2.log")" "^[1-9]" "... the worker said it lost the server"

# ---- the worker killed with -9 in the middle of folding one transaction of 3,000 events
# (committed in slices of 1,000): a row lock on the transaction's last outbox row, taken
# before the worker starts, holds the fold at its last statement (the outbox rows'
# DELETE), after two slices committed and with the third not; then -9, and a new worker
kill -TERM "$WP"; wait "$WP" 2>/dev/null
m1 "INSERT INTO tabCustomer (name, customer_name, modified) SELECT CONCAT('F-', seq), 'c', NOW(6) FROM seq_1_to_3000"
mariadb --no-defaults --socket="$P_SOCK" -u root -N -B -D _c1 -e "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED;
    START TRANSACTION; SELECT id FROM __fi_webhook_outbox ORDER BY id DESC LIMIT 1 FOR UPDATE; DO SLEEP(60)" > /dev/null 2>&1 &
HOLDER=$!
WRITER=$HOLDER
wait_for 10 sh -c "[ \$(mariadb --no-defaults --socket='$P_SOCK' -u root -N -e \"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'DO SLEEP(60)'\") = 1 ] && echo 1"
worker "$MD/bp" "$MD/wp3.log"
WP=$WPID
folded_held() {	# the worker waits on the lock at its DELETE
    [ "$(mp "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'DELETE FROM \`__fi_webhook_outbox\`%'")" = 1 ] && echo 1
}
t_ok "the fold of 3,000 events held at its last statement" wait_for 20 folded_held
t_is "$(m1 "SELECT COUNT(*) FROM __fi_webhook_queue WHERE docname LIKE 'F-%'") $(m1 "SELECT COUNT(*) FROM __fi_webhook_outbox")" \
     "2000 3000" "... two slices committed (2,000 events queued), the transaction's 3,000 outbox rows kept"
kill -KILL "$WP"; wait "$WP" 2>/dev/null
mp "KILL $(mp "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE 'DO SLEEP(60)'")"
wait "$HOLDER" 2>/dev/null; WRITER=
worker "$MD/bp" "$MD/wp4.log"
WP=$WPID
t_ok "a new worker: every event of the transaction delivered" wait_for 120 all_of F 3000
read -r DOCS REQS BAD <<< "$(delivered F)"
t_is "$DOCS $BAD" "3000 0" "... each document under one webhook-id ($((REQS - DOCS)) sent twice, with the same id and body)"
t_is "$(m1 "SELECT COUNT(*), COUNT(DISTINCT docname), SUM(status = 'delivered') FROM __fi_webhook_queue WHERE docname LIKE 'F-%'") $(m1 "SELECT COUNT(*) FROM __fi_webhook_outbox")" \
     "3000	3000	3000 0" "... queued once each (the slices committed before were not queued again), the outbox empty"
t_like "$(cat "$MD/wp4.log")" "2000 event\(s\) of a fold cut short were queued already" "... and the worker said so"

# ---- the replica: sent nothing, its queue as the primary's
t_is "$(caught_up)" "0" "the replica applied it all"
t_is "$(slave Slave_IO_Running Slave_SQL_Running Last_SQL_Errno Last_IO_Errno)" "Yes Yes 0 0" "... replication running, no error"
t_is "$(mr "SELECT COUNT(*) FROM _c1.__fi_webhook_queue WHERE status = 'delivered'")" \
     "$(m1 "SELECT COUNT(*) FROM __fi_webhook_queue WHERE status = 'delivered'")" "... its queue: the primary's deliveries"
t_is "$(grep -c 'serving it' "$MD/wr.log") $(grep -c 'standing by' "$MD/wr.log")" "0 1" "the replica's worker never served the site (and said once why)"
t_is "$(mr "SELECT COUNT(*) FROM _c1.__fi_webhook_queue WHERE status <> 'delivered'")" "0" "... nothing of its own in its queue"

# ---- a hanging receiver: the transfer times out, the others go on
m1 "INSERT INTO tabWebhook (name, webhook_doctype, webhook_docevent, request_url, request_structure, webhook_json, enabled, timeout) VALUES
    ('hang', 'Item', 'after_insert', '$U/hang/30', 'JSON', '{}', 1, 3)"
t_ok "the Item webhook's trigger made" wait_for 10 sh -c "[ \$(mariadb --no-defaults --socket='$P_SOCK' -u root -N -e \"SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '_c1' AND EVENT_OBJECT_TABLE = 'tabItem'\") -ge 1 ] && echo 1"
m1 "INSERT INTO tabItem (name, item_code, item_name) VALUES ('H-1', 'H-1', 'hangs')"
t_ok "the hanging request sent" wait_for 10 sh -c "grep -q '\"/hang/30\"' '$RLOG' && echo 1"
m1 "INSERT INTO tabCustomer (name, customer_name) VALUES ('C-1', 'meanwhile')"
t_ok "a Customer meanwhile delivered within 2 s (the hanging request holds up nothing)" wait_for 2 all_of C 1
t_ok "the hanging request timed out after 3 s: pending again, its attempt counted" \
     wait_for 10 m1 "SELECT attempts >= 1 AND status IN ('pending', 'sending') AND last_error LIKE '%imeout%' FROM __fi_webhook_queue WHERE webhook = 'hang'"
echo "# the hanging one: $(m1 "SELECT CONCAT_WS(' | ', status, attempts, last_status, last_error) FROM __fi_webhook_queue WHERE webhook = 'hang'")"

# ---- a column dropped from a watched table while writes go on
m1 "UPDATE tabWebhook SET enabled = 0, modified = NOW(6) WHERE name = 'hang';
    INSERT INTO tabWebhook (name, webhook_doctype, webhook_docevent, request_url, request_structure, webhook_json, enable_security, enabled, timeout) VALUES
    ('desc', 'Item', 'after_insert', '$U/hang/0.02/d', 'JSON', '{\"n\": \"{{ doc.name }}\", \"d\": \"{{ doc.description or \"\" }}\"}', 1, 1, 5);
    CALL set_password('Webhook', 'desc', 'webhook_secret', 's3cr3t')"
# the worker reads tabWebhook once a second: probe Items tell when it has
probe() {
    local k
    for k in $(seq 20); do
        m1 "INSERT INTO tabItem (name, item_code, item_name) VALUES ('P-$k', 'P-$k', 'probe')"
        # (at least one: on a busy machine two probes may arrive together)
        wait_for 1 some_of P 1 >/dev/null && { echo 1; return; }
    done
}
t_is "$(probe)" "1" "the new webhook in use"
m1 "INSERT INTO tabItem (name, item_code, item_name, description) VALUES ('D-0', 'D-0', 'x', 'before')"
for i in $(seq 300); do
    echo "INSERT INTO tabItem (name, item_code, item_name) VALUES ('D-$i', 'D-$i', 'x'); DO SLEEP(0.01);"
done > "$MD/writes.sql"
mariadb --no-defaults --socket="$P_SOCK" -u _c1 -ppw_c1 -D _c1 --force < "$MD/writes.sql" > "$MD/writer.out" 2> "$MD/writer.err" &
WRITER=$!
wait_for 20 sh -c "[ \$(mariadb --no-defaults --socket='$P_SOCK' -u root -N -e \"SELECT COUNT(*) FROM _c1.tabItem WHERE name LIKE 'D-%'\") -ge 100 ] && echo 1"
mp "ALTER TABLE _c1.tabItem DROP COLUMN description"
wait "$WRITER"; WRITER=
t_is "$(cat "$MD/writer.err") $(m1 "SELECT COUNT(*) FROM tabItem WHERE name LIKE 'D-%'")" " 301" "the column dropped after 100 or more of 300 writes: none failed"
t_ok "every insert delivered" wait_for 60 all_of D 301
read -r DOCS REQS BAD <<< "$(delivered D)"
t_is "$DOCS $BAD" "301 0" "... once per document, signed"
rec_d() {	# rec_d <name>: the body sent for that Item, as a dict
    "$FI_PY" -c 'import json,sys
print([b for b in (json.loads(json.loads(l)["body"] or "{}") for l in open(sys.argv[1]) if "/hang/0.02/d" in l) if b["n"] == sys.argv[2]][-1])' "$RLOG" "$1"
}
t_is "$(rec_d D-300)" "{'n': 'D-300', 'd': ''}" "... the dropped field renders empty afterwards"
t_is "$(rec_d D-0)" "{'n': 'D-0', 'd': 'before'}" "... and rendered before the drop"
t_is "$(grep -c 'ERROR' "$MD/wr.log")" "0" "the replica's worker logged no error"
kill -TERM "$WP" "$WR"
t_done
