#!/usr/bin/env bash
# MariaDB, part 1 (issue 18): the pure functions as UDFs behind the SQL
# functions of the database `integrations`, on a throwaway mariadbd
# (test/mariadb/server.sh) with the library built by `make mariadb` and
# installed by `frappe-integrations install`.  Every result is compared with
# the PostgreSQL extension's for the same call (which t/040 proves against
# Jinja2 and CPython); errors come back as SQL errors with PostgreSQL's
# SQLSTATEs; hostile input and 8 connections at once never take the server
# down (its PID stays the same).
source "$FI_ROOT/test/lib.sh"
source "$FI_ROOT/test/mariadb/server.sh"
DB=fi_mariadb_cmp
newdb $DB
make -s -C "$FI_ROOT" mariadb >/dev/null
MD=$FI_TMP/mariadb
rm -rf "$MD"
trap 'mdb_stop' EXIT
mdb_start "$MD"
PID0=$MDB_PID
out=$("$FI_ROOT/bin/frappe-integrations" install --socket "$MDB_SOCK" --user root --plugin-dir "$MDB_PLUGIN")
t_is "$out" "frappe-integrations 0.12.0 installed" \
     "frappe-integrations install: the library into plugin_dir, the UDFs and the SQL functions"
t_is "$("$FI_ROOT/bin/frappe-integrations" version) $(mdb "SELECT integrations.version()")" "frappe-integrations 0.12.0 0.12.0" \
     "frappe-integrations version, and the server's library"

# ---- the same bytes as PostgreSQL
sqlq() { printf "%s" "$1" | sed "s/'/''/g"; }
sqlqm() { printf "%s" "$1" | sed -e 's/\\/\\\\/g' -e "s/'/''/g"; }	# MariaDB: a backslash escapes in literals
same() {	# same <description> <pg sql> <mariadb sql>
    local p m
    p=$(q $DB "$2" 2>&1); m=$(mdb "$3" 2>&1)
    t_is "$m" "$p" "$1"
}
CTX='{"doc": {"name": "SINV-ü-1", "grand_total": 1180.0, "qty": 2, "status": "Paid", "posting_date": "2024-05-06", "items": [{"item_code": "b", "qty": 2.5, "rate": 10}, {"item_code": "a", "qty": 7, "rate": 0.1}, {"item_code": "日本", "qty": 1, "rate": 1e-7}]}}'
n=0
while IFS= read -r tpl; do
    [ -n "$tpl" ] || continue
    n=$((n + 1))
    same "render_template #$n: $tpl" \
         "SELECT integrations.render_template('$(sqlq "$tpl")', '$(sqlq "$CTX")')" \
         "SELECT integrations.render_template('$(sqlq "$tpl")', '$(sqlq "$CTX")')"
