#!/usr/bin/env bash
# MariaDB, part 3 (issue 20, point 5): outbound HTTP from SQL in a site's
# database against the local peer (test/tools/http_peer.py on 127.0.0.1):
# methods, headers and bodies as sent, the answer as one JSON object,
# redirects, HTTPS with an unknown CA, a slow server (the timeout bounds the
# server's thread; a KILL waits for it), a huge answer (capped), the same
# refusals and words as PostgreSQL's, who may send (the site's own user;
# the UDF refuses everyone else), no secret in any log, many connections.
source "$FI_ROOT/test/lib.sh"
source "$FI_ROOT/test/mariadb/server.sh"
KEY=$($FI_PY "$FI_ROOT/test/oracles.py" fernet-key)
make -s -C "$FI_ROOT" mariadb >/dev/null
MD=$FI_TMP/mariadb_http
rm -rf "$MD"
http_peer mdb_http
trap 'mdb_stop; kill $PEER_PID 2>/dev/null' EXIT
mdb_start "$MD"
FI=("$FI_ROOT/bin/frappe-integrations")
CONN=(--socket "$MDB_SOCK" --user root)
for s in _site1 _site2; do
    mdb_site $s "pw-$s"
    printf '{"db_name": "%s", "encryption_key": "%s"}\n' "$s" "$KEY" > "$MD/$s.json"
    chmod 600 "$MD/$s.json"
    "${FI[@]}" install "${CONN[@]}" --plugin-dir "$MDB_PLUGIN" --site $s --site-user $s --key-file "$MD/$s.json" >/dev/null
done
# the second install replaced the library the server had loaded: the server maps the new file only
t_is "$(grep 'frappe_integrations.so' /proc/$MDB_PID/maps | awk '{print $5, $6, $7}' | sort -u | sed "s|$MDB_PLUGIN/||")" \
     "$(stat -c %i "$MDB_PLUGIN/frappe_integrations.so") frappe_integrations.so " \
     "install again on a running server (an upgrade): every UDF is made from the new library, the old one unloaded"
mdb "CREATE USER plain@localhost IDENTIFIED BY 'pw-plain'; GRANT EXECUTE ON _site1.* TO plain@localhost; GRANT EXECUTE ON integrations.* TO plain@localhost"
GATE=$(mdb "SELECT secret FROM integrations.http_gate")
mdb "SET GLOBAL general_log_file = '$MD/general.log'; SET GLOBAL general_log = 1"
as() { mariadb --no-defaults --socket="$MDB_SOCK" -u "$1" -p"pw-$1" -D "${3:-$1}" -N -B -r -e "$2" 2>&1; }
as_err() {
    local out
    if out=$(mariadb --no-defaults --socket="$MDB_SOCK" -u "$1" -p"pw-$1" -D "${3:-$1}" -N -B -r -e "$2" 2>&1); then
        echo "NO ERROR: $out"
    else
        printf '%s\n' "$out" | sed -n 's/^ERROR [0-9]* (\([0-9A-Z]*\))[^:]*: /\1: /p' | head -1
    fi
}
s1() { as _site1 "$1"; }
e1() { as_err _site1 "$1"; }
jget() { $FI_PY -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }

t_like "$GATE" '^[0-9a-f]{64}$' "install made the server's HTTP gate (64 hex digits of random)"
t_is "$(cat "$MDB_PLUGIN/frappe_integrations.gate")" "$(printf '%s' "$GATE" | sha256sum | cut -c1-64)" \
     "beside the library: its SHA-256, not the gate"

# ---- requests and answers
t_is "$(s1 "SELECT http_request('GET', '$U/json', NULL, NULL, NULL)" | jget 'd["status"], d["headers"]["content-type"], d["body"]')" \
     "(200, 'application/json; charset=utf-8', '{\"ok\": true, \"n\": 1.5, \"s\": \"caf\\\\u00e9\"}')" "GET: status, headers (lower-case names), body"
t_is "$(s1 "SELECT http_request('post', '$U/echo', '{\"X-Api-Key\": \"k1\", \"Content-Type\": \"application/json\"}', '{\"a\": \"é\"}', NULL)" \
        | jget 'json.loads(d["body"])["method"], json.loads(d["body"])["body"], json.loads(d["body"])["headers"]["x-api-key"], json.loads(d["body"])["headers"]["user-agent"]')" \
     "('POST', '{\"a\": \"é\"}', 'k1', 'frappe_integrations/0.12.0')" "POST: the method (any case), headers and UTF-8 body as sent"
