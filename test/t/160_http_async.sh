#!/usr/bin/env bash
# HTTP requests queued to the worker (integrations.http_request_async)
# against the local peer of t/140: sent only once the transaction commits
# (never after a rollback), once each, many in flight at once; the response
# (status, headers, body, bytes) or the error (timeout, refused connection,
# size cap, redirect to ftp, unknown CA) kept in integrations.http_queue;
# Integration Request rows Queued, then Completed or Failed; a lease that
# ran out sends again, three times at most; rows written by hand with bad
# headers fail without stopping the worker; results deleted after
# frappe_integrations.http_retention; bad input refused before anything is
# queued; nothing for PUBLIC.
source "$FI_ROOT/test/lib.sh"
DB=fi_http_async
# the worker sends (the test cluster starts with delivery off)
"$FI_PGBIN/psql" -X -q -d postgres -c "ALTER SYSTEM SET frappe_integrations.deliver = on" -c "SELECT pg_reload_conf()" >/dev/null
newdb $DB
http_peer http_async
trap 'kill $PEER_PID 2>/dev/null; "$FI_PGBIN/psql" -X -q -d postgres -c "ALTER SYSTEM SET frappe_integrations.deliver = off" -c "SELECT pg_reload_conf()" >/dev/null' EXIT

hits() {	# hits <path with query>: how often the peer was asked for it
    $FI_PY -c 'import json, sys, urllib.request; print(json.load(urllib.request.urlopen(sys.argv[1])).get(sys.argv[2], 0))' "$U/hits" "$1"
}
result() {	# result <id> [columns]: the outcome, waiting up to 15 s for it
    q $DB "SELECT ${2:-status, response_status, error} FROM integrations.http_result($1, 15000)"
}

# ---- sent after commit, once; the response kept
ID=$(q $DB "SELECT integrations.http_request_async('GET', '$U/json?a=1')")
t_like "$ID" '^[0-9]+$' "http_request_async returns the queue row's id"
t_is "$(result "$ID" "status, response_status, response_headers ->> 'content-type', response_body")" \
     'done|200|application/json; charset=utf-8|{"ok": true, "n": 1.5, "s": "caf\u00e9"}' "the worker sent it: status, headers, body kept"
t_is "$(hits '/json?a=1')" "1" "sent exactly once"
t_is "$(q $DB "SELECT attempts, finished_at >= created_at, lease_until IS NULL, requested_by FROM integrations.http_queue WHERE id = $ID")" \
     "1|t|t|postgres" "the row: one attempt, finished, no lease, who asked"

# a request queued in a transaction is not sent before it commits, nor after a rollback
t_like "$(q_err $DB "BEGIN; SELECT * FROM integrations.http_result(integrations.http_request_async('GET', '$U/json?b=1'), 2000)")" \
     "^55000: HTTP request [0-9]+ is sent when this transaction commits$" "waiting in the queueing transaction is refused (it would wait for nothing)"
q $DB "BEGIN; SELECT integrations.http_request_async('GET', '$U/json?rolled=back'); ROLLBACK" >/dev/null
q $DB "SELECT pg_sleep(0.5)" >/dev/null
ID2=$(q $DB "SELECT integrations.http_request_async('GET', '$U/json?after=1')")
result "$ID2" >/dev/null
t_is "$(hits '/json?rolled=back'),$(hits '/json?b=1'),$(hits '/json?after=1')" "0,0,1" "rolled back: never sent (a later request was)"

# methods, headers and bodies as sent; bytes kept as bytes
ID=$(q $DB "SELECT integrations.http_request_async('PATCH', '$U/echo', '{\"X-Api-Key\": \"k1\", \"Content-Type\": \"application/json\"}', '{\"a\": \"é\"}')")
t_is "$(result "$ID" "response_body" | $FI_PY -c 'import json,sys; d=json.load(sys.stdin); print(d["method"], d["body"], d["headers"]["x-api-key"], d["headers"]["content-type"], d["headers"]["user-agent"].split("/")[0])')" \
     'PATCH {"a": "é"} k1 application/json frappe_integrations' "PATCH: method, headers and UTF-8 body as sent"
ID=$(q $DB "SELECT integrations.http_request_async('PUT', '$U/echo', '{}', '\\xc3ff00'::bytea)")
t_is "$(result "$ID" "response_body" | $FI_PY -c 'import json,sys; d=json.load(sys.stdin); print(d["method"], ascii(d["body"]), d["headers"]["content-length"])')" \
     "PUT '\\ufffd\\ufffd\\x00' 3" "a body that is not UTF-8 (bytea): its 3 bytes sent as they are"
