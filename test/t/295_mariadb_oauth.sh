#!/usr/bin/env bash
# MariaDB, part 3 (issue 20, point 4): the OAuth 2 / OpenID Connect
# provider in a site's database, with PostgreSQL's functions and answers
# (test/t/120 is the same walk on PostgreSQL): the authorization-code flow
# with PKCE made by node's crypto, the id_token verified by the npm `jose`
# library, refresh with rotation, revoke, introspect, userinfo, implicit
# and hybrid answers, the password grant against a hash python3-passlib
# made, HTTP Basic client credentials; codes used once even by two sessions
# at the same moment; every bad input refused with PostgreSQL's error,
# changing nothing; SQL in the parameters; who may call.
source "$FI_ROOT/test/lib.sh"
source "$FI_ROOT/test/mariadb/server.sh"
ORACLE="$FI_PY $FI_ROOT/test/oracles.py"
KEY=$($ORACLE fernet-key)
ISS=https://erp.example.com
make -s -C "$FI_ROOT" mariadb >/dev/null
# fi_udf_oauth as the server calls it, every operation with NULL, empty, 1 MB and wrong arguments, under ASan and UBSan
if make -s -C "$FI_ROOT" test/unit/udf_oauth_test >/dev/null 2>"$FI_TMP/udf_oauth_build.err"; then
    U_OUT=$(ASAN_OPTIONS=detect_leaks=1 "$FI_ROOT/test/unit/udf_oauth_test" 2>&1); U_RC=$?
    t_is "$U_RC $(printf '%s\n' "$U_OUT" | grep -c '^ok') $(printf '%s\n' "$U_OUT" | grep -c 'not ok\|ERROR: AddressSanitizer\|runtime error')" "0 23 0" \
         "fi_udf_oauth under AddressSanitizer and UBSan: 23 calls of bad and huge input answered, no error, no leak"
else
    _t_result 1 "building test/unit/udf_oauth_test: $(head -c 300 "$FI_TMP/udf_oauth_build.err")"
fi
JOSE_DIR=$FI_TMP/npm-jose
mkdir -p "$JOSE_DIR"
if [ ! -d "$JOSE_DIR/node_modules/jose" ] && ! (cd "$JOSE_DIR" && npm install --no-audit --no-fund --silent jose@5.10.0 >/dev/null 2>&1); then
    _t_result 1 "npm install jose (the npm registry must be reachable)"
    t_done
