#!/usr/bin/env bash
# MariaDB, part 3 (issue 20, point 5): http_request_async queues a request in
# the caller's transaction (__fi_http_queue); the bench's worker sends it after
# commit on its multi handle and writes the response into the row
# (http_result / CALL http_wait); one attempt, a lease for a worker gone,
# the same refusals as http_request, the Integration Request log, who may
# queue, the results' retention.  Against test/tools/http_peer.py on 127.0.0.1.
source "$FI_ROOT/test/lib.sh"
source "$FI_ROOT/test/mariadb/server.sh"
source "$FI_ROOT/test/receiver.sh"
make -s -C "$FI_ROOT" mariadb >/dev/null
MD=$FI_TMP/mariadb_http_async
rm -rf "$MD"
mkdir -p "$MD"
cleanup() {
    for p in "${MDB_WORKERS[@]}" ${PEER_PID:-}; do kill -KILL "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    mdb_stop
}
trap cleanup EXIT
http_peer mdb_async
mdb_start "$MD"
FI="$FI_ROOT/bin/frappe-integrations"
BENCH=$MD/bench
mkdir -p "$BENCH/sites/a.localhost"
printf '{"db_socket": "%s"}\n' "$MDB_SOCK" > "$BENCH/sites/common_site_config.json"
mdb_site _h1 pw_h1
KEY=$("$FI_PY" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')
printf '{"db_name": "_h1", "db_password": "pw_h1", "encryption_key": "%s"}\n' "$KEY" > "$BENCH/sites/a.localhost/site_config.json"
chmod 600 "$BENCH/sites/a.localhost/site_config.json"
"$FI" install --socket "$MDB_SOCK" --user root --plugin-dir "$MDB_PLUGIN" --site _h1 --site-user _h1 \
    --key-file "$BENCH/sites/a.localhost/site_config.json" >/dev/null
mdb "CREATE USER plain@localhost IDENTIFIED BY 'pw-plain'; GRANT SELECT, INSERT, UPDATE, EXECUTE ON _h1.* TO plain@localhost"
h1() { mariadb --no-defaults --socket="$MDB_SOCK" -u _h1 -ppw_h1 -D _h1 -N -B -r -e "$1" 2>&1; }
h1_err() {
    local out
    if out=$(mariadb --no-defaults --socket="$MDB_SOCK" -u "${2:-_h1}" -p"${3:-pw_h1}" -D _h1 -N -B -r -e "$1" 2>&1); then
        echo "NO ERROR: $out"
    else
        printf '%s\n' "$out" | mdb_sqlstate
    fi
}
hits() { curl -s "$U/hits" | "$FI_PY" -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], 0))' "$1"; }
wait_for() {	# wait_for <sql giving 1> [tries of 0.1 s]
    for _ in $(seq "${2:-100}"); do [ "$(h1 "$1")" = 1 ] && return 0; sleep 0.1; done
    return 1
}
worker() { mdb_worker "$BENCH" "$@"; }	# worker <log> [options]
stop_worker() { mdb_worker_stop; }

t_is "$(h1 "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '_h1' AND TABLE_NAME = '__fi_http_queue'")" 1 \
     "install made the site's __fi_http_queue"

# ---- queued with the transaction: nothing sent before commit, nothing ever after a rollback
worker "$MD/w1.log"
ROLLED=$(h1 "START TRANSACTION; SELECT http_request_async('GET', '$U/status/201?rolled', NULL, NULL, NULL); DO SLEEP(0.6); ROLLBACK")
t_like "$ROLLED" '^[0-9]+$' "http_request_async returns the queued row's id"
sleep 0.3
t_is "$(hits /status/201?rolled)" 0 "a request of a transaction rolled back is never sent (nor while it was open)"
t_is "$(h1 "SELECT COUNT(*) FROM __fi_http_queue WHERE id = $ROLLED")" 0 "its row went with the rollback"

t_is "$(h1 "START TRANSACTION; SELECT http_request_async('GET', '$U/json', NULL, NULL, NULL) INTO @i;
              SELECT status, attempts, timeout_ms, max_redirects, max_response, requested_by LIKE '_h1@%', @i FROM __fi_http_queue WHERE id = @i; COMMIT" | cut -f1-6)" \
     "pending	0	30000	5	10485760	1" "the row: pending, with the server's limits (timeout NULL: 30 s), the caller"
