#!/usr/bin/env bash
# Webhooks delivered by the background worker to a real receiver on
# 127.0.0.1 (test/receiver.py), configured as a Frappe user would (rows in
# tabWebhook), fired by plain SQL.  The receiver checks the Frappe signature
# as receivers are told to (base64 HMAC-SHA256 of the raw body,
# hmac.compare_digest); Standard Webhooks signatures are checked with the npm
# standardwebhooks library.  Every wait is a bounded loop.
source "$FI_ROOT/test/lib.sh"
DB=fi_webhooks
DB2=fi_webhooks2
KEY='cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4='
W=$FI_TMP/webhooks
mkdir -p "$W"
chmod 777 "$W"

free_port() { "$FI_PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
DOWN_PORT=$(free_port)
LOG=$W/received.jsonl
: > "$LOG"
"$FI_PY" "$FI_ROOT/test/receiver.py" "$PORT" "$LOG" s3cr3t > "$W/receiver.out" 2>&1 &
RCV=$!
RCV2=""
trap 'kill $RCV $RCV2 2>/dev/null' EXIT
for _ in $(seq 50); do grep -q listening "$W/receiver.out" 2>/dev/null && break; sleep 0.1; done

# delivery on, fast retries, the site key for secrets
"$FI_PGBIN/psql" -X -q -d postgres -c "ALTER SYSTEM SET frappe_integrations.deliver = on" \
    -c "ALTER SYSTEM SET frappe_integrations.retry_base = '200ms'" \
    -c "ALTER SYSTEM SET frappe_integrations.max_attempts = 4" \
    -c "ALTER SYSTEM SET frappe_integrations.encryption_key = '$KEY'" \
    -c "SELECT pg_reload_conf()" >/dev/null
newdb $DB
newdb $DB2

# wait_for <seconds> <sql returning t>: poll until true
wait_for() {
    local i
    for i in $(seq $(($1 * 10))); do
        [ "$(q "$3" "$2" 2>/dev/null)" = "t" ] && return 0
        sleep 0.1
    done
    return 1
}
received() { grep -c "\"path\": \"$1\"" "$LOG" || true; }
rec_field() {	# rec_field <path> <python expr over r>: of the last request to path
    "$FI_PY" - "$LOG" "$1" "$2" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
rows = [r for r in rows if r["path"] == sys.argv[2]]
r = rows[-1] if rows else None
print(eval(sys.argv[3]) if r else "NONE")
PY
}

hook() {	# hook <db> <name> <event> <path> <method> [enable_security]
    q "$1" "INSERT INTO \"tabWebhook\" (name, webhook_doctype, webhook_docevent, request_url,
            request_method, request_structure, webhook_json, enabled, enable_security, timeout)
            VALUES ('$2', 'Sales Invoice', '$3', 'http://127.0.0.1:$PORT$4', '$5', 'JSON',
            '{\"name\": \"{{ doc.name }}\", \"total\": {{ doc.grand_total }}, \"customer\": \"{{ doc.customer }}\", \"items\": {{ doc.items | tojson }}, \"event\": \"{{ event }}\"}',
            1, ${6:-0}, 2)" >/dev/null
}

# 1. a signed webhook fired by a plain UPDATE ... docstatus = 1
hook $DB signed on_submit /signed POST 1
q $DB "SELECT integrations.set_password('Webhook', 'signed', 'webhook_secret', 's3cr3t')" >/dev/null
q $DB "INSERT INTO \"tabSales Invoice\" (name, customer, grand_total, docstatus) VALUES ('SINV-0001', 'Café Ünïcode', 1180, 0)"
q $DB "INSERT INTO \"tabSales Invoice Item\" (name, parent, parenttype, parentfield, idx, item_code, qty, rate) VALUES ('r1', 'SINV-0001', 'Sales Invoice', 'items', 1, 'X', 2, 590)"
T0=$("$FI_PY" -c 'import time; print(time.time())')
q $DB "UPDATE \"tabSales Invoice\" SET docstatus = 1 WHERE name = 'SINV-0001'"
wait_for 10 "SELECT count(*) = 1 FROM integrations.webhook_queue WHERE webhook = 'signed' AND status = 'delivered'" $DB
t_is "$(received /signed)" 1 "the submit is delivered once to the receiver"
t_is "$(rec_field /signed 'r["sig_ok"]')" True "X-Frappe-Webhook-Signature verifies over the raw body (hmac.compare_digest)"
t_is "$(rec_field /signed 'r["method"] + " " + r["headers"]["Content-Type"]')" "POST application/json" "POST with Content-Type application/json"
t_is "$(rec_field /signed 'json.loads(r["body"])["items"][0]["item_code"] + " " + r["body"].split(", \"items\"")[0]')" \
     'X {"name": "SINV-0001", "total": 1180.0, "customer": "Caf\u00e9 \u00dcn\u00efcode"' \
     "the body is Python's json.dumps of the rendered template (child rows, floats, ensure_ascii)"
t_like "$(rec_field /signed 'r["headers"]["webhook-id"]')" '^msg_[0-9a-f-]{36}$' "a webhook-id header carries the event id"
LAT=$(rec_field /signed "round((r['t'] - $T0) * 1000)")
t_like "$LAT" '^[0-9]{1,3}$' "commit to receipt in ${LAT} ms (woken at commit, not polled)"
t_is "$(q $DB "SELECT webhook || ' ' || reference_document || ' [' || error || '] ' || response || ' ' || (headers LIKE '%\"X-Frappe-Webhook-Signature\": \"********\"%') FROM \"tabWebhook Request Log\" WHERE webhook = 'signed'")" \
     "signed SINV-0001 [] ok true" "a tabWebhook Request Log row per attempt, the signature masked"
