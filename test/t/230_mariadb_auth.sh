#!/usr/bin/env bash
# MariaDB, part 3 (issue 20, point 3): token validation in the site's
# database, over Frappe's own tables: authenticate (token, Basic, Bearer),
# validate_api_key (a Fernet secret python3-cryptography wrote),
# validate_bearer_token (expiry in the site's time zone, Revoked, scopes),
# check_password (hashes python3-passlib made), generate_keys; one refusal
# for every failure, malformed headers, SQL in the arguments, who may call
# what, no secret in any log, and many connections at once.
source "$FI_ROOT/test/lib.sh"
source "$FI_ROOT/test/mariadb/server.sh"
ORACLE="$FI_PY $FI_ROOT/test/oracles.py"
one() { $FI_PY -c 'import json,sys; print(json.load(sys.stdin)[0])'; }
KEY=$($ORACLE fernet-key)
KEY2=$($ORACLE fernet-key)
make -s -C "$FI_ROOT" mariadb >/dev/null
MD=$FI_TMP/mariadb_auth
rm -rf "$MD"
trap 'mdb_stop' EXIT
mdb_start "$MD"
# the server's clock is UTC; the site's time zone (Asia/Kolkata) comes from the time zone tables
mariadb-tzinfo-to-sql /usr/share/zoneinfo 2>/dev/null | mariadb --no-defaults --socket="$MDB_SOCK" -u root mysql
FI=("$FI_ROOT/bin/frappe-integrations")
CONN=(--socket "$MDB_SOCK" --user root)
for s in _site1 _site2; do
    mdb_site $s "pw-$s"
done
mdb "CREATE USER plain@localhost IDENTIFIED BY 'pw-plain'; GRANT EXECUTE ON _site1.* TO plain@localhost; GRANT EXECUTE ON integrations.* TO plain@localhost"
printf '{"db_name": "_site1", "encryption_key": "%s"}\n' "$KEY" > "$MD/site1.json"
printf '%s\n' "$KEY2" > "$MD/site2.key"
chmod 600 "$MD/site1.json" "$MD/site2.key"
"${FI[@]}" install "${CONN[@]}" --plugin-dir "$MDB_PLUGIN" --site _site1 --site-user _site1 --key-file "$MD/site1.json" >/dev/null
"${FI[@]}" install "${CONN[@]}" --plugin-dir "$MDB_PLUGIN" --site _site2 --site-user _site2 --key-file "$MD/site2.key" >/dev/null
as() { mariadb --no-defaults --socket="$MDB_SOCK" -u "$1" -p"pw-$1" -D "${3:-$1}" -N -B -r -e "$2" 2>&1; }
as_err() { as "$@" | sed -n 's/^ERROR [0-9]* (\([0-9A-Z]*\))[^:]*: /\1: /p' | head -1; }
s1() { as _site1 "$1"; }

# ---- API key and secret: a Fernet token python3-cryptography wrote, as Frappe stores it
TOKEN=$(echo '["s3cret-api"]' | $ORACLE fernet-encrypt "$KEY" | one)
mdb "UPDATE _site1.tabUser SET api_key = 'k-jane', api_secret = '**********' WHERE name = 'jane@example.com';
     UPDATE _site1.tabUser SET api_key = 'k-off' WHERE name = 'disabled@example.com';
     INSERT INTO _site1.__Auth VALUES ('User', 'jane@example.com', 'api_secret', '$TOKEN', 1),
                                      ('User', 'disabled@example.com', 'api_secret', '$TOKEN', 1)"
B64=$(printf 'k-jane:s3cret-api' | base64)
t_is "$(s1 "SELECT authenticate('token k-jane:s3cret-api', NULL)")" \
     '{"user_name": "jane@example.com", "method": "token", "scopes": []}' "token key:secret: the user, the method, no scopes"
t_is "$(s1 "SELECT JSON_VALUE(authenticate('Basic $B64', 'User'), '\$.method'), JSON_VALUE(authenticate('TOKEN k-jane:s3cret-api', NULL), '\$.user_name')")" \
     "basic	jane@example.com" "Basic base64(key:secret); the scheme in any letter case"
t_is "$(s1 "SELECT validate_api_key('k-jane', 's3cret-api', NULL), COALESCE(validate_api_key('k-jane', 's3cret-apI', NULL), 'NULL'),
               COALESCE(validate_api_key('k-nobody', 's3cret-api', NULL), 'NULL'), COALESCE(validate_api_key('k-off', 's3cret-api', 'User'), 'NULL'),
               COALESCE(validate_api_key('K-JANE', 's3cret-api', NULL), 'NULL'), COALESCE(validate_api_key('k-jane ', 's3cret-api', NULL), 'NULL'),
               COALESCE(validate_api_key(NULL, 's3cret-api', NULL), 'NULL')")" \
     "jane@example.com	NULL	NULL	NULL	NULL	NULL	NULL" \
     "validate_api_key: the user; a wrong secret, an unknown key, a disabled user, the key in another case or padded, NULL: NULL"