ID=$(h1 "SELECT MAX(id) FROM __fi_http_queue")
R=$(h1 "CALL http_wait($ID, 5000)")
t_is "$(printf '%s' "$R" | jget 'd["status"], d["response_status"], d["response_headers"]["content-type"], d["response_body"], d["error"]')" \
     "('done', 200, 'application/json; charset=utf-8', '{\"ok\": true, \"n\": 1.5, \"s\": \"caf\\\\u00e9\"}', None)" \
     "committed: sent by the worker; http_wait gives the response (status, lower-case headers, body)"
t_is "$(printf '%s' "$R" | jget 'list(d.keys())')" "['status', 'response_status', 'response_headers', 'response_body', 'error']" \
     "the result's keys: PostgreSQL's http_result columns"
t_is "$(h1 "SELECT JSON_KEYS(response_headers) FROM __fi_http_queue WHERE id = $ID")" \
     '["date", "server", "content-type", "content-length"]' "response_headers in jsonb's order, as PostgreSQL's"
t_is "$(h1 "SELECT status, attempts, lease_until IS NULL, finished_at IS NOT NULL FROM __fi_http_queue WHERE id = $ID")" "done	1	1	1" \
     "one attempt, the lease let go, finished_at set"
t_is "$(h1 "SELECT JSON_VALUE(http_result($ID), '\$.response_status')")" 200 "http_result(id): the outcome at once"

ID=$(h1 "SELECT http_request_async('post', '$U/echo', '{\"X-Api-Key\": \"k1\", \"Content-Type\": \"application/json\"}', X'7B2261223A2022C3A9227D', 4000)")
R=$(h1 "CALL http_wait($ID, 5000)")
t_is "$(printf '%s' "$R" | jget 'json.loads(d["response_body"])["method"], json.loads(d["response_body"])["body"], json.loads(d["response_body"])["headers"]["x-api-key"], json.loads(d["response_body"])["headers"]["user-agent"], d["response_headers"]["x-multi"]')" \
     "('POST', '{\"a\": \"é\"}', 'k1', 'frappe_integrations/0.12.0', 'a, b')" \
     "POST: the method (any case), headers and body's bytes as given; a repeated response header joined"
ID=$(h1 "SELECT http_request_async('GET', '$U/status/503', '{}', NULL, NULL)")
t_is "$(h1 "CALL http_wait($ID, 5000)" | jget 'd["status"], d["response_status"], d["response_body"]')" "('done', 503, '{\"error\": \"x\"}')" \
     "any HTTP status is an answer (done); not retried"
t_is "$(hits /status/503)" 1 "sent once"
ID=$(h1 "SELECT http_request_async('GET', '$U/redirect', '{}', NULL, NULL)")
t_is "$(h1 "CALL http_wait($ID, 5000)" | jget 'd["status"], d["response_status"], json.loads(d["response_body"])["ok"], d["response_headers"]["content-type"]')" \
     "('done', 200, True, 'application/json; charset=utf-8')" "a redirect followed: the last response's headers only"

# ---- no answer: failed with why, once
ID=$(h1 "SELECT http_request_async('GET', '$U/sleep/3000', '{}', NULL, 400)")
t_is "$(h1 "CALL http_wait($ID, 5000)" | jget 'd["status"], d["response_status"], d["error"]')" "('failed', None, 'timed out after 400 ms')" \
     "a timeout: failed, the reason kept"
ID=$(h1 "SELECT http_request_async('GET', '$U/loop', '{}', NULL, NULL)")
t_is "$(h1 "CALL http_wait($ID, 5000)" | jget 'd["status"], d["error"]')" "('failed', 'redirected more than 5 times')" "endless redirects"
ID=$(h1 "SELECT http_request_async('GET', '$U/redirect-ftp', '{}', NULL, NULL)")
t_like "$(h1 "CALL http_wait($ID, 5000)" | jget 'd["status"], d["error"]')" "^\('failed', '.*scheme other than http or https" "a redirect to ftp: refused"
FREE=$(free_port)
ID=$(h1 "SELECT http_request_async('GET', 'http://127.0.0.1:$FREE/x', '{}', NULL, NULL)")
t_like "$(h1 "CALL http_wait($ID, 5000)" | jget 'd["status"], d["error"]')" "^\('failed', .*(onnect|refused)" "nobody listening: failed"
t_is "$(h1 "SELECT attempts FROM __fi_http_queue WHERE id = $ID")" 1 "one attempt (a request from SQL need not be idempotent)"
mdb "UPDATE integrations.http_settings SET max_response_kb = 1024 WHERE id = 1"
ID=$(h1 "SELECT http_request_async('GET', '$U/huge', '{}', NULL, NULL)")
t_is "$(h1 "CALL http_wait($ID, 8000)" | jget 'd["status"], d["error"]')" \
     "('failed', 'the response is larger than integrations.http_settings.max_response_kb (1024 kB)')" "an answer over the cap: failed"