t_is "$(q $DB "SELECT count(*) FROM integrations.webhook_queue WHERE body::text LIKE '%s3cr3t%' OR headers::text LIKE '%s3cr3t%'")" 0 "the secret is never in the queue"

# 2. Standard Webhooks: a whsec_ secret signs id.timestamp.body, checked by the npm library
WHSEC="whsec_$("$FI_PY" -c 'import base64; print(base64.b64encode(b"0123456789abcdef0123456789abcdef").decode())')"
hook $DB std on_submit /std POST 1
q $DB "SELECT integrations.set_password('Webhook', 'std', 'webhook_secret', '$WHSEC')" >/dev/null
q $DB "INSERT INTO \"tabSales Invoice\" (name, customer, grand_total, docstatus) VALUES ('SINV-0002', 'B', 5, 1)"
wait_for 10 "SELECT count(*) = 1 FROM integrations.webhook_queue WHERE webhook = 'std' AND status = 'delivered'" $DB
NODE_DIR=$W/node
mkdir -p "$NODE_DIR"
if (cd "$NODE_DIR" && npm install --silent --no-audit --no-fund standardwebhooks@1 >/dev/null 2>&1); then
    rec_field /std 'json.dumps({"body": r["body"], "headers": {k.lower(): v for k, v in r["headers"].items()}})' > "$W/std.json"
    OUT=$(cd "$NODE_DIR" && node -e '
const { Webhook } = require("standardwebhooks");
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
try { new Webhook(process.argv[2]).verify(r.body, r.headers); console.log("verified"); }
catch (e) { console.log("refused: " + e.message); }
try { new Webhook(process.argv[2]).verify(r.body + " ", r.headers); console.log("tampered verified"); }
catch (e) { console.log("tampered refused"); }' "$W/std.json" "$WHSEC")
    t_is "$(echo $OUT)" "verified tampered refused" "the Standard Webhooks signature verifies with the standardwebhooks library (and a changed body does not)"
else
    echo "ok $((T_N + 1)) # skip npm registry not reachable: standardwebhooks not installed"
    T_N=$((T_N + 1))
fi

# 3. each request method
hook $DB put-hook on_update /put PUT
hook $DB del-hook on_update /del DELETE
q $DB "INSERT INTO \"tabSales Invoice\" (name, customer, grand_total) VALUES ('SINV-0003', 'C', 1)"
wait_for 10 "SELECT count(*) = 2 FROM integrations.webhook_queue WHERE webhook IN ('put-hook', 'del-hook') AND status = 'delivered'" $DB
t_is "$(rec_field /put 'r["method"]') $(rec_field /del 'r["method"]')" "PUT DELETE" "PUT and DELETE webhooks use their method"
q $DB "DELETE FROM \"tabWebhook\" WHERE name IN ('put-hook', 'del-hook', 'signed', 'std')"

# 4. 410: failed at once, no retry; 503 twice then 200: delivered on the third attempt
hook $DB gone on_update /status/410 POST
hook $DB flaky on_update /flaky/2/a POST
q $DB "UPDATE \"tabSales Invoice\" SET grand_total = 2 WHERE name = 'SINV-0003'"
wait_for 20 "SELECT count(*) = 2 FROM integrations.webhook_queue WHERE webhook IN ('gone', 'flaky') AND status IN ('failed', 'delivered')" $DB
t_is "$(q $DB "SELECT status || ' ' || attempts || ' ' || last_status FROM integrations.webhook_queue WHERE webhook = 'gone'")" \
     "failed 1 410" "410 fails at once (no retry), kept as failed"
t_is "$(q $DB "SELECT status || ' ' || attempts || ' ' || last_status FROM integrations.webhook_queue WHERE webhook = 'flaky'")" \
     "delivered 3 200" "503 is retried with back-off: delivered on the third attempt"
t_is "$(q $DB "SELECT string_agg(coalesce(nullif(error, ''), 'ok'), ', ' ORDER BY creation, error DESC) FROM \"tabWebhook Request Log\" WHERE webhook = 'flaky'")" \
     "HTTP 503, HTTP 503, ok" "one log row per attempt"
