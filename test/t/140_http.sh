#!/usr/bin/env bash
# Outbound HTTP from SQL against a local peer (test/tools/http_peer.py on
# 127.0.0.1): methods, headers and bodies as sent, Frappe's make_request
# return rules, HTTPS with a test CA (trusted through ca_bundle, refused
# without it), a slow server (timeout, and statement_timeout stopping it at
# once), a huge response (cap), redirects (followed, to ftp refused, loops
# bounded), and bad input refused before anything is sent.
source "$FI_ROOT/test/lib.sh"
DB=fi_http
newdb $DB
http_peer http
trap 'kill $PEER_PID 2>/dev/null' EXIT

t_is "$(q $DB "SELECT status, response_headers ->> 'content-type', response_body FROM integrations.http_request('GET', '$U/json')")" \
     '200|application/json; charset=utf-8|{"ok": true, "n": 1.5, "s": "caf\u00e9"}' "GET: status, headers (lower-case names), body"
E=$(q $DB "SELECT response_body FROM integrations.http_request('post', '$U/echo', '{\"X-Api-Key\": \"k1\", \"Content-Type\": \"application/json\"}', '{\"a\": \"é\"}')")
t_is "$(echo "$E" | $FI_PY -c 'import json,sys; d=json.load(sys.stdin); print(d["method"], d["body"], d["headers"]["x-api-key"], d["headers"]["content-type"], d["headers"]["user-agent"].split("/")[0])')" \
     'POST {"a": "é"} k1 application/json frappe_integrations' "POST: the method (any case), headers and UTF-8 body as sent"
t_is "$(q $DB "SELECT response_headers ->> 'x-multi' FROM integrations.http_request('GET', '$U/echo')")" "a, b" "a repeated response header is joined"
t_is "$(q $DB "SELECT string_agg(m || '=' || (SELECT response_body::jsonb ->> 'method' FROM integrations.http_request(m, '$U/echo', '{}', 'x')), ' ') FROM unnest(ARRAY['PUT', 'PATCH', 'DELETE', 'OPTIONS']) m")" \
     "PUT=PUT PATCH=PATCH DELETE=DELETE OPTIONS=OPTIONS" "PUT, PATCH, DELETE, OPTIONS"
t_is "$(q $DB "SELECT status, response_body = '' FROM integrations.http_request('HEAD', '$U/json')")" "200|t" "HEAD: no body"
t_is "$(q $DB "SELECT encode(response_body, 'hex') FROM integrations.http_request_bytes('GET', '$U/binary')")" "00fffe" "http_request_bytes: a binary body"
t_is "$(q_err $DB "SELECT * FROM integrations.http_request('GET', '$U/binary')")" "22021: the response body is not UTF-8 text" "a binary body as text: a clear error"

# make_request's return rules
t_is "$(q $DB "SELECT integrations.http_get('$U/json') ->> 's', integrations.http_get('$U/echo') ->> 'method'")" "café|GET" "http_get: application/json and application/…+json parsed"
t_is "$(q $DB "SELECT integrations.http_get('$U/qs')")" '{"a": ["1", "2"], "b": ["x y"], "d": ["é"]}' "text/plain; charset=utf-8: parse_qs (blank values dropped)"
t_is "$(q $DB "SELECT integrations.http_get('$U/text'), coalesce(integrations.http_get('$U/empty')::text, 'NULL')")" '"héllo"|NULL' "other text: a JSON string; no content type: NULL"
t_is "$(q $DB "SELECT integrations.http_post('$U/echo', 'x=1') ->> 'body', integrations.http_put('$U/echo', 'y') ->> 'method', integrations.http_patch('$U/echo') ->> 'method', integrations.http_delete('$U/echo') ->> 'method'")" \
     "x=1|PUT|PATCH|DELETE" "http_post, http_put, http_patch, http_delete"
t_is "$(q_err $DB "SELECT integrations.http_get('$U/status/404')")" "08006: HTTP 404 Client Error" "an error status raises, as raise_for_status"
t_is "$(q $DB "SELECT status FROM integrations.http_request('GET', '$U/status/503')")" "503" "http_request returns any status"

# redirects
t_is "$(q $DB "SELECT status, response_body::jsonb ->> 'ok' FROM integrations.http_request('GET', '$U/redirect')")" "200|true" "a redirect is followed"
t_is "$(q_err $DB "SELECT * FROM integrations.http_request('GET', '$U/redirect-ftp')")" \
     "08006: HTTP request to 127.0.0.1 was redirected to a scheme other than http or https" "a redirect to ftp:// is refused"
