#!/usr/bin/env bash
# MariaDB, part 2 (issue 19, point 2): frappe-integrations worker delivers the
# webhooks of every site of a bench: the outbox folded into Frappe's events,
# queued, signed, sent to test/receiver.py on 127.0.0.1, retried as on
# PostgreSQL, logged in tabWebhook Request Log; one worker per site (a lease);
# SIGHUP and SIGTERM.
source "$FI_ROOT/test/lib.sh"
source "$FI_ROOT/test/mariadb/server.sh"
source "$FI_ROOT/test/receiver.sh"
make -s -C "$FI_ROOT" mariadb >/dev/null
MD=$FI_TMP/mariadb_worker
rm -rf "$MD"
mkdir -p "$MD"
WPIDS=()
cleanup() {
    for p in "${WPIDS[@]}" ${RPID:-} ${RPID2:-}; do kill -KILL "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    mdb_stop
}
trap cleanup EXIT
mdb_start "$MD"
FI="$FI_ROOT/bin/frappe-integrations"
"$FI" install --socket "$MDB_SOCK" --user root --plugin-dir "$MDB_PLUGIN" >/dev/null
BENCH=$MD/bench
key() { "$FI_PY" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'; }
add_site() {	# add_site <db> <folder>: a Frappe site with capture installed, in the bench
    mdb_site "$1" "pw$1"
    mkdir -p "$BENCH/sites/$2"
    local k; k=$(key)
    echo "$k" > "$MD/$1.key"
    "$FI" install --socket "$MDB_SOCK" --user root --plugin-dir "$MDB_PLUGIN" --site "$1" --site-user "$1" \
        --key-file "$MD/$1.key" >/dev/null
    printf '{"db_name": "%s", "db_password": "pw%s", "encryption_key": "%s"}\n' "$1" "$1" "$k" > "$BENCH/sites/$2/site_config.json"
    chmod 600 "$BENCH/sites/$2/site_config.json"
}
mkdir -p "$BENCH/sites"
printf '{"db_socket": "%s"}\n' "$MDB_SOCK" > "$BENCH/sites/common_site_config.json"
add_site _w1 one.localhost
add_site _w2 two.localhost
m1() { mariadb --no-defaults --socket="$MDB_SOCK" -u _w1 -ppw_w1 -D _w1 -N -B -r -e "$1"; }
m2() { mariadb --no-defaults --socket="$MDB_SOCK" -u _w2 -ppw_w2 -D _w2 -N -B -r -e "$1"; }

PORT=$(free_port)
DOWN_PORT=$(free_port)
RLOG=$MD/received.jsonl
: > "$RLOG"
receiver_start "$PORT" "$RLOG" s3cr3t
U=http://127.0.0.1:$PORT
received() {	# received <path prefix>: how many requests the receiver got there
    "$FI_PY" -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["path"].startswith(sys.argv[2])))' "$RLOG" "$1"
}
rec() {	# rec <path prefix> <python expr over r>: that of the last request there
    "$FI_PY" -c 'import json,sys
rs=[json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["path"].startswith(sys.argv[2])]
r=rs[-1] if rs else None
print(eval(sys.argv[3]))' "$RLOG" "$1" "$2"
}
term_ms() {	# term_ms <pid>: SIGTERM to a worker; the milliseconds until it was gone (3 s at most)
    local t0 _
    t0=$(date +%s%N)
    kill -TERM "$1"
    for _ in $(seq 150); do kill -0 "$1" 2>/dev/null || break; sleep 0.02; done
    echo $(( ($(date +%s%N) - t0) / 1000000 ))
}
mdl_waits() {	# mdl_waits '> 0': 1 if so many statements of _w3's user wait for a metadata lock
    mdb "SELECT COUNT(*) $1 FROM information_schema.PROCESSLIST WHERE USER = '_w3' AND STATE LIKE 'Waiting for%metadata lock'"
}
worker() {	# worker <log> [options]: a worker of the bench in the background
    local log=$1; shift
    "$FI" worker --bench "$BENCH" --retry-base-ms 200 "$@" 2> "$log" &
    WPIDS+=($!)
    WPID=$!
}