t_is "$(s1 "SELECT JSON_VALUE(http_request('GET', '$U/echo', '{}', NULL, NULL), '\$.headers.\"x-multi\"')")" "a, b" "a repeated response header is joined"
t_is "$(s1 "SELECT JSON_KEYS(http_request('GET', '$U/json', '{}', NULL, NULL))")" '["body", "status", "headers"]' "the answer's keys in jsonb's order"
t_is "$(s1 "SELECT JSON_KEYS(JSON_EXTRACT(http_request('GET', '$U/json', '{}', NULL, NULL), '\$.headers'))")" \
     '["date", "server", "content-type", "content-length"]' "the header names in jsonb's order (as PostgreSQL's response_headers)"
t_is "$(s1 "SELECT GROUP_CONCAT(CONCAT(m, '=', JSON_VALUE(JSON_VALUE(http_request(m, '$U/echo', '{}', 'x', NULL), '\$.body'), '\$.method')) ORDER BY m SEPARATOR ' ')
            FROM (SELECT 'PUT' m UNION ALL SELECT 'PATCH' UNION ALL SELECT 'DELETE' UNION ALL SELECT 'OPTIONS') x")" \
     "DELETE=DELETE OPTIONS=OPTIONS PATCH=PATCH PUT=PUT" "PUT, PATCH, DELETE, OPTIONS"
t_is "$(s1 "SELECT JSON_VALUE(r, '\$.status'), JSON_VALUE(r, '\$.body') = '' FROM (SELECT http_request('HEAD', '$U/json', '{}', NULL, NULL) r) x")" "200	1" "HEAD: no body"
t_is "$(s1 "SELECT HEX(FROM_BASE64(JSON_VALUE(http_request_bytes('GET', '$U/binary', '{}', NULL, NULL), '\$.body')))")" "00FFFE" \
     "http_request_bytes: a binary body, as base64"
t_is "$(e1 "SELECT http_request('GET', '$U/binary', '{}', NULL, NULL)")" \
     "22021: the response body is not UTF-8 text (http_request_bytes gives it as base64)" "a binary body as text: a clear error"
t_is "$(s1 "SELECT JSON_VALUE(http_request('GET', '$U/status/503', '{}', NULL, NULL), '\$.status')")" "503" "any status is an answer"
t_is "$(s1 "SELECT HEX(JSON_VALUE(JSON_VALUE(http_request('POST', '$U/echo', '{}', X'C3FF00', NULL), '\$.body'), '\$.body'))")" \
     "EFBFBDEFBFBD00" "a body's bytes are sent as they are (the peer decodes them with replacement)"

# ---- Frappe's make_request shortcuts: the answer by its content type, as PostgreSQL's
t_is "$(s1 "SELECT JSON_VALUE(http_get('$U/json', NULL, NULL), '\$.s'), JSON_VALUE(http_get('$U/echo', NULL, NULL), '\$.method')")" "café	GET" \
     "http_get: application/json and application/…+json parsed"
t_is "$(s1 "SELECT http_get('$U/json', NULL, NULL)")" '{"n": 1.5, "s": "café", "ok": true}' "as jsonb prints it (keys by length, then bytes: PostgreSQL's text)"
t_is "$(s1 "SELECT http_get('$U/qs', NULL, NULL)")" '{"a": ["1", "2"], "b": ["x y"], "d": ["é"]}' "text/plain; charset=utf-8: parse_qs (blank values dropped)"
t_is "$(s1 "SELECT http_get('$U/text', '{}', NULL), COALESCE(http_get('$U/empty', '{}', NULL), 'NULL')")" '"héllo"	NULL' "other text: a JSON string; no content type: NULL"
t_is "$(s1 "SELECT JSON_VALUE(http_post('$U/echo', 'x=1', NULL, NULL), '\$.body'), JSON_VALUE(http_put('$U/echo', 'y', NULL, NULL), '\$.method'),
                   JSON_VALUE(http_patch('$U/echo', NULL, NULL, NULL), '\$.method'), JSON_VALUE(http_delete('$U/echo', NULL, NULL), '\$.method')")" \
     "x=1	PUT	PATCH	DELETE" "http_post, http_put, http_patch, http_delete"