t_is "$(q_err $DB "SELECT * FROM integrations.http_request('GET', '$U/loop')")" "08006: HTTP request to 127.0.0.1 was redirected more than 5 times" "a redirect loop ends"

# HTTPS: refused without the CA, accepted with it (ca_bundle), refused again without
t_like "$(q_err $DB "SELECT * FROM integrations.http_request('GET', '$US/json')")" "^08006: HTTP request to 127.0.0.1 failed: .*(certificate|SSL)" "HTTPS with an unknown CA: refused"
q $DB "ALTER SYSTEM SET frappe_integrations.ca_bundle = '$CERTS/ca.pem'"; q $DB "SELECT pg_reload_conf()" >/dev/null; sleep 0.5
t_is "$(q_err $DB "SELECT status, response_body::jsonb ->> 'ok' FROM integrations.http_request('GET', '$US/json')")" "NO ERROR: 200|true" "HTTPS trusted through frappe_integrations.ca_bundle"
q $DB "ALTER SYSTEM RESET frappe_integrations.ca_bundle"; q $DB "SELECT pg_reload_conf()" >/dev/null; sleep 0.5
t_like "$(q_err $DB "SELECT * FROM integrations.http_request('GET', '$US/json')")" "^08006: .*certificate" "and refused again once the setting is gone"

# a slow server: the timeout, and a cancel that stops the request at once
T0=$(date +%s.%N)
t_is "$(q_err $DB "SELECT * FROM integrations.http_request('GET', '$U/slow', '{}', NULL, 700)")" "08006: HTTP request to 127.0.0.1 timed out after 700 ms" "a timeout"
T1=$(date +%s.%N)
t_is "$(PGOPTIONS="-c statement_timeout=500" q_err $DB "SELECT * FROM integrations.http_request('GET', '$U/slow')")" "57014: canceling statement due to statement timeout" \
     "statement_timeout (as Ctrl-C) cancels a request"
T2=$(date +%s.%N)
t_is "$($FI_PY -c "print($T1 - $T0 < 3, $T2 - $T1 < 3)")" "True True" "both within a few hundred ms of their limits, not the server's 20 s"

# a huge response: capped
t_is "$(PGOPTIONS="-c frappe_integrations.http_max_response=1MB" q_err $DB "SELECT * FROM integrations.http_request('GET', '$U/huge')")" \
     "54000: the response from 127.0.0.1 is larger than frappe_integrations.http_max_response (1024 kB)" "a 64 MB response stops at the cap"

# bad input: refused before anything is sent
for c in "'GET', 'ftp://127.0.0.1/x'|22023: URL scheme \"ftp\" is not allowed" \
         "'GET', 'file:///etc/passwd'|22023: URL scheme \"file\" is not allowed" \
         "'GET', 'not a url'|22023: malformed URL" \
         "'GET', 'http://'|22023: malformed URL" \
         "'BREW', '$U/json'|22023: unknown HTTP method \"BREW\"" \
         "'GET', '$U/json', '{\"X-A\": \"v\\r\\nX-Injected: 1\"}'|22023: the value of header \"X-A\" contains a line break" \
         "'GET', '$U/json', '{\"X A\": \"v\"}'|22023: a header name is not a valid HTTP token" \
         "'GET', '$U/json', '{\"X-A\": 1}'|22023: the value of header \"X-A\" must be a string" \
         "'GET', '$U/json', '[]'|22023: headers must be a JSON object of strings" \
         "'GET', '$U/json', '{}', NULL, -1|22023: timeout_ms must be between 1 and 600000" \
         "'GET', '$U/json', '{}', NULL, 999999999|22023: timeout_ms must be between 1 and 600000"; do
    args=${c%%|*}; want=${c#*|}
    t_is "$(q_err $DB "SELECT * FROM integrations.http_request($args)")" "$want" "refused: $args"
done
t_is "$(q_err $DB "SELECT * FROM integrations.http_request('POST', '$U/echo', '{}', convert_from('\\xc3'::bytea, 'LATIN1'))" | cut -c1-5)" "NO ER" "a body's bytes are sent as they are"
# optional tabIntegration Request rows (frappe_integrations.http_log)
q $DB "SET frappe_integrations.http_log = on;
       SELECT status FROM integrations.http_request('POST', 'http://u:pw@127.0.0.1:$P/echo?a=1', '{\"Authorization\": \"Bearer s3cr3t\", \"X-Api-Key\": \"k\", \"Accept\": \"text/plain\"}', 'payload');
       SELECT status FROM integrations.http_request('GET', '$U/status/502');
       SELECT integrations.http_get('$U/json')" >/dev/null
t_is "$(q $DB "SELECT string_agg(concat_ws(' | ', integration_request_service, status, request_description, url, data, output IS NOT NULL, error), E'\n' ORDER BY request_description) FROM \"tabIntegration Request\"")" \
     "127.0.0.1 | Completed | GET 200 | $U/json | t