q $DB "DELETE FROM \"tabWebhook\" WHERE name IN ('gone', 'flaky')"

# 5. 429 with Retry-After: the next attempt waits that long
hook $DB limited on_update /retry-after/1 POST
q $DB "UPDATE \"tabSales Invoice\" SET grand_total = 3 WHERE name = 'SINV-0003'"
wait_for 10 "SELECT attempts >= 2 FROM integrations.webhook_queue WHERE webhook = 'limited'" $DB
GAP=$("$FI_PY" - "$LOG" <<'PY'
import json, sys
t = [json.loads(l)["t"] for l in open(sys.argv[1]) if '"/retry-after/1"' in l]
print("%.1f" % (t[1] - t[0]) if len(t) > 1 else "none")
PY
)
t_like "$GAP" '^(0\.9|1\.[0-9]|2\.[0-9])$' "429 with Retry-After: 1 is tried again about a second later (${GAP} s)"
q $DB "DELETE FROM \"tabWebhook\" WHERE name = 'limited'"

# 6. a receiver that is down, then up: delivered after retries
q $DB "INSERT INTO \"tabWebhook\" (name, webhook_doctype, webhook_docevent, request_url, enabled)
       VALUES ('later', 'Sales Invoice', 'on_update', 'http://127.0.0.1:$DOWN_PORT/later', 1)"
q $DB "UPDATE \"tabSales Invoice\" SET grand_total = 4 WHERE name = 'SINV-0003'"
wait_for 10 "SELECT attempts >= 1 AND status = 'pending' FROM integrations.webhook_queue WHERE webhook = 'later'" $DB
t_like "$(q $DB "SELECT last_error FROM integrations.webhook_queue WHERE webhook = 'later'")" "onnect" "a refused connection is retried"
"$FI_PY" "$FI_ROOT/test/receiver.py" "$DOWN_PORT" "$W/later.jsonl" > "$W/receiver2.out" 2>&1 &
RCV2=$!
wait_for 20 "SELECT status = 'delivered' FROM integrations.webhook_queue WHERE webhook = 'later'" $DB
t_is "$(q $DB "SELECT status FROM integrations.webhook_queue WHERE webhook = 'later'")" delivered "delivered once the receiver is up"
q $DB "DELETE FROM \"tabWebhook\" WHERE name = 'later'"

# 7. a receiver that hangs: the webhook's timeout, then a retry
q $DB "INSERT INTO \"tabWebhook\" (name, webhook_doctype, webhook_docevent, request_url, enabled, timeout)
       VALUES ('slow', 'Sales Invoice', 'on_update', 'http://127.0.0.1:$PORT/hang/5', 1, 1)"
q $DB "UPDATE \"tabSales Invoice\" SET grand_total = 5 WHERE name = 'SINV-0003'"
wait_for 10 "SELECT attempts >= 1 AND last_error IS NOT NULL FROM integrations.webhook_queue WHERE webhook = 'slow'" $DB
t_like "$(q $DB "SELECT last_error FROM integrations.webhook_queue WHERE webhook = 'slow'")" "[Tt]imeout|timed out" "a hanging receiver times out after the webhook's timeout"
q $DB "DELETE FROM \"tabWebhook\" WHERE name = 'slow'; UPDATE integrations.webhook_queue SET status = 'failed' WHERE webhook = 'slow'"