t_is "$(e1 "SELECT http_get('$U/status/404', NULL, NULL)")" "08006: HTTP 404 Client Error (GET to 127.0.0.1 answered 404.)" "an error status raises, as raise_for_status"
t_is "$(e1 "SELECT http_get('$U/status/503', NULL, NULL)")" "08006: HTTP 503 Server Error (GET to 127.0.0.1 answered 503.)" "and a Server Error"
t_is "$(e1 "SELECT http_get('$U/binary', NULL, NULL)")" "22021: the response body is not UTF-8 text" "a binary answer: refused, as PostgreSQL's"

# ---- redirects, HTTPS
t_is "$(s1 "SELECT JSON_VALUE(r, '\$.status'), JSON_VALUE(JSON_VALUE(r, '\$.body'), '\$.ok') FROM (SELECT http_request('GET', '$U/redirect', '{}', NULL, NULL) r) x")" \
     "200	1" "a redirect is followed"
t_is "$(e1 "SELECT http_request('GET', '$U/redirect-ftp', '{}', NULL, NULL)")" \
     "08006: HTTP request to 127.0.0.1 was redirected to a scheme other than http or https" "a redirect to ftp:// is refused"
t_is "$(e1 "SELECT http_request('GET', '$U/loop', '{}', NULL, NULL)")" "08006: HTTP request to 127.0.0.1 was redirected more than 5 times" "a redirect loop ends"
t_like "$(e1 "SELECT http_request('GET', '$US/json', '{}', NULL, NULL)")" "^08006: HTTP request to 127.0.0.1 failed: .*(certificate|SSL)" "HTTPS with an unknown CA: refused"
mdb "UPDATE integrations.http_settings SET ca_bundle = '$CERTS/ca.pem'"
t_is "$(s1 "SELECT JSON_VALUE(r, '\$.status'), JSON_VALUE(JSON_VALUE(r, '\$.body'), '\$.ok') FROM (SELECT http_request('GET', '$US/json', '{}', NULL, NULL) r) x")" \
     "200	1" "HTTPS trusted through integrations.http_settings' ca_bundle"
mdb "UPDATE integrations.http_settings SET ca_bundle = NULL, max_redirects = 0, max_response_kb = 1024"
t_like "$(e1 "SELECT http_request('GET', '$US/json', '{}', NULL, NULL)")" "^08006: .*certificate" "and refused again once it is gone"
t_is "$(s1 "SELECT JSON_VALUE(http_request('GET', '$U/redirect', '{}', NULL, NULL), '\$.status')")" "302" "max_redirects 0: the redirect is the answer"
t_is "$(e1 "SELECT http_request('GET', '$U/huge', '{}', NULL, NULL)")" \
     "54000: the response from 127.0.0.1 is larger than integrations.http_settings.max_response_kb (1024 kB)" "max_response_kb 1024: a 64 MB answer stops at 1 MB"
t_like "$(mdb_err "UPDATE integrations.http_settings SET max_redirects = 21")" "^23000: CONSTRAINT .http_settings_redirects. failed" "a setting out of range is refused"
mdb "UPDATE integrations.http_settings SET max_redirects = 5, max_response_kb = 10240"

# ---- a slow server: the timeout bounds the connection's thread; a KILL takes effect when it ends
T0=$(date +%s.%N)
t_is "$(e1 "SELECT http_request('GET', '$U/slow', '{}', NULL, 700)")" "08006: HTTP request to 127.0.0.1 timed out after 700 ms" "a timeout"
T1=$(date +%s.%N)
t_is "$($FI_PY -c "print(0.6 < $T1 - $T0 < 3)")" "True" "it ends at its limit, not the server's 20 s"
( e1 "SELECT http_request('GET', '$U/slow', '{}', NULL, 2000)" > "$MD/killed.out" ) &
KP=$!
for _ in $(seq 50); do
    ID=$(mdb "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT http_request(%slow%'")
    [ -n "$ID" ] && break; sleep 0.05