127.0.0.1 | Failed | GET 502 | $U/status/502 | f | {\"error\": \"x\"}
127.0.0.1 | Completed | POST 200 | http://127.0.0.1:$P/echo?a=1 | payload | t" \
     "each request logged as Frappe's Integration Request: Completed with output, Failed with error; the URL without its user and password"
t_is "$(q $DB "SELECT request_headers FROM \"tabIntegration Request\" WHERE request_description = 'POST 200'" | tr -d '\n')" \
     '{ "Accept": "text/plain", "X-Api-Key": "***", "Authorization": "***"}' "credentials in the logged headers are masked (jsonb's key order)"
t_is "$(q $DB "SELECT count(*) FROM \"tabIntegration Request\" WHERE request_headers LIKE '%s3cr3t%' OR url LIKE '%pw%'")" "0" "no secret in any logged row"
t_is "$(q $DB "SELECT status FROM integrations.http_request('GET', '$U/json'); SELECT count(*) FROM \"tabIntegration Request\"")" "200
3" "logging is off unless asked for"
# Integration Request helpers (create_request_log, update_status, handle_success / handle_failure)
IR=$(q $DB "SELECT integrations.create_request_log('{\"amount\": 100, \"reference_doctype\": \"Sales Invoice\", \"reference_docname\": \"SINV-1\"}', 'Remote', 'Razorpay')")
t_like "$IR" '^[0-9a-v]{10}$' "create_request_log: a hash-named row"
t_is "$(q $DB "SELECT concat_ws(' | ', integration_request_service, is_remote_request, status, reference_doctype, reference_docname) FROM \"tabIntegration Request\" WHERE name = '$IR'")" \
     "Razorpay | 1 | Queued | Sales Invoice | SINV-1" "Queued, Remote, the reference taken from the data"
q $DB "SELECT integrations.integration_request_update_status('$IR', '{\"payment_id\": \"pay_1\"}', 'Authorized')" >/dev/null
t_is "$(q $DB "SELECT status, data::jsonb ->> 'amount', data::jsonb ->> 'payment_id' FROM \"tabIntegration Request\" WHERE name = '$IR'")" "Authorized|100|pay_1" \
     "update_status merges the params into data and sets the status"
q $DB "SELECT integrations.integration_request_handle_success('$IR', '{\"captured\": true}')" >/dev/null
t_is "$(q $DB "SELECT status, output::jsonb ->> 'captured' FROM \"tabIntegration Request\" WHERE name = '$IR'")" "Completed|true" "handle_success: Completed with the output"
q $DB "SELECT integrations.integration_request_handle_failure('$IR', '{\"error\": \"declined\"}')" >/dev/null
t_is "$(q $DB "SELECT status, error::jsonb ->> 'error' FROM \"tabIntegration Request\" WHERE name = '$IR'")" "Failed|declined" "handle_failure: Failed with the error"
t_is "$(q_err $DB "SELECT integrations.integration_request_update_status('$IR', '{}', 'Paid')")" '22023: invalid Integration Request status "Paid"' "an unknown status"
t_is "$(q_err $DB "SELECT integrations.integration_request_handle_success('nope', '{}')")" "P0002: Integration Request nope not found" "an unknown request"
q $DB "CREATE ROLE fi_http_plain LOGIN; GRANT USAGE ON SCHEMA integrations TO fi_http_plain" >/dev/null
t_like "$(PGOPTIONS= PGUSER=fi_http_plain q_err $DB "SELECT * FROM integrations.http_request('GET', '$U/json')")" "^42501" "not for PUBLIC: a request leaves the server"
t_done