for h in 'token k-jane:wrong' 'token k-nobody:s3cret-api' 'token k-off:s3cret-api' 'token k-jane:s3cret-api:x' 'token nocolon' \
         'Bearer nope' 'Digest abc' 'token K-JANE:s3cret-api'; do
    t_is "$(as_err _site1 "SELECT authenticate('$h', NULL)")" "28000: authentication failed" "refused with one message: $h"
done
for h in '' 'token' 'token  k-jane:s3cret-api' 'Basic !!!notbase64' "Basic $(printf 'a\xff:b' | base64)"; do
    t_like "$(as_err _site1 "SELECT authenticate('$h', NULL)")" \
        "^22023: (malformed Authorization header|Failed to decode token, please provide a valid base64-encoded token.)" "malformed: '$h'"
done
t_like "$(as_err _site1 "SELECT authenticate(NULL, NULL)")" "^22023: malformed Authorization header" "a NULL header is malformed"
t_is "$(as_err _site1 "SELECT authenticate('token x''OR''1''=''1:y', NULL)") | $(s1 "SELECT COALESCE(validate_api_key('x'' OR ''1''=''1', 'y', NULL), 'NULL'), COALESCE(validate_bearer_token(''' OR 1=1 -- ', NULL), 'NULL')")" \
     "28000: authentication failed | NULL	NULL" "SQL in a key or a token is a key or a token"
t_is "$(as_err _site1 "SELECT authenticate('token a:b', 'Item')") | $(as_err _site1 "SELECT validate_api_key('a', 'b', 'Item')")" \
     "0A000: on MariaDB only User authenticates requests (source_doctype must be User or NULL) | 0A000: on MariaDB only User authenticates requests (source_doctype must be User or NULL)" \
     "another source DocType: 0A000, said plainly"
t_is "$(as_err _site1 "SELECT authenticate(CONCAT('token ', REPEAT('k', 200000), ':', REPEAT('s', 200000)), NULL)") | $(s1 "SELECT COALESCE(validate_bearer_token(REPEAT('t', 200000), NULL), 'NULL')")" \
     "28000: authentication failed | NULL" "a 200,000-byte key and token: refused, no truncation error"

# ---- Bearer tokens: expiry in the site's time zone, Revoked, scopes within the client's, required scopes
NOW="CONVERT_TZ(UTC_TIMESTAMP(6), '+00:00', 'Asia/Kolkata')"
mdb "INSERT INTO _site1.\`tabOAuth Client\` (name, client_id, app_name, scopes, default_redirect_uri) VALUES
       ('cl1', 'cl1', 'App', 'all openid', 'https://app/cb'), ('cl2', 'cl2', 'Narrow', 'openid', 'https://app/cb');
     INSERT INTO _site1.\`tabOAuth Bearer Token\` (name, access_token, client, user, scopes, expiration_time, expires_in, status) VALUES
       ('tok-ok', 'tok-ok', 'cl1', 'jane@example.com', 'all openid', $NOW + INTERVAL 1 HOUR, 3600, 'Active'),
       ('tok-old', 'tok-old', 'cl1', 'jane@example.com', 'all', $NOW - INTERVAL 1 SECOND, 3600, 'Active'),
       ('tok-rev', 'tok-rev', 'cl1', 'jane@example.com', 'all', $NOW + INTERVAL 1 HOUR, 3600, 'Revoked'),
       ('tok-wide', 'tok-wide', 'cl2', 'jane@example.com', 'all openid', $NOW + INTERVAL 1 HOUR, 3600, 'Active'),
       ('tok-off', 'tok-off', 'cl1', 'disabled@example.com', 'all', $NOW + INTERVAL 1 HOUR, 3600, 'Active'),
       ('tok-orphan', 'tok-orphan', 'cl-gone', 'jane@example.com', 'all', $NOW + INTERVAL 1 HOUR, 3600, 'Active'),
       ('tok-noexp', 'tok-noexp', 'cl1', 'jane@example.com', 'all', NULL, 3600, 'Active'),
       ('tok-nostatus', 'tok-nostatus', 'cl1', 'jane@example.com', 'openid', $NOW + INTERVAL 1 HOUR, 3600, NULL)"
t_is "$(s1 "SELECT authenticate('bearer tok-ok', NULL)")" \
     '{"user_name": "jane@example.com", "method": "bearer", "scopes": ["all", "openid"]}' "Bearer: the user and the token's scopes"
t_is "$(s1 "SELECT validate_bearer_token('tok-ok', 'openid'), COALESCE(validate_bearer_token('tok-ok', 'admin'), 'NULL'),
               validate_bearer_token('tok-ok', ' all  openid '), COALESCE(validate_bearer_token('tok-ok', 'all admin'), 'NULL'), validate_bearer_token('tok-ok', '')")" \
     "jane@example.com	NULL	jane@example.com	NULL	jane@example.com" "required scopes (a blank-separated list): each must be the token's"
t_is "$(for t in tok-old tok-rev tok-wide tok-off tok-orphan tok-noexp tok-none TOK-OK 'tok-ok '; do s1 "SELECT COALESCE(validate_bearer_token('$t', NULL), 'NULL')"; done | tr '\n' ' ')" \
     "NULL NULL NULL NULL NULL NULL NULL NULL NULL " \
     "expired a second ago in Kolkata (the server is on UTC), Revoked, scopes beyond the client's, a disabled user, no client row, no expiry, unknown, another case, padded: NULL"
t_is "$(s1 "SELECT validate_bearer_token('tok-nostatus', NULL)")" "jane@example.com" "a token without a status is not Revoked"
for t in tok-old tok-rev tok-wide tok-off tok-orphan; do
    t_is "$(as_err _site1 "SELECT authenticate('Bearer $t', NULL)")" "28000: authentication failed" "authenticate refuses $t with the one message"
done
# the site's clock: the same token, with System Settings on UTC, is an hour and more from expiring
mdb "UPDATE _site1.tabSingles SET value = 'UTC' WHERE doctype = 'System Settings' AND field = 'time_zone'"
t_is "$(s1 "SELECT validate_bearer_token('tok-old', NULL)")" "jane@example.com" "with the site on UTC, a Kolkata wall-clock expiry is hours away"
mdb "UPDATE _site1.tabSingles SET value = 'Asia/Kolkata' WHERE doctype = 'System Settings' AND field = 'time_zone'"
t_is "$(s1 "SELECT COALESCE(validate_bearer_token('tok-old', NULL), 'NULL')")" "NULL" "and back on Kolkata, expired again"
# a change in the caller's own open transaction counts (the functions read as the caller's session)
t_is "$(s1 "START TRANSACTION; UPDATE tabUser SET enabled = 0 WHERE name = 'jane@example.com';
            SELECT COALESCE(validate_bearer_token('tok-ok', NULL), 'NULL'), COALESCE(validate_api_key('k-jane', 's3cret-api', NULL), 'NULL'); ROLLBACK;
            SELECT validate_bearer_token('tok-ok', NULL)")" \
     "NULL	NULL
jane@example.com" "a user disabled in the caller's open transaction is refused at once; after ROLLBACK accepted again"

# ---- login passwords: hashes python3-passlib made (pbkdf2_sha256 as Frappe writes, argon2)
HASHES=$(echo '[["pässwörd", "pbkdf2_sha256"], ["argon-pw", "argon2:ID"]]' | $ORACLE passlib-hash)
H1=$(echo "$HASHES" | $FI_PY -c 'import json,sys; print(json.load(sys.stdin)[0])')
H2=$(echo "$HASHES" | $FI_PY -c 'import json,sys; print(json.load(sys.stdin)[1])')
mdb "INSERT INTO _site1.__Auth VALUES ('User', 'jane@example.com', 'password', '$H1', 0), ('User', 'api@example.com', 'password', '$H2', 0),
                                       ('User', 'Guest', 'password', 'not-a-hash', 0)"
t_is "$(s1 "SELECT check_password('jane@example.com', 'pässwörd'), check_password('jane@example.com', 'passwörd'), check_password('api@example.com', 'argon-pw'),
               check_password('nobody', 'x'), check_password(NULL, 'x'), check_password('jane@example.com', NULL)")" \
     "1	0	1	0	0	0" "check_password: pbkdf2_sha256 and argon2 from __Auth; a wrong password; no user; NULL"
t_is "$(as_err _site1 "SELECT check_password('Guest', 'x')")" "XX001: the stored password hash of this user is not one Frappe writes" \
     "a stored value that is no passlib hash: XX001, not a silent FALSE"

# ---- generate_keys: 15 hex characters, stored as Frappe stores a Password field; python decrypts it; it authenticates
S=$(s1 "SELECT generate_keys('api@example.com')")
t_like "$S" '^[0-9a-f]{15}$' "generate_keys: a 15-character hex secret"
K=$(mdb "SELECT api_key FROM _site1.tabUser WHERE name = 'api@example.com'")
t_like "$K" '^[0-9a-f]{15}$' "and a 15-character hex api_key"
STORED=$(mdb "SELECT password FROM _site1.__Auth WHERE doctype = 'User' AND name = 'api@example.com' AND fieldname = 'api_secret' AND encrypted = 1")
t_is "$(printf '["%s"]' "$STORED" | $ORACLE fernet-decrypt "$KEY" | one)" "$S" "python3-cryptography decrypts the stored secret with the site's key"
t_is "$(s1 "SELECT JSON_VALUE(authenticate('token $K:$S', NULL), '\$.user_name')")" "api@example.com" "the new keys authenticate"
S2=$(s1 "SELECT generate_keys('api@example.com')")
t_is "$(mdb "SELECT api_key FROM _site1.tabUser WHERE name = 'api@example.com'") $(s1 "SELECT COALESCE(validate_api_key('$K', '$S', NULL), 'NULL'), validate_api_key('$K', '$S2', NULL)")" \
     "$K NULL	api@example.com" "again: the api_key kept, the old secret refused at once, the new one accepted"
t_is "$(as_err _site1 "SELECT generate_keys('nobody''; DROP TABLE tabUser; --')") $(mdb "SELECT COUNT(*) FROM _site1.tabUser")" \
     "P0002: User nobody'; DROP TABLE tabUser; -- not found 5" "generate_keys of no user: P0002, and SQL in the name is a name"

# ---- a token of another key: Frappe's words, and no secret anywhere
mdb "UPDATE _site1.__Auth SET password = '$(echo '["s3cret-api"]' | $ORACLE fernet-encrypt "$KEY2" | one)' WHERE name = 'jane@example.com' AND fieldname = 'api_secret'"
ERR=$(as _site1 "SELECT authenticate('token k-jane:s3cret-api', NULL)")
t_like "$ERR" "Encryption key is invalid! Please check site_config.json" "an api_secret encrypted with another key: Frappe's error, not a refusal"
t_is "$(printf '%s\n' "$ERR" | grep -c -e "$KEY" -e "$KEY2" -e "s3cret" -e "gAAAA")" "0" "the error shows no key, token or secret"

# ---- who may call what
mdb "GRANT EXECUTE ON _site1.* TO _site2@localhost"
for f in "authenticate('token k-jane:s3cret-api', NULL)" "validate_api_key('k-jane', 's3cret-api', NULL)" "check_password('jane@example.com', 'pässwörd')" "generate_keys('api@example.com')"; do
    t_like "$(as_err _site2 "SELECT _site1.$f")" "^42501: permission denied: only the site's own database user" "another site's user, granted EXECUTE: 42501 for ${f%%(*}"
    t_like "$(as_err plain "SELECT $f" _site1)" "^42501: permission denied: only the site's own database user" "a plain user with EXECUTE only: 42501 for ${f%%(*}"
done
t_like "$(as_err plain "SELECT validate_bearer_token('tok-ok', NULL)" _site1)" "^42000: SELECT command denied" \
       "validate_bearer_token reads as its caller: a user who cannot read the tokens cannot validate them"
t_like "$(as_err _site2 "SELECT _site1.validate_bearer_token('tok-ok', NULL)")" "^42000: SELECT command denied" "nor another site's user"
t_is "$(grep -c -e "$KEY" -e "$KEY2" -e "s3cret-api" -e "$S2" "$MD/error.log")" "0" "no key or secret in the server's error log"

# ---- many connections at once: the server stays up and every answer is right
PIDS=()
for i in $(seq 8); do
    ( for j in $(seq 40); do
          s1 "SELECT JSON_VALUE(authenticate('token $K:$S2', NULL), '\$.user_name'), validate_bearer_token('tok-ok', 'openid'), COALESCE(validate_api_key('$K', 'bad', NULL), 'NULL');
              SELECT COUNT(*) FROM (SELECT authenticate('Bearer tok-ok', NULL)) x"
      done > "$MD/par.$i" 2>&1 ) &
    PIDS+=($!)
done
wait "${PIDS[@]}"	# (not a bare wait: the server is a child too)
cat "$MD"/par.[0-9]* > "$MD/par.out"
t_is "$(sort "$MD/par.out" | uniq -c | sed 's/^ *//')" "320 1
320 api@example.com	jane@example.com	NULL" "8 connections × 40 rounds of authenticate / validate_bearer_token / validate_api_key: every answer right"
t_is "$(kill -0 $MDB_PID && echo alive)" "alive" "the server is still the same process"

"${FI[@]}" uninstall "${CONN[@]}" --site _site1 >/dev/null
t_is "$(mdb "SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = '_site1'")" "0" "uninstall --site drops every function of the site"
mdb_stop
t_done