done
T2=$(date +%s.%N)
mdb "KILL QUERY $ID"
wait $KP
T3=$(date +%s.%N)
echo "# KILL QUERY gave: $(cat "$MD/killed.out"), after $($FI_PY -c "print(round($T3 - $T2, 2))") s"
t_like "$(cat "$MD/killed.out")" "^(70100|08006): " "KILL QUERY during a request: the statement ends (interrupted, or the request's own error)"
t_is "$($FI_PY -c "print($T3 - $T2 < 3)")" "True" "within the request's timeout (2 s), the thread held no longer"
t_is "$(e1 "SELECT http_request('GET', '$U/huge', '{}', NULL, NULL)")" "54000: the response from 127.0.0.1 is larger than integrations.http_settings.max_response_kb (10240 kB)" \
     "a 64 MB answer stops at 10 MB"

# ---- bad input: refused before anything is sent, with PostgreSQL's words
for c in "'GET', 'ftp://127.0.0.1/x', NULL, NULL, NULL|22023: URL scheme \"ftp\" is not allowed" \
         "'GET', 'file:///etc/passwd', NULL, NULL, NULL|22023: URL scheme \"file\" is not allowed" \
         "'GET', 'not a url', NULL, NULL, NULL|22023: malformed URL (A URL has no blanks or line breaks and is at most 8192 characters.)" \
         "'GET', 'http://', NULL, NULL, NULL|22023: malformed URL (Expected http://host/… or https://host/….)" \
         "'BREW', '$U/refused', NULL, NULL, NULL|22023: unknown HTTP method \"BREW\"" \
         "'GET', '$U/refused', '{\"X-A\": \"v\\\\r\\\\nX-Injected: 1\"}', NULL, NULL|22023: the value of header \"X-A\" contains a line break (CR and LF in a header would let a value inject headers.)" \
         "'GET', '$U/refused', '{\"X A\": \"v\"}', NULL, NULL|22023: a header name is not a valid HTTP token (Header names are letters, digits and !#\$%&'*+-.^_\`|~; no blanks, colons, CR or LF.)" \
         "'GET', '$U/refused', '{\"X-A\": 1}', NULL, NULL|22023: the value of header \"X-A\" must be a string" \
         "'GET', '$U/refused', '[]', NULL, NULL|22023: headers must be a JSON object of strings" \
         "'GET', '$U/refused', '{nope', NULL, NULL|22P02: invalid JSON in headers" \
         "'GET', '$U/refused', '{\"X-A\": \"a\\\\u0000b\"}', NULL, NULL|22P05: invalid JSON in headers" \
         "'GET', '$U/refused', '{}', NULL, -1|22023: timeout_ms must be between 1 and 600000 (It was -1.)" \
         "'GET', '$U/refused', '{}', NULL, 999999999|22023: timeout_ms must be between 1 and 600000 (It was 999999999.)" \
         "NULL, '$U/refused', '{}', NULL, NULL|22023: method and url are required" \
         "'GET', CONCAT('$U/refused', CHAR(0)), '{}', NULL, NULL|22023: the method and the URL must not contain NUL bytes" \
         "'GET', ''' OR 1=1 -- ', '{}', NULL, NULL|22023: malformed URL (A URL has no blanks or line breaks and is at most 8192 characters.)"; do
    args=${c%%|*}; want=${c#*|}
    got=$(e1 "SELECT http_request($args)")
    case "$want" in
        22P0*) t_like "$got" "^$want: " "refused: $args" ;;
        *) t_is "$got" "$want" "refused: $args" ;;
    esac
done
t_is "$(curl -s "$U/hits" | $FI_PY -c 'import json,sys; print(json.load(sys.stdin).get("/refused", 0))')" "0" \
     "no refused request reached the peer"

# ---- tabIntegration Request rows when asked (@frappe_integrations_http_log, as PostgreSQL's http_log)
t_is "$(s1 "SET @frappe_integrations_http_log = 1;
            SELECT JSON_VALUE(http_request('POST', 'http://u:pw@127.0.0.1:$P/echo?a=1&api_key=zz', '{\"Authorization\": \"Bearer s3cr3t\", \"X-Api-Key\": \"k\", \"Accept\": \"text/plain\"}', 'payload', NULL), '\$.status');
            SELECT JSON_VALUE(http_request('GET', '$U/status/502', NULL, NULL, NULL), '\$.status');
            SELECT JSON_KEYS(http_request_bytes('GET', '$U/binary', NULL, NULL, NULL))")" '200