# 8. two databases served at once
hook $DB two-a on_update /two-a POST
hook $DB2 two-b on_update /two-b POST
q $DB "UPDATE \"tabSales Invoice\" SET grand_total = 6 WHERE name = 'SINV-0003'"
q $DB2 "INSERT INTO \"tabSales Invoice\" (name, customer, grand_total) VALUES ('SINV-0009', 'Z', 1)"
wait_for 10 "SELECT status = 'delivered' FROM integrations.webhook_queue WHERE webhook = 'two-a'" $DB
wait_for 10 "SELECT status = 'delivered' FROM integrations.webhook_queue WHERE webhook = 'two-b'" $DB2
t_is "$(received /two-a) $(received /two-b)" "1 1" "two databases of the server are served at once, with no configuration"
q $DB "DELETE FROM \"tabWebhook\" WHERE name = 'two-a'"

# 9. SIGTERM with a request in flight: the worker leaves within a second and
#    the event is delivered later by its successor
q $DB "INSERT INTO \"tabWebhook\" (name, webhook_doctype, webhook_docevent, request_url, enabled, timeout)
       VALUES ('term', 'Sales Invoice', 'on_update', 'http://127.0.0.1:$PORT/hang/3', 1, 10)"
q $DB "UPDATE \"tabSales Invoice\" SET grand_total = 7 WHERE name = 'SINV-0003'"
wait_for 10 "SELECT status = 'sending' FROM integrations.webhook_queue WHERE webhook = 'term'" $DB
sleep 0.3
WPID=$(q $DB "SELECT pid FROM pg_stat_activity WHERE backend_type = 'frappe_integrations webhook worker' AND datname = '$DB'")
START=$("$FI_PY" -c 'import time; print(time.time())')
q postgres "SELECT pg_terminate_backend($WPID)" >/dev/null
for _ in $(seq 50); do
    [ -z "$(q postgres "SELECT 1 FROM pg_stat_activity WHERE pid = $WPID")" ] && break
    sleep 0.05
done
STOP_MS=$("$FI_PY" -c "import time; print(round((time.time() - $START) * 1000))")
t_like "$STOP_MS" '^[0-9]{1,3}$' "SIGTERM with a request in flight: the worker is gone in ${STOP_MS} ms"
t_is "$(q $DB "SELECT status FROM integrations.webhook_queue WHERE webhook = 'term'")" pending "the claimed event is put back, not lost"
q $DB "UPDATE \"tabWebhook\" SET request_url = 'http://127.0.0.1:$PORT/ok-term' WHERE name = 'term'"
q $DB "UPDATE integrations.webhook_queue SET url = 'http://127.0.0.1:$PORT/ok-term' WHERE webhook = 'term'"
# a commit wakes the launcher, which starts a new worker
q $DB "UPDATE \"tabSales Invoice\" SET grand_total = 8 WHERE name = 'SINV-0003'"
wait_for 15 "SELECT bool_and(status = 'delivered') FROM integrations.webhook_queue WHERE webhook = 'term'" $DB
t_is "$(q $DB "SELECT count(*) FILTER (WHERE status = 'delivered') || '/' || count(*) FROM integrations.webhook_queue WHERE webhook = 'term'")" \
     "2/2" "after SIGTERM a new worker delivers both events"

# 10. the session switch, and a rolled-back transaction: nothing sent
#     (earlier events still being retried are set aside first)
q $DB "UPDATE integrations.webhook_queue SET status = 'failed' WHERE status = 'pending'"
sleep 1.5
BEFORE=$(wc -l < "$LOG")
q $DB "SET frappe_integrations.webhooks = off; UPDATE \"tabSales Invoice\" SET grand_total = 9 WHERE name = 'SINV-0003'"
q $DB "BEGIN; UPDATE \"tabSales Invoice\" SET grand_total = 10 WHERE name = 'SINV-0003'; ROLLBACK"
sleep 1
t_is "$(wc -l < "$LOG")" "$BEFORE" "nothing is sent for a session with webhooks off or a rolled-back transaction"