done <<'TPL'
{"name": "{{ doc.name }}", "total": {{ doc.grand_total }}, "items": {{ doc.items | tojson }}}
{{ doc.items | sort(attribute='qty', reverse=true) | map(attribute='item_code') | join(', ') }}
{% for i in doc.items %}{{ loop.index }}:{{ i.item_code | upper }}={{ (i.qty * i.rate) | round(2) }};{% endfor %}
{{ doc.missing }}|{{ undefined_name }}|{{ doc.name[:4] }}|{{ "%05.1f" % doc.grand_total }}|{{ "%s-%d" % ("a", 7) }}
{{ utils.add_days(doc.posting_date, 30) }} {{ utils.flt("1,234.567", 2) }} {{ utils.cint("12abc") }} {{ frappe.utils.getdate("2024-02-29").weekday() }}
{% set ns = namespace(t=0) %}{% for i in doc.items %}{% set ns.t = ns.t + i.qty %}{% endfor %}{{ ns.t }} {{ doc.items | length }} {{ 7 // 2 }} {{ 2 ** 10 }}
{{ doc | tojson }}
{{ doc.items | selectattr('qty', 'gt', 2) | list | length }} {{ doc.status == 'Paid' and doc.grand_total > 1000 }} {{ [1, 2.0, 'x', none, true] }}
TPL
while IFS= read -r cond; do
    [ -n "$cond" ] || continue
    n=$((n + 1))
    same "eval_condition: $cond" \
         "SELECT integrations.eval_condition('$(sqlq "$cond")', '$(sqlq "$CTX")')::int" \
         "SELECT integrations.eval_condition('$(sqlq "$cond")', '$(sqlq "$CTX")')"
done <<'COND'
doc.status == "Paid" and doc.grand_total > 1000
doc.get("missing", 5) == 5 and len(doc.items) == 3 if False else doc.qty in (1, 2)
doc.items[1].qty > 5 or doc.name.startswith("X")

COND
for js in '{"b": 1.50, "a": [1e3, 1E-7, 1234567890123456789, -0.0, "\u00e9\ud83d\ude00"], "c": {"z": null, "y": true}}' '[1, 2.5e300, "x\\ny"]'; do
    same "normalize_json: $js" "SELECT integrations.normalize_json('$(sqlq "$js")')" "SELECT integrations.normalize_json('$(sqlqm "$js")')"
done
same "hmac_sha256: base64, base64url and hex of UTF-8 text" \
     "SELECT integrations.hmac_sha256('s3cr3t ü', '{\"a\": \"日本\"}') || ' ' || integrations.hmac_sha256('s3cr3t ü', '{\"a\": \"日本\"}', 'base64url') || ' ' || integrations.hmac_sha256('k', '', 'hex')" \
     "SELECT CONCAT(integrations.hmac_sha256('s3cr3t ü', '{\"a\": \"日本\"}', NULL), ' ', integrations.hmac_sha256('s3cr3t ü', '{\"a\": \"日本\"}', 'base64url'), ' ', integrations.hmac_sha256('k', '', 'hex'))"
same "url_encode: quote_plus of UTF-8" "SELECT integrations.url_encode('a b&c=d/é~_.-日')" "SELECT integrations.url_encode('a b&c=d/é~_.-日')"
same "secure_compare" "SELECT integrations.secure_compare('abc', 'abc')::int::text || integrations.secure_compare('abc', 'abd')::int::text || integrations.secure_compare('abc', 'abcd')::int::text" \
     "SELECT CONCAT(integrations.secure_compare('abc', 'abc'), integrations.secure_compare('abc', 'abd'), integrations.secure_compare('abc', 'abcd'))"
# jwt_hs256: the claims signed as jsonb prints them (keys by length then
# bytes, the last of a repeated key, numbers as numeric prints them, strings
# as escape_json writes them): the same token from both databases
while IFS= read -r claims; do
    [ -n "$claims" ] || continue
    n=$((n + 1))
    same "jwt_hs256 #$n: $claims" \
         "SELECT integrations.jwt_hs256('$(sqlq "$claims")'::jsonb, 'kéy')" \
         "SELECT integrations.jwt_hs256('$(sqlqm "$claims")', 'kéy')"
    tok=$(q $DB "SELECT integrations.jwt_hs256('$(sqlq "$claims")'::jsonb, 'kéy')")
    same "jwt_decode_hs256 #$n: PostgreSQL's token, the claims as jsonb's text" \
         "SELECT integrations.jwt_decode_hs256('$tok', 'kéy')::text" \
         "SET NAMES utf8mb4; SELECT integrations.jwt_decode_hs256('$tok', 'kéy')"
done <<'CLAIMS'
{"sub": "Administrator", "aud": "c1", "iat": 1700000000, "exp": 1700003600, "iss": "https://erp.example.com"}
{"b": [1, "x y", null, true, false], "a": {"é": 1.50}, "aa": -0, "ab": 1e2, "ac": 1.5E-3, "ad": 0.000, "ae": -12.3400e+1}
{"k": 1, "k": 2, "z": {"y": 1, "y": {"x": [], "w": {}}}, "": "empty key"}
{"esc": "q\" b\\ s/ \b\f\n\r\t \u0001 \u001f \u00e9 \ud83d\ude00 日本", "big": 123456789012345678901234567890.000000000001}
{"nonce": "n-0S6_WzA2Mj", "roles": ["System Manager", "Accounts User"], "email": "a@b.c", "email_verified": true}
   {  "spaced"  :  [ 1 , 2 ] ,"deep": [[[[{"a": [[[1]]]}]]]]  }
CLAIMS
t_is "$(mdb "SELECT CONCAT(COALESCE(integrations.jwt_decode_hs256('$tok', 'wrong'), 'NULL'), ' ',
                             COALESCE(integrations.jwt_decode_hs256(CONCAT('eyJhbGciOiJub25lIiwidHlwIjoiand0In0.', SUBSTRING_INDEX(SUBSTRING_INDEX('$tok', '.', 2), '.', -1), '.'), 'kéy'), 'NULL'))")" \
     "NULL NULL" "jwt_decode_hs256: a wrong key, and alg none, give NULL"
t_like "$(mdb_err "SELECT integrations.jwt_decode_hs256('a.b', 'k')")" "^22023: not a JSON Web Token" "jwt_decode_hs256: not a JWS: 22023"
t_like "$(mdb_err "SELECT integrations.jwt_hs256('[1, 2]', 'k')")" "^22023: JWT claims must be a JSON object" "jwt_hs256: claims that are not an object: 22023"
t_like "$(mdb_err "SELECT integrations.jwt_hs256('{\"a\": 01}', 'k')")" "^22P02: invalid JSON" "jwt_hs256: claims that are not JSON: 22P02"
t_like "$(mdb_err "SELECT integrations.jwt_hs256('{\"a\": \"\\\\u0000\"}', 'k')")" "^22P05: " "jwt_hs256: \\u0000 (jsonb refuses it): 22P05"
t_like "$(mdb_err "SELECT integrations.jwt_hs256('{\"a\": 1e1001}', 'k')")" "^22P02: " "jwt_hs256: an exponent numeric refuses: 22P02"
t_like "$(mdb_err "SELECT integrations.jwt_hs256(CONCAT(REPEAT('{\"a\":', 5000), '1', REPEAT('}', 5000)), 'k')")" "^54001: " \
       "jwt_hs256: claims nested deeper than the thread's stack allows: 54001, and the server stays up"
H=$(q $DB "SELECT integrations.passlib_hash('pässword', 1000)")
t_is "$(mdb "SELECT CONCAT(integrations.passlib_verify('pässword', '$H'), integrations.passlib_verify('password', '$H'))")" "10" \
     "passlib_verify on MariaDB verifies PostgreSQL's pbkdf2_sha256 hash (and refuses a wrong password)"
H2=$(mdb "SELECT integrations.passlib_hash('pässword', 2000)")
t_is "$(q $DB "SELECT integrations.passlib_verify('pässword', '$H2')::int")$(printf '[["pässword", "%s"]]' "$H2" | "$FI_PY" "$FI_ROOT/test/oracles.py" passlib-verify 2>/dev/null || echo '?')" "1[true]" \
     "and PostgreSQL and python3-passlib verify MariaDB's"
SIG=$(q $DB "SELECT integrations.hmac_sha256('whk', '{\"event\": 1}')")
T=$(date +%s)
STRIPE="t=$T,v1=$(q $DB "SELECT integrations.hmac_sha256('sk', '$T.{\"id\": 2}', 'hex')")"
t_is "$(mdb "SELECT CONCAT(integrations.verify_signature('frappe', '{\"event\": 1}', 'whk', '$SIG', NULL, NULL),
                             integrations.verify_signature('frappe', '{\"event\": 2}', 'whk', '$SIG', NULL, NULL),
                             integrations.verify_signature('stripe', '{\"id\": 2}', 'sk', '$STRIPE', NULL, 300),
                             integrations.verify_signature('razorpay', 'o|p', 'rk', '$(q $DB "SELECT integrations.hmac_sha256('rk', 'o|p', 'hex')")', NULL, NULL))")" \
     "1011" "verify_signature: frappe, a changed body, stripe within its tolerance, razorpay"
t_like "$(mdb "SELECT CONCAT(integrations.random_name(), ' ', integrations.generate_hash(15), ' ', integrations.generate_token(NULL))")" \
       '^[0-9a-v]{10} [0-9a-f]{15} [A-Za-z0-9]{30}$' "random_name, generate_hash(15), generate_token(): Frappe's alphabets and lengths"

# ---- errors: SQL errors with PostgreSQL's SQLSTATEs, never a crash
t_like "$(mdb_err "SELECT integrations.render_template('{{ x', '{}')")" "^42601: syntax error in template: " "a template syntax error: 42601"
t_like "$(mdb_err "SELECT integrations.render_template('{{ 1 + \"a\" }}', '{}')")" "^22023: could not evaluate template: unsupported operand type" \
       "an evaluation error: 22023, in Python's words"
t_like "$(mdb_err "SELECT integrations.render_template('{{ x }}', '{nope')")" "^22023: invalid JSON" "a context that is not JSON: 22023"
t_like "$(mdb_err "SELECT integrations.eval_condition('1 +', '{}')")" "^42601: syntax error in condition" "a condition syntax error: 42601"
t_like "$(mdb_err "SELECT integrations.hmac_sha256('k', 'm', 'rot13')")" '^22023: unknown encoding "rot13"' "an unknown encoding"
t_like "$(mdb_err "SELECT integrations.verify_signature('nope', 'p', 's', 'x', NULL, NULL)")" '^22023: unknown signature scheme "nope"' "an unknown signature scheme"
t_like "$(mdb_err "SELECT integrations.passlib_verify('x', '\$argon2id\$v=19\$m=262144,t=64,p=1\$c2FsdHNhbHQ\$aGFzaGhhc2hoYXNoaGFzaA')")" "^54000: " \
       "an argon2 hash beyond the cost caps is refused before hashing (54000)"
t_like "$(mdb_err "SELECT integrations.render_template(UNHEX('7B7B2022C328227D7D'), '{}')")" "^(no error: NULL|22007: .*|HY000: .*)$" \
       "invalid UTF-8: MariaDB refuses the bytes as utf8mb4 before the engine sees them (NULL with a warning), never a crash"
t_is "$(mdb "SELECT integrations.render_template(CONVERT('{{ \"é\" }} ü' USING latin1), '{}')")" "é ü" "a latin1 argument is converted to UTF-8 by the SQL function"
t_is "$(mdb "SELECT integrations.render_template('{{ doc.s | length }}', CONCAT('{\"doc\": {\"s\": \"', REPEAT('x', 100000000), '\"}}'))")" "100000000" \
     "a 100 MB argument is read whole (max_allowed_packet permitting)"
t_like "$(mdb_err "SELECT integrations.render_template('{{ doc.s }}{{ doc.s }}', CONCAT('{\"doc\": {\"s\": \"', REPEAT('x', 40000000), '\"}}'))")" \
       "^54000: could not evaluate template: template output is longer than 67108864 bytes" "more than 64 MB of output: 54000, as on PostgreSQL"
t_is "$(mdb "SELECT HEX(integrations.render_template(CONCAT('a', CHAR(0), 'b'), '{}'))")" "610062" "a NUL byte in a template is kept as a byte"
DEEP=$("$FI_PY" -c 'print("{{ " + "(" * 150 + "1" + ")" * 150 + " }}")')
t_like "$(mdb "SELECT integrations.render_template('$DEEP', '{}')" 2>&1)" "^(1|ERROR .*(54000|54001).*)$" \
       "150 levels of nesting on MariaDB's default thread stack: rendered or refused, the server stays up"
t_is "$(kill -0 $PID0 2>/dev/null && echo alive)" "alive" "the server is still the same process after the hostile input"

# ---- 8 connections at once for 20 s
STOP=$(( $(date +%s) + 20 ))
CONN=()
for c in 1 2 3 4 5 6 7 8; do
    ( while [ "$(date +%s)" -lt "$STOP" ]; do
          mariadb --no-defaults --socket="$MDB_SOCK" -u root -N -B -e \
            "SELECT MD5(CONCAT(integrations.render_template('{{ doc.items | sort(attribute=\"qty\") | tojson }}{{ doc.name }}', '$(sqlq "$CTX")'),
                               integrations.hmac_sha256('k', 'm', 'hex'), integrations.passlib_verify('pässword', '$H'),
                               integrations.normalize_json('{\"b\": 1, \"a\": 2.50}')))" 2>&1
      done > "$MD/conn.$c" ) &
    CONN+=($!)