# ---- the webhooks, as Frappe stores them (the secret in __Auth)
m1 "INSERT INTO tabWebhook (name, webhook_doctype, webhook_docevent, request_url, request_structure, webhook_json, enable_security, enabled, timeout) VALUES
    ('signed', 'Customer', 'after_insert', '$U/ok/signed', 'JSON', '{\"name\": \"{{ doc.name }}\", \"cn\": \"{{ doc.customer_name }}\", \"ev\": \"{{ event }}\"}', 1, 1, 5),
    ('upd', 'Customer', 'on_update', '$U/ok/upd/{{ doc.name }}', 'JSON', '{\"name\": \"{{ doc.name }}\", \"cn\": \"{{ doc.customer_name }}\"}', 0, 1, 5),
    ('cond', 'Customer', 'on_update', '$U/ok/cond', 'JSON', '{}', 0, 1, 5),
    ('trash', 'Customer', 'on_trash', '$U/ok/trash', 'JSON', '{\"name\": \"{{ doc.name }}\", \"cn\": \"{{ doc.customer_name }}\", \"dt\": \"{{ doc.doctype }}\"}', 0, 1, 5);
    UPDATE tabWebhook SET is_dynamic_url = 1 WHERE name = 'upd';
    UPDATE tabWebhook SET \`condition\` = 'doc.customer_name == \"VIP\"' WHERE name = 'cond';
    CALL set_password('Webhook', 'signed', 'webhook_secret', 's3cr3t')"
m2 "INSERT INTO tabWebhook (name, webhook_doctype, webhook_docevent, request_url, request_structure, webhook_json, enable_security, enabled, timeout) VALUES
    ('two', 'Customer', 'after_insert', '$U/ok/two', 'JSON', '{\"name\": \"{{ doc.name }}\"}', 0, 1, 5)"

worker "$MD/w1.log"
W1=$WPID
t_ok "the worker serves both sites of the bench" wait_for 10 sh -c "grep -c 'serving it' '$MD/w1.log' | grep -qx 2 && echo 1"
t_ok "and attached the capture triggers (sync_webhooks)" wait_for 10 sh -c "[ \$(mariadb --no-defaults --socket='$MDB_SOCK' -u root -N -e \"SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '_w1' AND EVENT_OBJECT_TABLE = 'tabCustomer'\") = 3 ] && echo 1"

# ---- an insert: after_insert (signed) and on_update (dynamic URL)
m1 "INSERT INTO tabCustomer (name, customer_name, docstatus, modified, modified_by) VALUES ('CUST-1', 'Alice', 0, NOW(6), 'alice@example.com')"
t_ok "after_insert and on_update delivered" wait_for 10 sh -c "[ \$(\"\$0\" -c 'import json,sys; print(sum(1 for l in open(sys.argv[1])))' '$RLOG') -ge 2 ] && echo 1" "$FI_PY"
sleep 0.3
t_is "$(received /ok/signed) $(received /ok/upd/CUST-1) $(received /ok/cond)" "1 1 0" "once each; the condition false: not sent"
t_is "$(rec /ok/signed 'r["body"]')" '{"name": "CUST-1", "cn": "Alice", "ev": "after_insert"}' "the body: the template rendered with the document and the event"
t_is "$(rec /ok/signed 'r["sig_ok"]')" "True" "X-Frappe-Webhook-Signature: base64 HMAC-SHA256 of the body with the secret from __Auth"
t_is "$(rec /ok/upd/CUST-1 'r["sig_ok"]')" "None" "a webhook without enable_security: unsigned"
EID=$(m1 "SELECT event_id FROM __fi_webhook_queue WHERE webhook = 'signed'")
t_is "$(rec /ok/signed 'r["headers"]["webhook-id"]')" "msg_$EID" "webhook-id: msg_ and the queue row's event_id"
t_is "$(m1 "SELECT CONCAT_WS(' ', status, attempts, last_status, event) FROM __fi_webhook_queue WHERE webhook = 'signed'")" "delivered 1 200 after_insert" \
     "the queue row: delivered at the first attempt, HTTP 200"
t_is "$(m1 "SELECT CONCAT_WS(' | ', webhook, reference_document, url, \`user\`, error, LEFT(response, 2)) FROM \`tabWebhook Request Log\` WHERE webhook = 'signed'")" \
     "signed | CUST-1 | $U/ok/signed | alice@example.com |  | ok" "a tabWebhook Request Log row: webhook, document, URL, the document's modified_by, the response"
t_like "$(m1 "SELECT headers FROM \`tabWebhook Request Log\` WHERE webhook = 'signed'")" '"X-Frappe-Webhook-Signature": "\*\*\*\*\*\*\*\*"' \
     "the logged headers mask the signature"
t_ok "the outbox is empty afterwards" wait_for 5 m1 "SELECT COUNT(*) = 0 FROM __fi_webhook_outbox"

# ---- the condition, a child-row-less update, rollback and savepoint rollback
m1 "UPDATE tabCustomer SET customer_name = 'VIP', modified = NOW(6) WHERE name = 'CUST-1'"
t_ok "an update: on_update with the condition now true" wait_for 10 sh -c "[ \$(\"\$0\" -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if \"/ok/cond\" in l))' '$RLOG') = 1 ] && echo 1" "$FI_PY"
m1 "START TRANSACTION; INSERT INTO tabCustomer (name, customer_name) VALUES ('RB-1', 'x'); ROLLBACK;
    START TRANSACTION; INSERT INTO tabCustomer (name, customer_name) VALUES ('SP-1', 'kept'); SAVEPOINT a;
    INSERT INTO tabCustomer (name, customer_name) VALUES ('SP-2', 'gone'); ROLLBACK TO SAVEPOINT a; COMMIT"
t_ok "the kept insert delivered" wait_for 10 sh -c "[ \$(\"\$0\" -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if \"SP-1\" in l))' '$RLOG') -ge 2 ] && echo 1" "$FI_PY"
sleep 0.3
t_is "$(received /ok/upd/RB-1) $(received /ok/upd/SP-2) $(received /ok/upd/SP-1)" "0 0 1" "ROLLBACK and ROLLBACK TO SAVEPOINT: nothing sent for what was undone"

# ---- REPLACE and ON DUPLICATE KEY UPDATE; one transaction, many changes: once per document and event
: > "$MD/n0"
m1 "START TRANSACTION; UPDATE tabCustomer SET customer_name = 'A1' WHERE name = 'CUST-1'; UPDATE tabCustomer SET customer_name = 'A2' WHERE name = 'CUST-1'; COMMIT"
t_ok "two updates in one transaction" wait_for 10 sh -c "[ \$(\"\$0\" -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if \"A2\" in l))' '$RLOG') = 1 ] && echo 1" "$FI_PY"
sleep 0.3
t_is "$(received /ok/upd/CUST-1)" "3" "... deliver on_update once, with the state at commit (A2)"
m1 "INSERT INTO tabCustomer (name, customer_name) VALUES ('CUST-1', 'x') ON DUPLICATE KEY UPDATE customer_name = 'Upserted'"
t_ok "ON DUPLICATE KEY UPDATE: an update" wait_for 10 sh -c "[ \$(\"\$0\" -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if \"Upserted\" in l))' '$RLOG') = 1 ] && echo 1" "$FI_PY"
m1 "REPLACE INTO tabCustomer (name, customer_name) VALUES ('SP-1', 'Replaced')"
t_ok "REPLACE: delete + insert in one transaction" wait_for 10 sh -c "[ \$(\"\$0\" -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if \"Replaced\" in l))' '$RLOG') -ge 2 ] && echo 1" "$FI_PY"
sleep 0.3
t_is "$(received /ok/signed/) $(rec /ok/upd/SP-1 'r["body"]') $(rec /ok/trash 'r["body"]')" \
     '0 {"name": "SP-1", "cn": "Replaced"} {"name": "SP-1", "cn": "kept", "dt": "Customer"}' \
     "... after_insert and on_update with the new row, on_trash with the row it replaced"

# ---- on_trash: the document as it was
m1 "DELETE FROM tabCustomer WHERE name = 'SP-1'"
t_ok "a delete: on_trash" wait_for 10 sh -c "[ \$(\"\$0\" -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if \"/ok/trash\" in l))' '$RLOG') = 2 ] && echo 1" "$FI_PY"
t_is "$(rec /ok/trash 'r["body"]')" '{"name": "SP-1", "cn": "Replaced", "dt": "Customer"}' "on_trash renders the deleted row as it was"

# ---- the second site, by the same worker
T0=$(date +%s%N)
m2 "INSERT INTO tabCustomer (name, customer_name) VALUES ('TWO-1', 'Bob')"
echo "# insert took $(( ($(date +%s%N) - T0) / 1000000 )) ms"
t_ok "the other site's webhook, by the same worker" wait_for 10 sh -c "[ \$(\"\$0\" -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if \"/ok/two\" in l))' '$RLOG') = 1 ] && echo 1" "$FI_PY"
t_is "$(m2 "SELECT COUNT(*) FROM \`tabWebhook Request Log\`") $(m1 "SELECT COUNT(*) FROM \`tabWebhook Request Log\` WHERE webhook = 'two'")" "1 0" "logged in its own site"

# ---- what the receiver answers: 410 fails at once, 429 waits for Retry-After, a receiver down then up
m1 "INSERT INTO tabWebhook (name, webhook_doctype, webhook_docevent, request_url, request_structure, webhook_json, enable_security, enabled, timeout) VALUES
    ('gone', 'Item', 'after_insert', '$U/status/410', 'JSON', '{}', 0, 1, 5),
    ('limited', 'Item', 'after_insert', '$U/retry-after/1', 'JSON', '{}', 0, 1, 5),
    ('later', 'Item', 'after_insert', 'http://127.0.0.1:$DOWN_PORT/ok/later', 'JSON', '{}', 0, 1, 5),
    ('std', 'Item', 'after_insert', '$U/ok/std', 'JSON', '{\"n\": \"{{ doc.name }}\"}', 1, 1, 5);
    CALL set_password('Webhook', 'std', 'webhook_secret', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')"
t_ok "the new webhooks' triggers (the worker saw tabWebhook change)" wait_for 10 sh -c "[ \$(mariadb --no-defaults --socket='$MDB_SOCK' -u root -N -e \"SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '_w1' AND EVENT_OBJECT_TABLE = 'tabItem'\") = 3 ] && echo 1"
m1 "INSERT INTO tabItem (name, item_code, item_name) VALUES ('IT-1', 'IT-1', 'One')"
t_ok "410: failed at once" wait_for 10 m1 "SELECT status = 'failed' AND attempts = 1 AND last_status = 410 FROM __fi_webhook_queue WHERE webhook = 'gone'"
t_ok "429 with Retry-After: 1: tried again about a second later" wait_for 10 m1 "SELECT attempts >= 2 FROM __fi_webhook_queue WHERE webhook = 'limited'"
t_is "$("$FI_PY" -c 'import json,sys
ts=[json.loads(l)["t"] for l in open(sys.argv[1]) if "/retry-after/" in l]
print(len(ts) >= 2 and 0.8 <= ts[1] - ts[0] <= 2.5)' "$RLOG")" "True" "... the second attempt 0.8-2.5 s after the first"
t_ok "a receiver down: retried (pending, attempts counted)" wait_for 10 m1 "SELECT status = 'pending' AND attempts >= 2 AND last_status IS NULL FROM __fi_webhook_queue WHERE webhook = 'later'"
t_like "$(m1 "SELECT last_error FROM __fi_webhook_queue WHERE webhook = 'later'")" "onnect" "... with the transport's error"
R1=$RPID
receiver_start "$DOWN_PORT" "$MD/later.jsonl"
RPID2=$RPID RPID=$R1
t_ok "... then up: delivered" wait_for 15 m1 "SELECT status = 'delivered' FROM __fi_webhook_queue WHERE webhook = 'later'"
t_is "$(m1 "SELECT COUNT(*) FROM \`tabWebhook Request Log\` WHERE webhook = 'later'") $(m1 "SELECT attempts FROM __fi_webhook_queue WHERE webhook = 'later'")" \
     "$(m1 "SELECT attempts FROM __fi_webhook_queue WHERE webhook = 'later'") $(m1 "SELECT attempts FROM __fi_webhook_queue WHERE webhook = 'later'")" \
     "a log row per attempt"
t_ok "a whsec_ secret: Standard Webhooks' signature" wait_for 10 m1 "SELECT status = 'delivered' FROM __fi_webhook_queue WHERE webhook = 'std'"
t_is "$(rec /ok/std 'r["headers"]["webhook-signature"] == "v1," + __import__("base64").b64encode(__import__("hmac").new(__import__("base64").b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), (r["headers"]["webhook-id"] + "." + r["headers"]["webhook-timestamp"] + "." + r["body"]).encode(), "sha256").digest()).decode()')" \
     "True" "webhook-signature: v1, base64 HMAC of id.timestamp.body with the whsec_ key"


# ---- the SQL surface: webhook_status, retry_webhook_events
t_is "$(m1 "SELECT CONCAT_WS(' ', webhook, usable, pending, failed, last_status_ok) FROM (SELECT webhook, usable, pending, failed, last_success IS NOT NULL AS last_status_ok FROM webhook_status WHERE webhook IN ('gone', 'signed', 'later')) s ORDER BY webhook" | tr '\n' ';')" \
     "gone 1 0 1 0;later 1 0 0 1;signed 1 0 0 1;" "webhook_status: per webhook its pending, failed and last success"
t_is "$(m1 "SELECT last_error FROM webhook_status WHERE webhook = 'gone'")" "HTTP 410" "... and its last error"
m1 "INSERT INTO tabWebhook (name, webhook_doctype, webhook_docevent, request_url, enabled) VALUES ('bad-url', 'Item', 'on_update', 'ftp://x/y', 0), ('bad-dt', 'Nothing', 'on_update', 'http://x/', 0)"
t_is "$(m1 "SELECT CONCAT_WS(' | ', webhook, usable, problem) FROM webhook_status WHERE webhook LIKE 'bad-%' ORDER BY webhook" | tr '\n' ';')" \
     'bad-dt | 0 | DocType "Nothing" has no table;bad-url | 0 | request_url is not an http(s) URL with a host;' "... and why a webhook cannot be used"
m1 "UPDATE tabWebhook SET request_url = '$U/ok/gone-now' WHERE name = 'gone'"
t_is "$(m1 "SELECT retry_webhook_events('gone', NULL)")" "1" "retry_webhook_events: the failed event due again"
# settled before the first worker is killed below (else the kill may catch it in flight and its lease holds it)
t_ok "the retried event sent again (to the URL it was queued with)" \
     wait_for 10 sh -c "[ \$(\"\$0\" -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if \"/status/410\" in l))' '$RLOG') = 2 ] && echo 1" "$FI_PY"
t_ok "... failed again (410), one attempt" wait_for 5 m1 "SELECT status = 'failed' AND attempts = 1 FROM __fi_webhook_queue WHERE webhook = 'gone'"
# ---- a second worker for the same bench stands by; kill -9 the first: the second takes over
worker "$MD/w2.log"
W2=$WPID
t_ok "a second worker stands by for both sites" wait_for 10 sh -c "grep -c 'standing by' '$MD/w2.log' | grep -qx 2 && echo 1"
n0=$(received /ok/upd/)
for k in $(seq 20); do echo "INSERT INTO tabCustomer (name, customer_name) VALUES ('K-$k', 'k');"; done \
    | mariadb --no-defaults --socket="$MDB_SOCK" -u _w1 -ppw_w1 -D _w1
kill -KILL "$W1"; wait "$W1" 2>/dev/null || true
t_ok "the second worker serves the sites once the first is gone" wait_for 10 sh -c "grep -c 'serving it' '$MD/w2.log' | grep -qx 2 && echo 1"
for k in $(seq 21 40); do echo "INSERT INTO tabCustomer (name, customer_name) VALUES ('K-$k', 'k');"; done \
    | mariadb --no-defaults --socket="$MDB_SOCK" -u _w1 -ppw_w1 -D _w1
t_ok "every committed insert delivered (40 on_update)" wait_for 20 sh -c "[ \$(\"\$0\" -c 'import json,sys; print(len({json.loads(l)[\"path\"] for l in open(sys.argv[1]) if \"/ok/upd/K-\" in l}))' '$RLOG') = 40 ] && echo 1" "$FI_PY"
t_is "$("$FI_PY" -c 'import json,sys,collections
c=collections.defaultdict(set)
for l in open(sys.argv[1]):
    r=json.loads(l)
    if "/ok/upd/K-" in r["path"]: c[r["path"]].add((r["headers"]["webhook-id"], r["body"]))
print(all(len(v) == 1 for v in c.values()))' "$RLOG")" "True" "a document sent twice (the kill) only with the same webhook-id and body"

# ---- SIGHUP: a site added to the bench; SIGTERM: stopped within a second
add_site _w3 three.localhost
m3() { mariadb --no-defaults --socket="$MDB_SOCK" -u _w3 -ppw_w3 -D _w3 -N -B -r -e "$1"; }
m3 "INSERT INTO tabWebhook (name, webhook_doctype, webhook_docevent, request_url, request_structure, webhook_json, enabled) VALUES
    ('three', 'Customer', 'after_insert', '$U/ok/three', 'JSON', '{}', 1)"
kill -HUP "$W2"
t_ok "SIGHUP: the new site served" wait_for 10 sh -c "grep -q 'site three.localhost: serving it' '$MD/w2.log' && echo 1"
# (the site's own queue triggers are there from the start: only tabCustomer's insert trigger tells)
t_ok "... its triggers attached" wait_for 10 sh -c "[ \$(mariadb --no-defaults --socket='$MDB_SOCK' -u root -N -e \"SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '_w3' AND EVENT_OBJECT_TABLE = 'tabCustomer' AND EVENT_MANIPULATION = 'INSERT'\") = 1 ] && echo 1"
m3 "INSERT INTO tabCustomer (name, customer_name) VALUES ('THREE-1', 'c')"
t_ok "... and its events delivered" wait_for 10 sh -c "[ \$(\"\$0\" -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if \"/ok/three\" in l))' '$RLOG') = 1 ] && echo 1" "$FI_PY"
MS=$(term_ms "$W2")
t_ok "SIGTERM: stopped within a second ($MS ms)" test "$MS" -lt 1000
t_like "$(tail -1 "$MD/w2.log")" "^LOG: worker stopped" "and said so on stderr"

# ---- claimed ahead longer than a lease: a receiver taking 0.5 s, one transfer at a time,
# 16 events claimed at once, a lease of 6 s (timeout 1 s + 5 s): the last ones wait past
# their lease, and the worker does not take its own events back from itself
m3 "UPDATE tabWebhook SET enabled = 0 WHERE name = 'three';
    INSERT INTO tabWebhook (name, webhook_doctype, webhook_docevent, request_url, request_structure, webhook_json, enabled, timeout) VALUES
    ('slow', 'Customer', 'after_insert', '$U/hang/0.5/lease', 'JSON', '{\"n\": \"{{ doc.name }}\"}', 1, 1)"
worker "$MD/w3.log" --concurrency 1
W3=$WPID
t_ok "a worker with --concurrency 1 serves the sites" wait_for 10 sh -c "grep -q 'site three.localhost: serving it' '$MD/w3.log' && echo 1"
m3 "INSERT INTO tabCustomer (name, customer_name) SELECT CONCAT('L-', seq), 'c' FROM seq_1_to_16"
t_ok "16 events sent one at a time" wait_for 30 sh -c "[ \$(\"\$0\" -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if \"/hang/0.5/lease\" in l))' '$RLOG') -ge 16 ] && echo 1" "$FI_PY"
sleep 1.5
t_is "$("$FI_PY" -c 'import json,sys
rs=[json.loads(l) for l in open(sys.argv[1]) if "/hang/0.5/lease" in l]
print(len(rs), len({r["headers"]["webhook-id"] for r in rs}), rs[-1]["t"] - rs[0]["t"] > 6.5)' "$RLOG")" "16 16 True" \
     "... each once, the last more than 6.5 s after the first (past its lease): none taken back and sent twice"
t_is "$(m3 "SELECT CONCAT(COUNT(*), ' ', SUM(status = 'delivered' AND attempts = 1)) FROM __fi_webhook_queue WHERE webhook = 'slow'")" "16 16" \
     "... the queue: 16 delivered at their first attempt"
kill -TERM "$W3"; wait "$W3" 2>/dev/null

# ---- SIGTERM while a statement waits: sync_webhooks behind a transaction that read tabItem
# (its CREATE TRIGGER waits up to 1 s a try): cut short, the worker gone within a second
worker "$MD/w4.log"
W4=$WPID
t_ok "a fourth worker serves the sites" wait_for 10 sh -c "grep -c 'serving it' '$MD/w4.log' | grep -qx 3 && echo 1"
mariadb --no-defaults --socket="$MDB_SOCK" -u _w3 -ppw_w3 -D _w3 -N -e "START TRANSACTION; SELECT COUNT(*) FROM tabItem; SELECT SLEEP(15); COMMIT" > /dev/null 2>&1 &
HOLD=$!
m3 "INSERT INTO tabWebhook (name, webhook_doctype, webhook_docevent, request_url, request_structure, webhook_json, enabled) VALUES
    ('held', 'Item', 'on_update', '$U/ok/held', 'JSON', '{}', 1)"
t_ok "sync_webhooks waits for tabItem's metadata lock" wait_for 10 mdl_waits '> 0'
MS=$(term_ms "$W4")
t_ok "SIGTERM during it: stopped within a second ($MS ms)" test "$MS" -lt 1000
t_like "$(cat "$MD/w4.log")" "^LOG: site three.localhost: stopping: the statement in progress cut short \(" \
       "... the statement cut short, said as a LOG line"
t_is "$(grep -c '^ERROR' "$MD/w4.log") $(tail -1 "$MD/w4.log" | cut -c1-28)" "0 LOG: worker stopped (signal)" "... no ERROR line; then stopped as ever"
# (the server sees the closed connection once the lock wait, a second at most, ends)
t_ok "... and the server ends the statement within its lock wait" \
     wait_for 5 mdl_waits '= 0'
kill "$HOLD" 2>/dev/null; wait "$HOLD" 2>/dev/null
t_is "$(grep -c -i -e s3cr3t -e MfKQ9r8 -e "$(cat "$MD/_w1.key")" "$MD/w1.log" "$MD/w2.log" "$MD/w3.log" "$MD/w4.log" | tr '\n' ' ')" "$MD/w1.log:0 $MD/w2.log:0 $MD/w3.log:0 $MD/w4.log:0 " \
     "no secret and no key in the worker's log"

t_done