mdb "UPDATE integrations.http_settings SET max_response_kb = 10240 WHERE id = 1"
ID=$(h1 "SELECT http_request_async('GET', '$U/binary', '{}', NULL, NULL)")
t_is "$(h1 "CALL http_wait($ID, 5000)" 2>&1 | sed -n 's/^ERROR [0-9]* (\([0-9A-Z]*\)).*: /\1: /p')" \
     "22021: the response body is not UTF-8 text (read response_body from __fi_http_queue for its bytes)" "a binary answer as text: a clear error"
t_is "$(h1 "SELECT status, HEX(response_body) FROM __fi_http_queue WHERE id = $ID")" "done	00FFFE" "its bytes are in the row"

# ---- refused as http_request refuses: nothing queued
N0=$(h1 "SELECT COUNT(*) FROM __fi_http_queue")
t_is "$(h1_err "SELECT http_request_async('TRACE', '$U/json', NULL, NULL, NULL)")" \
     "$(h1_err "SELECT http_request('TRACE', '$U/json', NULL, NULL, NULL)")" "an unknown method: the same refusal as http_request"
t_like "$(h1_err "SELECT http_request_async('GET', 'ftp://127.0.0.1/x', NULL, NULL, NULL)")" '^22023: ' "another scheme: 22023"
t_like "$(h1_err "SELECT http_request_async('GET', '$U/json', '{\"Bad Name\": \"x\"}', NULL, NULL)")" '^22023: ' "a header name that is no token: 22023"
t_like "$(h1_err "SELECT http_request_async('GET', '$U/json', '{\"X-A\": \"a\\\\r\\\\nX-B: b\"}', NULL, NULL)")" '^22023: ' "a header value with CR LF: 22023"
t_like "$(h1_err "SELECT http_request_async('GET', '$U/json', '[1]', NULL, NULL)")" '^22023: headers must be a JSON object' "headers not an object"
t_like "$(h1_err "SELECT http_request_async('GET', '$U/json', NULL, NULL, 0)")" '^22023: ' "a timeout of 0: 22023"
t_like "$(h1_err "SELECT http_request_async('GET', '$U/json', NULL, NULL, 600001)")" '^22023: ' "a timeout over 10 min: 22023"
t_is "$(h1 "SELECT COUNT(*) FROM __fi_http_queue")" "$N0" "nothing queued by any of them"
t_like "$(h1_err "SELECT http_result(999999)")" '^P0002: no queued HTTP request 999999' "an unknown id: P0002"

# ---- SQL in every argument: values, never statements
ID=$(h1 "SELECT http_request_async('POST', '$U/echo?q=x''', '{\"X-Q\": \"a'');DELETE FROM tabUser;--\"}', 'b''; DROP TABLE tabUser', NULL)")
R=$(h1 "CALL http_wait($ID, 5000)")
t_is "$(printf '%s' "$R" | "$FI_PY" -c 'import json,sys; d=json.load(sys.stdin); b=json.loads(d["response_body"]); print(b["headers"]["x-q"] + "|" + b["body"])')" \
     "a');DELETE FROM tabUser;--|b'; DROP TABLE tabUser" "quotes and statements in a header and the body are sent as text"
t_is "$(h1 "SELECT (SELECT COUNT(*) > 0 FROM tabUser) + (SELECT COUNT(*) > 0 FROM __fi_http_queue)")" 2 \
     "and nothing they name is dropped or deleted"
t_like "$(h1_err "CALL http_wait('0; DROP TABLE __fi_http_queue', 10)")" '^(01000|22007|P0002): ' \
     "CALL http_wait with SQL as the id: refused as a number, no statement run"
t_is "$(h1 "SELECT COUNT(*) > 0 FROM __fi_http_queue")" 1 "(the queue is there)"

