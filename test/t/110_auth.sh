#!/usr/bin/env bash
# Token validation against the site's tables: API key and secret (a Fernet
# token python3-cryptography wrote), Basic, Bearer (expiry, Revoked, scopes),
# login passwords (hashes python3-passlib made), disabled users, one generic
# refusal, malformed headers, generate_keys, and who may call what.
source "$FI_ROOT/test/lib.sh"
DB=fi_auth
newdb $DB
ORACLE="$FI_PY $FI_ROOT/test/oracles.py"
KEY=$($ORACLE fernet-key)
export PGOPTIONS="-c frappe_integrations.encryption_key=$KEY"
one() { $FI_PY -c 'import json,sys; print(json.load(sys.stdin)[0])'; }

# an API key whose secret python3-cryptography encrypted, as Frappe stores it
TOKEN=$(echo '["s3cret-api"]' | $ORACLE fernet-encrypt "$KEY" | one)
q $DB "UPDATE \"tabUser\" SET api_key = 'k-jane', api_secret = '**********' WHERE name = 'jane@example.com';
       UPDATE \"tabUser\" SET api_key = 'k-off' WHERE name = 'disabled@example.com';
       INSERT INTO \"__Auth\" VALUES ('User', 'jane@example.com', 'api_secret', '$TOKEN', 1);
       INSERT INTO \"__Auth\" VALUES ('User', 'disabled@example.com', 'api_secret', '$TOKEN', 1)"
B64=$(printf 'k-jane:s3cret-api' | base64)
t_is "$(q $DB "SELECT user_name || ' ' || method || ' ' || cardinality(scopes) FROM integrations.authenticate('token k-jane:s3cret-api')")" \
     "jane@example.com token 0" "token key:secret"
t_is "$(q $DB "SELECT user_name || ' ' || method FROM integrations.authenticate('Basic $B64')")" \
     "jane@example.com basic" "Basic base64(key:secret)"
t_is "$(q $DB "SELECT user_name FROM integrations.authenticate('TOKEN k-jane:s3cret-api')")" "jane@example.com" \
     "the scheme in any letter case"
t_is "$(q $DB "SELECT integrations.validate_api_key('k-jane', 's3cret-api')")" "jane@example.com" "validate_api_key"
t_is "$(q $DB "SELECT coalesce(integrations.validate_api_key('k-jane', 's3cret-apI'), 'NULL') || ' ' || coalesce(integrations.validate_api_key('k-nobody', 's3cret-api'), 'NULL') || ' ' || coalesce(integrations.validate_api_key('k-off', 's3cret-api'), 'NULL')")" \
     "NULL NULL NULL" "a wrong secret, an unknown key, a disabled user: NULL"
for h in 'token k-jane:wrong' 'token k-nobody:s3cret-api' 'token k-off:s3cret-api' "token k-jane:s3cret-api:x" 'token nocolon' 'Bearer nope' 'Digest abc'; do
    t_is "$(q_err $DB "SELECT * FROM integrations.authenticate('$h')")" "28000: authentication failed" "refused with one message: $h"
done
for h in '' 'token' 'token  k-jane:s3cret-api' 'Basic !!!notbase64' "Basic $(printf 'a\xff:b' | base64)"; do
    t_like "$(q_err $DB "SELECT * FROM integrations.authenticate('$h')")" \
        "^22023: (malformed Authorization header|Failed to decode token, please provide a valid base64-encoded token.)$" "malformed: '$h'"
done
t_like "$(q_err $DB "SELECT * FROM integrations.authenticate('token x''OR''1''=''1:y')")" "^28000" "SQL in the key is a key"

# another DocType as the source (Frappe-Authorization-Source)
t_is "$(q_err $DB "SELECT * FROM integrations.authenticate('token a:b', 'Item')")" \
     '22023: DocType "Item" cannot authenticate requests' "a source DocType without api_key/api_secret/user"

# Bearer tokens: expiry, Revoked, scopes within the client's, required scopes
NOW="(now() AT TIME ZONE 'Asia/Kolkata')::timestamp"
q $DB "INSERT INTO \"tabOAuth Client\"(name, client_id, app_name, scopes, default_redirect_uri) VALUES ('cl1', 'cl1', 'App', 'all openid', 'https://app/cb');
       INSERT INTO \"tabOAuth Bearer Token\"(name, access_token, client, \"user\", scopes, expiration_time, expires_in, status) VALUES
        ('tok-ok', 'tok-ok', 'cl1', 'jane@example.com', 'all openid', $NOW + interval '1 hour', 3600, 'Active'),
        ('tok-old', 'tok-old', 'cl1', 'jane@example.com', 'all', $NOW - interval '1 second', 3600, 'Active'),
        ('tok-rev', 'tok-rev', 'cl1', 'jane@example.com', 'all', $NOW + interval '1 hour', 3600, 'Revoked'),
        ('tok-wide', 'tok-wide', 'cl1', 'jane@example.com', 'all admin', $NOW + interval '1 hour', 3600, 'Active'),
        ('tok-off', 'tok-off', 'cl1', 'disabled@example.com', 'all', $NOW + interval '1 hour', 3600, 'Active')"