502
["body", "status", "headers"]' "logging on: the answers as without it"
t_is "$(s1 "SELECT CONCAT_WS(' | ', integration_request_service, status, request_description, url, data, output IS NOT NULL, error)
            FROM \`tabIntegration Request\` ORDER BY request_description")" \
     "127.0.0.1 | Completed | GET 200 | $U/binary | 1
127.0.0.1 | Failed | GET 502 | $U/status/502 | 0 | {\"error\": \"x\"}
127.0.0.1 | Completed | POST 200 | http://127.0.0.1:$P/echo?a=1&api_key=******** | payload | 1" \
     "each request logged as Frappe's Integration Request: Completed with output, Failed with error; the URL without user, password or key"
t_is "$(s1 "SELECT request_headers FROM \`tabIntegration Request\` WHERE request_description = 'POST 200'" | tr -d '\n')" \
     '{ "Accept": "text/plain", "X-Api-Key": "***", "Authorization": "***"}' "credentials in the logged headers are masked (jsonb's key order, PostgreSQL's text)"
t_is "$(s1 "SELECT output FROM \`tabIntegration Request\` WHERE request_description = 'GET 200'")" "(3 bytes, not UTF-8 text)" \
     "a binary answer is noted, not stored"
t_is "$(s1 "SELECT COUNT(*) FROM \`tabIntegration Request\` WHERE request_headers LIKE '%s3cr3t%' OR url LIKE '%pw%' OR url LIKE '%zz%'
                                                            OR LENGTH(name) <> 10 OR creation IS NULL OR owner <> 'Administrator'")" "0" \
     "no secret in any logged row; each row named and stamped as Frappe's"
s1 "SELECT http_request('GET', '$U/json', NULL, NULL, NULL);
    SET @frappe_integrations_http_log = 1; START TRANSACTION; SELECT http_request('GET', '$U/json', NULL, NULL, NULL); ROLLBACK;
    SELECT http_request('GET', '$U/slow', NULL, NULL, 300)" > /dev/null
t_is "$(s1 "SET @frappe_integrations_http_log = 0; SELECT JSON_VALUE(http_request('GET', '$U/json', NULL, NULL, NULL), '\$.status');
            SET @frappe_integrations_http_log = 'off'; SELECT JSON_VALUE(http_request('GET', '$U/json', NULL, NULL, NULL), '\$.status')")" "200
200" "logging off by 0 or 'off': the requests are answered"
t_is "$(s1 "SELECT COUNT(*) FROM \`tabIntegration Request\`")" "3" \
     "no row unless asked, none from a rolled-back transaction, none for a request that ended in an error"

# ---- who may send
t_is "$(as_err plain "SELECT _site1.http_request('GET', '$U/json', NULL, NULL, NULL)" _site1)" \
     "42501: permission denied: only the site's own database user sends HTTP requests from SQL" "another account, even with EXECUTE on the site: 42501"
t_like "$(as_err _site2 "SELECT _site1.http_request('GET', '$U/json', NULL, NULL, NULL)")" "^42000: execute command denied" "another site's user: no EXECUTE"
t_is "$(as _site2 "SELECT JSON_VALUE(http_request('GET', '$U/json', NULL, NULL, NULL), '\$.status')")" "200" "each site's user sends from its own database"
t_is "$(as plain "SELECT COALESCE(fi_udf_http_request('$(printf '0%.0s' $(seq 64))', 'GET', '$U/json', '{}', NULL, 1000, 0, 1048576, 0, 0, NULL), 'NULL'), fi_udf_last_error()" _site1)" \
     "NULL	42501:permission denied: HTTP from SQL only through a site's http_request" "the UDF called directly with a wrong gate: nothing sent"
t_is "$(as plain "SELECT COALESCE(fi_udf_http_request(NULL, 'GET', '$U/json', '{}', NULL, 1000, 0, 1048576, 0, 0, NULL), 'NULL')" _site1)" "NULL" "without one: nothing sent"
t_like "$(as_err plain "SELECT COALESCE(fi_udf_http_request(secret, 'GET', '$U/json', '{}', NULL, 1000, 0, 1048576, 0, 0, NULL), 'NULL') FROM integrations.http_gate" _site1)" \
     "^42000: SELECT command denied to user 'plain'@'localhost'" "nor can a site user read the gate"
t_like "$(as_err _site1 "SELECT secret FROM integrations.http_gate")" "^42000: SELECT command denied to user '_site1'@'localhost'" "not even a site's own user"
mv "$MDB_PLUGIN/frappe_integrations.gate" "$MD/gate.saved"
t_like "$(e1 "SELECT http_request('GET', '$U/json', NULL, NULL, NULL)")" "^42501: HTTP from SQL is not set up on this server: no frappe_integrations.gate beside the library" \
     "no gate file beside the library: refused, said plainly"
mv "$MD/gate.saved" "$MDB_PLUGIN/frappe_integrations.gate"
t_is "$(grep -c "SELECT http_request('GET', '$U/json'" "$MD/general.log" | sed 's/^[1-9][0-9]*$/some/') $(grep -c "$GATE" "$MD/general.log" "$MD/error.log" | cut -d: -f2 | tr '\n' ' ')" "some 0 0 " \
     "the gate is in no log (the general log holds every statement a client sent)"
( s1 "SELECT http_request('GET', '$U/sleep/1500', NULL, NULL, NULL)" > /dev/null ) &
KP=$!
sleep 0.7
t_is "$(mdb "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT http_request(%sleep/1500%'") $(mdb "SELECT INFO FROM information_schema.PROCESSLIST" | grep -c "$GATE")" \
     "1 0" "nor in the process list while a request runs"
wait $KP

# ---- many connections at once
PIDS=()
for i in $(seq 8); do
    ( for j in $(seq 25); do
          s1 "SELECT JSON_VALUE(http_request('POST', '$U/echo', '{\"X-N\": \"$i-$j\"}', '$i-$j', 5000), '\$.status'),
                     JSON_VALUE(JSON_VALUE(http_request('POST', '$U/echo', '{\"X-N\": \"$i-$j\"}', '$i-$j', 5000), '\$.body'), '\$.body') = '$i-$j',
                     COALESCE(JSON_VALUE(http_request('GET', '$U/sleep/5', NULL, NULL, 5000), '\$.status'), 'NULL')"
      done > "$MD/par.$i" 2>&1 ) &
    PIDS+=($!)
done
wait "${PIDS[@]}"	# (not a bare wait: the server is a child too)
cat "$MD"/par.[0-9]* > "$MD/par.out"
t_is "$(sort "$MD/par.out" | uniq -c | sed 's/^ *//')" "200 200	1	200" "8 connections × 25 rounds of three requests: every answer right"
PIDS=()
T0=$(date +%s.%N)
for i in $(seq 16); do
    ( e1 "SELECT http_request('GET', '$U/slow', NULL, NULL, 800)" > "$MD/hang.$i" ) &
    PIDS+=($!)
done
wait "${PIDS[@]}"
T1=$(date +%s.%N)
t_is "$(cat "$MD"/hang.* | sort | uniq -c | sed 's/^ *//')" "16 08006: HTTP request to 127.0.0.1 timed out after 800 ms" \
     "16 connections waiting on a receiver that never answers: each ends at its timeout"
t_is "$($FI_PY -c "print($T1 - $T0 < 4)")" "True" "all within a few seconds of the 800 ms (the threads are back)"
t_is "$(kill -0 $MDB_PID && echo alive)" "alive" "the server is still the same process"

"${FI[@]}" uninstall "${CONN[@]}" --site _site1 >/dev/null
t_is "$(mdb "SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = '_site1'")" "0" "uninstall --site drops the HTTP functions too"
t_is "$(as_err _site2 "SELECT 1" | cut -c1-9)" "NO ERROR:" "(the other site is untouched)"
"${FI[@]}" uninstall "${CONN[@]}" --plugin-dir "$MDB_PLUGIN" >/dev/null
t_is "$(ls "$MDB_PLUGIN")" "frappe_integrations.so" "uninstall removes the gate file (the library stays)"
t_done