ID=$(q $DB "SELECT integrations.http_request_async('GET', '$U/binary')")
t_is "$(result "$ID" "status" >/dev/null; q $DB "SELECT encode(response_body, 'hex') FROM integrations.http_queue WHERE id = $ID")" "00fffe" "a binary response kept as its bytes"
t_is "$(q_err $DB "SELECT * FROM integrations.http_result($ID)")" "22021: invalid byte sequence for encoding \"UTF8\": 0x00" \
     "http_result will not pass it off as text (read response_body instead)"
ID=$(q $DB "SELECT integrations.http_request_async('HEAD', '$U/status/503')")
t_is "$(result "$ID")" "done|503|" "an error status is a response: done, status 503"
q $DB "SELECT pg_sleep(1.5)" >/dev/null
t_is "$(hits '/status/503')" "1" "and not sent again (one attempt: a request from SQL need not be idempotent)"

# many at once: in flight together (20 × 400 ms would be 8 s one after another)
T0=$(date +%s.%N)
IDS=$(q $DB "SELECT string_agg(integrations.http_request_async('GET', '$U/sleep/400?n=' || i)::text, ',') FROM generate_series(1, 20) i")
LAST=${IDS##*,}
result "$LAST" >/dev/null
for _ in $(seq 150); do
    [ "$(q $DB "SELECT count(*) FROM integrations.http_queue WHERE id IN ($IDS) AND status = 'done'")" = 20 ] && break
    sleep 0.1
done
T1=$(date +%s.%N)
t_is "$(q $DB "SELECT count(*), count(DISTINCT id), min(response_status), max(response_status) FROM integrations.http_queue WHERE id IN ($IDS) AND status = 'done'")" \
     "20|20|200|200" "20 queued in one transaction: all done"
t_is "$($FI_PY -c "print($T1 - $T0 < 4)")" "True" "in flight together: all 20 within 4 s ($($FI_PY -c "print(round($T1 - $T0, 2))") s)"

# the worker's own memory stays flat: 2,000 more requests after 2,000 to warm
# it up add less than 3 MB (each delivery's buffers once stayed in its
# TopMemoryContext: ~5 KB a delivery, 10 MB here)
WPID=$(q $DB "SELECT pid FROM pg_stat_activity WHERE backend_type = 'frappe_integrations webhook worker' AND datname = '$DB'")
anon() { sed -n 's/^RssAnon:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/$WPID/status; }
many() {	# many <n>: queue n requests and wait for them all
    q $DB "SELECT count(integrations.http_request_async('GET', '$U/json?many=' || g)) FROM generate_series(1, $1) g" >/dev/null
    for _ in $(seq 300); do
        [ "$(q $DB "SELECT count(*) FROM integrations.http_queue WHERE status IN ('pending', 'sending')")" = 0 ] && break
        sleep 0.1
    done
}
many 2000
M1=$(anon)
many 2000
M2=$(anon)
t_is "$(q $DB "SELECT count(*) FROM integrations.http_queue WHERE url LIKE '%many=%' AND status = 'done'"),$(q $DB "SELECT pid FROM pg_stat_activity WHERE backend_type = 'frappe_integrations webhook worker' AND datname = '$DB'")" \
     "4000,$WPID" "4,000 requests done by one worker"
t_is "$($FI_PY -c "print($M2 - $M1 < 3072)")" "True" "its private memory grew $((M2 - M1)) kB over the last 2,000 (< 3 MB)"

# failures: the error kept, status failed, the worker goes on
ID=$(q $DB "SELECT integrations.http_request_async('GET', '$U/slow', '{}', NULL, 600)")
t_is "$(result "$ID")" "failed||timed out after 600 ms" "a timeout"
FREE=$($FI_PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
ID=$(q $DB "SELECT integrations.http_request_async('GET', 'http://127.0.0.1:$FREE/x')")
t_like "$(result "$ID")" "^failed\|\|Couldn't connect to server$" "a refused connection"
ID=$(PGOPTIONS="-c frappe_integrations.http_max_response=1MB" q $DB "SELECT integrations.http_request_async('GET', '$U/huge')")
t_is "$(result "$ID")" "failed||the response is larger than frappe_integrations.http_max_response (1024 kB)" \
     "a 64 MB response stops at the cap the queueing session had"
ID=$(PGOPTIONS="-c frappe_integrations.http_max_response=100MB" q $DB "SELECT integrations.http_request_async('GET', '$U/huge')")
t_is "$(result "$ID" status),$(q $DB "SELECT max_response, length(response_body), md5(response_body) = md5(repeat('x', 67108864)::bytea) FROM integrations.http_queue WHERE id = $ID")" \
     "done,104857600|67108864|t" "a 64 MB response (the most a queued request keeps) stored whole, in a statement of its own"
q $DB "DELETE FROM integrations.http_queue WHERE id = $ID" >/dev/null
ID=$(q $DB "SELECT integrations.http_request_async('GET', '$U/redirect')")
t_is "$(result "$ID" "status, response_status, response_body::jsonb ->> 'ok'")" "done|200|true" "a redirect is followed"
ID=$(q $DB "SELECT integrations.http_request_async('GET', '$U/redirect-ftp')")
t_is "$(result "$ID")" "failed||redirected to a scheme other than http or https" "a redirect to ftp:// is refused"
ID=$(PGOPTIONS="-c frappe_integrations.http_max_redirects=2" q $DB "SELECT integrations.http_request_async('GET', '$U/loop')")
t_is "$(result "$ID")" "failed||redirected more than 2 times" "a redirect loop ends (at the session's http_max_redirects)"

# HTTPS: refused with an unknown CA; trusted once ca_bundle names it (the worker reloads it)
ID=$(q $DB "SELECT integrations.http_request_async('GET', '$US/json')")
t_like "$(result "$ID")" "^failed\|\|.*(certificate|SSL)" "HTTPS with an unknown CA: failed"
q $DB "ALTER SYSTEM SET frappe_integrations.ca_bundle = '$CERTS/ca.pem'"; q $DB "SELECT pg_reload_conf()" >/dev/null; sleep 0.5
ID=$(q $DB "SELECT integrations.http_request_async('GET', '$US/json')")
t_is "$(result "$ID" "status, response_status, response_body::jsonb ->> 'ok'")" "done|200|true" "HTTPS trusted through frappe_integrations.ca_bundle"
q $DB "ALTER SYSTEM RESET frappe_integrations.ca_bundle"; q $DB "SELECT pg_reload_conf()" >/dev/null; sleep 0.5

# tabIntegration Request rows (http_log): Queued at once, completed by the worker
q $DB "DELETE FROM \"tabIntegration Request\"" >/dev/null
# (read inside the queueing transaction: after its commit the worker may already have completed them)
OUT=$(q $DB "BEGIN; SET LOCAL frappe_integrations.http_log = on;
             SELECT string_agg(id::text, ',') FROM (
               SELECT integrations.http_request_async('POST', 'http://u:pw@127.0.0.1:$P/echo?log=1', '{\"Authorization\": \"Bearer s3cr3t\"}', 'payload') AS id
               UNION ALL SELECT integrations.http_request_async('GET', '$U/status/502')
               UNION ALL SELECT integrations.http_request_async('GET', 'http://127.0.0.1:$FREE/x')) x;
             SELECT string_agg(status || ' ' || request_description, ', ' ORDER BY request_description) FROM \"tabIntegration Request\";
             COMMIT")
IDS=$(echo "$OUT" | sed -n 1p)
t_is "$(echo "$OUT" | sed -n 2p)" \
     "Queued GET (queued), Queued GET (queued), Queued POST (queued)" "Queued rows, written with the queueing transaction"
for i in ${IDS//,/ }; do result "$i" >/dev/null; done
t_is "$(q $DB "SELECT string_agg(concat_ws(' | ', status, request_description, url, data, output IS NOT NULL, error), E'\n' ORDER BY request_description) FROM \"tabIntegration Request\"")" \
     "Failed | GET (no response) | http://127.0.0.1:$FREE/x | f | Couldn't connect to server
Failed | GET 502 | $U/status/502 | f | {\"error\": \"x\"}
Completed | POST 200 | http://127.0.0.1:$P/echo?log=1 | payload | t" \
     "then Completed with the output, or Failed with the response or the error"
t_is "$(q $DB "SELECT count(*) FROM \"tabIntegration Request\" WHERE request_headers LIKE '%s3cr3t%' OR url LIKE '%pw%'"),$(q $DB "SELECT count(*) FROM integrations.http_queue WHERE integration_request IS NOT NULL")" \
     "0,3" "no secret in the log rows; each queue row names its log row"

# the worker stopped while sending (a lease that ran out): sent again, three times at most
q $DB "INSERT INTO integrations.http_queue (method, url, timeout_ms, max_response, status, attempts, lease_until, next_attempt_at)
       VALUES ('GET', '$U/json?lease=1', 1000, 1048576, 'sending', 1, now() - interval '1 s', now() - interval '1 s'),
              ('GET', '$U/json?lease=3', 1000, 1048576, 'sending', 3, now() - interval '1 s', now() - interval '1 s');
       SELECT integrations.wake_webhook_worker()" >/dev/null
L1=$(q $DB "SELECT id FROM integrations.http_queue WHERE url LIKE '%lease=1'")
L3=$(q $DB "SELECT id FROM integrations.http_queue WHERE url LIKE '%lease=3'")
t_is "$(result "$L1" "status, response_status"),$(q $DB "SELECT attempts FROM integrations.http_queue WHERE id = $L1"),$(hits '/json?lease=1')" \
     "done|200,2,1" "a lease that ran out: sent again (its second send)"
t_is "$(result "$L3"),$(hits '/json?lease=3')" "failed||the worker stopped while sending this request 3 times,0" "after three sends: failed, not sent a fourth time"

# rows written by hand that cannot be sent: failed, and the worker goes on
q $DB "INSERT INTO integrations.http_queue (method, url, headers, timeout_ms, max_response)
       VALUES ('GET', '$U/json?h=1', '{\"X-A\": \"v\\r\\nX-Injected: 1\"}', 1000, 1048576),
              ('GET', '$U/json?h=2', '{\"X A\": \"v\"}', 1000, 1048576),
              ('GET', 'ftp://127.0.0.1/x', '{}', 1000, 1048576);
       SELECT integrations.wake_webhook_worker()" >/dev/null
t_is "$(q $DB "SELECT string_agg(r.status || ': ' || r.error, ' / ' ORDER BY h.id) FROM integrations.http_queue h, integrations.http_result(h.id, 15000) r WHERE h.url LIKE '%h=_' OR h.url LIKE 'ftp:%'")" \
     'failed: the value of header "X-A" is not a string without line breaks / failed: a header name is not a valid HTTP token / failed: the request URL must start with http:// or https://' \
     "a CR/LF header value, a bad header name, an ftp URL: failed, nothing sent"
t_is "$(hits '/json?h=1')$(hits '/json?h=2')" "00" "(the peer saw neither)"
ID=$(q $DB "SELECT integrations.http_request_async('GET', '$U/json?still=1')")
t_is "$(result "$ID")" "done|200|" "the worker still serves"

# bad input: refused as http_request refuses it, nothing queued
BEFORE=$(q $DB "SELECT count(*) FROM integrations.http_queue")
for c in "'GET', 'ftp://127.0.0.1/x'|22023: URL scheme \"ftp\" is not allowed" \
         "'GET', 'not a url'|22023: malformed URL" \
         "'BREW', '$U/json'|22023: unknown HTTP method \"BREW\"" \
         "'GET', '$U/json', '{\"X-A\": \"v\\r\\nX-Injected: 1\"}'|22023: the value of header \"X-A\" contains a line break" \
         "'GET', '$U/json', '{\"X A\": \"v\"}'|22023: a header name is not a valid HTTP token" \
         "'GET', '$U/json', '[]'|22023: headers must be a JSON object of strings" \
         "'GET', '$U/json', '{}', NULL, -1|22023: timeout_ms must be between 1 and 600000" \
         "'GET', '$U/json', '{}', NULL, 999999999|22023: timeout_ms must be between 1 and 600000"; do
    args=${c%%|*}; want=${c#*|}
    t_is "$(q_err $DB "SELECT integrations.http_request_async($args)")" "$want" "refused: $args"
done
t_is "$(q $DB "SELECT count(*) FROM integrations.http_queue")" "$BEFORE" "nothing queued by any of them"
t_is "$(q_err $DB "SELECT * FROM integrations.http_result(987654321)")" "P0002: no queued HTTP request 987654321" "an unknown id"

# who may: nothing for PUBLIC
q $DB "CREATE ROLE fi_async_plain LOGIN; GRANT USAGE ON SCHEMA integrations TO fi_async_plain" >/dev/null
t_like "$(PGUSER=fi_async_plain q_err $DB "SELECT integrations.http_request_async('GET', '$U/json')")" "^42501" "a plain role cannot queue a request"
t_like "$(PGUSER=fi_async_plain q_err $DB "SELECT count(*) FROM integrations.http_queue")" "^42501" "nor read the responses"
q $DB "CREATE ROLE fi_async_user LOGIN; GRANT USAGE ON SCHEMA integrations TO fi_async_user;
       GRANT EXECUTE ON FUNCTION integrations.http_request_async(text, text, jsonb, text, integer), integrations.http_result(bigint, integer) TO fi_async_user;
       GRANT SELECT, INSERT ON integrations.http_queue TO fi_async_user; GRANT USAGE ON SEQUENCE integrations.http_queue_id_seq TO fi_async_user" >/dev/null
ID=$(PGUSER=fi_async_user q $DB "SELECT integrations.http_request_async('GET', '$U/json?granted=1')")
t_is "$(PGUSER=fi_async_user q $DB "SELECT status, response_status FROM integrations.http_result($ID, 15000)"),$(q $DB "SELECT requested_by FROM integrations.http_queue WHERE id = $ID")" \
     "done|200,fi_async_user" "a role given the documented grants queues a request and reads its result; requested_by names it"

# a burst of queued requests does not hold up webhooks: 800 requests of 200 ms
# each take 5 s at 32 in flight; a webhook fired meanwhile goes out within 2 s
q $DB "INSERT INTO \"tabWebhook\" (name, webhook_doctype, webhook_docevent, request_url, request_structure, webhook_json, enabled)
       VALUES ('fair', 'Sales Invoice', 'on_update', '$U/json?hook=fair', 'JSON', '{\"name\": \"{{ doc.name }}\"}', 1)" >/dev/null
q $DB "SELECT count(integrations.http_request_async('GET', '$U/sleep/200?burst=' || g)) FROM generate_series(1, 800) g" >/dev/null
sleep 0.5
T0=$(date +%s.%N)
q $DB "INSERT INTO \"tabSales Invoice\" (name, customer, grand_total, status, docstatus, posting_date) VALUES ('FAIR-1', 'C', 1, 'Draft', 0, DATE '2024-05-06')" >/dev/null
for _ in $(seq 100); do [ "$(hits '/json?hook=fair')" != 0 ] && break; sleep 0.05; done
T1=$(date +%s.%N)
BURST_LEFT=$(q $DB "SELECT count(*) FROM integrations.http_queue WHERE url LIKE '%burst=%' AND status IN ('pending', 'sending')")
t_is "$(hits '/json?hook=fair'),$($FI_PY -c "print($T1 - $T0 < 2)"),$([ "$BURST_LEFT" -gt 100 ] && echo burst-pending)" "1,True,burst-pending" \
     "a webhook fired behind 800 queued requests arrived in $($FI_PY -c "print(round($T1 - $T0, 2))") s, with $BURST_LEFT of them still to send"
for _ in $(seq 300); do
    [ "$(q $DB "SELECT count(*) FROM integrations.http_queue WHERE status IN ('pending', 'sending')")" = 0 ] && break
    sleep 0.1
done
t_is "$(q $DB "SELECT count(*) FROM integrations.http_queue WHERE url LIKE '%burst=%' AND status = 'done'")" "800" "and the burst all done"
q $DB "UPDATE \"tabWebhook\" SET enabled = 0 WHERE name = 'fair'" >/dev/null

# retention: finished rows deleted frappe_integrations.http_retention after they finished
ID=$(q $DB "SELECT integrations.http_request_async('GET', '$U/json?ret=1')")
t_is "$(result "$ID" status)" "done" "(a request to expire)"
q $DB "ALTER SYSTEM SET frappe_integrations.http_retention = '2s'"; q $DB "SELECT pg_reload_conf()" >/dev/null
for _ in $(seq 100); do
    [ "$(q $DB "SELECT count(*) FROM integrations.http_queue WHERE finished_at IS NOT NULL")" = 0 ] && break
    sleep 0.2
done
t_is "$(q $DB "SELECT count(*) FILTER (WHERE finished_at IS NOT NULL), count(*) FILTER (WHERE finished_at IS NULL) FROM integrations.http_queue")" \
     "0|0" "with http_retention = 2s every finished row is deleted within seconds"
ID=$(q $DB "SELECT integrations.http_request_async('GET', '$U/json?ret=2')")
t_is "$(result "$ID" status),$(q $DB "SELECT count(*) FROM integrations.http_queue WHERE id = $ID")" "done,1" "a fresh result is kept until then"
q $DB "ALTER SYSTEM RESET frappe_integrations.http_retention"; q $DB "SELECT pg_reload_conf()" >/dev/null
t_done