t_is "$(q $DB "SELECT user_name || ' ' || method || ' ' || array_to_string(scopes, ',') FROM integrations.authenticate('bearer tok-ok')")" \
     "jane@example.com bearer all,openid" "Bearer: the user and the token's scopes"
t_is "$(q $DB "SELECT integrations.validate_bearer_token('tok-ok', ARRAY['openid']) || ' ' || coalesce(integrations.validate_bearer_token('tok-ok', ARRAY['admin']), 'NULL')")" \
     "jane@example.com NULL" "required scopes"
t_is "$(q $DB "SELECT string_agg(coalesce(integrations.validate_bearer_token(t), 'NULL'), ' ' ORDER BY t) FROM unnest(ARRAY['tok-old', 'tok-rev', 'tok-wide', 'tok-off', 'tok-none']) t")" \
     "NULL NULL NULL NULL NULL" "expired, Revoked, scopes beyond the client's, a disabled user, unknown: NULL"

# users and OAuth clients are kept across transactions while their tables
# carry the invalidation trigger; every change reaches every session at once
t_is "$(q $DB "SELECT string_agg(c.relname, ' ' ORDER BY c.relname) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
               WHERE t.tgname = 'frappe_integrations_meta' AND c.relname IN ('tabUser', 'tabOAuth Client', 'tabSingles')")" \
     "tabOAuth Client tabSingles tabUser" "tabUser, tabOAuth Client and tabSingles carry the invalidation trigger"
# one session validates again and again (psql -f keeps it); others change rows in between
coproc VS { "$FI_PGBIN/psql" -X -A -t -q -d $DB 2>&1; }
VS_KEEP=$VS_PID	# (bash unsets VS_PID once the coprocess has ended: a race under set -u)
# (a bounded wait that fails visibly: "TIMEOUT" instead of an unset variable under set -u)
ask() { local line="TIMEOUT"; echo "SELECT coalesce(integrations.validate_bearer_token('tok-ok'), 'NULL');" >&"${VS[1]}"; read -r -t 60 line <&"${VS[0]}" || line="TIMEOUT"; echo "$line"; }
r1=$(ask); r2=$(ask)
q $DB "UPDATE \"tabUser\" SET enabled = 0 WHERE name = 'jane@example.com'"
r3=$(ask)
q $DB "UPDATE \"tabUser\" SET enabled = 1 WHERE name = 'jane@example.com'; UPDATE \"tabOAuth Client\" SET scopes = 'all' WHERE name = 'cl1'"
r4=$(ask)
q $DB "UPDATE \"tabOAuth Client\" SET scopes = 'all openid' WHERE name = 'cl1'"
r5=$(ask)
q $DB "UPDATE \"tabSingles\" SET value = 'Pacific/Kiritimati' WHERE doctype = 'System Settings' AND field = 'time_zone'"
r6=$(ask)
q $DB "UPDATE \"tabSingles\" SET value = 'Asia/Kolkata' WHERE doctype = 'System Settings' AND field = 'time_zone'"
r7=$(ask)
echo "BEGIN; UPDATE \"tabUser\" SET enabled = 0 WHERE name = 'jane@example.com'; SELECT coalesce(integrations.validate_bearer_token('tok-ok'), 'NULL'); ROLLBACK;" >&"${VS[1]}"
r8=TIMEOUT; read -r -t 60 r8 <&"${VS[0]}" || r8=TIMEOUT
r9=$(ask)
askk() { local line="TIMEOUT"; echo "SELECT coalesce(integrations.validate_api_key('k-jane', '$1'), 'NULL');" >&"${VS[1]}"; read -r -t 60 line <&"${VS[0]}" || line="TIMEOUT"; echo "$line"; }
k1=$(askk s3cret-api)
q $DB "SELECT integrations.set_password('User', 'jane@example.com', 'api_secret', 'n3w-secret')" >/dev/null
k2=$(askk s3cret-api); k3=$(askk n3w-secret)
q $DB "SELECT integrations.set_password('User', 'jane@example.com', 'api_secret', 's3cret-api')" >/dev/null
k4=$(askk s3cret-api)
echo '\q' >&"${VS[1]}"
wait "$VS_KEEP" 2>/dev/null || true
t_is "$r1 $r2 | $r3 | $r4 | $r5 | $r6 | $r7 | $r8 $r9" \
     "jane@example.com jane@example.com | NULL | NULL | jane@example.com | NULL | jane@example.com | NULL jane@example.com" \
     "a long session sees at once: the user disabled, the client's scopes narrowed, the site's time zone moved 8.5 h ahead (the token expired), each undone; its own rolled-back change"