fi
PEER="env JOSE_DIR=$JOSE_DIR node $FI_ROOT/test/tools/oauth_peer.cjs"
MD=$FI_TMP/mariadb_oauth
rm -rf "$MD"
trap 'mdb_stop' EXIT
mdb_start "$MD"
mariadb-tzinfo-to-sql /usr/share/zoneinfo 2>/dev/null | mariadb --no-defaults --socket="$MDB_SOCK" -u root mysql
FI=("$FI_ROOT/bin/frappe-integrations")
CONN=(--socket "$MDB_SOCK" --user root)
mdb_site _site1 pw-_site1
mdb "CREATE USER plain@localhost IDENTIFIED BY 'pw-plain'; GRANT EXECUTE ON _site1.* TO plain@localhost; GRANT SELECT ON _site1.* TO plain@localhost"
# the site's URL from site_config's host_name (a trailing slash is not the issuer's)
printf '{"db_name": "_site1", "encryption_key": "%s", "host_name": "%s/"}\n' "$KEY" "$ISS" > "$MD/site1.json"
chmod 600 "$MD/site1.json"
"${FI[@]}" install "${CONN[@]}" --plugin-dir "$MDB_PLUGIN" --site _site1 --site-user _site1 --key-file "$MD/site1.json" >/dev/null
as() { mariadb --no-defaults --socket="$MDB_SOCK" -u "$1" -p"pw-$1" -D _site1 -N -B -r -e "$2" 2>&1; }
s1() { as _site1 "$1"; }
s1_err() { s1 "$1" | mdb_sqlstate; }
# jf <key>: a key of the JSON on stdin (strings raw, the rest as JSON)
jf() { $FI_PY -c 'import json,sys
v=json.load(sys.stdin)
for k in sys.argv[1].split("."): v = v.get(k) if isinstance(v, dict) else None
print(v if isinstance(v, str) else json.dumps(v, sort_keys=True))' "$1"; }
lit() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/''/g")"; }
token() { s1 "SELECT oauth_token($(lit "$1"))"; }
token_err() { s1_err "SELECT oauth_token($(lit "$1"))"; }
authorize() { s1 "SELECT oauth_authorize('${2:-jane@example.com}', $(lit "$1"))"; }
snapshot() { s1 "SELECT MD5(CONCAT_WS('|',
    (SELECT GROUP_CONCAT(CONCAT_WS(',', name, validity, modified) ORDER BY name) FROM \`tabOAuth Authorization Code\`),
    (SELECT GROUP_CONCAT(CONCAT_WS(',', name, status, refresh_token, modified) ORDER BY name) FROM \`tabOAuth Bearer Token\`),
    (SELECT GROUP_CONCAT(CONCAT_WS(',', name, client_secret, modified) ORDER BY name) FROM \`tabOAuth Client\`)))"; }

SECRET=0a1b2c3d4e
SUB=$($FI_PY -c 'import secrets; print(secrets.token_hex(20)[:39])')
mdb "USE _site1;
     INSERT INTO \`tabOAuth Client\`(name, client_id, app_name, client_secret, scopes, redirect_uris, default_redirect_uri, grant_type, response_type, skip_authorization) VALUES
        ('cl1', 'cl1', 'App', '$SECRET', 'all openid', 'https://app.example/cb https://app.example/cb?x=1', 'https://app.example/cb', 'Authorization Code', 'Code', 1),
        ('cl2', 'cl2', 'Other', 'f0e1d2c3b4', 'all openid', 'https://other.example/cb', 'https://other.example/cb', 'Authorization Code', 'Code', 0),
        ('spa', 'spa', 'Public SPA', '', 'all openid', 'https://spa.example/cb', 'https://spa.example/cb', 'Authorization Code', 'Code', 0),
        ('imp', 'imp', 'Implicit', 'a1a1a1a1a1', 'all openid', 'https://imp.example/cb', 'https://imp.example/cb', 'Implicit', 'Token', 0),
        ('acc', 'acc', 'Accounts only', '9f9f9f9f9f', 'all', 'https://acc.example/cb', 'https://acc.example/cb', 'Authorization Code', 'Code', 0);
     INSERT INTO \`tabOAuth Client Role\`(name, parent, parenttype, parentfield, idx, role) VALUES
        ('ocr1', 'cl1', 'OAuth Client', 'allowed_roles', 1, 'Desk User'),
        ('ocr2', 'acc', 'OAuth Client', 'allowed_roles', 1, 'Accounts User');
     INSERT INTO \`tabUser Social Login\`(name, parent, parenttype, parentfield, idx, provider, userid) VALUES
        ('usl1', 'jane@example.com', 'User', 'social_logins', 1, 'frappe', '$SUB');
     UPDATE tabUser SET last_name = 'Doe', user_image = '/files/jane.png' WHERE name = 'jane@example.com'"

# ---- 1. authorization code + PKCE S256 (made by node), then the token endpoint
read -r VERIFIER CHALLENGE <<<"$($PEER pkce)"
A=$(authorize "{\"client_id\": \"cl1\", \"response_type\": \"code\", \"redirect_uri\": \"https://app.example/cb\", \"scope\": \"openid all\", \"state\": \"st 1/2\", \"nonce\": \"n-123\", \"code_challenge\": \"$CHALLENGE\", \"code_challenge_method\": \"S256\"}")
CODE=$(echo "$A" | jf code)
t_like "$CODE" '^[A-Za-z0-9]{30}$' "authorize: a 30-character code (oauthlib's generate_token)"
t_is "$(echo "$A" | jf redirect_to)" "https://app.example/cb?code=$CODE&state=st+1%2F2" "redirect to the registered URI with the code and the state, form-encoded"
t_is "$(s1 "SELECT CONCAT_WS(' | ', client, user, scopes, validity, redirect_uri_bound_to_authorization_code, nonce, code_challenge = '$CHALLENGE', code_challenge_method, TIMEDIFF(expiration_time, creation), owner) FROM \`tabOAuth Authorization Code\` WHERE name = '$CODE'")" \
     "cl1 | jane@example.com | openid all | Valid | https://app.example/cb | n-123 | 1 | s256 | 00:10:00.000000 | jane@example.com" \
     "the OAuth Authorization Code row as Frappe writes it (method lower-cased), expiring in 10 minutes"
t_is "$(s1 "SELECT TIMESTAMPDIFF(MINUTE, CONVERT_TZ(UTC_TIMESTAMP(), '+00:00', 'Asia/Kolkata'), creation) FROM \`tabOAuth Authorization Code\` WHERE name = '$CODE'")" "0" \
     "written in the site's time (System Settings: Asia/Kolkata; the server's clock is UTC)"
ISSUED_AFTER=$(date +%s)
T=$(token "{\"grant_type\": \"authorization_code\", \"code\": \"$CODE\", \"redirect_uri\": \"https://app.example/cb\", \"client_id\": \"cl1\", \"client_secret\": \"$SECRET\", \"code_verifier\": \"$VERIFIER\"}")
AT=$(echo "$T" | jf access_token); RT=$(echo "$T" | jf refresh_token); IDT=$(echo "$T" | jf id_token)
t_is "$(echo "$T" | $FI_PY -c 'import json,sys; d=json.load(sys.stdin); print(sorted(d), d["expires_in"], d["token_type"], d["scope"])')" \
     "['access_token', 'expires_in', 'id_token', 'refresh_token', 'scope', 'token_type'] 3600 Bearer openid all" \
     "token response: Frappe's keys, expires_in 3600, Bearer, the granted scopes"
t_like "$AT $RT" '^[A-Za-z0-9]{30} [A-Za-z0-9]{30}$' "access and refresh tokens of 30 characters"
t_is "$(s1 "SELECT CONCAT_WS(' | ', name = access_token, client, user, scopes, status, expires_in, TIMEDIFF(expiration_time, creation), refresh_token = '$RT', owner) FROM \`tabOAuth Bearer Token\` WHERE name = '$AT'")" \
     "1 | cl1 | jane@example.com | openid all | Active | 3600 | 01:00:00.000000 | 1 | Guest" "the OAuth Bearer Token row as Frappe writes it"
t_is "$(s1 "SELECT validity FROM \`tabOAuth Authorization Code\` WHERE name = '$CODE'")" "Invalid" "the code is spent"
t_is "$(token_err "{\"grant_type\": \"authorization_code\", \"code\": \"$CODE\", \"redirect_uri\": \"https://app.example/cb\", \"client_id\": \"cl1\", \"client_secret\": \"$SECRET\", \"code_verifier\": \"$VERIFIER\"}")" \
     "28000: invalid_grant: the authorization code is invalid, expired, already used, or was issued to another client or redirect URI" \
     "the same code a second time: invalid_grant"

V=$(printf '{"token": "%s", "secret": "%s", "aud": "cl1", "iss": "%s", "nonce": "n-123", "access_token": "%s"}' "$IDT" "$SECRET" "$ISS" "$AT" | $PEER verify)
t_is "$(echo "$V" | jf ok) $(echo "$V" | jf at_hash_ok) $(echo "$V" | jf nonce_ok)" "true true true" \
     "jose verifies the id_token (HS256 with the client secret, aud, iss), its nonce and at_hash"
t_is "$(echo "$V" | jf header)" '{"alg": "HS256", "typ": "jwt"}' "the JOSE header Frappe writes"
t_is "$(echo "$V" | $FI_PY -c 'import json,sys; c=json.load(sys.stdin)["claims"]; print(c["sub"], c["name"], c["given_name"], c["family_name"], c["email"], c["picture"], ",".join(c["roles"]), c["exp"] - c["iat"])')" \
     "$SUB Jane Doe Jane Doe jane@example.com $ISS/files/jane.png System Manager,All,Guest,Desk User 3600" \
     "id_token claims: Frappe's userinfo (sub from User Social Login, a relative image on the site URL, get_roles) and exp = iat + 3600"
t_is "$(printf '{"token": "%s", "secret": "wrong-secr", "aud": "cl1", "iss": "%s"}' "$IDT" "$ISS" | $PEER verify | jf error)" \
     "ERR_JWS_SIGNATURE_VERIFICATION_FAILED" "and refuses it under another key (the test can fail)"

t_is "$(s1 "SELECT validate_bearer_token('$AT', 'openid')")" "jane@example.com" "the access token authenticates"
U=$(s1 "SELECT oauth_userinfo('$AT')")
t_is "$(echo "$U" | $FI_PY -c 'import json,sys; print(sorted(json.load(sys.stdin)))')" \
     "['email', 'family_name', 'given_name', 'iss', 'name', 'picture', 'roles', 'sub']" "userinfo: Frappe's openid_profile keys"
t_is "$(echo "$U" | jf iss) $(echo "$U" | jf sub)" "$ISS $SUB" "userinfo: iss is the site URL, sub the frappe social login"
I=$(s1 "SELECT oauth_introspect('$AT', NULL)")
t_is "$(echo "$I" | $FI_PY -c 'import json,sys; d=json.load(sys.stdin); print(d["active"], d["client_id"], d["trusted_client"], d["scope"], d["sub"], "email" in d)')" \
     "True cl1 1 openid all $SUB True" "introspect: active, client, trusted_client (skip_authorization), scope, sub and userinfo"
EXP=$(echo "$I" | jf exp)
NOW_S=$(date +%s)
t_ok "introspect: exp is the expiry as a Unix time (the site-local expiration_time converted): $EXP" \
     test "$EXP" -ge $((ISSUED_AFTER + 3600 - 1)) -a "$EXP" -le $((NOW_S + 3600 + 1))
I_NULL=$(echo "$I" | $FI_PY -c 'import json,sys; d=json.load(sys.stdin); print(sorted(k for k in d if d[k] is None))')
s1 "UPDATE tabUser SET user_image = NULL WHERE name = 'jane@example.com'" >/dev/null
t_is "$(s1 "SELECT oauth_introspect('$AT', 'access_token')" | $FI_PY -c 'import json,sys; d=json.load(sys.stdin); print("picture" in d, d["picture"])')" \
     "True None" "introspect keeps a claim without a value as null, as PostgreSQL's does ($I_NULL before)"
s1 "UPDATE tabUser SET user_image = '/files/jane.png' WHERE name = 'jane@example.com'" >/dev/null

# ---- 2. refresh rotates: the new pair works, the old one is Revoked
R=$(token "{\"grant_type\": \"refresh_token\", \"refresh_token\": \"$RT\", \"client_id\": \"cl1\", \"client_secret\": \"$SECRET\"}")
AT2=$(echo "$R" | jf access_token); RT2=$(echo "$R" | jf refresh_token)
t_is "$(s1 "SELECT GROUP_CONCAT(CONCAT(name = '$AT2', '=', status) ORDER BY name = '$AT2' SEPARATOR ' ') FROM \`tabOAuth Bearer Token\` WHERE name IN ('$AT', '$AT2')")" \
     "0=Revoked 1=Active" "refresh: a new token, the old one Revoked"
t_is "$(s1 "SELECT COALESCE(validate_bearer_token('$AT', NULL), 'NULL'), validate_bearer_token('$AT2', NULL), oauth_introspect('$AT', NULL)")" \
     'NULL	jane@example.com	{"active": false}' "the old access token stops working at once; the new one works"
t_is "$(echo "$R" | jf scope) $(test "$RT2" != "$RT" && echo rotated)" "openid all rotated" "a new refresh token, the same scopes"
t_is "$(printf '{"token": "%s", "secret": "%s", "aud": "cl1", "iss": "%s", "access_token": "%s"}' "$(echo "$R" | jf id_token)" "$SECRET" "$ISS" "$AT2" | $PEER verify | jf at_hash_ok)" \
     "true" "the refreshed id_token verifies, at_hash of the new token"
t_is "$(token_err "{\"grant_type\": \"refresh_token\", \"refresh_token\": \"$RT\", \"client_id\": \"cl1\", \"client_secret\": \"$SECRET\"}")" \
     "28000: invalid_grant: the refresh token is invalid, revoked, or was issued to another client" "the old refresh token cannot be used again"
R3=$(token "{\"grant_type\": \"refresh_token\", \"refresh_token\": \"$RT2\", \"scope\": \"all\", \"authorization\": \"Basic $(printf 'cl1:%s' "$SECRET" | base64)\"}")
t_is "$(echo "$R3" | jf scope) $(echo "$R3" | jf id_token)" "all null" \
     "refresh with fewer scopes and HTTP Basic client credentials: those scopes, and no id_token without openid"
AT3=$(echo "$R3" | jf access_token); RT3=$(echo "$R3" | jf refresh_token)

# ---- 3. revoke and introspect
t_is "$(s1 "SELECT oauth_revoke('$AT3', NULL)")" '{}' "revoke an access token: {}"
t_is "$(s1 "SELECT oauth_introspect('$AT3', NULL), COALESCE(validate_bearer_token('$AT3', NULL), 'NULL')")" \
     '{"active": false}	NULL' "then it is inactive and refused"
t_is "$(token_err "{\"grant_type\": \"refresh_token\", \"refresh_token\": \"$RT3\", \"client_id\": \"cl1\", \"client_secret\": \"$SECRET\"}" | cut -d: -f1-2)" \
     "28000: invalid_grant" "its refresh token died with it"
t_is "$(token_err "{\"grant_type\": \"password\", \"username\": \"jane@example.com\", \"password\": \"x\", \"client_id\": \"cl1\", \"client_secret\": \"$SECRET\"}")" \
     "28000: invalid_grant: the username or password is not valid" "password grant with a wrong password: refused"
HASH=$(echo '[["pässwörd", "pbkdf2_sha256"]]' | $ORACLE passlib-hash | $FI_PY -c 'import json,sys; print(json.load(sys.stdin)[0])')
mdb "INSERT INTO _site1.__Auth VALUES ('User', 'jane@example.com', 'password', '$HASH', 0)"
PW="\"grant_type\": \"password\", \"username\": \"jane@example.com\", \"password\": \"pässwörd\", \"client_id\": \"cl1\", \"client_secret\": \"$SECRET\""
P=$(token "{$PW, \"scope\": \"all\"}")
AT5=$(echo "$P" | jf access_token); RT5=$(echo "$P" | jf refresh_token)
t_is "$(s1 "SELECT CONCAT(user, ' ', scopes) FROM \`tabOAuth Bearer Token\` WHERE name = '$AT5'")" "jane@example.com all" \
     "password grant: the password python3-passlib hashed logs in, a token for its user"
t_is "$(s1 "SELECT JSON_EXTRACT(oauth_introspect('$RT5', 'refresh_token'), '\$.active'), JSON_EXTRACT(oauth_introspect('$AT5', 'refresh_token'), '\$.active')")" \
     "true	false" "introspect a refresh token with its hint"
t_is "$(s1 "SELECT oauth_revoke('$RT5', 'refresh_token')"; s1 "SELECT status FROM \`tabOAuth Bearer Token\` WHERE name = '$AT5'")" \
     "{}
Revoked" "revoke by refresh token (hint refresh_token)"
P=$(token "{$PW}")
AT6=$(echo "$P" | jf access_token)
s1 "UPDATE \`tabOAuth Bearer Token\` SET expiration_time = expiration_time - INTERVAL 2 HOUR WHERE name = '$AT6'" >/dev/null
t_is "$(s1 "SELECT oauth_introspect('$AT6', NULL), (SELECT status FROM \`tabOAuth Bearer Token\` WHERE name = '$AT6')")" \
     '{"active": false}	Active' "introspect: an expired token is inactive even while its row says Active"
t_is "$(s1_err "SELECT oauth_userinfo('$AT6')")" \
     "28000: invalid_token: the access token is invalid, expired, revoked or lacks the openid scope" "userinfo refuses an expired token"
t_is "$(s1 "SELECT oauth_revoke('no-such-token', NULL), oauth_revoke('', NULL), oauth_introspect('no-such-token', NULL)")" \
     '{}	{}	{"active": false}' "an unknown token: revoke says {} (RFC 7009), introspect inactive"
t_is "$(s1 "SELECT oauth_introspect(UPPER('$AT2'), NULL) = JSON_OBJECT('active', FALSE) OR UPPER('$AT2') = '$AT2'")" "1" \
     "a token in another letter case is not the token (the site's collation ignores case; we do not)"

# ---- 4. public client (no secret): PKCE plain, no id_token to sign
read -r V2 _ <<<"$($PEER pkce)"
A=$(authorize "{\"client_id\": \"spa\", \"response_type\": \"code\", \"scope\": \"all\", \"code_challenge\": \"$V2\", \"code_challenge_method\": \"plain\"}")
C2=$(echo "$A" | jf code)
t_is "$(token "{\"grant_type\": \"authorization_code\", \"code\": \"$C2\", \"client_id\": \"spa\", \"code_verifier\": \"$V2\"}" | jf token_type)" "Bearer" \
     "a public client: PKCE plain, no secret, no redirect_uri (the default was used)"
t_is "$(authorize '{"client_id": "spa", "response_type": "code"}' | jf error)" "invalid_request" "a public client must use PKCE"

# ---- 5. implicit and hybrid responses
A=$(authorize '{"client_id": "imp", "response_type": "token", "state": "s"}')
t_like "$(echo "$A" | jf redirect_to)" '^https://imp\.example/cb#access_token=[A-Za-z0-9]{30}&expires_in=3600&token_type=Bearer&scope=all\+openid&state=s$' \
     "implicit: the token in the fragment"
t_is "$(s1 "SELECT COUNT(*) FROM \`tabOAuth Bearer Token\` WHERE name = '$(echo "$A" | jf access_token)' AND refresh_token IS NULL AND status = 'Active' AND owner = 'jane@example.com'")" "1" \
     "implicit: a bearer token row without a refresh token, owned by the user"
A=$(authorize '{"client_id": "imp", "response_type": "id_token token", "nonce": "nn", "state": "s"}')
V=$(printf '{"token": "%s", "secret": "a1a1a1a1a1", "aud": "imp", "iss": "%s", "nonce": "nn", "access_token": "%s"}' "$(echo "$A" | jf id_token)" "$ISS" "$(echo "$A" | jf access_token)" | $PEER verify)
t_is "$(echo "$V" | jf ok) $(echo "$V" | jf at_hash_ok) $(echo "$V" | jf nonce_ok)" "true true true" "id_token token: jose verifies the id_token, nonce, at_hash"
A=$(authorize '{"client_id": "cl1", "response_type": "code id_token", "nonce": "hy"}')
V=$(printf '{"token": "%s", "secret": "%s", "aud": "cl1", "iss": "%s", "nonce": "hy", "code": "%s"}' "$(echo "$A" | jf id_token)" "$SECRET" "$ISS" "$(echo "$A" | jf code)" | $PEER verify)
t_is "$(echo "$V" | jf ok) $(echo "$V" | jf c_hash_ok)" "true true" "code id_token: jose verifies the id_token and its c_hash"
t_like "$(echo "$A" | jf redirect_to)" '^https://app\.example/cb#code=[A-Za-z0-9]{30}&id_token=[^&]+$' "code id_token: the answer in the fragment"
t_is "$(authorize '{"client_id": "imp", "response_type": "id_token"}' | jf error)" "invalid_request" "an id_token from the authorization endpoint needs a nonce"
E=$(authorize '{"client_id": "cl1", "response_type": "token", "state": "z"}')
t_is "$(echo "$E" | jf error) $(echo "$E" | jf redirect_to)" \
     "unsupported_response_type https://app.example/cb?error=unsupported_response_type&error_description=$(echo "$E" | jf error_description | $FI_PY -c 'import sys,urllib.parse; print(urllib.parse.quote_plus(sys.stdin.read().strip()))')&state=z" \
     "a code client cannot ask for a token: the error goes back through the redirect, with the state"

# ---- 6. consent and discovery
t_is "$(s1 "SELECT oauth_needs_consent('jane@example.com', 'cl1'), oauth_needs_consent('jane@example.com', 'cl2')")" "0	1" \
     "consent: not for a client that skips authorization; else asked"
s1 "INSERT INTO tabSingles VALUES ('OAuth Provider Settings', 'skip_authorization', 'Auto')" >/dev/null
authorize '{"client_id": "imp", "response_type": "token"}' >/dev/null
t_is "$(s1 "SELECT oauth_needs_consent('jane@example.com', 'imp'), oauth_needs_consent('api@example.com', 'imp'), oauth_needs_consent('jane@example.com', 'cl2')")" "0	1	1" \
     "consent \"Auto\": not for a user holding an Active token of the client; asked of another user, and for another client"
t_is "$(s1_err "SELECT oauth_needs_consent('jane@example.com', 'nobody')")" "28000: invalid_client: client_id is missing or not an OAuth Client" "consent for an unknown client: invalid_client"
C=$(s1 "SELECT oauth_openid_configuration(NULL)")
t_is "$(echo "$C" | jf issuer) $(echo "$C" | jf token_endpoint) $(echo "$C" | jf id_token_signing_alg_values_supported)" \
     "$ISS $ISS/api/method/frappe.integrations.oauth2.get_token [\"HS256\"]" "openid-configuration: the site's URL (site_config's host_name), Frappe's endpoints"
t_is "$(s1 "SELECT JSON_VALUE(oauth_openid_configuration('https://other.example/'), '\$.userinfo_endpoint')")" \
     "https://other.example/api/method/frappe.integrations.oauth2.openid_profile" "openid-configuration for another base URL"

# ---- 7. the bad-input matrix: each refused with its error, nothing changed
read -r VERIFIER CHALLENGE <<<"$($PEER pkce)"
C1=$(authorize "{\"client_id\": \"cl1\", \"response_type\": \"code\", \"redirect_uri\": \"https://app.example/cb?x=1\", \"code_challenge\": \"$CHALLENGE\", \"code_challenge_method\": \"S256\"}" | jf code)
CO=$(authorize '{"client_id": "cl2", "response_type": "code"}' | jf code)
GOOD="\"client_id\": \"cl1\", \"client_secret\": \"$SECRET\""
BEFORE=$(snapshot)
check() {	# check <params> <expected error> <description>
    t_is "$(token_err "$1")" "$2" "$3"
}
BADGRANT="28000: invalid_grant: the authorization code is invalid, expired, already used, or was issued to another client or redirect URI"
BADCLIENT="28000: invalid_client: client authentication failed"
check '{}' "22023: invalid_request: grant_type is missing" "no grant_type"
check '{"grant_type": ""}' "22023: invalid_request: grant_type is missing" "an empty grant_type is a missing one"
check '[1, 2]' "22023: invalid_request: the parameters must be a JSON object" "parameters that are not an object"
check '{"grant_type": "authorization_code", "code": ' "22023: invalid_request: the parameters must be a JSON object" "parameters that are not JSON"
check '{"grant_type": "client_credentials", "client_id": "cl1"}' "22023: unsupported_grant_type: grant_type must be authorization_code, refresh_token or password" "client_credentials (Frappe refuses it too)"
check '{"grant_type": "authorization_code", "code": "x"}' "22023: invalid_request: client_id is missing" "no client_id"
check "{\"grant_type\": \"authorization_code\", \"code\": \"$C1\", \"client_id\": \"cl1\", \"code_verifier\": \"$VERIFIER\", \"redirect_uri\": \"https://app.example/cb?x=1\"}" "$BADCLIENT" "no client secret (Frappe never checks it)"
check "{\"grant_type\": \"authorization_code\", \"code\": \"$C1\", \"client_id\": \"cl1\", \"client_secret\": \"0a1b2c3d4f\", \"code_verifier\": \"$VERIFIER\", \"redirect_uri\": \"https://app.example/cb?x=1\"}" "$BADCLIENT" "a wrong client secret"
check "{\"grant_type\": \"authorization_code\", \"code\": \"$C1\", \"client_id\": \"cl1\", \"client_secret\": \"0A1B2C3D4E\", \"code_verifier\": \"$VERIFIER\", \"redirect_uri\": \"https://app.example/cb?x=1\"}" "$BADCLIENT" "the secret in other letters (compared as bytes)"
check "{\"grant_type\": \"authorization_code\", \"code\": \"$C1\", \"client_id\": \"CL1\", \"client_secret\": \"$SECRET\", \"code_verifier\": \"$VERIFIER\", \"redirect_uri\": \"https://app.example/cb?x=1\"}" "$BADCLIENT" "the client id in other letters"
check "{\"grant_type\": \"authorization_code\", \"code\": \"$C1\", \"client_id\": \"nobody\", \"client_secret\": \"$SECRET\"}" "$BADCLIENT" "an unknown client: the same answer"
check "{\"grant_type\": \"authorization_code\", \"code\": \"$C1\", \"authorization\": \"Basic $(printf 'cl2:%s' "$SECRET" | base64)\", \"client_id\": \"cl1\"}" \
      "22023: invalid_request: the authorization parameter is not HTTP Basic credentials" "Basic credentials of another client than client_id"
check "{\"grant_type\": \"authorization_code\", \"code\": \"$C1\", \"authorization\": \"Basic !!!\"}" \
      "22023: invalid_request: the authorization parameter is not HTTP Basic credentials" "Basic credentials that are not base64"
check "{\"grant_type\": \"authorization_code\", $GOOD}" "22023: invalid_request: code is missing" "no code"
check "{\"grant_type\": \"authorization_code\", \"code\": \"$CO\", $GOOD}" "$BADGRANT" "the code of another client"
check "{\"grant_type\": \"authorization_code\", \"code\": \"$C1\", \"code_verifier\": \"$VERIFIER\", $GOOD}" "$BADGRANT" "no redirect_uri for a code bound to a non-default one"
check "{\"grant_type\": \"authorization_code\", \"code\": \"$C1\", \"code_verifier\": \"$VERIFIER\", \"redirect_uri\": \"https://app.example/cb\", $GOOD}" "$BADGRANT" "another registered redirect_uri"
check "{\"grant_type\": \"authorization_code\", \"code\": \"$C1\", \"redirect_uri\": \"https://app.example/cb?x=1\", $GOOD}" "$BADGRANT" "no code_verifier for a PKCE code"
WRONGV="${VERIFIER%?}A"; [ "$WRONGV" = "$VERIFIER" ] && WRONGV="${VERIFIER%?}B"
check "{\"grant_type\": \"authorization_code\", \"code\": \"$C1\", \"code_verifier\": \"$WRONGV\", \"redirect_uri\": \"https://app.example/cb?x=1\", $GOOD}" "$BADGRANT" "a wrong code_verifier"
check "{\"grant_type\": \"authorization_code\", \"code\": \"$C1\", \"code_verifier\": \"$CHALLENGE\", \"redirect_uri\": \"https://app.example/cb?x=1\", $GOOD}" "$BADGRANT" "the challenge sent as the verifier"
check "{\"grant_type\": \"authorization_code\", \"code\": \"$(echo "$C1" | tr 'a-z' 'A-Z')\", \"code_verifier\": \"$VERIFIER\", \"redirect_uri\": \"https://app.example/cb?x=1\", $GOOD}" "$BADGRANT" "the code in capitals (the collation would match it)"
check "{\"grant_type\": \"authorization_code\", \"code\": \"$C1\", \"code_verifier\": \"short\", \"redirect_uri\": \"https://app.example/cb?x=1\", $GOOD}" "22023: invalid_request: code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~" "a malformed code_verifier"
check "{\"grant_type\": \"authorization_code\", \"code\": \"$(head -c 300 /dev/zero | tr '\0' a)\", $GOOD}" "22023: invalid_request: parameter code is longer than 255 characters" "a code too long"
check "{\"grant_type\": \"authorization_code\", \"code\": 12345, $GOOD}" "22023: invalid_request: parameter code must be a string" "a code that is not a string"
check "{\"grant_type\": \"authorization_code\", \"code\": \"x' OR '1'='1\", $GOOD}" "$BADGRANT" "SQL in a code is a code"
check "{\"grant_type\": \"refresh_token\", $GOOD}" "22023: invalid_request: refresh_token is missing" "no refresh_token"
check "{\"grant_type\": \"refresh_token\", \"refresh_token\": \"$RT2\", \"client_id\": \"cl2\", \"client_secret\": \"f0e1d2c3b4\"}" \
      "28000: invalid_grant: the refresh token is invalid, revoked, or was issued to another client" "a refresh token of another client (already rotated, too)"
check "{\"grant_type\": \"password\", \"username\": \"jane@example.com\", $GOOD}" "22023: invalid_request: username and password are required" "password grant without a password"
check "{\"grant_type\": \"password\", \"username\": \"jane@example.com\", \"password\": \"pässwörd\", \"scope\": \"admin\", $GOOD}" \
      "22023: invalid_scope: a scope asked for is not one of the client's" "password grant asking a scope the client lacks"
check "{\"grant_type\": \"password\", \"username\": \"disabled@example.com\", \"password\": \"pässwörd\", $GOOD}" \
      "28000: invalid_grant: the username or password is not valid" "password grant of a user without a password"
t_is "$(snapshot)" "$BEFORE" "none of those refusals changed a code, a token or a client"
t_is "$(s1 "SELECT validity FROM \`tabOAuth Authorization Code\` WHERE name = '$C1'")" "Valid" "the code they tried stays Valid"
A=$(s1_err "SELECT oauth_authorize('jane@example.com', '{\"client_id\": \"cl1\", \"response_type\": \"code\", \"redirect_uri\": \"https://evil.example/cb\"}')")
t_is "$A" "22023: invalid_request: redirect_uri is not registered for this client" "authorize: an unregistered redirect_uri is raised, not redirected"
t_is "$(s1_err "SELECT oauth_authorize('jane@example.com', '{\"client_id\": \"nobody\", \"response_type\": \"code\"}')")" \
     "28000: invalid_client: client_id is missing or not an OAuth Client" "authorize: an unknown client"
t_is "$(s1_err "SELECT oauth_authorize('disabled@example.com', '{\"client_id\": \"cl1\", \"response_type\": \"code\"}')")" \
     "28000: access_denied: the user is not logged in, does not exist or is disabled" "authorize: a disabled user"
t_is "$(s1_err "SELECT oauth_authorize('Guest', '{\"client_id\": \"cl1\", \"response_type\": \"code\"}')") | $(s1_err "SELECT oauth_authorize(NULL, '{\"client_id\": \"cl1\", \"response_type\": \"code\"}')")" \
     "28000: access_denied: the user is not logged in, does not exist or is disabled | 28000: access_denied: the user is not logged in, does not exist or is disabled" "authorize: Guest and no user"
t_is "$(s1_err "SELECT oauth_authorize('jane@example.com', '{\"client_id\": \"acc\", \"response_type\": \"code\"}')")" \
     "42501: access_denied: user jane@example.com has none of the roles allowed for OAuth Client acc" "authorize: the client's allowed roles"
t_is "$(authorize '{"client_id": "cl1", "response_type": "code", "scope": "all admin"}' | jf error)" "invalid_scope" "authorize: a scope the client lacks"
t_is "$(authorize "{\"client_id\": \"cl1\", \"response_type\": \"code\", \"state\": \"x'); DROP TABLE tabUser; --\"}" | jf state) $(s1 "SELECT COUNT(*) > 0 FROM tabUser")" \
     "x'); DROP TABLE tabUser; -- 1" "SQL in the state is a state"

# ---- 8. two sessions exchange one code at the same moment: one token
read -r VERIFIER CHALLENGE <<<"$($PEER pkce)"
C3=$(authorize "{\"client_id\": \"cl1\", \"response_type\": \"code\", \"code_challenge\": \"$CHALLENGE\", \"code_challenge_method\": \"S256\"}" | jf code)
REQ="{\"grant_type\": \"authorization_code\", \"code\": \"$C3\", \"code_verifier\": \"$VERIFIER\", $GOOD}"
RACE=()
for i in 1 2 3 4; do
    ( as _site1 "SELECT oauth_token($(lit "$REQ"))" > "$MD/race.$i" ) &
    RACE+=($!)
done
wait "${RACE[@]}"	# (not a bare wait: the server is a child too)
t_is "$(cat "$MD"/race.* | grep -c '"access_token"') $(cat "$MD"/race.* | grep -c 'invalid_grant')" "1 3" \
     "four sessions exchange one code at once: one gets a token, three invalid_grant"
t_is "$(s1 "SELECT COUNT(*) FROM \`tabOAuth Bearer Token\` WHERE name = '$(grep -h access_token "$MD"/race.* | jf access_token)'")" "1" "and that token is stored"
# sixteen connections at once, each authorizing, exchanging and introspecting five times: every flow answered, the server up
BEFORE_TOK=$(s1 "SELECT COUNT(*) FROM \`tabOAuth Bearer Token\`")
STRESS=()
for c in $(seq 16); do
    ( for k in 1 2 3 4 5; do
          code=$(as _site1 "SELECT JSON_VALUE(oauth_authorize('jane@example.com', '{\"client_id\": \"cl2\", \"response_type\": \"code\"}'), '\$.code')")
          at=$(as _site1 "SELECT JSON_VALUE(oauth_token('{\"grant_type\": \"authorization_code\", \"code\": \"$code\", \"client_id\": \"cl2\", \"client_secret\": \"f0e1d2c3b4\"}'), '\$.access_token')")
          as _site1 "SELECT JSON_EXTRACT(oauth_introspect('$at', NULL), '\$.active')"
      done > "$MD/stress.$c" 2>&1 ) &
    STRESS+=($!)
done
wait "${STRESS[@]}"
t_is "$(cat "$MD"/stress.* | sort | uniq -c | sed 's/^ *//') $(( $(s1 "SELECT COUNT(*) FROM \`tabOAuth Bearer Token\`") - BEFORE_TOK )) $(mdb "SELECT 1")" "80 true 80 1" \
     "16 connections x 5 flows at once: 80 active tokens, 80 rows, the server alive"
s1 "UPDATE \`tabOAuth Authorization Code\` SET expiration_time = creation - INTERVAL 1 SECOND WHERE name = '$C1'" >/dev/null
check "{\"grant_type\": \"authorization_code\", \"code\": \"$C1\", \"code_verifier\": \"$VERIFIER\", \"redirect_uri\": \"https://app.example/cb?x=1\", $GOOD}" "$BADGRANT" "an expired code"

# ---- 9. who may call: only the site's own user
t_is "$(as plain "SELECT oauth_token('{}')" | mdb_sqlstate)" \
     "42501: permission denied: only the site's own database user calls its OAuth functions" "another account with EXECUTE and SELECT: 42501"
t_is "$(as plain "SELECT oauth_introspect('$AT2', NULL)" | mdb_sqlstate) | $(as plain "SELECT oauth_authorize('jane@example.com', '{}')" | mdb_sqlstate | cut -d: -f1)" \
     "42501: permission denied: only the site's own database user calls its OAuth functions | 42501" "introspect and authorize too"
t_is "$(grep -c "$SECRET\|pässwörd" "$MD/error.log" 2>/dev/null || true)" "0" "no client secret or password in the server's log"
t_done