# ---- who may queue: the site's own user only
t_is "$(h1_err "SELECT http_request_async('GET', '$U/json', NULL, NULL, NULL)" plain pw-plain)" \
     "42501: permission denied: only the site's own database user sends HTTP requests from SQL" "another account: refused"
t_is "$(h1_err "INSERT INTO __fi_http_queue (method, url, timeout_ms, max_response, next_attempt_at, requested_by, created_at) VALUES ('GET', '$U/status/202', 1000, 1024, UTC_TIMESTAMP(6), 'x', UTC_TIMESTAMP(6))" plain pw-plain)" \
     "42501: permission denied: only the site's own database user queues HTTP requests (http_request_async)" \
     "another account with INSERT on the site's tables cannot write the queue around the gate"
t_is "$(h1_err "UPDATE __fi_http_queue SET url = '$U/status/202' WHERE id = $ID" plain pw-plain)" \
     "42501: permission denied: only the site's own database user queues HTTP requests (http_request_async)" "nor change a row"
t_is "$(h1 "SELECT COUNT(*) FROM __fi_http_queue WHERE url LIKE '%/status/202'")" 0 "no such row"
mdb "INSERT INTO _h1.__fi_http_queue (method, url, timeout_ms, max_response, next_attempt_at, requested_by, created_at) VALUES ('GET', 'x', 1000, 1024, UTC_TIMESTAMP(6), 'x', UTC_TIMESTAMP(6))" 2>&1 | grep -c 42501 > "$MD/root_insert"
t_is "$(cat "$MD/root_insert")" 1 "not even root writes it directly"
# a row written by the site's user by hand is checked again before it is sent
ID=$(h1 "INSERT INTO __fi_http_queue (method, url, timeout_ms, max_response, next_attempt_at, requested_by, created_at) VALUES ('GET', 'file:///etc/passwd', 1000, 1024, UTC_TIMESTAMP(6), USER(), UTC_TIMESTAMP(6)); SELECT LAST_INSERT_ID()")
t_like "$(h1 "CALL http_wait($ID, 5000)" | jget 'd["status"], d["error"]')" "^\('failed', '.*(http|scheme)" "a row written by hand: checked by the worker, a file URL never read"