done
wait "${CONN[@]}"	# (not a bare wait: the server is a child of this shell too)
t_is "$(cat "$MD"/conn.* | sort | uniq -c | wc -l) $(kill -0 $PID0 2>/dev/null && echo alive)" "1 alive" \
     "8 connections rendering, hashing and verifying for 20 s: one answer, the same server process"
t_like "$(cat "$MD"/conn.* | wc -l)" "^[0-9]{2,}$" "(they ran: $(cat "$MD"/conn.* | wc -l) calls)"

# ---- the template differential test (test/template: Jinja2 and CPython as the oracle) through MariaDB
out=$(MDB_SOCK=$MDB_SOCK "$FI_PY" "$FI_ROOT/test/template/difftest.py" "$FI_ROOT/test/mariadb/tpl_driver.py" 2>&1)
t_like "$(echo "$out" | tail -1)" "^[0-9]+ cases .*: [0-9]+ agree .* 0 differ$" \
       "the template differential corpus through MariaDB's SQL functions: the same bytes as Jinja2 ($(echo "$out" | tail -1))"
[ "$(echo "$out" | grep -c MISMATCH)" -eq 0 ] || echo "$out" | grep -A2 MISMATCH | head -30 | sed 's/^/# /'
out=$(MDB_SOCK=$MDB_SOCK "$FI_PY" "$FI_ROOT/test/template/difftest.py" "$FI_ROOT/test/mariadb/tpl_driver.py" --seed 7 --generated 1500 2>&1)
t_like "$(echo "$out" | tail -1)" "^[0-9]+ cases .*: [0-9]+ agree .* 0 differ$" "and generated ones ($(echo "$out" | tail -1))"

# ---- uninstall leaves no trace of ours
"$FI_ROOT/bin/frappe-integrations" uninstall --socket "$MDB_SOCK" --user root >/dev/null
t_is "$(mdb "SELECT COUNT(*) FROM mysql.func WHERE name LIKE 'fi_udf_%'") $(mdb "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'integrations'")" "0 0" \
     "frappe-integrations uninstall: no UDF, no integrations database"
"$FI_ROOT/bin/frappe-integrations" install --socket "$MDB_SOCK" --user root --plugin-dir "$MDB_PLUGIN" >/dev/null
t_is "$(mdb "SELECT integrations.url_encode('a b')")" "a+b" "and install again (also the upgrade path: CREATE OR REPLACE)"
mdb_stop
t_done