t_is "$k1 $k2 $k3 $k4" "jane@example.com NULL jane@example.com jane@example.com" "and a new API secret written to __Auth: the old one refused at once, the new one accepted"
q $DB "UPDATE \"tabOAuth Bearer Token\" SET expiration_time = $NOW + interval '1 hour' WHERE name = 'tok-ok'"

# login passwords: hashes python3-passlib made (pbkdf2_sha256 as Frappe writes, argon2)
HASHES=$(echo '[["pässwörd", "pbkdf2_sha256"], ["argon-pw", "argon2:ID"]]' | $ORACLE passlib-hash)
H1=$(echo "$HASHES" | $FI_PY -c 'import json,sys; print(json.load(sys.stdin)[0])')
H2=$(echo "$HASHES" | $FI_PY -c 'import json,sys; print(json.load(sys.stdin)[1])')
q $DB "INSERT INTO \"__Auth\" VALUES ('User', 'jane@example.com', 'password', '$H1', 0), ('User', 'api@example.com', 'password', '$H2', 0)"
t_is "$(q $DB "SELECT integrations.check_password('jane@example.com', 'pässwörd'), integrations.check_password('jane@example.com', 'passwörd'),
                      integrations.check_password('api@example.com', 'argon-pw'), integrations.check_password('nobody', 'x')")" \
     "t|f|t|f" "check_password: pbkdf2_sha256 and argon2 from __Auth; a wrong password; no user"

# generate_keys: 15 hex chars, stored as Frappe stores a Password field; it authenticates; python decrypts it
S=$(q $DB "SELECT integrations.generate_keys('api@example.com')")
t_like "$S" '^[0-9a-f]{15}$' "generate_keys: a 15-char hex secret"
K=$(q $DB "SELECT api_key FROM \"tabUser\" WHERE name = 'api@example.com'")
t_like "$K" '^[0-9a-f]{15}$' "and a 15-char hex api_key"
t_is "$(q $DB "SELECT user_name FROM integrations.authenticate('token $K:$S')")" "api@example.com" "the new keys authenticate"
STORED=$(q $DB "SELECT password FROM \"__Auth\" WHERE doctype = 'User' AND name = 'api@example.com' AND fieldname = 'api_secret'")
t_is "$(printf '["%s"]' "$STORED" | $ORACLE fernet-decrypt "$KEY" | one)" "$S" "python3-cryptography decrypts the stored secret"

# row-level security: the rows are read through a query under the caller's
# policies (not through the index), and a hidden row is no row
q $DB "CREATE ROLE fi_rls LOGIN; GRANT USAGE ON SCHEMA integrations TO fi_rls;
       GRANT SELECT ON \"tabUser\", \"tabOAuth Bearer Token\", \"tabOAuth Client\", \"__Auth\", \"tabSingles\", \"tabDocType\", \"tabDocField\", \"tabCustom Field\", \"tabProperty Setter\" TO fi_rls;
       GRANT EXECUTE ON FUNCTION integrations.validate_bearer_token(text, text[]), integrations.authenticate(text, text), integrations.validate_api_key(text, text, text) TO fi_rls;
       ALTER ROLE fi_rls SET frappe_integrations.encryption_key = '$KEY';
       ALTER TABLE \"tabOAuth Bearer Token\" ENABLE ROW LEVEL SECURITY; CREATE POLICY p ON \"tabOAuth Bearer Token\" USING (name <> 'tok-wide');
       ALTER TABLE \"tabUser\" ENABLE ROW LEVEL SECURITY; CREATE POLICY p ON \"tabUser\" USING (name <> 'api@example.com');
       ALTER TABLE \"__Auth\" ENABLE ROW LEVEL SECURITY; CREATE POLICY p ON \"__Auth\" USING (true)" >/dev/null
t_is "$(PGOPTIONS= PGUSER=fi_rls q $DB "SELECT integrations.validate_bearer_token('tok-ok'), coalesce(integrations.validate_bearer_token('tok-rev'), 'NULL'), (SELECT user_name || ' ' || method FROM integrations.authenticate('token k-jane:s3cret-api')), integrations.validate_api_key('k-jane', 's3cret-api')")" \
     "jane@example.com|NULL|jane@example.com token|jane@example.com" "under row-level security: bearer, token and validate_api_key read through queries"
t_is "$(PGOPTIONS= PGUSER=fi_rls q_err $DB "SELECT * FROM integrations.authenticate('token $K:$S')")" "28000: authentication failed" \
     "a user the policy hides does not authenticate"

# not for PUBLIC
q $DB "CREATE ROLE fi_auth_plain LOGIN; GRANT USAGE ON SCHEMA integrations TO fi_auth_plain" >/dev/null
for f in "authenticate('token a:b')" "validate_api_key('a', 'b')" "validate_bearer_token('x')" "check_password('a', 'b')" "generate_keys('a')"; do
    t_like "$(PGOPTIONS= PGUSER=fi_auth_plain q_err $DB "SELECT integrations.$f")" "^42501: permission denied for function" "a plain role cannot call $f"
done
t_done