# ---- the Integration Request log
ID=$(h1 "SET @frappe_integrations_http_log = 1; SELECT http_request_async('POST', 'http://user:pw@127.0.0.1:$P/echo?token=abc', '{\"Authorization\": \"token k:s\"}', 'x=1', NULL)")
IR=$(h1 "SELECT integration_request FROM __fi_http_queue WHERE id = $ID")
t_like "$IR" '^[0-9a-z]{10}$' "with @frappe_integrations_http_log = 1: an Integration Request row named in the queue row"
h1 "CALL http_wait($ID, 5000)" >/dev/null
t_like "$(h1 "SELECT status, request_description, integration_request_service, url, JSON_VALUE(request_headers, '\$.Authorization'), data, error IS NULL, JSON_VALUE(output, '\$.method') FROM \`tabIntegration Request\` WHERE name = '$IR'")" \
     "^Completed	POST 200	127\.0\.0\.1	http://127\.0\.0\.1:$P/echo\?token=\*+	\*+	x=1	1	POST$" \
     "completed by the worker: Completed, \"POST 200\", credentials masked, the response in output"
ID=$(h1 "SET @frappe_integrations_http_log = 1; SELECT http_request_async('GET', '$U/sleep/2000', NULL, NULL, 300)")
IR=$(h1 "SELECT integration_request FROM __fi_http_queue WHERE id = $ID")
h1 "CALL http_wait($ID, 5000)" >/dev/null
t_is "$(h1 "SELECT status, request_description, error FROM \`tabIntegration Request\` WHERE name = '$IR'")" "Failed	GET (no response)	timed out after 300 ms" \
     "no answer: Failed, \"GET (no response)\", the reason in error"
ID=$(h1 "SET @frappe_integrations_http_log = 1; SELECT http_request_async('GET', '$U/status/404', NULL, NULL, NULL)")
IR=$(h1 "SELECT integration_request FROM __fi_http_queue WHERE id = $ID")
h1 "CALL http_wait($ID, 5000)" >/dev/null
t_is "$(h1 "SELECT status, request_description, error FROM \`tabIntegration Request\` WHERE name = '$IR'")" "Failed	GET 404	{\"error\": \"x\"}" \
     "a 404: Failed, the response in error"
t_is "$(grep -c 'k:s\|pw@' "$MD/w1.log")" 0 "no credential in the worker's log"

# ---- many at once, across the multi handle
h1 "START TRANSACTION; $(for i in $(seq 200); do printf "DO http_request_async('GET', '%s/sleep/50?n=%d', NULL, NULL, NULL); " "$U" "$i"; done) COMMIT"
t_ok "200 requests of one transaction, each 50 ms: all done within 10 s" \
     wait_for "SELECT COUNT(*) = 200 FROM __fi_http_queue WHERE url LIKE '%/sleep/50?n=%' AND status = 'done'" 100
t_is "$(curl -s "$U/hits" | "$FI_PY" -c 'import json,sys; h=json.load(sys.stdin); print(sum(v for k, v in h.items() if k.startswith("/sleep/50?n=")), max(v for k, v in h.items() if k.startswith("/sleep/50?n=")))')" \
     "200 1" "each sent once"

# ---- the worker stopping: SIGTERM puts a request in flight back; a worker gone -9 leaves a lease
ID=$(h1 "SELECT http_request_async('GET', '$U/sleep/1500?term', NULL, NULL, 3000)")
wait_for "SELECT status = 'sending' FROM __fi_http_queue WHERE id = $ID" 50
stop_worker
t_is "$(h1 "SELECT status, attempts, lease_until IS NULL FROM __fi_http_queue WHERE id = $ID")" "pending	0	1" \
     "SIGTERM while it is in flight: put back, due at once, the send not counted"
worker "$MD/w2.log"
t_is "$(h1 "CALL http_wait($ID, 5000)" | jget 'd["status"], d["response_status"]')" "('done', 200)" "the next worker sends it"
ID=$(h1 "SELECT http_request_async('GET', '$U/sleep/1500?kill', NULL, NULL, 1000)")
wait_for "SELECT status = 'sending' FROM __fi_http_queue WHERE id = $ID" 50
kill -KILL "${MDB_WORKERS[-1]}"; wait "${MDB_WORKERS[-1]}" 2>/dev/null || true; unset 'MDB_WORKERS[-1]'
t_is "$(h1 "SELECT status, attempts, lease_until > UTC_TIMESTAMP(6) FROM __fi_http_queue WHERE id = $ID")" "sending	1	1" \
     "a worker killed -9 while sending: the row keeps its lease (the timeout and 5 s)"
worker "$MD/w3.log"
t_is "$(h1 "CALL http_wait($ID, 12000)" | jget 'd["status"], d["error"]')" "('failed', 'timed out after 1000 ms')" \
     "the lease run out: sent again by the next worker (its one more attempt recorded)"
t_is "$(h1 "SELECT attempts FROM __fi_http_queue WHERE id = $ID")" 2 "two sends"
h1 "UPDATE __fi_http_queue SET status = 'sending', attempts = 3, lease_until = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND WHERE id = $ID"
BEFORE=$(hits "/sleep/1500?kill")
t_is "$(h1 "CALL http_wait($ID, 5000)" | jget 'd["status"], d["error"]')" "('failed', 'the worker stopped while sending this request 3 times')" \
     "sent three times without an outcome: failed, not sent a fourth"
t_is "$(hits "/sleep/1500?kill")" "$BEFORE" "(nothing more sent)"
stop_worker

# ---- retention: finished rows deleted --http-retention after finished_at
h1 "UPDATE __fi_http_queue SET finished_at = UTC_TIMESTAMP(6) - INTERVAL 2 HOUR WHERE id = $ID"
PEND=$(h1 "SELECT COUNT(*) FROM __fi_http_queue WHERE finished_at IS NULL")
worker "$MD/w4.log" --http-retention 3600
t_ok "a row finished 2 h ago, --http-retention 3600: deleted" wait_for "SELECT COUNT(*) = 0 FROM __fi_http_queue WHERE id = $ID" 50
t_is "$(h1 "SELECT COUNT(*) > 200 FROM __fi_http_queue")" 1 "the others kept"
stop_worker
t_like "$(tail -1 "$MD/w4.log")" '^LOG: +worker stopped \(signal\)' "the worker stops on SIGTERM"
t_done