# 12. bad input: a secret written with another site's key, and a 10 MB payload
OTHER_KEY=$("$FI_PY" -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')
hook $DB badkey on_update /badkey POST 1
q $DB "SET frappe_integrations.encryption_key = '$OTHER_KEY'; SELECT integrations.set_password('Webhook', 'badkey', 'webhook_secret', 'other-site-secret')" >/dev/null
q $DB "INSERT INTO \"tabWebhook\" (name, webhook_doctype, webhook_docevent, request_url, request_structure, webhook_json, enabled)
       VALUES ('big', 'Sales Invoice', 'on_update', 'http://127.0.0.1:$PORT/big', 'JSON', '{\"n\": \"{{ doc.name }}\", \"pad\": \"{{ \"x\" * 10000000 }}\"}', 1)"
q $DB "UPDATE \"tabSales Invoice\" SET grand_total = 14 WHERE name = 'SINV-0003'"
wait_for 20 "SELECT count(*) = 2 FROM integrations.webhook_queue WHERE webhook IN ('badkey', 'big') AND status IN ('failed', 'delivered')" $DB
t_is "$(q $DB "SELECT status || ' ' || attempts || ' ' || last_error FROM integrations.webhook_queue WHERE webhook = 'badkey'")" \
     "failed 1 the webhook secret cannot be decrypted (is frappe_integrations.encryption_key the site's key?)" \
     "a secret the site key cannot decrypt: failed at once with a clear error, nothing sent"
t_is "$(received /badkey)" 0 "no unsigned request was sent in its place"
t_is "$(q $DB "SELECT count(*) FROM \"tabWebhook Request Log\" WHERE error LIKE '%other-site-secret%' OR headers LIKE '%other-site-secret%'") $(grep -c other-site-secret "$FI_TMP/server.log" || true)" "0 0" "the secret appears in no log"
t_is "$(q $DB "SELECT status || ' ' || length(body) FROM integrations.webhook_queue WHERE webhook = 'big'") $(rec_field /big 'len(r["body"])')" \
     "delivered 10000029 10000029" "a 10 MB payload is queued and delivered byte for byte"
q $DB "DELETE FROM \"tabWebhook\" WHERE name IN ('badkey', 'big')"
# a URL that passes the configuration check but libcurl cannot parse: failed at once
q $DB "INSERT INTO \"tabWebhook\" (name, webhook_doctype, webhook_docevent, request_url, enabled)
       VALUES ('badurl', 'Sales Invoice', 'on_update', 'http://[::1/x', 1)"
q $DB "UPDATE \"tabSales Invoice\" SET grand_total = 15 WHERE name = 'SINV-0003'"
wait_for 10 "SELECT status = 'failed' FROM integrations.webhook_queue WHERE webhook = 'badurl'" $DB
t_like "$(q $DB "SELECT status || ' ' || attempts || ' ' || last_error FROM integrations.webhook_queue WHERE webhook = 'badurl'")" \
     "^failed 1 .*URL" "a URL libcurl cannot parse fails at once, not retried"
q $DB "DELETE FROM \"tabWebhook\" WHERE name = 'badurl'"

# 11. the configuration is cached per session: a change made by another
#     session is used from this session's next transaction on
q $DB "INSERT INTO \"tabWebhook\" (name, webhook_doctype, webhook_docevent, request_url, request_structure, webhook_json, enabled)
       VALUES ('cached', 'Sales Invoice', 'on_update', 'http://127.0.0.1:$PORT/cached', 'JSON', '{\"v\": 1}', 1)"
OUT=$("$FI_PGBIN/psql" -X -A -t -q -v ON_ERROR_STOP=1 -d $DB <<SQL
UPDATE "tabSales Invoice" SET grand_total = 11 WHERE name = 'SINV-0003';
\! "$FI_PGBIN/psql" -X -q -d $DB -c "UPDATE \"tabWebhook\" SET webhook_json = '{\"v\": 2}' WHERE name = 'cached'"
UPDATE "tabSales Invoice" SET grand_total = 12 WHERE name = 'SINV-0003';
\! "$FI_PGBIN/psql" -X -q -d $DB -c "INSERT INTO \"tabWebhook Header\" (name, parent, parenttype, parentfield, idx, key, value) VALUES ('ch1', 'cached', 'Webhook', 'webhook_headers', 1, 'X-V', '3')"
UPDATE "tabSales Invoice" SET grand_total = 13 WHERE name = 'SINV-0003';
SELECT string_agg(convert_from(body, 'UTF8') || headers::text, ' ' ORDER BY id) FROM integrations.webhook_queue WHERE webhook = 'cached';
SQL
)
t_is "$OUT" '{"v": 1}[] {"v": 2}[] {"v": 2}[["X-V", "3"]]' "another session's change of a webhook (and of its header rows) applies from the next transaction"
q $DB "DELETE FROM \"tabWebhook\" WHERE name = 'cached'"

"$FI_PGBIN/psql" -X -q -d postgres -c "ALTER SYSTEM SET frappe_integrations.deliver = off" \
    -c "ALTER SYSTEM RESET frappe_integrations.retry_base" -c "ALTER SYSTEM RESET frappe_integrations.max_attempts" \
    -c "ALTER SYSTEM RESET frappe_integrations.encryption_key" -c "SELECT pg_reload_conf()" >/dev/null
"$FI_PGBIN/dropdb" --force --if-exists $DB2
t_done
